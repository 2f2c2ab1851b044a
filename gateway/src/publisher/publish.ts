// SPDX-License-Identifier: Apache-2.0
/**
 * Publishing a job so that nothing is lost whatever happens: checks before any work, one batch at a
 * time (keys, bundles, store, transaction), bundles kept only when the ledger accepted the batch
 * naming them, and a job interrupted half-way (killed, out of funds, network gone) picked up where
 * the ledger stands by running the same publish again.
 */
import { ID_PATTERN, MAX_TASKS_PER_RANKED_JOB, realMergeCount, sha256, treeShape } from '@ledgerwork/core';
import type { JobRecord, TaskRecord } from '@ledgerwork/core';
import { ChaincodeError, LedgerworkGatewayError, TransportError } from '../client/errors';
import type { LedgerworkClient } from '../client/ledgerworkClient';
import { DEFAULT_ADMISSION_LIMITS, admit } from '../sandbox/admission';
import type { AdmissionLimits } from '../sandbox/admission';
import { planJob } from './publisher';
import type { JobPlanOptions, StoreRecovery } from './publisher';

/** The ledger operations publishing uses (LedgerworkClient provides them). */
export type PublishPort = Pick<LedgerworkClient, 'publishJob' | 'addTasks' | 'getJob' | 'whoAmI' | 'listTasksByJob' | 'getParameters' | 'listExecutorsByShard'>;

/** A job that cannot be published as given (exit 2): nothing was written, nothing is locked. */
export class JobSpecError extends Error {
    override readonly name = 'JobSpecError';
}

/**
 * A publish that stopped after part of the job reached the ledger. `cause` says why; the job stays
 * `publishing` with the escrow of the published tasks locked until the same publish is run again
 * (it resumes) or the job is cancelled (refunded).
 */
export class IncompletePublishError extends LedgerworkGatewayError {
    override readonly name = 'IncompletePublishError';

    constructor(
        readonly jobId: string,
        readonly published: number,
        readonly taskCount: number,
        readonly reason: LedgerworkGatewayError,
    ) {
        super(
            `${reason.message} — job ${jobId} has ${published} of ${taskCount} tasks on the ledger; run the same publish command again (with --id ${jobId}) to add the rest, or \`ledgerwork job cancel ${jobId}\` to refund them`,
            reason.stage,
            { cause: reason },
        );
    }
}

export interface PublishOptions {
    /** Tasks per transaction (default 256). */
    readonly batchSize?: number;
    /** The executors' admission rules the programs must pass (default: an executor's defaults). */
    readonly admission?: AdmissionLimits;
    /** After each batch commits: tasks on the ledger, and of how many. */
    readonly onBatch?: (published: number, taskCount: number) => void;
}

export interface Published {
    readonly record: JobRecord;
    /** Tasks that were already on the ledger when this run started (0 for a fresh job). */
    readonly resumedFrom: number;
    /** Content a killed publisher left in the store from a batch the ledger never took (removed) or took (kept). */
    readonly recovered: StoreRecovery;
}

/**
 * Checks what can be checked before any work — the job id, the task count against the channel's
 * limit, the programs against the executors' admission rules, that every named shard has an
 * executor — then publishes the job in batches, or resumes it when the ledger holds a `publishing`
 * job of the same id, publisher, task count and inputs.
 * @throws {JobSpecError} for a job that cannot be published as given
 * @throws {ChaincodeError} ALREADY_EXISTS for a job id that is taken; LIMIT_EXCEEDED; any refusal of the first batch
 * @throws {IncompletePublishError} when a later batch fails (the message says how to go on)
 */
