// SPDX-License-Identifier: Apache-2.0
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { parseJson } from '../core/canonicalJson';
import { ErrorCode, LedgerworkError } from '../core/errors';
import { EventName } from '../core/events';
import { requireId } from '../core/ids';
import { realMergeCount, treeShape } from '../core/mergeTree';
import { selectNodes } from '../core/nodeSelection';
import type { JobRecord, JobTreeRecord, Parameters, RankRecord, TaskRecord } from '../core/model';
import { cancelFeeOf, isTerminal, withState } from '../core/rules';
import { parsePublicKey } from '../core/signature';
import { parseJobSpec, parseTaskBatch } from '../core/specs';
import type { JobSpec } from '../core/specs';
import { DeltaWriter, balanceOf, parametersOf } from '../ledger/accounts';
import { emit } from '../ledger/events';
import { LedgerworkContext } from '../ledger/context';
import { closeRanks } from '../ledger/ranks';
import { availableShards, eligibleByShard, publishTasks, rankKey, readJob, requirePublisher, tasksOfJob } from '../ledger/jobs';
import { KeyType, deleteTimeIndex, getRecord, putIndex, putRecord, putTimeIndex } from '../ledger/store';
import { saveTask } from '../ledger/tasks';
import { endReplicatedTask } from '../ledger/replicaFlow';
import { LedgerworkContract, reply } from './base';

/** Publishing, funding and cancelling jobs (SPEC §3, §4, §6.2). */
@Info({ title: 'JobContract', description: 'Publish jobs and their tasks with escrowed rewards; cancel them' })
export class JobContract extends LedgerworkContract {
    constructor() {
        super('jobs');
    }

