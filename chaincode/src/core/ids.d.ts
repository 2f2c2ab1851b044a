/**
 * Identifiers (jobs, tasks, executors, accounts, shards) travel inside composite keys and signature
 * payloads. fabric-shim's createCompositeKey does not reject U+0000 inside an attribute, so
 * ['a', 'b'] and ['a\u0000b'] would collide; merge slot ids use '/', so task ids must not. Hence a
 * strict allow-list: ASCII letters and digits, then also '.', '_' and '-', 1..64 characters.
 */
export declare const ID_PATTERN: RegExp;
/** MSP ids are chosen by Fabric operators; they may not contain composite-key separators either. */
export declare const MSP_ID_PATTERN: RegExp;
/** Accounts are the SHA-256 (hex) of an identity, see accountOf. */
export declare const ACCOUNT_PATTERN: RegExp;
/** Skill tags: lower-case words such as `wasm`, `simd`, `mem:4g`. */
export declare const SKILL_PATTERN: RegExp;
/**
 * Checks that `value` is a string identifier matching `pattern`.
 * @throws {LedgerworkError} INVALID_ID
 */
export declare function requireId(value: unknown, what: string, pattern?: RegExp): string;
