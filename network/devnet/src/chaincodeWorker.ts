// SPDX-License-Identifier: Apache-2.0
/**
 * In-process chaincode in its own worker thread: the worker loads the chaincode package exactly as
 * `fabric-chaincode-node start` does (fabric-shim's contract bootstrap: package.json `main`, its `contracts` and
 * `serializers`, META-INF/metadata.json), with the package's own fabric-shim, fabric-contract-api and
 * google-protobuf from its own node_modules, in a realm of its own — nothing is shared with the devnet's modules.
 * Each endorsing org gets its own worker, with CORE_PEER_LOCALMSPID set to that org, as each peer runs its own
 * chaincode. Peer and chaincode exchange serialized ChaincodeMessages, as over the gRPC stream.
 */
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import type { PeerStream } from './chatStream';
import { encodeChaincodeMessage } from './chaincodeMessageCodec';
import { protos, type ChaincodeMessage } from './runtime';
import { requestedShimLogLevel } from './shimRuntime';

/**
 * Serialized ChaincodeMessages travel in batches, both ways: the messages written in one turn of the event loop go
 * together, up to this many in one postMessage (each post costs a thread wake-up, and under load a chaincode's
 * messages come in dozens at a time). A batch goes as soon as it is full, not only at the end of the turn: the other
 * side starts on the first messages while this side is still producing the rest.
 */
const FRAMES_PER_POST = 8;

/** How many parsed creator certificates a chaincode worker keeps (see {@link MEMOIZE_CERTIFICATE_PARSING}). */
const CERTIFICATES_KEPT = 256;

/**
 * fabric-shim's `ClientIdentity` parses the creator's X.509 certificate with @fidm/x509's `Certificate.fromPEM` on
 * every transaction: about a third of a contract chaincode's time in the worker, though a client sends the same
 * certificate each time. The worker wraps the chaincode's own `Certificate.fromPEM` so that the text form
 * `ClientIdentity` passes is parsed once and the parse kept for the next calls with the same text, the
 * {@link CERTIFICATES_KEPT} latest ones (parsing is deterministic; `ClientIdentity` only reads the result). Any other
 * argument, such as the Buffer of the method's declared type that a chaincode's own code would pass, and a text that
 * fails to parse, go to the original each time. JavaScript source, run in the worker's realm.
 */
export const MEMOIZE_CERTIFICATE_PARSING = `function memoizeCertificateParsing(Certificate, capacity) {
    const parse = Certificate.fromPEM;
    const parsed = new Map();
    Certificate.fromPEM = function fromPEM(data) {
        if (typeof data !== 'string') {
            return parse.call(this, data);
        }
        const known = parsed.get(data);
        if (known !== undefined) {
            return known;
        }
        const certificate = parse.call(this, data);
        if (parsed.size >= capacity) {
            parsed.delete(parsed.keys().next().value);
        }
        parsed.set(data, certificate);
        return certificate;
    };
}`;

/**
 * A silent winston logger still passes each entry through its object stream before dropping it, and fabric-shim and
 * fabric-contract-api log a dozen debug entries per transaction: a chaincode worker started silent (the level is
 * fixed for the worker's life) makes each of its loggers silent and its level methods and `log` return the logger at
 * once. JavaScript source, run in the worker's realm.
 */
export const MUTE_LOGGER = `function mute(logger) {
    const skip = () => logger;
    logger.silent = true;
    for (const method of [...Object.keys(logger.levels), 'log']) {
        logger[method] = skip;
    }
    return logger;
}`;

