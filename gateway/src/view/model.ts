// SPDX-License-Identifier: Apache-2.0
/**
 * The view's picture of the channel, built from chaincode events and refreshed from queries.
 * Pure: no network, no clock. `ViewModel.apply` folds one event in and says which jobs and
 * executors it touched (the server re-queries exactly those); the `set…` methods fold in what the
 * queries answered. Filings only ever accumulate and tasks only move forward, so a query answer that
 * is older than an event already applied cannot undo it.
 */
import { allNumbers, holderRank, kindOf, leftChild, rightChild, target, treeShape } from '@ledgerwork/core';
import type { JobRecord, MergeNumber, NumberKind, TaskRecord, TreeShape } from '@ledgerwork/core';
import type { ExecutorView, JobProgress, MergeTreeView, ReplicationView } from '../client';
import { short } from './html';

/** One chaincode event as the view keeps it. */
export interface LedgerEvent {
    readonly name: string;
    readonly payload: Readonly<Record<string, unknown>>;
    readonly blockNumber: bigint;
    readonly transactionId: string;
}

export type TaskStateName = TaskRecord['state'];

export interface TaskCell {
    readonly id: string;
    readonly state: TaskStateName;
    readonly executorId?: string;
}

export interface Filing {
    readonly kind: NumberKind;
    readonly executorId: string;
    readonly sha256?: string;
}

export interface RankHolder {
    readonly executorId: string;
    readonly shard: string;
}

/** How a job ended, as events tell it (the job record says the same once queried). */
export type JobEnd = 'completed' | 'cancelled' | 'expired' | 'failed';

export interface JobEntry {
    readonly id: string;
    assignment: string;
    taskCount: number;
    /** Task ids in publication order (position p is rank p in a ranked job). */
    readonly taskIds: string[];
    readonly tasks: Map<string, TaskCell>;
    readonly ranks: Map<number, RankHolder>;
    /** Filed numbers by `y/x`. */
    readonly filings: Map<string, Filing>;
    /** Signature rejections seen for numbers of this job, by `y/x`. */
    readonly rejections: Map<string, number>;
    /** Replicated jobs: each task's replicas and settlement (`queries:GetReplication`), by task id. */
    readonly replication: Map<string, ReplicationView>;
    ended?: JobEnd;
    record?: JobRecord;
    progress?: JobProgress;
    /** The target's bytes, once filed and fetched. */
    result?: { readonly text: string; readonly bytes: number };
    /** Block of the last event naming the job. */
    lastBlock: bigint;
}

export interface ExecutorEntry {
    readonly id: string;
    shard: string;
    mode: string;
    status: string;
    statusReason?: string;
    /** Accepted results of open tasks plus leaves filed, counted from events. */
    tasksDone: number;
    /** Real merges filed, counted from events. */
    merges: number;
    /** What `queries:GetExecutor` last answered: reputation, earned credits, effective status. */
    ledger?: ExecutorView;
}

export interface EventRow {
    readonly blockNumber: bigint;
    readonly transactionId: string;
    readonly name: string;
    readonly jobId?: string;
    readonly summary: string;
}

export interface Touched {
    readonly jobs: Set<string>;
    readonly executors: Set<string>;
    /** Tasks the event named (a replicated job's replicas are re-read for these). */
    readonly tasks?: Set<string>;
}

/** Where the view's event stream stands. */
export type StreamStatus = { readonly state: 'connecting' } | { readonly state: 'live'; readonly block: bigint } | { readonly state: 'down'; readonly message: string };

const TASK_ORDER: Readonly<Record<TaskStateName, number>> = { published: 0, assigned: 0, claimed: 1, failed: 2, cancelled: 2, completed: 3 };
const RECENT_EVENTS = 300;

export class ViewModel {
    readonly jobs = new Map<string, JobEntry>();
    readonly executors = new Map<string, ExecutorEntry>();
    /** Most recent first. */
    readonly events: EventRow[] = [];
    status: StreamStatus = { state: 'connecting' };
    /** Bumped by every change: the server re-renders pages only when it moved. */
    version = 0;

