"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.PUBLIC_KEY_CACHE_SIZE = exports.HASH_LENGTH = exports.SignatureDomain = void 0;
exports.sha256 = sha256;
exports.encodeFields = encodeFields;
exports.inputPayload = inputPayload;
exports.resultPayload = resultPayload;
exports.combinedPayload = combinedPayload;
exports.mergeSlotId = mergeSlotId;
exports.mergeInputHash = mergeInputHash;
exports.parsePublicKey = parsePublicKey;
exports.decodeSignature = decodeSignature;
exports.verifyPayload = verifyPayload;
exports.verifySeparate = verifySeparate;
exports.verifyCombined = verifyCombined;
exports.normalizeLowS = normalizeLowS;
exports.signPayload = signPayload;
// SPDX-License-Identifier: Apache-2.0
const node_crypto_1 = require("node:crypto");
const der_1 = require("./der");
const errors_1 = require("./errors");
const ids_1 = require("./ids");
/**
 * Signed result data (SPEC §5). Every signature is ECDSA P-256 over SHA-256 of a payload, DER encoded,
 * low-S. A payload is a list of fields, each prefixed with its byte length (4-byte big-endian), whose
 * first field is one of these domain strings, so a signature made for one purpose never verifies for
 * another.
 */
exports.SignatureDomain = {
    input: 'ledgerwork/v1/input',
    result: 'ledgerwork/v1/result',
    combined: 'ledgerwork/v1/combined',
};
/** Length in bytes of a SHA-256 digest; every hash inside a payload has exactly this length. */
exports.HASH_LENGTH = 32;
/** How many parsed public keys parsePublicKey keeps (least recently used are evicted first). */
exports.PUBLIC_KEY_CACHE_SIZE = 1024;
/** The longest public key text parsePublicKey looks at; a P-256 SPKI PEM is about 180 characters. */
const MAX_PUBLIC_KEY_TEXT = 1024;
/** The longest canonical base64 of a DER P-256 signature (72 bytes → 96 characters). */
const MAX_SIGNATURE_TEXT = Math.ceil(der_1.MAX_P256_DER_LENGTH / 3) * 4;
/** SPKI DER of a P-256 key up to the point: SEQUENCE, AlgorithmIdentifier (ecPublicKey, prime256v1), BIT STRING header. */
const SPKI_P256_UNCOMPRESSED = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const SPKI_P256_COMPRESSED = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex');
const POINT_LENGTH_UNCOMPRESSED = 65;
const POINT_LENGTH_COMPRESSED = 33;
const PEM_PUBLIC_KEY = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n-----END PUBLIC KEY-----$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** A lone UTF-16 surrogate: UTF-8 would turn it into U+FFFD, so two different strings could encode alike. */
const LONE_SURROGATE = /\p{Cs}/u;
/**
 * Public keys by their exact text. Deterministic-safe: the cached value is the result of a pure function
 * of the key text (parsePublicKey either returns an immutable KeyObject for it or throws, and failures
 * are not cached), so a hit returns exactly what a miss would compute. Endorsing peers with different
 * cache contents therefore produce identical results and read/write sets; only the time differs. The
 * map is bounded, so hostile key texts cannot grow it.
 */
const publicKeyCache = new Map();
/**
 * KeyObjects already checked to be P-256 public keys, so verification does not re-read key details on
 * every call. As deterministic-safe as the cache above: the check is a pure function of an immutable key.
 */
const checkedKeys = new WeakSet();
/**
 * SHA-256 of `data`.
 * @throws {LedgerworkError} INVALID_ARGUMENT when `data` is not a Uint8Array
 */
