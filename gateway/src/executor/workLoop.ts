// SPDX-License-Identifier: Apache-2.0
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Binding, JobRecord, TaskRecord } from '@ledgerwork/core';
import { ChaincodeError, CommitFailedError, LedgerworkGatewayError, TransportError } from '../client/errors';
import type { ExecutorView, LedgerworkClient } from '../client/ledgerworkClient';
import { JobSweeper } from '../client/sweep';
import type { SweepOutcome, SweepPort } from '../client/sweep';
import { Executor } from './executor';
import type { LedgerPort, Outcome, ResultSource, Runner } from './executor';
import type { ReplicaJournal } from './replicaJournal';
import type { ContentFetcher } from './programs';
import type { RunLimits } from '../sandbox';

/** The ledger operations the work loop uses (LedgerworkClient provides them). */
export type WorkLedger = LedgerPort & SweepPort & Pick<LedgerworkClient, 'getExecutor' | 'listTasksByExecutor'>;

/**
 * Where jobs come from besides the ones named in `jobIds` (JobFollower provides it): the jobs to
 * look at with a generation, a way to drop one that has nothing for us now, and wake-ups.
 */
export interface JobSource {
    jobs(): Map<string, number>;
    forget(jobId: string, generation: number): void;
    /** Resolves when there is news, after `timeoutMs`, or when `signal` aborts. */
    changed(timeoutMs: number, signal?: AbortSignal): Promise<void>;
    /** Resolves at the next event of `jobId` (a filing; of `awaiting`, when given), or after `fallbackMs`. */
    next(jobId: string, fallbackMs: number, awaiting?: { readonly y: number; readonly x: number }): Promise<void>;
    /**
     * Reports each open task a claim took, whoever claimed it (TaskClaimed events); returns the
     * function that stops the reports. Every organization's loop lists the same published tasks:
     * without this a loop tries each task the others took and loses the race for it.
     */
    onTaken?(listener: (jobId: string, taskId: string) => void): () => void;
}

/**
 * How the tasks of a job are taken and finished — the seam for verification policies. The loop
 * decides which executor tries which task and when; a workflow decides what taking and finishing
 * mean (one claim and one signed submission for `verify: signature`; a replica slot, commit and
 * reveal for replicated verification).
 */
export interface TaskWorkflow {
    /** The tasks an executor may try to take now (default: the job's published tasks). */
    candidates?(job: JobRecord, ledger: WorkLedger): Promise<readonly TaskRecord[]>;
    /** Takes the task for the executor; a refusal is thrown as ChaincodeError. */
    take(executor: Executor, taskId: string): Promise<TaskRecord>;
    /**
     * Works a task the executor holds to its end and says what became of it. Also used for tasks
     * found held at start (a restarted executor resumes its own claims).
     */
    finish(executor: Executor, task: TaskRecord): Promise<Outcome>;
}

/** One claim, one run, one signed submission (SPEC §3); for a replicated task a replica slot, commit, then reveal (Executor.runClaimed). */
export const signatureWorkflow: TaskWorkflow = {
    take: (executor, taskId) => executor.claim(taskId),
    finish: (executor, task) => executor.runClaimed(task),
};

/** The workflow of a job by its verification policy; undefined: this process cannot work it. */
export function defaultWorkflowFor(job: JobRecord): TaskWorkflow | undefined {
    // Replicated tasks (quorum, credibility) take the same claim; Executor.runClaimed then commits and reveals.
    const policy: string = typeof job.verify === 'string' ? job.verify : job.verify.policy;
    return ['signature', 'quorum', 'credibility'].includes(policy) ? signatureWorkflow : undefined;
}

/**
 * Whether a job is worked by its rank holders. A ranked job under a replicated policy is not: its
 * tasks and, as their children are accepted, its merge tasks are claimed like open tasks.
 */
function byRanks(job: JobRecord): boolean {
    return job.assignment === 'ranked' && job.verify === 'signature';
}

export interface WorkLoopOptions {
    /** The executors this process runs; all are registered and owned by the ledger's identity. */
    readonly executorIds: readonly string[];
    readonly ledger: WorkLedger;
    readonly sandbox: Runner;
    /** Runs the sandbox performs at once (its pool size): open tasks in flight are kept at twice this, so a claimed task is ready when a run ends. */
    readonly concurrency: number;
    readonly binding: Binding;
    /** Jobs to look at until they end. */
    readonly jobIds?: readonly string[];
    /**
     * Most ranks running at once across this loop's executors (default: no bound beyond each
     * executor's capacity). Ranks start lowest first, and a rank only waits for lower ones, so any
     * bound keeps jobs moving; with hundreds of ranks per executor set it keeps them from all asking
     * the peer at once.
     */
    readonly maxRanks?: number;
    /** More jobs (chaincode events); also wakes ranks waiting for a filing. */
    readonly source?: JobSource;
    /** Wakes ranks waiting for a filing when there is no source (FilingWaker); polling remains the fallback. */
    readonly waker?: Pick<JobSource, 'next'>;
    /** Ends once every job looked at has ended and nothing is in flight. */
    readonly untilDone?: boolean;
    /** How often jobs are looked at again without news (default 1 s). */
    readonly pollMs?: number;
    /** Stops claiming; work in flight finishes, waiting ranks stop (their numbers are left to reassignment). */
    readonly signal?: AbortSignal;
    readonly fetcher?: ContentFetcher;
    readonly limits?: RunLimits;
    /** The workflow of each job (default: by its verification policy). */
    readonly workflowFor?: (job: JobRecord) => TaskWorkflow | undefined;
    /** Bounds of the jittered backoff after a refusal that may change (default 250 ms .. 15 s). */
    readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
    /** Least time between two sweeps of a job it waits on (default 10 s; reads only when nothing is due). */
    readonly sweepEveryMs?: number;
    readonly onEvent?: (event: WorkEvent) => void;
    /** The ledger's time in ms (default the host clock, which Fabric's transaction timestamps follow): judges deadlines and leases. */
    readonly ledgerClock?: () => number;
    /** Where replicas of replicated tasks are sealed before they commit (required to work such jobs). */
    readonly journal?: ReplicaJournal;
    /** Replaces running programs and signing (the adversary suites plug a forger in). */
    readonly resultSource?: ResultSource;
}

