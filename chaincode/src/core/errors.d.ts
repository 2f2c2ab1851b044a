/**
 * The one catalogue of ledgerwork error codes. Only an error's message crosses the chaincode boundary
 * (a peer reports `chaincode response 500, <message>`), so every failure is thrown as `CODE: message`
 * and the gateway re-types it by the code. docs/errors.md explains when each is raised.
 */
export declare const ErrorCode: {
    /** An argument is not well-formed: bad JSON, wrong type, missing or unknown field, out of range. */
    readonly InvalidArgument: "INVALID_ARGUMENT";
    /** An identifier fails the allow-list (characters, length). */
    readonly InvalidId: "INVALID_ID";
    /** A size limit was exceeded (argument bytes, inline input or result, tasks per job). */
    readonly LimitExceeded: "LIMIT_EXCEEDED";
    /** The transaction name is not part of the contract. */
    readonly UnknownTransaction: "UNKNOWN_TRANSACTION";
    /** The named record does not exist. */
    readonly NotFound: "NOT_FOUND";
    /** A record with that identifier already exists. */
    readonly AlreadyExists: "ALREADY_EXISTS";
    /** The caller is not an admin (Fabric admin OU or the `ledgerwork.admin=true` attribute). */
    readonly NotAdmin: "NOT_ADMIN";
    /** The caller is not the publisher of the job. */
    readonly NotPublisher: "NOT_PUBLISHER";
    /** The caller does not own the executor it acts for. */
    readonly NotOwner: "NOT_OWNER";
    /** The caller or executor is not the current claimant (or rank holder) of the task. */
    readonly NotClaimant: "NOT_CLAIMANT";
    /** The executor belongs to a shard (MSP) the job does not admit. */
    readonly WrongShard: "WRONG_SHARD";
    /** The executor is retired or suspended. */
    readonly ExecutorInactive: "EXECUTOR_INACTIVE";
    /** The executor does not meet a task requirement (skills, minimum reputation, mode, capacity). */
    readonly RequirementUnmet: "REQUIREMENT_UNMET";
    /** The task is already claimed by another executor. */
    readonly AlreadyClaimed: "ALREADY_CLAIMED";
    /** The record is not in a state that allows the operation. */
    readonly InvalidState: "INVALID_STATE";
    /** The claimant's lease has expired. */
    readonly LeaseExpired: "LEASE_EXPIRED";
    /** The job's deadline has passed. */
    readonly DeadlinePassed: "DEADLINE_PASSED";
    /** Separate mode: the input signature does not verify, so the task was "not executed" on the published input. */
    readonly InputSignatureInvalid: "INPUT_SIGNATURE_INVALID";
    /** Separate mode: the result signature does not verify, so the result is "not trustworthy". */
    readonly ResultSignatureInvalid: "RESULT_SIGNATURE_INVALID";
    /** Combined mode or merge: the one signature does not verify (not executed or not trustworthy). */
    readonly SignatureInvalid: "SIGNATURE_INVALID";
    /** A signature is not strict DER ECDSA (raw r‖s, trailing bytes, non-minimal integers, r or s out of range). */
    readonly SignatureMalformed: "SIGNATURE_MALFORMED";
    /** A signature has S in the upper half of the curve order; Fabric rejects those and so do we. */
    readonly HighS: "HIGH_S";
    /** A public key is not an ECDSA P-256 SubjectPublicKeyInfo. */
    readonly InvalidPublicKey: "INVALID_PUBLIC_KEY";
    /** The publisher's balance does not cover the escrow. */
    readonly InsufficientFunds: "INSUFFICIENT_FUNDS";
    /** A shard has fewer eligible executors than the job needs from it. */
    readonly TooFewExecutors: "TOO_FEW_EXECUTORS";
    /** A merge-tree number (y, x) does not exist for the job. */
    readonly MergeNumberInvalid: "MERGE_NUMBER_INVALID";
    /** The number (y, x) has already been filed. */
    readonly AlreadyFiled: "ALREADY_FILED";
    /** A merge needs a child that is not filed yet. */
    readonly ChildMissing: "CHILD_MISSING";
    /** The transaction timestamp is further from the endorsing peer's clock than the allowed skew. */
    readonly ClockSkew: "CLOCK_SKEW";
    /** A replicated policy needs more organizations (shards) than the job can draw on. */
    readonly TooFewShards: "TOO_FEW_SHARDS";
    /** The executor's organization already holds a replica of the task: an org cannot outvote itself. */
    readonly ShardTaken: "SHARD_TAKEN";
    /** A reveal from a replica that has not committed first. */
    readonly NotCommitted: "NOT_COMMITTED";
    /** A reveal before the task's reveal window opened (other replicas still choosing their values). */
    readonly RevealNotOpen: "REVEAL_NOT_OPEN";
    /** A reveal whose result and salt do not hash to the replica's commitment (recorded as a rejection). */
    readonly CommitmentMismatch: "COMMITMENT_MISMATCH";
    /** The verification policy is not supported by this chaincode version. */
    readonly Unsupported: "UNSUPPORTED";
    /** An unexpected failure inside the chaincode: a bug. */
    readonly Internal: "INTERNAL";
};
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
/** A ledgerwork failure. Its message is the wire form `CODE: detail`. */
export declare class LedgerworkError extends Error {
    readonly name = "LedgerworkError";
    readonly code: ErrorCode;
    readonly detail: string;
    constructor(code: ErrorCode, detail: string);
}
/** Shorthand for `new LedgerworkError(code, detail)`, for use in expressions. */
export declare function fail(code: ErrorCode, detail: string): never;
/** True if `code` is one of the catalogue's codes. */
export declare function isErrorCode(code: string): code is ErrorCode;
/**
 * Finds a `CODE: detail` wire message inside any text, such as the peer's wrapping
 * `chaincode response 500, NOT_FOUND: task t1 does not exist`. Returns undefined when there is none.
 */
export declare function parseWireMessage(text: string): {
    code: ErrorCode;
    detail: string;
} | undefined;
/** Wraps anything thrown into a LedgerworkError; unknown failures become INTERNAL. */
export declare function toLedgerworkError(err: unknown): LedgerworkError;
