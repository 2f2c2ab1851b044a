// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { ensureDirectorySync } from '../directories';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkpointers } from '@hyperledger/fabric-gateway';
import type { ChaincodeEvent, Checkpointer, Network } from '@hyperledger/fabric-gateway';
import { FilingWaker } from './filingWaker';
import type { FiledNumber } from './filingWaker';

/** Why the follower looks at a job (or stops looking). */
export type JobInterest = { readonly kind: 'work'; readonly jobId: string; readonly reason: string } | { readonly kind: 'ended'; readonly jobId: string; readonly reason: string };

export interface JobFollowerOptions {
    readonly network: Pick<Network, 'getChaincodeEvents'>;
    readonly chaincodeName: string;
    /** The executors this process runs: ranked jobs matter only when one of them holds a rank. */
    readonly executorIds: readonly string[];
    /** fabric-gateway's file checkpoint; the jobs still to look at are kept beside it in `<file>.jobs.json`. */
    readonly checkpointFile: string;
    /** Where to start when the checkpoint is empty (default: the next block). */
    readonly startBlock?: bigint;
    /** Wait before reconnecting after the event stream failed (default 1 s). */
    readonly retryMs?: number;
    /** A job learned from an event, or a stream failure (the follower reconnects from its checkpoint). */
    readonly onNote?: (text: string) => void;
}

/**
 * Follows the chaincode's events from a persisted checkpoint (fabric-gateway's file checkpointer)
 * and keeps the set of jobs this process should look at: open jobs with tasks to claim
 * (JobPublished, TasksPublished, and tasks claimable again after LeaseExpired, TaskReleased,
 * RunFailed or ResultRejected), ranked jobs where one of its executors holds a rank (JobPublished's
 * `ranks`, RankReassigned; ranked jobs verified by replicas are worked like open ones, and a
 * ResultAccepted that publishes a merge task brings them back). Events of ended jobs (JobCompleted, JobCancelled, JobExpired) drop them.
 *
 * Each event is handled, the job set written (atomically), and only then the event checkpointed:
 * after a crash the events since the checkpoint are delivered again (at-least-once), and
 * handling one twice only adds a job that is already in the set. What to do with a job is the
 * run loop's business — it reads the ledger, so a claim repeated after a restart just meets
 * ALREADY_CLAIMED. The follower is also a waker for ranks waiting on a sibling's filing.
 */
export class JobFollower {
    readonly #options: JobFollowerOptions;
    readonly #checkpointer: Checkpointer;
    readonly #jobsFile: string;
    /** Job id → generation (bumped by every event naming it), so `forget` cannot drop news it has not seen. */
    readonly #jobs: Map<string, number>;
    readonly #waker = new FilingWaker();
    readonly #changed = new Set<() => void>();
    readonly #takenListeners = new Set<(jobId: string, taskId: string) => void>();
    #generation = 0;
    #closed = false;
    #close: (() => void) | undefined;
    #done: Promise<void> = Promise.resolve();
    #eventsHandled = 0;

    private constructor(options: JobFollowerOptions, checkpointer: Checkpointer) {
        this.#options = options;
        this.#checkpointer = checkpointer;
        this.#jobsFile = `${options.checkpointFile}.jobs.json`;
        this.#jobs = new Map(readJobs(this.#jobsFile).map((id) => [id, 0]));
    }

    /** Opens (or creates) the checkpoint and starts following; resolves once the first stream is requested. */
    static async start(options: JobFollowerOptions): Promise<JobFollower> {
        ensureDirectorySync(path.dirname(options.checkpointFile));
        const follower = new JobFollower(options, await checkpointers.file(options.checkpointFile));
        const first = await follower.#open();
        follower.#done = follower.#follow(first);
        return follower;
    }

    /** Where the checkpoint stands (undefined: nothing handled yet). */
    get position(): { block?: bigint; transactionId?: string } {
        const block = this.#checkpointer.getBlockNumber();
        const transactionId = this.#checkpointer.getTransactionId();
        return { ...(block === undefined ? {} : { block }), ...(transactionId === undefined ? {} : { transactionId }) };
    }

    /** Events handled since start. */
    get eventsHandled(): number {
        return this.#eventsHandled;
    }

