/** The order n of the P-256 (prime256v1, secp256r1) base point. */
export declare const P256_ORDER = 115792089210356248762697446949407573529996955224135760342422259061068512044369n;
/**
 * floor(n / 2). A signature is low-S when s ≤ P256_HALF_ORDER; Fabric (`bccsp/sw/ecdsa.go`) rejects
 * s > halfOrder with "Invalid S. Must be smaller than half the order", and so does ledgerwork.
 */
export declare const P256_HALF_ORDER: bigint;
/**
 * The longest DER ECDSA-Sig-Value for a 256-bit curve: SEQUENCE header (2) + two INTEGERs of at most
 * 2 + 33 bytes each. Every length in such a signature fits the DER short form (< 128).
 */
export declare const MAX_P256_DER_LENGTH = 72;
/** The two components of an ECDSA signature. */
export interface EcdsaComponents {
    readonly r: bigint;
    readonly s: bigint;
}
/**
 * Parses a strict DER ECDSA-Sig-Value (`SEQUENCE { r INTEGER, s INTEGER }`) for P-256: short-form
 * lengths that match the data exactly, minimal non-negative integer encodings, no trailing bytes, and
 * 0 < r < n, 0 < s < n. It does not judge S against n/2 (see decodeSignature for that). The work is a
 * handful of byte comparisons plus two hex-to-BigInt conversions: no big-number arithmetic.
 * @param what - names the signature in error messages, e.g. `input signature of "t1"`
 * @throws {LedgerworkError} SIGNATURE_MALFORMED, naming the first rule that is broken
 */
export declare function parseEcdsaDer(der: Uint8Array, what?: string): EcdsaComponents;
/**
 * Encodes (r, s) as a minimal DER ECDSA-Sig-Value.
 * @throws {LedgerworkError} SIGNATURE_MALFORMED when r or s is outside 0 < v < n
 */
export declare function encodeEcdsaDer(r: bigint, s: bigint): Buffer;
