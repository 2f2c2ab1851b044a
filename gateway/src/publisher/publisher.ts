// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { appendFile, link, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DirectoryError, ensureDirectory } from '../directories';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { sha256, treeShape } from '@ledgerwork/core';
import type { JobRecord } from '@ledgerwork/core';
import { buildBundle, generateTaskKey, programHashHex } from '../bundle';
import type { TaskKeyPair } from '../bundle';
import { ChaincodeError } from '../client/errors';
import type { LedgerworkClient } from '../client/ledgerworkClient';
import type { VerifyPolicy } from './verifyPolicy';

/** The ledger operations a publisher uses (LedgerworkClient provides them). */
export type PublisherPort = Pick<LedgerworkClient, 'publishJob' | 'addTasks' | 'getFiling' | 'getJobProgress' | 'listTasksByJob'>;

/** Where bundles and large inputs are put so executors can fetch them; returns the URI to publish. */
export interface ContentStore {
    put(name: string, bytes: Uint8Array): Promise<string>;
    /** Keeps what was put since the last keep/discard: the ledger accepted the transaction naming it. */
    keep?(): void;
    /** Removes what was put since the last keep/discard and did not exist before: the ledger refused it. */
    discard?(): Promise<void>;
    /** Starts a batch of job `jobId`: what is put until keep/discard is journaled, so that a killed publisher's batch can be settled later. */
    beginBatch?(jobId: string): Promise<void>;
    /**
     * Settles the batches of publishers that died between putting content and keep/discard (kill -9):
     * content the ledger names (`referencedBy(jobId)`, file URIs) stays, the rest goes.
     */
    recover?(referencedBy: (jobId: string) => Promise<ReadonlySet<string>>): Promise<StoreRecovery>;
}

/** What `recover` settled. */
export interface StoreRecovery {
    /** Files of interrupted batches the ledger does not name (removed), and those it does (kept). */
    readonly removed: number;
    readonly kept: number;
}

/** `.batch.<pid>.<jobId>.log`: the journal of a batch in flight (job ids may hold '.', pids do not). */
const JOURNAL = /^\.batch\.(\d+)\.(.+)\.log$/;
/** `.<hash>.<pid>.<random>.tmp`: a file being written. */
const TEMPORARY = /^\.[0-9a-f]{64}\.(\d+)\.[0-9a-f]+\.tmp$/;

/** Whether a process with this id is running (signal 0 only checks; EPERM: it runs as someone else). */
function isRunning(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
}

/** A store directory that cannot be created or written, or a file in it that is not what it should be. */
export class StoreError extends Error {
    override readonly name = 'StoreError';
}

/**
 * Stores content as files named by their SHA-256 (`<hash>.wasm`, `<hash>.input`) and publishes
 * file:// URIs (executors on the same machine or a shared file system). A file is written to a
 * temporary name and linked into place, so a reader never sees half a file and an existing file is
 * never overwritten: the same name always holds the same bytes. Nothing from the command line
 * becomes part of a file name.
 */
export class DirectoryStore implements ContentStore {
    /** Files this store created since the last keep/discard. */
    readonly #pending = new Set<string>();
    /** The journal of the batch in flight (beginBatch), listing each file before it is linked into place. */
    #journal: string | undefined;
    #ready: Promise<void> | undefined;

    constructor(private readonly directory: string) {}

    /** Creates the directory (once); a StoreError when it cannot be. */
    ready(): Promise<void> {
        this.#ready ??= ensureStoreDirectory(this.directory);
        return this.#ready;
    }

