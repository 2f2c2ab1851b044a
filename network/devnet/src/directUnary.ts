// SPDX-License-Identifier: Apache-2.0
/**
 * Unary calls answered straight from Node's HTTP/2 stream, beside @grpc/grpc-js's server. grpc-js builds, for every
 * call, a chain of objects a unary call with no interceptors does not need (an intercepting call, its metadata, a
 * stream decoder and read queue, a listener, a call object and its event emitter). Under load a devnet keeps a hundred
 * or more Gateway calls open at once, each for the 100–200 ms a transaction takes, so those objects outlive V8's young
 * generation and are copied and promoted before they die: they were a quarter of what survived each of the main
 * thread's scavenges (docs/benchmarks.md).
 *
 * The answer on the wire is grpc-js's: the same response headers, the message framed alike, the same trailers, and for
 * an error the same trailers-only response with the same status, message and details. A request grpc-js would have
 * read differently (a compressed one, or one to any other method) still goes to grpc-js.
 */
import type * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { http2ServersOf } from './http2Transport';

/** A unary method served directly: its definition (path and codecs) and what answers it. */
export interface DirectUnaryMethod {
    readonly definition: grpc.MethodDefinition<unknown, unknown>;
    readonly answer: (request: unknown) => Promise<unknown>;
}

/** A failed call's status as grpc-js sends it. */
export interface CallStatus {
    readonly code: grpc.status;
    readonly details: string;
    readonly metadata?: grpc.Metadata;
}

/** Options of {@link serveUnaryDirectly}. */
export interface DirectUnaryOptions {
    /** The server's `grpc.max_receive_message_length`. */
    readonly maxReceiveMessageLength: number;
    /** The status an error thrown by `answer` is sent as. */
    readonly statusOf: (error: unknown) => CallStatus;
}

const RESPONSE_HEADERS: http2.OutgoingHttpHeaders = {
    ':status': 200,
    'content-type': 'application/grpc+proto',
    'grpc-accept-encoding': 'identity,deflate,gzip',
    'grpc-encoding': 'identity',
};

const OK_TRAILERS: http2.OutgoingHttpHeaders = { 'grpc-status': grpc.status.OK, 'grpc-message': 'OK' };

/** grpc-js's reading of `grpc-timeout`. */
const TIMEOUT_HEADER = /(\d{1,8})\s*([HMSmun])/;
const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * Serves `methods` of `server` directly (see the file's comment); every other request still goes to grpc-js. Call it
 * once the server is bound, before anything else listens to its streams.
 */
export function serveUnaryDirectly(server: grpc.Server, methods: readonly DirectUnaryMethod[], options: DirectUnaryOptions): void {
    const byPath = new Map(methods.map((method) => [method.definition.path, method]));
    for (const http2Server of http2ServersOf(server)) {
        const grpcListeners = http2Server.listeners('stream') as ((stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number) => void)[];
        if (grpcListeners.length === 0) {
            throw new Error('this @grpc/grpc-js listens to its HTTP/2 streams elsewhere than the devnet expects');
        }
        http2Server.removeAllListeners('stream');
        http2Server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number) => {
            const method = byPath.get(headers[':path'] ?? '');
            if (method !== undefined && readsAlike(headers)) {
                serveCall(stream, headers, method, options);
                return;
            }
            for (const listener of grpcListeners) {
                listener.call(http2Server, stream, headers, flags);
            }
        });
    }
}

/** Whether grpc-js would read this request as the direct path does: a gRPC content type and no compression. */
function readsAlike(headers: http2.IncomingHttpHeaders): boolean {
    const contentType = headers['content-type'];
    const encoding = headers['grpc-encoding'];
    return typeof contentType === 'string' && contentType.startsWith('application/grpc') && (encoding === undefined || encoding === 'identity');
}

