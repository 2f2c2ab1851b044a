// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { binding, mspOf, primesProgram, repo, sieveCount, startE2e } from './support/harness';
import type { E2e } from './support/harness';
import type { ConnectionSettings } from '../../network/devnet/src';
import type { LedgerworkClient } from '../../gateway/src/client';
import { WorkLoop } from '../../gateway/src/executor';
import type { WorkEvent, WorkSummary } from '../../gateway/src/executor';
import { DirectoryStore, collectResults, planJob, publishPlan, splitRange, waitForTarget } from '../../gateway/src/publisher';
import { exited } from '../../network/devnet/test/support/spawn';

/**
 * Executors that die: an executor process (the gateway library in a child process, see
 * support/stallingExecutor.ts) is SIGKILLed mid-task while it holds a claim (2.5 s lease) or a rank
 * (15 s). The survivors run the work loop (WorkLoop, one per executor: each acts under its own
 * identity). The open job's tasks are taken over by a new claim (which the taker's loop resumes) or
 * swept by the loops and claimed again; the ranked job's rank is reassigned by the loops' sweep
 * (ranks:Reassign once overdue) to another executor of the same shard, whose loop works it. Both
 * jobs complete to the direct count, every task is paid exactly once, and credits are conserved.
 */

const MINT = 10_000n;
const LEASE_MS = 2500;
/**
 * The ranked job's lease: longer than a loop takes to see a rank handed to it (it reads the merge tree
 * again at most every 10 s), so the new holder files before its rank is overdue a second time.
 */
const RANK_LEASE_MS = 15_000;
/** How often the survivors' loops sweep a job they wait on (expired leases, overdue ranks). */
const SWEEP_EVERY_MS = 1000;
const STALLING = path.join(__dirname, 'support/stallingExecutor.ts');

interface Worker {
    readonly id: string;
    readonly org: number;
    readonly client: LedgerworkClient;
    readonly settings: ConnectionSettings;
    readonly account: string;
}

