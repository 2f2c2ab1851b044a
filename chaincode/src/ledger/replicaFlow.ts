// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';
import { EventName } from '../core/events';
import type { ExecutorRecord, ReplicaRecord, TaskRecord } from '../core/model';
import { commitmentOf, holdsShard, parseCommitment, replicaWindows, revealOpen, settle } from '../core/replication';
import type { Settlement } from '../core/replication';
import { cancelFeeOf, isTerminal, penaltyOf, requireClaimable } from '../core/rules';
import { sha256 } from '../core/signature';
import { parseFailureReport, parseReveal } from '../core/specs';
import { DeltaWriter, parametersOf, reputationOf } from './accounts';
import { emit } from './events';
import type { LedgerworkContext } from './context';
import { validateResult } from './validation';
import { abandonOverdue, applySettlement, overdue, readReplica, readReplicas, replicatedPolicy, saveReplica, taskEscrowOf, viewOf } from './replicas';
import type { TreeProgress } from './replicatedTree';
import { checkTaskSignatures, liveClaims, saveTask } from './tasks';

/**
 * The replicated task flow behind tasks:Claim, Commit, Reveal, Release, ReportFailure and the sweep,
 * for tasks under quorum or credibility. Each function reads the task and its replicas, decides with
 * the pure core (settle, revealOpen), writes, and emits the transaction's one event.
 */

function requireOpenTask(task: TaskRecord): void {
    if (isTerminal(task.state)) {
        throw new LedgerworkError(ErrorCode.InvalidState, `task ${task.id} is ${task.state}`);
    }
}

function requireOwnReplica(ctx: LedgerworkContext, task: TaskRecord, replica: ReplicaRecord | undefined, executorId: string): ReplicaRecord {
    if (replica?.account !== ctx.caller().account) {
        throw new LedgerworkError(ErrorCode.NotClaimant, `executor ${executorId} of the calling identity holds no replica of task ${task.id}`);
    }
    return replica;
}

function summary(settlement: Settlement): Record<string, unknown> {
    return settlement.kind === 'open' ? { settlement: 'open', openSlots: settlement.openSlots } : { settlement: settlement.kind };
}

/** Takes an open replica slot for `executor`. */
export async function claimReplica(ctx: LedgerworkContext, task: TaskRecord, executor: ExecutorRecord): Promise<Record<string, unknown>> {
    requireOpenTask(task);
    const policy = replicatedPolicy(task);
    const now = ctx.now();
    const parameters = await parametersOf(ctx);
    const reputation = await reputationOf(ctx, executor.id, 'fold');
    requireClaimable(parameters, executor, reputation, await liveClaims(ctx, executor.id, now), task, now);
    const existing = await readReplicas(ctx, task.id);
    if (existing.some((replica) => replica.executorId === executor.id)) {
        throw new LedgerworkError(ErrorCode.AlreadyClaimed, `executor ${executor.id} already took part in task ${task.id}`);
    }
    const writer = new DeltaWriter(ctx);
    const { replicas, abandoned } = await abandonOverdue(ctx, writer, task, existing, now);
    const holder = replicas.find((replica) => holdsShard(replica.state) && replica.shard === executor.shard);
    if (holder !== undefined) {
        throw new LedgerworkError(ErrorCode.ShardTaken, `organization ${executor.shard} already holds a replica of task ${task.id} (executor ${holder.executorId}): an organization cannot outvote itself`);
    }
    const settlement = settle(policy, replicas.map(viewOf));
    if (settlement.kind === 'failed') {
        throw new LedgerworkError(ErrorCode.InvalidState, `task ${task.id} can no longer reach agreement; SweepExpired records its failure`);
    }
    if (settlement.kind !== 'open' || settlement.openSlots === 0) {
        throw new LedgerworkError(ErrorCode.AlreadyClaimed, `every replica slot task ${task.id} needs now is taken`);
    }
    const windows = replicaWindows(now, task.leaseMs, task.deadline);
    const replica: ReplicaRecord = {
        taskId: task.id,
        jobId: task.jobId,
        executorId: executor.id,
        account: executor.owner,
        shard: executor.shard,
        reputation,
        state: 'claimed',
        claimedAt: now,
        commitBy: windows.commitBy,
        revealBy: windows.revealBy,
        updatedAt: now,
    };
    await saveReplica(ctx, undefined, replica);
    const after = await applySettlement(ctx, writer, task, [...replicas, replica]);
    emit(ctx, EventName.ReplicaClaimed, {
        jobId: task.jobId,
        taskId: task.id,
        executorId: executor.id,
        shard: executor.shard,
        commitBy: replica.commitBy,
        revealBy: replica.revealBy,
        ...summary(after.settlement),
        ...(abandoned.length > 0 ? { abandoned } : {}),
    });
    return { ...after.task, replica };
}

