// SPDX-License-Identifier: Apache-2.0
/**
 * Chaincode as a service (CCaaS): the chaincode runs in its own process as `fabric-chaincode-node server` and the
 * devnet, like a peer, dials it and opens the `protos.Chaincode/Connect` stream; the chaincode then sends REGISTER
 * and the usual chaincode protocol follows (fabric-shim `lib/server.js`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { PeerStream } from './chatStream';
import { encodeChaincodeMessage } from './chaincodeMessageCodec';
import { protos, type ChaincodeMessage } from './runtime';

/** The peer's end of a `protos.Chaincode/Connect` gRPC stream to a chaincode server. */
export class GrpcChatStream implements PeerStream {
    private readonly client: grpc.Client;
    private readonly call: grpc.ClientDuplexStream<ChaincodeMessage, ChaincodeMessage>;
    private listener: ((message: ChaincodeMessage) => void) | undefined;
    private closeListener: (() => void) | undefined;
    private closed = false;

    /** Dials `address` (`host:port`, plaintext) and opens the Connect stream. */
    public constructor(address: string) {
        this.client = new grpc.Client(address, grpc.credentials.createInsecure());
        this.call = this.client.makeBidiStreamRequest(
            '/protos.Chaincode/Connect',
            (message: ChaincodeMessage) => encodeChaincodeMessage(message),
            (bytes: Buffer) => protos.peer.ChaincodeMessage.deserializeBinary(bytes),
        );
        this.call.on('data', (message: ChaincodeMessage) => {
            this.listener?.(message);
        });
        const ended = (): void => {
            this.markClosed();
        };
        this.call.on('end', ended);
        this.call.on('error', ended);
    }

    public send(message: ChaincodeMessage): void {
        if (!this.closed) {
            this.call.write(message);
        }
    }

    public onMessage(listener: (message: ChaincodeMessage) => void): void {
        this.listener = listener;
    }

    public onClose(listener: () => void): void {
        this.closeListener = listener;
    }

    public close(): void {
        if (!this.closed) {
            this.call.end();
            this.call.cancel();
            this.markClosed();
        }
        this.client.close();
    }

    private markClosed(): void {
        if (!this.closed) {
            this.closed = true;
            this.closeListener?.();
        }
    }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            server.close(() => {
                if (address !== null && typeof address === 'object') {
                    resolve(address.port);
                } else {
                    reject(new Error('no port'));
                }
            });
        });
    });
}

/**
 * Exits the chaincode server when its parent (the devnet) is gone — even after a `kill -9`, which leaves no chance
 * to stop children — then runs fabric-shim's CLI with the remaining arguments.
 */
const SERVER_BOOTSTRAP = `
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) { process.exit(0); } }, 500).unref();
require(process.argv[1]);
`;

/**
 * Starts `fabric-chaincode-node server` in chaincode package `folder` on `address` with package id `ccid`; its
 * output goes to `logFile` (appended) when given, else to the devnet's own stdout and stderr.
 */
export function launchChaincodeServer(folder: string, address: string, ccid: string, mspId: string, logFile?: string): ChildProcess {
    const cli = path.join(folder, 'node_modules', 'fabric-shim', 'cli.js');
    const log = logFile === undefined ? 'inherit' : openSync(logFile, 'a');
    try {
        return spawn(process.execPath, ['-e', SERVER_BOOTSTRAP, cli, 'server', '--chaincode-address', address, '--chaincode-id', ccid], {
            cwd: folder,
            env: { ...process.env, CORE_PEER_LOCALMSPID: mspId },
            stdio: ['ignore', log, log],
        });
    } finally {
        if (typeof log === 'number') {
            closeSync(log); // the child holds its own copy
        }
    }
}