/** What the worker posts to the peer. */
type FromWorker = { readonly kind: 'messages'; readonly frames: readonly Uint8Array[] } | { readonly kind: 'end' } | { readonly kind: 'failed'; readonly message: string };

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const { EventEmitter } = require('node:events');
const path = require('node:path');
const folder = workerData.folder;
(async () => {
    let shimEntry;
    try {
        shimEntry = createRequire(path.join(folder, 'package.json')).resolve('fabric-shim');
    } catch {
        throw new Error('chaincode package ' + folder + ' has no fabric-shim in its node_modules (run npm install there)');
    }
    const shimRequire = createRequire(shimEntry);
    const level = workerData.logLevel;
    const mute = ${MUTE_LOGGER};
    for (const logger of [shimRequire('./lib/logger.js'), createRequire(shimRequire.resolve('fabric-contract-api'))('./lib/logger.js')]) {
        if (level !== 'silent') {
            logger.setLevel(level.toUpperCase());
        }
        for (const name of ['', '_']) {
            for (const transport of logger.getLogger(name).transports) {
                transport.silent = level === 'silent';
            }
        }
        if (level === 'silent') {
            // A winston logger formats every entry (timestamp, colours, padding) before its transports drop it; a
            // muted one returns at once. Every logger the modules create from now on is muted.
            const getLogger = logger.getLogger;
            logger.getLogger = (...args) => mute(getLogger(...args));
            logger.getLogger('');
            logger.getLogger('_');
        }
    }
    let x509;
    try {
        x509 = shimRequire('@fidm/x509');
    } catch (error) {
        // A fabric-shim that parses certificates with another library: nothing to wrap.
        if (error.code !== 'MODULE_NOT_FOUND') {
            throw error;
        }
    }
    if (x509 !== undefined) {
        const { Certificate } = x509;
        if (typeof Certificate?.fromPEM === 'function') {
            (${MEMOIZE_CERTIFICATE_PARSING})(Certificate, workerData.certificatesKept);
        }
    }
    const Bootstrap = shimRequire('./lib/contract-spi/bootstrap.js');
    const ChaincodeFromContract = shimRequire('./lib/contract-spi/chaincodefromcontract.js');
    const { ChaincodeMessageHandler } = shimRequire('./lib/handler.js');
    const { peer } = shimRequire('@hyperledger/fabric-protos');
    const { contracts, serializers, title, version } = Bootstrap.getInfoFromContract(folder);
    const metadata = await Bootstrap.getMetadata(folder);
    const chaincode = new ChaincodeFromContract(contracts, serializers, metadata, title, version);
    const stream = new EventEmitter();
    let queued = [];
    const flush = () => {
        if (queued.length === 0) {
            return;
        }
        parentPort.postMessage({ kind: 'messages', frames: queued });
        queued = [];
    };
    stream.write = (message) => {
        if (queued.length === 0) {
            setImmediate(flush);
        }
        queued.push(message.serializeBinary());
        if (queued.length >= workerData.framesPerPost) {
            flush();
        }
        return true;
    };
    stream.end = () => {
        flush();
        parentPort.postMessage({ kind: 'end' });
    };
    parentPort.on('message', (frames) => {
        for (const bytes of frames) {
            stream.emit('data', peer.ChaincodeMessage.deserializeBinary(bytes));
        }
    });
    const handler = new ChaincodeMessageHandler(stream, chaincode);
    const id = new peer.ChaincodeID();
    id.setName(workerData.chaincodeId);
    const register = new peer.ChaincodeMessage();
    register.setType(peer.ChaincodeMessage.Type.REGISTER);
    register.setPayload(id.serializeBinary());
    handler.chat(register);
})().catch((error) => {
    parentPort.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
});
`;

/** The peer's end of the stream to a chaincode worker. */
export class WorkerChatStream implements PeerStream {
    private listener: ((message: ChaincodeMessage) => void) | undefined;
    private closeListener: (() => void) | undefined;
    private closed = false;
    private failureMessage: string | undefined;
    private queued: Uint8Array[] = [];

    public constructor(private readonly worker: Worker) {
        worker.on('message', (message: FromWorker) => {
            if (message.kind === 'messages') {
                for (const bytes of message.frames) {
                    if (this.closed) {
                        return;
                    }
                    this.listener?.(protos.peer.ChaincodeMessage.deserializeBinary(bytes));
                }
            } else {
                if (message.kind === 'failed') {
                    this.failureMessage = message.message;
                }
                this.close();
            }
        });
        worker.on('error', (error) => {
            this.failureMessage ??= error.message;
            this.markClosed();
        });
        worker.on('exit', () => {
            this.markClosed();
        });
    }

    /** Why the chaincode stopped, if it failed to start or crashed. */
    public get failure(): string | undefined {
        return this.failureMessage;
    }

    public send(message: ChaincodeMessage): void {
        if (this.closed) {
            return;
        }
        if (this.queued.length === 0) {
            setImmediate(() => { this.flush(); });
        }
        this.queued.push(encodeChaincodeMessage(message));
        if (this.queued.length >= FRAMES_PER_POST) {
            this.flush();
        }
    }

    private flush(): void {
        const queued = this.queued;
        this.queued = [];
        if (this.closed || queued.length === 0) {
            return;
        }
        this.worker.postMessage(queued);
    }

    public onMessage(listener: (message: ChaincodeMessage) => void): void {
        this.listener = listener;
    }

    public onClose(listener: () => void): void {
        this.closeListener = listener;
    }

    public close(): void {
        if (!this.closed) {
            this.markClosed();
            void this.worker.terminate();
        }
    }

    private markClosed(): void {
        if (!this.closed) {
            this.closed = true;
            this.closeListener?.();
        }
    }
}

/**
 * Starts the chaincode package in `folder` in a worker thread running as org `mspId`'s chaincode, registering as
 * `chaincodeId` (`name:version`).
 */
export function startChaincodeWorker(folder: string, chaincodeId: string, mspId: string): WorkerChatStream {
    const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { folder: path.resolve(folder), chaincodeId, logLevel: requestedShimLogLevel(), framesPerPost: FRAMES_PER_POST, certificatesKept: CERTIFICATES_KEPT },
        env: { ...process.env, CORE_PEER_LOCALMSPID: mspId },
    });
    return new WorkerChatStream(worker);
}
