// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';
import type { ReplicaRecord, TaskRecord, TaskState } from '../core/model';
import { inFlight, settle } from '../core/replication';
import type { ReplicaView, ReplicatedPolicy, Settlement } from '../core/replication';
import { penaltyOf } from '../core/rules';
import type { DeltaWriter } from './accounts';
import type { LedgerworkContext } from './context';
import { KeyType, decode, deleteKey, deleteTimeIndex, entries, getRecord, putIndex, putRecord, putTimeIndex } from './store';
import { fileAccepted } from './replicatedTree';
import type { TreeProgress } from './replicatedTree';
import { saveTask } from './tasks';
import { failReplicatedJob } from './closing';

/**
 * Replica records of tasks under a replicated policy, and the one place that applies a settlement.
 * Every key here is named after the task (its replicas, its indexes) or the executor and the task,
 * so replicas of different tasks never touch a common key.
 */

export function replicatedPolicy(task: TaskRecord): ReplicatedPolicy {
    if (task.verify === undefined) {
        throw new LedgerworkError(ErrorCode.InvalidState, `task ${task.id} is verified by signature: it has no replicas`);
    }
    return task.verify;
}

/** All replicas of a task, in executor id order (one range read of the task's own keys). */
export async function readReplicas(ctx: LedgerworkContext, taskId: string): Promise<ReplicaRecord[]> {
    const found = (await entries(ctx, KeyType.Replica, taskId)).map((entry) => decode<ReplicaRecord>(entry.value));
    // This transaction's own writes win over the committed copies the range returns.
    return found.map((replica) => ctx.written.has(replicaStateKey(ctx, replica)) ? (pendingReplica(ctx, replica) ?? replica) : replica);
}

function replicaStateKey(ctx: LedgerworkContext, replica: Pick<ReplicaRecord, 'taskId' | 'executorId'>): string {
    return ctx.stub.createCompositeKey(KeyType.Replica, [replica.taskId, replica.executorId]);
}

function pendingReplica(ctx: LedgerworkContext, replica: ReplicaRecord): ReplicaRecord | undefined {
    const bytes = ctx.written.get(replicaStateKey(ctx, replica));
    return bytes === null || bytes === undefined ? undefined : decode<ReplicaRecord>(bytes);
}

export function readReplica(ctx: LedgerworkContext, taskId: string, executorId: string): Promise<ReplicaRecord | undefined> {
    return getRecord<ReplicaRecord>(ctx, KeyType.Replica, taskId, executorId);
}

/** When the replica's current window closes, if it is in one. */
function dueAt(replica: ReplicaRecord | undefined): number | undefined {
    if (replica?.state === 'claimed') {
        return replica.commitBy;
    }
    return replica?.state === 'committed' ? replica.revealBy : undefined;
}

function dueId(replica: Pick<ReplicaRecord, 'taskId' | 'executorId'>): string {
    return `${replica.taskId}:${replica.executorId}`;
}

/** Splits a due-index id back into task and executor (ids never contain ':'). */
export function parseDueId(id: string): { taskId: string; executorId: string } {
    const at = id.indexOf(':');
    return { taskId: id.slice(0, at), executorId: id.slice(at + 1) };
}

/**
 * Writes a replica (or deletes it: after = undefined) and keeps its indexes in step: the executor's
 * live claim (capacity), its participation, and the due index the sweep scans.
 */
export async function saveReplica(ctx: LedgerworkContext, before: ReplicaRecord | undefined, after: ReplicaRecord | undefined): Promise<void> {
    const subject = after ?? before;
    if (subject === undefined) {
        return;
    }
    const oldDue = dueAt(before);
    const newDue = dueAt(after);
    if (oldDue !== undefined && oldDue !== newDue) {
        await deleteTimeIndex(ctx, KeyType.ReplicaDue, oldDue, dueId(subject));
    }
    if (newDue !== undefined && oldDue !== newDue) {
        await putTimeIndex(ctx, KeyType.ReplicaDue, newDue, dueId(subject));
    }
    const wasFlying = before !== undefined && inFlight(before.state);
    const isFlying = after !== undefined && inFlight(after.state);
    if (isFlying && !wasFlying) {
        await putRecord(ctx, { leaseExpiresAt: after.revealBy }, KeyType.ActiveClaim, subject.executorId, subject.taskId);
    } else if (wasFlying && !isFlying) {
        await deleteKey(ctx, KeyType.ActiveClaim, subject.executorId, subject.taskId);
    }
    if (before === undefined) {
        await putIndex(ctx, KeyType.ExecutorTask, subject.executorId, subject.taskId);
    }
    if (after === undefined) {
        await deleteKey(ctx, KeyType.Replica, subject.taskId, subject.executorId);
    } else {
        await putRecord(ctx, after, KeyType.Replica, after.taskId, after.executorId);
    }
}

export function viewOf(replica: ReplicaRecord): ReplicaView {
    return {
        executorId: replica.executorId,
        shard: replica.shard,
        state: replica.state,
        reputation: replica.reputation,
        ...(replica.resultSha256 === undefined ? {} : { resultSha256: replica.resultSha256 }),
    };
}

/** A replica whose window has passed becomes abandoned (the caller writes it and the penalty). */
export function overdue(replica: ReplicaRecord, now: number): boolean {
    const due = dueAt(replica);
    return due !== undefined && now >= due;
}

export function abandoned(replica: ReplicaRecord, now: number): ReplicaRecord {
    const stage = replica.state === 'claimed' ? `no commitment by ${replica.commitBy}` : `no reveal by ${replica.revealBy}`;
    return { ...replica, state: 'abandoned', reason: stage, updatedAt: now };
}