    /** Folds one chaincode event in; returns the jobs and executors whose ledger figures it changed. */
    apply(event: LedgerEvent): Touched {
        const p = event.payload;
        const jobId = str(p.jobId);
        const taskId = str(p.taskId);
        const touched: Touched = { jobs: new Set(), executors: new Set(), tasks: new Set(taskId === undefined ? [] : [taskId]) };
        if (jobId !== undefined && taskId !== undefined && event.name.startsWith('Replica')) {
            touched.jobs.add(jobId);
            this.job(jobId);
        }
        const handler = HANDLERS[event.name];
        if (handler !== undefined) {
            handler(this, p, touched, event.blockNumber);
        }
        for (const id of touched.jobs) {
            const job = this.jobs.get(id);
            if (job !== undefined) {
                job.lastBlock = event.blockNumber;
            }
        }
        this.events.unshift({ blockNumber: event.blockNumber, transactionId: event.transactionId, name: event.name, ...(jobId === undefined ? {} : { jobId }), summary: summarize(event.name, p) });
        this.events.length = Math.min(this.events.length, RECENT_EVENTS);
        if (this.status.state !== 'live' || this.status.block < event.blockNumber) {
            this.status = { state: 'live', block: event.blockNumber };
        }
        this.version++;
        return touched;
    }

    /** The job, created empty if the view has not seen it yet. */
    job(id: string): JobEntry {
        let job = this.jobs.get(id);
        if (job === undefined) {
            job = { id, assignment: 'open', taskCount: 0, taskIds: [], tasks: new Map(), ranks: new Map(), filings: new Map(), rejections: new Map(), replication: new Map(), lastBlock: 0n };
            this.jobs.set(id, job);
        }
        return job;
    }

    executor(id: string, shard = ''): ExecutorEntry {
        let executor = this.executors.get(id);
        if (executor === undefined) {
            executor = { id, shard, mode: '', status: 'active', tasksDone: 0, merges: 0 };
            this.executors.set(id, executor);
        }
        if (executor.shard === '' && shard !== '') {
            executor.shard = shard;
        }
        return executor;
    }

    /** What `GetJob` and `GetJobProgress` answered. */
    setJob(record: JobRecord, progress?: JobProgress): void {
        const job = this.job(record.id);
        job.record = record;
        job.assignment = record.assignment;
        job.taskCount = record.taskCount;
        if (progress !== undefined) {
            job.progress = progress;
        }
        if (record.state === 'completed' || record.state === 'cancelled' || record.state === 'expired' || record.state === 'failed') {
            job.ended = record.state;
        }
        this.version++;
    }

    /** What `GetMergeTree` answered: holders and filings (added to those events brought). */
    setTree(tree: MergeTreeView): void {
        const job = this.job(tree.jobId);
        job.assignment = 'ranked';
        job.taskCount = tree.taskCount;
        for (const holder of tree.holders) {
            job.ranks.set(holder.rank, { executorId: holder.executorId, shard: holder.shard });
        }
        for (const f of tree.filed) {
            if (!job.filings.has(`${f.y}/${f.x}`)) {
                job.filings.set(`${f.y}/${f.x}`, { kind: f.kind, executorId: f.executorId, ...(f.sha256 === undefined ? {} : { sha256: f.sha256 }) });
            }
        }
        this.version++;
    }

    /** What `ListTasksByJob` answered; a task never moves back to an earlier state. */
    setTasks(jobId: string, tasks: readonly TaskRecord[]): void {
        const job = this.job(jobId);
        for (const task of tasks) {
            if (!job.taskIds.includes(task.id)) {
                job.taskIds[task.index - 1] = task.id;
            }
            setTask(job, { id: task.id, state: task.state, ...(task.claim === undefined && task.result === undefined ? {} : { executorId: task.result?.executorId ?? task.claim?.executorId ?? '' }) });
        }
        this.version++;
    }

    setReplication(view: ReplicationView): void {
        this.job(view.jobId).replication.set(view.taskId, view);
        this.version++;
    }

    setResult(jobId: string, bytes: Buffer): void {
        this.job(jobId).result = { text: bytes.toString('utf8'), bytes: bytes.length };
        this.version++;
    }

    setExecutor(view: ExecutorView): void {
        const executor = this.executor(view.executor.id, view.executor.shard);
        executor.ledger = view;
        executor.mode = view.executor.mode;
        executor.status = view.effectiveStatus;
        if (view.executor.statusReason !== undefined) {
            executor.statusReason = view.executor.statusReason;
        }
        this.version++;
    }

