// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import fc from 'fast-check';
import { encodeEcdsaDer, parseEcdsaDer, P256_HALF_ORDER, P256_ORDER } from '../../chaincode/src/core/der';
import { ErrorCode, LedgerworkError } from '../../chaincode/src/core/errors';
import {
    combinedPayload,
    decodeSignature,
    encodeFields,
    inputPayload,
    mergeInputHash,
    mergeSlotId,
    normalizeLowS,
    parsePublicKey,
    PUBLIC_KEY_CACHE_SIZE,
    resultPayload,
    sha256,
    SignatureDomain,
    signPayload,
    verifyCombined,
    verifyPayload,
    verifySeparate,
} from '../../chaincode/src/core/signature';
import type { Binding } from '../../chaincode/src/core/signature';
import { binding, caught, expectCode, foreignPublicPem, hash32, N, newP256Key, rawSign, signatureCodes, splitDer } from './signatureSupport';

const key = newP256Key();

/** Test-side decoder for the field encoding: its existence on every output proves encodeFields injective. */
function decodeFields(bytes: Buffer): Buffer[] {
    const fields: Buffer[] = [];
    let offset = 0;
    while (offset < bytes.length) {
        const length = bytes.readUInt32BE(offset);
        fields.push(bytes.subarray(offset + 4, offset + 4 + length));
        offset += 4 + length;
    }
    expect(offset).toBe(bytes.length);
    return fields;
}

const bytesOf = (field: string | Uint8Array): Buffer => (typeof field === 'string' ? Buffer.from(field, 'utf8') : Buffer.from(field));

describe('sha256', () => {
    it('computes the FIPS 180-2 digest of "abc"', () => {
        expect(sha256(Buffer.from('abc')).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });

    it('rejects a value that is not bytes with INVALID_ARGUMENT', () => {
        expectCode(() => sha256('abc' as unknown as Uint8Array), ErrorCode.InvalidArgument);
    });
});

describe('encodeFields', () => {
    it('prefixes every field with its byte length as a big-endian uint32', () => {
        expect(encodeFields(['a', Buffer.from([0, 255]), '', 'é']).toString('hex')).toBe('0000000161' + '0000000200ff' + '00000000' + '00000002c3a9');
    });

    it('encodes an empty list as no bytes', () => {
        expect(encodeFields([])).toHaveLength(0);
    });

    it('reads only the bytes of a Uint8Array view, not its whole buffer', () => {
        const backing = Buffer.from('xxhelloxx');
        expect(encodeFields([backing.subarray(2, 7)])).toEqual(encodeFields(['hello']));
    });

    it('rejects a string with a lone surrogate, which UTF-8 cannot represent', () => {
        expectCode(() => encodeFields(['\ud800']), ErrorCode.InvalidArgument);
        expectCode(() => encodeFields(['a\udc00b']), ErrorCode.InvalidArgument);
        expect(encodeFields(['\ud834\udd1e']).toString('hex')).toBe('00000004f09d849e');
    });

    it('rejects fields that are neither string nor bytes, and a non-array', () => {
        expectCode(() => encodeFields([1 as unknown as string]), ErrorCode.InvalidArgument);
        expectCode(() => encodeFields([new Uint16Array(2) as unknown as Uint8Array]), ErrorCode.InvalidArgument);
        expectCode(() => encodeFields('ab' as unknown as string[]), ErrorCode.InvalidArgument);
    });

    it('can always be decoded back into the same fields (so it is injective)', () => {
        const field = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 40 }));
        fc.assert(
            fc.property(fc.array(field, { maxLength: 8 }), (fields) => {
                expect(decodeFields(encodeFields(fields))).toEqual(fields.map(bytesOf));
            }),
            { numRuns: 500 },
        );
    });

    it('gives different bytes to different field lists, even when their concatenations are equal', () => {
        const splits = fc
            .tuple(fc.uint8Array({ maxLength: 24 }), fc.uniqueArray(fc.nat(24), { maxLength: 4 }), fc.uniqueArray(fc.nat(24), { maxLength: 4 }))
            .map(([bytes, cutsA, cutsB]) => {
                const cut = (cuts: number[]): Buffer[] => {
                    const points = [0, ...cuts.filter((c) => c <= bytes.length).sort((a, b) => a - b), bytes.length];
                    return points.slice(1).map((end, i) => Buffer.from(bytes.subarray(points[i], end)));
                };
                return [cut(cutsA), cut(cutsB)] as const;
            });
        const anyLists = fc.tuple(fc.array(fc.uint8Array({ maxLength: 6 }), { maxLength: 5 }), fc.array(fc.uint8Array({ maxLength: 6 }), { maxLength: 5 }));
        fc.assert(
            fc.property(fc.oneof(splits, anyLists), ([a, b]) => {
                const same = a.length === b.length && a.every((field, i) => Buffer.from(field).equals(Buffer.from(b[i]!)));
                expect(encodeFields(a).equals(encodeFields(b))).toBe(same);
            }),
            { numRuns: 1000 },
        );
    });
});