    /**
     * Publishes a job and its first batch of tasks (possibly all), escrowing their rewards — and, for
     * a ranked job, the merge rewards — from the caller's balance. A ranked job's M nodes are chosen
     * here across its shards, seeded by the transaction id. Throws INVALID_ARGUMENT, INVALID_ID,
     * ALREADY_EXISTS, INVALID_PUBLIC_KEY, INSUFFICIENT_FUNDS, TOO_FEW_EXECUTORS, UNSUPPORTED.
     */
    @Transaction()
    @Returns('string')
    async Publish(ctx: LedgerworkContext, jobJson: string): Promise<string> {
        const parameters = await parametersOf(ctx);
        const spec = parseJobSpec(jobJson, parameters);
        const now = ctx.now();
        if ((await getRecord<JobRecord>(ctx, KeyType.Job, spec.id)) !== undefined) {
            throw new LedgerworkError(ErrorCode.AlreadyExists, `job ${spec.id} already exists`);
        }
        if (spec.deadline <= now) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `job.deadline ${spec.deadline} is not after the transaction time ${now}`);
        }
        const caller = ctx.caller();
        const job = newJob(spec, caller.account, caller.mspId, parameters, now);
        if (job.verify !== 'signature' && job.verify.policy === 'quorum') {
            const available = await availableShards(ctx, parameters, job.shards, job.requirements);
            if (available.length < job.verify.k) {
                throw new LedgerworkError(
                    ErrorCode.TooFewShards,
                    `a quorum of ${job.verify.k} needs ${job.verify.k} organizations with an eligible executor; job ${job.id} can draw on ${available.length} (${available.join(', ') || 'none'})`,
                );
            }
        }
        const ranks = job.merge === undefined ? new Map<number, RankRecord>() : await assignRanks(ctx, job, parameters);
        const { tasks, escrow: taskEscrow } = await publishTasks(ctx, job, spec.tasks, 1, parameters, ranks);
        const mergeEscrow = job.merge === undefined ? 0n : BigInt(job.merge.reward) * BigInt(realMergeCount(treeShape(job.taskCount)));
        await escrow(ctx, job, taskEscrow + mergeEscrow);
        const published: JobRecord = { ...job, publishedCount: tasks.length, taskEscrow: taskEscrow.toString(), state: tasks.length === job.taskCount ? 'open' : 'publishing' };
        await putRecord(ctx, published, KeyType.Job, job.id);
        await putIndex(ctx, KeyType.JobByPublisher, job.publisher, job.id);
        await putTimeIndex(ctx, KeyType.JobDeadline, job.deadline, job.id);
        emit(ctx, EventName.JobPublished, {
            jobId: job.id,
            assignment: job.assignment,
            taskCount: job.taskCount,
            taskIds: tasks.map((t) => t.id),
            ranks: [...ranks.values()].map((r) => ({ rank: r.rank, executorId: r.executorId, shard: r.shard })),
        });
        return reply(published);
    }

    /** Publishes the next batch of a job published with fewer tasks than its taskCount. Publisher only. */
    @Transaction()
    @Returns('string')
    async AddTasks(ctx: LedgerworkContext, jobId: string, tasksJson: string): Promise<string> {
        requireId(jobId, 'jobId');
        const job = await readJob(ctx, jobId);
        requirePublisher(ctx, job);
        if (job.state !== 'publishing') {
            throw new LedgerworkError(ErrorCode.InvalidState, `job ${jobId} is ${job.state}; only a job still publishing takes more tasks`);
        }
        const now = ctx.now();
        if (now >= job.deadline) {
            throw new LedgerworkError(ErrorCode.DeadlinePassed, `job ${jobId} passed its deadline`);
        }
        const parameters = await parametersOf(ctx);
        const specs = parseTaskBatch(parseJson(tasksJson, 'tasks'), 'tasks', parameters.maxInlineBytes, 1);
        if (job.publishedCount + specs.length > job.taskCount) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `job ${jobId} has ${job.taskCount - job.publishedCount} tasks left to publish, not ${specs.length}`);
        }
        const start = job.publishedCount + 1;
        const ranks = new Map<number, RankRecord>();
        if (job.assignment === 'ranked') {
            for (let index = start; index < start + specs.length; index++) {
                const rank = await getRecord<RankRecord>(ctx, KeyType.Rank, jobId, rankKey(index));
                if (rank !== undefined) {
                    ranks.set(index, rank);
                }
            }
        }
        const { tasks, escrow: batchEscrow } = await publishTasks(ctx, job, specs, start, parameters, ranks);
        await escrow(ctx, job, batchEscrow);
        const publishedCount = job.publishedCount + tasks.length;
        const updated: JobRecord = {
            ...job,
            publishedCount,
            taskEscrow: (BigInt(job.taskEscrow) + batchEscrow).toString(),
            state: publishedCount === job.taskCount ? 'open' : 'publishing',
            updatedAt: now,
        };
        await putRecord(ctx, updated, KeyType.Job, jobId);
        emit(ctx, EventName.TasksPublished, { jobId, taskIds: tasks.map((t) => t.id), publishedCount, taskCount: job.taskCount });
        return reply(updated);
    }

    /**
     * Cancels a job: every unfinished task is cancelled and its reward refunded. For a task already
     * claimed (or assigned), the publisher pays the claimant a cancellation fee from the reward and
     * the claimant gains reputation in compensation (SPEC §7). Unpaid merge rewards are refunded.
     * Publisher only; not for a finished job (INVALID_STATE).
     */
    @Transaction()
    @Returns('string')
    async Cancel(ctx: LedgerworkContext, jobId: string): Promise<string> {
        requireId(jobId, 'jobId');
        const job = await readJob(ctx, jobId);
        requirePublisher(ctx, job);
        if (job.state !== 'publishing' && job.state !== 'open') {
            throw new LedgerworkError(ErrorCode.InvalidState, `job ${jobId} is ${job.state}`);
        }
        const now = ctx.now();
        const writer = new DeltaWriter(ctx);
        const cancelled: string[] = [];
        for (const task of await tasksOfJob(ctx, jobId)) {
            if (!isTerminal(task.state)) {
                await cancelTask(ctx, writer, task);
                cancelled.push(task.id);
            }
        }
        if (job.merge !== undefined) {
            await closeRanks(ctx, writer, job);
        }
        const updated: JobRecord = { ...job, state: 'cancelled', updatedAt: now };
        await putRecord(ctx, updated, KeyType.Job, jobId);
        await deleteTimeIndex(ctx, KeyType.JobDeadline, job.deadline, jobId);
        emit(ctx, EventName.JobCancelled, { jobId, cancelledTaskIds: cancelled });
        return reply(updated);
    }
}