function serveCall(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, method: DirectUnaryMethod, options: DirectUnaryOptions): void {
    const path = method.definition.path;
    let finished = false;
    let deadline: NodeJS.Timeout | undefined;
    let chunks: Buffer[] = [];
    let received = 0;
    let lengthChecked = false;

    const finish = (): boolean => {
        if (finished || stream.destroyed || stream.closed) {
            finished = true;
            return false;
        }
        finished = true;
        if (deadline !== undefined) {
            clearTimeout(deadline);
        }
        return true;
    };
    const fail = (status: CallStatus): void => {
        if (!finish()) {
            return;
        }
        stream.respond({
            'grpc-status': status.code,
            'grpc-message': encodeURI(status.details),
            ':status': 200,
            'content-type': 'application/grpc+proto',
            ...status.metadata?.toHttp2Headers(),
        }, { endStream: true });
    };
    const succeed = (message: Buffer): void => {
        if (!finish()) {
            return;
        }
        const framed = Buffer.allocUnsafe(message.length + 5);
        framed[0] = 0;
        framed.writeUInt32BE(message.length, 1);
        message.copy(framed, 5);
        stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
        stream.once('wantTrailers', () => { stream.sendTrailers(OK_TRAILERS); });
        stream.end(framed);
    };

    stream.on('error', () => {
        // A reset or a broken connection: the 'close' that follows ends the call; nothing can be sent on it any more.
    });
    stream.once('close', () => {
        finished = true;
        if (deadline !== undefined) {
            clearTimeout(deadline);
        }
    });
    const timeoutHeader = headers['grpc-timeout'];
    const timeout = Array.isArray(timeoutHeader) ? timeoutHeader[0] : timeoutHeader;
    if (timeout !== undefined) {
        const match = TIMEOUT_HEADER.exec(timeout);
        if (match === null) {
            process.nextTick(() => { fail({ code: grpc.status.INTERNAL, details: `Invalid grpc-timeout value "${timeout}"` }); });
        } else {
            const ms = (Number(match[1]) * (TIMEOUT_UNIT_MS[match[2] ?? ''] ?? 0)) | 0;
            deadline = setTimeout(() => { fail({ code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }); }, ms);
        }
    }
    stream.on('data', (chunk: Buffer) => {
        if (finished) {
            return;
        }
        received += chunk.length;
        chunks.push(chunk);
        // grpc-js refuses a message announced over the limit as soon as its length has arrived, not at its end.
        if (!lengthChecked && received >= 5) {
            lengthChecked = true;
            const length = (chunks.length === 1 ? chunk : Buffer.concat(chunks)).readUInt32BE(1);
            if (tooLong(length, options)) {
                chunks = [];
                fail(tooLongStatus(length, options));
            }
        }
    });
    stream.once('end', () => {
        if (finished) {
            return;
        }
        // A single chunk is a view into Node's read buffer, which other streams' data share: what is kept of a request
        // is copied out of it, as grpc-js's decoder copies each message.
        const single = chunks.length === 1;
        const body = single ? chunks[0] ?? Buffer.alloc(0) : Buffer.concat(chunks, received);
        chunks = [];
        const messages = framesOf(body, options);
        if (typeof messages === 'number') {
            fail(tooLongStatus(messages, options));
            return;
        }
        if (messages.length === 0) {
            fail({ code: grpc.status.UNIMPLEMENTED, details: `Received no request message for server streaming method ${path}` });
            return;
        }
        if (messages.length > 1) {
            fail({ code: grpc.status.UNIMPLEMENTED, details: `Received a second request message for server streaming method ${path}` });
            return;
        }
        let request: unknown;
        try {
            const message = messages[0] as Buffer;
            request = method.definition.requestDeserialize(single ? Buffer.from(message) : message);
        } catch {
            fail({ code: grpc.status.INTERNAL, details: 'Error deserializing request' });
            return;
        }
        let answered: Promise<unknown>;
        try {
            answered = method.answer(request);
        } catch (error) {
            fail(options.statusOf(error));
            return;
        }
        answered.then(
            (response) => {
                let message: Buffer;
                try {
                    message = method.definition.responseSerialize(response);
                } catch {
                    fail({ code: grpc.status.INTERNAL, details: 'Error serializing response' });
                    return;
                }
                succeed(message);
            },
            (error: unknown) => { fail(options.statusOf(error)); },
        );
    });
}

function tooLong(length: number, options: DirectUnaryOptions): boolean {
    return options.maxReceiveMessageLength !== -1 && length > options.maxReceiveMessageLength;
}

function tooLongStatus(length: number, options: DirectUnaryOptions): CallStatus {
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${length} vs ${options.maxReceiveMessageLength})` };
}

/**
 * The whole messages of a request body (each a 5-byte prefix and its bytes), or the length of the first one announced
 * over the limit. A last message cut short is not one, as grpc-js's decoder still waits for the rest of it when the
 * client half-closes.
 */
function framesOf(body: Buffer, options: DirectUnaryOptions): Buffer[] | number {
    const messages: Buffer[] = [];
    let at = 0;
    while (body.length - at >= 5) {
        const length = body.readUInt32BE(at + 1);
        if (tooLong(length, options)) {
            return length;
        }
        if (body.length - at - 5 < length) {
            break;
        }
        messages.push(body.subarray(at + 5, at + 5 + length));
        at += 5 + length;
    }
    return messages;
}