describe('e2e crash: executors SIGKILLed mid-task', () => {
    let e2e: E2e;
    let publisher: LedgerworkClient;
    let publisherAccount: string;
    let program: Buffer;
    let store: DirectoryStore;
    const workers = new Map<string, Worker>();
    const children: ChildProcess[] = [];

    beforeAll(async () => {
        e2e = await startE2e('crash');
        program = primesProgram();
        store = new DirectoryStore(path.join(e2e.work, 'bundles'));
        const admin = e2e.clientFor(1, 'Admin');
        publisher = e2e.clientFor(1, 'cr-publisher');
        publisherAccount = (await publisher.whoAmI()).account;
        await admin.mint(publisherAccount, MINT);
        // Each executor under its own identity, so a child process can act as exactly that executor.
        const specs = [1, 2].flatMap((org) => [
            ...[1, 2].map((i) => ({ org, name: `cr-open-o${org}-${i}`, mode: 'active' as const })),
            ...[1, 2, 3].map((i) => ({ org, name: `cr-rank-o${org}-${i}`, mode: 'passive' as const })),
        ]);
        await Promise.all(
            [1, 2].map(async (org) => {
                for (const spec of specs.filter((s) => s.org === org)) {
                    const { client, settings } = e2e.userFor(org, spec.name);
                    await client.registerExecutor(spec.name, { mode: spec.mode, skills: ['primes'] });
                    workers.set(spec.name, { id: spec.name, org, client, settings, account: (await client.whoAmI()).account });
                }
            }),
        );
    }, 60_000);
    afterAll(async () => {
        for (const child of children) {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill('SIGKILL');
            }
        }
        await Promise.all(children.map(exited));
        await e2e.close();
    });

    const worker = (id: string): Worker => {
        const found = workers.get(id);
        if (found === undefined) {
            throw new Error(`unknown executor ${id}`);
        }
        return found;
    };

    /** Starts a stalling executor process and resolves once it is running the program (mid-task). */
    const startStalling = async (executorId: string, work: { taskId: string } | { jobId: string; rank: number }): Promise<ChildProcess> => {
        const child = spawn(process.execPath, ['-r', path.join(repo, 'scripts/register-ts.js'), STALLING, JSON.stringify({ settings: worker(executorId).settings, executorId, ...work })], {
            cwd: repo,
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(child);
        await new Promise<void>((resolve, reject) => {
            let out = '';
            let err = '';
            const timer = setTimeout(() => {
                reject(new Error(`${executorId} did not start running within 60 s: ${err}`));
            }, 60_000);
            child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
            child.stdout.on('data', (chunk: Buffer) => {
                out += chunk.toString();
                if (out.includes('running ')) {
                    clearTimeout(timer);
                    resolve();
                }
            });
            child.once('exit', (code, signal) => {
                clearTimeout(timer);
                reject(new Error(`${executorId} exited (${code ?? signal}) before running: ${err}`));
            });
        });
        return child;
    };

    const kill = async (child: ChildProcess): Promise<void> => {
        child.kill('SIGKILL');
        await exited(child);
        expect(child.signalCode).toBe('SIGKILL');
    };

    /** The work loop of one surviving executor (under its own identity) on one job, recording its events. */
    const loopOf = (executorId: string, jobId: string, events: WorkEvent[], signal?: AbortSignal): WorkLoop =>
        new WorkLoop({
            executorIds: [executorId],
            ledger: worker(executorId).client,
            sandbox: e2e.pool,
            concurrency: 2,
            binding,
            jobIds: [jobId],
            untilDone: true,
            pollMs: 250,
            sweepEveryMs: SWEEP_EVERY_MS,
            onEvent: (event) => events.push(event),
            ...(signal === undefined ? {} : { signal }),
        });

    /** Payouts of a job by task id (one entry per payout), over every executor of the test. */
    const taskPayouts = async (jobId: string): Promise<Map<string, string[]>> => {
        const paid = new Map<string, string[]>();
        for (const { id, client } of workers.values()) {
            for (const delta of (await client.listPayouts(id, 1000)).items) {
                if (delta.jobId === jobId && delta.taskId !== undefined) {
                    paid.set(delta.taskId, [...(paid.get(delta.taskId) ?? []), id]);
                }
            }
        }
        return paid;
    };

    /** Every credit minted is in some balance or still escrowed (escrowed − refunded − paid out). */
    const expectConserved = async (): Promise<void> => {
        const accounts = [publisherAccount, ...new Set([...workers.values()].map((w) => w.account))];
        const balances = await Promise.all(accounts.map(async (account) => BigInt((await publisher.getAccount(account)).balance)));
        const publisherView = await publisher.getAccount(publisherAccount);
        let paidOut = 0n;
        for (const account of accounts.slice(1)) {
            paidOut += BigInt((await publisher.getAccount(account)).earned);
        }
        const remainingEscrow = BigInt(publisherView.spent) - paidOut;
        expect(remainingEscrow).toBe(0n);
        expect(balances.reduce((a, b) => a + b, 0n) + remainingEscrow).toBe(MINT);
    };

    it('open job: a killed claimant’s tasks are taken over after the lease and swept, each paid once', async () => {
        const jobId = 'cr-open';
        const plan = await planJob({ jobId, program, inputs: splitRange(0n, 600n, 2).map((text) => Buffer.from(text)), reward: 5n, leaseMs: LEASE_MS, deadline: Date.now() + 3600_000, store });
        await publishPlan(publisher, plan);
        const [task1, task2] = plan.tasks.map((task) => String(task.id));
        if (task1 === undefined || task2 === undefined) {
            throw new Error('two tasks expected');
        }
        const [victimA, victimB, takerA, takerB] = ['cr-open-o1-1', 'cr-open-o2-1', 'cr-open-o1-2', 'cr-open-o2-2'];
        const [childA, childB] = await Promise.all([startStalling(victimA, { taskId: task1 }), startStalling(victimB, { taskId: task2 })]);
        const held = await Promise.all([publisher.getTask(task1), publisher.getTask(task2)]);
        expect(held.map((t) => ({ state: t.state, claimant: t.claim?.executorId }))).toEqual([
            { state: 'claimed', claimant: victimA },
            { state: 'claimed', claimant: victimB },
        ]);
        await Promise.all([kill(childA), kill(childB)]);
        const expiry = Math.max(...held.map((t) => t.claim?.leaseExpiresAt ?? 0));
        // While the lease runs, the dead claimant keeps the task (asked only with a second to spare, so a slow machine cannot take it over here).
        if (Date.now() < Math.min(...held.map((t) => t.claim?.leaseExpiresAt ?? 0)) - 1000) {
            await expect(worker(takerA).client.claimTask(task2, takerA)).rejects.toMatchObject({ code: 'ALREADY_CLAIMED' });
        }
        await sleep(Math.max(0, expiry - Date.now()) + 100);

        // Task 2: taken over by a new claim, which the taker's work loop finds held and finishes.
        const takeover = await worker(takerA).client.claimTask(task2, takerA);
        expect(takeover).toMatchObject({ state: 'claimed', attempts: 1, claim: { executorId: takerA }, lastFailure: { kind: 'lease-expired', executorId: victimB } });
        // Task 1: still held by the dead victimA; the loops sweep it (nothing of theirs in flight) and one claims it again.
        const events: WorkEvent[] = [];
        const summaries = await Promise.all([loopOf(takerA, jobId, events).run(), loopOf(takerB, jobId, events).run()]);
        const total = (key: keyof Omit<WorkSummary, 'stopped'>): number => summaries.reduce((n, summary) => n + summary[key], 0);
        expect(summaries[0]).toMatchObject({ resumed: 1 });
        expect(total('accepted')).toBe(2);
        // Every task run ended accepted (a call the loaded devnet refused is tried again, not a failed task).
        expect(events.flatMap((e) => (e.kind === 'outcome' && e.outcome.kind !== 'accepted' ? [e] : []))).toEqual([]);
        expect(events).toContainEqual(expect.objectContaining({ kind: 'swept', jobId, leasesExpired: 1 }));
        expect(await publisher.getTask(task2)).toMatchObject({ state: 'completed', attempts: 1, lastFailure: { kind: 'lease-expired', executorId: victimB }, result: { executorId: takerA } });
        const retaken = await publisher.getTask(task1);
        expect(retaken).toMatchObject({ state: 'completed', attempts: 1, lastFailure: { kind: 'lease-expired', executorId: victimA } });
        const task1Taker = retaken.result?.executorId ?? '';
        expect([takerA, takerB]).toContain(task1Taker);

        const results = await collectResults(publisher, jobId);
        expect([...results.values()].reduce((sum, bytes) => sum + Number(bytes.toString()), 0)).toBe(sieveCount(0, 600));
        expect((await publisher.getJobProgress(jobId)).finished).toBe(true);
        expect(Object.fromEntries(await taskPayouts(jobId))).toEqual({ [task1]: [task1Taker], [task2]: [takerA] });
        for (const victim of [victimA, victimB]) {
            expect((await publisher.listReputation(victim)).items.map((d) => ({ reason: d.reason, negative: d.delta < 0 }))).toEqual([{ reason: 'lease-expired', negative: true }]);
        }
        await expectConserved();
    }, 180_000);

    it('ranked job: a killed rank holder’s rank is reassigned within its shard and the job completes, each task paid once', async () => {
        const jobId = 'cr-ranked';
        const n = 4;
        const plan = await planJob({
            jobId,
            program,
            mergeProgram: program,
            inputs: splitRange(0n, 1000n, n).map((text) => Buffer.from(text)),
            reward: 4n,
            mergeReward: 1n,
            mode: 'combined',
            shards: [mspOf(1), mspOf(2)],
            requirements: { skills: ['primes'] },
            leaseMs: RANK_LEASE_MS,
            deadline: Date.now() + 3600_000,
            store,
        });
        await publishPlan(publisher, plan);
        const tree = await publisher.getMergeTree(jobId);
        // Rank 2 computes leaf 2, then merges (1,1) with it into (2,1), which rank 4 waits for.
        const victimRank = 2;
        const victim = tree.holders.find((h) => h.rank === victimRank);
        if (victim === undefined) {
            throw new Error('no holder of rank 2');
        }
        const child = await startStalling(victim.executorId, { jobId, rank: victimRank });
        // Every other executor runs its work loop (open ones hold ranks too): those holding ranks work them, and any may be handed the dead one's.
        const stop = new AbortController();
        const bound = setTimeout(() => {
            stop.abort();
        }, 150_000);
        const events: WorkEvent[] = [];
        const survivors = [...workers.keys()].filter((id) => id !== victim.executorId);
        const loops = Promise.all(survivors.map((id) => loopOf(id, jobId, events, stop.signal).run()));
        loops.catch(() => undefined);
        let summaries: WorkSummary[];
        try {
            await kill(child);
            // Overdue once (1,1) is filed and the lease has run out since: the loops' sweep moves the rank, its new
            // holder's loop works it, and the loops end when the job has completed (stopped only by the bound).
            summaries = await loops;
        } finally {
            clearTimeout(bound);
            stop.abort();
        }
        expect(summaries.map((summary) => summary.stopped)).toEqual(survivors.map(() => false));
        expect((await waitForTarget(publisher, jobId, n, { pollMs: 100 })).toString()).toBe(`${sieveCount(0, 1000)}\n`);
        expect(summaries.reduce((sum, s) => sum + s.filed, 0)).toBe(n); // ranks 1, 3, 4 and the reassigned 2
        // Every rank run ended filed (a call the loaded devnet refused is tried again, not a failed rank).
        expect(events.flatMap((e) => (e.kind === 'outcome' && e.outcome.kind !== 'filed' ? [e] : []))).toEqual([]);
        expect(events).toContainEqual(expect.objectContaining({ kind: 'swept', jobId, ranksReassigned: [victimRank] }));
        const moved = (await publisher.getMergeTree(jobId)).holders.find((h) => h.rank === victimRank);
        expect(moved).toMatchObject({ rank: victimRank, shard: victim.shard, reassignments: 1 });
        const newHolder = moved?.executorId ?? '';
        expect(newHolder).not.toBe(victim.executorId);
        expect(worker(newHolder).settings.mspId).toBe(victim.shard);
        expect((await publisher.getJob(jobId)).state).toBe('completed');
        const payouts = await taskPayouts(jobId);
        expect([...payouts.keys()].sort()).toEqual(plan.tasks.map((t) => String(t.id)).sort());
        for (const [taskId, paidTo] of payouts) {
            expect({ taskId, count: paidTo.length }).toEqual({ taskId, count: 1 });
            expect(paidTo).not.toContain(victim.executorId);
        }
        expect((await publisher.listReputation(victim.executorId)).items.filter((d) => d.jobId === jobId).map((d) => d.reason)).toEqual(['lease-expired']);
        await expectConserved();
    }, 180_000);
});