function sha256(data) {
    return (0, node_crypto_1.createHash)('sha256').update(requireBytes(data, 'data to hash')).digest();
}
/**
 * The payload encoding of SPEC §5: the concatenation of the fields, each prefixed with its byte length
 * as a 4-byte big-endian unsigned integer; strings are UTF-8. It is injective in the fields' bytes (a
 * string and a byte array with the same bytes encode alike: the positions of a payload fix the types).
 * @throws {LedgerworkError} INVALID_ARGUMENT when a field is neither string nor Uint8Array, a string
 *   holds a lone surrogate (not representable in UTF-8), or a field exceeds 2^32 − 1 bytes
 */
function encodeFields(fields) {
    const list = fields;
    if (!Array.isArray(list)) {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidArgument, 'payload fields must be an array');
    }
    const parts = list.map((field, index) => fieldBytes(field, index));
    const out = Buffer.alloc(parts.reduce((total, part) => total + 4 + part.length, 0));
    let offset = 0;
    for (const part of parts) {
        offset = out.writeUInt32BE(part.length, offset);
        offset += part.copy(out, offset);
    }
    return out;
}
/**
 * Payload of a separate-mode input signature: [domain.input, channel, chaincode, subjectId, SHA-256(input)].
 * @throws {LedgerworkError} INVALID_ARGUMENT for an empty binding field or subject id, or a hash that is not 32 bytes
 */
function inputPayload(binding, subjectId, inputHash) {
    return encodeFields([exports.SignatureDomain.input, ...bindingFields(binding), requireSubject(subjectId), requireHash(inputHash, 'input hash')]);
}
/**
 * Payload of a separate-mode result signature: [domain.result, channel, chaincode, subjectId, SHA-256(result)].
 * @throws {LedgerworkError} INVALID_ARGUMENT as inputPayload
 */
function resultPayload(binding, subjectId, resultHash) {
    return encodeFields([exports.SignatureDomain.result, ...bindingFields(binding), requireSubject(subjectId), requireHash(resultHash, 'result hash')]);
}
/**
 * Payload of a combined-mode signature: [domain.combined, channel, chaincode, subjectId, SHA-256(input), SHA-256(result)].
 * @throws {LedgerworkError} INVALID_ARGUMENT as inputPayload
 */
function combinedPayload(binding, subjectId, inputHash, resultHash) {
    return encodeFields([
        exports.SignatureDomain.combined,
        ...bindingFields(binding),
        requireSubject(subjectId),
        requireHash(inputHash, 'input hash'),
        requireHash(resultHash, 'result hash'),
    ]);
}
/**
 * Merge slots are signed like tasks with this id in place of the task id: `<jobId>/<y>/<x>`. Task ids
 * cannot contain '/', so a slot id never equals a task id.
 * @throws {LedgerworkError} INVALID_ID for a bad job id; INVALID_ARGUMENT when y or x is not a non-negative safe integer
 */
function mergeSlotId(jobId, y, x) {
    (0, ids_1.requireId)(jobId, 'job id');
    return `${jobId}/${requireIndex(y, 'y')}/${requireIndex(x, 'x')}`;
}
/**
 * The hash that stands in for SHA-256(input) in a merge slot's payload: the merge "input" is the
 * concatenation of the two child result hashes, so this is SHA-256(left ‖ right).
 * @throws {LedgerworkError} INVALID_ARGUMENT when a child hash is not 32 bytes
 */
function mergeInputHash(leftResultHash, rightResultHash) {
    const left = requireHash(leftResultHash, 'left child result hash');
    const right = requireHash(rightResultHash, 'right child result hash');
    return (0, node_crypto_1.createHash)('sha256').update(left).update(right).digest();
}
/**
 * Parses an ECDSA P-256 public key given as SPKI PEM (`-----BEGIN PUBLIC KEY-----`) or as canonical
 * base64 of the SPKI DER. The DER must be the named-curve prime256v1 SubjectPublicKeyInfo (uncompressed
 * or compressed point) and the point must lie on the curve. Anything else — other curves (secp256k1,
 * P-384, …), RSA, Ed25519, explicit curve parameters, private keys, certificates, garbage — is refused.
 * Results are cached by exact text (bounded, least recently used evicted), so the submit path does not
 * re-parse PEM; see `publicKeyCache` for why this cannot make endorsements diverge.
 * @throws {LedgerworkError} INVALID_PUBLIC_KEY
 */