describe('payloads', () => {
    const inputHash = hash32(1);
    const resultHash = hash32(2);

    it('put the domain, binding, subject and hashes in SPEC §5 order', () => {
        expect(decodeFields(inputPayload(binding, 't1', inputHash))).toEqual([
            Buffer.from(SignatureDomain.input),
            Buffer.from('mychannel'),
            Buffer.from('ledgerwork'),
            Buffer.from('t1'),
            inputHash,
        ]);
        expect(decodeFields(resultPayload(binding, 't1', resultHash))).toEqual([
            Buffer.from(SignatureDomain.result),
            Buffer.from('mychannel'),
            Buffer.from('ledgerwork'),
            Buffer.from('t1'),
            resultHash,
        ]);
        expect(decodeFields(combinedPayload(binding, 't1', inputHash, resultHash))).toEqual([
            Buffer.from(SignatureDomain.combined),
            Buffer.from('mychannel'),
            Buffer.from('ledgerwork'),
            Buffer.from('t1'),
            inputHash,
            resultHash,
        ]);
    });

    it('reject hashes that are not 32 bytes with INVALID_ARGUMENT', () => {
        expectCode(() => inputPayload(binding, 't1', Buffer.alloc(31)), ErrorCode.InvalidArgument);
        expectCode(() => resultPayload(binding, 't1', Buffer.alloc(33)), ErrorCode.InvalidArgument);
        expectCode(() => combinedPayload(binding, 't1', inputHash, Buffer.alloc(0)), ErrorCode.InvalidArgument);
        expectCode(() => combinedPayload(binding, 't1', 'ab'.repeat(16) as unknown as Uint8Array, resultHash), ErrorCode.InvalidArgument);
    });

    it('reject an empty or missing binding field or subject id with INVALID_ARGUMENT', () => {
        expectCode(() => inputPayload({ channel: '', chaincode: 'cc' }, 't1', inputHash), ErrorCode.InvalidArgument);
        expectCode(() => inputPayload({ channel: 'ch', chaincode: '' }, 't1', inputHash), ErrorCode.InvalidArgument);
        expectCode(() => inputPayload(null as unknown as Binding, 't1', inputHash), ErrorCode.InvalidArgument);
        expectCode(() => inputPayload({ channel: 'ch' } as unknown as Binding, 't1', inputHash), ErrorCode.InvalidArgument);
        expectCode(() => resultPayload(binding, '', resultHash), ErrorCode.InvalidArgument);
        expectCode(() => combinedPayload(binding, 7 as unknown as string, inputHash, resultHash), ErrorCode.InvalidArgument);
    });
});

