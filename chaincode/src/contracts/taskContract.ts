// SPDX-License-Identifier: Apache-2.0
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { ErrorCode, LedgerworkError } from '../core/errors';
import { EventName } from '../core/events';
import { requireId, requireTaskId } from '../core/ids';
import type { Claim, ExecutorRecord, TaskRecord } from '../core/model';
import { isLeaseExpired, leaseExpiry, penaltyOf, requireClaimable, requireClaimant, requireLiveLease, withClaim, withFailedAttempt, withoutClaim } from '../core/rules';
import { parseFailureReport, parseSubmission, parsePageSize } from '../core/specs';
import { DeltaWriter, earnedBy, parametersOf, reputationOf } from '../ledger/accounts';
import { sweepDeadlines, sweepLeases, sweepReplicas } from '../ledger/closing';
import { emit } from '../ledger/events';
import { requireOwner } from '../ledger/guards';
import { LedgerworkContext } from '../ledger/context';
import { KeyType, requireRecord } from '../ledger/store';
import { acceptResult, checkTaskSignatures, liveClaims, readTask, refundIfFailed, rejectResult, saveTask } from '../ledger/tasks';
import { claimReplica, commitReplica, releaseReplica, reportReplicaFailure, revealReplica } from '../ledger/replicaFlow';
import { validateResult } from '../ledger/validation';
import { LedgerworkContract, reply } from './base';

/** Claiming, releasing and completing open tasks; failure reports; the lease and deadline sweep (SPEC §3, §5, §7). */
@Info({ title: 'TaskContract', description: 'Claim tasks, submit signed results, report failed runs, sweep expired leases' })
export class TaskContract extends LedgerworkContract {
    constructor() {
        super('tasks');
    }

    /**
     * Claims an open task for an executor the caller owns ("second contract transaction"). Exactly one
     * claim wins: a concurrent claimer gets ALREADY_CLAIMED at endorsement or an MVCC conflict at commit.
     * A claim whose lease expired is taken over (the old claimant is penalised). Throws NOT_OWNER,
     * EXECUTOR_INACTIVE, REQUIREMENT_UNMET, WRONG_SHARD, DEADLINE_PASSED, ALREADY_CLAIMED, INVALID_STATE.
     */
    @Transaction()
    @Returns('string')
    async Claim(ctx: LedgerworkContext, taskId: string, executorId: string): Promise<string> {
        const { executor, task } = await executorAndTask(ctx, taskId, executorId);
        if (task.verify !== undefined) {
            return reply(await claimReplica(ctx, task, executor));
        }
        const now = ctx.now();
        const writer = new DeltaWriter(ctx);
        let claimable = task;
        const previous = task.claim;
        if (task.state === 'claimed' && previous !== undefined) {
            if (!isLeaseExpired(previous, now)) {
                throw new LedgerworkError(ErrorCode.AlreadyClaimed, `task ${taskId} is claimed by executor ${previous.executorId} until ${previous.leaseExpiresAt}`);
            }
            claimable = withFailedAttempt(task, { kind: 'lease-expired', detail: 'taken over by a new claim', executorId: previous.executorId, at: now }, now);
            if (claimable.state !== 'published') {
                throw new LedgerworkError(ErrorCode.InvalidState, `task ${taskId}'s last attempt expired; SweepExpired records its failure`);
            }
            await writer.reputation(previous.executorId, -penaltyOf(task.rules), 'lease-expired', { jobId: task.jobId, taskId });
        } else if (task.state !== 'published') {
            throw new LedgerworkError(ErrorCode.InvalidState, `task ${taskId} is ${task.state}`);
        }
        const parameters = await parametersOf(ctx);
        const reputation = await reputationOf(ctx, executorId, 'fold');
        await earnedBy(ctx, executorId, 'fold');
        const activeClaims = await liveClaims(ctx, executorId, now);
        requireClaimable(parameters, executor, reputation, activeClaims, task, now);
        const claim: Claim = { executorId, account: executor.owner, shard: executor.shard, claimedAt: now, leaseExpiresAt: leaseExpiry(now, task.leaseMs, task.deadline) };
        const claimed = withClaim(claimable, claim, now);
        await saveTask(ctx, task, claimed);
        emit(ctx, EventName.TaskClaimed, { jobId: task.jobId, taskId, executorId, leaseExpiresAt: claim.leaseExpiresAt, ...(previous && task.state === 'claimed' ? { expiredClaimant: previous.executorId } : {}) });
        return reply(claimed);
    }

