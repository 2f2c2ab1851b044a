// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';
import type { Candidate } from '../core/nodeSelection';
import type { ExecutorRecord, JobRecord, Parameters, RankRecord, Requirements, TaskRecord } from '../core/model';
import { requireQualified, requireWorking } from '../core/rules';
import { parsePublicKey, sha256 } from '../core/signature';
import type { TaskSpec } from '../core/specs';
import { DeltaWriter, balanceOf, reputationOf } from './accounts';
import type { LedgerworkContext } from './context';
import { KeyType, decode, deleteTimeIndex, entries, getRecord, hasEntry, pad, putRecord, requireRecord } from './store';
import { saveTask } from './tasks';

export function readJob(ctx: LedgerworkContext, jobId: string): Promise<JobRecord> {
    return requireRecord<JobRecord>(ctx, 'job', KeyType.Job, jobId);
}

export function requirePublisher(ctx: LedgerworkContext, job: JobRecord): void {
    if (job.publisher !== ctx.caller().account) {
        throw new LedgerworkError(ErrorCode.NotPublisher, `job ${job.id} was published by another identity`);
    }
}

/** Width of task positions in index keys (up to 65,536 tasks per job). */
const POSITION_WIDTH = 6;

export function rankKey(rank: number): string {
    return pad(rank, POSITION_WIDTH);
}

/** The task id at a 1-based position of a job, if that task has been published. */
export async function taskIdAt(ctx: LedgerworkContext, jobId: string, index: number): Promise<string | undefined> {
    return (await getRecord<{ taskId: string }>(ctx, KeyType.JobTask, jobId, pad(index, POSITION_WIDTH)))?.taskId;
}

/** Every task of a job in publication order. */
export async function tasksOfJob(ctx: LedgerworkContext, jobId: string): Promise<TaskRecord[]> {
    const tasks: TaskRecord[] = [];
    for (const entry of await entries(ctx, KeyType.JobTask, jobId)) {
        const { taskId } = decode<{ taskId: string }>(entry.value);
        tasks.push(await requireRecord<TaskRecord>(ctx, 'task', KeyType.Task, taskId));
    }
    return tasks;
}

/**
 * Executors of each shard that may be chosen for a ranked job now — active, above their reputation
 * floor, qualified for the job's requirements — with their capacity (the most ranks of one job each
 * may hold). Lists are in key order (sorted ids).
 */
export async function eligibleByShard(
    ctx: LedgerworkContext,
    parameters: Parameters,
    shards: readonly string[],
    requirements: Requirements,
    admitted: readonly string[] = shards,
): Promise<Record<string, Candidate[]>> {
    const eligible: Record<string, Candidate[]> = {};
    for (const shard of shards) {
        const candidates: Candidate[] = [];
        for (const entry of await entries(ctx, KeyType.ExecutorByShard, shard)) {
            const executorId = entry.attributes[1] ?? '';
            const executor = await requireRecord<ExecutorRecord>(ctx, 'executor', KeyType.Executor, executorId);
            if (await isEligible(ctx, parameters, executor, admitted, requirements)) {
                candidates.push({ id: executorId, capacity: executor.capacity });
            }
        }
        eligible[shard] = candidates;
    }
    return eligible;
}

/**
 * How many organizations could provide a replica of the job's tasks now: of the job's shards (or of
 * every shard with a registered executor when it names none), those with at least one active,
 * qualified executor.
 */
export async function availableShards(ctx: LedgerworkContext, parameters: Parameters, shards: readonly string[], requirements: Requirements): Promise<string[]> {
    const candidates =
        shards.length > 0 ? shards : [...new Set((await entries(ctx, KeyType.ExecutorByShard)).map((entry) => entry.attributes[0] ?? ''))].filter((shard) => shard !== '');
    const eligible = await eligibleByShard(ctx, parameters, candidates, requirements, shards);
    return candidates.filter((shard) => (eligible[shard] ?? []).length > 0);
}

async function isEligible(ctx: LedgerworkContext, parameters: Parameters, executor: ExecutorRecord, shards: readonly string[], requirements: Requirements): Promise<boolean> {
    const reputation = await reputationOf(ctx, executor.id, 'fold');
    try {
        requireWorking(parameters, executor, reputation);
        requireQualified(executor, reputation, { requirements, shards });
        return true;
    } catch (err) {
        if (err instanceof LedgerworkError) {
            return false;
        }
        throw err;
    }
}

/**
 * Turns a batch of task specs into task records at positions start, start+1, … and writes them with
 * their indexes. Ranked tasks are assigned to the rank holder of their position.
 * @returns the records and the credits they escrow
 */