export async function publishJob(ledger: PublishPort, options: JobPlanOptions, run: PublishOptions = {}): Promise<Published> {
    await checkBeforePublishing(ledger, options, run.admission ?? DEFAULT_ADMISSION_LIMITS);
    // A publisher killed mid-batch left that batch's content behind: keep what the ledger names, remove the rest.
    const recovered = (await options.store.recover?.((jobId) => contentNamedBy(ledger, jobId))) ?? { removed: 0, kept: 0 };
    const batchSize = run.batchSize ?? 256;
    const total = options.inputs.length;
    const existing = await jobIfAny(ledger, options.jobId);
    let record: JobRecord;
    let start: number;
    if (existing === undefined) {
        record = await publishBatch(options, undefined, 0, batchSize, (plan) => ledger.publishJob({ ...plan.job, tasks: plan.tasks }));
        start = record.publishedCount;
        run.onBatch?.(start, total);
    } else {
        await checkResumable(ledger, existing, options);
        record = existing;
        start = existing.publishedCount;
        run.onBatch?.(start, total);
    }
    const resumedFrom = existing?.publishedCount ?? 0;
    while (start < total) {
        const from = start;
        record = await publishBatch(options, record, from, batchSize, (plan) => ledger.addTasks(options.jobId, plan.tasks));
        start = record.publishedCount;
        run.onBatch?.(start, total);
    }
    return { record, resumedFrom, recovered };
}

/** Every URI job `jobId` names on the ledger (its programs, its tasks' programs and inputs); none when it does not exist. */
async function contentNamedBy(ledger: PublishPort, jobId: string): Promise<ReadonlySet<string>> {
    const job = await jobIfAny(ledger, jobId);
    const named = new Set<string>();
    if (job === undefined) {
        return named;
    }
    for (const uri of [job.program?.uri, job.merge?.program.uri]) {
        if (uri !== undefined) {
            named.add(uri);
        }
    }
    let bookmark = '';
    do {
        const page = await ledger.listTasksByJob(jobId, '', 1000, bookmark);
        for (const task of page.items) {
            named.add(task.program.uri);
            if ('uri' in task.input && typeof task.input.uri === 'string') {
                named.add(task.input.uri);
            }
        }
        bookmark = page.bookmark;
    } while (bookmark !== '');
    return named;
}

/** Plans tasks [from, from + batchSize), stores their content, submits; keeps the content only if the ledger took it. */
async function publishBatch(
    options: JobPlanOptions,
    before: JobRecord | undefined,
    from: number,
    batchSize: number,
    submit: (plan: { job: Readonly<Record<string, unknown>>; tasks: readonly Readonly<Record<string, unknown>>[] }) => Promise<JobRecord>,
): Promise<JobRecord> {
    const inputs = options.inputs.slice(from, from + batchSize);
    let result: JobRecord;
    try {
        const { mergeProgram, ...rest } = options;
        const batch = { ...rest, inputs, firstIndex: from + 1, taskCount: options.inputs.length };
        // The merge bundle goes with the job itself, in the first batch.
        await options.store.beginBatch?.(options.jobId);
        const plan = await planJob(before === undefined && mergeProgram !== undefined ? { ...batch, mergeProgram } : batch);
        result = await submit(plan);
    } catch (err) {
        // A refused or never-sent transaction wrote nothing: its content goes. An outcome we do not know keeps it.
        if (!(err instanceof TransportError && err.ambiguous)) {
            await options.store.discard?.();
        }
        if (before !== undefined && err instanceof LedgerworkGatewayError) {
            throw new IncompletePublishError(options.jobId, before.publishedCount, options.inputs.length, err);
        }
        throw err;
    }
    options.store.keep?.();
    return result;
}

async function jobIfAny(ledger: PublishPort, jobId: string): Promise<JobRecord | undefined> {
    try {
        return await ledger.getJob(jobId);
    } catch (err) {
        if (err instanceof ChaincodeError && err.code === 'NOT_FOUND') {
            return undefined;
        }
        throw err;
    }
}