    /** Gives a claimed task back without penalty; it becomes claimable again. Claimant only. */
    @Transaction()
    @Returns('string')
    async Release(ctx: LedgerworkContext, taskId: string, executorId: string): Promise<string> {
        const task = await taskFor(ctx, taskId, executorId);
        if (task.verify !== undefined) {
            return reply(await releaseReplica(ctx, task, executorId));
        }
        requireClaimant(task, executorId, ctx.caller().account);
        if (task.assignment === 'ranked') {
            throw new LedgerworkError(ErrorCode.InvalidState, `task ${taskId} is assigned to a rank; it cannot be released`);
        }
        requireLiveLease(task, ctx.now());
        const released = withoutClaim(task, ctx.now());
        await saveTask(ctx, task, released);
        emit(ctx, EventName.TaskReleased, { jobId: task.jobId, taskId, executorId });
        return reply(released);
    }

    /**
     * Submits a signed result ("first contract transaction"). Checks, in this order: the caller and
     * executor are the claimant (NOT_CLAIMANT), the lease holds (LEASE_EXPIRED), then the signatures
     * (SPEC §5). A result that fails verification is turned down but the transaction commits: the
     * attempt and the reputation penalty are recorded, and the reply is
     * `{"outcome":"rejected","code":…}` with a ResultRejected event. An accepted result is stored,
     * the reward paid and reputation raised: `{"outcome":"accepted",…}`.
     */
    @Transaction()
    @Returns('string')
    async Submit(ctx: LedgerworkContext, taskId: string, executorId: string, submissionJson: string): Promise<string> {
        const task = await taskFor(ctx, taskId, executorId);
        if (task.verify !== undefined) {
            throw new LedgerworkError(ErrorCode.InvalidState, `task ${taskId} is verified by replicas: commit with tasks:Commit, then reveal with tasks:Reveal`);
        }
        requireClaimant(task, executorId, ctx.caller().account);
        if (task.assignment === 'ranked') {
            throw new LedgerworkError(ErrorCode.InvalidState, `task ${taskId} belongs to a ranked job; file it with ranks:File`);
        }
        const claim = requireClaimant(task, executorId, ctx.caller().account);
        requireLiveLease(task, ctx.now());
        const submission = parseSubmission(submissionJson, task.maxResultBytes);
        const writer = new DeltaWriter(ctx);
        let rejection = checkTaskSignatures(ctx.binding(), task, submission.result, submission.signatures);
        let judged = task;
        if (rejection === undefined && task.validator !== undefined) {
            const verdict = await validateResult(ctx, task, submission.result);
            judged = { ...task, validation: verdict.validation };
            rejection = verdict.rejection;
        }
        if (rejection !== undefined) {
            const after = await rejectResult(ctx, writer, judged, claim, rejection);
            emit(ctx, EventName.ResultRejected, { jobId: task.jobId, taskId, executorId, code: rejection.code, attempts: after.attempts, state: after.state });
            return reply({ outcome: 'rejected', code: rejection.code, message: rejection.detail, task: after });
        }
        const accepted = await acceptResult(ctx, writer, judged, claim, submission.result);
        emit(ctx, EventName.ResultAccepted, { jobId: task.jobId, taskId, executorId, resultSha256: accepted.result?.sha256, reward: task.reward });
        return reply({ outcome: 'accepted', task: accepted });
    }

    /**
     * Commits a replica to its result (replicated policies): `commitment` is the SHA-256, hex, of the
     * commitment payload over channel, chaincode, task id, executor id, SHA-256(result) and a salt of
     * 16 to 64 bytes. Touches only the replica's own record. Throws NOT_CLAIMANT, INVALID_STATE
     * (already committed, or not in flight), LEASE_EXPIRED (commit window closed), INVALID_ARGUMENT.
     */
    @Transaction()
    @Returns('string')
    async Commit(ctx: LedgerworkContext, taskId: string, executorId: string, commitment: string): Promise<string> {
        requireTaskId(taskId);
        requireId(executorId, 'executorId');
        return reply(await commitReplica(ctx, taskId, executorId, commitment));
    }

