// SPDX-License-Identifier: Apache-2.0
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { parseJson } from '../core/canonicalJson';
import { ErrorCode, LedgerworkError } from '../core/errors';
import { EventName } from '../core/events';
import { requireId } from '../core/ids';
import { newJob } from '../core/jobRecord';
import { realMergeCount, treeShape } from '../core/mergeTree';
import type { JobRecord, RankRecord } from '../core/model';
import { isTerminal } from '../core/rules';
import { parseJobSpec, parseTaskBatch } from '../core/specs';
import { DeltaWriter, parametersOf } from '../ledger/accounts';
import { cancelTask } from '../ledger/closing';
import { emit } from '../ledger/events';
import { LedgerworkContext } from '../ledger/context';
import { assignRanks, closeRanks, ranksAt } from '../ledger/ranks';
import { mergeTasksOf } from '../ledger/replicatedTree';
import { escrowFor, publishTasks, readJob, requireKnownShards, requirePublisher, requireQuorumShards, tasksOfJob } from '../ledger/jobs';
import { requireLedgerProgram } from '../ledger/validation';
import { KeyType, deleteTimeIndex, getRecord, putIndex, putRecord, putTimeIndex } from '../ledger/store';
import { LedgerworkContract, reply } from './base';

/** Publishing, funding and cancelling jobs (SPEC §3, §4, §6.2). */
@Info({ title: 'JobContract', description: 'Publish jobs and their tasks with escrowed rewards; cancel them' })
export class JobContract extends LedgerworkContract {
    constructor() {
        super('jobs');
    }

    /**
     * Publishes a job and its first batch of tasks (possibly all), escrowing their rewards — and, for
     * a ranked job, the merge rewards — from the caller's balance (× maxReplicas under a replicated
     * policy). A ranked job's M nodes are chosen here across its shards, seeded by the transaction id
     * (under a replicated policy replicas work its numbers instead). Throws INVALID_ARGUMENT,
     * INVALID_ID, ALREADY_EXISTS, INVALID_PUBLIC_KEY, INSUFFICIENT_FUNDS, TOO_FEW_SHARDS, UNKNOWN_SHARD,
     * TOO_FEW_EXECUTORS, UNSUPPORTED.
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
        if (spec.validator !== undefined) {
            await requireLedgerProgram(ctx, spec.validator.program, 'validate', 'job.verify.program');
        }
        if (spec.merge?.verify !== undefined) {
            await requireLedgerProgram(ctx, spec.merge.program.uri, 'merge', 'job.merge.program.uri');
        }
        const caller = ctx.caller();
        const job = newJob(spec, caller.account, caller.mspId, parameters, now);
        await requireQuorumShards(ctx, parameters, job);
        if (job.merge === undefined) {
            await requireKnownShards(ctx, job);
        }
        const ranks = job.merge === undefined ? new Map<number, RankRecord>() : await assignRanks(ctx, job, parameters);
        const { tasks, escrow: taskEscrow } = await publishTasks(ctx, job, spec.tasks, 1, parameters, ranks);
        const replicas = BigInt(job.verify === 'signature' ? 1 : job.verify.maxReplicas);
        const mergeEscrow = job.merge === undefined ? 0n : BigInt(job.merge.reward) * BigInt(realMergeCount(treeShape(job.taskCount))) * replicas;
        await escrowFor(ctx, job, taskEscrow + mergeEscrow);
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
            ...(job.merge !== undefined && job.verify !== 'signature' ? { verify: job.verify } : {}),
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
        const ranks = await ranksAt(ctx, job, start, specs.length);
        const { tasks, escrow: batchEscrow } = await publishTasks(ctx, job, specs, start, parameters, ranks);
        await escrowFor(ctx, job, batchEscrow);
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
        for (const task of [...(await tasksOfJob(ctx, jobId)), ...(await mergeTasksOf(ctx, jobId))]) {
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
