"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ReputationReason = exports.CreditKind = exports.defaultParameters = exports.reportableFailures = exports.FailureKind = exports.taskStates = exports.TaskState = exports.JobState = exports.Assignment = exports.ExecutorStatus = exports.ExecutorMode = void 0;
/**
 * The records ledgerwork keeps in world state. Every record is written as canonical JSON; amounts of
 * credits are decimal strings (they may exceed 2^53 when summed), times are integer milliseconds
 * since the epoch taken from transaction timestamps, reputation is a safe integer.
 */
/** Executor modes (SPEC §7): active executors claim open tasks; passive ones only take assigned ranks. */
exports.ExecutorMode = { Active: 'active', Passive: 'passive' };
exports.ExecutorStatus = { Active: 'active', Suspended: 'suspended', Retired: 'retired' };
/** How tasks reach executors: open tasks are claimed; ranked jobs assign numbered nodes (SPEC §6). */
exports.Assignment = { Open: 'open', Ranked: 'ranked' };
exports.JobState = { Publishing: 'publishing', Open: 'open', Completed: 'completed', Cancelled: 'cancelled', Expired: 'expired' };
exports.TaskState = {
    Published: 'published',
    Claimed: 'claimed',
    Assigned: 'assigned',
    Completed: 'completed',
    Failed: 'failed',
    Cancelled: 'cancelled',
};
exports.taskStates = Object.values(exports.TaskState);
/** Why a run failed or a result was turned down. */
exports.FailureKind = {
    /** The program trapped, exceeded a sandbox limit or exited non-zero. */
    RunFailed: 'run-failed',
    /** The downloaded program's SHA-256 differs from the ledger's; it was not run. */
    ProgramHashMismatch: 'program-hash-mismatch',
    /** The program or input could not be fetched. */
    FetchFailed: 'fetch-failed',
    /** A submitted result failed signature verification. */
    ResultRejected: 'result-rejected',
    /** The claimant's lease expired. */
    LeaseExpired: 'lease-expired',
    /** The job's deadline passed before the task completed. */
    DeadlinePassed: 'deadline-passed',
};
/** Failures an executor may report itself (the others are recorded by the chaincode). */
exports.reportableFailures = [exports.FailureKind.RunFailed, exports.FailureKind.ProgramHashMismatch, exports.FailureKind.FetchFailed];
exports.defaultParameters = {
    reputationFloor: -100,
    reputationGain: 10,
    penaltyMultiplier: 3,
    cancelFeeBasisPoints: 2000,
    maxInlineBytes: 64 * 1024,
    maxTasksPerJob: 4096,
    defaultLeaseMs: 10 * 60 * 1000,
    defaultMaxAttempts: 3,
};
/** Why credits moved; a balance is the sum of these deltas (fabric-samples high-throughput pattern). */
exports.CreditKind = {
    Mint: 'mint',
    Escrow: 'escrow',
    Refund: 'refund',
    Payout: 'payout',
    MergePayout: 'merge-payout',
    CancelFee: 'cancel-fee',
};
/** Why reputation moved; reputation is the sum of these deltas, written only by outcomes. */
exports.ReputationReason = {
    Accepted: 'accepted',
    MergeAccepted: 'merge-accepted',
    Rejected: 'rejected',
    LeaseExpired: 'lease-expired',
    CancelCompensation: 'cancel-compensation',
};
//# sourceMappingURL=model.js.map