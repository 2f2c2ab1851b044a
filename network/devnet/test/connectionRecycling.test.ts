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
import { startDevnet, type RunningDevnet } from '../src';
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
