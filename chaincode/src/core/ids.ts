// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from './errors';

/**
 * Identifiers (jobs, tasks, executors, accounts, shards) travel inside composite keys and signature
 * payloads. fabric-shim's createCompositeKey does not reject U+0000 inside an attribute, so
 * ['a', 'b'] and ['a\u0000b'] would collide; merge slot ids use '/', so task ids must not. Hence a
 * strict allow-list: ASCII letters and digits, then also '.', '_' and '-', 1..64 characters.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** MSP ids are chosen by Fabric operators; they may not contain composite-key separators either. */
export const MSP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Accounts are the SHA-256 (hex) of an identity, see accountOf. */
export const ACCOUNT_PATTERN = /^[0-9a-f]{64}$/;

/** Skill tags: lower-case words such as `wasm`, `simd`, `mem:4g`. */
export const SKILL_PATTERN = /^[a-z0-9][a-z0-9:._-]{0,31}$/;

/**
 * Checks that `value` is a string identifier matching `pattern`.
 * @throws {LedgerworkError} INVALID_ID
 */
export function requireId(value: unknown, what: string, pattern: RegExp = ID_PATTERN): string {
    if (typeof value !== 'string' || !pattern.test(value)) {
        const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
        throw new LedgerworkError(ErrorCode.InvalidId, `${what} ${shown} must match ${pattern.source}`);
    }
    return value;
}

/**
 * Task ids as transactions take them: a published task's id, or the merge task `<jobId>/<y>/<x>` of
 * a ranked job under a replicated policy (the merge slot's id; its '/' keeps it apart from every
 * published task id).
 */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(?:\/[1-9][0-9]?\/[1-9][0-9]{0,5})?$/;

/** @throws {LedgerworkError} INVALID_ID unless `value` is a task id or a merge task id */
export function requireTaskId(value: unknown, what = 'taskId'): string {
    return requireId(value, what, TASK_ID_PATTERN);
}
