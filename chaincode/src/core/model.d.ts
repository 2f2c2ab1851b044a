import type { SignatureMode } from './signature';
/**
 * The records ledgerwork keeps in world state. Every record is written as canonical JSON; amounts of
 * credits are decimal strings (they may exceed 2^53 when summed), times are integer milliseconds
 * since the epoch taken from transaction timestamps, reputation is a safe integer.
 */
/** Executor modes (SPEC §7): active executors claim open tasks; passive ones only take assigned ranks. */
export declare const ExecutorMode: {
    readonly Active: "active";
    readonly Passive: "passive";
};
export type ExecutorMode = (typeof ExecutorMode)[keyof typeof ExecutorMode];
export declare const ExecutorStatus: {
    readonly Active: "active";
    readonly Suspended: "suspended";
    readonly Retired: "retired";
};
export type ExecutorStatus = (typeof ExecutorStatus)[keyof typeof ExecutorStatus];
export interface ExecutorRecord {
    readonly id: string;
    /** Account of the identity that registered the executor; only it may act for the executor. */
    readonly owner: string;
    /** The MSP id of that identity: the executor's shard group. */
    readonly shard: string;
    readonly skills: readonly string[];
    readonly mode: ExecutorMode;
    /** How many open-task claims it may hold at once. */
    readonly capacity: number;
    readonly status: ExecutorStatus;
    /** Why an admin suspended or reinstated it (recorded with the admin's account). */
    readonly statusReason?: string;
    readonly statusChangedBy?: string;
    /**
     * Reputation when an admin last reinstated it. The automatic floor then becomes
     * min(channel floor, this value): a reinstated executor is suspended again only if it loses more.
     */
    readonly reinstatedAtReputation?: number;
    readonly registeredAt: number;
    readonly updatedAt: number;
}
/** Verification of the signed payloads of SPEC §5: one signature over both, or two. */
export type SignatureModeName = SignatureMode;
/** How tasks reach executors: open tasks are claimed; ranked jobs assign numbered nodes (SPEC §6). */
export declare const Assignment: {
    readonly Open: "open";
    readonly Ranked: "ranked";
};
export type Assignment = (typeof Assignment)[keyof typeof Assignment];
export interface ProgramRef {
    /** Where to fetch the bundle: file://, http(s):// or ledger:// (a program stored on the ledger). */
    readonly uri: string;
    /** SHA-256 (lower-case hex) of the whole bundle, checked by the executor before running. */
    readonly sha256: string;
}
export interface Requirements {
    readonly skills: readonly string[];
    readonly minReputation: number;
}
/** The outcome rules a job was published under; copied into each task so submissions read only their task. */
export interface OutcomeRules {
    readonly reputationGain: number;
    readonly penaltyMultiplier: number;
    readonly cancelFeeBasisPoints: number;
}
export declare const JobState: {
    readonly Publishing: "publishing";
    readonly Open: "open";
    readonly Completed: "completed";
    readonly Cancelled: "cancelled";
    readonly Expired: "expired";
};
export type JobState = (typeof JobState)[keyof typeof JobState];
export interface JobRecord {
    readonly id: string;
    readonly publisher: string;
    readonly publisherMsp: string;
    readonly description: string;
    /** Default program for tasks that name none (one bundle per job when the key is per job). */
    readonly program?: ProgramRef;
    readonly mode: SignatureModeName;
    readonly verify: 'signature';
    readonly assignment: Assignment;
    /** MSP ids whose executors may work on the job; empty = any shard (open jobs only). */
    readonly shards: readonly string[];
    readonly taskCount: number;
    readonly publishedCount: number;
    readonly requirements: Requirements;
    readonly leaseMs: number;
    readonly deadline: number;
    readonly maxAttempts: number;
    readonly rules: OutcomeRules;
    readonly merge?: MergeSpec;
    readonly state: JobState;
    readonly createdAt: number;
    readonly updatedAt: number;
    /** Escrowed for tasks, summed over batches (decimal string). */
    readonly taskEscrow: string;
}
export interface MergeSpec {
    readonly program: ProgramRef;
    /** ECDSA P-256 public key that verifies merge signatures (SPKI PEM or base64 DER). */
    readonly publicKey: string;
    /** Paid to the rank holder for each real merge (both children non-ZERO). */
    readonly reward: string;
    readonly nodeCount: number;
    readonly height: number;
}
export declare const TaskState: {
    readonly Published: "published";
    readonly Claimed: "claimed";
    readonly Assigned: "assigned";
    readonly Completed: "completed";
    readonly Failed: "failed";
    readonly Cancelled: "cancelled";
};
export type TaskState = (typeof TaskState)[keyof typeof TaskState];
export declare const taskStates: readonly TaskState[];
export interface TaskInput {
    /** The input bytes, base64, when stored on the ledger. */
    readonly inline?: string;
    /** SHA-256 (hex) of the input bytes; signatures bind it. */
    readonly sha256: string;
    /** Where to fetch the input when it is not inline. */
    readonly uri?: string;
    readonly size: number;
}
export interface Claim {
    readonly executorId: string;
    readonly account: string;
    readonly shard: string;
    readonly claimedAt: number;
    readonly leaseExpiresAt: number;
}
export interface AcceptedResult {
    readonly sha256: string;
    /** The result bytes, base64. */
    readonly inline: string;
    readonly executorId: string;
    readonly acceptedAt: number;
    readonly txId: string;
}
export interface TaskRecord {
    readonly id: string;
    readonly jobId: string;
    /** 1-based position in the job; in ranked jobs this is the rank that computes it. */
    readonly index: number;
    readonly description: string;
    readonly publisher: string;
    readonly program: ProgramRef;
    readonly publicKey: string;
    readonly input: TaskInput;
    readonly reward: string;
    readonly requirements: Requirements;
    readonly shards: readonly string[];
    readonly assignment: Assignment;
    readonly mode: SignatureModeName;
    readonly leaseMs: number;
    readonly deadline: number;
    readonly maxAttempts: number;
    readonly rules: OutcomeRules;
    /** Largest result accepted, fixed at publish so a submission reads nothing but its task. */
    readonly maxResultBytes: number;
    readonly state: TaskState;
    readonly claim?: Claim;
    readonly attempts: number;
    readonly lastFailure?: FailureNote;
    readonly result?: AcceptedResult;
    readonly updatedAt: number;
}
export interface FailureNote {
    readonly kind: FailureKind;
    readonly detail: string;
    readonly executorId: string;
    readonly at: number;
}
/** Why a run failed or a result was turned down. */
export declare const FailureKind: {
    /** The program trapped, exceeded a sandbox limit or exited non-zero. */
    readonly RunFailed: "run-failed";
    /** The downloaded program's SHA-256 differs from the ledger's; it was not run. */
    readonly ProgramHashMismatch: "program-hash-mismatch";
    /** The program or input could not be fetched. */
    readonly FetchFailed: "fetch-failed";
    /** A submitted result failed signature verification. */
    readonly ResultRejected: "result-rejected";
    /** The claimant's lease expired. */
    readonly LeaseExpired: "lease-expired";
    /** The job's deadline passed before the task completed. */
    readonly DeadlinePassed: "deadline-passed";
};
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];
/** Failures an executor may report itself (the others are recorded by the chaincode). */
export declare const reportableFailures: readonly FailureKind[];
/**
 * The immutable facts of a ranked job that its filings need. Kept apart from the job record, which
 * changes (batches, completion), so concurrent filings read only keys nobody writes meanwhile.
 */
