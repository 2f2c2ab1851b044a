// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from './errors';
import type { AcceptedResult, Claim, ExecutorRecord, FailureNote, OutcomeRules, Parameters, TaskRecord, TaskState } from './model';

/**
 * The task state machine and the outcome rules (SPEC §3, §7) as pure functions. Contracts read
 * records, call these, and write what they return.
 *
 *   published ──claim──▶ claimed ──accepted──▶ completed
 *       ▲                 │ │ └──rejected / failed run / lease expired──▶ published (attempts + 1)
 *       └────release──────┘ └── … at maxAttempts ──▶ failed
 *   assigned (ranked) ──leaf filed──▶ completed
 *   published | claimed | assigned ──cancel / deadline──▶ cancelled | failed
 */

export const terminalStates: readonly TaskState[] = ['completed', 'failed', 'cancelled'];

export function isTerminal(state: TaskState): boolean {
    return terminalStates.includes(state);
}

/** Reputation lost for a lease expiry or a rejected result: a multiple of the gain. */
export function penaltyOf(rules: OutcomeRules): number {
    return rules.reputationGain * rules.penaltyMultiplier;
}

/** Paid to the claimant when the publisher cancels a claimed task (rounded down). */
export function cancelFeeOf(reward: bigint, rules: OutcomeRules): bigint {
    return (reward * BigInt(rules.cancelFeeBasisPoints)) / 10_000n;
}

/** The reputation below which an executor is suspended (an admin reinstatement lowers it to where it stood). */
export function effectiveFloor(parameters: Parameters, executor: ExecutorRecord): number {
    const reinstated = executor.reinstatedAtReputation;
    return reinstated === undefined ? parameters.reputationFloor : Math.min(parameters.reputationFloor, reinstated);
}

/** Effective status: an active executor below its floor counts as suspended. */
export function effectiveStatus(parameters: Parameters, executor: ExecutorRecord, reputation: number): ExecutorRecord['status'] {
    if (executor.status === 'active' && reputation < effectiveFloor(parameters, executor)) {
        return 'suspended';
    }
    return executor.status;
}

/** Throws EXECUTOR_INACTIVE unless the executor may take work now. */
export function requireWorking(parameters: Parameters, executor: ExecutorRecord, reputation: number): void {
    if (executor.status === 'retired') {
        throw new LedgerworkError(ErrorCode.ExecutorInactive, `executor ${executor.id} is retired`);
    }
    if (executor.status === 'suspended') {
        throw new LedgerworkError(ErrorCode.ExecutorInactive, `executor ${executor.id} is suspended: ${executor.statusReason ?? 'by an admin'}`);
    }
    const floor = effectiveFloor(parameters, executor);
    if (reputation < floor) {
        throw new LedgerworkError(ErrorCode.ExecutorInactive, `executor ${executor.id} is suspended: reputation ${reputation} is below the floor ${floor}`);
    }
}

/** The skills, reputation and shard checks shared by claims and rank selection. */
export function requireQualified(executor: ExecutorRecord, reputation: number, task: Pick<TaskRecord, 'requirements' | 'shards'>): void {
    if (task.shards.length > 0 && !task.shards.includes(executor.shard)) {
        throw new LedgerworkError(ErrorCode.WrongShard, `executor ${executor.id} is in shard ${executor.shard}; the job admits ${task.shards.join(', ')}`);
    }
    const missing = task.requirements.skills.filter((skill) => !executor.skills.includes(skill));
    if (missing.length > 0) {
        throw new LedgerworkError(ErrorCode.RequirementUnmet, `executor ${executor.id} lacks required skills: ${missing.join(', ')}`);
    }
    if (reputation < task.requirements.minReputation) {
        throw new LedgerworkError(
            ErrorCode.RequirementUnmet,
            `executor ${executor.id} has reputation ${reputation}; the task requires at least ${task.requirements.minReputation}`,
        );
    }
}

