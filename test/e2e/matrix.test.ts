// SPDX-License-Identifier: Apache-2.0
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { binding, mspOf, primesProgram, registerExecutors, sieveCount, startE2e } from './support/harness';
import type { E2e } from './support/harness';
import type { LedgerworkClient } from '../../gateway/src/client';
import { WorkLoop } from '../../gateway/src/executor';
import { DirectoryStore, collectResults, planJob, publishPlan, splitRange, waitForTarget } from '../../gateway/src/publisher';

/**
 * The job matrix on one devnet: ranked jobs for every N in {1, 2, 3, 4, 5, 7, 8, 16, 33}, each shard
 * count 1, 2 and 3 and both signature modes at every shard count, plus open jobs in both modes — all
 * published and worked at once by Executors sharing one SandboxPool. Every final result must equal
 * the direct count of primes in the job's range.
 */

/** (N, shards, mode): every N once, every shard count three times, both modes at each shard count. */
const rankedCases: readonly { n: number; shards: 1 | 2 | 3; mode: 'separate' | 'combined' }[] = [
    { n: 1, shards: 1, mode: 'separate' },
    { n: 4, shards: 1, mode: 'combined' },
    { n: 8, shards: 1, mode: 'separate' },
    { n: 2, shards: 2, mode: 'combined' },
    { n: 5, shards: 2, mode: 'separate' },
    { n: 16, shards: 2, mode: 'combined' },
    { n: 3, shards: 3, mode: 'separate' },
    { n: 7, shards: 3, mode: 'combined' },
    { n: 33, shards: 3, mode: 'separate' },
];
const openCases: readonly { n: number; mode: 'separate' | 'combined' }[] = [
    { n: 5, mode: 'separate' },
    { n: 4, mode: 'combined' },
];
/** Executors per org: the most ranks one shard holds (N = 33 over 3 shards: 64 ranks, 22 per shard). */
const PER_ORG = 22;
const REWARD = 3n;
const MERGE_REWARD = 1n;

/** A small range per job, shifted so jobs differ; the upper bound is not a multiple of N so splits are uneven. */
function rangeOf(index: number, n: number): { lo: number; hi: number } {
    const lo = 1000 * index + (index % 3);
    return { lo, hi: lo + 40 * n + 7 };
}