function parsePublicKey(text) {
    const cached = publicKeyCache.get(text);
    if (cached !== undefined) {
        publicKeyCache.delete(text);
        publicKeyCache.set(text, cached);
        return cached;
    }
    const key = importPublicKey(spkiDer(text));
    if (publicKeyCache.size >= exports.PUBLIC_KEY_CACHE_SIZE) {
        const oldest = publicKeyCache.keys().next();
        if (oldest.done !== true) {
            publicKeyCache.delete(oldest.value);
        }
    }
    publicKeyCache.set(text, key);
    return key;
}
/**
 * Strictly decodes a signature: canonical base64 (re-encoding gives the same text; no whitespace, no
 * URL-safe alphabet, padding required) of a DER ECDSA-Sig-Value with minimal lengths and integers, no
 * trailing bytes and 0 < r, s < n. Raw 64-byte r‖s (IEEE P1363), truncated or padded DER are malformed.
 * @throws {LedgerworkError} SIGNATURE_MALFORMED; HIGH_S when s > n/2
 */
function decodeSignature(base64) {
    return decodeSignatureAs(base64, 'signature');
}
/**
 * Decodes `signatureBase64` strictly (see decodeSignature) and verifies it over `payload` with
 * node:crypto (SHA-256, DER).
 * @param what - names the signature in error messages, e.g. `input signature of "t1"`
 * @throws {LedgerworkError} SIGNATURE_MALFORMED or HIGH_S from decoding; INVALID_PUBLIC_KEY when `key`
 *   is not a P-256 public KeyObject; INVALID_ARGUMENT when `payload` is not bytes; `failCode` when the
 *   signature does not verify
 */
function verifyPayload(key, payload, signatureBase64, failCode, what) {
    verifyOrFail(requireVerifyKey(key), requireBytes(payload, 'payload'), signatureBase64, failCode, what, '');
}
/**
 * SPEC §5 separate mode. The input signature is checked first: if it fails the task was not executed
 * on the published input (INPUT_SIGNATURE_INVALID); then the result signature: if it fails the result
 * is not trustworthy (RESULT_SIGNATURE_INVALID). Arguments are validated before either check.
 * @throws {LedgerworkError} INVALID_ARGUMENT, INVALID_PUBLIC_KEY, SIGNATURE_MALFORMED, HIGH_S,
 *   INPUT_SIGNATURE_INVALID, RESULT_SIGNATURE_INVALID
 */
function verifySeparate(key, binding, subjectId, inputHash, resultHash, inputSignature, resultSignature) {
    const publicKey = requireVerifyKey(key);
    const input = inputPayload(binding, subjectId, inputHash);
    const result = resultPayload(binding, subjectId, resultHash);
    const subject = JSON.stringify(subjectId.slice(0, 100));
    verifyOrFail(publicKey, input, inputSignature, errors_1.ErrorCode.InputSignatureInvalid, `input signature of ${subject}`, 'the task was not executed on the published input');
    verifyOrFail(publicKey, result, resultSignature, errors_1.ErrorCode.ResultSignatureInvalid, `result signature of ${subject}`, 'the result is not trustworthy');
}
/**
 * SPEC §5 combined mode: one signature over input and result hashes; failure means "not executed or
 * not trustworthy" (SIGNATURE_INVALID).
 * @throws {LedgerworkError} INVALID_ARGUMENT, INVALID_PUBLIC_KEY, SIGNATURE_MALFORMED, HIGH_S, SIGNATURE_INVALID
 */
