// SPDX-License-Identifier: Apache-2.0
/**
 * Unary calls answered directly from Node's HTTP/2 streams must look on the wire exactly as grpc-js answers them: the
 * same response headers, message and trailers, and the same status for every malformed request. Each case is sent
 * byte for byte, over a raw HTTP/2 connection, to a grpc-js server and to one serving the method directly.
 */
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { serveUnaryDirectly, type CallStatus } from '../src/directUnary';

const MAX_REQUEST = 1024;

type Failure = Error & { code: grpc.status; details: string; metadata: grpc.Metadata };

/** The size of the memory behind each request the servers deserialized, latest last. */
const requestMemory: number[] = [];

const say: grpc.MethodDefinition<string, string> = {
    path: '/test.Echo/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: (text) => Buffer.from(text),
    requestDeserialize: (bytes) => {
        requestMemory.push(bytes.buffer.byteLength);
        const text = bytes.toString();
        if (text.startsWith('bad')) {
            throw new Error('not a request');
        }
        return text;
    },
    responseSerialize: (text) => {
        if (text === 'unsendable') {
            throw new Error('not a response');
        }
        return Buffer.from(text);
    },
    responseDeserialize: (bytes) => bytes.toString(),
};
/** Served by grpc-js on both servers. */
const shout: grpc.MethodDefinition<string, string> = { ...say, path: '/test.Echo/Shout' };

/** What every server answers: an echo, an error with details, a slow answer, an answer that cannot be serialized. */
async function answer(request: string): Promise<string> {
    if (request === 'fail') {
        const metadata = new grpc.Metadata();
        metadata.set('grpc-status-details-bin', Buffer.from([8, 10, 18, 3, 0xe2, 0x9c, 0x93]));
        const failure: Failure = Object.assign(new Error('refused: ✓ 100%'), { code: grpc.status.ABORTED, details: 'refused: ✓ 100%', metadata });
        throw failure;
    }
    if (request === 'slow') {
        await new Promise((resolve) => setTimeout(resolve, 400));
    }
    if (request === 'throws') {
        throw new Error('no code');
    }
    return request === 'unsendable' ? 'unsendable' : `echo:${request}`;
}

function statusOf(error: unknown): CallStatus {
    const failure = error as Partial<Failure> & Error;
    return typeof failure.code === 'number'
        ? { code: failure.code, details: failure.details ?? failure.message, ...(failure.metadata === undefined ? {} : { metadata: failure.metadata }) }
        : { code: grpc.status.UNKNOWN, details: failure.message };
}

async function startServer(direct: boolean): Promise<{ server: grpc.Server; port: number }> {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_REQUEST, 'grpc.enable_channelz': 0 });
    const implementation: grpc.handleUnaryCall<string, string> = (call, callback) => {
        answer(call.request).then((response) => { callback(null, response); }, (error: unknown) => { callback(error as Failure); });
    };
    server.addService({ say, shout }, { say: implementation, shout: implementation });
    const port = await new Promise<number>((resolve, reject) => {
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => { if (error === null) { resolve(bound); } else { reject(error); } });
    });
    if (direct) {
        serveUnaryDirectly(server, [{ definition: say as grpc.MethodDefinition<unknown, unknown>, answer: answer as (request: unknown) => Promise<unknown> }], { maxReceiveMessageLength: MAX_REQUEST, statusOf });
    }
    return { server, port };
}

/** A gRPC message: the flag byte, the length, the bytes. */
function frame(bytes: Buffer | string, flag = 0): Buffer {
    const body = Buffer.from(bytes);
    const framed = Buffer.alloc(5 + body.length);
    framed[0] = flag;
    framed.writeUInt32BE(body.length, 1);
    body.copy(framed, 5);
    return framed;
}

interface Exchange {
    readonly headers: Record<string, unknown>;
    readonly body: string;
    readonly trailers: Record<string, unknown>;
}

/** Node adds these itself (a response's date), so they differ between any two answers. */
function comparable(headers: http2.IncomingHttpHeaders): Record<string, unknown> {
    const { date: _date, ...rest } = headers;
    return rest;
}

interface Call {
    readonly path?: string;
    readonly headers?: http2.OutgoingHttpHeaders;
    /** Written one after the other, in separate DATA frames. */
    readonly chunks: readonly Buffer[];
}

function exchange(port: number, call: Call): Promise<Exchange> {
    return new Promise((resolve, reject) => {
        const session = http2.connect(`http://127.0.0.1:${port}`);
        session.on('error', reject);
        const stream = session.request({
            ':method': 'POST',
            ':path': call.path ?? say.path,
            'content-type': 'application/grpc',
            te: 'trailers',
            ...call.headers,
        });
        let headers: Record<string, unknown> = {};
        let trailers: Record<string, unknown> = {};
        const body: Buffer[] = [];
        stream.on('response', (received) => { headers = comparable(received); });
        stream.on('trailers', (received: http2.IncomingHttpHeaders) => { trailers = comparable(received); });
        stream.on('data', (chunk: Buffer) => body.push(chunk));
        stream.on('error', reject);
        stream.on('close', () => {
            session.close();
            resolve({ headers, body: Buffer.concat(body).toString('hex'), trailers });
        });
        for (const chunk of call.chunks) {
            stream.write(chunk);
        }
        stream.end();
    });
}