describe('e2e matrix: ranked and open jobs on the devnet', () => {
    let e2e: E2e;
    let publisher: LedgerworkClient;
    let publisherAccount: string;
    const clientOf = new Map<string, LedgerworkClient>();
    /** Active executors for the open jobs (passive ones only take assigned ranks). */
    const openExecutors: string[] = [];
    const workers: LedgerworkClient[] = [];

    beforeAll(async () => {
        e2e = await startE2e('matrix');
        const admin = e2e.clientFor(1, 'Admin');
        publisher = e2e.clientFor(1, 'mx-publisher');
        publisherAccount = (await publisher.whoAmI()).account;
        await admin.mint(publisherAccount, 100_000n);
        await Promise.all(
            [1, 2, 3].map(async (org) => {
                const client = e2e.clientFor(org, `mx-worker-${org}`);
                workers.push(client);
                for (const id of await registerExecutors(client, `mx-o${org}`, PER_ORG)) {
                    clientOf.set(id, client);
                }
                for (const id of await registerExecutors(client, `mx-open-o${org}`, 4, 'active')) {
                    clientOf.set(id, client);
                    openExecutors.push(id);
                }
            }),
        );
    }, 240_000);
    afterAll(async () => {
        await e2e.close();
    });

    it('runs every ranked (N, shards, mode) and both open modes concurrently to the direct counts', async () => {
        const program = primesProgram();
        const store = new DirectoryStore(path.join(e2e.work, 'bundles'));
        const deadline = Date.now() + 3600_000;

        // Publishing debits the one publisher's account, so jobs are published one after the other;
        // then every rank of every job and every open task is worked at once.
        const rankedJobs: { jobId: string; n: number; expected: number }[] = [];
        for (const [index, { n, shards, mode }] of rankedCases.entries()) {
            const jobId = `mx-r${n}-s${shards}-${mode}`;
            const { lo, hi } = rangeOf(index, n);
            const plan = await planJob({
                jobId,
                program,
                mergeProgram: program,
                inputs: splitRange(BigInt(lo), BigInt(hi), n).map((text) => Buffer.from(text)),
                reward: REWARD,
                mergeReward: MERGE_REWARD,
                mode,
                shards: [1, 2, 3].slice(0, shards).map(mspOf),
                requirements: { skills: ['primes'] },
                deadline,
                store,
            });
            await publishPlan(publisher, plan, 16);
            rankedJobs.push({ jobId, n, expected: sieveCount(lo, hi) });
        }
        const openJobs: { jobId: string; n: number; expected: number; workers: string[] }[] = [];
        for (const [index, { n, mode }] of openCases.entries()) {
            const jobId = `mx-open${n}-${mode}`;
            const { lo, hi } = rangeOf(20 + index, n);
            const plan = await planJob({ jobId, program, inputs: splitRange(BigInt(lo), BigInt(hi), n).map((text) => Buffer.from(text)), reward: REWARD, mode, deadline, store });
            await publishPlan(publisher, plan);
            openJobs.push({ jobId, n, expected: sieveCount(lo, hi), workers: openExecutors.slice(index * 6, index * 6 + n) });
        }
        const ledgerOf = (executorId: string): LedgerworkClient => {
            const ledger = clientOf.get(executorId);
            if (ledger === undefined) {
                throw new Error(`unknown executor ${executorId}`);
            }
            return ledger;
        };

        const ranked = rankedJobs.map(async ({ jobId, n, expected }) => {
            const tree = await publisher.getMergeTree(jobId);
            const stop = new AbortController();
            const target = waitForTarget(publisher, jobId, n, { pollMs: 100, signal: stop.signal }).then(
                (bytes) => bytes.toString(),
                (err: unknown) => `no target: ${String(err)}`,
            );
            try {
                // One work loop per org (its `executor run`) over the executors holding ranks there.
                const byLedger = new Map<LedgerworkClient, Set<string>>();
                for (const { executorId } of tree.holders) {
                    byLedger.set(ledgerOf(executorId), (byLedger.get(ledgerOf(executorId)) ?? new Set()).add(executorId));
                }
                // Errors the loops met, named in the failure so that a rare one can be told apart.
                const errors: string[] = [];
                const summaries = await Promise.all(
                    [...byLedger].map(([ledger, ids]) =>
                        new WorkLoop({
                            executorIds: [...ids], ledger, sandbox: e2e.pool, concurrency: 2, binding, jobIds: [jobId], untilDone: true, pollMs: 50,
                            onEvent: (event) => { if (event.kind === 'error' || (event.kind === 'outcome' && !['filed', 'accepted'].includes(event.outcome.kind))) errors.push(JSON.stringify(event)); },
                        }).run(),
                    ),
                );
                const kinds = summaries.flatMap((s) => [...Array<string>(s.filed).fill('filed'), ...Array<string>(s.failed + s.rejected).fill(`failed ${errors.join('; ')}`)]);
                return { jobId, expected, shards: new Set(tree.holders.map((h) => h.shard)).size, ranks: tree.holders.length, kinds, result: await target };
            } finally {
                stop.abort();
            }
        });
        const open = openJobs.map(async ({ jobId, n, expected, workers }) => {
            // One work loop per org over its executors of this job, as `executor run --job` works it.
            const byLedger = new Map<LedgerworkClient, string[]>();
            for (const executorId of workers) {
                byLedger.set(ledgerOf(executorId), [...(byLedger.get(ledgerOf(executorId)) ?? []), executorId]);
            }
            const summaries = await Promise.all(
                [...byLedger].map(([ledger, executorIds]) => new WorkLoop({ executorIds, ledger, sandbox: e2e.pool, concurrency: 2, binding, jobIds: [jobId], untilDone: true, pollMs: 50 }).run()),
            );
            const results = await collectResults(publisher, jobId);
            const sum = [...results.values()].reduce((total, bytes) => total + Number(bytes.toString().trim()), 0);
            const progress = await publisher.getJobProgress(jobId);
            const accepted = summaries.reduce((total, summary) => total + summary.accepted, 0);
            const failed = summaries.reduce((total, summary) => total + summary.failed + summary.rejected, 0);
            return { jobId, n, expected, accepted, failed, results: results.size, sum, finished: progress.finished, completed: progress.tasks.completed };
        });

        const rankedDone = await Promise.all(ranked);
        const openDone = await Promise.all(open);
        expect(rankedDone.map((job) => job.shards)).toEqual(rankedCases.map((c) => c.shards));
        for (const job of rankedDone) {
            expect({ jobId: job.jobId, kinds: job.kinds, result: job.result }).toEqual({ jobId: job.jobId, kinds: Array<string>(job.ranks).fill('filed'), result: `${job.expected}\n` });
            expect((await publisher.getJob(job.jobId)).state).toBe('completed');
        }
        for (const job of openDone) {
            // An open job stays 'open' until its deadline; progress says it is finished.
            expect(job).toEqual({ ...job, accepted: job.n, failed: 0, results: job.n, sum: job.expected, finished: true, completed: job.n });
        }
        // A ranked job pays N task rewards and N − 1 merges (ZERO and pass-through numbers are free); an open job N rewards.
        const spent = rankedCases.reduce((total, { n }) => total + BigInt(n) * REWARD + BigInt(n - 1) * MERGE_REWARD, 0n) + openCases.reduce((total, { n }) => total + BigInt(n) * REWARD, 0n);
        const account = await publisher.getAccount(publisherAccount);
        expect({ balance: account.balance, spent: account.spent }).toEqual({ balance: String(100_000n - spent), spent: String(spent) });
        // Everything spent was paid out to the three worker accounts: nothing is left in escrow.
        const paid = await Promise.all(workers.map(async (client) => BigInt((await client.getAccount((await client.whoAmI()).account)).balance)));
        expect(paid.reduce((a, b) => a + b, 0n)).toBe(spent);
    }, 240_000);
});