function verifyCombined(key, binding, subjectId, inputHash, resultHash, signature) {
    const publicKey = requireVerifyKey(key);
    const payload = combinedPayload(binding, subjectId, inputHash, resultHash);
    const what = `signature of ${JSON.stringify(subjectId.slice(0, 100))}`;
    verifyOrFail(publicKey, payload, signature, errors_1.ErrorCode.SignatureInvalid, what, 'not executed on the published input or the result is not trustworthy');
}
/**
 * For signers (gateway, executors, tests, benchmarks): node:crypto emits high-S signatures about half
 * the time. Returns the DER of (r, n − s) when s > n/2, else a copy of the input. Both verify for the
 * same payload and key; only the low-S one is accepted by ledgerwork and Fabric.
 * @throws {LedgerworkError} INVALID_ARGUMENT when `der` is not bytes; SIGNATURE_MALFORMED when it is not strict DER
 */
function normalizeLowS(der) {
    const bytes = requireBytes(der, 'signature');
    const { r, s } = (0, der_1.parseEcdsaDer)(bytes);
    return s > der_1.P256_HALF_ORDER ? (0, der_1.encodeEcdsaDer)(r, der_1.P256_ORDER - s) : Buffer.from(bytes);
}
/**
 * Signs `payload` with a P-256 private key (SHA-256, DER), normalises to low S and returns canonical
 * base64. Signing is randomised: for gateways and tests, never inside a transaction.
 * @throws {LedgerworkError} INVALID_ARGUMENT when the key is not a P-256 private KeyObject or the payload is not bytes
 */
