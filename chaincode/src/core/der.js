"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.MAX_P256_DER_LENGTH = exports.P256_HALF_ORDER = exports.P256_ORDER = void 0;
exports.parseEcdsaDer = parseEcdsaDer;
exports.encodeEcdsaDer = encodeEcdsaDer;
// SPDX-License-Identifier: Apache-2.0
const errors_1 = require("./errors");
/** The order n of the P-256 (prime256v1, secp256r1) base point. */
exports.P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/**
 * floor(n / 2). A signature is low-S when s ≤ P256_HALF_ORDER; Fabric (`bccsp/sw/ecdsa.go`) rejects
 * s > halfOrder with "Invalid S. Must be smaller than half the order", and so does ledgerwork.
 */
exports.P256_HALF_ORDER = exports.P256_ORDER >> 1n;
/**
 * The longest DER ECDSA-Sig-Value for a 256-bit curve: SEQUENCE header (2) + two INTEGERs of at most
 * 2 + 33 bytes each. Every length in such a signature fits the DER short form (< 128).
 */
exports.MAX_P256_DER_LENGTH = 72;
const TAG_SEQUENCE = 0x30;
const TAG_INTEGER = 0x02;
/** An integer below n has at most 32 value bytes, plus a leading 0x00 when the top bit is set. */
const MAX_INTEGER_LENGTH = 33;
/**
 * Parses a strict DER ECDSA-Sig-Value (`SEQUENCE { r INTEGER, s INTEGER }`) for P-256: short-form
 * lengths that match the data exactly, minimal non-negative integer encodings, no trailing bytes, and
 * 0 < r < n, 0 < s < n. It does not judge S against n/2 (see decodeSignature for that). The work is a
 * handful of byte comparisons plus two hex-to-BigInt conversions: no big-number arithmetic.
 * @param what - names the signature in error messages, e.g. `input signature of "t1"`
 * @throws {LedgerworkError} SIGNATURE_MALFORMED, naming the first rule that is broken
 */
function parseEcdsaDer(der, what = 'signature') {
    if (der.length < 8 || der.length > exports.MAX_P256_DER_LENGTH) {
        throw malformed(what, `is ${der.length} bytes; a DER P-256 signature has 8..${exports.MAX_P256_DER_LENGTH}`);
    }
    if (der[0] !== TAG_SEQUENCE) {
        throw malformed(what, 'is not a DER SEQUENCE (raw r‖s / IEEE P1363 is not accepted)');
    }
    if (der[1] !== der.length - 2) {
        throw malformed(what, `has SEQUENCE length ${der[1] ?? 0} but ${der.length - 2} bytes follow`);
    }
    const r = readInteger(der, 2, 'r', what);
    const s = readInteger(der, r.end, 's', what);
    if (s.end !== der.length) {
        throw malformed(what, `has ${der.length - s.end} bytes after s`);
    }
    return { r: inRange(r.value, 'r', what), s: inRange(s.value, 's', what) };
}
/**
 * Encodes (r, s) as a minimal DER ECDSA-Sig-Value.
 * @throws {LedgerworkError} SIGNATURE_MALFORMED when r or s is outside 0 < v < n
 */
function encodeEcdsaDer(r, s) {
    const rBytes = integerBytes(inRange(r, 'r', 'signature'));
    const sBytes = integerBytes(inRange(s, 's', 'signature'));
    return Buffer.concat([
        Buffer.from([TAG_SEQUENCE, rBytes.length + sBytes.length + 4, TAG_INTEGER, rBytes.length]),
        rBytes,
        Buffer.from([TAG_INTEGER, sBytes.length]),
        sBytes,
    ]);
}
function readInteger(der, offset, name, what) {
    if (der[offset] !== TAG_INTEGER) {
        throw malformed(what, `has no DER INTEGER ${name}`);
    }
    const length = der[offset + 1];
    const start = offset + 2;
    if (length === undefined || length === 0 || length > MAX_INTEGER_LENGTH || start + length > der.length) {
        throw malformed(what, `has an invalid length for ${name}`);
    }
    const first = der[start] ?? 0;
    if (first >= 0x80) {
        throw malformed(what, `has a negative ${name}`);
    }
    if (first === 0 && length > 1 && (der[start + 1] ?? 0) < 0x80) {
        throw malformed(what, `has a non-minimal ${name} (superfluous leading zero byte)`);
    }
    const hex = Buffer.from(der.buffer, der.byteOffset + start, length).toString('hex');
    return { value: BigInt(`0x${hex}`), end: start + length };
}
function inRange(value, name, what) {
    if (value <= 0n || value >= exports.P256_ORDER) {
        throw malformed(what, `has ${name} outside 0 < ${name} < n`);
    }
    return value;
}
function integerBytes(value) {
    const hex = value.toString(16);
    const bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
    return (bytes[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}
function malformed(what, detail) {
    return new errors_1.LedgerworkError(errors_1.ErrorCode.SignatureMalformed, `${what} ${detail}`);
}
//# sourceMappingURL=der.js.map