export interface JobTreeRecord {
    readonly jobId: string;
    readonly publisher: string;
    readonly taskCount: number;
    readonly nodeCount: number;
    readonly height: number;
    readonly mode: SignatureModeName;
    readonly mergeProgram: ProgramRef;
    readonly mergePublicKey: string;
    readonly mergeReward: string;
    readonly shards: readonly string[];
    readonly requirements: Requirements;
    readonly leaseMs: number;
    readonly deadline: number;
    readonly rules: OutcomeRules;
    readonly maxResultBytes: number;
}
/** A node of a ranked job: who holds rank r (SPEC §6.2). */
export interface RankRecord {
    readonly jobId: string;
    readonly rank: number;
    readonly shard: string;
    readonly executorId: string;
    readonly account: string;
    readonly assignedAt: number;
    readonly reassignments: number;
    readonly cancelled?: boolean;
}
/** A result filed under task number (y, x) of a ranked job (SPEC §6.4, §6.8). */
export interface FilingRecord {
    readonly jobId: string;
    readonly y: number;
    readonly x: number;
    /** 'zero' for the distinguished empty result ZERO; then sha256 and inline are absent. */
    readonly kind: 'leaf' | 'zero' | 'pass-through' | 'merge';
    readonly sha256?: string;
    /** Merges keep their bytes here; a leaf's bytes are its task's result, a pass-through's its left child's. */
    readonly inline?: string;
    /** The task whose result a leaf is. */
    readonly taskId?: string;
    readonly executorId: string;
    readonly rank: number;
    readonly filedAt: number;
    readonly txId: string;
}
export interface Parameters {
    /** Below this reputation an executor is suspended and cannot claim. */
    readonly reputationFloor: number;
    /** Reputation gained per accepted result or real merge. */
    readonly reputationGain: number;
    /** A lease expiry or rejected result costs gain × this. */
    readonly penaltyMultiplier: number;
    /** Share of a claimed task's reward paid to the claimant when the publisher cancels it (1/10000). */
    readonly cancelFeeBasisPoints: number;
    /** Inline input or result bytes stored on the ledger, at most. */
    readonly maxInlineBytes: number;
    /** Tasks per job, at most. */
    readonly maxTasksPerJob: number;
    readonly defaultLeaseMs: number;
    readonly defaultMaxAttempts: number;
}
export declare const defaultParameters: Parameters;
/** Why credits moved; a balance is the sum of these deltas (fabric-samples high-throughput pattern). */
export declare const CreditKind: {
    readonly Mint: "mint";
    readonly Escrow: "escrow";
    readonly Refund: "refund";
    readonly Payout: "payout";
    readonly MergePayout: "merge-payout";
    readonly CancelFee: "cancel-fee";
};
export type CreditKind = (typeof CreditKind)[keyof typeof CreditKind];
export interface CreditDelta {
    readonly account: string;
    /** Signed decimal string. */
    readonly amount: string;
    readonly kind: CreditKind;
    readonly jobId?: string;
    readonly taskId?: string;
    readonly executorId?: string;
    readonly at: number;
    readonly txId: string;
}
/**
 * The sum of an account's credit deltas that were folded (moved from `lw.credit` to
 * `lw.credit.folded`), so that a balance read is this record plus the live deltas.
 */
