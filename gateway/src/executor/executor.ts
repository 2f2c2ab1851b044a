// SPDX-License-Identifier: Apache-2.0
import { setTimeout as sleep } from 'node:timers/promises';
import { LEDGER_URI_PREFIX, LedgerworkError, compileProgram, leftChild, nextStep, rightChild, runProgram, sha256, treeShape } from '@ledgerwork/core';
import type { Binding, JobRecord, MergeNumber, TaskRecord } from '@ledgerwork/core';
import { frameMergeInput, readBundleKey, signMergeOutput, signTaskOutput } from '../bundle';
import type { OutputSignatures } from '../bundle';
import type { RunLimits, RunResult } from '../sandbox';
import { ChaincodeError } from '../client/errors';
import type { LedgerworkClient } from '../client/ledgerworkClient';
import { ContentFetcher, FetchError } from './programs';
import { ReplicaProtocol } from './replica';
import type { ReplicaLedger, ReplicaOutcome, ReplicaProtocolOptions, SignedResult } from './replica';
import type { ReplicaJournal } from './replicaJournal';

/** The ledger operations an executor uses (LedgerworkClient provides them). */
export type LedgerPort = Pick<LedgerworkClient, 'claimTask' | 'releaseTask' | 'submitResult' | 'reportFailure' | 'getTask' | 'getJob' | 'listTasksByJob' | 'getFiling' | 'fileNumber'> &
    Partial<ReplicaLedger> &
    Partial<Pick<LedgerworkClient, 'getProgram'>>;

/**
 * Produces a task's signed result from its checked bundle and input. The default runs the program in
 * the sandbox and signs with the bundle's key; the adversary suites plug a forger in here.
 */
export type ResultSource = (task: TaskRecord, bundle: Buffer, input: Buffer) => Promise<SignedResult | Outcome>;

/** Runs a program in the sandbox (SandboxPool provides it). */
export interface Runner {
    run(request: { programHash: string; module: Uint8Array; argv: readonly string[]; stdin: Uint8Array; seed: string; limits?: RunLimits }): Promise<RunResult>;
}

export interface ExecutorOptions {
    readonly executorId: string;
    readonly ledger: LedgerPort;
    readonly sandbox: Runner;
    readonly binding: Binding;
    readonly fetcher?: ContentFetcher;
    readonly limits?: RunLimits;
    /** How often a rank waiting for a sibling's filing asks the ledger again. */
    readonly pollMs?: number;
    /** Stops waiting loops (SIGINT/SIGTERM): work in flight is finished or left to its lease. */
    readonly signal?: AbortSignal;
    /** Wakes a waiting rank when its job's filings change (chaincode events; `awaiting` is the number it waits for); polling remains the fallback. */
    readonly waker?: { next(jobId: string, fallbackMs: number, awaiting?: { readonly y: number; readonly x: number }): Promise<void> };
    /** Where replicas of replicated tasks are sealed before they commit; needed to work such tasks. */
    readonly journal?: ReplicaJournal;
    /** Replaces running the program and signing (see ResultSource). */
    readonly source?: ResultSource;
    /** Called at each replica step (tests stop a process between commit and reveal). */
    readonly onReplicaStep?: ReplicaProtocolOptions['onStep'];
    /**
     * The task of a ranked job at a position (1-based). Default: a listing of the job's tasks, which
     * reads them all; a WorkLoop shares one listing among the ranks it runs.
     */
    readonly taskAt?: (job: JobRecord, index: number) => Promise<TaskRecord>;
}

/** What became of one task or rank. */
export type Outcome =
    | { readonly kind: 'accepted'; readonly taskId: string }
    | { readonly kind: 'filed'; readonly jobId: string; readonly rank: number; readonly last: MergeNumber }
    | { readonly kind: 'rejected'; readonly code: string; readonly detail: string }
    | { readonly kind: 'run-failed' | 'program-hash-mismatch' | 'fetch-failed'; readonly detail: string }
    /**
     * The sandbox had no free child within its queue bound: the program never ran, so nothing is
     * reported against the task. An open (or replicated) claim is `released` without penalty for
     * anyone to take again; a rank keeps its task and is tried again later.
     */
    | { readonly kind: 'queue-timeout'; readonly detail: string; readonly released: boolean }
    | { readonly kind: 'stopped'; readonly detail: string }
    | Exclude<ReplicaOutcome, { readonly kind: 'rejected' | 'stopped' }>;