async function checkBeforePublishing(ledger: PublishPort, options: JobPlanOptions, admission: AdmissionLimits): Promise<void> {
    if (!ID_PATTERN.test(options.jobId) || options.inputs.length === 0) {
        throw new JobSpecError(options.inputs.length === 0 ? 'a job needs at least one task' : `the job id ${JSON.stringify(options.jobId.slice(0, 80))} is not 1–64 letters, digits, '.', '_' or '-' starting with a letter or digit`);
    }
    await checkTaskCount(ledger, options.inputs.length, options.mergeProgram !== undefined || options.ledgerMerge !== undefined);
    for (const [what, program] of [['--program', options.program], ['--merge', options.mergeProgram]] as const) {
        if (program !== undefined) {
            const verdict = admit(program, admission);
            if (!verdict.ok) {
                throw new JobSpecError(`${what} is not a program executors accept: ${verdict.detail}`);
            }
        }
    }
    for (const shard of options.shards ?? []) {
        const page = await ledger.listExecutorsByShard(shard, 1, '');
        if (page.items.length === 0) {
            throw new JobSpecError(`no executor is registered in shard ${shard}: nobody could work the job, and its escrow would stay locked until the deadline`);
        }
    }
}

/**
 * The channel's limit on tasks per job (and the merge tree's for ranked jobs), as the chaincode
 * would refuse it. Callers that build inputs from a count check the count with this first.
 * @throws {ChaincodeError} LIMIT_EXCEEDED
 */
export async function checkTaskCount(ledger: Pick<LedgerworkClient, 'getParameters'>, taskCount: number, ranked: boolean): Promise<void> {
    const { maxTasksPerJob } = await ledger.getParameters();
    const limit = ranked ? Math.min(maxTasksPerJob, MAX_TASKS_PER_RANKED_JOB) : maxTasksPerJob;
    if (taskCount > limit) {
        throw new ChaincodeError('LIMIT_EXCEEDED', `job.taskCount ${taskCount} exceeds ${limit}${ranked ? ' for a ranked job' : ''} (the channel's limit)`);
    }
}

/** A job already on the ledger may be resumed only by its publisher, while publishing, with the same tasks. */
async function checkResumable(ledger: PublishPort, job: JobRecord, options: JobPlanOptions): Promise<void> {
    const me = await ledger.whoAmI();
    if (job.state !== 'publishing' || job.publisher !== me.account || job.taskCount !== options.inputs.length) {
        const why = job.publisher !== me.account ? 'by another publisher' : job.state !== 'publishing' ? `and is ${job.state}` : `with ${job.taskCount} tasks, not ${options.inputs.length}`;
        throw new ChaincodeError('ALREADY_EXISTS', `job ${job.id} exists ${why}: choose another --id`);
    }
    let bookmark = '';
    let index = 0;
    do {
        const page = await ledger.listTasksByJob(job.id, '', 1000, bookmark);
        for (const task of page.items) {
            const ours = options.inputs[task.index - 1];
            if (ours === undefined || !sameInput(task, ours)) {
                throw new JobSpecError(`job ${job.id} is on the ledger with other inputs (task ${task.id} differs): resume it with the same inputs, or choose another --id`);
            }
            index++;
        }
        bookmark = page.bookmark;
    } while (bookmark !== '');
    if (index !== job.publishedCount) {
        throw new JobSpecError(`job ${job.id} lists ${index} tasks but counts ${job.publishedCount} published`);
    }
}

function sameInput(task: TaskRecord, input: Uint8Array): boolean {
    if ('inline' in task.input && typeof task.input.inline === 'string') {
        return task.input.inline === Buffer.from(input).toString('base64');
    }
    return 'sha256' in task.input && task.input.sha256 === sha256(input).toString('hex');
}

/** What a job locks: its tasks' rewards and, for a ranked job, a merge reward per real merge (× maxReplicas under a replicated policy). */
export function jobEscrow(job: JobRecord): bigint {
    const replicas = BigInt(job.verify === 'signature' ? 1 : job.verify.maxReplicas);
    const merges = job.merge === undefined ? 0n : BigInt(job.merge.reward) * BigInt(realMergeCount(treeShape(job.taskCount))) * replicas;
    return BigInt(job.taskEscrow) + merges;
}
