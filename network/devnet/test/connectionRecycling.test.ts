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