/** What the loop did, as it happens. */
export type WorkEvent =
    | { readonly kind: 'outcome'; readonly label: string; readonly outcome: Outcome }
    | { readonly kind: 'resumed'; readonly label: string; readonly leaseExpiresAt: number }
    /** `skip`: it cannot change by retrying — that executor leaves that task; `lost-race`: another executor has it; `back-off`: tried again after `retryInMs`. */
    | { readonly kind: 'refused'; readonly label: string; readonly code: string; readonly detail: string; readonly action: 'skip' | 'lost-race' | 'back-off'; readonly retryInMs?: number }
    | { readonly kind: 'error'; readonly label: string; readonly message: string; readonly retryInMs?: number }
    | ({ readonly kind: 'swept'; readonly jobId: string } & SweepOutcome)
    | { readonly kind: 'job-ended'; readonly jobId: string; readonly state: string }
    | { readonly kind: 'unsupported'; readonly jobId: string; readonly detail: string };

/** What `run` did, at the end. */
export interface WorkSummary {
    accepted: number;
    filed: number;
    failed: number;
    rejected: number;
    lostRaces: number;
    /** Refusals that stopped an executor trying a task (requirements, shard, deadline). */
    skipped: number;
    /** Own claims found at start (or later) under a live lease and finished. */
    resumed: number;
    /** Steps invalidated by concurrent transactions more often than the client re-runs them (not failures: tried again). */
    conflicts: number;
    /** Steps the network did not answer (unreachable, timed out) and that were tried again: not failures unless nothing ever succeeds. */
    retried: number;
    /** Replicas revealed (replicated jobs); whether their value was accepted shows in the task. */
    revealed: number;
    /** Runs that found no free sandbox child within its queue bound (never ran: claims released without penalty, ranks tried again). */
    queueTimeouts: number;
    stopped: boolean;
}

/** One line for a work event (the CLI prints these). */
export function describeWorkEvent(event: WorkEvent): string {
    switch (event.kind) {
        case 'outcome':
            return describeOutcome(event.label, event.outcome);
        case 'resumed':
            return `resuming ${event.label} (own claim, lease until ${new Date(event.leaseExpiresAt).toISOString()})`;
        case 'refused':
            if (event.action === 'lost-race') {
                return `lost ${event.label}: ${event.code}`;
            }
            return `${event.action === 'skip' ? 'skipped' : 'deferred'} ${event.label}: ${event.code} ${event.detail}${event.retryInMs === undefined ? '' : ` (again in ${event.retryInMs} ms)`}`;
        case 'error':
            return `${event.label}: ${event.message}${event.retryInMs === undefined ? '' : ` (again in ${event.retryInMs} ms)`}`;
        case 'swept':
            return describeSweep(event.jobId, event);
        case 'job-ended':
            return `job ${event.jobId} ended (${event.state}): nothing more to do there`;
        case 'unsupported':
            return `job ${event.jobId} left alone: ${event.detail}`;
    }
}

function describeSweep(jobId: string, swept: SweepOutcome): string {
    const parts = [`${swept.leasesExpired} expired lease${swept.leasesExpired === 1 ? '' : 's'}`];
    if (swept.jobsExpired.length > 0) {
        parts.push(`expired ${swept.jobsExpired.join(', ')}`);
    }
    if (swept.ranksReassigned.length > 0) {
        parts.push(`reassigned rank${swept.ranksReassigned.length === 1 ? '' : 's'} ${swept.ranksReassigned.join(', ')}`);
    }
    return `swept for ${jobId}: ${parts.join(', ')}`;
}

function describeOutcome(label: string, outcome: Outcome): string {
    switch (outcome.kind) {
        case 'accepted':
            return `accepted ${label}`;
        case 'filed':
            return `filed ${label} up to (${outcome.last.y}, ${outcome.last.x})`;
        case 'rejected':
            return `rejected ${label}: ${outcome.code} ${outcome.detail}`;
        case 'stopped':
            return `stopped ${label}: ${outcome.detail}`;
        case 'revealed':
            return `revealed ${label}${outcome.settlement === 'open' ? ' (waiting for other replicas)' : `: task ${outcome.settlement}`}`;
        case 'closed':
            return `replica ${label} closed: ${outcome.detail}`;
        case 'queue-timeout':
            return `not run ${label} (${outcome.released ? 'claim released' : 'tried again later'}): ${outcome.detail}`;
        default:
            return `${outcome.kind} ${label}: ${outcome.detail}`;
    }
}

/** A bounded, jittered exponential backoff. */
class Backoff {
    #attempts = 0;
    until = 0;

    constructor(private readonly bounds: { readonly baseMs: number; readonly maxMs: number }) {}

