// SPDX-License-Identifier: Apache-2.0
import type { MergeVerify, Validation, ValidatorPolicy } from './programs';
import type { ReplicaState, ReplicatedPolicy } from './replication';
import type { SignatureMode } from './signature';

/**
 * The records ledgerwork keeps in world state. Every record is written as canonical JSON; amounts of
 * credits are decimal strings (they may exceed 2^53 when summed), times are integer milliseconds
 * since the epoch taken from transaction timestamps, reputation is a safe integer.
 */

/** Executor modes (SPEC §7): active executors claim open tasks; passive ones only take assigned ranks. */
export const ExecutorMode = { Active: 'active', Passive: 'passive' } as const;
export type ExecutorMode = (typeof ExecutorMode)[keyof typeof ExecutorMode];

export const ExecutorStatus = { Active: 'active', Suspended: 'suspended', Retired: 'retired' } as const;
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
export const Assignment = { Open: 'open', Ranked: 'ranked' } as const;
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

/** `failed`: a ranked job under a replicated policy one of whose numbers could not be agreed on (it can never complete). */
export const JobState = { Publishing: 'publishing', Open: 'open', Completed: 'completed', Cancelled: 'cancelled', Expired: 'expired', Failed: 'failed' } as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

export interface JobRecord {
    readonly id: string;
    readonly publisher: string;
    readonly publisherMsp: string;
    readonly description: string;
    /** Default program for tasks that name none (one bundle per job when the key is per job). */
    readonly program?: ProgramRef;
    readonly mode: SignatureModeName;
    /** "signature", or the replicated policy (quorum, credibility) every task of the job runs under. */
    readonly verify: 'signature' | ReplicatedPolicy;
    /** A validator on the ledger every result must pass, run by the endorsing peers. */
    readonly validator?: ValidatorPolicy;
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
    /** Present when the endorsers re-execute each merge (then the publicKey may be ''). */
    readonly verify?: MergeVerify;
    readonly nodeCount: number;
    readonly height: number;
}

export const TaskState = {
    Published: 'published',
    Claimed: 'claimed',
    Assigned: 'assigned',
    Completed: 'completed',
    Failed: 'failed',
    Cancelled: 'cancelled',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

export const taskStates: readonly TaskState[] = Object.values(TaskState);

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
    /** Present when the task runs on replicas (quorum, credibility); it then has no single claim. */
    readonly verify?: ReplicatedPolicy;
    /** The job's validator, copied in so a submission reads nothing but its task. */
    readonly validator?: ValidatorPolicy;
    /** The validator's verdict on the accepted result, or on the last result it turned down. */
    readonly validation?: Validation;
    /**
     * Set on the merge task of number (y, x) of a ranked job under a replicated policy: its id is the
     * merge slot id, its key the merge key, its input the two accepted children's result hashes.
     */
    readonly mergeAt?: { readonly y: number; readonly x: number };
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

/**
 * One replica of a task under a replicated policy (key [task, executor]). It commits to its result,
 * then reveals it; the task's settlement sets its verdict.
 */
export interface ReplicaRecord {
    readonly taskId: string;
    readonly jobId: string;
    readonly executorId: string;
    readonly account: string;
    readonly shard: string;
    /** Reputation when the slot was claimed: its credibility. */
    readonly reputation: number;
    readonly state: ReplicaState;
    readonly claimedAt: number;
    readonly commitBy: number;
    readonly revealBy: number;
    /** SHA-256 commitment, hex. */
    readonly commitment?: string;
    readonly committedAt?: number;
    readonly resultSha256?: string;
    /** The revealed result bytes, base64. */
    readonly result?: string;
    /** The revealed salt, base64. */
    readonly salt?: string;
    readonly revealedAt?: number;
    /** Set when the task is accepted: the replica's value won (paid once) or lost (penalised). */
    readonly verdict?: 'agreed' | 'disagreed';
    /** Why it was rejected, abandoned, failed or superseded. */
    readonly reason?: string;
    readonly updatedAt: number;
}

/** Why a run failed or a result was turned down. */
export const FailureKind = {
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
    /** Replicated policy: no value reached agreement within maxReplicas. */
    NoAgreement: 'no-agreement',
} as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

/** Failures an executor may report itself (the others are recorded by the chaincode). */
export const reportableFailures: readonly FailureKind[] = [FailureKind.RunFailed, FailureKind.ProgramHashMismatch, FailureKind.FetchFailed];

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
    /** Present when the endorsers re-execute each merge instead of checking a merge signature. */
    readonly mergeVerify?: MergeVerify;
    readonly shards: readonly string[];
    readonly requirements: Requirements;
    readonly leaseMs: number;
    readonly deadline: number;
    readonly rules: OutcomeRules;
    readonly maxResultBytes: number;
    /** The replicated policy every number is verified under (absent: signature, filed by rank holders). */
    readonly verify?: ReplicatedPolicy;
    readonly maxAttempts?: number;
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

export const defaultParameters: Parameters = {
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
export const CreditKind = {
    Mint: 'mint',
    Escrow: 'escrow',
    Refund: 'refund',
    Payout: 'payout',
    MergePayout: 'merge-payout',
    CancelFee: 'cancel-fee',
    /** Paid (burned) for storing a program on the ledger. */
    StorageFee: 'storage-fee',
} as const;
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

/** The sum of an executor's folded payout records (`lw.payout` → `lw.payout.folded`). */
export interface PayoutCheckpoint {
    readonly executorId: string;
    /** Decimal string. */
    readonly earned: string;
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
export const ReputationReason = {
    Accepted: 'accepted',
    MergeAccepted: 'merge-accepted',
    Rejected: 'rejected',
    LeaseExpired: 'lease-expired',
    CancelCompensation: 'cancel-compensation',
} as const;
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