/** Everything a claim of an open task must satisfy besides the task's own state. */
export function requireClaimable(parameters: Parameters, executor: ExecutorRecord, reputation: number, activeClaims: number, task: TaskRecord, now: number): void {
    requireWorking(parameters, executor, reputation);
    if (task.assignment === 'ranked' && task.verify === undefined) {
        throw new LedgerworkError(ErrorCode.InvalidState, `task ${task.id} belongs to a ranked job; its node is assigned, not claimed`);
    }
    if (executor.mode === 'passive') {
        throw new LedgerworkError(ErrorCode.RequirementUnmet, `executor ${executor.id} is passive: it only takes assigned ranks`);
    }
    if (now >= task.deadline) {
        throw new LedgerworkError(ErrorCode.DeadlinePassed, `task ${task.id} passed its deadline`);
    }
    requireQualified(executor, reputation, task);
    if (activeClaims >= executor.capacity) {
        throw new LedgerworkError(ErrorCode.RequirementUnmet, `executor ${executor.id} already holds ${activeClaims} claims, its capacity`);
    }
}

export function leaseExpiry(now: number, leaseMs: number, deadline: number): number {
    return Math.min(now + leaseMs, deadline);
}

export function isLeaseExpired(claim: Claim, now: number): boolean {
    return now >= claim.leaseExpiresAt;
}

export function withClaim(task: TaskRecord, claim: Claim, now: number): TaskRecord {
    return { ...task, state: 'claimed', claim, updatedAt: now };
}

export function withoutClaim(task: TaskRecord, now: number): TaskRecord {
    const { claim: _claim, ...rest } = task;
    return { ...rest, state: 'published', updatedAt: now };
}

export function withResult(task: TaskRecord, result: AcceptedResult, now: number): TaskRecord {
    return { ...task, state: 'completed', result, updatedAt: now };
}

/** A counted failure: back to published, or failed when the attempts are used up. */
export function withFailedAttempt(task: TaskRecord, note: FailureNote, now: number): TaskRecord {
    const { claim: _claim, ...rest } = task;
    const attempts = task.attempts + 1;
    return { ...rest, attempts, lastFailure: note, state: attempts >= task.maxAttempts ? 'failed' : 'published', updatedAt: now };
}

/** A rejected result: the claim stays (the claimant may resubmit) until the attempts are used up. */
export function withRejectedAttempt(task: TaskRecord, note: FailureNote, now: number): TaskRecord {
    const attempts = task.attempts + 1;
    if (attempts >= task.maxAttempts) {
        const { claim: _claim, ...rest } = task;
        return { ...rest, attempts, lastFailure: note, state: 'failed', updatedAt: now };
    }
    return { ...task, attempts, lastFailure: note, updatedAt: now };
}

export function withState(task: TaskRecord, state: TaskState, now: number): TaskRecord {
    const { claim: _claim, ...rest } = task;
    return { ...rest, state, updatedAt: now };
}

/** Claim/holder check shared by submit, release and failure reports. */
export function requireClaimant(task: TaskRecord, executorId: string, account: string): Claim {
    if (task.state !== 'claimed' && task.state !== 'assigned') {
        throw new LedgerworkError(ErrorCode.InvalidState, `task ${task.id} is ${task.state}, not claimed`);
    }
    const claim = task.claim;
    if (claim?.executorId !== executorId || claim.account !== account) {
        throw new LedgerworkError(ErrorCode.NotClaimant, `task ${task.id} is not claimed by executor ${executorId} of the calling identity`);
    }
    return claim;
}

/**
 * An expired claim is the sweep's to settle (with its penalty): its claimant may not release it or report on it.
 * @throws {LedgerworkError} LEASE_EXPIRED
 */
export function requireLiveLease(task: TaskRecord, now: number): void {
    if (task.state === 'claimed' && task.claim !== undefined && isLeaseExpired(task.claim, now)) {
        throw new LedgerworkError(ErrorCode.LeaseExpired, `the lease of executor ${task.claim.executorId} on task ${task.id} expired at ${task.claim.leaseExpiresAt}`);
    }
}