    /** Records a failure; returns the wait before the next try. */
    fail(now: number): number {
        const ceiling = Math.min(this.bounds.maxMs, this.bounds.baseMs * 2 ** Math.min(this.#attempts, 20));
        this.#attempts++;
        const wait = Math.ceil(ceiling / 2 + Math.random() * (ceiling / 2));
        this.until = now + wait;
        return wait;
    }

    reset(): void {
        this.#attempts = 0;
        this.until = 0;
    }
}

/** One executor of this process. */
interface Worker {
    readonly id: string;
    readonly executor: Executor;
    view: ExecutorView | undefined;
    /** Open tasks it holds or is taking (claim, run, submit). */
    held: number;
    /** Task ids it holds or is taking. */
    readonly tasks: Set<string>;
    /** Ranks running now. */
    ranks: number;
    readonly backoff: Backoff;
}

/** A job being worked. */
interface JobWork {
    readonly job: JobRecord;
    readonly workflow: TaskWorkflow;
    /** Tasks to try, from the last listing (a task leaves when someone takes it). */
    candidates: TaskRecord[];
    /** The listing is used up: ask the ledger again. */
    exhausted: boolean;
    /** Open tasks of this job held or being taken here. */
    inFlight: number;
    /** A ranked job's merge tree as last read (holders, filings) and when: read again every TREE_MAX_AGE_MS or after a sweep moved ranks. */
    tree?: { readonly holders: readonly { readonly rank: number; readonly executorId: string }[]; readonly filed: number; readonly readAt: number };
    /** A ranked job's tasks by position, listed once for all its ranks here. */
    tasksByIndex?: Promise<Map<number, TaskRecord>>;
}

/** A rank to work: started in (job createdAt, job id, rank) order so the lowest unfinished rank always runs. */
interface RankWork {
    readonly job: JobRecord;
    readonly rank: number;
    readonly executorId: string;
    readonly label: string;
}

/** How old the executors' records (reputation, status, capacity) may get before they are read again. */
const VIEW_MAX_AGE_MS = 10_000;
/**
 * How old a ranked job's merge tree may get before it is read again. It reads every rank and filing
 * of the job, so it is not read on every wake-up: the holders only change when a sweep reassigns an
 * overdue rank (which takes a lease to become due), and the ranks wait on filings themselves.
 */
const TREE_MAX_AGE_MS = 10_000;
const DEFAULT_SWEEP_EVERY_MS = 10_000;
const LIVE_STATES: readonly JobRecord['state'][] = ['publishing', 'open'];
/** Published tasks listed at once for an open job (one evaluation; the next page when these are used up). */
const OPEN_PAGE = 1000;

/**
 * The work loop of a set of executors: finds work in the jobs named and the jobs a source (chaincode
 * events) brings, and keeps the sandbox busy — it claims the next task while the current ones run
 * (open tasks in flight = twice the sandbox's runs, each executor within its capacity), so claims
 * and submissions overlap with computing. An executor only tries tasks whose shard, skills and
 * reputation it meets. A refusal that cannot change by retrying stops that executor trying that
 * task; others back off (bounded, jittered). At start it resumes the tasks its executors still hold
 * under a live lease. Ranks are worked concurrently up to each executor's capacity. It sweeps
 * expired leases and deadlines of the jobs it waits on. Per-task work goes through a TaskWorkflow
 * chosen by the job's verification policy.
 */
export class WorkLoop {
    readonly summary: WorkSummary = { accepted: 0, filed: 0, failed: 0, rejected: 0, lostRaces: 0, skipped: 0, resumed: 0, conflicts: 0, retried: 0, revealed: 0, queueTimeouts: 0, stopped: false };
    readonly #options: WorkLoopOptions;
    readonly #workers = new Map<string, Worker>();
    readonly #jobs = new Map<string, JobWork>();
    readonly #ended = new Set<string>();
    readonly #inFlight = new Set<Promise<void>>();
    /** `executor\0task` pairs that will not work (requirements, shard) and tasks past their deadline. */
    readonly #refused = new Set<string>();
    readonly #ranksStarted = new Set<string>();
    readonly #ranksFinished = new Set<string>();
    readonly #rankQueue: RankWork[] = [];
    readonly #rankBackoff = new Map<string, Backoff>();
    #openInFlight = 0;
    /** Tasks held or being taken here (a listing made while a claim commits still shows them published). */
    readonly #tasksInFlight = new Set<string>();
    /** Per job, the tasks claims took since its last listing began (JobSource.onTaken): not tried. */
    readonly #taken = new Map<string, Set<string>>();
    #wake = new AbortController();
    readonly #sweepers = new Map<string, JobSweeper>();
    #viewsReadAt = Date.now();

    constructor(options: WorkLoopOptions) {
        if (options.executorIds.length === 0) {
            throw new TypeError('the work loop needs at least one executor');
        }
        if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) {
            throw new TypeError(`concurrency must be a positive integer, not ${String(options.concurrency)}`);
        }
        if (options.maxRanks !== undefined && (!Number.isSafeInteger(options.maxRanks) || options.maxRanks < 1)) {
            throw new TypeError(`maxRanks must be a positive integer, not ${String(options.maxRanks)}`);
        }
        this.#options = options;
        const bounds = options.backoff ?? { baseMs: 250, maxMs: 15_000 };
        for (const id of new Set(options.executorIds)) {
            const executor = new Executor({
                executorId: id,
                ledger: options.ledger,
                sandbox: options.sandbox,
                binding: options.binding,
                pollMs: Math.min(this.#pollMs, 500),
                ...optional('signal', options.signal),
                ...optional('fetcher', options.fetcher),
                ...optional('limits', options.limits),
                ...optional('waker', options.source ?? options.waker),
                ...optional('journal', options.journal),
                ...optional('source', options.resultSource),
                taskAt: (job, index) => this.#taskAt(job, index),
            });
            this.#workers.set(id, { id, executor, view: undefined, held: 0, tasks: new Set(), ranks: 0, backoff: new Backoff(bounds) });
        }
    }

    #ledgerNow(): number {
        return (this.#options.ledgerClock ?? Date.now)();
    }

    get #pollMs(): number {
        return this.#options.pollMs ?? 1000;
    }

    get #maxOpenInFlight(): number {
        return this.#options.concurrency * 2;
    }

