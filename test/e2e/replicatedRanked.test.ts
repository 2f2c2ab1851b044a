// SPDX-License-Identifier: Apache-2.0
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { binding, mspOf, primesProgram, sieveCount, startE2e } from './support/harness';
import type { E2e } from './support/harness';
import { KeyExtractingForger, forgingSource } from '../../gateway/src/adversary';
import { ChaincodeError } from '../../gateway/src/client';
import type { LedgerworkClient } from '../../gateway/src/client';
import { Executor, ReplicaJournal } from '../../gateway/src/executor';
import type { Outcome } from '../../gateway/src/executor';
import { DirectoryStore, planJob, publishPlan, splitRange } from '../../gateway/src/publisher';
import { mergeSlotId } from '../../chaincode/src/core/signature';

/**
 * A ranked (merge-tree) job under quorum:2 on the devnet, against a key-extracting forger in Org3
 * that forges every leaf and every merge it gets. No forged value is ever filed: every number —
 * leaves and merges — is accepted only when two organizations agree, merges run only on accepted
 * children, and the job completes with the direct count. Credits are conserved.
 */

const MINT = 100_000n;
const REWARD = 5n;
const MERGE_REWARD = 2n;
const TASKS = 3;

describe('e2e ranked job verified by replicas (3 orgs)', () => {
    let e2e: E2e;
    let publisher: LedgerworkClient;
    let publisherAccount = '';
    const accounts: string[] = [];

    beforeAll(async () => {
        e2e = await startE2e('replicated-ranked', 2, 3);
        publisher = e2e.clientFor(1, 'rr-publisher');
        publisherAccount = (await publisher.whoAmI()).account;
        await e2e.clientFor(1, 'Admin').mint(publisherAccount, MINT);
    }, 60_000);
    afterAll(async () => {
        await e2e.close();
    });

    async function executor(org: number, id: string, forger?: KeyExtractingForger): Promise<Executor> {
        const { client } = e2e.userFor(org, id);
        await client.registerExecutor(id, { mode: 'active', skills: ['primes'] });
        accounts.push((await client.whoAmI()).account);
        return new Executor({
            executorId: id,
            ledger: client,
            sandbox: e2e.pool,
            binding,
            pollMs: 150,
            journal: new ReplicaJournal(path.join(e2e.work, 'journals', id)),
            ...(forger === undefined ? {} : { source: forgingSource(forger) }),
        });
    }

    /** Runs one replica, counting a suspended or shut-out replica as having nothing to do. */
    async function replica(run: Executor, taskId: string): Promise<Outcome | undefined> {
        try {
            return await run.claimAndRun(taskId);
        } catch (err) {
            if (err instanceof ChaincodeError && ['EXECUTOR_INACTIVE', 'ALREADY_CLAIMED', 'SHARD_TAKEN', 'INVALID_STATE'].includes(err.code)) {
                return undefined;
            }
            throw err;
        }
    }

    it('quorum:2 — the forger is outvoted on leaves and merges, and the job completes with the direct count', async () => {
        const honest1 = await executor(1, 'rr-honest-1');
        const honest2 = await executor(2, 'rr-honest-2');
        const forger = new KeyExtractingForger({ binding });
        const forging = await executor(3, 'rr-forger', forger);
        const jobId = 'rr-primes';
        const plan = await planJob({
            jobId,
            program: primesProgram(),
            mergeProgram: primesProgram(),
            inputs: splitRange(0n, BigInt(TASKS * 700), TASKS).map((text) => Buffer.from(text)),
            reward: REWARD,
            mergeReward: MERGE_REWARD,
            shards: [mspOf(1), mspOf(2), mspOf(3)],
            requirements: { skills: ['primes'] },
            verify: { policy: 'quorum', k: 2, maxReplicas: 3 },
            leaseMs: 60_000,
            deadline: Date.now() + 3600_000,
            store: new DirectoryStore(path.join(e2e.work, 'bundles')),
        });
        await publishPlan(publisher, plan);
        expect((await publisher.getMergeTree(jobId)).holders).toEqual([]);

        // Work whatever is published — tasks first, then merge tasks as their children are accepted — until the job ends.
        const worked: string[] = [];
        for (let round = 0; round < 10 && (await publisher.getJob(jobId)).state === 'open'; round++) {
            for (const task of (await publisher.listTasksByJob(jobId, 'published', 100)).items) {
                // The forger and an honest replica race for the first two slots; the second honest one settles a split.
                await Promise.all([replica(forging, task.id), replica(honest1, task.id)]);
                if ((await publisher.getTask(task.id)).state !== 'completed') {
                    await replica(honest2, task.id);
                }
                if ((await publisher.getTask(task.id)).state !== 'completed') {
                    await replica(honest1, task.id);
                }
                expect((await publisher.getTask(task.id)).state).toBe('completed');
                worked.push(task.id);
            }
        }
        expect((await publisher.getJob(jobId)).state).toBe('completed');
        // Three leaves and two real merges, each its own replicated task.
        expect(worked.sort()).toEqual([...plan.tasks.map((t) => String(t.id)), mergeSlotId(jobId, 2, 1), mergeSlotId(jobId, 3, 1)].sort());
        const root = await publisher.getFiling(jobId, 3, 1);
        expect(Number(Buffer.from(root.result ?? '', 'base64').toString().trim())).toBe(sieveCount(0, TASKS * 700));

        // Caught: the forger forged on every number it took part in, and not one of its values was filed or paid.
        expect(forger.forgeries).toBeGreaterThan(0);
        for (const taskId of worked) {
            const replication = await publisher.getReplication(taskId);
            const mine = replication.replicas.find((r) => r.executorId === 'rr-forger');
            if (mine !== undefined) {
                expect(['disagreed', undefined]).toContain(mine.verdict);
            }
            expect(replication.replicas.filter((r) => r.verdict === 'agreed').map((r) => r.shard).sort()).toEqual([mspOf(1), mspOf(2)]);
        }
        expect(BigInt((await publisher.getExecutor('rr-forger')).earned)).toBe(0n);
        expect((await publisher.getExecutor('rr-forger')).reputation).toBeLessThan(0);
        const earned = BigInt((await publisher.getExecutor('rr-honest-1')).earned) + BigInt((await publisher.getExecutor('rr-honest-2')).earned);
        expect(earned).toBe(2n * (BigInt(TASKS) * REWARD + 2n * MERGE_REWARD));

        // Every credit minted is in a balance; nothing is left in escrow.
        const views = await Promise.all([publisherAccount, ...new Set(accounts)].map((account) => publisher.getAccount(account)));
        expect(views.reduce((sum, v) => sum + BigInt(v.balance), 0n)).toBe(MINT);
        const publisherView = views[0];
        expect(BigInt(publisherView?.escrowed ?? '0') - BigInt(publisherView?.refunded ?? '0') - earned).toBe(0n);
    }, 300_000);

    it('quorum:2 with no spare replica — a disagreement fails the number and with it the job at once, everything unspent refunded', async () => {
        const honest = await executor(1, 'rf-honest');
        const forging = await executor(3, 'rf-forger', new KeyExtractingForger({ binding }));
        const jobId = 'rf-primes';
        const before = BigInt((await publisher.getAccount(publisherAccount)).balance);
        const plan = await planJob({
            jobId,
            program: primesProgram(),
            mergeProgram: primesProgram(),
            inputs: splitRange(0n, 1400n, 2).map((text) => Buffer.from(text)),
            reward: REWARD,
            mergeReward: MERGE_REWARD,
            shards: [mspOf(1), mspOf(3)],
            requirements: { skills: ['primes'] },
            verify: { policy: 'quorum', k: 2, maxReplicas: 2 },
            leaseMs: 60_000,
            deadline: Date.now() + 3600_000,
            store: new DirectoryStore(path.join(e2e.work, 'bundles-rf')),
        });
        await publishPlan(publisher, plan);
        const [first, second] = plan.tasks.map((t) => String(t.id));
        // Both slots of the first leaf: the honest value and a forgery; no third organization may join.
        await Promise.all([replica(forging, first!), replica(honest, first!)]);
        expect((await publisher.getTask(first!)).state).toBe('failed');
        // The job ended with it, not at its deadline: the other leaf failed unworked, and nothing is held.
        expect((await publisher.getJob(jobId)).state).toBe('failed');
        expect((await publisher.getTask(second!)).state).toBe('failed');
        expect((await publisher.getJobProgress(jobId)).state).toBe('failed');
        expect(BigInt((await publisher.getAccount(publisherAccount)).balance)).toBe(before);
        expect(await replica(honest, second!)).toBeUndefined(); // INVALID_STATE: nothing left to claim
        expect(BigInt((await publisher.getExecutor('rf-honest')).earned)).toBe(0n);
    }, 300_000);
});