/** Files the replica's commitment. Reads and writes only the replica's own record. */
export async function commitReplica(ctx: LedgerworkContext, taskId: string, executorId: string, commitmentHex: string): Promise<ReplicaRecord> {
    const commitment = parseCommitment(commitmentHex);
    const replica = await readReplica(ctx, taskId, executorId);
    if (replica?.account !== ctx.caller().account) {
        throw new LedgerworkError(ErrorCode.NotClaimant, `executor ${executorId} of the calling identity holds no replica of task ${taskId}`);
    }
    if (replica.state !== 'claimed') {
        throw new LedgerworkError(ErrorCode.InvalidState, `the replica of executor ${executorId} on task ${taskId} is ${replica.state}; it commits once, while claimed`);
    }
    const now = ctx.now();
    if (now >= replica.commitBy) {
        throw new LedgerworkError(ErrorCode.LeaseExpired, `the commit window of executor ${executorId} on task ${taskId} closed at ${replica.commitBy}`);
    }
    const committed: ReplicaRecord = { ...replica, state: 'committed', commitment, committedAt: now, updatedAt: now };
    await saveReplica(ctx, replica, committed);
    emit(ctx, EventName.ReplicaCommitted, { jobId: replica.jobId, taskId, executorId, shard: replica.shard, revealBy: replica.revealBy });
    return committed;
}

/** Reveals the replica's result and salt, checks them against the commitment and the task signatures, then settles the task. */
export async function revealReplica(ctx: LedgerworkContext, task: TaskRecord, executorId: string, revealJson: string): Promise<Record<string, unknown>> {
    const policy = replicatedPolicy(task);
    requireOpenTask(task);
    const existing = await readReplicas(ctx, task.id);
    const mine = requireOwnReplica(ctx, task, existing.find((replica) => replica.executorId === executorId), executorId);
    const reveal = parseReveal(revealJson, task.maxResultBytes);
    const now = ctx.now();
    if (mine.state === 'claimed') {
        throw new LedgerworkError(ErrorCode.NotCommitted, `executor ${executorId} has not committed on task ${task.id}: commit first, then reveal`);
    }
    if (mine.state !== 'committed') {
        throw new LedgerworkError(ErrorCode.InvalidState, `the replica of executor ${executorId} on task ${task.id} is ${mine.state}`);
    }
    if (overdue(mine, now)) {
        throw new LedgerworkError(ErrorCode.LeaseExpired, `the reveal window of executor ${executorId} on task ${task.id} closed at ${mine.revealBy}`);
    }
    const writer = new DeltaWriter(ctx);
    const { replicas, abandoned } = await abandonOverdue(ctx, writer, task, existing, now);
    if (!revealOpen(policy, replicas.map(viewOf), mine, now)) {
        throw new LedgerworkError(
            ErrorCode.RevealNotOpen,
            `task ${task.id} still waits for replicas to claim or commit; executor ${executorId} may reveal once they have, or from ${mine.commitBy}`,
        );
    }
    const resultHash = sha256(reveal.result);
    const expected = commitmentOf(ctx.binding(), task.id, executorId, resultHash, reveal.salt).toString('hex');
    const rejection =
        expected === mine.commitment
            ? (checkTaskSignatures(ctx.binding(), task, reveal.result, reveal.signatures) ?? (task.validator === undefined ? undefined : (await validateResult(ctx, task, reveal.result)).rejection))
            : new LedgerworkError(ErrorCode.CommitmentMismatch, `the result and salt revealed by executor ${executorId} do not match its commitment on task ${task.id}`);
    const revealedFields = { resultSha256: resultHash.toString('hex'), result: reveal.result.toString('base64'), salt: reveal.salt.toString('base64'), revealedAt: now, updatedAt: now };
    const after: ReplicaRecord =
        rejection === undefined ? { ...mine, ...revealedFields, state: 'revealed' } : { ...mine, ...revealedFields, state: 'rejected', reason: rejection.message };
    await saveReplica(ctx, mine, after);
    if (rejection !== undefined) {
        await writer.reputation(executorId, -penaltyOf(task.rules), 'rejected', { jobId: task.jobId, taskId: task.id });
    }
    const updated = replicas.map((replica) => (replica.executorId === executorId ? after : replica));
    const settled = await applySettlement(ctx, writer, task, updated, executorId);
    const base = { jobId: task.jobId, taskId: task.id, executorId, ...(abandoned.length > 0 ? { abandoned } : {}), ...(settled.jobFailed === undefined ? {} : { jobFailed: settled.jobFailed }) };
    const replyBase = { task: settled.task, replica: after, settlement: settled.settlement };
    if (rejection !== undefined) {
        emit(ctx, EventName.ResultRejected, { ...base, code: rejection.code, state: settled.task.state, ...summary(settled.settlement) });
        return { outcome: 'rejected', code: rejection.code, message: rejection.detail, ...replyBase };
    }
    const settlement = settled.settlement;
    if (settlement.kind === 'accepted') {
        return { outcome: 'accepted', ...replyBase, ...emitAccepted(ctx, task, base, settlement, settled.tree) };
    }
    if (settlement.kind === 'failed') {
        emit(ctx, EventName.ReplicationFailed, { ...base, refund: taskEscrowOf(task).toString() });
        return { outcome: 'failed', ...replyBase };
    }
    emit(ctx, EventName.ReplicaRevealed, { ...base, resultSha256: after.resultSha256, openSlots: settlement.openSlots });
    return { outcome: 'revealed', ...replyBase };
}