/** Abandons the overdue replicas of a task, writing each with its lease-expiry penalty; returns the replicas after. */
export async function abandonOverdue(ctx: LedgerworkContext, writer: DeltaWriter, task: TaskRecord, replicas: readonly ReplicaRecord[], now: number): Promise<{ replicas: ReplicaRecord[]; abandoned: string[] }> {
    const after: ReplicaRecord[] = [];
    const gone: string[] = [];
    for (const replica of replicas) {
        if (overdue(replica, now)) {
            const next = abandoned(replica, now);
            await saveReplica(ctx, replica, next);
            await writer.reputation(replica.executorId, -penaltyOf(task.rules), 'lease-expired', { jobId: task.jobId, taskId: task.id });
            after.push(next);
            gone.push(replica.executorId);
        } else {
            after.push(replica);
        }
    }
    return { replicas: after, abandoned: gone };
}

/** The reward escrowed for one task: reward × maxReplicas for replicated tasks. */
export function taskEscrowOf(task: Pick<TaskRecord, 'reward' | 'verify'>): bigint {
    return BigInt(task.reward) * BigInt(task.verify?.maxReplicas ?? 1);
}

/**
 * Applies what the replicas decide: on acceptance the task completes with the value (in a ranked
 * job the value is filed at its number and carried up the tree), agreeing
 * replicas are paid once and gain, disagreeing ones are penalised like a rejected result, those
 * in flight are superseded and the unpaid escrow is refunded; on failure everything is refunded;
 * otherwise the task is `published` while a slot is open and `claimed` while none is.
 * @returns the settlement and the task as written
 */
export async function applySettlement(
    ctx: LedgerworkContext,
    writer: DeltaWriter,
    task: TaskRecord,
    replicas: readonly ReplicaRecord[],
    preferredWinner?: string,
): Promise<{ settlement: Settlement; task: TaskRecord; tree?: TreeProgress; jobFailed?: string }> {
    const settlement = settle(replicatedPolicy(task), replicas.map(viewOf));
    const byId = new Map(replicas.map((replica) => [replica.executorId, replica]));
    if (settlement.kind === 'accepted') {
        const completed = await accept(ctx, writer, task, byId, settlement, preferredWinner);
        if (task.assignment !== 'ranked' || completed.result === undefined) {
            return { settlement, task: completed };
        }
        return { settlement, task: completed, tree: await fileAccepted(ctx, completed, completed.result) };
    }
    if (settlement.kind === 'failed') {
        await supersede(ctx, byId, settlement.superseded, 'no value can reach agreement any more');
        const failed: TaskRecord = {
            ...task,
            state: 'failed',
            lastFailure: { kind: 'no-agreement', detail: 'the replicas did not agree within maxReplicas', executorId: '', at: ctx.now() },
            updatedAt: ctx.now(),
        };
        await saveTask(ctx, task, failed);
        await writer.credit(task.publisher, taskEscrowOf(task), 'refund', { jobId: task.jobId, taskId: task.id });
        // A ranked job whose number failed can never complete: it ends now, everything it holds refunded.
        const jobFailed = task.assignment === 'ranked' ? await failReplicatedJob(ctx, writer, failed) : undefined;
        return { settlement, task: failed, ...(jobFailed === undefined ? {} : { jobFailed }) };
    }
    const state: TaskState = settlement.openSlots > 0 ? 'published' : 'claimed';
    if (state === task.state) {
        return { settlement, task };
    }
    const next: TaskRecord = { ...task, state, updatedAt: ctx.now() };
    await saveTask(ctx, task, next);
    return { settlement, task: next };
}

type Accepted = Extract<Settlement, { kind: 'accepted' }>;

async function accept(
    ctx: LedgerworkContext,
    writer: DeltaWriter,
    task: TaskRecord,
    byId: ReadonlyMap<string, ReplicaRecord>,
    settlement: Accepted,
    preferredWinner: string | undefined,
): Promise<TaskRecord> {
    const now = ctx.now();
    const about = { jobId: task.jobId, taskId: task.id };
    for (const id of settlement.agreeing) {
        const replica = byId.get(id);
        if (replica !== undefined) {
            await saveReplica(ctx, replica, { ...replica, verdict: 'agreed', updatedAt: now });
            await writer.credit(replica.account, BigInt(task.reward), 'payout', { ...about, executorId: id });
            await writer.reputation(id, task.rules.reputationGain, 'accepted', about);
        }
    }
    for (const id of settlement.disagreeing) {
        const replica = byId.get(id);
        if (replica !== undefined) {
            await saveReplica(ctx, replica, { ...replica, verdict: 'disagreed', updatedAt: now });
            await writer.reputation(id, -penaltyOf(task.rules), 'rejected', about);
        }
    }
    await supersede(ctx, byId, settlement.superseded, 'the task was settled');
    const winnerId = preferredWinner !== undefined && settlement.agreeing.includes(preferredWinner) ? preferredWinner : (settlement.agreeing[0] ?? '');
    const completed: TaskRecord = {
        ...task,
        state: 'completed',
        result: { sha256: settlement.sha256, inline: byId.get(winnerId)?.result ?? '', executorId: winnerId, acceptedAt: now, txId: ctx.txId() },
        updatedAt: now,
    };
    await saveTask(ctx, task, completed);
    await writer.credit(task.publisher, taskEscrowOf(task) - BigInt(task.reward) * BigInt(settlement.agreeing.length), 'refund', about);
    return completed;
}

async function supersede(ctx: LedgerworkContext, byId: ReadonlyMap<string, ReplicaRecord>, ids: readonly string[], reason: string): Promise<void> {
    for (const id of ids) {
        const replica = byId.get(id);
        if (replica !== undefined) {
            await saveReplica(ctx, replica, { ...replica, state: 'superseded', reason, updatedAt: ctx.now() });
        }
    }
}