/**
 * An executor: claims open tasks or works its ranks of ranked jobs, fetching and checking each
 * program, running it in the sandbox, signing with the key in the bundle and submitting. Failures
 * of the run are reported to the ledger; the executor itself keeps going.
 */
export class Executor {
    readonly #fetcher: ContentFetcher;
    #replicaProtocol: ReplicaProtocol | undefined;
    /** The last of this executor's claim-side transactions (see `#oneAtATime`). */
    #writes: Promise<unknown> = Promise.resolve();

    constructor(private readonly options: ExecutorOptions) {
        this.#fetcher = options.fetcher ?? new ContentFetcher();
    }

    /**
     * Runs this executor's claims, submissions, releases, failure reports and replica commits and
     * reveals one at a time, each from endorsement to commit. A claim reads the executor's live
     * claims, reputation and payout records (capacity and requirements), and each of those
     * transactions writes one of them: run side by side, the claim fails validation as a phantom
     * read and is re-run after a block. Waiting for the other transaction's commit costs less.
     * Executors are independent: different executors' transactions still overlap.
     */
    #oneAtATime<T>(transaction: () => Promise<T>): Promise<T> {
        const run = this.#writes.then(transaction, transaction);
        this.#writes = run.catch(() => undefined);
        return run;
    }

    /** Claims an open task; a refusal is thrown as ChaincodeError (ALREADY_CLAIMED for a lost race). */
    claim(taskId: string): Promise<TaskRecord> {
        return this.#oneAtATime(() => this.options.ledger.claimTask(taskId, this.options.executorId));
    }

    /** Claims an open task and completes it. A lost claim race surfaces as ChaincodeError ALREADY_CLAIMED. */
    async claimAndRun(taskId: string): Promise<Outcome> {
        const task = await this.claim(taskId);
        return this.runClaimed(task);
    }

    /** Runs a task this executor holds and submits (or reports) the outcome; a replica slot commits, then reveals. */
    async runClaimed(task: TaskRecord): Promise<Outcome> {
        if (task.verify !== undefined) {
            return this.#replicas().complete(task, () => this.#computeLeaf(task));
        }
        const computed = await this.#computeLeaf(task);
        if (!('result' in computed)) {
            return computed;
        }
        try {
            await this.#oneAtATime(() => this.options.ledger.submitResult(task.id, this.options.executorId, { result: computed.result.toString('base64'), signatures: computed.signatures }));
            return { kind: 'accepted', taskId: task.id };
        } catch (err) {
            if (err instanceof ChaincodeError && err.committed) {
                return { kind: 'rejected', code: err.code, detail: err.detail };
            }
            throw err;
        }
    }

    /** Reveals the replicas this executor sealed and committed before it stopped or crashed. */
    async resumeReplicas(): Promise<Outcome[]> {
        return this.options.journal === undefined ? [] : this.#replicas().resume();
    }

    #replicas(): ReplicaProtocol {
        const { journal, executorId, ledger, binding } = this.options;
        if (journal === undefined) {
            throw new Error(`executor ${executorId} needs a replica journal (ExecutorOptions.journal) to work replicated tasks`);
        }
        const { commitReplica, revealReplica, getReplication } = ledger;
        if (commitReplica === undefined || revealReplica === undefined || getReplication === undefined) {
            throw new Error(`executor ${executorId}: its ledger cannot commit and reveal replicas`);
        }
        this.#replicaProtocol ??= new ReplicaProtocol({
            executorId,
            ledger: {
                commitReplica: (...args) => this.#oneAtATime(() => commitReplica.apply(ledger, args)),
                revealReplica: (...args) => this.#oneAtATime(() => revealReplica.apply(ledger, args)),
                getReplication: getReplication.bind(ledger),
            },
            binding,
            journal,
            ...(this.options.waker === undefined ? {} : { waker: this.options.waker }),
            ...(this.options.pollMs === undefined ? {} : { pollMs: this.options.pollMs }),
            ...(this.options.signal === undefined ? {} : { signal: this.options.signal }),
            ...(this.options.onReplicaStep === undefined ? {} : { onStep: this.options.onReplicaStep }),
        });
        return this.#replicaProtocol;
    }

    /**
     * Works one rank of a ranked job to its end (SPEC §6.5): compute the leaf (or ZERO beyond N);
     * at an odd position file it and stop; at an even one wait for (y, x−1), merge it (left) with
     * the own result (right) into (y+1, x/2) — carrying the own leaf when y = 1 — file, and go on.
     */
    async runRank(jobId: string, rank: number): Promise<Outcome> {
        const job = await this.options.ledger.getJob(jobId);
        const merge = job.merge;
        if (merge === undefined) {
            throw new Error(`job ${jobId} is not ranked`);
        }
        const shape = treeShape(job.taskCount);
        let held: MergeNumber = { y: 1, x: rank };
        let leaf: { result: Buffer | null; signatures?: object } = { result: null };
        if (rank <= job.taskCount) {
            const task = await this.#taskOfRank(job, rank);
            const computed = await this.#computeLeaf(task);
            if (!('result' in computed)) {
                return computed;
            }
            leaf = { result: computed.result, signatures: computed.signatures };
        }
        let value = leaf.result;
        if (nextStep(shape, held).action === 'stop') {
            await this.#file(jobId, { y: 1, x: rank, result: encode(value), ...(leaf.signatures === undefined ? {} : { signatures: leaf.signatures }) });
            return { kind: 'filed', jobId, rank, last: held };
        }
        const mergeBundle = await this.#fetch(merge.program.uri, merge.program.sha256);
        if (!Buffer.isBuffer(mergeBundle)) {
            return mergeBundle;
        }
        for (;;) {
            const step = nextStep(shape, held);
            if (step.action === 'stop') {
                return { kind: 'filed', jobId, rank, last: held };
            }
            const left = await this.#waitForFiling(jobId, step.left);
            if (left === undefined) {
                return { kind: 'stopped', detail: `stopped while waiting for (${step.left.y}, ${step.left.x})` };
            }
            const into = step.into;
            const merged = await this.#mergeInto(job, mergeBundle, into, step.kind, left, value);
            if (!('result' in merged)) {
                return merged;
            }
            const { result, signatures } = merged;
            const carry = held.y === 1 ? { carry: { result: encode(leaf.result), ...(leaf.signatures === undefined ? {} : { signatures: leaf.signatures }) } } : {};
            await this.#file(jobId, { y: into.y, x: into.x, result: encode(result), ...(signatures === undefined ? {} : { signatures }), ...carry });
            held = into;
            value = result;
        }
    }

    /** The result at `into`: ZERO, the left child's (pass-through), or the merge program's, signed with the merge key. */
    async #mergeInto(
        job: JobRecord,
        mergeBundle: Buffer,
        into: MergeNumber,
        kind: 'zero' | 'pass-through' | 'merge',
        left: Buffer | null,
        right: Buffer | null,
    ): Promise<{ result: Buffer | null; signatures?: object } | Outcome> {
        if (kind === 'zero' || left === null) {
            return { result: null };
        }
        if (kind === 'pass-through' || right === null) {
            return { result: left };
        }
        const program = job.merge?.program.sha256 ?? '';
        if (job.merge?.verify !== undefined) {
            return reexecutableMerge(program, mergeBundle, job.merge.verify.fuel, into, left, right);
        }
        const run = await this.options.sandbox.run({ programHash: program, module: mergeBundle, argv: ['merge'], stdin: frameMergeInput(left, right), seed: `${job.id}/${into.y}/${into.x}`, ...this.#limits() });
        if (!run.ok) {
            const detail = `merge into (${into.y}, ${into.x}): ${run.kind}: ${run.detail}`;
            return run.kind === 'queue-timeout' ? { kind: 'queue-timeout', detail, released: false } : { kind: 'run-failed', detail };
        }
        const signed = signMergeOutput(mergeBundle, { binding: this.options.binding, jobId: job.id, y: into.y, x: into.x, leftResultHash: sha256(left), rightResultHash: sha256(right), result: run.stdout, mode: job.mode });
        return { result: run.stdout, signatures: toWire(signed) };
    }

    async #file(jobId: string, filing: object): Promise<void> {
        try {
            await this.options.ledger.fileNumber(jobId, this.options.executorId, filing);
        } catch (err) {
            if (err instanceof ChaincodeError && err.code === 'ALREADY_FILED') {
                // A retry after an ambiguous commit found its own earlier filing.
                return;
            }
            throw err;
        }
    }

    /** The result filed at `number` (null for ZERO), once it is there; undefined if stopped. */
    async #waitForFiling(jobId: string, number: MergeNumber): Promise<Buffer | null | undefined> {
        for (;;) {
            if (this.options.signal?.aborted === true) {
                return undefined;
            }
            try {
                const { result } = await this.options.ledger.getFiling(jobId, number.y, number.x);
                return result === null ? null : Buffer.from(result, 'base64');
            } catch (err) {
                if (!(err instanceof ChaincodeError && err.code === 'NOT_FOUND')) {
                    throw err;
                }
            }
            const pollMs = this.options.pollMs ?? 200;
            await (this.options.waker === undefined ? sleep(pollMs) : this.options.waker.next(jobId, pollMs, number));
        }
    }

    /** Fetches, checks and runs a task; reports the failure to the ledger when it cannot produce a result. */
    async #computeLeaf(task: TaskRecord): Promise<SignedResult | Outcome> {
        const bundle = await this.#fetch(task.program.uri, task.program.sha256);
        const input = Buffer.isBuffer(bundle) ? await this.#input(task) : bundle;
        if (!Buffer.isBuffer(bundle) || !Buffer.isBuffer(input)) {
            const failure = Buffer.isBuffer(bundle) ? (input as Outcome) : bundle;
            await this.#report(task, failure);
            return failure;
        }
        if (this.options.source !== undefined) {
            return this.options.source(task, bundle, input);
        }
        // A merge task's input is its children's result hashes (what it signs); the program merges their values.
        const stdin = task.mergeAt === undefined ? input : await this.#mergeInput(task, task.mergeAt, input);
        if (!Buffer.isBuffer(stdin)) {
            await this.#report(task, stdin);
            return stdin;
        }
        const run = await this.options.sandbox.run({ programHash: task.program.sha256, module: bundle, argv: [task.mergeAt === undefined ? 'task' : 'merge'], stdin, seed: task.id, ...this.#limits() });
        if (!run.ok && run.kind === 'queue-timeout') {
            return this.#giveBack(task, `${run.kind}: ${run.detail}`);
        }
        if (!run.ok) {
            const failure: Outcome = { kind: 'run-failed', detail: `${run.kind}: ${run.detail}` };
            await this.#report(task, failure);
            return failure;
        }
        const key = readBundleKey(bundle);
        return { result: run.stdout, signatures: toWire(signTaskOutput(key, { binding: this.options.binding, taskId: task.id, input, result: run.stdout, mode: task.mode })) };
    }

    /**
     * The program never ran (the sandbox queue was full): not the task's fault nor the executor's, so
     * no failure is reported. A claim (or replica slot) is released without penalty; a rank's task stays with its rank.
     */
    async #giveBack(task: TaskRecord, detail: string): Promise<Outcome> {
        if (task.assignment === 'ranked' && task.verify === undefined) {
            return { kind: 'queue-timeout', detail, released: false };
        }
        await this.#oneAtATime(() => this.options.ledger.releaseTask(task.id, this.options.executorId));
        return { kind: 'queue-timeout', detail, released: true };
    }

    /**
     * The merge program's input for the merge task of a ranked job under a replicated policy: the
     * accepted values of its two children, checked against the hashes the task binds.
     */
    async #mergeInput(task: TaskRecord, at: MergeNumber, hashes: Buffer): Promise<Buffer | Outcome> {
        const values: Buffer[] = [];
        for (const child of [leftChild(at), rightChild(at)]) {
            const { result } = await this.options.ledger.getFiling(task.jobId, child.y, child.x);
            values.push(result === null ? Buffer.alloc(0) : Buffer.from(result, 'base64'));
        }
        const [left = Buffer.alloc(0), right = Buffer.alloc(0)] = values;
        if (!Buffer.concat([sha256(left), sha256(right)]).equals(hashes)) {
            return { kind: 'fetch-failed', detail: `the values filed under (${at.y}, ${at.x}) of job ${task.jobId} do not hash to the merge task's input` };
        }
        return frameMergeInput(left, right);
    }

    async #input(task: TaskRecord): Promise<Buffer | Outcome> {
        if (task.input.inline !== undefined) {
            return Buffer.from(task.input.inline, 'base64');
        }
        return this.#fetch(task.input.uri ?? '', task.input.sha256);
    }

    async #fetch(uri: string, sha256Hex: string): Promise<Buffer | Outcome> {
        if (uri.startsWith(LEDGER_URI_PREFIX)) {
            return this.#fetchFromLedger(uri, sha256Hex);
        }
        try {
            return await this.#fetcher.fetchVerified(uri, sha256Hex);
        } catch (err) {
            if (err instanceof FetchError) {
                return { kind: err.reason === 'mismatch' ? 'program-hash-mismatch' : 'fetch-failed', detail: err.message };
            }
            throw err;
        }
    }

    /** A program on the ledger (`ledger://<sha256>`), fetched by evaluating programs:Get and checked against the hash. */
    async #fetchFromLedger(uri: string, sha256Hex: string): Promise<Buffer | Outcome> {
        const getProgram = this.options.ledger.getProgram?.bind(this.options.ledger);
        if (getProgram === undefined) {
            return { kind: 'fetch-failed', detail: `${uri}: this executor's ledger client cannot read programs on the ledger` };
        }
        try {
            const bytes = Buffer.from((await getProgram(uri.slice(LEDGER_URI_PREFIX.length))).program, 'base64');
            const actual = sha256(bytes).toString('hex');
            return actual === sha256Hex ? bytes : { kind: 'program-hash-mismatch', detail: `${uri} has SHA-256 ${actual}, the ledger says ${sha256Hex}` };
        } catch (err) {
            if (err instanceof ChaincodeError) {
                return { kind: 'fetch-failed', detail: `${uri}: ${err.message}` };
            }
            throw err;
        }
    }

    async #report(task: TaskRecord, failure: Outcome): Promise<void> {
        if (failure.kind !== 'run-failed' && failure.kind !== 'program-hash-mismatch' && failure.kind !== 'fetch-failed') {
            return;
        }
        await this.#oneAtATime(() => this.options.ledger.reportFailure(task.id, this.options.executorId, { kind: failure.kind, detail: failure.detail.slice(0, 1000) }));
    }

    async #taskOfRank(job: JobRecord, rank: number): Promise<TaskRecord> {
        if (this.options.taskAt !== undefined) {
            return this.options.taskAt(job, rank);
        }
        let bookmark = '';
        do {
            const page = await this.options.ledger.listTasksByJob(job.id, '', 1000, bookmark);
            const found = page.items.find((t) => t.index === rank);
            if (found !== undefined) {
                return found;
            }
            bookmark = page.bookmark;
        } while (bookmark !== '');
        throw new Error(`job ${job.id} has no task at rank ${rank} yet`);
    }

    #limits(): { limits?: RunLimits } {
        return this.options.limits === undefined ? {} : { limits: this.options.limits };
    }
}

