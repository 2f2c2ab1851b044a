// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Executor, WorkLoop } from '../../gateway/src/executor';
import { DecomposeError, DirectoryStore, collectResults, inputsFromDirectory, inputsFromJsonLines, parseRange, planJob, publishPlan, splitRange, waitForTarget } from '../../gateway/src/publisher';
import { SandboxPool } from '../../gateway/src/sandbox';
import { BINDING, Chain, HOUR } from '../chaincode/harness';
import type { Actor } from '../chaincode/harness';
import { simulatedLedger } from './simulatedLedger';
import { exampleModule } from '../support/examples';

const work = mkdtempSync(path.join(tmpdir(), 'lw-publisher-'));
afterAll(() => {
    rmSync(work, { recursive: true, force: true });
});


describe('decomposition', () => {
    it('splits a range evenly, earlier parts taking the remainder', () => {
        expect(splitRange(0n, 10n, 3)).toEqual(['0 4', '4 7', '7 10']);
        expect(splitRange(5n, 5n, 2)).toEqual(['5 5', '5 5']);
        expect(parseRange('0:10000000')).toEqual({ lo: 0n, hi: 10_000_000n });
        expect(() => parseRange('10-20')).toThrow(DecomposeError);
        expect(() => splitRange(3n, 1n, 2)).toThrow(DecomposeError);
        expect(() => splitRange(0n, 10n, 0)).toThrow(DecomposeError);
    });

    it('covers the range exactly once with parts that differ by at most one (property)', () => {
        fc.assert(
            fc.property(fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.bigInt({ min: 0n, max: 2n ** 20n }), fc.integer({ min: 1, max: 200 }), (lo, size, tasks) => {
                const parts = splitRange(lo, lo + size, tasks).map((p) => p.split(' ').map(BigInt) as [bigint, bigint]);
                expect(parts).toHaveLength(tasks);
                expect(parts[0]![0]).toBe(lo);
                expect(parts.at(-1)![1]).toBe(lo + size);
                const sizes = parts.map(([a, b]) => b - a);
                parts.slice(1).forEach(([a], i) => {
                    expect(a).toBe(parts[i]![1]);
                });
                expect(sizes.every((s) => s === sizes[0] || s === sizes[0]! - 1n)).toBe(true);
            }),
        );
    });

    it('reads inputs from a directory in byte order, and from JSON lines', async () => {
        const dir = path.join(work, 'shards');
        mkdirSync(dir);
        writeFileSync(path.join(dir, 'b.txt'), 'second');
        writeFileSync(path.join(dir, 'a.txt'), 'first');
        writeFileSync(path.join(dir, '.hidden'), 'skip');
        expect((await inputsFromDirectory(dir)).map(String)).toEqual(['first', 'second']);
        const lines = path.join(work, 'inputs.jsonl');
        writeFileSync(lines, '"plain text"\n\n{"lo":1,"hi":2}\n');
        expect((await inputsFromJsonLines(lines)).map(String)).toEqual(['plain text', '{"lo":1,"hi":2}']);
        writeFileSync(lines, 'not json\n');
        await expect(inputsFromJsonLines(lines)).rejects.toThrow(DecomposeError);
    });
});

describe('publishing and waiting', () => {
    let chain: Chain;
    let pool: SandboxPool;
    let publisher: Actor;
    const owners = new Map<string, Actor>();

    beforeAll(async () => {
        chain = await Chain.start();
        pool = new SandboxPool({ size: 2 });
        await pool.ready();
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'planner' });
        await chain.mint(publisher, 1_000_000n);
        for (const mspId of ['Org1MSP', 'Org2MSP']) {
            const owner = chain.actor({ mspId, name: `pub-nodes-${mspId}` });
            for (let i = 1; i <= 4; i++) {
                await chain.register(owner, `${mspId}-w${i}`, { capacity: 8 });
                owners.set(`${mspId}-w${i}`, owner);
            }
        }
    });
    afterAll(async () => {
        await pool.close();
        await chain.stop();
    });

    it('plans a ranked job with per-task keys, publishes it in batches, and waits for the target', async () => {
        const primes = exampleModule('primes');
        const inputs = splitRange(0n, 30_000n, 7).map((text) => Buffer.from(text));
        const plan = await planJob({
            jobId: 'planned',
            program: primes,
            mergeProgram: primes,
            inputs,
            reward: 3n,
            mergeReward: 1n,
            shards: ['Org1MSP', 'Org2MSP'],
            deadline: chain.peer.clock + 24 * HOUR,
            store: new DirectoryStore(path.join(work, 'planned')),
        });
        expect(new Set(plan.tasks.map((t) => (t.program as { sha256: string }).sha256)).size).toBe(7);
        const ledger = simulatedLedger(chain, publisher);
        const record = await publishPlan(ledger, plan, 3);
        expect(record).toMatchObject({ state: 'open', publishedCount: 7, taskCount: 7 });
        const tree = await chain.evaluate(publisher, 'queries:GetMergeTree', ['planned']);
        const holders = tree.holders as { rank: number; executorId: string }[];
        const progress: number[] = [];
        const waiting = waitForTarget(ledger, 'planned', 7, { pollMs: 10, onProgress: (filed) => progress.push(filed) });
        await Promise.all(
            [...new Set(holders.map((h) => h.executorId))].map((executorId) =>
                new WorkLoop({ executorIds: [executorId], ledger: simulatedLedger(chain, owners.get(executorId)!), sandbox: pool, concurrency: 2, binding: BINDING, jobIds: ['planned'], untilDone: true, pollMs: 10, ledgerClock: () => chain.peer.clock }).run(),
            ),
        );
        expect((await waiting).toString()).toBe('3245\n');
        expect(progress.length).toBeGreaterThan(0);
    });

    it('plans an open job with one key for the job and large inputs by URI, and collects the results', async () => {
        const primes = exampleModule('primes');
        const inputs = [Buffer.from('0 1000'), Buffer.concat([Buffer.from('1000 2000'), Buffer.alloc(0)])];
        const plan = await planJob({ jobId: 'open-plan', program: primes, inputs, keyScope: 'job', reward: 2n, deadline: chain.peer.clock + 24 * HOUR, store: new DirectoryStore(path.join(work, 'open')), inlineLimit: 6 });
        expect(new Set(plan.tasks.map((t) => (t.program as { uri: string }).uri)).size).toBe(1);
        expect(plan.tasks[1]!.input).toMatchObject({ size: 9, uri: expect.stringMatching(/^file:\/\//) as unknown as string });
        const ledger = simulatedLedger(chain, publisher);
        await publishPlan(ledger, plan);
        for (const task of plan.tasks) {
            await new Executor({ executorId: 'Org2MSP-w1', ledger: simulatedLedger(chain, owners.get('Org2MSP-w1')!), sandbox: pool, binding: BINDING }).claimAndRun(task.id as string);
        }
        const results = await collectResults(ledger, 'open-plan');
        expect(Object.fromEntries([...results].map(([id, bytes]) => [id, bytes.toString()]))).toEqual({ 'open-plan-1': '168\n', 'open-plan-2': '135\n' });
    });
});