    setStatus(status: StreamStatus): void {
        this.status = status;
        this.version++;
    }
}

function setTask(job: JobEntry, cell: TaskCell): void {
    const known = job.tasks.get(cell.id);
    if (known !== undefined && TASK_ORDER[known.state] > TASK_ORDER[cell.state]) {
        return;
    }
    job.tasks.set(cell.id, cell);
}

/** Moves a task to `state` as an event says (events are in ledger order, so they may move it back to published). */
function moveTask(job: JobEntry, taskId: string | undefined, state: TaskStateName, executorId?: string): void {
    if (taskId === undefined) {
        return;
    }
    if (!job.taskIds.includes(taskId)) {
        job.taskIds.push(taskId);
    }
    job.tasks.set(taskId, { id: taskId, state, ...(executorId === undefined ? {} : { executorId }) });
}

type Handler = (model: ViewModel, p: Readonly<Record<string, unknown>>, touched: Touched, block: bigint) => void;

function touchJob(model: ViewModel, touched: Touched, jobId: string | undefined): JobEntry | undefined {
    if (jobId === undefined) {
        return undefined;
    }
    touched.jobs.add(jobId);
    return model.job(jobId);
}

function touchExecutor(model: ViewModel, touched: Touched, executorId: string | undefined, shard?: string): ExecutorEntry | undefined {
    if (executorId === undefined) {
        return undefined;
    }
    touched.executors.add(executorId);
    return model.executor(executorId, shard);
}

function fileNumbers(model: ViewModel, touched: Touched, job: JobEntry, executorId: string | undefined, filed: unknown): void {
    for (const item of list(filed)) {
        const y = num(item.y);
        const x = num(item.x);
        const kind = str(item.kind) as NumberKind | undefined;
        if (y === undefined || x === undefined || kind === undefined || executorId === undefined || job.filings.has(`${y}/${x}`)) {
            continue;
        }
        const sha256 = str(item.sha256);
        job.filings.set(`${y}/${x}`, { kind, executorId, ...(sha256 === undefined ? {} : { sha256 }) });
        const executor = touchExecutor(model, touched, executorId);
        if (executor !== undefined && kind === 'leaf') {
            executor.tasksDone++;
            const taskId = job.taskIds[x - 1];
            if (taskId !== undefined) {
                job.tasks.set(taskId, { id: taskId, state: 'completed', executorId });
            }
        } else if (executor !== undefined && kind === 'merge') {
            executor.merges++;
        }
    }
}

function executorStatus(status: string): Handler {
    return (model, p, touched) => {
        const executor = touchExecutor(model, touched, str(p.executorId), str(p.shard));
        if (executor !== undefined) {
            executor.status = status;
            const reason = str(p.reason);
            if (reason !== undefined) {
                executor.statusReason = reason;
            }
        }
    };
}