function signPayload(privateKey, payload) {
    const key = privateKey;
    if (!(key instanceof node_crypto_1.KeyObject) || key.type !== 'private' || !isP256(key)) {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidArgument, 'signing key must be an ECDSA P-256 private KeyObject');
    }
    const der = (0, node_crypto_1.sign)('sha256', requireBytes(payload, 'payload'), { key, dsaEncoding: 'der' });
    return normalizeLowS(der).toString('base64');
}
function verifyOrFail(key, payload, signatureBase64, failCode, what, consequence) {
    const { der } = decodeSignatureAs(signatureBase64, what);
    let valid;
    try {
        valid = (0, node_crypto_1.verify)('sha256', payload, { key, dsaEncoding: 'der' }, der);
    }
    catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new errors_1.LedgerworkError(failCode, `${what} could not be verified: ${reason}`);
    }
    if (!valid) {
        const tail = consequence === '' ? '' : `; ${consequence}`;
        throw new errors_1.LedgerworkError(failCode, `${what} does not verify for this key and payload${tail}`);
    }
}
function decodeSignatureAs(text, what) {
    if (typeof text !== 'string') {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.SignatureMalformed, `${what} must be a base64 string`);
    }
    const der = text.length <= MAX_SIGNATURE_TEXT ? canonicalBase64(text) : undefined;
    if (der === undefined) {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.SignatureMalformed, `${what} is not canonical base64 of at most ${der_1.MAX_P256_DER_LENGTH} bytes (standard alphabet, padded, no whitespace)`);
    }
    const { r, s } = (0, der_1.parseEcdsaDer)(der, what);
    if (s > der_1.P256_HALF_ORDER) {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.HighS, `${what} has S greater than n/2; sign again or normalise to (r, n - s)`);
    }
    return { der, r, s };
}
/** Decodes base64 only if re-encoding the bytes gives back exactly `text`. */
function canonicalBase64(text) {
    if (!BASE64.test(text)) {
        return undefined;
    }
    const bytes = Buffer.from(text, 'base64');
    return bytes.toString('base64') === text ? bytes : undefined;
}
function spkiDer(text) {
    if (typeof text !== 'string' || text.length > MAX_PUBLIC_KEY_TEXT) {
        throw invalidKey('must be a string of at most 1024 characters (SPKI PEM or base64 SPKI DER)');
    }
    const trimmed = text.trim();
    const pem = PEM_PUBLIC_KEY.exec(trimmed);
    const der = canonicalBase64(pem?.[1] === undefined ? trimmed : pem[1].replace(/\r?\n/g, ''));
    if (der === undefined) {
        throw invalidKey('is neither a PUBLIC KEY PEM block nor canonical base64 of SPKI DER');
    }
    const compressed = der.length === SPKI_P256_COMPRESSED.length + POINT_LENGTH_COMPRESSED;
    const prefix = compressed ? SPKI_P256_COMPRESSED : SPKI_P256_UNCOMPRESSED;
    const pointLength = compressed ? POINT_LENGTH_COMPRESSED : POINT_LENGTH_UNCOMPRESSED;
    const form = der[prefix.length] ?? 0;
    const formOk = compressed ? form === 0x02 || form === 0x03 : form === 0x04;
    if (der.length !== prefix.length + pointLength || !der.subarray(0, prefix.length).equals(prefix) || !formOk) {
        throw invalidKey('is not an ECDSA P-256 (prime256v1, named curve) SubjectPublicKeyInfo');
    }
    return der;
}
function importPublicKey(der) {
    let key;
    try {
        key = (0, node_crypto_1.createPublicKey)({ key: der, format: 'der', type: 'spki' });
    }
    catch {
        throw invalidKey('holds a point that is not on the P-256 curve');
    }
    if (!isP256(key)) {
        throw invalidKey('is not an ECDSA P-256 key');
    }
    checkedKeys.add(key);
    return key;
}
function requireVerifyKey(key) {
    if (key instanceof node_crypto_1.KeyObject && (checkedKeys.has(key) || (key.type === 'public' && isP256(key)))) {
        checkedKeys.add(key);
        return key;
    }
    throw invalidKey('for verification must be an ECDSA P-256 public KeyObject');
}
function isP256(key) {
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}
function invalidKey(detail) {
    return new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidPublicKey, `public key ${detail}`);
}
/** Uint8Array check that also holds across realms (jest's vm contexts), where instanceof does not. */
function isBytes(value) {
    return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]';
}
function requireBytes(value, what) {
    if (!isBytes(value)) {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidArgument, `${what} must be a Uint8Array`);
    }
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
function requireHash(value, what) {
    const bytes = requireBytes(value, what);
    if (bytes.length !== exports.HASH_LENGTH) {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidArgument, `${what} must be ${exports.HASH_LENGTH} bytes (SHA-256), got ${bytes.length}`);
    }
    return bytes;
}
function requireText(value, what) {
    if (typeof value !== 'string' || value.length === 0) {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidArgument, `${what} must be a non-empty string`);
    }
    return value;
}
function requireSubject(value) {
    return requireText(value, 'subject id (task id or merge slot id)');
}
function bindingFields(binding) {
    if (typeof binding !== 'object' || binding === null) {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidArgument, 'binding must be an object { channel, chaincode }');
    }
    const { channel, chaincode } = binding;
    return [requireText(channel, 'binding channel'), requireText(chaincode, 'binding chaincode')];
}
function requireIndex(value, what) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidArgument, `merge number ${what} must be a non-negative safe integer`);
    }
    return value;
}
function fieldBytes(field, index) {
    if (typeof field === 'string') {
        if (LONE_SURROGATE.test(field)) {
            throw new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidArgument, `payload field ${index} holds a lone UTF-16 surrogate`);
        }
        return Buffer.from(field, 'utf8');
    }
    if (!isBytes(field)) {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidArgument, `payload field ${index} must be a string or a Uint8Array`);
    }
    if (field.byteLength > 0xffffffff) {
        throw new errors_1.LedgerworkError(errors_1.ErrorCode.InvalidArgument, `payload field ${index} is longer than 2^32 - 1 bytes`);
    }
    return Buffer.from(field.buffer, field.byteOffset, field.byteLength);
}
//# sourceMappingURL=signature.js.map