/**
 * The accepting reveal's one event: ResultAccepted, or JobCompleted when the value is a ranked job's
 * root. In a ranked job it names the numbers filed and the merge task published.
 * @returns the ranked job's progress fields (none for an open job)
 */
function emitAccepted(ctx: LedgerworkContext, task: TaskRecord, base: Record<string, unknown>, settlement: Extract<Settlement, { kind: 'accepted' }>, tree: TreeProgress | undefined): Record<string, unknown> {
    const treeFields = tree === undefined ? {} : { filed: tree.filed, ...(tree.opened === undefined ? {} : { opened: tree.opened }) };
    emit(ctx, tree?.jobCompleted === true ? EventName.JobCompleted : EventName.ResultAccepted, {
        ...base,
        resultSha256: settlement.sha256,
        reward: task.reward,
        agreeing: settlement.agreeing,
        disagreeing: settlement.disagreeing,
        superseded: settlement.superseded,
        ...treeFields,
    });
    return treeFields;
}

/** Gives back a replica slot before committing (no penalty): the record is deleted. */
export async function releaseReplica(ctx: LedgerworkContext, task: TaskRecord, executorId: string): Promise<TaskRecord> {
    requireOpenTask(task);
    const existing = await readReplicas(ctx, task.id);
    const mine = requireOwnReplica(ctx, task, existing.find((replica) => replica.executorId === executorId), executorId);
    if (mine.state !== 'claimed') {
        throw new LedgerworkError(ErrorCode.InvalidState, `the replica of executor ${executorId} on task ${task.id} is ${mine.state}; only a replica that has not committed can be released`);
    }
    const now = ctx.now();
    if (overdue(mine, now)) {
        throw new LedgerworkError(ErrorCode.LeaseExpired, `the commit window of executor ${executorId} on task ${task.id} closed at ${mine.commitBy}`);
    }
    await saveReplica(ctx, mine, undefined);
    const { task: after } = await applySettlement(
        ctx,
        new DeltaWriter(ctx),
        task,
        existing.filter((replica) => replica.executorId !== executorId),
    );
    emit(ctx, EventName.TaskReleased, { jobId: task.jobId, taskId: task.id, executorId });
    return after;
}

