// SPDX-License-Identifier: Apache-2.0
/**
 * @grpc/grpc-js up to 1.10.3 — what Caliper 0.6's `fabric:fabric-gateway` binding installs — resets every stream it
 * finishes. Node's HTTP/2 server closes a connection once a client has reset about 1,000 streams on it (nghttp2's
 * rapid-reset guard), failing every call in flight with `13 INTERNAL: Received RST_STREAM with code 2`. The devnet
 * recycles each connection gracefully after 500 calls, so that none carries enough calls to spend that budget; the
 * client reconnects transparently. The 1.10.3 client comes from its own fixture folder.
 *
 * The remedy must also hold on a busy machine. Recycling by age (every 200 ms, an earlier remedy) failed there: a
 * connection could be told to go away before its client had sent the calls queued on it, and grpc-js gives up on a
 * call refused twice (`14 UNAVAILABLE: Stream refused by server`, one burst in three with four busy processes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type * as Grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { connect as tcpConnect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { startDevnet, type RunningDevnet } from '../src';
import { resetsEveryStream } from '../src/connectionRecycling';
import { tempDir } from './support/client';

const fixture = createRequire(path.join(__dirname, 'fixtures/grpc-js-1.10.3/package.json'));
const grpc = fixture('@grpc/grpc-js') as typeof Grpc;
const BURST = 400;

interface Outcome {
    readonly calls: number;
    /** Calls answered as the devnet answers an empty Evaluate request (INVALID_ARGUMENT). */
    readonly answered: number;
    /** Messages of the other failures, with their counts. */
    readonly failures: Map<string, number>;
}

/** Fires `rounds` bursts of {@link BURST} concurrent calls on one channel; stops early once `stopOnFailure` and a call failed. */
async function bursts(net: RunningDevnet, rounds: number, stopOnFailure: boolean): Promise<Outcome> {
    const client = new grpc.Client(`localhost:${net.server.port}`, grpc.credentials.createInsecure());
    let calls = 0;
    let answered = 0;
    const failures = new Map<string, number>();
    try {
        for (let round = 0; round < rounds && !(stopOnFailure && failures.size > 0); round++) {
            await Promise.all(Array.from({ length: BURST }, () => new Promise<void>((resolve) => {
                client.makeUnaryRequest('/gateway.Gateway/Evaluate', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (error) => {
                    calls++;
                    if (error?.code === grpc.status.INVALID_ARGUMENT) {
                        answered++;
                    } else {
                        const message = error?.message ?? 'answered without an error';
                        failures.set(message, (failures.get(message) ?? 0) + 1);
                    }
                    resolve();
                });
            })));
        }
    } finally {
        client.close();
    }
    return { calls, answered, failures };
}

