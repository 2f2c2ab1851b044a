// SPDX-License-Identifier: Apache-2.0

/**
 * The one catalogue of ledgerwork error codes. Only an error's message crosses the chaincode boundary
 * (a peer reports `chaincode response 500, <message>`), so every failure is thrown as `CODE: message`
 * and the gateway re-types it by the code. docs/errors.md explains when each is raised.
 */
export const ErrorCode = {
    /** An argument is not well-formed: bad JSON, wrong type, missing or unknown field, out of range. */
    InvalidArgument: 'INVALID_ARGUMENT',
    /** An identifier fails the allow-list (characters, length). */
    InvalidId: 'INVALID_ID',
    /** A size limit was exceeded (argument bytes, inline input or result, tasks per job). */
    LimitExceeded: 'LIMIT_EXCEEDED',
    /** The transaction name is not part of the contract. */
    UnknownTransaction: 'UNKNOWN_TRANSACTION',
    /** The named record does not exist. */
    NotFound: 'NOT_FOUND',
    /** A record with that identifier already exists. */
    AlreadyExists: 'ALREADY_EXISTS',
    /** The caller is not an admin (Fabric admin OU or the `ledgerwork.admin=true` attribute). */
    NotAdmin: 'NOT_ADMIN',
    /** The caller is not the publisher of the job. */
    NotPublisher: 'NOT_PUBLISHER',
    /** The caller does not own the executor it acts for. */
    NotOwner: 'NOT_OWNER',
    /** The caller or executor is not the current claimant (or rank holder) of the task. */
    NotClaimant: 'NOT_CLAIMANT',
    /** The executor belongs to a shard (MSP) the job does not admit. */
    WrongShard: 'WRONG_SHARD',
    /** The executor is retired or suspended. */
    ExecutorInactive: 'EXECUTOR_INACTIVE',
    /** The executor does not meet a task requirement (skills, minimum reputation, mode, capacity). */
    RequirementUnmet: 'REQUIREMENT_UNMET',
    /** The task is already claimed by another executor. */
    AlreadyClaimed: 'ALREADY_CLAIMED',
    /** The record is not in a state that allows the operation. */
    InvalidState: 'INVALID_STATE',
    /** The claimant's lease has expired. */
    LeaseExpired: 'LEASE_EXPIRED',
    /** The job's deadline has passed. */
    DeadlinePassed: 'DEADLINE_PASSED',
    /** Separate mode: the input signature does not verify, so the task was "not executed" on the published input. */
    InputSignatureInvalid: 'INPUT_SIGNATURE_INVALID',
    /** Separate mode: the result signature does not verify, so the result is "not trustworthy". */
    ResultSignatureInvalid: 'RESULT_SIGNATURE_INVALID',
    /** Combined mode or merge: the one signature does not verify (not executed or not trustworthy). */
    SignatureInvalid: 'SIGNATURE_INVALID',
    /** A signature is not strict DER ECDSA (raw r‖s, trailing bytes, non-minimal integers, r or s out of range). */
    SignatureMalformed: 'SIGNATURE_MALFORMED',
    /** A signature has S in the upper half of the curve order; Fabric rejects those and so do we. */
    HighS: 'HIGH_S',
    /** A public key is not an ECDSA P-256 SubjectPublicKeyInfo. */
    InvalidPublicKey: 'INVALID_PUBLIC_KEY',
    /** The publisher's balance does not cover the escrow. */
    InsufficientFunds: 'INSUFFICIENT_FUNDS',
    /** A shard has fewer eligible executors than the job needs from it. */
    TooFewExecutors: 'TOO_FEW_EXECUTORS',
    /** A merge-tree number (y, x) does not exist for the job. */
    MergeNumberInvalid: 'MERGE_NUMBER_INVALID',
    /** The number (y, x) has already been filed. */
    AlreadyFiled: 'ALREADY_FILED',
    /** A merge needs a child that is not filed yet. */
    ChildMissing: 'CHILD_MISSING',
    /** The transaction timestamp is further from the endorsing peer's clock than the allowed skew. */
    ClockSkew: 'CLOCK_SKEW',
    /** A job names a shard (MSP) in which no executor is registered: nobody could ever work it. */
    UnknownShard: 'UNKNOWN_SHARD',
    /** A replicated policy needs more organizations (shards) than the job can draw on. */
    TooFewShards: 'TOO_FEW_SHARDS',
    /** The executor's organization already holds a replica of the task: an org cannot outvote itself. */
    ShardTaken: 'SHARD_TAKEN',
    /** A reveal from a replica that has not committed first. */
    NotCommitted: 'NOT_COMMITTED',
    /** A reveal before the task's reveal window opened (other replicas still choosing their values). */
    RevealNotOpen: 'REVEAL_NOT_OPEN',
    /** A reveal whose result and salt do not hash to the replica's commitment (recorded as a rejection). */
    CommitmentMismatch: 'COMMITMENT_MISMATCH',
    /** A program is not admitted to the deterministic runtime: floats, a start function, a foreign import, no memory maximum, malformed. */
    ProgramRefused: 'PROGRAM_REFUSED',
    /** A validator or re-executed merge ran out of the fuel it was given (recorded as a rejection). */
    FuelExhausted: 'FUEL_EXHAUSTED',
    /** A validator or re-executed merge trapped (recorded as a rejection). */
    ProgramTrapped: 'PROGRAM_TRAPPED',
    /** A validator or re-executed merge grew its memory past its declared maximum (recorded as a rejection). */
    MemoryExceeded: 'MEMORY_EXCEEDED',
    /** A validator or re-executed merge nested calls deeper than the runtime allows (recorded as a rejection). */
    CallDepthExceeded: 'CALL_DEPTH_EXCEEDED',
    /** A validator or re-executed merge wrote more output than allowed (recorded as a rejection). */
    OutputExceeded: 'OUTPUT_EXCEEDED',
    /** The job's validator turned the result down (recorded as a rejection). */
    ValidatorRejected: 'VALIDATOR_REJECTED',
    /** A filed merge differs from the merge the endorsers re-executed (recorded as a rejection). */
    MergeMismatch: 'MERGE_MISMATCH',
    /** The verification policy is not supported by this chaincode version. */
    Unsupported: 'UNSUPPORTED',
    /** An unexpected failure inside the chaincode: a bug. */
    Internal: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** A ledgerwork failure. Its message is the wire form `CODE: detail`. */
export class LedgerworkError extends Error {
    override readonly name = 'LedgerworkError';
    readonly code: ErrorCode;
    readonly detail: string;

    constructor(code: ErrorCode, detail: string) {
        super(`${code}: ${oneLine(detail)}`);
        this.code = code;
        this.detail = oneLine(detail);
    }
}

/** Shorthand for `new LedgerworkError(code, detail)`, for use in expressions. */
export function fail(code: ErrorCode, detail: string): never {
    throw new LedgerworkError(code, detail);
}

/** True if `code` is one of the catalogue's codes. */
export function isErrorCode(code: string): code is ErrorCode {
    return knownCodes.has(code);
}

/**
 * Finds a `CODE: detail` wire message inside any text, such as the peer's wrapping
 * `chaincode response 500, NOT_FOUND: task t1 does not exist`. Returns undefined when there is none.
 */
export function parseWireMessage(text: string): { code: ErrorCode; detail: string } | undefined {
    // gRPC and the peer prefix their own words ("10 ABORTED: …"), so take the first catalogue code.
    for (const match of text.matchAll(/(?:^|[\s,(])([A-Z][A-Z_]+): /g)) {
        const code = match[1];
        if (code !== undefined && isErrorCode(code)) {
            return { code, detail: text.slice(match.index + match[0].length) };
        }
    }
    return undefined;
}

/** Wraps anything thrown into a LedgerworkError; unknown failures become INTERNAL. */
export function toLedgerworkError(err: unknown): LedgerworkError {
    if (err instanceof LedgerworkError) {
        return err;
    }
    const message = err instanceof Error ? err.message : String(err);
    return new LedgerworkError(ErrorCode.Internal, message);
}

function oneLine(text: string): string {
    return text.replace(/[\r\n]+/g, ' ');
}
