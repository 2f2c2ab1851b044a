import { KeyObject } from 'node:crypto';
import { ErrorCode } from './errors';
/**
 * Signed result data (SPEC §5). Every signature is ECDSA P-256 over SHA-256 of a payload, DER encoded,
 * low-S. A payload is a list of fields, each prefixed with its byte length (4-byte big-endian), whose
 * first field is one of these domain strings, so a signature made for one purpose never verifies for
 * another.
 */
export declare const SignatureDomain: {
    readonly input: "ledgerwork/v1/input";
    readonly result: "ledgerwork/v1/result";
    readonly combined: "ledgerwork/v1/combined";
};
/** How a job's executors sign: two signatures (input, then result) or one over both. Chosen per job. */
export type SignatureMode = 'separate' | 'combined';
/** Where a signature is valid: a signature for one channel/chaincode must not verify on another. */
export interface Binding {
    readonly channel: string;
    readonly chaincode: string;
}
/** Length in bytes of a SHA-256 digest; every hash inside a payload has exactly this length. */
export declare const HASH_LENGTH = 32;
/** How many parsed public keys parsePublicKey keeps (least recently used are evicted first). */
export declare const PUBLIC_KEY_CACHE_SIZE = 1024;
/**
 * SHA-256 of `data`.
 * @throws {LedgerworkError} INVALID_ARGUMENT when `data` is not a Uint8Array
 */
export declare function sha256(data: Uint8Array): Buffer;
/**
 * The payload encoding of SPEC §5: the concatenation of the fields, each prefixed with its byte length
 * as a 4-byte big-endian unsigned integer; strings are UTF-8. It is injective in the fields' bytes (a
 * string and a byte array with the same bytes encode alike: the positions of a payload fix the types).
 * @throws {LedgerworkError} INVALID_ARGUMENT when a field is neither string nor Uint8Array, a string
 *   holds a lone surrogate (not representable in UTF-8), or a field exceeds 2^32 − 1 bytes
 */
export declare function encodeFields(fields: readonly (string | Uint8Array)[]): Buffer;
/**
 * Payload of a separate-mode input signature: [domain.input, channel, chaincode, subjectId, SHA-256(input)].
 * @throws {LedgerworkError} INVALID_ARGUMENT for an empty binding field or subject id, or a hash that is not 32 bytes
 */
export declare function inputPayload(binding: Binding, subjectId: string, inputHash: Uint8Array): Buffer;
/**
 * Payload of a separate-mode result signature: [domain.result, channel, chaincode, subjectId, SHA-256(result)].
 * @throws {LedgerworkError} INVALID_ARGUMENT as inputPayload
 */
export declare function resultPayload(binding: Binding, subjectId: string, resultHash: Uint8Array): Buffer;
/**
 * Payload of a combined-mode signature: [domain.combined, channel, chaincode, subjectId, SHA-256(input), SHA-256(result)].
 * @throws {LedgerworkError} INVALID_ARGUMENT as inputPayload
 */
export declare function combinedPayload(binding: Binding, subjectId: string, inputHash: Uint8Array, resultHash: Uint8Array): Buffer;
/**
 * Merge slots are signed like tasks with this id in place of the task id: `<jobId>/<y>/<x>`. Task ids
 * cannot contain '/', so a slot id never equals a task id.
 * @throws {LedgerworkError} INVALID_ID for a bad job id; INVALID_ARGUMENT when y or x is not a non-negative safe integer
 */
export declare function mergeSlotId(jobId: string, y: number, x: number): string;
/**
 * The hash that stands in for SHA-256(input) in a merge slot's payload: the merge "input" is the
 * concatenation of the two child result hashes, so this is SHA-256(left ‖ right).
 * @throws {LedgerworkError} INVALID_ARGUMENT when a child hash is not 32 bytes
 */
