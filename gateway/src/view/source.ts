// SPDX-License-Identifier: Apache-2.0
import { setTimeout as sleep } from 'node:timers/promises';
import { checkpointers } from '@hyperledger/fabric-gateway';
import type { ChaincodeEvent, Network } from '@hyperledger/fabric-gateway';
import { target, treeShape } from '@ledgerwork/core';
import { ChaincodeError, retype } from '../client';
import type { LedgerworkClient } from '../client';
import { ViewModel } from './model';
import type { JobEntry, LedgerEvent, Touched } from './model';

export interface LedgerSourceOptions {
    readonly client: LedgerworkClient;
    readonly network: Pick<Network, 'getChaincodeEvents'>;
    readonly chaincodeName: string;
    /** First block to read events from (default 0: the whole history, so every job and executor is known). */
    readonly startBlock?: bigint;
    /** How long changes are gathered before their queries run (default 250 ms). */
    readonly settleMs?: number;
    /** Largest job whose tasks are listed for the task grid (default 4096). */
    readonly maxGridTasks?: number;
}

/** A replicated job's replicas are shown for at most this many tasks. */
const MAX_REPLICATED_TASKS = 512;

/** Raised for a page of a job the ledger does not have. */
export class UnknownJobError extends Error {}

/**
 * Keeps a ViewModel current: follows the chaincode's events (from block 0 by default, resuming from
 * an in-memory checkpoint after a stream failure), folds each into the model, and re-queries the
 * jobs and executors an event touched — `GetJob`, `GetJobProgress`, `GetExecutor` — gathered over a
 * short settle time so a burst of filings costs one query per job. Listeners hear of every change.
 */
export class LedgerSource {
    readonly model = new ViewModel();
    readonly #options: LedgerSourceOptions;
    readonly #listeners = new Set<() => void>();
    readonly #dirtyJobs = new Set<string>();
    readonly #dirtyExecutors = new Set<string>();
    readonly #dirtyTasks = new Set<string>();
    /** Jobs whose tree and tasks were loaded from queries (a page asked for them). */
    readonly #loaded = new Map<string, Promise<JobEntry>>();
    #flushing: Promise<void> | undefined;
    #timer: NodeJS.Timeout | undefined;
    #retry: NodeJS.Timeout | undefined;
    #closed = false;
    #lastEventAt = 0;
    #closeStream: (() => void) | undefined;
    #done: Promise<void> = Promise.resolve();

    constructor(options: LedgerSourceOptions) {
        this.#options = options;
    }