const HANDLERS: Readonly<Record<string, Handler | undefined>> = {
    ExecutorRegistered: (model, p, touched) => {
        const executor = touchExecutor(model, touched, str(p.executorId), str(p.shard));
        if (executor !== undefined) {
            executor.mode = str(p.mode) ?? executor.mode;
        }
    },
    ExecutorUpdated: (model, p, touched) => {
        touchExecutor(model, touched, str(p.executorId), str(p.shard));
    },
    ExecutorRetired: executorStatus('retired'),
    ExecutorSuspended: executorStatus('suspended'),
    ExecutorReinstated: executorStatus('active'),
    JobPublished: (model, p, touched) => {
        const job = touchJob(model, touched, str(p.jobId));
        if (job === undefined) {
            return;
        }
        job.assignment = str(p.assignment) ?? job.assignment;
        job.taskCount = num(p.taskCount) ?? job.taskCount;
        for (const taskId of strings(p.taskIds)) {
            moveTask(job, taskId, job.assignment === 'ranked' ? 'assigned' : 'published');
        }
        for (const r of list(p.ranks)) {
            const rank = num(r.rank);
            const executorId = str(r.executorId);
            const shard = str(r.shard) ?? '';
            if (rank !== undefined && executorId !== undefined) {
                job.ranks.set(rank, { executorId, shard });
                touchExecutor(model, touched, executorId, shard);
            }
        }
    },
    TasksPublished: (model, p, touched) => {
        const job = touchJob(model, touched, str(p.jobId));
        for (const taskId of strings(p.taskIds)) {
            if (job !== undefined) {
                moveTask(job, taskId, job.assignment === 'ranked' ? 'assigned' : 'published');
            }
        }
    },
    JobCancelled: (model, p, touched) => {
        const job = touchJob(model, touched, str(p.jobId));
        if (job !== undefined) {
            job.ended = 'cancelled';
            for (const taskId of strings(p.cancelledTaskIds)) {
                moveTask(job, taskId, 'cancelled', job.tasks.get(taskId)?.executorId);
            }
            for (const holder of job.ranks.values()) {
                touched.executors.add(holder.executorId);
            }
        }
    },
    TaskClaimed: (model, p, touched) => {
        const job = touchJob(model, touched, str(p.jobId));
        touchExecutor(model, touched, str(p.executorId));
        touchExecutor(model, touched, str(p.expiredClaimant));
        if (job !== undefined) {
            moveTask(job, str(p.taskId), 'claimed', str(p.executorId));
        }
    },
    TaskReleased: (model, p, touched) => {
        const job = touchJob(model, touched, str(p.jobId));
        if (job !== undefined) {
            moveTask(job, str(p.taskId), 'published');
        }
    },
    ResultAccepted: (model, p, touched) => {
        const job = touchJob(model, touched, str(p.jobId));
        const executor = touchExecutor(model, touched, str(p.executorId));
        if (executor !== undefined) {
            executor.tasksDone++;
        }
        if (job !== undefined) {
            moveTask(job, str(p.taskId), 'completed', str(p.executorId));
        }
    },
    ResultRejected: (model, p, touched) => {
        const job = touchJob(model, touched, str(p.jobId));
        const executorId = str(p.executorId);
        touchExecutor(model, touched, executorId);
        if (job === undefined) {
            return;
        }
        const y = num(p.y);
        const x = num(p.x);
        if (y !== undefined && x !== undefined) {
            job.rejections.set(`${y}/${x}`, (job.rejections.get(`${y}/${x}`) ?? 0) + 1);
            fileNumbers(model, touched, job, executorId, p.filed);
        } else {
            moveTask(job, str(p.taskId), taskState(p.state) ?? 'published', taskState(p.state) === 'failed' ? executorId : undefined);
        }
    },
    RunFailed: (model, p, touched) => {
        const job = touchJob(model, touched, str(p.jobId));
        const executorId = str(p.executorId);
        touchExecutor(model, touched, executorId);
        if (job !== undefined) {
            moveTask(job, str(p.taskId), taskState(p.state) ?? 'published', taskState(p.state) === 'failed' ? executorId : undefined);
        }
    },
    LeaseExpired: (model, p, touched) => {
        for (const lease of list(p.leasesExpired)) {
            const job = touchJob(model, touched, str(lease.jobId));
            touchExecutor(model, touched, str(lease.executorId));
            if (job !== undefined) {
                moveTask(job, str(lease.taskId), taskState(lease.state) ?? 'published');
            }
        }
        expireJobs(model, touched, p.jobsExpired);
    },
    JobExpired: (model, p, touched) => {
        expireJobs(model, touched, p.jobsExpired);
    },
    MergeFiled: (model, p, touched) => {
        const job = touchJob(model, touched, str(p.jobId));
        if (job !== undefined) {
            fileNumbers(model, touched, job, str(p.executorId), p.filed);
        }
    },
    JobCompleted: (model, p, touched) => {
        const job = touchJob(model, touched, str(p.jobId));
        if (job !== undefined) {
            fileNumbers(model, touched, job, str(p.executorId), p.filed);
            job.ended = 'completed';
        }
    },
    RankReassigned: (model, p, touched) => {
        const job = touchJob(model, touched, str(p.jobId));
        const rank = num(p.rank);
        const to = str(p.to);
        touchExecutor(model, touched, str(p.from));
        touchExecutor(model, touched, to, str(p.shard));
        if (job !== undefined && rank !== undefined && to !== undefined) {
            job.ranks.set(rank, { executorId: to, shard: str(p.shard) ?? job.ranks.get(rank)?.shard ?? '' });
        }
    },
};

function expireJobs(model: ViewModel, touched: Touched, ids: unknown): void {
    for (const jobId of strings(ids)) {
        const job = touchJob(model, touched, jobId);
        if (job !== undefined) {
            job.ended = 'expired';
        }
    }
}

