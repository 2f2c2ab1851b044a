// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';
import type { ErrorCode as ErrorCodeType } from '../core/errors';
import type { Claim, FailureKind, TaskRecord } from '../core/model';
import { penaltyOf, withRejectedAttempt, withResult } from '../core/rules';
import { parsePublicKey, sha256, verifyCombined, verifySeparate } from '../core/signature';
import type { Binding } from '../core/signature';
import type { Signatures } from '../core/specs';
import type { DeltaWriter } from './accounts';
import type { LedgerworkContext } from './context';
import { KeyType, decode, deleteKey, deleteTimeIndex, entries, putIndex, putRecord, putTimeIndex, requireRecord } from './store';

export function readTask(ctx: LedgerworkContext, taskId: string): Promise<TaskRecord> {
    return requireRecord<TaskRecord>(ctx, 'task', KeyType.Task, taskId);
}

/**
 * Writes a task and keeps its indexes in step: state (per job), active claim and lease expiry (open
 * claims only), and the executor's participation. Every key touched belongs to this task alone.
 */
export async function saveTask(ctx: LedgerworkContext, before: TaskRecord | undefined, after: TaskRecord): Promise<void> {
    if (before?.state !== after.state) {
        if (before !== undefined) {
            await deleteKey(ctx, KeyType.JobTaskState, before.jobId, before.state, before.id);
        }
        await putIndex(ctx, KeyType.JobTaskState, after.jobId, after.state, after.id);
    }
    const oldLease = before?.state === 'claimed' ? before.claim : undefined;
    const newLease = after.state === 'claimed' ? after.claim : undefined;
    if (oldLease !== undefined && !sameClaim(oldLease, newLease)) {
        await deleteKey(ctx, KeyType.ActiveClaim, oldLease.executorId, after.id);
        await deleteTimeIndex(ctx, KeyType.LeaseExpiry, oldLease.leaseExpiresAt, after.id);
    }
    if (newLease !== undefined && !sameClaim(oldLease, newLease)) {
        await putRecord(ctx, { leaseExpiresAt: newLease.leaseExpiresAt }, KeyType.ActiveClaim, newLease.executorId, after.id);
        await putTimeIndex(ctx, KeyType.LeaseExpiry, newLease.leaseExpiresAt, after.id);
    }
    if (after.claim !== undefined && after.claim.executorId !== before?.claim?.executorId) {
        await putIndex(ctx, KeyType.ExecutorTask, after.claim.executorId, after.id);
    }
    await putRecord(ctx, after, KeyType.Task, after.id);
}

function sameClaim(a: Claim | undefined, b: Claim | undefined): boolean {
    return a !== undefined && b !== undefined && a.executorId === b.executorId && a.claimedAt === b.claimedAt && a.leaseExpiresAt === b.leaseExpiresAt;
}

/** Claims of an executor whose lease still runs (expired ones wait for a sweep but hold no capacity). */
export async function liveClaims(ctx: LedgerworkContext, executorId: string, now: number): Promise<number> {
    const claims = await entries(ctx, KeyType.ActiveClaim, executorId);
    return claims.filter((entry) => decode<{ leaseExpiresAt: number }>(entry.value).leaseExpiresAt > now).length;
}

/** Codes under which a signed result is turned down (and the rejection recorded), rather than the call refused. */
export const rejectionCodes: readonly ErrorCodeType[] = [
    ErrorCode.InputSignatureInvalid,
    ErrorCode.ResultSignatureInvalid,
    ErrorCode.SignatureInvalid,
    ErrorCode.SignatureMalformed,
    ErrorCode.HighS,
];

/**
 * Verifies a result against the task's key, input and mode (SPEC §5).
 * @returns undefined if it verifies, else the rejection (code and message)
 * @throws {LedgerworkError} INVALID_ARGUMENT when the signatures do not have the job's mode's shape
 */
export function checkTaskSignatures(binding: Binding, task: TaskRecord, result: Buffer, signatures: Signatures): LedgerworkError | undefined {
    if (signatures.mode !== task.mode) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `task ${task.id} is in ${task.mode} mode: send ${task.mode === 'separate' ? '{input, result}' : '{combined}'} signatures`);
    }
    return verifySignatures(binding, task.publicKey, task.id, Buffer.from(task.input.sha256, 'hex'), sha256(result), signatures);
}

/**
 * Verifies `signatures` over a task's or a merge slot's `id`, input hash and result hash with
 * `publicKey` (SPEC §5) — for task results and merge filings alike.
 * @returns undefined if they verify, else the rejection (code and message)
 */
export function verifySignatures(binding: Binding, publicKey: string, id: string, inputHash: Buffer, resultHash: Buffer, signatures: Signatures): LedgerworkError | undefined {
    return rejectionOf(() => {
        const key = parsePublicKey(publicKey);
        if (signatures.mode === 'separate') {
            verifySeparate(key, binding, id, inputHash, resultHash, signatures.input, signatures.result);
        } else {
            verifyCombined(key, binding, id, inputHash, resultHash, signatures.combined);
        }
    });
}

/** Runs a verification; a failure with a rejection code is returned, anything else propagates. */
export function rejectionOf(verify: () => void): LedgerworkError | undefined {
    try {
        verify();
        return undefined;
    } catch (err) {
        if (err instanceof LedgerworkError && rejectionCodes.includes(err.code)) {
            return err;
        }
        throw err;
    }
}

/** Stores an accepted result, pays the claimant and raises its reputation. */
export async function acceptResult(ctx: LedgerworkContext, writer: DeltaWriter, task: TaskRecord, claim: Claim, result: Buffer): Promise<TaskRecord> {
    const now = ctx.now();
    const accepted = withResult(task, { sha256: sha256(result).toString('hex'), inline: result.toString('base64'), executorId: claim.executorId, acceptedAt: now, txId: ctx.txId() }, now);
    await saveTask(ctx, task, accepted);
    await writer.credit(claim.account, BigInt(task.reward), 'payout', { jobId: task.jobId, taskId: task.id, executorId: claim.executorId });
    await writer.reputation(claim.executorId, task.rules.reputationGain, 'accepted', { jobId: task.jobId, taskId: task.id });
    return accepted;
}

/** Records a rejected result: an attempt used, reputation penalty, refund if it was the last attempt. */
export async function rejectResult(ctx: LedgerworkContext, writer: DeltaWriter, task: TaskRecord, claim: Claim, rejection: LedgerworkError): Promise<TaskRecord> {
    const now = ctx.now();
    const note = { kind: 'result-rejected' as FailureKind, detail: rejection.message, executorId: claim.executorId, at: now };
    const after = withRejectedAttempt(task, note, now);
    await saveTask(ctx, task, after);
    await writer.reputation(claim.executorId, -penaltyOf(task.rules), 'rejected', { jobId: task.jobId, taskId: task.id });
    await refundIfFailed(writer, after);
    return after;
}

/** Returns the escrowed reward to the publisher when a task ends without a result. */
export async function refundIfFailed(writer: DeltaWriter, task: TaskRecord): Promise<void> {
    if (task.state === 'failed' || task.state === 'cancelled') {
        await writer.credit(task.publisher, BigInt(task.reward), 'refund', { jobId: task.jobId, taskId: task.id });
    }
}