    /** Starts following events; resolves once the past events are in (rejects when the stream cannot be opened). */
    async start(): Promise<void> {
        const checkpointer = checkpointers.inMemory();
        const open = async (): Promise<AsyncIterable<ChaincodeEvent> & { close(): void }> => {
            const stream = await this.#options.network.getChaincodeEvents(this.#options.chaincodeName, { checkpoint: checkpointer, startBlock: this.#options.startBlock ?? 0n });
            this.#closeStream = () => {
                stream.close();
            };
            return stream;
        };
        const first = await open().catch((err: unknown) => {
            throw retype(err);
        });
        this.model.setStatus({ state: 'live', block: 0n });
        this.#done = this.#follow(first, open, checkpointer);
        await this.#caughtUp();
    }

    /**
     * Waits until the replay of past events has come through: the stream delivers history in a
     * burst, so a pause of `quietMs` without events means the view has caught up (at most `maxMs`).
     */
    async #caughtUp(quietMs = 300, maxMs = 10_000): Promise<void> {
        const started = Date.now();
        while (!this.#closed && Date.now() - Math.max(this.#lastEventAt, started) < quietMs && Date.now() - started < maxMs) {
            await sleep(50);
        }
    }

    /** Calls `listener` after every change of the model; returns the function that stops it. */
    onChange(listener: () => void): () => void {
        this.#listeners.add(listener);
        return () => {
            this.#listeners.delete(listener);
        };
    }

    /**
     * The job with its tree or tasks loaded from queries (once; events keep it current after).
     * @throws {UnknownJobError} when the ledger has no such job
     */
    async loadJob(jobId: string): Promise<JobEntry> {
        let loading = this.#loaded.get(jobId);
        if (loading === undefined) {
            loading = this.#load(jobId);
            this.#loaded.set(jobId, loading);
            loading.catch(() => this.#loaded.delete(jobId));
        }
        return loading;
    }

    /** Loads the figures of every executor the events named (the organizations page). */
    async loadExecutors(): Promise<void> {
        const missing = [...this.model.executors.values()].filter((e) => e.ledger === undefined).map((e) => e.id);
        await inBatches(missing, async (id) => {
            this.model.setExecutor(await this.#options.client.getExecutor(id));
        });
    }

    async close(): Promise<void> {
        this.#closed = true;
        this.#closeStream?.();
        clearTimeout(this.#timer);
        clearTimeout(this.#retry);
        await this.#done;
        await this.#flushing;
    }

    async #load(jobId: string): Promise<JobEntry> {
        const client = this.#options.client;
        let record;
        try {
            record = await client.getJob(jobId);
        } catch (err) {
            if (err instanceof ChaincodeError && err.code === 'NOT_FOUND') {
                throw new UnknownJobError(`no job ${JSON.stringify(jobId)} on this channel`);
            }
            throw err;
        }
        const progress = await client.getJobProgress(jobId);
        this.model.setJob(record, progress);
        if (record.assignment === 'ranked') {
            this.model.setTree(await client.getMergeTree(jobId));
            await this.#loadResult(this.model.job(jobId));
        } else if (record.taskCount <= (this.#options.maxGridTasks ?? 4096)) {
            let bookmark = '';
            do {
                const page = await client.listTasksByJob(jobId, '', 1000, bookmark);
                this.model.setTasks(jobId, page.items);
                bookmark = page.bookmark;
            } while (bookmark !== '');
        }
        if (record.verify !== 'signature') {
            await this.#loadReplication(this.model.job(jobId).taskIds.slice(0, MAX_REPLICATED_TASKS));
        }
        this.#notify();
        return this.model.job(jobId);
    }

    /** Reads the replicas of tasks of replicated jobs (tasks of other jobs are skipped). */
    async #loadReplication(taskIds: readonly string[]): Promise<void> {
        const client = this.#options.client;
        await inBatches(taskIds, async (taskId) => {
            try {
                this.model.setReplication(await client.getReplication(taskId));
            } catch (err) {
                // A task without replicas (INVALID_ARGUMENT/NOT_FOUND) has nothing to show; the peer being down shows on the page.
                if (!(err instanceof ChaincodeError)) {
                    throw err;
                }
            }
        });
    }

    async #loadResult(job: JobEntry): Promise<void> {
        if (job.result !== undefined || job.assignment !== 'ranked' || job.taskCount < 1) {
            return;
        }
        const goal = target(treeShape(job.taskCount));
        if (!job.filings.has(`${goal.y}/${goal.x}`)) {
            return;
        }
        const { result } = await this.#options.client.getFiling(job.id, goal.y, goal.x);
        this.model.setResult(job.id, Buffer.from(result ?? '', 'base64'));
    }

    async #follow(first: AsyncIterable<ChaincodeEvent> & { close(): void }, open: () => Promise<AsyncIterable<ChaincodeEvent> & { close(): void }>, checkpointer: ReturnType<typeof checkpointers.inMemory>): Promise<void> {
        let stream: (AsyncIterable<ChaincodeEvent> & { close(): void }) | undefined = first;
        let backoffMs = 500;
        while (!this.#isClosed()) {
            try {
                stream ??= await open();
                for await (const event of stream) {
                    this.#handle(event);
                    await checkpointer.checkpointChaincodeEvent(event);
                    backoffMs = 500;
                }
            } catch (err) {
                if (this.#isClosed()) {
                    return;
                }
                this.model.setStatus({ state: 'down', message: retype(err).message });
                this.#notify();
            } finally {
                stream?.close();
                stream = undefined;
            }
            if (!this.#isClosed()) {
                await sleep(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 10_000);
            }
        }
    }

    #isClosed(): boolean {
        return this.#closed;
    }

    #handle(event: ChaincodeEvent): void {
        this.#lastEventAt = Date.now();
        let payload: unknown;
        try {
            payload = JSON.parse(Buffer.from(event.payload).toString('utf8'));
        } catch {
            payload = {};
        }
        const ledgerEvent: LedgerEvent = {
            name: event.eventName,
            payload: typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {},
            blockNumber: event.blockNumber,
            transactionId: event.transactionId,
        };
        this.#markDirty(this.model.apply(ledgerEvent));
        this.#notify();
    }

    #markDirty(touched: Touched): void {
        for (const id of touched.jobs) {
            this.#dirtyJobs.add(id);
        }
        for (const id of touched.tasks ?? []) {
            this.#dirtyTasks.add(id);
        }
        for (const id of touched.executors) {
            // Figures nobody has asked for yet are loaded when a page needs them (loadExecutors).
            if (this.model.executors.get(id)?.ledger !== undefined) {
                this.#dirtyExecutors.add(id);
            }
        }
        if (this.#timer === undefined && (this.#dirtyJobs.size > 0 || this.#dirtyExecutors.size > 0)) {
            this.#timer = setTimeout(() => {
                this.#timer = undefined;
                this.#flushing = this.#flush();
            }, this.#options.settleMs ?? 250);
        }
    }

    /** Re-queries what events touched; a failed query puts its id back for the next round. */
    async #flush(): Promise<void> {
        await this.#flushing;
        const jobs = [...this.#dirtyJobs];
        const executors = [...this.#dirtyExecutors];
        const tasks = [...this.#dirtyTasks];
        this.#dirtyJobs.clear();
        this.#dirtyExecutors.clear();
        this.#dirtyTasks.clear();
        const client = this.#options.client;
        const failed: Touched = { jobs: new Set(), executors: new Set() };
        await inBatches(jobs, async (id) => {
            try {
                // A ranked job's progress is its filings, which the events carry; only open jobs need task counts.
                const record = await client.getJob(id);
                this.model.setJob(record, record.assignment === 'ranked' ? undefined : await client.getJobProgress(id));
                await this.#loadResult(this.model.job(id));
            } catch (err) {
                if (!(err instanceof ChaincodeError)) {
                    failed.jobs.add(id);
                }
            }
        });
        const replicated = new Set([...this.model.jobs.values()].filter((j) => j.record !== undefined && j.record.verify !== 'signature').flatMap((j) => j.taskIds));
        await this.#loadReplication(tasks.filter((id) => replicated.has(id))).catch(() => undefined);
        await inBatches(executors, async (id) => {
            try {
                this.model.setExecutor(await client.getExecutor(id));
            } catch (err) {
                if (!(err instanceof ChaincodeError)) {
                    failed.executors.add(id);
                }
            }
        });
        this.#notify();
        if (!this.#closed && (failed.jobs.size > 0 || failed.executors.size > 0)) {
            // The peer did not answer: ask again later, not in a tight loop.
            this.#retry = setTimeout(() => {
                this.#markDirty(failed);
            }, 2000);
        }
    }

    #notify(): void {
        for (const listener of [...this.#listeners]) {
            listener();
        }
    }
}

/** Runs `work` over `items`, at most `width` at a time: a burst of events must not flood the peer with queries. */
async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>, width = 6): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
        while (next < items.length) {
            const item = items[next++] as T;
            await work(item);
        }
    };
    await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}