export declare function mergeInputHash(leftResultHash: Uint8Array, rightResultHash: Uint8Array): Buffer;
/**
 * Parses an ECDSA P-256 public key given as SPKI PEM (`-----BEGIN PUBLIC KEY-----`) or as canonical
 * base64 of the SPKI DER. The DER must be the named-curve prime256v1 SubjectPublicKeyInfo (uncompressed
 * or compressed point) and the point must lie on the curve. Anything else — other curves (secp256k1,
 * P-384, …), RSA, Ed25519, explicit curve parameters, private keys, certificates, garbage — is refused.
 * Results are cached by exact text (bounded, least recently used evicted), so the submit path does not
 * re-parse PEM; see `publicKeyCache` for why this cannot make endorsements diverge.
 * @throws {LedgerworkError} INVALID_PUBLIC_KEY
 */
export declare function parsePublicKey(text: string): KeyObject;
/**
 * Strictly decodes a signature: canonical base64 (re-encoding gives the same text; no whitespace, no
 * URL-safe alphabet, padding required) of a DER ECDSA-Sig-Value with minimal lengths and integers, no
 * trailing bytes and 0 < r, s < n. Raw 64-byte r‖s (IEEE P1363), truncated or padded DER are malformed.
 * @throws {LedgerworkError} SIGNATURE_MALFORMED; HIGH_S when s > n/2
 */
export declare function decodeSignature(base64: string): {
    der: Buffer;
    r: bigint;
    s: bigint;
};
/**
 * Decodes `signatureBase64` strictly (see decodeSignature) and verifies it over `payload` with
 * node:crypto (SHA-256, DER).
 * @param what - names the signature in error messages, e.g. `input signature of "t1"`
 * @throws {LedgerworkError} SIGNATURE_MALFORMED or HIGH_S from decoding; INVALID_PUBLIC_KEY when `key`
 *   is not a P-256 public KeyObject; INVALID_ARGUMENT when `payload` is not bytes; `failCode` when the
 *   signature does not verify
 */
export declare function verifyPayload(key: KeyObject, payload: Uint8Array, signatureBase64: string, failCode: ErrorCode, what: string): void;
/**
 * SPEC §5 separate mode. The input signature is checked first: if it fails the task was not executed
 * on the published input (INPUT_SIGNATURE_INVALID); then the result signature: if it fails the result
 * is not trustworthy (RESULT_SIGNATURE_INVALID). Arguments are validated before either check.
 * @throws {LedgerworkError} INVALID_ARGUMENT, INVALID_PUBLIC_KEY, SIGNATURE_MALFORMED, HIGH_S,
 *   INPUT_SIGNATURE_INVALID, RESULT_SIGNATURE_INVALID
 */
export declare function verifySeparate(key: KeyObject, binding: Binding, subjectId: string, inputHash: Uint8Array, resultHash: Uint8Array, inputSignature: string, resultSignature: string): void;
/**
 * SPEC §5 combined mode: one signature over input and result hashes; failure means "not executed or
 * not trustworthy" (SIGNATURE_INVALID).
 * @throws {LedgerworkError} INVALID_ARGUMENT, INVALID_PUBLIC_KEY, SIGNATURE_MALFORMED, HIGH_S, SIGNATURE_INVALID
 */
export declare function verifyCombined(key: KeyObject, binding: Binding, subjectId: string, inputHash: Uint8Array, resultHash: Uint8Array, signature: string): void;
/**
 * For signers (gateway, executors, tests, benchmarks): node:crypto emits high-S signatures about half
 * the time. Returns the DER of (r, n − s) when s > n/2, else a copy of the input. Both verify for the
 * same payload and key; only the low-S one is accepted by ledgerwork and Fabric.
 * @throws {LedgerworkError} INVALID_ARGUMENT when `der` is not bytes; SIGNATURE_MALFORMED when it is not strict DER
 */
export declare function normalizeLowS(der: Uint8Array): Buffer;
/**
 * Signs `payload` with a P-256 private key (SHA-256, DER), normalises to low S and returns canonical
 * base64. Signing is randomised: for gateways and tests, never inside a transaction.
 * @throws {LedgerworkError} INVALID_ARGUMENT when the key is not a P-256 private KeyObject or the payload is not bytes
 */
export declare function signPayload(privateKey: KeyObject, payload: Uint8Array): string;