describe('bursts of calls from @grpc/grpc-js 1.10.3', () => {
    let net: RunningDevnet | undefined;

    afterEach(async () => {
        await net?.stop();
        net = undefined;
    });

    it('fail with RST_STREAM when connections are never recycled (the cause)', async () => {
        expect((fixture('@grpc/grpc-js/package.json') as { version: string }).version).toBe('1.10.3');
        net = await startDevnet({ dir: tempDir(), tls: false, maxCallsPerConnection: 0 });
        const outcome = await bursts(net, 40, true);
        expect([...outcome.failures.keys()]).toEqual(['13 INTERNAL: Received RST_STREAM with code 2 triggered by internal client error: Session closed with error code 2']);
    }, 300_000);

    it('all succeed with the devnet\'s default connection recycling (the remedy)', async () => {
        net = await startDevnet({ dir: tempDir(), tls: false });
        // Far beyond the ~1,000 resets after which an unrecycled connection is closed.
        const outcome = await bursts(net, 15, false);
        expect(outcome.failures).toEqual(new Map());
        expect(outcome.answered).toBe(15 * BURST);
    }, 300_000);

    it('all succeed with connection recycling while other processes keep both cores busy', async () => {
        net = await startDevnet({ dir: tempDir(), tls: false });
        const busy: ChildProcess[] = Array.from({ length: 4 }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
        try {
            const outcome = await bursts(net, 15, false);
            expect(outcome.failures).toEqual(new Map());
            expect(outcome.answered).toBe(15 * BURST);
        } finally {
            for (const child of busy) {
                child.kill('SIGKILL');
            }
        }
    }, 300_000);
});

/** Sends `calls` empty Evaluate calls, 100 at a time, on one HTTP/2 connection naming `userAgent`; whether it got GOAWAY. */
async function toldToGoAway(net: RunningDevnet, userAgent: string, calls: number): Promise<{ goaway: boolean; answered: number }> {
    const session = http2.connect(`http://localhost:${net.server.port}`);
    const seen = { goaway: false };
    session.on('goaway', () => { seen.goaway = true; });
    session.on('error', () => { /* a closed session fails the calls below */ });
    let answered = 0;
    try {
        for (let sent = 0; sent < calls && !seen.goaway; sent += 100) {
            await Promise.all(Array.from({ length: Math.min(100, calls - sent) }, () => new Promise<void>((resolve) => {
                const stream = session.request({
                    ':method': 'POST', ':path': '/gateway.Gateway/Evaluate', 'content-type': 'application/grpc', te: 'trailers', 'user-agent': userAgent,
                });
                // INVALID_ARGUMENT, in the trailers or in a trailers-only response.
                const count = (headers: http2.IncomingHttpHeaders): void => {
                    if (headers['grpc-status'] === '3') {
                        answered++;
                    }
                };
                stream.on('response', count);
                stream.on('trailers', count);
                stream.on('close', () => { resolve(); });
                stream.on('error', () => { /* counted as not answered */ });
                stream.resume();
                stream.end(Buffer.alloc(5));
            })));
        }
    } finally {
        session.close();
    }
    return { goaway: seen.goaway, answered };
}

describe('which connections are recycled', () => {
    it('recognises the @grpc/grpc-js versions that reset every stream they finish (before 1.10.4)', () => {
        expect(resetsEveryStream('grpc-node-js/1.10.3')).toBe(true);
        expect(resetsEveryStream('grpc-node-js/1.9.16')).toBe(true);
        expect(resetsEveryStream('fabric-app/2.0 grpc-node-js/1.8.0 other/1')).toBe(true);
        expect(resetsEveryStream('grpc-node-js/0.9.0')).toBe(true);
        expect(resetsEveryStream('grpc-node-js/1.10.4')).toBe(false);
        expect(resetsEveryStream('grpc-node-js/1.14.7')).toBe(false);
        expect(resetsEveryStream('grpc-node-js/2.0.0')).toBe(false);
        expect(resetsEveryStream('grpc-go/1.60.1')).toBe(false);
        expect(resetsEveryStream('my-grpc-node-js/1.0.0')).toBe(false);
        expect(resetsEveryStream(undefined)).toBe(false);
    });

    it('only the connections of those clients, after 500 calls', async () => {
        const net = await startDevnet({ dir: tempDir(), tls: false });
        try {
            expect(await toldToGoAway(net, 'grpc-node-js/1.10.3', 499)).toEqual({ goaway: false, answered: 499 });
            const old = await toldToGoAway(net, 'grpc-node-js/1.10.3', 1_000);
            expect(old.goaway).toBe(true);
            expect(old.answered).toBe(500);
            expect(await toldToGoAway(net, 'grpc-node-js/1.14.7', 1_000)).toEqual({ goaway: false, answered: 1_000 });
            expect(await toldToGoAway(net, 'grpc-go/1.60.1', 1_000)).toEqual({ goaway: false, answered: 1_000 });
        } finally {
            await net.stop();
        }
    }, 300_000);
});

interface Frame {
    readonly type: number;
    readonly flags: number;
    readonly streamId: number;
}

const GOAWAY_FRAME = 0x7;
const HEADERS_FRAME = 0x1;
const END_STREAM = 0x1;
/** The 24 bytes an HTTP/2 client sends before its first frame. */
const CLIENT_PREFACE_LENGTH = 24;

/** Splits a byte stream into HTTP/2 frame headers (type, flags, stream id) as it arrives. */
function frameReader(skip: number, onFrame: (frame: Frame) => void): (chunk: Buffer) => void {
    let pending = Buffer.alloc(0);
    let toSkip = skip;
    return (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        const skipped = Math.min(toSkip, pending.length);
        pending = pending.subarray(skipped);
        toSkip -= skipped;
        while (pending.length >= 9 && pending.length >= 9 + pending.readUIntBE(0, 3)) {
            onFrame({ type: pending.readUInt8(3), flags: pending.readUInt8(4), streamId: pending.readUInt32BE(5) & 0x7fffffff });
            pending = pending.subarray(9 + pending.readUIntBE(0, 3));
        }
    };
}

/**
 * A TCP relay between one client connection and the devnet that reads the HTTP/2 frames going each way and can hold
 * back what the devnet sends, so that the client does not see a GOAWAY before the test lets it.
 */
interface Relay {
    readonly port: number;
    /** Resolves once a frame the devnet sent (`fromDevnet`) or the client sent satisfies `test`. */
    until(fromDevnet: boolean, test: (frame: Frame) => boolean): Promise<void>;
    hold(): void;
    release(): void;
    close(): void;
}

async function startRelay(devnetPort: number): Promise<Relay> {
    const frames: { fromDevnet: boolean; frame: Frame }[] = [];
    const waiters = new Set<() => void>();
    const seen = (fromDevnet: boolean) => (frame: Frame): void => {
        frames.push({ fromDevnet, frame });
        for (const waiter of waiters) {
            waiter();
        }
    };
    let holding = false;
    const held: Buffer[] = [];
    let devnetEnded = false;
    let client: Socket | undefined;
    const sockets: Socket[] = [];
    const server = createTcpServer((socket) => {
        client = socket;
        const devnet = tcpConnect(devnetPort, 'localhost');
        sockets.push(socket, devnet);
        const fromClient = frameReader(CLIENT_PREFACE_LENGTH, seen(false));
        const fromDevnet = frameReader(0, seen(true));
        socket.on('data', (chunk: Buffer) => {
            fromClient(chunk);
            if (!devnetEnded) {
                devnet.write(chunk);
            }
        });
        devnet.on('data', (chunk: Buffer) => {
            fromDevnet(chunk);
            if (holding) {
                held.push(chunk);
            } else {
                socket.write(chunk);
            }
        });
        // Once the devnet has ended the connection (a write after that can fail it), the client sees the end after what was held.
        const devnetEnd = (): void => {
            devnetEnded = true;
            if (!holding) {
                socket.end();
            }
        };
        devnet.on('end', devnetEnd);
        devnet.on('error', devnetEnd);
        socket.on('end', () => { devnet.end(); });
        socket.on('error', () => { devnet.destroy(); });
    });
    await new Promise<void>((resolve) => { server.listen(0, 'localhost', resolve); });
    return {
        port: (server.address() as AddressInfo).port,
        until: (fromDevnet, test) => new Promise<void>((resolve) => {
            const check = (): void => {
                if (frames.some((seenFrame) => seenFrame.fromDevnet === fromDevnet && test(seenFrame.frame))) {
                    waiters.delete(check);
                    resolve();
                }
            };
            waiters.add(check);
            check();
        }),
        hold: () => { holding = true; },
        release: () => {
            holding = false;
            for (const chunk of held.splice(0)) {
                client?.write(chunk);
            }
            if (devnetEnded) {
                client?.end();
            }
        },
        close: () => {
            for (const socket of sockets) {
                socket.destroy();
            }
            server.close();
        },
    };
}

type CallOutcome = 'answered' | 'refused' | 'unanswered' | `closed with code ${number}`;

/** Starts an empty Evaluate call as a client naming `userAgent`; how it ends (at most `patienceMs` later). */
function evaluate(session: http2.ClientHttp2Session, userAgent: string, patienceMs: number): { stream: http2.ClientHttp2Stream; outcome: Promise<CallOutcome> } {
    const stream = session.request({
        ':method': 'POST', ':path': '/gateway.Gateway/Evaluate', 'content-type': 'application/grpc', te: 'trailers', 'user-agent': userAgent,
    });
    const outcome = new Promise<CallOutcome>((resolve) => {
        let answered = false;
        const timer = setTimeout(() => { resolve('unanswered'); }, patienceMs);
        const count = (headers: http2.IncomingHttpHeaders): void => {
            answered ||= headers['grpc-status'] === '3';
        };
        stream.on('response', count);
        stream.on('trailers', count);
        stream.on('error', () => { /* told by the outcome */ });
        stream.on('close', () => {
            clearTimeout(timer);
            if (answered) {
                resolve('answered');
            } else {
                resolve(stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ? 'refused' : `closed with code ${stream.rstCode}`);
            }
        });
    });
    stream.resume();
    stream.end(Buffer.alloc(5));
    return { stream, outcome };
}

/** The stream's id, once its session has given it one. */
async function streamId(stream: http2.ClientHttp2Stream): Promise<number> {
    if (stream.id === undefined) {
        await new Promise((resolve) => { stream.once('ready', resolve); });
    }
    return stream.id ?? 0;
}

describe('the end of a recycled connection', () => {
    it('refuses a call the client sent after the first GOAWAY once no call was left in flight, instead of leaving it unanswered', async () => {
        // Node's server stops reading a connection that has sent a GOAWAY and has no open stream left; the client's
        // answer to the PING and a call it sent meanwhile then stayed unread, and the call waited for its deadline.
        const net = await startDevnet({ dir: tempDir(), tls: false });
        const relay = await startRelay(net.server.port);
        const session = http2.connect(`http://localhost:${relay.port}`);
        session.on('error', () => { /* the outcome of the calls tells */ });
        const userAgent = 'grpc-node-js/1.10.3';
        try {
            for (let sent = 0; sent < 499; sent += 100) {
                const outcomes = await Promise.all(Array.from({ length: Math.min(100, 499 - sent) }, () => evaluate(session, userAgent, 60_000).outcome));
                expect(new Set(outcomes)).toEqual(new Set(['answered']));
            }
            // The 500th call: the devnet sends the first GOAWAY and a PING, answers the call and has none left. The
            // client is shown none of it yet, so that it still sends a call, as a client does that has not yet read
            // the GOAWAY.
            relay.hold();
            const last = evaluate(session, userAgent, 60_000);
            const lastId = await streamId(last.stream);
            await relay.until(true, (frame) => frame.type === GOAWAY_FRAME);
            await relay.until(true, (frame) => frame.type === HEADERS_FRAME && frame.streamId === lastId && (frame.flags & END_STREAM) !== 0);
            const late = evaluate(session, userAgent, 20_000);
            const lateId = await streamId(late.stream);
            await relay.until(false, (frame) => frame.type === HEADERS_FRAME && frame.streamId === lateId);
            relay.release();
            expect(await last.outcome).toBe('answered');
            // Refused by the client's HTTP/2 stack on the final GOAWAY, which a gRPC client sends again on a new
            // connection; before, the devnet never read it and the client waited until its deadline.
            expect(await late.outcome).toBe('refused');
        } finally {
            session.destroy();
            relay.close();
            await net.stop();
        }
    }, 300_000);
});