function newJob(spec: JobSpec, publisher: string, publisherMsp: string, parameters: Parameters, now: number): JobRecord {
    const shape = spec.merge === undefined ? undefined : treeShape(spec.taskCount);
    if (spec.merge !== undefined) {
        parsePublicKey(spec.merge.publicKey);
    }
    return {
        id: spec.id,
        publisher,
        publisherMsp,
        description: spec.description,
        ...(spec.program === undefined ? {} : { program: spec.program }),
        mode: spec.mode,
        verify: spec.verify,
        assignment: spec.assignment,
        shards: spec.shards,
        taskCount: spec.taskCount,
        publishedCount: 0,
        requirements: spec.requirements,
        leaseMs: spec.leaseMs ?? parameters.defaultLeaseMs,
        deadline: spec.deadline,
        maxAttempts: spec.maxAttempts ?? parameters.defaultMaxAttempts,
        rules: {
            reputationGain: parameters.reputationGain,
            penaltyMultiplier: parameters.penaltyMultiplier,
            cancelFeeBasisPoints: parameters.cancelFeeBasisPoints,
        },
        ...(spec.merge === undefined || shape === undefined
            ? {}
            : {
                  merge: {
                      program: spec.merge.program,
                      publicKey: spec.merge.publicKey,
                      reward: spec.merge.reward.toString(),
                      nodeCount: shape.nodeCount,
                      height: shape.height,
                  },
              }),
        state: 'publishing',
        createdAt: now,
        updatedAt: now,
        taskEscrow: '0',
    };
}

/** Chooses the job's M nodes across its shards and writes the rank records and the immutable tree record. */
async function assignRanks(ctx: LedgerworkContext, job: JobRecord, parameters: Parameters): Promise<Map<number, RankRecord>> {
    const merge = job.merge;
    if (merge === undefined) {
        return new Map();
    }
    const candidates = await eligibleByShard(ctx, parameters, job.shards, job.requirements);
    const assignments = selectNodes(merge.nodeCount, job.shards, candidates, ctx.txId());
    const ranks = new Map<number, RankRecord>();
    for (const assignment of assignments) {
        const executor = await getRecord<{ owner: string }>(ctx, KeyType.Executor, assignment.executorId);
        const rank: RankRecord = {
            jobId: job.id,
            rank: assignment.rank,
            shard: assignment.shard,
            executorId: assignment.executorId,
            account: executor?.owner ?? '',
            assignedAt: ctx.now(),
            reassignments: 0,
        };
        await putRecord(ctx, rank, KeyType.Rank, job.id, rankKey(rank.rank));
        await putIndex(ctx, KeyType.ExecutorTask, rank.executorId, `${job.id}#rank${rank.rank}`);
        ranks.set(rank.rank, rank);
    }
    const tree: JobTreeRecord = {
        jobId: job.id,
        publisher: job.publisher,
        taskCount: job.taskCount,
        nodeCount: merge.nodeCount,
        height: merge.height,
        mode: job.mode,
        mergeProgram: merge.program,
        mergePublicKey: merge.publicKey,
        mergeReward: merge.reward,
        shards: job.shards,
        requirements: job.requirements,
        leaseMs: job.leaseMs,
        deadline: job.deadline,
        rules: job.rules,
        maxResultBytes: parameters.maxInlineBytes,
    };
    await putRecord(ctx, tree, KeyType.JobTree, job.id);
    return ranks;
}

async function escrow(ctx: LedgerworkContext, job: JobRecord, amount: bigint): Promise<void> {
    const balance = await balanceOf(ctx, job.publisher, 'fold');
    if (balance < amount) {
        throw new LedgerworkError(ErrorCode.InsufficientFunds, `job ${job.id} needs ${amount} credits in escrow; the publisher's balance is ${balance}`);
    }
    await new DeltaWriter(ctx).credit(job.publisher, -amount, 'escrow', { jobId: job.id });
}

/** Cancels one unfinished task: refund, and fee plus compensation to a current claimant. */
async function cancelTask(ctx: LedgerworkContext, writer: DeltaWriter, task: TaskRecord): Promise<void> {
    if (task.verify !== undefined) {
        await endReplicatedTask(ctx, writer, task, 'cancelled');
        return;
    }
    const reward = BigInt(task.reward);
    const claim = task.claim;
    if (claim !== undefined) {
        const fee = cancelFeeOf(reward, task.rules);
        await writer.credit(claim.account, fee, 'cancel-fee', { jobId: task.jobId, taskId: task.id, executorId: claim.executorId });
        await writer.credit(task.publisher, reward - fee, 'refund', { jobId: task.jobId, taskId: task.id });
        await writer.reputation(claim.executorId, task.rules.reputationGain, 'cancel-compensation', { jobId: task.jobId, taskId: task.id });
    } else {
        await writer.credit(task.publisher, reward, 'refund', { jobId: task.jobId, taskId: task.id });
    }
    await saveTask(ctx, task, withState(task, 'cancelled', ctx.now()));
}