/** The chaincode's signature JSON for a bundle signer's output. */
/**
 * A merge the endorsers re-execute: computed here with the chaincode's own deterministic runtime (the
 * program is a ledger program, not a WASI module), filed without a merge signature.
 */
function reexecutableMerge(sha256Hex: string, program: Buffer, fuel: number, into: MergeNumber, left: Buffer, right: Buffer): { result: Buffer } | Outcome {
    const at = `merge into (${into.y}, ${into.x})`;
    try {
        const outcome = runProgram(compileProgram(sha256Hex, program), { entry: 'merge', input: left, result: right, fuel, maxOutputBytes: 1 << 20 });
        if (outcome.kind === 'failed') {
            return { kind: 'run-failed', detail: `${at}: ${outcome.code}: ${outcome.detail}` };
        }
        return outcome.value === 0 ? { result: outcome.output } : { kind: 'run-failed', detail: `${at}: the merge program returned ${outcome.value}` };
    } catch (err) {
        if (err instanceof LedgerworkError) {
            return { kind: 'run-failed', detail: `${at}: ${err.message}` };
        }
        throw err;
    }
}

export function toWire(signatures: OutputSignatures): { input: string; result: string } | { combined: string } {
    return signatures.mode === 'combined' ? { combined: signatures.signature } : { input: signatures.inputSignature, result: signatures.resultSignature };
}

function encode(bytes: Buffer | null): string | null {
    return bytes === null ? null : bytes.toString('base64');
}