describe('merge slots', () => {
    it('name a slot <jobId>/<y>/<x>', () => {
        expect(mergeSlotId('job-1', 0, 0)).toBe('job-1/0/0');
        expect(mergeSlotId('J.2_x', 12, 4095)).toBe('J.2_x/12/4095');
    });

    it('reject merge numbers that are not non-negative safe integers', () => {
        for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
            expectCode(() => mergeSlotId('job-1', bad, 0), ErrorCode.InvalidArgument);
            expectCode(() => mergeSlotId('job-1', 0, bad), ErrorCode.InvalidArgument);
        }
        expectCode(() => mergeSlotId('job-1', '1' as unknown as number, 0), ErrorCode.InvalidArgument);
    });

    it('reject job ids outside the id allow-list, so a slot id cannot be forged from a job id with slashes', () => {
        expectCode(() => mergeSlotId('job/1', 0, 0), ErrorCode.InvalidId);
        expectCode(() => mergeSlotId('', 0, 0), ErrorCode.InvalidId);
    });

    it('hash the concatenation of the two child result hashes as the merge input', () => {
        const left = sha256(Buffer.from('left'));
        const right = sha256(Buffer.from('right'));
        expect(mergeInputHash(left, right)).toEqual(sha256(Buffer.concat([left, right])));
        expect(mergeInputHash(left, right)).not.toEqual(mergeInputHash(right, left));
    });

    it('reject child hashes that are not 32 bytes', () => {
        expectCode(() => mergeInputHash(hash32(1), Buffer.alloc(64)), ErrorCode.InvalidArgument);
        expectCode(() => mergeInputHash(Buffer.alloc(0), hash32(1)), ErrorCode.InvalidArgument);
    });
});

