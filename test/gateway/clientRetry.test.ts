// SPDX-License-Identifier: Apache-2.0
import { generateKeyPairSync } from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { connect, signers } from '@hyperledger/fabric-gateway';
import type { Gateway } from '@hyperledger/fabric-gateway';
import { gateway as gatewayProtos, peer as peerProtos } from '@hyperledger/fabric-protos';
import { LedgerworkClient, TransportError } from '../../gateway/src/client';

/**
 * A peer that turns calls away at the HTTP/2 level (RST_STREAM REFUSED_STREAM, what a server recycling its
 * connections answers to a stream it will not process) before it answers: the client must send the call
 * again, and must give up with a typed TransportError when the peer never answers.
 */
interface RefusingPeer {
    readonly endpoint: string;
    readonly calls: string[];
    close(): Promise<void>;
}

async function refusingPeer(refusals: number, reply: object, silences = 0): Promise<RefusingPeer> {
    const calls: string[] = [];
    let refused = 0;
    let silent = 0;
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
        calls.push(String(headers[':path']));
        stream.on('error', () => undefined);
        if (refused < refusals) {
            refused++;
            stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
            return;
        }
        if (silent < silences) {
            silent++; // never answered: the client's deadline ends it
            return;
        }
        stream.resume();
        stream.on('end', () => {
            const response = new gatewayProtos.EvaluateResponse();
            const result = new peerProtos.Response();
            result.setStatus(200);
            result.setPayload(Buffer.from(JSON.stringify(reply)));
            response.setResult(result);
            const message = Buffer.from(response.serializeBinary());
            const frame = Buffer.alloc(5 + message.length);
            frame.writeUInt32BE(message.length, 1);
            message.copy(frame, 5);
            stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
            stream.on('wantTrailers', () => {
                stream.sendTrailers({ 'grpc-status': '0' });
            });
            stream.end(frame);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
        endpoint: `127.0.0.1:${port}`,
        calls,
        close: () => new Promise<void>((resolve) => { server.close(() => { resolve(); }); }),
    };
}

function clientOf(endpoint: string, evaluateMs = 5000): { ledger: LedgerworkClient; gateway: Gateway; grpcClient: grpc.Client } {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const grpcClient = new grpc.Client(endpoint, grpc.credentials.createInsecure());
    const gateway = connect({
        client: grpcClient,
        identity: { mspId: 'Org1MSP', credentials: Buffer.from('not checked by this peer') },
        signer: signers.newPrivateKeySigner(privateKey),
        evaluateOptions: () => ({ deadline: Date.now() + evaluateMs }),
    });
    return { ledger: new LedgerworkClient(gateway.getNetwork('mychannel')), gateway, grpcClient };
}

describe('LedgerworkClient and a peer that turns calls away (UNAVAILABLE)', () => {
    const open: { close(): Promise<void> | void }[] = [];
    afterEach(async () => {
        for (const item of open.splice(0).reverse()) {
            await item.close();
        }
    });

    it('sends an evaluation again until the peer answers it', async () => {
        const peer = await refusingPeer(3, { id: 'job-1', state: 'open' });
        const { ledger, gateway, grpcClient } = clientOf(peer.endpoint);
        open.push(peer, { close: () => { gateway.close(); grpcClient.close(); } });
        await expect(ledger.getJob('job-1')).resolves.toEqual({ id: 'job-1', state: 'open' });
        // Three refused streams, then the one answered: every one of them an Evaluate.
        expect(peer.calls).toEqual(Array<string>(4).fill('/gateway.Gateway/Evaluate'));
    });

    it('sends an evaluation that timed out again (a read is safe to repeat)', async () => {
        const peer = await refusingPeer(0, { id: 'job-2', state: 'open' }, 2);
        const { ledger, gateway, grpcClient } = clientOf(peer.endpoint, 300);
        open.push(peer, { close: () => { gateway.close(); grpcClient.close(); } });
        await expect(ledger.getJob('job-2')).resolves.toEqual({ id: 'job-2', state: 'open' });
        expect(peer.calls).toEqual(Array<string>(3).fill('/gateway.Gateway/Evaluate'));
    });

    it('gives up with a TransportError (UNAVAILABLE) when the peer never answers', async () => {
        const peer = await refusingPeer(Number.MAX_SAFE_INTEGER, {});
        const { ledger, gateway, grpcClient } = clientOf(peer.endpoint);
        open.push(peer, { close: () => { gateway.close(); grpcClient.close(); } });
        const failure = await ledger.getJob('job-1').then(() => undefined, (err: unknown) => err);
        expect(failure).toBeInstanceOf(TransportError);
        expect((failure as TransportError).grpcCode).toBe(grpc.status.UNAVAILABLE);
        expect(peer.calls.length).toBeGreaterThanOrEqual(4);
    });
});