    /**
     * Reveals a replica's result, salt and signatures once the task's reveal window is open for it;
     * checks them against its commitment and the task key (SPEC §5), then settles the task under its
     * policy. A mismatch or bad signature is recorded as a rejection. Throws NOT_CLAIMANT,
     * NOT_COMMITTED, REVEAL_NOT_OPEN, LEASE_EXPIRED, INVALID_STATE, INVALID_ARGUMENT.
     */
    @Transaction()
    @Returns('string')
    async Reveal(ctx: LedgerworkContext, taskId: string, executorId: string, revealJson: string): Promise<string> {
        requireTaskId(taskId);
        requireId(executorId, 'executorId');
        const task = await readTask(ctx, taskId);
        if (task.verify === undefined) {
            throw new LedgerworkError(ErrorCode.InvalidState, `task ${taskId} is verified by signature: submit it with tasks:Submit`);
        }
        return reply(await revealReplica(ctx, task, executorId, revealJson));
    }

    /**
     * Reports that a claimed task could not be run: the program trapped or broke a sandbox limit, its
     * SHA-256 did not match the ledger (it was refused, never run), or it could not be fetched. The
     * attempt counts; the claim is released (or the task fails and is refunded at maxAttempts). No
     * reputation penalty: reporting is the honest outcome. Claimant only.
     */
    @Transaction()
    @Returns('string')
    async ReportFailure(ctx: LedgerworkContext, taskId: string, executorId: string, reportJson: string): Promise<string> {
        const task = await taskFor(ctx, taskId, executorId);
        if (task.verify !== undefined) {
            return reply(await reportReplicaFailure(ctx, task, executorId, reportJson));
        }
        requireClaimant(task, executorId, ctx.caller().account);
        requireLiveLease(task, ctx.now());
        const report = parseFailureReport(reportJson);
        const now = ctx.now();
        const note = { kind: report.kind, detail: report.detail, executorId, at: now };
        let after = withFailedAttempt(task, note, now);
        if (task.assignment === 'ranked' && after.state === 'published') {
            after = { ...after, state: 'assigned', ...(task.claim === undefined ? {} : { claim: task.claim }) };
        }
        await saveTask(ctx, task, after);
        await refundIfFailed(new DeltaWriter(ctx), after);
        emit(ctx, EventName.RunFailed, { jobId: task.jobId, taskId, executorId, kind: report.kind, attempts: after.attempts, state: after.state });
        return reply(after);
    }

    /**
     * Enforces time (anyone may call): expires up to `limit` claims whose lease has run out (penalty,
     * attempt counted, task claimable again or failed and refunded), then fails the unfinished tasks
     * of up to `limit` jobs whose deadline passed (refunded). Emits LeaseExpired, JobExpired or
     * NothingExpired.
     */
    @Transaction()
    @Returns('string')
    async SweepExpired(ctx: LedgerworkContext, limit: string): Promise<string> {
        const max = parsePageSize(limit, 'limit');
        const now = ctx.now();
        const writer = new DeltaWriter(ctx);
        const leases = await sweepLeases(ctx, writer, now, max);
        const replicas = await sweepReplicas(ctx, writer, now, max);
        const jobs = await sweepDeadlines(ctx, writer, now, max);
        const summary = { leasesExpired: leases, ...(replicas.length > 0 ? { replicasExpired: replicas } : {}), jobsExpired: jobs };
        const name = leases.length > 0 || replicas.length > 0 ? EventName.LeaseExpired : jobs.length > 0 ? EventName.JobExpired : EventName.NothingExpired;
        emit(ctx, name, summary);
        return reply(summary);
    }
}

async function executorAndTask(ctx: LedgerworkContext, taskId: string, executorId: string): Promise<{ executor: ExecutorRecord; task: TaskRecord }> {
    requireTaskId(taskId);
    requireId(executorId, 'executorId');
    const executor = await requireRecord<ExecutorRecord>(ctx, 'executor', KeyType.Executor, executorId);
    requireOwner(ctx, executor);
    return { executor, task: await readTask(ctx, taskId) };
}

/** The task a claimant (or replica) call names, after checking both ids; one read. */
async function taskFor(ctx: LedgerworkContext, taskId: string, executorId: string): Promise<TaskRecord> {
    requireTaskId(taskId);
    requireId(executorId, 'executorId');
    return readTask(ctx, taskId);
}