describe('parsePublicKey', () => {
    // A key whose base64 DER holds '+' or '/', so that the URL-safe variant below really differs from it.
    const pair = (() => {
        for (;;) {
            const candidate = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
            if (/[+/]/.test(candidate.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'))) {
                return candidate;
            }
        }
    })();
    const pem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const der = pair.publicKey.export({ format: 'der', type: 'spki' });

    it('accepts SPKI PEM and base64 SPKI DER of the same P-256 key', () => {
        const fromPem = parsePublicKey(pem);
        const fromDer = parsePublicKey(der.toString('base64'));
        expect(fromPem.equals(pair.publicKey)).toBe(true);
        expect(fromDer.equals(pair.publicKey)).toBe(true);
    });

    it('accepts PEM with CRLF line ends and surrounding whitespace', () => {
        expect(parsePublicKey(`\n  ${pem.replace(/\n/g, '\r\n')}  `).equals(pair.publicKey)).toBe(true);
    });

    it('accepts a compressed point and verifies the same signatures with it', () => {
        const jwk = pair.publicKey.export({ format: 'jwk' });
        const y = Buffer.from(jwk.y!, 'base64url');
        const prefix = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex');
        const compressed = Buffer.concat([prefix, Buffer.from([(y[31]! & 1) === 1 ? 3 : 2]), Buffer.from(jwk.x!, 'base64url')]);
        const parsed = parsePublicKey(compressed.toString('base64'));
        const payload = Buffer.from('payload');
        verifyPayload(parsed, payload, signPayload(pair.privateKey, payload), ErrorCode.SignatureInvalid, 'signature');
    });

    it('returns the cached KeyObject when the same text is parsed again', () => {
        expect(parsePublicKey(pem)).toBe(parsePublicKey(pem));
    });

    it('evicts the least recently used key once the cache is full, and keeps recently used ones', () => {
        const first = newP256Key();
        const second = newP256Key();
        const fillers = Array.from({ length: PUBLIC_KEY_CACHE_SIZE - 1 }, () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
        const cachedFirst = parsePublicKey(first.pem);
        const cachedSecond = parsePublicKey(second.pem);
        for (const filler of fillers) {
            parsePublicKey(filler.publicKey.export({ format: 'pem', type: 'spki' }).toString());
            parsePublicKey(second.pem);
        }
        const reparsedFirst = parsePublicKey(first.pem);
        expect(reparsedFirst).not.toBe(cachedFirst);
        expect(reparsedFirst.equals(cachedFirst)).toBe(true);
        expect(parsePublicKey(second.pem)).toBe(cachedSecond);
    });

    it.each([
        ['secp256k1', 'secp256k1'],
        ['P-384', 'secp384r1'],
        ['RSA', 'rsa'],
        ['Ed25519', 'ed25519'],
    ] as const)('rejects a %s public key with INVALID_PUBLIC_KEY', (_name, kind) => {
        const foreign = foreignPublicPem(kind);
        expectCode(() => parsePublicKey(foreign), ErrorCode.InvalidPublicKey);
        const foreignDer = createPublicKey(foreign).export({ format: 'der', type: 'spki' });
        expectCode(() => parsePublicKey(foreignDer.toString('base64')), ErrorCode.InvalidPublicKey);
    });

    it('rejects private keys, even though node:crypto would derive a public key from them', () => {
        expectCode(() => parsePublicKey(pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()), ErrorCode.InvalidPublicKey);
        expectCode(() => parsePublicKey(pair.privateKey.export({ format: 'pem', type: 'sec1' }).toString()), ErrorCode.InvalidPublicKey);
        expectCode(() => parsePublicKey(pair.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')), ErrorCode.InvalidPublicKey);
    });

    it('rejects a point that is not on the curve', () => {
        const offCurve = Buffer.from(der);
        offCurve[90] = offCurve[90]! ^ 1;
        expectCode(() => parsePublicKey(offCurve.toString('base64')), ErrorCode.InvalidPublicKey);
    });

    it('rejects the hybrid point form and a mislabelled point length', () => {
        const hybrid = Buffer.from(der);
        hybrid[26] = 6 + (hybrid[90]! & 1);
        expectCode(() => parsePublicKey(hybrid.toString('base64')), ErrorCode.InvalidPublicKey);
        expectCode(() => parsePublicKey(der.subarray(0, 90).toString('base64')), ErrorCode.InvalidPublicKey);
        expectCode(() => parsePublicKey(Buffer.concat([der, Buffer.from([0])]).toString('base64')), ErrorCode.InvalidPublicKey);
    });

    it('rejects garbage, other PEM blocks, non-canonical base64, oversized text and non-strings', () => {
        const body = der.toString('base64');
        const cases: unknown[] = [
            '',
            'not a key',
            pem.replace('PUBLIC KEY', 'CERTIFICATE').replace('PUBLIC KEY', 'CERTIFICATE'),
            body.replace(/=+$/, ''),
            body.replace(/\+/g, '-').replace(/\//g, '_'),
            `${body.slice(0, 10)} ${body.slice(10)}`,
            pem.replace('-----END PUBLIC KEY-----', ''),
            `${pem}${pem}`,
            'A'.repeat(5000),
            42,
            null,
        ];
        for (const text of cases) {
            expectCode(() => parsePublicKey(text as string), ErrorCode.InvalidPublicKey);
        }
    });

    it('refuses over-long text before looking at it', () => {
        expect(expectCode(() => parsePublicKey(`${pem}${' '.repeat(1024)}`), ErrorCode.InvalidPublicKey).detail).toMatch(/at most 1024 characters/);
    });

    it('never throws anything but INVALID_PUBLIC_KEY for arbitrary text', () => {
        const texts = fc.oneof(
            fc.string({ unit: 'binary', maxLength: 300 }),
            fc.base64String({ maxLength: 200 }),
            fc.uint8Array({ minLength: 50, maxLength: 100 }).map((bytes) => Buffer.concat([der.subarray(0, 26), bytes]).toString('base64')),
            fc.nat(90).chain((i) => fc.integer({ min: 1, max: 255 }).map((x) => {
                const mutated = Buffer.from(der);
                mutated[i] = mutated[i]! ^ x;
                return mutated.toString('base64');
            })),
        );
        fc.assert(
            fc.property(texts, (text) => {
                try {
                    parsePublicKey(text);
                } catch (err) {
                    expect(err).toBeInstanceOf(LedgerworkError);
                    expect((err as LedgerworkError).code).toBe(ErrorCode.InvalidPublicKey);
                }
            }),
            { numRuns: 1000 },
        );
    });
});

describe('decodeSignature', () => {
    const payload = Buffer.from('decode me');

    it('returns the DER bytes and r, s of a low-S signature', () => {
        const signature = signPayload(key.privateKey, payload);
        const decoded = decodeSignature(signature);
        expect(decoded.der.toString('base64')).toBe(signature);
        expect({ r: decoded.r, s: decoded.s }).toEqual(splitDer(decoded.der));
        expect(decoded.s <= N / 2n).toBe(true);
    });

    it('accepts s = n/2 exactly and rejects s = n/2 + 1 with HIGH_S', () => {
        const half = N / 2n;
        expect(decodeSignature(encodeEcdsaDer(1n, half).toString('base64')).s).toBe(half);
        expectCode(() => decodeSignature(encodeEcdsaDer(1n, half + 1n).toString('base64')), ErrorCode.HighS);
    });

    it('never throws anything but SIGNATURE_MALFORMED or HIGH_S for arbitrary text or bytes', () => {
        const texts = fc.oneof(
            fc.string({ unit: 'binary', maxLength: 120 }),
            fc.base64String({ maxLength: 100 }),
            fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes).toString('base64')),
            fc.tuple(fc.bigInt({ min: 0n, max: N + 10n }), fc.bigInt({ min: 0n, max: N + 10n })).map(([r, s]) => {
                const ints = [r, s].map((v) => {
                    const hex = v.toString(16).padStart(2, '0');
                    const body = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
                    return Buffer.concat([Buffer.from([2, body.length]), body]);
                });
                return Buffer.concat([Buffer.from([0x30, ints[0]!.length + ints[1]!.length]), ...ints]).toString('base64');
            }),
        );
        fc.assert(
            fc.property(texts, (text) => {
                try {
                    const { r, s } = decodeSignature(text);
                    expect(r > 0n && r < N && s > 0n && s <= N / 2n).toBe(true);
                } catch (err) {
                    expect(err).toBeInstanceOf(LedgerworkError);
                    expect(signatureCodes).toContain((err as LedgerworkError).code);
                }
            }),
            { numRuns: 2000 },
        );
    });

    it('refuses over-long text before decoding it, and says why', () => {
        const huge = Buffer.alloc(3 * 1024 * 1024, 0x30).toString('base64');
        expect(expectCode(() => decodeSignature(huge), ErrorCode.SignatureMalformed).detail).toMatch(/at most 72 bytes/);
        const seventyThree = Buffer.concat([Buffer.from([0x30, 71]), Buffer.alloc(71)]).toString('base64');
        expect(expectCode(() => decodeSignature(seventyThree), ErrorCode.SignatureMalformed).detail).toMatch(/at most 72 bytes/);
    });

    it('names the DER rule a malformed signature breaks', () => {
        const detail = (der: Buffer): string => expectCode(() => normalizeLowS(der), ErrorCode.SignatureMalformed).detail;
        expect(detail(Buffer.from('3005020101020101', 'hex').subarray(0, 7))).toMatch(/is 7 bytes/);
        expect(detail(Buffer.concat([Buffer.from([0x30, 71]), Buffer.alloc(71)]))).toMatch(/is 73 bytes/);
        const long = Buffer.concat([Buffer.from([0x02, 34, 0x00]), Buffer.alloc(33, 0x80)]);
        expect(detail(Buffer.concat([Buffer.from([0x30, long.length + 3]), long, Buffer.from([2, 1, 1])]))).toMatch(/invalid length for r/);
        expect(detail(Buffer.from('300702010102020001', 'hex'))).toMatch(/non-minimal s/);
        expect(detail(Buffer.from('3006020101020181', 'hex'))).toMatch(/negative s/);
        expect(detail(Buffer.from('3006020101030101', 'hex'))).toMatch(/no DER INTEGER s/);
    });

    it('rejects a non-string with SIGNATURE_MALFORMED', () => {
        expectCode(() => decodeSignature(undefined as unknown as string), ErrorCode.SignatureMalformed);
        expectCode(() => decodeSignature(Buffer.alloc(70) as unknown as string), ErrorCode.SignatureMalformed);
    });
});

describe('DER helpers', () => {
    it('use the P-256 group order', () => {
        expect(P256_ORDER).toBe(N);
        expect(P256_HALF_ORDER).toBe((N - 1n) / 2n);
    });

    it('round-trip every valid (r, s) through minimal DER', () => {
        const scalar = fc.oneof(fc.bigInt({ min: 1n, max: N - 1n }), fc.constantFrom(1n, 127n, 128n, 255n, 256n, N - 1n, 2n ** 255n));
        fc.assert(
            fc.property(scalar, scalar, (r, s) => {
                const der = encodeEcdsaDer(r, s);
                expect(parseEcdsaDer(der)).toEqual({ r, s });
                expect(splitDer(der)).toEqual({ r, s });
            }),
            { numRuns: 500 },
        );
    });

    it('refuses to encode r or s outside 0 < v < n', () => {
        expectCode(() => encodeEcdsaDer(0n, 1n), ErrorCode.SignatureMalformed);
        expectCode(() => encodeEcdsaDer(1n, N), ErrorCode.SignatureMalformed);
    });
});

describe('normalizeLowS', () => {
    it('turns node:crypto signatures into low-S ones that still verify, leaving low-S ones unchanged', () => {
        const seen = { high: 0, low: 0 };
        fc.assert(
            fc.property(fc.uint8Array({ maxLength: 64 }), (payload) => {
                const der = rawSign(key.privateKey, payload);
                const { r, s } = splitDer(der);
                const low = normalizeLowS(der);
                const normalized = splitDer(low);
                expect(normalized.r).toBe(r);
                expect(normalized.s).toBe(s > N / 2n ? N - s : s);
                if (s > N / 2n) {
                    seen.high++;
                } else {
                    seen.low++;
                    expect(low).toEqual(der);
                }
                expect(verify('sha256', payload, { key: key.publicKey, dsaEncoding: 'der' }, low)).toBe(true);
            }),
            { numRuns: 200 },
        );
        expect(seen.high).toBeGreaterThan(0);
        expect(seen.low).toBeGreaterThan(0);
    });

    it('rejects malformed DER with SIGNATURE_MALFORMED and non-bytes with INVALID_ARGUMENT', () => {
        expectCode(() => normalizeLowS(Buffer.alloc(64, 1)), ErrorCode.SignatureMalformed);
        expectCode(() => normalizeLowS('MEQ=' as unknown as Uint8Array), ErrorCode.InvalidArgument);
    });
});

describe('signPayload and verification', () => {
    const arbitraryBinding = fc.record({
        channel: fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/),
        chaincode: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
    });
    const subject = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
    const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });

    it('produces low-S signatures that verify in both modes', () => {
        fc.assert(
            fc.property(arbitraryBinding, subject, hash, hash, (where, id, inputHash, resultHash) => {
                const inputSignature = signPayload(key.privateKey, inputPayload(where, id, inputHash));
                const resultSignature = signPayload(key.privateKey, resultPayload(where, id, resultHash));
                const combined = signPayload(key.privateKey, combinedPayload(where, id, inputHash, resultHash));
                for (const signature of [inputSignature, resultSignature, combined]) {
                    expect(decodeSignature(signature).s <= N / 2n).toBe(true);
                }
                verifySeparate(key.publicKey, where, id, inputHash, resultHash, inputSignature, resultSignature);
                verifyCombined(key.publicKey, where, id, inputHash, resultHash, combined);
            }),
            { numRuns: 250 },
        );
    });

    it('verifies a merge slot signed like a task, with the merge input hash', () => {
        const slot = mergeSlotId('job-9', 2, 1);
        const inputHash = mergeInputHash(hash32(3), hash32(4));
        const resultHash = sha256(Buffer.from('merged'));
        const combined = signPayload(key.privateKey, combinedPayload(binding, slot, inputHash, resultHash));
        verifyCombined(key.publicKey, binding, slot, inputHash, resultHash, combined);
        verifySeparate(
            key.publicKey,
            binding,
            slot,
            inputHash,
            resultHash,
            signPayload(key.privateKey, inputPayload(binding, slot, inputHash)),
            signPayload(key.privateKey, resultPayload(binding, slot, resultHash)),
        );
        expectCode(() => { verifyCombined(key.publicKey, binding, slot, mergeInputHash(hash32(4), hash32(3)), resultHash, combined); }, ErrorCode.SignatureInvalid);
    });

    it('accepts a KeyObject that did not come from parsePublicKey if it is a P-256 public key', () => {
        const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        const payload = Buffer.from('direct');
        verifyPayload(pair.publicKey, payload, signPayload(pair.privateKey, payload), ErrorCode.SignatureInvalid, 'signature');
    });

    it('throws the given failure code, naming the signature, when verification fails', () => {
        const err = expectCode(
            () => { verifyPayload(key.publicKey, Buffer.from('a'), signPayload(key.privateKey, Buffer.from('b')), ErrorCode.ResultSignatureInvalid, 'result signature of "t9"'); },
            ErrorCode.ResultSignatureInvalid,
        );
        expect(err.message).toMatch(/^RESULT_SIGNATURE_INVALID: result signature of "t9" does not verify/);
    });

    it('names the failing signature in decoding errors', () => {
        const err = expectCode(
            () => { verifySeparate(key.publicKey, binding, 't1', hash32(1), hash32(2), signPayload(key.privateKey, inputPayload(binding, 't1', hash32(1))), 'AAAA'); },
            ErrorCode.SignatureMalformed,
        );
        expect(err.detail).toMatch(/^result signature of "t1"/);
    });

    it('rejects verification keys that are not P-256 public KeyObjects with INVALID_PUBLIC_KEY', () => {
        const payload = Buffer.from('p');
        const signature = signPayload(key.privateKey, payload);
        const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey;
        for (const bad of [key.privateKey, p384, key.pem, null]) {
            expectCode(() => { verifyPayload(bad as typeof key.publicKey, payload, signature, ErrorCode.SignatureInvalid, 's'); }, ErrorCode.InvalidPublicKey);
        }
        expectCode(() => { verifyCombined(p384, binding, 't1', hash32(1), hash32(2), signature); }, ErrorCode.InvalidPublicKey);
    });

    it('rejects a payload that is not bytes with INVALID_ARGUMENT', () => {
        const signature = signPayload(key.privateKey, Buffer.from('p'));
        expectCode(() => { verifyPayload(key.publicKey, 'p' as unknown as Uint8Array, signature, ErrorCode.SignatureInvalid, 's'); }, ErrorCode.InvalidArgument);
    });

    it('checks the arguments before either signature in separate mode', () => {
        expectCode(() => { verifySeparate(key.publicKey, binding, 't1', hash32(1), Buffer.alloc(31), 'AAAA', 'AAAA'); }, ErrorCode.InvalidArgument);
    });

    it('refuses to sign with anything but a P-256 private key', () => {
        const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
        for (const bad of [p384, key.publicKey, 'key']) {
            expectCode(() => signPayload(bad as typeof key.privateKey, Buffer.from('x')), ErrorCode.InvalidArgument);
        }
        expectCode(() => signPayload(key.privateKey, 'x' as unknown as Uint8Array), ErrorCode.InvalidArgument);
    });

    it('rejects any single-byte change of the signature DER or the payload with a typed error', () => {
        const payload = combinedPayload(binding, 'task-7', hash32(7), hash32(8));
        const der = decodeSignature(signPayload(key.privateKey, payload)).der;
        const flip = (bytes: Buffer) =>
            fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })).map(([index, x]) => {
                const copy = Buffer.from(bytes);
                copy[index] = copy[index]! ^ x;
                return copy;
            });
        fc.assert(
            fc.property(flip(der), (mutated) => {
                const err = caught(() => { verifyPayload(key.publicKey, payload, mutated.toString('base64'), ErrorCode.SignatureInvalid, 'signature'); });
                expect([...signatureCodes, ErrorCode.SignatureInvalid]).toContain(err.code);
            }),
            { numRuns: 500 },
        );
        fc.assert(
            fc.property(flip(payload), (mutated) => {
                expectCode(() => { verifyPayload(key.publicKey, mutated, der.toString('base64'), ErrorCode.SignatureInvalid, 'signature'); }, ErrorCode.SignatureInvalid);
            }),
            { numRuns: 500 },
        );
    });
});
