// SPDX-License-Identifier: Apache-2.0
import type { FailureKind, JobRecord, TaskRecord } from '../core/model';
import { cancelFeeOf, isLeaseExpired, isTerminal, penaltyOf, withFailedAttempt, withState } from '../core/rules';
import type { DeltaWriter } from './accounts';
import type { LedgerworkContext } from './context';
import { closeRanks } from './ranks';
import { endReplicatedTask, expireReplicas } from './replicaFlow';
import type { ExpiredReplica } from './replicaFlow';
import { parseDueId } from './replicas';
import { mergeTasksOf } from './replicatedTree';
import { KeyType, deleteTimeIndex, idsDueBy, putRecord, requireRecord } from './store';
import { readJob, tasksOfJob } from './jobs';
import { readTask, refundIfFailed, saveTask } from './tasks';

/** How tasks end without a result: cancelled by the publisher, or overtaken by time (the sweep). */

/** Cancels one unfinished task: refund, and fee plus compensation to a current claimant. */
export async function cancelTask(ctx: LedgerworkContext, writer: DeltaWriter, task: TaskRecord): Promise<void> {
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

export interface ExpiredLease {
    readonly jobId: string;
    readonly taskId: string;
    readonly executorId: string;
    readonly state: TaskRecord['state'];
}

/** Expires up to `limit` claims whose lease ran out: penalty, attempt counted, task claimable again or failed and refunded. */
export async function sweepLeases(ctx: LedgerworkContext, writer: DeltaWriter, now: number, limit: number): Promise<ExpiredLease[]> {
    const expired: ExpiredLease[] = [];
    for (const taskId of await idsDueBy(ctx, KeyType.LeaseExpiry, now, limit)) {
        const task = await readTask(ctx, taskId);
        const claim = task.claim;
        if (task.state !== 'claimed' || claim === undefined || !isLeaseExpired(claim, now)) {
            continue;
        }
        const failedKind: FailureKind = 'lease-expired';
        const after = withFailedAttempt(task, { kind: failedKind, detail: `lease ended at ${claim.leaseExpiresAt}`, executorId: claim.executorId, at: now }, now);
        await saveTask(ctx, task, after);
        await writer.reputation(claim.executorId, -penaltyOf(task.rules), 'lease-expired', { jobId: task.jobId, taskId });
        await refundIfFailed(writer, after);
        expired.push({ jobId: task.jobId, taskId, executorId: claim.executorId, state: after.state });
    }
    return expired;
}

/** Abandons replicas whose commit or reveal window closed (up to `limit` due entries) and settles their tasks. */
export async function sweepReplicas(ctx: LedgerworkContext, writer: DeltaWriter, now: number, limit: number): Promise<ExpiredReplica[]> {
    const expired: ExpiredReplica[] = [];
    const seen = new Set<string>();
    for (const id of await idsDueBy(ctx, KeyType.ReplicaDue, now, limit)) {
        const { taskId } = parseDueId(id);
        if (seen.has(taskId)) {
            continue;
        }
        seen.add(taskId);
        expired.push(...(await expireReplicas(ctx, writer, await readTask(ctx, taskId), now)));
    }
    return expired;
}

/** Fails the unfinished tasks of up to `limit` jobs whose deadline passed (refunded; claimants penalised) and closes their ranks. */
export async function sweepDeadlines(ctx: LedgerworkContext, writer: DeltaWriter, now: number, limit: number): Promise<string[]> {
    const swept: string[] = [];
    for (const jobId of await idsDueBy(ctx, KeyType.JobDeadline, now, limit)) {
        const job = await requireRecord<JobRecord>(ctx, 'job', KeyType.Job, jobId);
        let unfinished = 0;
        for (const task of [...(await tasksOfJob(ctx, jobId)), ...(await mergeTasksOf(ctx, jobId))]) {
            if (isTerminal(task.state)) {
                continue;
            }
            unfinished++;
            if (task.verify !== undefined) {
                await endReplicatedTask(ctx, writer, task, 'deadline');
                continue;
            }
            if (task.claim !== undefined && task.state === 'claimed') {
                await writer.reputation(task.claim.executorId, -penaltyOf(task.rules), 'lease-expired', { jobId, taskId: task.id });
            }
            const after = { ...withState(task, 'failed', now), lastFailure: { kind: 'deadline-passed' as FailureKind, detail: `deadline ${job.deadline}`, executorId: task.claim?.executorId ?? '', at: now } };
            await saveTask(ctx, task, after);
            await refundIfFailed(writer, after);
        }
        if (job.merge !== undefined) {
            await closeRanks(ctx, writer, job);
        }
        const finished = unfinished === 0 && job.publishedCount === job.taskCount && job.merge === undefined;
        await putRecord(ctx, { ...job, state: finished ? 'completed' : 'expired', updatedAt: now }, KeyType.Job, jobId);
        await deleteTimeIndex(ctx, KeyType.JobDeadline, job.deadline, jobId);
        swept.push(jobId);
    }
    return swept;
}

/**
 * Ends a ranked job under a replicated policy when one of its numbers failed (its replicas spent
 * maxReplicas without agreement): the root can never be accepted, so the job is `failed` now rather
 * than at its deadline. Every other unfinished task (leaves and published merge tasks) fails with
 * its escrow refunded and its replicas in flight superseded without pay or penalty (they did
 * nothing wrong); the merges never published refund theirs. Reads and writes the job's own keys
 * only — the job record is written on this rare path alone.
 * @returns the job's id, or undefined when the job had already ended
 */
export async function failReplicatedJob(ctx: LedgerworkContext, writer: DeltaWriter, failed: TaskRecord): Promise<string | undefined> {
    const job = await readJob(ctx, failed.jobId);
    if (job.state !== 'open' && job.state !== 'publishing') {
        return undefined;
    }
    for (const task of [...(await tasksOfJob(ctx, job.id)), ...(await mergeTasksOf(ctx, job.id))]) {
        if (task.id !== failed.id && !isTerminal(task.state)) {
            await endReplicatedTask(ctx, writer, task, { failedTask: failed.id });
        }
    }
    await closeRanks(ctx, writer, job);
    await putRecord(ctx, { ...job, state: 'failed', updatedAt: ctx.now() }, KeyType.Job, job.id);
    await deleteTimeIndex(ctx, KeyType.JobDeadline, job.deadline, job.id);
    return job.id;
}