/** The replica could not run the program: it fails without penalty and its slot is spent. */
export async function reportReplicaFailure(ctx: LedgerworkContext, task: TaskRecord, executorId: string, reportJson: string): Promise<Record<string, unknown>> {
    requireOpenTask(task);
    const existing = await readReplicas(ctx, task.id);
    const mine = requireOwnReplica(ctx, task, existing.find((replica) => replica.executorId === executorId), executorId);
    const report = parseFailureReport(reportJson);
    const now = ctx.now();
    if (mine.state !== 'claimed' && mine.state !== 'committed') {
        throw new LedgerworkError(ErrorCode.InvalidState, `the replica of executor ${executorId} on task ${task.id} is ${mine.state}`);
    }
    if (overdue(mine, now)) {
        throw new LedgerworkError(ErrorCode.LeaseExpired, `the window of executor ${executorId} on task ${task.id} has closed`);
    }
    const failed: ReplicaRecord = { ...mine, state: 'failed', reason: `${report.kind}: ${report.detail}`, updatedAt: now };
    await saveReplica(ctx, mine, failed);
    const settled = await applySettlement(
        ctx,
        new DeltaWriter(ctx),
        task,
        existing.map((replica) => (replica.executorId === executorId ? failed : replica)),
    );
    emit(ctx, EventName.RunFailed, {
        jobId: task.jobId,
        taskId: task.id,
        executorId,
        kind: report.kind,
        state: settled.task.state,
        ...summary(settled.settlement),
        ...(settled.jobFailed === undefined ? {} : { jobFailed: settled.jobFailed }),
    });
    return { ...settled.task, replica: failed };
}

export interface ExpiredReplica {
    readonly jobId: string;
    readonly taskId: string;
    readonly executorId: string;
    readonly taskState: TaskRecord['state'];
    /** Set when the task's failure ended its ranked job (failed). */
    readonly jobFailed?: string;
}

/** Sweep: abandons a task's overdue replicas (penalty) and settles the task. */
export async function expireReplicas(ctx: LedgerworkContext, writer: DeltaWriter, task: TaskRecord, now: number): Promise<ExpiredReplica[]> {
    if (isTerminal(task.state)) {
        return [];
    }
    const { replicas, abandoned } = await abandonOverdue(ctx, writer, task, await readReplicas(ctx, task.id), now);
    if (abandoned.length === 0) {
        return [];
    }
    const { task: after, jobFailed } = await applySettlement(ctx, writer, task, replicas);
    return abandoned.map((executorId) => ({ jobId: task.jobId, taskId: task.id, executorId, taskState: after.state, ...(jobFailed === undefined ? {} : { jobFailed }) }));
}

/**
 * Ends a replicated task early. Cancelled by the publisher: each replica in flight receives the
 * cancellation fee and reputation in compensation. Past the job's deadline: each replica in flight
 * is penalised like an expired lease. Its ranked job failed (another number found no agreement):
 * each replica in flight is superseded, neither paid nor penalised. Either way the rest of the
 * escrow is refunded.
 */
export async function endReplicatedTask(ctx: LedgerworkContext, writer: DeltaWriter, task: TaskRecord, how: 'cancelled' | 'deadline' | { readonly failedTask: string }): Promise<TaskRecord> {
    const now = ctx.now();
    const about = { jobId: task.jobId, taskId: task.id };
    let fees = 0n;
    for (const replica of await readReplicas(ctx, task.id)) {
        if (replica.state !== 'claimed' && replica.state !== 'committed') {
            continue;
        }
        if (how === 'cancelled') {
            const fee = cancelFeeOf(BigInt(task.reward), task.rules);
            fees += fee;
            await writer.credit(replica.account, fee, 'cancel-fee', { ...about, executorId: replica.executorId });
            await writer.reputation(replica.executorId, task.rules.reputationGain, 'cancel-compensation', about);
            await saveReplica(ctx, replica, { ...replica, state: 'superseded', reason: 'the publisher cancelled the job', updatedAt: now });
        } else if (typeof how === 'object') {
            await saveReplica(ctx, replica, { ...replica, state: 'superseded', reason: `the job failed: task ${how.failedTask} found no agreement`, updatedAt: now });
        } else {
            await writer.reputation(replica.executorId, -penaltyOf(task.rules), 'lease-expired', about);
            await saveReplica(ctx, replica, { ...replica, state: 'abandoned', reason: 'the job passed its deadline', updatedAt: now });
        }
    }
    await writer.credit(task.publisher, taskEscrowOf(task) - fees, 'refund', about);
    const { claim: _claim, ...rest } = task;
    const after: TaskRecord =
        how === 'cancelled'
            ? { ...rest, state: 'cancelled', updatedAt: now }
            : how === 'deadline'
              ? { ...rest, state: 'failed', lastFailure: { kind: 'deadline-passed', detail: `deadline ${task.deadline}`, executorId: '', at: now }, updatedAt: now }
              : { ...rest, state: 'failed', lastFailure: { kind: 'no-agreement', detail: `the job failed: task ${how.failedTask} found no agreement within maxReplicas`, executorId: '', at: now }, updatedAt: now };
    await saveTask(ctx, task, after);
    return after;
}