    /** Works until stopped (or, with `untilDone`, until every job looked at has ended); resolves with the summary. */
    async run(): Promise<WorkSummary> {
        const stopTaken = this.#options.source?.onTaken?.((jobId, taskId) => {
            this.#taken.get(jobId)?.add(taskId);
        });
        try {
            return await this.#run();
        } finally {
            stopTaken?.();
        }
    }

    async #run(): Promise<WorkSummary> {
        const signal = this.#options.signal;
        await Promise.all([...this.#workers.values()].map((worker) => this.#refreshView(worker).catch((err: unknown) => this.#transient(worker.id, err))));
        let resumed = await this.#resumeOwnClaims().then(
            () => true,
            (err: unknown) => this.#transient('resuming own claims', err),
        );
        this.#resumeReplicas();
        while (signal?.aborted !== true) {
            if (this.#wake.signal.aborted) {
                this.#wake = new AbortController();
            }
            if (!resumed) {
                resumed = await this.#resumeOwnClaims().then(
                    () => true,
                    (err: unknown) => this.#transient('resuming own claims', err),
                );
            }
            const live = await this.#lookAtJobs();
            this.#pump();
            if (this.#options.untilDone === true && live === 0 && this.#inFlight.size === 0) {
                break;
            }
            const wait = AbortSignal.any([...(signal === undefined ? [] : [signal]), this.#wake.signal]);
            const timeout = this.#nextWakeIn();
            await (this.#options.source === undefined ? sleep(timeout, undefined, { signal: wait }).catch(() => undefined) : this.#options.source.changed(timeout, wait));
        }
        this.summary.stopped = signal?.aborted === true;
        while (this.#inFlight.size > 0) {
            await Promise.allSettled([...this.#inFlight]);
        }
        return this.summary;
    }

    /** How long the loop may sleep: the poll interval, or less when a backoff ends sooner. */
    #nextWakeIn(): number {
        const now = Date.now();
        let soonest = now + this.#pollMs;
        for (const worker of this.#workers.values()) {
            if (worker.backoff.until > now) {
                soonest = Math.min(soonest, worker.backoff.until);
            }
        }
        for (const backoff of this.#rankBackoff.values()) {
            if (backoff.until > now) {
                soonest = Math.min(soonest, backoff.until);
            }
        }
        return Math.max(1, soonest - now);
    }

    /** Reports a transport failure (tried again next round) and returns false; anything else is rethrown. */
    #transient(label: string, err: unknown): false {
        if (!(err instanceof LedgerworkGatewayError) || err instanceof ChaincodeError) {
            throw err;
        }
        this.#emit({ kind: 'error', label, message: err.message, retryInMs: this.#pollMs });
        return false;
    }

    #emit(event: WorkEvent): void {
        this.#options.onEvent?.(event);
    }

    /** Reveals, in the background, the replicas sealed before a stop or crash (Executor.resumeReplicas). */
    #resumeReplicas(): void {
        if (this.#options.journal === undefined) {
            return;
        }
        for (const worker of this.#workers.values()) {
            this.#track(
                worker.executor.resumeReplicas().then((outcomes) => {
                    for (const outcome of outcomes) {
                        this.summary.resumed++;
                        this.#count(`${'taskId' in outcome ? outcome.taskId : 'replica'} (${worker.id})`, outcome);
                    }
                }),
                () => undefined,
            );
        }
    }

    async #refreshView(worker: Worker): Promise<void> {
        worker.view = await this.#options.ledger.getExecutor(worker.id);
    }

    /** Finishes the tasks the executors hold under a live lease that nothing here is working on. */
    async #resumeOwnClaims(): Promise<void> {
        for (const worker of this.#workers.values()) {
            let bookmark = '';
            do {
                const page = await this.#options.ledger.listTasksByExecutor(worker.id, 100, bookmark);
                for (const task of page.items) {
                    const claim = task.claim;
                    if (task.state !== 'claimed' || claim?.executorId !== worker.id || claim.leaseExpiresAt <= this.#ledgerNow() || worker.tasks.has(task.id)) {
                        continue;
                    }
                    const work = await this.#jobWork(task.jobId);
                    if (work === undefined) {
                        continue;
                    }
                    this.summary.resumed++;
                    const label = `${task.id} (${worker.id})`;
                    this.#emit({ kind: 'resumed', label, leaseExpiresAt: claim.leaseExpiresAt });
                    this.#startOpen(worker, work, task, label, async () => work.workflow.finish(worker.executor, task));
                }
                bookmark = page.bookmark;
            } while (bookmark !== '');
        }
    }

    /** The job (read once: what the loop uses of it never changes) with its workflow; undefined when no workflow fits. */
    async #jobWork(jobId: string, read?: JobRecord): Promise<JobWork | undefined> {
        const known = this.#jobs.get(jobId);
        if (known !== undefined) {
            return known;
        }
        const job = read ?? (await this.#options.ledger.getJob(jobId));
        const workflow = (this.#options.workflowFor ?? defaultWorkflowFor)(job);
        if (workflow === undefined) {
            this.#emit({ kind: 'unsupported', jobId, detail: `its verification policy ${typeof job.verify === 'string' ? job.verify : job.verify.policy} is not one this executor works` });
            return undefined;
        }
        const work: JobWork = { job, workflow, candidates: [], exhausted: true, inFlight: 0 };
        this.#jobs.set(jobId, work);
        return work;
    }

    /** Looks at every job: starts ranks, lists claimable tasks when the last listing is used up. Returns how many are live. */
    async #lookAtJobs(): Promise<number> {
        const stale = Date.now() - this.#viewsReadAt >= VIEW_MAX_AGE_MS;
        if (stale) {
            this.#viewsReadAt = Date.now();
        }
        // Reputation, status and capacity change over time (an admin reinstates, payouts add up).
        await Promise.all([...this.#workers.values()].filter((worker) => stale || worker.view === undefined).map((worker) => this.#refreshView(worker).catch(() => undefined)));
        const source = this.#options.source;
        const targets = new Map<string, number | undefined>([...(source?.jobs() ?? []), ...(this.#options.jobIds ?? []).map((id): [string, undefined] => [id, undefined])]);
        let live = 0;
        for (const [jobId, generation] of targets) {
            const status = this.#ended.has(jobId) ? 'ended' : await this.#lookAtSafely(jobId);
            live += status === 'ended' ? 0 : 1;
            if (generation !== undefined && status !== 'live') {
                source?.forget(jobId, generation);
            }
        }
        return live;
    }

    /** `#lookAt`, with a job that does not exist counted as ended and a transport failure as live (tried again). */
    async #lookAtSafely(jobId: string): Promise<'ended' | 'idle' | 'live'> {
        try {
            return await this.#lookAt(jobId);
        } catch (err) {
            if (err instanceof ChaincodeError && err.code === 'NOT_FOUND') {
                this.#emit({ kind: 'error', label: jobId, message: err.message });
                return 'ended';
            }
            if (!(err instanceof LedgerworkGatewayError)) {
                throw err;
            }
            this.#emit({ kind: 'error', label: jobId, message: err.message, retryInMs: this.#pollMs });
            return 'live';
        }
    }

    /**
     * One look at a job, at a cost that does not grow with the job: its record (O(1)); for an open
     * job a page of its published tasks when the last one is used up (and, once none is left, one
     * task of each unfinished state to tell "finished" from "others still hold some"); for a ranked
     * job its merge tree at most every TREE_MAX_AGE_MS.
     */
    async #lookAt(jobId: string): Promise<'ended' | 'idle' | 'live'> {
        const job = await this.#options.ledger.getJob(jobId);
        if (!LIVE_STATES.includes(job.state)) {
            this.#endJob(jobId, job.state);
            return 'ended';
        }
        const work = await this.#jobWork(jobId, job);
        if (work === undefined) {
            return 'idle';
        }
        const now = this.#ledgerNow();
        const sweeper = this.#sweepers.get(jobId) ?? new JobSweeper(this.#options.ledger, jobId, this.#options.sweepEveryMs ?? DEFAULT_SWEEP_EVERY_MS, now);
        this.#sweepers.set(jobId, sweeper);
        if (now >= work.job.deadline) {
            await this.#sweep(jobId); // past its deadline: the sweep ends it and refunds
            return 'live';
        }
        const status = byRanks(work.job) ? await this.#lookAtRanks(work, sweeper) : await this.#lookAtOpen(work, job);
        if (status === 'ended') {
            this.#endJob(jobId, 'finished');
            return 'ended';
        }
        if (byRanks(work.job) ? status === 'live' : work.candidates.length === 0) {
            // Waiting (on siblings' filings, or on tasks others hold — a dead claimant's too): settle what has run out of time.
            await this.#sweep(jobId);
        }
        return status;
    }

    #endJob(jobId: string, state: string): void {
        this.#ended.add(jobId);
        this.#jobs.delete(jobId);
        this.#sweepers.delete(jobId);
        this.#taken.delete(jobId);
        for (let i = this.#rankQueue.length - 1; i >= 0; i--) {
            if (this.#rankQueue[i]?.job.id === jobId) {
                this.#rankQueue.splice(i, 1);
            }
        }
        this.#emit({ kind: 'job-ended', jobId, state });
    }

    /**
     * Lists the claimable tasks of an open job when the last listing is used up (one page). When
     * none is published and none is in flight here, asks whether any is still held elsewhere: an
     * open job has no completion event or state, it is done when no task is left unfinished.
     */
    async #lookAtOpen(work: JobWork, job: JobRecord): Promise<'ended' | 'idle' | 'live'> {
        const jobId = work.job.id;
        const mine = work.inFlight > 0;
        let published = work.candidates.length;
        if (work.candidates.length === 0 && !this.#anyMayClaim(work.job)) {
            published = (await this.#options.ledger.listTasksByJob(jobId, 'published', 1)).items.length; // only: is any left?
        } else if (work.candidates.length === 0) {
            // Claims from here on are reported; the listing shows the ones committed before it.
            const taken = new Set<string>();
            this.#taken.set(jobId, taken);
            const listed = (await work.workflow.candidates?.(work.job, this.#options.ledger)) ?? (await this.#options.ledger.listTasksByJob(jobId, 'published', OPEN_PAGE)).items;
            published = listed.length;
            work.candidates = (work.job.verify === 'signature' ? shuffled(listed) : inTakingOrder(listed)).filter((task) => !this.#refused.has(task.id) && !this.#tasksInFlight.has(task.id) && !taken.has(task.id));
            work.exhausted = work.candidates.length === 0;
        }
        if (work.candidates.length > 0 || mine) {
            return 'live';
        }
        if (published === 0 && job.state === 'open' && (await this.#noneUnfinished(jobId))) {
            return 'ended';
        }
        return 'idle';
    }

    /** Whether no task of the job is claimed or assigned (two one-record pages). */
    async #noneUnfinished(jobId: string): Promise<boolean> {
        for (const state of ['claimed', 'assigned'] as const) {
            if ((await this.#options.ledger.listTasksByJob(jobId, state, 1)).items.length > 0) {
                return false;
            }
        }
        return true;
    }

    /** The task of a ranked job at `index`, from one listing of the job's tasks shared by every rank here. */
    async #taskAt(job: JobRecord, index: number): Promise<TaskRecord> {
        const work = this.#jobs.get(job.id);
        const listing = work?.tasksByIndex ?? this.#listTasks(job.id);
        if (work !== undefined) {
            work.tasksByIndex = listing;
        }
        const found = (await listing).get(index);
        if (found !== undefined) {
            return found;
        }
        if (work !== undefined && work.tasksByIndex === listing) {
            delete work.tasksByIndex; // still publishing: list again next time
        }
        throw new Error(`job ${job.id} has no task at rank ${index} yet`);
    }

    async #listTasks(jobId: string): Promise<Map<number, TaskRecord>> {
        const byIndex = new Map<number, TaskRecord>();
        let bookmark = '';
        do {
            const page = await this.#options.ledger.listTasksByJob(jobId, '', 1000, bookmark);
            for (const task of page.items) {
                byIndex.set(task.index, task);
            }
            bookmark = page.bookmark;
        } while (bookmark !== '');
        return byIndex;
    }

    async #lookAtRanks(work: JobWork, sweeper: JobSweeper): Promise<'idle' | 'live'> {
        if (work.tree === undefined || Date.now() - work.tree.readAt >= TREE_MAX_AGE_MS) {
            const read = await this.#options.ledger.getMergeTree(work.job.id);
            work.tree = { holders: read.holders, filed: read.filed.length, readAt: Date.now() };
            // Filings are what progress means here: a sweep reassigns ranks only after none for a lease.
            sweeper.observe(String(work.tree.filed), this.#ledgerNow());
        }
        const tree = work.tree;
        let held = false;
        for (const holder of tree.holders) {
            if (!this.#workers.has(holder.executorId)) {
                continue;
            }
            const label = `${work.job.id}/rank ${holder.rank}`;
            if (this.#ranksFinished.has(label)) {
                continue;
            }
            held = true;
            if (!this.#ranksStarted.has(label)) {
                this.#ranksStarted.add(label);
                this.#rankQueue.push({ job: work.job, rank: holder.rank, executorId: holder.executorId, label });
            }
        }
        this.#rankQueue.sort((a, b) => a.job.createdAt - b.job.createdAt || (a.job.id < b.job.id ? -1 : a.job.id > b.job.id ? 1 : a.rank - b.rank));
        return held ? 'live' : 'idle';
    }

    /** Settles (at most every `sweepEveryMs`) what holds up a job this loop waits on: expired leases, a passed deadline, overdue ranks. */
    async #sweep(jobId: string): Promise<void> {
        const sweeper = this.#sweepers.get(jobId);
        if (sweeper === undefined) {
            return;
        }
        try {
            const swept = await sweeper.maybeSweep(this.#ledgerNow());
            if (swept !== undefined && (swept.leasesExpired > 0 || swept.jobsExpired.length > 0 || swept.ranksReassigned.length > 0)) {
                this.#emit({ kind: 'swept', jobId, ...swept });
                const work = this.#jobs.get(jobId);
                if (work !== undefined) {
                    work.candidates = []; // list again: swept tasks are claimable
                    delete work.tree; // and read the holders again: ranks may have moved
                }
                this.#wakeUp();
            }
        } catch (err) {
            if (!(err instanceof LedgerworkGatewayError)) {
                throw err;
            }
            this.#emit({ kind: 'error', label: `sweep of ${jobId}`, message: err.message, retryInMs: this.#options.sweepEveryMs ?? DEFAULT_SWEEP_EVERY_MS });
        }
    }

    /** Whether one of the executors may ever claim in this job (shard, mode). */
    #anyMayClaim(job: JobRecord): boolean {
        return [...this.#workers.values()].some((worker) => worker.view !== undefined && worker.view.executor.mode === 'active' && (job.shards.length === 0 || job.shards.includes(worker.view.executor.shard)));
    }

    /** Why this executor cannot take this task (a refusal that retrying does not change), or undefined. */
    #unqualified(worker: Worker, job: JobRecord, task: TaskRecord): string | undefined {
        const view = worker.view;
        if (view === undefined) {
            return 'not read yet';
        }
        const executor = view.executor;
        if (executor.mode !== 'active') {
            return 'passive: it only takes assigned ranks';
        }
        if (job.shards.length > 0 && !job.shards.includes(executor.shard)) {
            return `shard ${executor.shard} is not one of ${job.shards.join(', ')}`;
        }
        const missing = task.requirements.skills.filter((skill) => !executor.skills.includes(skill));
        if (missing.length > 0) {
            return `lacks skills ${missing.join(', ')}`;
        }
        if (view.reputation < task.requirements.minReputation) {
            return `reputation ${view.reputation} is below ${task.requirements.minReputation}`;
        }
        return undefined;
    }

    /** Starts what there is room for: ranks within each executor's capacity, then claims within capacity and the pipeline depth. */
    #pump(): void {
        if (this.#options.signal?.aborted === true) {
            return;
        }
        const now = Date.now();
        this.#startRanks(now);
        this.#startClaims(now);
    }

    #startRanks(now: number): void {
        const maxRanks = this.#options.maxRanks ?? Number.POSITIVE_INFINITY;
        let running = 0;
        for (const worker of this.#workers.values()) {
            running += worker.ranks;
        }
        for (let i = 0; i < this.#rankQueue.length && running < maxRanks; ) {
            const next = this.#rankQueue[i];
            const worker = next === undefined ? undefined : this.#workers.get(next.executorId);
            const waiting = next === undefined ? undefined : this.#rankBackoff.get(next.label);
            if (next === undefined || worker === undefined || worker.ranks >= (worker.view?.executor.capacity ?? 1) || (waiting !== undefined && waiting.until > now)) {
                i++;
                continue;
            }
            this.#rankQueue.splice(i, 1);
            this.#startRank(worker, next);
            running++;
        }
    }

    #startClaims(now: number): void {
        let started = true;
        while (started && this.#openInFlight < this.#maxOpenInFlight) {
            started = false;
            for (const work of this.#jobs.values()) {
                if (this.#openInFlight >= this.#maxOpenInFlight) {
                    break;
                }
                if (byRanks(work.job) || this.#ledgerNow() >= work.job.deadline) {
                    continue;
                }
                started = this.#claimOne(work, now) || started;
            }
        }
    }

    /** Claims one candidate of the job with the least loaded executor that qualifies; false when none can. */
    #claimOne(work: JobWork, now: number): boolean {
        while (work.candidates.length > 0) {
            const task = work.candidates[work.candidates.length - 1];
            if (task === undefined) {
                return false;
            }
            if (this.#tasksInFlight.has(task.id) || this.#taken.get(work.job.id)?.has(task.id) === true) {
                work.candidates.pop(); // held here, or taken since the listing: it would be a lost race
                continue;
            }
            const free = [...this.#workers.values()].filter((w) => w.view !== undefined && w.view.effectiveStatus === 'active' && w.held < w.view.executor.capacity && w.backoff.until <= now);
            const qualified = free.filter((w) => !this.#refused.has(pairKey(w.id, task.id)) && this.#unqualified(w, work.job, task) === undefined);
            if (qualified.length === 0) {
                if (free.length > 0 && free.every((w) => this.#refused.has(pairKey(w.id, task.id)) || this.#unqualified(w, work.job, task) !== undefined)) {
                    work.candidates.pop(); // none of ours can ever take it
                    continue;
                }
                return false;
            }
            work.candidates.pop();
            const least = Math.min(...qualified.map((w) => w.held));
            const lightest = qualified.filter((w) => w.held === least);
            const worker = lightest[randomInt(lightest.length)] ?? qualified[0];
            if (worker === undefined) {
                return false;
            }
            const label = `${task.id} (${worker.id})`;
            this.#startOpen(worker, work, task, label, async () => {
                const held = await work.workflow.take(worker.executor, task.id);
                worker.backoff.reset();
                return work.workflow.finish(worker.executor, held);
            });
            return true;
        }
        if (!work.exhausted) {
            work.exhausted = true;
            this.#wakeUp(); // listing used up: look at the ledger again now
        }
        return false;
    }

    #startOpen(worker: Worker, work: JobWork, task: TaskRecord, label: string, body: () => Promise<Outcome>): void {
        worker.held++;
        worker.tasks.add(task.id);
        this.#tasksInFlight.add(task.id);
        work.inFlight++;
        this.#openInFlight++;
        this.#track(
            body().then(
                (outcome) => {
                    if (outcome.kind === 'accepted') {
                        this.#refused.add(task.id); // done: a listing taken before it completed must not bring it back
                    }
                    if (outcome.kind === 'revealed' || outcome.kind === 'closed' || outcome.kind === 'rejected') {
                        this.#refused.add(pairKey(worker.id, task.id)); // one replica per executor and task
                    }
                    this.#count(label, outcome);
                    if (outcome.kind === 'queue-timeout') {
                        // The sandbox is saturated: this executor waits before it claims again; the released task is claimable by anyone.
                        worker.backoff.fail(Date.now());
                        if (outcome.released) {
                            work.candidates.unshift(task);
                        }
                    }
                },
                (err: unknown) => this.#refusedOrFailed(worker, work, task, label, err),
            ),
            () => {
                worker.held--;
                worker.tasks.delete(task.id);
                this.#tasksInFlight.delete(task.id);
                work.inFlight--;
                this.#openInFlight--;
            },
        );
    }

    #startRank(worker: Worker, rank: RankWork): void {
        worker.ranks++;
        this.#track(
            worker.executor.runRank(rank.job.id, rank.rank).then(
                (outcome) => {
                    this.#count(rank.label, outcome);
                    if (outcome.kind === 'queue-timeout') {
                        // Never ran: the rank keeps its task and starts again after a backoff (a filing it made is not repeated: ALREADY_FILED).
                        const backoff = this.#rankBackoff.get(rank.label) ?? new Backoff(this.#options.backoff ?? { baseMs: 250, maxMs: 15_000 });
                        this.#rankBackoff.set(rank.label, backoff);
                        backoff.fail(Date.now());
                        this.#ranksStarted.delete(rank.label);
                        return;
                    }
                    if (outcome.kind === 'stopped') {
                        this.#ranksStarted.delete(rank.label);
                    } else {
                        this.#ranksFinished.add(rank.label);
                    }
                    this.#rankBackoff.delete(rank.label);
                },
                (err: unknown) => {
                    // Asked again after a backoff; ALREADY_FILED makes a repeated filing harmless.
                    const backoff = this.#rankBackoff.get(rank.label) ?? new Backoff(this.#options.backoff ?? { baseMs: 250, maxMs: 15_000 });
                    this.#rankBackoff.set(rank.label, backoff);
                    this.#countRetriable(err);
                    this.#emit({ kind: 'error', label: rank.label, message: messageOf(err), retryInMs: backoff.fail(Date.now()) });
                    this.#ranksStarted.delete(rank.label);
                },
            ),
            () => {
                worker.ranks--;
            },
        );
    }

    #track(work: Promise<void>, release: () => void): void {
        const done = work
            .catch((err: unknown) => {
                this.#emit({ kind: 'error', label: 'work loop', message: messageOf(err) });
            })
            .finally(() => {
                release();
                this.#inFlight.delete(done);
                this.#pump(); // a slot is free: the next claim starts now, not at the next poll
                this.#wakeUp();
            });
        this.#inFlight.add(done);
    }

    #wakeUp(): void {
        this.#wake.abort();
    }

    #count(label: string, outcome: Outcome): void {
        switch (outcome.kind) {
            case 'accepted':
                this.summary.accepted++;
                break;
            case 'filed':
                this.summary.filed++;
                break;
            case 'rejected':
                this.summary.rejected++;
                break;
            case 'stopped':
            case 'closed':
                break;
            case 'revealed':
                this.summary.revealed++;
                break;
            case 'queue-timeout':
                this.summary.queueTimeouts++;
                break;
            default:
                this.summary.failed++;
        }
        this.#emit({ kind: 'outcome', label, outcome });
    }

    /**
     * A claim or submission that got no answer (a deadline, a lost connection) may still have
     * committed: a claim would then hold the task for this executor until its lease runs out, with
     * nothing here working on it. After `afterMs` the task is read again and, if this executor holds
     * it under a live lease, finished (a submission that did commit shows the task completed).
     */
    #recheck(worker: Worker, work: JobWork, task: TaskRecord, label: string, afterMs: number): void {
        if (task.verify !== undefined) {
            return; // replicas: the journal resumes them
        }
        this.#track(
            (async () => {
                await sleep(afterMs, undefined, { signal: this.#options.signal }).catch(() => undefined);
                if (this.#options.signal?.aborted === true || worker.tasks.has(task.id) || !this.#jobs.has(work.job.id)) {
                    return;
                }
                const current = await this.#options.ledger.getTask(task.id);
                const claim = current.claim;
                if (current.state !== 'claimed' || claim?.executorId !== worker.id || claim.leaseExpiresAt <= this.#ledgerNow() || worker.tasks.has(task.id)) {
                    return;
                }
                this.summary.resumed++;
                this.#emit({ kind: 'resumed', label, leaseExpiresAt: claim.leaseExpiresAt });
                this.#startOpen(worker, work, current, label, async () => work.workflow.finish(worker.executor, current));
            })(),
            () => undefined,
        );
    }

    /** A step that threw and is tried again later: a conflict or an unanswered call is not a failure of the work. */
    #countRetriable(err: unknown): void {
        if (err instanceof CommitFailedError && err.conflict) {
            this.summary.conflicts++;
        } else if (err instanceof TransportError) {
            this.summary.retried++;
        } else {
            this.summary.failed++;
        }
    }

    /** Sorts a failed take or finish: a lost race, a refusal that stops this pair, or one worth another try later. */
    async #refusedOrFailed(worker: Worker, work: JobWork, task: TaskRecord, label: string, err: unknown): Promise<void> {
        const taskId = task.id;
        const now = Date.now();
        if (err instanceof CommitFailedError && err.conflict) {
            // Concurrent transactions kept invalidating it (the client re-ran it already): the task is still there to take.
            this.summary.conflicts++;
            work.candidates.unshift(task);
            this.#emit({ kind: 'refused', label, code: err.validationCode, detail: err.message, action: 'back-off', retryInMs: worker.backoff.fail(now) });
            return;
        }
        if (!(err instanceof ChaincodeError)) {
            this.#countRetriable(err);
            const transient = err instanceof LedgerworkGatewayError;
            const retryInMs = transient ? worker.backoff.fail(now) : undefined;
            this.#emit({ kind: 'error', label, message: messageOf(err), ...optional('retryInMs', retryInMs) });
            if (retryInMs !== undefined) {
                this.#recheck(worker, work, task, label, retryInMs);
            }
            return;
        }
        const refused = (action: 'skip' | 'lost-race' | 'back-off', retryInMs?: number): void => {
            this.#emit({ kind: 'refused', label, code: err.code, detail: err.detail, action, ...optional('retryInMs', retryInMs) });
        };
        switch (err.code) {
            case 'ALREADY_CLAIMED':
            case 'INVALID_STATE':
            case 'NOT_FOUND':
                // Someone else holds it, or it moved on: the next listing shows it again if it comes back.
                this.summary.lostRaces++;
                refused('lost-race');
                return;
            case 'DEADLINE_PASSED':
            case 'LEASE_EXPIRED':
                this.#refused.add(taskId);
                this.summary.skipped++;
                refused('skip');
                return;
            case 'WRONG_SHARD':
            case 'SHARD_TAKEN':
                this.#refused.add(pairKey(worker.id, taskId));
                this.summary.skipped++;
                refused('skip');
                return;
            case 'REQUIREMENT_UNMET':
            case 'EXECUTOR_INACTIVE':
                await this.#requirementRefused(worker, work, task, err, refused);
                return;
            default:
                this.summary.failed++;
                refused('back-off', worker.backoff.fail(now));
        }
    }

    /**
     * Requirements are checked here before claiming, so either they changed (reputation, skills,
     * suspension) or the executor is at its capacity (claims held elsewhere): read it again and judge.
     */
    async #requirementRefused(worker: Worker, work: JobWork, task: TaskRecord, err: ChaincodeError, refused: (action: 'skip' | 'back-off', retryInMs?: number) => void): Promise<void> {
        try {
            await this.#refreshView(worker);
        } catch {
            // judged on the view we have
        }
        const reason = worker.view?.effectiveStatus !== 'active' ? 'inactive' : this.#unqualified(worker, work.job, task);
        if (reason !== undefined && reason !== 'inactive') {
            this.#refused.add(pairKey(worker.id, task.id));
            this.summary.skipped++;
            refused('skip');
            return;
        }
        refused('back-off', worker.backoff.fail(Date.now()));
        if (reason === undefined && err.code === 'REQUIREMENT_UNMET') {
            await this.#resumeOwnClaims().catch(() => undefined); // its capacity is taken by claims of its own
        }
    }
}