    /** The jobs to look at, with their generation (pass it back to `forget`). */
    jobs(): Map<string, number> {
        return new Map(this.#jobs);
    }

    /** Stops looking at a job (it ended, or has nothing for us now) unless an event named it since `generation`. */
    forget(jobId: string, generation: number): void {
        if (this.#jobs.get(jobId) === generation) {
            this.#jobs.delete(jobId);
            this.#save();
        }
    }

    /** Resolves when an event adds work, after `timeoutMs`, or when `signal` aborts. */
    async changed(timeoutMs: number, signal?: AbortSignal): Promise<void> {
        if (signal?.aborted === true) {
            return;
        }
        const controller = new AbortController();
        const onAbort = (): void => {
            controller.abort();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#changed.add(onAbort);
        try {
            await sleep(timeoutMs, undefined, { signal: controller.signal }).catch(() => undefined);
        } finally {
            this.#changed.delete(onAbort);
            signal?.removeEventListener('abort', onAbort);
        }
    }

    /**
     * Calls `listener` with each open task a claim took (TaskClaimed, by any organization): a work
     * loop drops it from the tasks it was going to try instead of losing the race for it. Returns
     * the function that stops the calls.
     */
    onTaken(listener: (jobId: string, taskId: string) => void): () => void {
        this.#takenListeners.add(listener);
        return () => {
            this.#takenListeners.delete(listener);
        };
    }

    /** A waker for ranks waiting on a filing: resolves at the next event of `jobId` (that files `awaiting`, when given), or after `fallbackMs`. */
    next(jobId: string, fallbackMs: number, awaiting?: FiledNumber): Promise<void> {
        return this.#waker.next(jobId, fallbackMs, awaiting);
    }

    /** Stops following (the checkpoint stays where the last handled event put it). */
    async close(): Promise<void> {
        this.#closed = true;
        this.#close?.();
        this.#waker.close();
        for (const wake of [...this.#changed]) {
            wake();
        }
        await this.#done;
    }

    /** Applies one event: returns what it means for this process's executors. Exposed for tests. */
    static interestOf(event: Pick<ChaincodeEvent, 'eventName' | 'payload'>, executorIds: ReadonlySet<string>): JobInterest[] {
        const payload = parse(event.payload);
        const handler = INTERESTS[event.eventName];
        return payload === undefined || handler === undefined ? [] : handler(payload, executorIds, event.eventName);
    }

    /** The open task a TaskClaimed event says was taken, or undefined. Exposed for tests. */
    static takenOf(event: Pick<ChaincodeEvent, 'eventName' | 'payload'>): { jobId: string; taskId: string } | undefined {
        if (event.eventName !== 'TaskClaimed') {
            return undefined;
        }
        const payload = parse(event.payload);
        return typeof payload?.jobId === 'string' && typeof payload.taskId === 'string' ? { jobId: payload.jobId, taskId: payload.taskId } : undefined;
    }

    /** Handles one event; returns whether it added work. */
    #handle(event: ChaincodeEvent): boolean {
        this.#eventsHandled++;
        this.#waker.notifyEvent(event.payload);
        const taken = JobFollower.takenOf(event);
        if (taken !== undefined) {
            for (const listener of [...this.#takenListeners]) {
                listener(taken.jobId, taken.taskId);
            }
        }
        let added = false;
        let dirty = false;
        for (const interest of JobFollower.interestOf(event, new Set(this.#options.executorIds))) {
            if (interest.kind === 'ended') {
                dirty = this.#jobs.delete(interest.jobId) || dirty;
                continue;
            }
            if (!this.#jobs.has(interest.jobId)) {
                this.#options.onNote?.(`learned of ${interest.jobId}: ${interest.reason}`);
            }
            this.#jobs.set(interest.jobId, ++this.#generation);
            added = true;
            dirty = true;
        }
        if (dirty) {
            this.#save();
        }
        return added;
    }

    async #open(): Promise<AsyncIterable<ChaincodeEvent> & { close(): void }> {
        const events = await this.#options.network.getChaincodeEvents(this.#options.chaincodeName, {
            checkpoint: this.#checkpointer,
            ...(this.#options.startBlock === undefined ? {} : { startBlock: this.#options.startBlock }),
        });
        this.#close = () => {
            events.close();
        };
        return events;
    }

    /** The reconnect loop of fabric-gateway's docs: handle, save, checkpoint; on failure reopen from the checkpoint. */
    async #follow(first: AsyncIterable<ChaincodeEvent> & { close(): void }): Promise<void> {
        let events: (AsyncIterable<ChaincodeEvent> & { close(): void }) | undefined = first;
        while (!this.#closed) {
            try {
                events ??= await this.#open();
                for await (const event of events) {
                    if (this.#handle(event)) {
                        for (const wake of [...this.#changed]) {
                            wake();
                        }
                    }
                    await this.#checkpointer.checkpointChaincodeEvent(event);
                }
            } catch (err) {
                if (this.#isClosed()) {
                    return; // closing the stream raises CANCELLED
                }
                this.#options.onNote?.(`event stream: ${err instanceof Error ? err.message : String(err)} (reconnecting from the checkpoint)`);
            } finally {
                events?.close();
                events = undefined;
            }
            if (!this.#isClosed()) {
                await sleep(this.#options.retryMs ?? 1000);
            }
        }
    }

    /** Read through a method: `close` changes it while the loop awaits. */
    #isClosed(): boolean {
        return this.#closed;
    }

    #save(): void {
        const tmp = `${this.#jobsFile}.tmp`;
        writeFileSync(tmp, `${JSON.stringify([...this.#jobs.keys()].sort())}\n`);
        renameSync(tmp, this.#jobsFile);
    }
}

type Payload = Record<string, unknown>;
type InterestOf = (payload: Payload, executorIds: ReadonlySet<string>, eventName: string) => JobInterest[];

function work(payload: Payload, reason: string): JobInterest[] {
    return typeof payload.jobId === 'string' ? [{ kind: 'work', jobId: payload.jobId, reason }] : [];
}

function ended(payload: Payload, reason: string): JobInterest[] {
    return typeof payload.jobId === 'string' ? [{ kind: 'ended', jobId: payload.jobId, reason }] : [];
}

function listOf(value: unknown): unknown[] {
    return Array.isArray(value) ? (value as unknown[]) : [];
}

/** What each event means; events not listed (TaskClaimed, MergeFiled, …) add no work. */
const INTERESTS: Readonly<Record<string, InterestOf | undefined>> = {
    JobPublished: (payload, ids) => {
        if (payload.assignment !== 'ranked' || isRecord(payload.verify)) {
            return work(payload, 'published');
        }
        const held = listOf(payload.ranks).filter((r): r is { executorId: string; rank: number } => isRecord(r) && typeof r.executorId === 'string' && ids.has(r.executorId));
        return held.length === 0 ? [] : work(payload, `published, rank ${held.map((r) => String(r.rank)).join(',')} held here`);
    },
    TasksPublished: (payload) => work(payload, 'tasks published'),
    ResultAccepted: (payload) => (typeof payload.opened === 'string' ? work(payload, `merge task ${payload.opened} published`) : []),
    TaskReleased: (payload) => work(payload, 'task released'),
    RunFailed: (payload, _ids, name) => (payload.state === 'published' ? work(payload, `task claimable again (${name})`) : []),
    ResultRejected: (payload, _ids, name) => (payload.state === 'published' ? work(payload, `task claimable again (${name})`) : []),
    RankReassigned: (payload, ids) => (typeof payload.to === 'string' && ids.has(payload.to) ? work(payload, `rank ${String(payload.rank)} reassigned to ${payload.to}`) : []),
    LeaseExpired: (payload) => {
        const jobs = new Set(listOf(payload.leasesExpired).flatMap((l) => (isRecord(l) && l.state === 'published' && typeof l.jobId === 'string' ? [l.jobId] : [])));
        return [...jobs].map((jobId): JobInterest => ({ kind: 'work', jobId, reason: 'lease expired' }));
    },
    JobExpired: (payload) => listOf(payload.jobsExpired).flatMap((jobId): JobInterest[] => (typeof jobId === 'string' ? [{ kind: 'ended', jobId, reason: 'expired' }] : [])),
    JobCompleted: (payload) => ended(payload, 'completed'),
    JobCancelled: (payload) => ended(payload, 'cancelled'),
};

/** The default checkpoint of a set of executors: `<stateDir>/<hash of channel, chaincode and ids>.checkpoint`. */
export function defaultCheckpointFile(options: { stateDir?: string; channel: string; chaincode: string; executorIds: readonly string[] }): string {
    const key = [options.channel, options.chaincode, ...[...options.executorIds].sort()].join('\n');
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
    return path.join(options.stateDir ?? path.join(homedir(), '.ledgerwork'), `${hash}.checkpoint`);
}

function readJobs(file: string): string[] {
    let text: string;
    try {
        text = readFileSync(file, 'utf8');
    } catch {
        return [];
    }
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || !parsed.every((id): id is string => typeof id === 'string')) {
        throw new Error(`${file} is not a JSON array of job ids`);
    }
    return parsed;
}

function parse(payload: Uint8Array): Record<string, unknown> | undefined {
    try {
        const parsed: unknown = JSON.parse(Buffer.from(payload).toString('utf8'));
        return isRecord(parsed) ? parsed : undefined;
    } catch {
        return undefined;
    }
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
