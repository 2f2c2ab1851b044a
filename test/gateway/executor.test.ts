// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { treeShape } from '../../chaincode/src/core/mergeTree';
import { buildBundle, generateTaskKey, programHashHex } from '../../gateway/src/bundle';
import { Executor, WorkLoop } from '../../gateway/src/executor';
import type { Runner } from '../../gateway/src/executor';
import { SandboxPool } from '../../gateway/src/sandbox';
import { BINDING, Chain, HOUR } from '../chaincode/harness';
import type { Actor, Json } from '../chaincode/harness';
import { simulatedLedger } from './simulatedLedger';
import { exampleModule } from '../support/examples';

/**
 * The executor against the real chaincode (in the peer simulator) and the real sandbox running the
 * primes example: open tasks, a tampered program, and a ranked job across three shards whose final
 * filing must equal a direct count.
 */

const work = mkdtempSync(path.join(tmpdir(), 'lw-executor-'));


function countPrimes(lo: number, hi: number): number {
    let count = 0;
    for (let n = Math.max(lo, 2); n < hi; n++) {
        let prime = true;
        for (let d = 2; d * d <= n; d++) {
            if (n % d === 0) {
                prime = false;
                break;
            }
        }
        if (prime) {
            count++;
        }
    }
    return count;
}

/** A bundle with a fresh task key, written where file:// can reach it. */
function publishBundle(module: Buffer, name: string): { uri: string; sha256: string; publicKeyPem: string; file: string } {
    const key = generateTaskKey();
    const bundle = buildBundle(module, key.privateKey);
    const file = path.join(work, `${name}.wasm`);
    writeFileSync(file, bundle);
    return { uri: pathToFileURL(file).href, sha256: programHashHex(bundle), publicKeyPem: key.publicKeyPem, file };
}

describe('executor', () => {
    let chain: Chain;
    let pool: SandboxPool;
    let module: Buffer;
    let publisher: Actor;
    const runs: string[] = [];
    let runner: Runner;

    beforeAll(async () => {
        chain = await Chain.start();
        pool = new SandboxPool({ size: 2 });
        await pool.ready();
        runner = { run: (request) => (runs.push(request.programHash), pool.run(request)) };
        module = exampleModule('primes');
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'exec-publisher' });
        await chain.mint(publisher, 1_000_000n);
    });
    afterAll(async () => {
        await pool.close();
        await chain.stop();
        rmSync(work, { recursive: true, force: true });
    });

    it('claims, runs, signs and submits open tasks; refuses and reports a tampered program without running it', async () => {
        const owner = chain.actor({ mspId: 'Org2MSP', name: 'exec-open' });
        await chain.register(owner, 'open-1', { capacity: 4 });
        const ranges = [[0, 5000], [5000, 10000], [10000, 15000]] as const;
        const tasks = ranges.map(([lo, hi], i) => {
            const bundle = publishBundle(module, `open-${i}`);
            return { id: `open-t${i}`, program: { uri: bundle.uri, sha256: bundle.sha256 }, publicKey: bundle.publicKeyPem, input: { inline: Buffer.from(`${lo} ${hi}`).toString('base64') }, reward: '5', file: bundle.file };
        });
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify({ id: 'open-job', taskCount: 3, deadline: chain.peer.clock + 24 * HOUR, tasks: tasks.map(({ file: _file, ...t }) => t) })]);
        // Tamper with the third program after publication: its hash no longer matches the ledger's.
        writeFileSync(tasks[2]!.file, Buffer.concat([readFileSync(tasks[2]!.file), Buffer.from([0])]));
        const executor = new Executor({ executorId: 'open-1', ledger: simulatedLedger(chain, owner), sandbox: runner, binding: BINDING });
        const before = runs.length;
        expect(await executor.claimAndRun('open-t0')).toEqual({ kind: 'accepted', taskId: 'open-t0' });
        expect(await executor.claimAndRun('open-t1')).toEqual({ kind: 'accepted', taskId: 'open-t1' });
        const tampered = await executor.claimAndRun('open-t2');
        expect(tampered.kind).toBe('program-hash-mismatch');
        expect(runs.length - before).toBe(2);
        expect(Buffer.from(((await chain.task('open-t0')).result as Json).inline as string, 'base64').toString()).toBe(`${countPrimes(0, 5000)}\n`);
        expect(await chain.task('open-t2')).toMatchObject({ state: 'published', attempts: 1, lastFailure: { kind: 'program-hash-mismatch', executorId: 'open-1' } });
        await expect(executor.claimAndRun('open-t0')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    });

    it('works every rank of a ranked job across three shards to a target equal to the direct count', async () => {
        const taskCount = 5;
        const span = 4000;
        const owners: Record<string, Actor> = {};
        for (const mspId of ['Org1MSP', 'Org2MSP', 'Org3MSP']) {
            const owner = chain.actor({ mspId, name: `ranked-${mspId}` });
            for (let i = 1; i <= 3; i++) {
                await chain.register(owner, `${mspId}-node${i}`, { mode: 'passive', skills: ['primes'] });
                owners[`${mspId}-node${i}`] = owner;
            }
        }
        const mergeBundle = publishBundle(module, 'merge');
        const tasks = Array.from({ length: taskCount }, (_, i) => {
            const bundle = publishBundle(module, `ranked-${i}`);
            return { id: `ranked-t${i + 1}`, program: { uri: bundle.uri, sha256: bundle.sha256 }, publicKey: bundle.publicKeyPem, input: { inline: Buffer.from(`${i * span} ${(i + 1) * span}`).toString('base64') }, reward: '7' };
        });
        await chain.submit(publisher, 'jobs:Publish', [
            JSON.stringify({
                id: 'ranked-primes',
                assignment: 'ranked',
                shards: ['Org1MSP', 'Org2MSP', 'Org3MSP'],
                taskCount,
                requirements: { skills: ['primes'] },
                deadline: chain.peer.clock + 24 * HOUR,
                merge: { program: { uri: mergeBundle.uri, sha256: mergeBundle.sha256 }, publicKey: mergeBundle.publicKeyPem, reward: '2' },
                tasks,
            }),
        ]);
        const ranks = chain.lastEvent().payload.ranks as { rank: number; executorId: string }[];
        // One work loop per owner (each org's `executor run`).
        const byOwner = new Map<Actor, string[]>();
        for (const { executorId } of ranks) {
            byOwner.set(owners[executorId]!, [...new Set([...(byOwner.get(owners[executorId]!) ?? []), executorId])]);
        }
        const summaries = await Promise.all(
            [...byOwner].map(([owner, executorIds]) =>
                new WorkLoop({ executorIds, ledger: simulatedLedger(chain, owner), sandbox: runner, concurrency: 2, binding: BINDING, jobIds: ['ranked-primes'], untilDone: true, pollMs: 20, ledgerClock: () => chain.peer.clock }).run(),
            ),
        );
        expect(summaries.reduce((n, s) => n + s.filed, 0)).toBe(ranks.length);
        expect(summaries.every((s) => s.failed === 0)).toBe(true);
        const shape = treeShape(taskCount);
        const final = await chain.evaluate(chain.anyone(), 'queries:GetFiling', ['ranked-primes', String(shape.height), '1']);
        expect(Buffer.from(final.result as string, 'base64').toString()).toBe(`${countPrimes(0, taskCount * span)}\n`);
        expect((await chain.evaluate(chain.anyone(), 'queries:GetJob', ['ranked-primes'])).state).toBe('completed');
        const tree = await chain.evaluate(chain.anyone(), 'queries:GetMergeTree', ['ranked-primes']);
        expect(tree.missing).toEqual([]);
    });
});