describe('unary calls served directly from the HTTP/2 stream', () => {
    let grpcJs: { server: grpc.Server; port: number };
    let direct: { server: grpc.Server; port: number };

    beforeAll(async () => {
        grpcJs = await startServer(false);
        direct = await startServer(true);
    });

    afterAll(() => {
        grpcJs.server.forceShutdown();
        direct.server.forceShutdown();
    });

    const message = frame('hello');
    const cases: [string, Call][] = [
        ['an answer', { chunks: [message] }],
        ['an answer to a request split across frames', { chunks: [message.subarray(0, 3), message.subarray(3, 7), message.subarray(7)] }],
        ['an answer to a message flagged compressed under the identity encoding', { chunks: [frame('hello', 1)], headers: { 'grpc-encoding': 'identity' } }],
        ['an answer within its deadline', { chunks: [message], headers: { 'grpc-timeout': '5S' } }],
        ['an error with status details in its trailers', { chunks: [frame('fail')] }],
        ['an error thrown without a code', { chunks: [frame('throws')] }],
        ['a request that does not deserialize', { chunks: [frame('bad request')] }],
        ['a response that does not serialize', { chunks: [frame('unsendable')] }],
        ['no request message', { chunks: [] }],
        ['a request message cut short', { chunks: [frame('hello').subarray(0, 7)] }],
        ['two request messages', { chunks: [frame('one'), frame('two')] }],
        ['a message over the size limit', { chunks: [frame(Buffer.alloc(MAX_REQUEST + 1))] }],
        ['a message whose length alone is over the limit', { chunks: [frame(Buffer.alloc(MAX_REQUEST + 1)).subarray(0, 5)] }],
        ['a deadline that passes', { chunks: [frame('slow')], headers: { 'grpc-timeout': '50m' } }],
        ['a grpc-timeout that is not one', { chunks: [message], headers: { 'grpc-timeout': 'soon' } }],
        ['a compressed request, which grpc-js reads', { chunks: [frame(gzipSync('hello'), 1)], headers: { 'grpc-encoding': 'gzip' } }],
        ['a request that is not gRPC, which grpc-js refuses', { chunks: [message], headers: { 'content-type': 'application/json' } }],
        ['a method served by grpc-js on both', { chunks: [message], path: shout.path }],
        ['a method no one serves', { chunks: [message], path: '/test.Echo/Whisper' }],
    ];

    it.each(cases)('%s: as grpc-js answers it', async (_name, call) => {
        const [expected, actual] = await Promise.all([exchange(grpcJs.port, call), exchange(direct.port, call)]);
        expect(actual).toEqual(expected);
        expect(Object.keys(expected.headers).length + Object.keys(expected.trailers).length).toBeGreaterThan(0);
    });

    it('answers with the message and an OK status', async () => {
        const answered = await exchange(direct.port, { chunks: [message] });
        expect(answered.headers).toMatchObject({ ':status': 200, 'content-type': 'application/grpc+proto' });
        expect(answered.body).toBe(frame('echo:hello').toString('hex'));
        expect(answered.trailers).toMatchObject({ 'grpc-status': '0', 'grpc-message': 'OK' });
    });

    it('keeps each request in memory of its own, not in the connection\'s read buffer', async () => {
        // Twelve calls written in one turn reach the server in one read; each stream's data is a view into that read.
        const session = http2.connect(`http://127.0.0.1:${direct.port}`);
        const calls = Array.from({ length: 12 }, (_, i) => new Promise<string>((resolve, reject) => {
            const stream = session.request({ ':method': 'POST', ':path': say.path, 'content-type': 'application/grpc', te: 'trailers' });
            const body: Buffer[] = [];
            stream.on('data', (chunk: Buffer) => body.push(chunk));
            stream.on('error', reject);
            stream.on('close', () => { resolve(Buffer.concat(body).toString('hex')); });
            stream.end(frame(`${i}`.padEnd(1000, '.')));
        }));
        requestMemory.length = 0;
        const answers = await Promise.all(calls);
        session.close();
        expect(answers).toEqual(Array.from({ length: 12 }, (_, i) => frame(`echo:${`${i}`.padEnd(1000, '.')}`).toString('hex')));
        // A copy lives in Node's 8 KiB buffer pool at most; the read held all twelve messages, about 12 KB.
        expect(requestMemory).toHaveLength(12);
        expect(Math.max(...requestMemory)).toBeLessThanOrEqual(8192);
    });

    it('serves the next call after a client cancels one before its answer', async () => {
        const session = http2.connect(`http://127.0.0.1:${direct.port}`);
        const stream = session.request({ ':method': 'POST', ':path': say.path, 'content-type': 'application/grpc', te: 'trailers' });
        stream.end(frame('slow'));
        await new Promise((resolve) => setTimeout(resolve, 50));
        stream.close(http2.constants.NGHTTP2_CANCEL);
        await new Promise((resolve) => setTimeout(resolve, 500));
        session.close();
        const answered = await exchange(direct.port, { chunks: [message] });
        expect(answered.trailers).toMatchObject({ 'grpc-status': '0' });
    });

    it('refuses a grpc-js that keeps its stream listener elsewhere', () => {
        const server = new grpc.Server();
        expect(() => { serveUnaryDirectly(server, [], { maxReceiveMessageLength: MAX_REQUEST, statusOf }); }).toThrow(/HTTP\/2 servers elsewhere/);
    });
});