function pairKey(executorId: string, taskId: string): string {
    return `${executorId}\u0000${taskId}`;
}

function messageOf(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}

/** A random permutation: competing processes spread over the open tasks instead of all racing for the first. */
function shuffled<T>(items: readonly T[]): T[] {
    const keyed = items.map((item) => ({ item, key: randomInt(2 ** 47) }));
    return keyed.sort((a, b) => a.key - b.key).map((k) => k.item);
}

/**
 * A replicated job's tasks in the one order every loop takes them (popped from the end: merges
 * highest first, then leaves lowest index first). Its replicas must meet on a task: a committed
 * replica waits for the task's other replicas before it may reveal, so loops that each took
 * replicas of different tasks (a random order each) would fill their pipelines with waiting
 * replicas and stall until commit windows closed. In one order, the next loop looking takes the
 * open slot of the task another has started.
 */
function inTakingOrder(tasks: readonly TaskRecord[]): TaskRecord[] {
    const rank = (task: TaskRecord): readonly [number, number] => (task.mergeAt === undefined ? [1, task.index] : [task.mergeAt.y, task.mergeAt.x]);
    return [...tasks].sort((a, b) => {
        const [ay, ax] = rank(a);
        const [by, bx] = rank(b);
        return ay - by || bx - ax || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
    });
}

/** `{ [key]: value }`, or nothing when the value is undefined (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
    return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