export interface CreditCheckpoint {
    readonly account: string;
    /** Signed decimal string: the sum of every folded delta. */
    readonly total: string;
    /** The folded sums per kind (signed decimal strings), for account summaries. */
    readonly byKind: Readonly<Partial<Record<CreditKind, string>>>;
    /** How many deltas have been folded. */
    readonly folded: number;
    readonly at: number;
    readonly txId: string;
}
/** The sum of an executor's folded reputation deltas (see {@link CreditCheckpoint}). */
export interface ReputationCheckpoint {
    readonly executorId: string;
    readonly total: number;
    readonly folded: number;
    /** The task of the last folded 'accepted' delta, if any. */
    readonly lastAcceptedTask?: string;
    readonly at: number;
    readonly txId: string;
}
/** Why reputation moved; reputation is the sum of these deltas, written only by outcomes. */
export declare const ReputationReason: {
    readonly Accepted: "accepted";
    readonly MergeAccepted: "merge-accepted";
    readonly Rejected: "rejected";
    readonly LeaseExpired: "lease-expired";
    readonly CancelCompensation: "cancel-compensation";
};
export type ReputationReason = (typeof ReputationReason)[keyof typeof ReputationReason];
export interface ReputationDelta {
    readonly executorId: string;
    readonly delta: number;
    readonly reason: ReputationReason;
    readonly jobId: string;
    readonly taskId?: string;
    readonly at: number;
    readonly txId: string;
}