    async put(name: string, bytes: Uint8Array): Promise<string> {
        await this.ready();
        const hash = sha256(bytes).toString('hex');
        const extension = /\.[a-z]+$/.exec(name)?.[0] ?? '';
        const file = path.join(this.directory, `${hash}${extension}`);
        if (!(await holdsHash(file, hash))) {
            const temporary = path.join(this.directory, `.${hash}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
            try {
                await writeFile(temporary, bytes, { flag: 'wx' });
                if (this.#journal !== undefined) {
                    await appendFile(this.#journal, `${path.basename(file)}\n`);
                }
                await link(temporary, file).catch(async (err: unknown) => {
                    // Another publisher linked the same bytes first: fine when they are the same.
                    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !(await holdsHash(file, hash))) {
                        throw err;
                    }
                });
                this.#pending.add(file);
            } catch (err) {
                throw new StoreError(`cannot write ${file}: ${err instanceof Error ? err.message : String(err)}`);
            } finally {
                await unlink(temporary).catch(() => undefined);
            }
        }
        return pathToFileURL(file).href;
    }

    keep(): void {
        this.#pending.clear();
        this.#endJournal();
    }

    async discard(): Promise<void> {
        const files = [...this.#pending];
        this.#pending.clear();
        await Promise.all(files.map((file) => unlink(file).catch(() => undefined)));
        this.#endJournal();
    }

    async beginBatch(jobId: string): Promise<void> {
        await this.ready();
        this.#journal = path.join(this.directory, `.batch.${process.pid}.${jobId}.log`);
        try {
            await writeFile(this.#journal, '');
        } catch (err) {
            throw new StoreError(`cannot write ${this.#journal}: ${err instanceof Error ? err.message : String(err)}`);
        }
    }

    #endJournal(): void {
        if (this.#journal !== undefined) {
            rmSync(this.#journal, { force: true });
            this.#journal = undefined;
        }
    }

    async recover(referencedBy: (jobId: string) => Promise<ReadonlySet<string>>): Promise<StoreRecovery> {
        await this.ready();
        let removed = 0;
        let kept = 0;
        for (const name of await readdir(this.directory)) {
            const temporary = TEMPORARY.exec(name);
            if (temporary !== null && !isRunning(Number(temporary[1]))) {
                await unlink(path.join(this.directory, name)).catch(() => undefined);
                continue;
            }
            const journal = JOURNAL.exec(name);
            const pid = Number(journal?.[1]);
            if (journal === null || pid === process.pid || isRunning(pid)) {
                continue;
            }
            const named = await referencedBy(journal[2] ?? '');
            const listed = (await readFile(path.join(this.directory, name), 'utf8')).split('\n').filter((line) => /^[0-9a-f]{64}(\.[a-z]+)?$/.test(line));
            for (const file of new Set(listed)) {
                const full = path.join(this.directory, file);
                if (named.has(pathToFileURL(full).href)) {
                    kept++;
                } else if (await unlink(full).then(() => true, () => false)) {
                    removed++;
                }
            }
            await unlink(path.join(this.directory, name)).catch(() => undefined);
        }
        return { removed, kept };
    }
}

/** True when `file` exists with content `hash`; a StoreError when it exists with other content. */
async function holdsHash(file: string, hash: string): Promise<boolean> {
    let existing: Buffer;
    try {
        existing = await readFile(file);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            return false;
        }
        throw new StoreError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (sha256(existing).toString('hex') !== hash) {
        throw new StoreError(`${file} does not hold the content its name says (SHA-256 ${hash}); it was changed by something else — remove it`);
    }
    return true;
}

/** The store's directory, created if missing; a StoreError when it cannot be used. */
async function ensureStoreDirectory(directory: string): Promise<void> {
    try {
        await ensureDirectory(directory);
    } catch (err) {
        throw err instanceof DirectoryError ? new StoreError(err.message) : err;
    }
}

export interface JobPlanOptions {
    readonly jobId: string;
    readonly description?: string;
    /** The task program: a WASI module without a key. */
    readonly program: Uint8Array;
    /** The merge program (ranked jobs). */
    readonly mergeProgram?: Uint8Array;
    readonly inputs: readonly Uint8Array[];
    /** One key per task (default), or one for the whole job (one bundle, fetched once). */
    readonly keyScope?: 'task' | 'job';
    readonly reward: bigint;
    readonly mergeReward?: bigint;
    readonly mode?: 'separate' | 'combined';
    /** How a result becomes accepted (default: one signature). Replicated policies escrow reward × maxReplicas. */
    readonly verify?: VerifyPolicy;
    /** A validator on the ledger (`ledger://…`) the endorsers run on every result, with its fuel. */
    readonly validator?: { readonly program: string; readonly fuel: number };
    /** A merge program on the ledger the endorsers re-execute on every filing (instead of a signed merge bundle). */
    readonly ledgerMerge?: { readonly uri: string; readonly sha256: string; readonly fuel?: number };
    readonly assignment?: 'open' | 'ranked';
    readonly shards?: readonly string[];
    readonly leaseMs?: number;
    readonly deadline: number;
    readonly maxAttempts?: number;
    readonly requirements?: { readonly skills?: readonly string[]; readonly minReputation?: number };
    readonly store: ContentStore;
    /** Inputs up to this size go on the ledger; larger ones to the store. */
    readonly inlineLimit?: number;
    /** Planning one batch of a larger job: the number of the first input's task (default 1) … */
    readonly firstIndex?: number;
    /** … and the job's task count (default: the number of inputs). */
    readonly taskCount?: number;
}

/** A job ready to publish: the spec without tasks, and the task specs. */
export interface JobPlan {
    readonly job: Readonly<Record<string, unknown>>;
    readonly tasks: readonly Readonly<Record<string, unknown>>[];
}

/**
 * Prepares a job (SPEC §4): generates the task keys, builds each bundle with its key in the
 * `ledgerwork.key` section, stores bundles (and large inputs) where executors can fetch them, and
 * writes the task specs with the program hash and public key the ledger needs.
 */
export async function planJob(options: JobPlanOptions): Promise<JobPlan> {
    const first = options.firstIndex ?? 1;
    const taskIds = options.inputs.map((_, i) => `${options.jobId}-${first + i}`);
    const shared = options.keyScope === 'job' ? await storeBundle(options, options.program, generateTaskKey(), `${options.jobId}.wasm`) : undefined;
    const tasks: Record<string, unknown>[] = [];
    for (const [i, input] of options.inputs.entries()) {
        const id = taskIds[i] ?? '';
        const program = shared ?? (await storeBundle(options, options.program, generateTaskKey(), `${id}.wasm`));
        tasks.push({ id, program: program.ref, publicKey: program.publicKeyPem, input: await taskInput(options, id, input), reward: options.reward.toString() });
    }
    const merge = options.mergeProgram === undefined ? undefined : await storeBundle(options, options.mergeProgram, generateTaskKey(), `${options.jobId}.merge.wasm`);
    return { job: jobFields(options, merge), tasks };
}

async function taskInput(options: JobPlanOptions, id: string, input: Uint8Array): Promise<Record<string, unknown>> {
    if (input.length <= (options.inlineLimit ?? 16 * 1024)) {
        return { inline: Buffer.from(input).toString('base64') };
    }
    return { sha256: sha256(input).toString('hex'), size: input.length, uri: await options.store.put(`${id}.input`, input) };
}

function jobFields(options: JobPlanOptions, merge: { ref: { uri: string; sha256: string }; publicKeyPem: string } | undefined): Record<string, unknown> {
    return {
        id: options.jobId,
        description: options.description ?? '',
        mode: options.mode ?? 'separate',
        ...verifyField(options),
        assignment: options.assignment ?? (merge === undefined && options.ledgerMerge === undefined ? 'open' : 'ranked'),
        taskCount: options.taskCount ?? options.inputs.length,
        deadline: options.deadline,
        ...(options.shards === undefined ? {} : { shards: options.shards }),
        ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
        ...(options.requirements === undefined ? {} : { requirements: options.requirements }),
        ...(merge === undefined ? {} : { merge: { program: merge.ref, publicKey: merge.publicKeyPem, reward: (options.mergeReward ?? 0n).toString() } }),
        ...(options.ledgerMerge === undefined ? {} : { merge: reexecutedMerge(options.ledgerMerge, options.mergeReward ?? 0n) }),
    };
}

/** The job's verify field: the policy, with the validator alone or inside a replicated policy. */
function verifyField(options: JobPlanOptions): Record<string, unknown> {
    const { verify, validator } = options;
    if (validator === undefined) {
        return verify === undefined ? {} : { verify };
    }
    if (verify === undefined || verify.policy === 'signature') {
        return { verify: { policy: 'validator', ...validator } };
    }
    return { verify: { ...verify, validator } };
}

function reexecutedMerge(program: NonNullable<JobPlanOptions['ledgerMerge']>, reward: bigint): Record<string, unknown> {
    return { program: { uri: program.uri, sha256: program.sha256 }, reward: reward.toString(), verify: 'reexecute', ...(program.fuel === undefined ? {} : { fuel: program.fuel }) };
}

async function storeBundle(options: JobPlanOptions, module: Uint8Array, key: TaskKeyPair, name: string): Promise<{ ref: { uri: string; sha256: string }; publicKeyPem: string }> {
    const bundle = buildBundle(module, key.privateKey);
    return { ref: { uri: await options.store.put(name, bundle), sha256: programHashHex(bundle) }, publicKeyPem: key.publicKeyPem };
}

/**
 * Publishes a plan, in batches: the job with its first batch, then AddTasks until all are on the
 * ledger. Earlier batches are claimable while later ones are added.
 */
export async function publishPlan(ledger: PublisherPort, plan: JobPlan, batchSize = 256): Promise<JobRecord> {
    let record = await ledger.publishJob({ ...plan.job, tasks: plan.tasks.slice(0, batchSize) });
    for (let start = batchSize; start < plan.tasks.length; start += batchSize) {
        record = await ledger.addTasks(String(plan.job.id), plan.tasks.slice(start, start + batchSize));
    }
    return record;
}

/**
 * Waits until the target (h, 1) of a ranked job is filed (SPEC §6.6), asking the ledger every
 * `pollMs`; returns its result bytes.
 * @throws {ChaincodeError} INVALID_STATE when the job ends (cancelled, expired) without a result
 */
export async function waitForTarget(
    ledger: PublisherPort,
    jobId: string,
    taskCount: number,
    options: {
        pollMs?: number;
        signal?: AbortSignal;
        onProgress?: (filed: number, numbers: number, level: number) => void;
        /** Wakes the wait when the job's filings change (chaincode events, e.g. FilingWaker); `pollMs` stays the fallback. */
        waker?: { next(jobId: string, fallbackMs: number): Promise<void> };
    } = {},
): Promise<Buffer> {
    const shape = treeShape(taskCount);
    for (;;) {
        options.signal?.throwIfAborted();
        const result = await filedResult(ledger, jobId, shape.height);
        if (result !== undefined) {
            return result;
        }
        const progress = await ledger.getJobProgress(jobId);
        if ((['cancelled', 'expired', 'failed'] as const).some((ended) => ended === progress.state)) {
            throw new ChaincodeError('INVALID_STATE', `job ${jobId} is ${progress.state}`);
        }
        options.onProgress?.(progress.merge?.filed ?? 0, progress.merge?.numbers ?? 0, progress.merge?.levelReached ?? 0);
        await pause(jobId, options.pollMs ?? 1000, options.waker);
    }
}

/** Until the next event of the job (when a waker follows events) or `pollMs`, whichever comes first. */
function pause(jobId: string, pollMs: number, waker: { next(jobId: string, fallbackMs: number): Promise<void> } | undefined): Promise<unknown> {
    return waker === undefined ? sleep(pollMs) : waker.next(jobId, pollMs);
}

async function filedResult(ledger: PublisherPort, jobId: string, height: number): Promise<Buffer | undefined> {
    try {
        const { result } = await ledger.getFiling(jobId, height, 1);
        if (result === null) {
            throw new ChaincodeError('INVALID_STATE', `job ${jobId} filed ZERO at its target`);
        }
        return Buffer.from(result, 'base64');
    } catch (err) {
        if (err instanceof ChaincodeError && err.code === 'NOT_FOUND') {
            return undefined;
        }
        throw err;
    }
}

/** The accepted results of an open job's tasks, by task id (tasks without one are absent). */
export async function collectResults(ledger: PublisherPort, jobId: string): Promise<Map<string, Buffer>> {
    const results = new Map<string, Buffer>();
    let bookmark = '';
    do {
        const page = await ledger.listTasksByJob(jobId, 'completed', 1000, bookmark);
        for (const task of page.items) {
            if (task.result !== undefined) {
                results.set(task.id, Buffer.from(task.result.inline, 'base64'));
            }
        }
        bookmark = page.bookmark;
    } while (bookmark !== '');
    return results;
}