export async function publishTasks(
    ctx: LedgerworkContext,
    job: JobRecord,
    specs: readonly TaskSpec[],
    start: number,
    parameters: Parameters,
    ranks: ReadonlyMap<number, RankRecord>,
): Promise<{ tasks: TaskRecord[]; escrow: bigint }> {
    const now = ctx.now();
    const tasks: TaskRecord[] = [];
    let escrow = 0n;
    for (const [offset, spec] of specs.entries()) {
        if ((await getRecord<TaskRecord>(ctx, KeyType.Task, spec.id)) !== undefined) {
            throw new LedgerworkError(ErrorCode.AlreadyExists, `task ${spec.id} already exists`);
        }
        parsePublicKey(spec.publicKey);
        const index = start + offset;
        const program = spec.program ?? job.program;
        if (program === undefined) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `task ${spec.id} has no program and job ${job.id} gives no default`);
        }
        if (job.validator !== undefined && !('inline' in spec.input)) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `task ${spec.id}: a job with a validator needs inline inputs (the validator reads the input on chain)`);
        }
        const rank = ranks.get(index);
        const task: TaskRecord = {
            id: spec.id,
            jobId: job.id,
            index,
            description: spec.description,
            publisher: job.publisher,
            program,
            publicKey: spec.publicKey,
            input: 'inline' in spec.input
                ? { inline: spec.input.inline.toString('base64'), sha256: sha256(spec.input.inline).toString('hex'), size: spec.input.inline.length }
                : { sha256: spec.input.sha256, uri: spec.input.uri, size: spec.input.size },
            reward: spec.reward.toString(),
            requirements: spec.requirements ?? job.requirements,
            shards: job.shards,
            assignment: job.assignment,
            mode: job.mode,
            leaseMs: job.leaseMs,
            deadline: job.deadline,
            maxAttempts: job.maxAttempts,
            rules: job.rules,
            maxResultBytes: parameters.maxInlineBytes,
            ...(job.verify === 'signature' ? {} : { verify: job.verify }),
            ...(job.validator === undefined ? {} : { validator: job.validator }),
            state: rank === undefined ? 'published' : 'assigned',
            ...(rank === undefined
                ? {}
                : { claim: { executorId: rank.executorId, account: rank.account, shard: rank.shard, claimedAt: now, leaseExpiresAt: job.deadline } }),
            attempts: 0,
            updatedAt: now,
        };
        await saveTask(ctx, undefined, task);
        await putRecord(ctx, { taskId: task.id }, KeyType.JobTask, job.id, pad(index, POSITION_WIDTH));
        tasks.push(task);
        escrow += spec.reward * BigInt(job.verify === 'signature' ? 1 : job.verify.maxReplicas);
    }
    return { tasks, escrow };
}

/**
 * A quorum of k needs k organizations that could provide a replica now.
 * @throws {LedgerworkError} TOO_FEW_SHARDS
 */
export async function requireQuorumShards(ctx: LedgerworkContext, parameters: Parameters, job: JobRecord): Promise<void> {
    if (job.verify === 'signature' || job.verify.policy !== 'quorum') {
        return;
    }
    const k = job.verify.k;
    const available = await availableShards(ctx, parameters, job.shards, job.requirements);
    if (available.length < k) {
        throw new LedgerworkError(
            ErrorCode.TooFewShards,
            `a quorum of ${k} needs ${k} organizations with an eligible executor; job ${job.id} can draw on ${available.length} (${available.join(', ') || 'none'})`,
        );
    }
}

/**
 * Every shard an open job names has at least one registered executor (one index record read per
 * shard); otherwise nobody could ever claim its tasks and the escrow would stay locked until the
 * deadline. (A ranked job's rank selection already refuses such a shard: TOO_FEW_EXECUTORS.)
 * @throws {LedgerworkError} UNKNOWN_SHARD
 */
export async function requireKnownShards(ctx: LedgerworkContext, job: JobRecord): Promise<void> {
    for (const shard of job.shards) {
        if (!(await hasEntry(ctx, KeyType.ExecutorByShard, shard))) {
            throw new LedgerworkError(ErrorCode.UnknownShard, `no executor is registered in shard ${shard}: nobody could work job ${job.id}`);
        }
    }
}

/**
 * Moves `amount` from the publisher's balance into escrow.
 * @throws {LedgerworkError} INSUFFICIENT_FUNDS
 */
export async function escrowFor(ctx: LedgerworkContext, job: JobRecord, amount: bigint): Promise<void> {
    const balance = await balanceOf(ctx, job.publisher, 'fold');
    if (balance < amount) {
        throw new LedgerworkError(ErrorCode.InsufficientFunds, `job ${job.id} needs ${amount} credits in escrow; the publisher's balance is ${balance}`);
    }
    await new DeltaWriter(ctx).credit(job.publisher, -amount, 'escrow', { jobId: job.id });
}

/** Marks a job completed and takes it off the deadline index. */
export async function completeJob(ctx: LedgerworkContext, jobId: string): Promise<void> {
    const job = await readJob(ctx, jobId);
    await putRecord(ctx, { ...job, state: 'completed', updatedAt: ctx.now() }, KeyType.Job, jobId);
    await deleteTimeIndex(ctx, KeyType.JobDeadline, job.deadline, jobId);
}
