"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.SKILL_PATTERN = exports.ACCOUNT_PATTERN = exports.MSP_ID_PATTERN = exports.ID_PATTERN = void 0;
exports.requireId = requireId;
// SPDX-License-Identifier: Apache-2.0
const errors_1 = require("./errors");
/**
 * Identifiers (jobs, tasks, executors, accounts, shards) travel inside composite keys and signature
 * payloads. fabric-shim's createCompositeKey does not reject U+0000 inside an attribute, so
 * ['a', 'b'] and ['a\u0000b'] would collide; merge slot ids use '/', so task ids must not. Hence a
 * strict allow-list: ASCII letters and digits, then also '.', '_' and '-', 1..64 characters.
 */
exports.ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** MSP ids are chosen by Fabric operators; they may not contain composite-key separators either. */
exports.MSP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Accounts are the SHA-256 (hex) of an identity, see accountOf. */
exports.ACCOUNT_PATTERN = /^[0-9a-f]{64}$/;
/** Skill tags: lower-case words such as `wasm`, `simd`, `mem:4g`. */
exports.SKILL_PATTERN = /^[a-z0-9][a-z0-9:._-]{0,31}$/;
/**
 * Checks that `value` is a string identifier matching `pattern`.
 * @throws {LedgerworkError} INVALID_ID
 */
function requireId(value, what, pattern = exports.ID_PATTERN) {
    if (typeof value !== 'string' || !pattern.test(value)) {
        const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidId, `${what} ${shown} must match ${pattern.source}`);
    }
    return value;
}
//# sourceMappingURL=ids.js.map