type Payload = Readonly<Record<string, unknown>>;

function filedNumbers(p: Payload): string {
    return list(p.filed)
        .map((f) => `(${String(f.y)}, ${String(f.x)})${f.kind === 'zero' ? ' ZERO' : ''}`)
        .join(' ');
}

function byExecutor(p: Payload): string {
    return `${str(p.taskId) ?? ''} by ${str(p.executorId) ?? ''}`;
}

function expiry(p: Payload): string {
    return `${list(p.leasesExpired).length} leases, ${strings(p.jobsExpired).length} jobs expired`;
}

function filedBy(p: Payload): string {
    return `rank ${String(num(p.rank) ?? '?')} (${str(p.executorId) ?? ''}) filed ${filedNumbers(p)}`;
}

function statusChange(p: Payload): string {
    return `${str(p.executorId) ?? ''}: ${str(p.reason) ?? ''}`;
}

const SUMMARIES: Readonly<Record<string, ((p: Payload) => string) | undefined>> = {
    ExecutorRegistered: (p) => `${str(p.executorId) ?? ''} registered in ${str(p.shard) ?? '?'} (${str(p.mode) ?? '?'})`,
    ExecutorSuspended: statusChange,
    ExecutorReinstated: statusChange,
    CreditsMinted: (p) => `${str(p.amount) ?? '?'} credits to ${short(str(p.account) ?? '')}`,
    JobPublished: (p) => `${str(p.assignment) ?? ''} job of ${String(num(p.taskCount) ?? '?')} tasks${list(p.ranks).length > 0 ? `, ${list(p.ranks).length} ranks` : ''}`,
    TasksPublished: (p) => `${strings(p.taskIds).length} more tasks (${String(num(p.publishedCount) ?? '?')}/${String(num(p.taskCount) ?? '?')})`,
    TaskClaimed: byExecutor,
    TaskReleased: byExecutor,
    ResultAccepted: (p) => `${byExecutor(p)}, ${str(p.reward) ?? '?'} credits`,
    ResultRejected: (p) => `${str(p.taskId) ?? `(${String(p.y)}, ${String(p.x)})`} by ${str(p.executorId) ?? ''}: ${str(p.code) ?? ''}`,
    RunFailed: (p) => `${byExecutor(p)}: ${str(p.kind) ?? ''}`,
    MergeFiled: filedBy,
    JobCompleted: filedBy,
    RankReassigned: (p) => `rank ${String(num(p.rank) ?? '?')} from ${str(p.from) ?? '?'} to ${str(p.to) ?? '?'}`,
    LeaseExpired: expiry,
    JobExpired: expiry,
    JobCancelled: (p) => `${strings(p.cancelledTaskIds).length} tasks cancelled`,
};

/** One line saying what an event did, for the events page. */
export function summarize(name: string, p: Payload): string {
    return (SUMMARIES[name] ?? ((q: Payload) => str(q.executorId) ?? ''))(p);
}

// ----- the merge tree's nodes

export type NumberState = 'waiting' | 'ready' | 'filed' | 'zero';

export interface TreeNode extends MergeNumber {
    readonly kind: NumberKind;
    readonly state: NumberState;
    readonly rank: number;
    readonly holder?: RankHolder;
    readonly filing?: Filing;
    readonly rejections: number;
}

export interface TreeModel {
    readonly shape: TreeShape;
    readonly target: MergeNumber;
    readonly nodes: readonly TreeNode[];
    readonly filed: number;
    /** Shards in the order their colours are given (the job's own list, then any other holder's). */
    readonly shards: readonly string[];
}

/**
 * Every number (y, x) of a ranked job with its state: `filed` once on the ledger; `zero` for a
 * number whose leaves are all ZERO padding (nothing is ever computed there); `ready` when its inputs
 * are there — a leaf whose task is published, a merge whose two children are filed; else `waiting`.
 */
