// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TransportError } from '../../gateway/src/client/errors';
import { WorkLoop } from '../../gateway/src/executor';
import type { JobSource, WorkEvent, WorkLedger, WorkLoopOptions, WorkSummary } from '../../gateway/src/executor';
import { DirectoryStore, planJob, publishPlan } from '../../gateway/src/publisher';
import { programHashHex } from '../../gateway/src/bundle';
import { SandboxPool } from '../../gateway/src/sandbox';
import { BINDING, Chain, HOUR } from '../chaincode/harness';
import * as attack from '../fixtures/wasm/attacks';
import type { Actor } from '../chaincode/harness';
import { simulatedLedger } from './simulatedLedger';
import { exampleModule } from '../support/examples';

/**
 * The WorkLoop against the real chaincode (peer simulator) and the real sandbox: it claims ahead
 * within each executor's capacity, only with executors that qualify, resumes its own claims after a
 * restart, stops trying a task whose refusal cannot change, and backs off (bounded) from one that may.
 */

const work = mkdtempSync(path.join(tmpdir(), 'lw-workloop-'));

describe('WorkLoop', () => {
    let chain: Chain;
    let pool: SandboxPool;
    let publisher: Actor;
    let owner: Actor;

    beforeAll(async () => {
        chain = await Chain.start();
        pool = new SandboxPool({ size: 2 });
        await pool.ready();
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'wl-publisher' });
        owner = chain.actor({ mspId: 'Org2MSP', name: 'wl-owner' });
        await chain.mint(publisher, 1_000_000n);
    });
    afterAll(async () => {
        await pool.close();
        await chain.stop();
        rmSync(work, { recursive: true, force: true });
    });

    async function publishOpen(jobId: string, tasks: number, requirements: { skills?: string[] } = {}): Promise<string[]> {
        const inputs = Array.from({ length: tasks }, (_, i) => Buffer.from(`${i * 20_000} ${(i + 1) * 20_000}`));
        const plan = await planJob({ jobId, program: exampleModule('primes'), inputs, keyScope: 'job', reward: 1n, deadline: chain.peer.clock + 24 * HOUR, requirements, store: new DirectoryStore(path.join(work, jobId)) });
        await publishPlan(simulatedLedger(chain, publisher), plan);
        return plan.tasks.map((task) => String(task.id));
    }

    /** The owner's ledger, counting claim attempts per executor and the open claims held at once. */
    function countingLedger(overrides: Partial<WorkLedger> = {}): { ledger: WorkLedger; attempts: Map<string, number>; maxHeld: Map<string, number>; maxHeldTotal: () => number; maxReachingTotal: () => number } {
        const base = simulatedLedger(chain, owner);
        const attempts = new Map<string, number>();
        const held = new Map<string, number>();
        const maxHeld = new Map<string, number>();
        let total = 0;
        let maxTotal = 0;
        let claiming = 0;
        let maxReaching = 0;
        const ledger: WorkLedger = {
            ...base,
            claimTask: async (taskId, executorId) => {
                attempts.set(executorId, (attempts.get(executorId) ?? 0) + 1);
                maxReaching = Math.max(maxReaching, total + ++claiming);
                const task = await base.claimTask(taskId, executorId).finally(() => claiming--);
                held.set(executorId, (held.get(executorId) ?? 0) + 1);
                maxHeld.set(executorId, Math.max(maxHeld.get(executorId) ?? 0, held.get(executorId) ?? 0));
                maxTotal = Math.max(maxTotal, ++total);
                return task;
            },
            submitResult: async (taskId, executorId, submission) => {
                const task = await base.submitResult(taskId, executorId, submission);
                held.set(executorId, (held.get(executorId) ?? 0) - 1);
                total--;
                return task;
            },
            ...overrides,
        };
        return { ledger, attempts, maxHeld, maxHeldTotal: () => maxTotal, maxReachingTotal: () => maxReaching };
    }

    function loop(ledger: WorkLedger, options: Partial<WorkLoopOptions> & Pick<WorkLoopOptions, 'executorIds'>, events: WorkEvent[] = []): WorkLoop {
        return new WorkLoop({ ledger, sandbox: pool, concurrency: 2, binding: BINDING, pollMs: 20, ledgerClock: () => chain.peer.clock, onEvent: (event) => events.push(event), ...options });
    }

    it('claims ahead within each capacity, only with executors that qualify, and finishes the job', async () => {
        await chain.register(owner, 'wl-a', { capacity: 2, skills: ['primes'] });
        await chain.register(owner, 'wl-b', { capacity: 2, skills: ['primes'] });
        await chain.register(owner, 'wl-unskilled', { capacity: 4 });
        await chain.register(owner, 'wl-passive', { capacity: 4, mode: 'passive', skills: ['primes'] });
        const taskIds = await publishOpen('wl-open', 8, { skills: ['primes'] });
        const counting = countingLedger();
        const events: WorkEvent[] = [];
        const summary = await loop(counting.ledger, { executorIds: ['wl-a', 'wl-b', 'wl-unskilled', 'wl-passive'], jobIds: ['wl-open'], untilDone: true }, events).run();

        expect(summary).toMatchObject({ accepted: 8, failed: 0, lostRaces: 0, skipped: 0, rejected: 0 });
        expect(counting.attempts.get('wl-unskilled')).toBeUndefined();
        expect(counting.attempts.get('wl-passive')).toBeUndefined();
        // One claim per task: an executor's claim no longer runs beside its own submit (it reads the claimant's
        // reputation records, which the submit appends to), so none is invalidated and tried again.
        expect((counting.attempts.get('wl-a') ?? 0) + (counting.attempts.get('wl-b') ?? 0)).toBe(8 + summary.conflicts);
        expect(summary.conflicts).toBe(0);
        for (const id of ['wl-a', 'wl-b']) {
            expect(counting.maxHeld.get(id)).toBeLessThanOrEqual(2);
        }
        // More tasks held or being claimed than the sandbox runs at once: the next claim went out while others
        // ran. (Whether it then commits depends on the chaincode: a claim reads the claimant's reputation and
        // payout records, which its own concurrent submit appends to, so on a busy executor it can conflict.)
        expect(counting.maxReachingTotal()).toBeGreaterThan(2);
        for (const taskId of taskIds) {
            expect((await chain.task(taskId)).state).toBe('completed');
        }
    });

    it('resumes the claims a restarted executor still holds instead of claiming around them', async () => {
        await chain.register(owner, 'wl-restarted', { capacity: 1 });
        const [first, second] = await publishOpen('wl-resume', 2);
        // The previous run claimed the first task and died before submitting.
        await simulatedLedger(chain, owner).claimTask(first ?? '', 'wl-restarted');
        const counting = countingLedger();
        const events: WorkEvent[] = [];
        const summary = await loop(counting.ledger, { executorIds: ['wl-restarted'], jobIds: ['wl-resume'], untilDone: true }, events).run();

        expect(summary).toMatchObject({ resumed: 1, accepted: 2, failed: 0, lostRaces: 0 });
        expect(events.filter((e) => e.kind === 'refused')).toEqual([]);
        expect(counting.attempts.get('wl-restarted')).toBe(1); // only the second task was claimed
        expect(await chain.task(first ?? '')).toMatchObject({ state: 'completed', result: { executorId: 'wl-restarted' } });
        expect((await chain.task(second ?? '')).state).toBe('completed');
    });

    it('counts a call the network did not answer as retried, not failed, and finishes the task on a later try', async () => {
        await chain.register(owner, 'wl-turned-away', { capacity: 1 });
        const [taskId] = await publishOpen('wl-turned-away-job', 1);
        const base = simulatedLedger(chain, owner);
        let turnedAway = 0;
        const events: WorkEvent[] = [];
        const ledger: WorkLedger = {
            ...base,
            claimTask: async (id, executorId) => {
                if (turnedAway++ === 0) {
                    throw new TransportError('14 UNAVAILABLE: Stream refused by server', 14, false);
                }
                return base.claimTask(id, executorId);
            },
        };
        const summary = await loop(ledger, { executorIds: ['wl-turned-away'], jobIds: ['wl-turned-away-job'], untilDone: true, backoff: { baseMs: 10, maxMs: 50 } }, events).run();

        expect(summary).toMatchObject({ accepted: 1, failed: 0, retried: 1 });
        expect(events.filter((e) => e.kind === 'error').map((e) => (e as { message: string }).message)).toEqual(['14 UNAVAILABLE: Stream refused by server']);
        expect((await chain.task(taskId ?? '')).state).toBe('completed');
    });

    it('stops trying a task whose refusal cannot change, and backs off, bounded, from one that may', async () => {
        await chain.register(owner, 'wl-stale', { capacity: 1 });
        await chain.register(owner, 'wl-full', { capacity: 1 });
        await publishOpen('wl-gpu', 1, { skills: ['gpu'] });
        const [free] = await publishOpen('wl-busy', 2);
        const base = simulatedLedger(chain, owner);
        // wl-full's one slot is taken by a claim of another process (not visible to its resume).
        await base.claimTask(free ?? '', 'wl-full');
        let staleOnce = 1;
        const counting = countingLedger({
            // A record read before the skill was dropped: the loop believes wl-stale has 'gpu'.
            getExecutor: async (executorId) => {
                const view = await base.getExecutor(executorId);
                return executorId === 'wl-stale' && staleOnce-- > 0 ? { ...view, executor: { ...view.executor, skills: ['gpu'] } } : view;
            },
            listTasksByExecutor: () => Promise.resolve({ items: [], ranks: [], bookmark: '' }),
        });
        const stop = new AbortController();
        const events: WorkEvent[] = [];
        const running = loop(counting.ledger, { executorIds: ['wl-stale'], jobIds: ['wl-gpu'], signal: stop.signal }, events).run();
        const full = loop(counting.ledger, { executorIds: ['wl-full'], jobIds: ['wl-busy'], signal: stop.signal, backoff: { baseMs: 40, maxMs: 320 } }, events).run();
        const backOffs = (): number[] => events.flatMap((e) => (e.kind === 'refused' && e.action === 'back-off' ? [e.retryInMs ?? 0] : []));
        const giveUp = Date.now() + 60_000;
        while ((backOffs().length < 5 || !events.some((e) => e.kind === 'refused' && e.action === 'skip')) && Date.now() < giveUp) {
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        stop.abort();
        const [stale, busy] = await Promise.all([running, full]);

        expect(stale).toMatchObject({ skipped: 1, accepted: 0 });
        expect(counting.attempts.get('wl-stale')).toBe(1);
        expect(events).toContainEqual(expect.objectContaining({ kind: 'refused', code: 'REQUIREMENT_UNMET', action: 'skip', label: 'wl-gpu-1 (wl-stale)' }));
        // Capacity taken: every try is followed by a jittered wait in [ceiling/2, ceiling], the ceiling doubling from 40 ms to 320 ms.
        const waits = backOffs();
        expect(busy.accepted).toBe(0);
        expect(waits.length).toBeGreaterThanOrEqual(5);
        waits.forEach((wait, i) => {
            const ceiling = Math.min(320, 40 * 2 ** i);
            expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
            expect(wait).toBeLessThanOrEqual(ceiling);
        });
        expect(counting.attempts.get('wl-full')).toBe(waits.length);
    });

    /** Counts every ledger call by name (and, for listings, the task records they returned). */
    function callCounting(base: WorkLedger): { ledger: WorkLedger; calls: Map<string, number>; listed: { state: string; pageSize: number; items: number }[] } {
        const calls = new Map<string, number>();
        const listed: { state: string; pageSize: number; items: number }[] = [];
        const ledger = new Proxy(base, {
            get(target, name: string) {
                const original = (target as unknown as Record<string, unknown>)[name];
                if (typeof original !== 'function') {
                    return original;
                }
                return async (...args: unknown[]) => {
                    calls.set(name, (calls.get(name) ?? 0) + 1);
                    const reply: unknown = await (original as (...a: unknown[]) => Promise<unknown>).apply(target, args);
                    if (name === 'listTasksByJob') {
                        listed.push({ state: typeof args[1] === 'string' ? args[1] : '', pageSize: Number(args[2] ?? 100), items: (reply as { items: unknown[] }).items.length });
                    }
                    return reply;
                };
            },
        });
        return { ledger, calls, listed };
    }

    it('looks at an open job at a cost that does not grow with it: no whole-job reads per wake-up', async () => {
        await chain.register(owner, 'wl-cost', { capacity: 2 });
        await publishOpen('wl-cost-open', 12);
        const counting = callCounting(simulatedLedger(chain, owner));
        const summary = await loop(counting.ledger, { executorIds: ['wl-cost'], jobIds: ['wl-cost-open'], untilDone: true }).run();

        expect(summary).toMatchObject({ accepted: 12, failed: 0 });
        // GetJobProgress reads every task of the job; the loop no longer asks for it.
        expect(counting.calls.get('getJobProgress')).toBeUndefined();
        const wakes = counting.calls.get('getJob') ?? 0; // one O(1) read of the job per look
        expect(wakes).toBeGreaterThan(3);
        // Listings: a page of published tasks when the last one was used up, and one-record pages to tell "finished";
        // claimed tasks only by the sweep (at most every sweepEveryMs) while it waits on claims held elsewhere.
        const full = counting.listed.filter((l) => l.pageSize > 1 && l.state !== 'claimed');
        expect(full.every((l) => l.state === 'published')).toBe(true);
        expect(counting.listed.filter((l) => l.pageSize === 1).every((l) => ['claimed', 'assigned', 'published'].includes(l.state))).toBe(true);
        // Each full listing is re-read only once the previous one is used up: far fewer than the looks at the job.
        expect(full.length).toBeLessThan(wakes);
        expect(full.reduce((n, l) => n + l.items, 0)).toBeLessThanOrEqual(12 + 12 * full.length);
    });

    it('works a ranked job with one task listing for all its ranks and the merge tree read once, not per wake-up', async () => {
        const ids = ['wl-rank-a', 'wl-rank-b'];
        for (const id of ids) {
            await chain.register(owner, id, { capacity: 8, mode: 'passive', skills: ['wl-merge'] });
        }
        const inputs = Array.from({ length: 8 }, (_, i) => Buffer.from(`${i * 1000} ${(i + 1) * 1000}`));
        const plan = await planJob({
            jobId: 'wl-ranked',
            program: exampleModule('primes'),
            mergeProgram: exampleModule('primes'),
            inputs,
            keyScope: 'job',
            reward: 1n,
            mergeReward: 1n,
            shards: ['Org2MSP'],
            requirements: { skills: ['wl-merge'] }, // only these two may hold its ranks
            deadline: chain.peer.clock + 24 * HOUR,
            store: new DirectoryStore(path.join(work, 'wl-ranked')),
        });
        await publishPlan(simulatedLedger(chain, publisher), plan);
        const counting = callCounting(simulatedLedger(chain, owner));
        const started = Date.now();
        const summary = await loop(counting.ledger, { executorIds: ids, jobIds: ['wl-ranked'], untilDone: true }).run();
        const elapsed = Date.now() - started;

        expect(summary).toMatchObject({ filed: 8, failed: 0 });
        expect((await chain.evaluate(chain.anyone(), 'queries:GetJob', ['wl-ranked'])).state).toBe('completed');
        expect(counting.calls.get('getJobProgress')).toBeUndefined();
        // Before: every rank listed the whole job to find its task (8 listings), and every wake-up read the tree.
        expect(counting.listed.filter((l) => l.state === '')).toHaveLength(1);
        expect(counting.calls.get('getMergeTree')).toBeLessThanOrEqual(1 + Math.ceil(elapsed / 10_000));
        expect(counting.calls.get('getJob') ?? 0).toBeGreaterThan(counting.calls.get('getMergeTree') ?? 0);
    });

    /**
     * Three organizations' loops on one open job, each with its own executors, all listing the same
     * published tasks. `announce`: claims are reported to every loop as the chaincode's TaskClaimed
     * events would be (JobSource.onTaken), or not at all.
     */
    async function threeLoops(jobId: string, taskCount: number, announce: boolean): Promise<WorkSummary[]> {
        await publishOpen(jobId, taskCount);
        const listeners = new Set<(jobId: string, taskId: string) => void>();
        const base = simulatedLedger(chain, owner);
        const ledger: WorkLedger = {
            ...base,
            claimTask: async (taskId, executorId) => {
                const task = await base.claimTask(taskId, executorId);
                for (const listener of listeners) {
                    listener(task.jobId, task.id);
                }
                return task;
            },
        };
        const source: JobSource = {
            jobs: () => new Map(),
            forget: () => undefined,
            changed: (timeoutMs, signal) => new Promise((resolve) => {
                const timer = setTimeout(resolve, timeoutMs);
                signal?.addEventListener(
                    'abort',
                    () => {
                        clearTimeout(timer);
                        resolve();
                    },
                    { once: true },
                );
            }),
            next: (_jobId, fallbackMs) => new Promise((resolve) => setTimeout(resolve, fallbackMs)),
            ...(announce ? { onTaken: (listener: (jobId: string, taskId: string) => void) => (listeners.add(listener), () => listeners.delete(listener)) } : {}),
        };
        const loops = [1, 2, 3].map((org) => {
            const ids = [`${jobId}-o${org}-a`, `${jobId}-o${org}-b`];
            return { ids, run: () => loop(ledger, { executorIds: ids, jobIds: [jobId], untilDone: true, source }).run() };
        });
        for (const { ids } of loops) {
            for (const id of ids) {
                await chain.register(owner, id, { capacity: 2 });
            }
        }
        const summaries = await Promise.all(loops.map((l) => l.run()));
        expect(listeners.size).toBe(0); // each loop stopped listening when it ended
        return summaries;
    }

    it('spreads organizations over an open job: claims reported by events are not tried again, so far fewer races are lost', async () => {
        const taskCount = 48;
        const lost = (summaries: WorkSummary[]): number => summaries.reduce((n, s) => n + s.lostRaces, 0);
        const accepted = (summaries: WorkSummary[]): number => summaries.reduce((n, s) => n + s.accepted, 0);
        const blind = await threeLoops('wl-spread-blind', taskCount, false);
        const told = await threeLoops('wl-spread-told', taskCount, true);

        expect(accepted(blind)).toBe(taskCount);
        expect(accepted(told)).toBe(taskCount);
        // Without the reports each loop tries the tasks the other two took: about two lost races per task.
        expect(lost(blind)).toBeGreaterThanOrEqual(taskCount / 2);
        // With them a loop only loses a task claimed while its own claim was on the way.
        expect(lost(told) * 3).toBeLessThanOrEqual(lost(blind));
    });

    it('finishes a task whose claim committed although the client got no answer, instead of leaving it held', async () => {
        await chain.register(owner, 'wl-unanswered', { capacity: 8 }); // room to spare: a full executor would look for its own claims anyway
        const taskIds = await publishOpen('wl-unanswered-open', 3);
        const base = simulatedLedger(chain, owner);
        const unanswered: string[] = [];
        const ledger: WorkLedger = {
            ...base,
            claimTask: async (taskId, executorId) => {
                const task = await base.claimTask(taskId, executorId);
                if (unanswered.length === 0) {
                    unanswered.push(taskId); // committed, but the deadline passed before the commit status came
                    throw new TransportError('14 UNAVAILABLE: connection dropped while waiting for the commit status', 14, true);
                }
                return task;
            },
        };
        const events: WorkEvent[] = [];
        // The leases last an hour: without a second look the loop would wait that long (bounded here).
        const summary = await loop(ledger, { executorIds: ['wl-unanswered'], jobIds: ['wl-unanswered-open'], untilDone: true, signal: AbortSignal.timeout(60_000), backoff: { baseMs: 50, maxMs: 200 } }, events).run();

        expect(summary).toMatchObject({ stopped: false, accepted: 3, resumed: 1 });
        expect(events).toContainEqual(expect.objectContaining({ kind: 'resumed', label: `${unanswered[0] ?? ''} (wl-unanswered)` }));
        for (const taskId of taskIds) {
            expect(await chain.task(taskId)).toMatchObject({ state: 'completed', attempts: 0, result: { executorId: 'wl-unanswered' } });
        }
    });

    it('gives a claim back without penalty when the sandbox queue is full, and runs it once a child is free', async () => {
        await chain.register(owner, 'wl-queue', { capacity: 1 });
        const [taskId] = await publishOpen('wl-queue-open', 1);
        const busy = new SandboxPool({ size: 1 });
        await busy.ready();
        const released: string[] = [];
        const base = simulatedLedger(chain, owner);
        const ledger: WorkLedger = { ...base, releaseTask: async (id, executorId) => (released.push(id), base.releaseTask(id, executorId)) };
        const events: WorkEvent[] = [];
        try {
            // A looping program holds the one child for 2 s; runs queued behind it give up after 100 ms.
            const looping = attack.infiniteLoop();
            const hog = busy.run({ programHash: programHashHex(looping), module: looping, argv: [], stdin: new Uint8Array(), seed: 'hog', limits: { wallMs: 2000 } });
            const summary = await loop(ledger, { executorIds: ['wl-queue'], jobIds: ['wl-queue-open'], untilDone: true, sandbox: busy, concurrency: 1, limits: { maxQueueMs: 100 }, backoff: { baseMs: 100, maxMs: 400 } }, events).run();
            expect((await hog).ok).toBe(false);

            expect(summary).toMatchObject({ accepted: 1, failed: 0 });
            expect(summary.queueTimeouts).toBeGreaterThanOrEqual(1);
            expect(released.length).toBe(summary.queueTimeouts);
            expect(events).toContainEqual(expect.objectContaining({ kind: 'outcome', outcome: expect.objectContaining({ kind: 'queue-timeout', released: true }) }));
            // Never reported as a failed run: no attempt counted, no failure noted against the task.
            const task = await chain.task(taskId ?? '');
            expect(task).toMatchObject({ state: 'completed' });
            expect(task.lastFailure).toBeUndefined();
        } finally {
            await busy.close();
        }
    });
});
