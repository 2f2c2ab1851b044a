// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from './errors';
import type { MergeNumber } from './mergeTree';
import type { JobTreeRecord, RankRecord } from './model';
import type { NumberResult, Signatures } from './specs';

/**
 * Shape checks of a ranked job's filing at a number (y, x): who may file it, and what a ZERO, a
 * computed or a signed number must carry. Pure: the ledger side reads, the contract throws.
 */

/**
 * Only the rank's current holder, acting through the identity that registered it, files its numbers.
 * @throws {LedgerworkError} INVALID_STATE (the job ended) or NOT_CLAIMANT
 */
export function requireHolder(rank: RankRecord, executorId: string, callerAccount: string, number: MergeNumber): void {
    if (rank.cancelled === true) {
        throw new LedgerworkError(ErrorCode.InvalidState, `job ${rank.jobId} has ended; its ranks are closed`);
    }
    if (rank.executorId !== executorId || rank.account !== callerAccount) {
        throw new LedgerworkError(ErrorCode.NotClaimant, `(${number.y}, ${number.x}) of job ${rank.jobId} is held by rank ${rank.rank}, not by executor ${executorId} of the calling identity`);
    }
}

/** @throws {LedgerworkError} INVALID_ARGUMENT unless a ZERO number is filed as result null without signatures */
export function requireZero(given: NumberResult, number: MergeNumber): void {
    if (given.result !== null || given.signatures !== undefined) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `(${number.y}, ${number.x}) is ZERO: file result null without signatures`);
    }
}

/** @throws {LedgerworkError} INVALID_ARGUMENT when a number that is not ZERO comes without its result */
export function requireBytes(given: NumberResult, number: MergeNumber): Buffer {
    if (given.result === null) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `(${number.y}, ${number.x}) is not ZERO: its result is required`);
    }
    return given.result;
}

/** @throws {LedgerworkError} INVALID_ARGUMENT when a signed number comes without signatures */
export function requireSignatures(given: NumberResult, number: MergeNumber): Signatures {
    if (given.signatures === undefined) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `(${number.y}, ${number.x}) needs signatures`);
    }
    return given.signatures;
}

/**
 * Under a replicated policy a ranked job has no rank holders: its numbers are filed when replicas
 * agree on them (tasks:Commit and tasks:Reveal on its tasks and merge tasks).
 * @throws {LedgerworkError} INVALID_STATE
 */
export function requireRankHolders(tree: JobTreeRecord): void {
    if (tree.verify !== undefined) {
        throw new LedgerworkError(
            ErrorCode.InvalidState,
            `job ${tree.jobId} is verified by ${tree.verify.policy}: its numbers are filed when replicas agree; claim, commit and reveal its tasks and merge tasks with tasks:Claim, Commit and Reveal`,
        );
    }
}