export function treeOf(job: JobEntry): TreeModel | undefined {
    if (job.assignment !== 'ranked' || job.taskCount < 1) {
        return undefined;
    }
    const shape = treeShape(job.taskCount);
    const published = job.record?.publishedCount ?? job.taskIds.length;
    const nodes = allNumbers(shape).map((n): TreeNode => {
        const kind = kindOf(shape, n);
        const filing = job.filings.get(`${n.y}/${n.x}`);
        const rank = holderRank(n);
        const holder = job.ranks.get(rank);
        let state: NumberState;
        if (kind === 'zero') {
            state = 'zero';
        } else if (filing !== undefined) {
            state = 'filed';
        } else if (n.y === 1) {
            state = n.x <= published && job.ended === undefined ? 'ready' : 'waiting';
        } else {
            state = job.filings.has(key(leftChild(n))) && job.filings.has(key(rightChild(n))) && job.ended === undefined ? 'ready' : 'waiting';
        }
        return { ...n, kind, state, rank, ...(holder === undefined ? {} : { holder }), ...(filing === undefined ? {} : { filing }), rejections: job.rejections.get(key(n)) ?? 0 };
    });
    const shards = [...(job.record?.shards ?? [])];
    for (const holder of [...job.ranks.values()].sort((a, b) => (a.shard < b.shard ? -1 : 1))) {
        if (!shards.includes(holder.shard)) {
            shards.push(holder.shard);
        }
    }
    return { shape, target: target(shape), nodes, filed: job.filings.size, shards };
}

function key(n: MergeNumber): string {
    return `${n.y}/${n.x}`;
}

// ----- organizations

export interface OrgFigures {
    readonly shard: string;
    readonly executors: number;
    readonly suspended: number;
    /** Ranks its executors hold in jobs that have not ended. */
    readonly ranksHeld: number;
    readonly tasksDone: number;
    readonly merges: number;
    readonly earned: bigint;
    readonly reputation: number;
}

export interface ExecutorFigures {
    readonly id: string;
    readonly shard: string;
    readonly mode: string;
    readonly status: string;
    readonly statusReason?: string;
    readonly ranksHeld: number;
    readonly tasksDone: number;
    readonly merges: number;
    readonly earned: bigint;
    readonly reputation: number;
}

/** Per-executor and per-shard load and earnings (credits and reputation as the ledger answered them). */
export function organizationsOf(model: ViewModel): { orgs: OrgFigures[]; executors: ExecutorFigures[] } {
    const ranksHeld = new Map<string, number>();
    for (const job of model.jobs.values()) {
        if (job.ended === undefined) {
            for (const holder of job.ranks.values()) {
                ranksHeld.set(holder.executorId, (ranksHeld.get(holder.executorId) ?? 0) + 1);
            }
        }
    }
    const executors = [...model.executors.values()]
        .map(
            (e): ExecutorFigures => ({
                id: e.id,
                shard: e.shard,
                mode: e.mode,
                status: e.status,
                ...(e.statusReason === undefined ? {} : { statusReason: e.statusReason }),
                ranksHeld: ranksHeld.get(e.id) ?? 0,
                tasksDone: e.tasksDone,
                merges: e.merges,
                earned: BigInt(e.ledger?.earned ?? '0'),
                reputation: e.ledger?.reputation ?? 0,
            }),
        )
        .sort((a, b) => (a.shard === b.shard ? (a.id < b.id ? -1 : 1) : a.shard < b.shard ? -1 : 1));
    const byShard = new Map<string, ExecutorFigures[]>();
    for (const e of executors) {
        byShard.set(e.shard, [...(byShard.get(e.shard) ?? []), e]);
    }
    const orgs = [...byShard.entries()].map(
        ([shard, members]): OrgFigures => ({
            shard,
            executors: members.length,
            suspended: members.filter((m) => m.status === 'suspended').length,
            ranksHeld: sum(members.map((m) => m.ranksHeld)),
            tasksDone: sum(members.map((m) => m.tasksDone)),
            merges: sum(members.map((m) => m.merges)),
            earned: members.reduce((total, m) => total + m.earned, 0n),
            reputation: sum(members.map((m) => m.reputation)),
        }),
    );
    return { orgs, executors };
}

function sum(values: readonly number[]): number {
    return values.reduce((a, b) => a + b, 0);
}

// ----- payload readers (event payloads are untrusted JSON)

function str(value: unknown): string | undefined {
    return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
    return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

function strings(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function list(value: unknown): Record<string, unknown>[] {
    return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)) : [];
}

function taskState(value: unknown): TaskStateName | undefined {
    return typeof value === 'string' && value in TASK_ORDER ? (value as TaskStateName) : undefined;
}
