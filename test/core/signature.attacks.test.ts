// SPDX-License-Identifier: Apache-2.0
// Attacks B6–B9 and B11 of docs/security.md (the high-S twin among them): each must be refused with its own code.
import { describe, expect, it } from '@jest/globals';
import { verify } from 'node:crypto';
import fc from 'fast-check';
import { ErrorCode } from '../../chaincode/src/core/errors';
import {
    combinedPayload,
    decodeSignature,
    inputPayload,
    parsePublicKey,
    resultPayload,
    signPayload,
    verifyCombined,
    verifyPayload,
    verifySeparate,
} from '../../chaincode/src/core/signature';
import type { Binding } from '../../chaincode/src/core/signature';
import { binding, derInteger, derSequence, expectCode, foreignPublicPem, hash32, N, newP256Key, rawSign, splitDer } from './signatureSupport';

const executorKey = newP256Key();
const inputHash = hash32(0x11);
const resultHash = hash32(0x22);
const taskId = 'task-0001';

const inputSignature = signPayload(executorKey.privateKey, inputPayload(binding, taskId, inputHash));
const resultSignature = signPayload(executorKey.privateKey, resultPayload(binding, taskId, resultHash));
const combinedSignature = signPayload(executorKey.privateKey, combinedPayload(binding, taskId, inputHash, resultHash));

interface Context {
    readonly where: Binding;
    readonly id: string;
    readonly input: Buffer;
    readonly result: Buffer;
}

const genuine: Context = { where: binding, id: taskId, input: inputHash, result: resultHash };

const separate = (c: Context, inSig = inputSignature, outSig = resultSignature) => () => { verifySeparate(executorKey.publicKey, c.where, c.id, c.input, c.result, inSig, outSig); };
const combined = (c: Context, signature = combinedSignature) => () => { verifyCombined(executorKey.publicKey, c.where, c.id, c.input, c.result, signature); };

/** The same (r, s) pair's malleable twin (r, n − s), built without ledgerwork code. */
function highTwin(base64: string): Buffer {
    const der = Buffer.from(base64, 'base64');
    const { r, s } = splitDer(der);
    return derSequence(derInteger(r), derInteger(N - s));
}

/** A valid low-S DER signature over `payload` by the executor key, as (der, r, s). */
function lowSignature(payload: Buffer): { der: Buffer; r: bigint; s: bigint } {
    return decodeSignature(signPayload(executorKey.privateKey, payload));
}

describe('the genuine signatures', () => {
    it('verify in both modes (so every rejection below is caused by the attack)', () => {
        expect(separate(genuine)).not.toThrow();
        expect(combined(genuine)).not.toThrow();
    });
});

describe('replay of a valid signature', () => {
    const replays: [string, Context][] = [
        ['onto another task id', { ...genuine, id: 'task-0002' }],
        ['onto a merge slot id', { ...genuine, id: 'task-0001/0/0' }],
        ['onto another channel', { ...genuine, where: { ...binding, channel: 'otherchannel' } }],
        ['onto another chaincode name', { ...genuine, where: { ...binding, chaincode: 'ledgerwork-fork' } }],
    ];

    it.each(replays)('%s fails the separate input signature with INPUT_SIGNATURE_INVALID', (_name, context) => {
        expectCode(separate(context), ErrorCode.InputSignatureInvalid);
    });

    it.each(replays)('%s fails the combined signature with SIGNATURE_INVALID', (_name, context) => {
        expectCode(combined(context), ErrorCode.SignatureInvalid);
    });

    it('onto another input fails with INPUT_SIGNATURE_INVALID (not executed on the published input)', () => {
        const err = expectCode(separate({ ...genuine, input: hash32(0x12) }), ErrorCode.InputSignatureInvalid);
        expect(err.detail).toMatch(/not executed on the published input/);
        expectCode(combined({ ...genuine, input: hash32(0x12) }), ErrorCode.SignatureInvalid);
    });

    it('with another result fails with RESULT_SIGNATURE_INVALID (not trustworthy)', () => {
        const err = expectCode(separate({ ...genuine, result: hash32(0x23) }), ErrorCode.ResultSignatureInvalid);
        expect(err.detail).toMatch(/not trustworthy/);
        expectCode(combined({ ...genuine, result: hash32(0x23) }), ErrorCode.SignatureInvalid);
    });

    it('onto any other task id, channel or chaincode is rejected', () => {
        const text = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
        fc.assert(
            fc.property(text, text, text, (id, channel, chaincode) => {
                fc.pre(id !== taskId || channel !== binding.channel || chaincode !== binding.chaincode);
                const context = { ...genuine, id, where: { channel, chaincode } };
                expectCode(separate(context), ErrorCode.InputSignatureInvalid);
                expectCode(combined(context), ErrorCode.SignatureInvalid);
            }),
            { numRuns: 200 },
        );
    });

    it('of the input signature as the result signature, and the reverse, is rejected', () => {
        expectCode(separate(genuine, resultSignature, resultSignature), ErrorCode.InputSignatureInvalid);
        expectCode(separate(genuine, inputSignature, inputSignature), ErrorCode.ResultSignatureInvalid);
    });

    it('of a combined-mode signature as the separate input signature fails with INPUT_SIGNATURE_INVALID', () => {
        expectCode(separate(genuine, combinedSignature, resultSignature), ErrorCode.InputSignatureInvalid);
        expectCode(separate(genuine, inputSignature, combinedSignature), ErrorCode.ResultSignatureInvalid);
    });

    it('of a separate-mode signature as the combined signature fails with SIGNATURE_INVALID', () => {
        expectCode(combined(genuine, inputSignature), ErrorCode.SignatureInvalid);
        expectCode(combined(genuine, resultSignature), ErrorCode.SignatureInvalid);
    });
});

describe('the high-S twin (r, n − s) of a valid signature', () => {
    it('is accepted by node:crypto but rejected by ledgerwork with HIGH_S', () => {
        const payload = combinedPayload(binding, taskId, inputHash, resultHash);
        const twin = highTwin(combinedSignature);
        expect(verify('sha256', payload, { key: executorKey.publicKey, dsaEncoding: 'der' }, twin)).toBe(true);
        expectCode(combined(genuine, twin.toString('base64')), ErrorCode.HighS);
        expectCode(separate(genuine, highTwin(inputSignature).toString('base64')), ErrorCode.HighS);
        expectCode(separate(genuine, inputSignature, highTwin(resultSignature).toString('base64')), ErrorCode.HighS);
    });

    it('is rejected with HIGH_S for every signature', () => {
        fc.assert(
            fc.property(fc.uint8Array({ maxLength: 100 }), (payload) => {
                const signature = signPayload(executorKey.privateKey, payload);
                verifyPayload(executorKey.publicKey, payload, signature, ErrorCode.SignatureInvalid, 'signature');
                expectCode(
                    () => { verifyPayload(executorKey.publicKey, payload, highTwin(signature).toString('base64'), ErrorCode.SignatureInvalid, 'signature'); },
                    ErrorCode.HighS,
                );
            }),
            { numRuns: 200 },
        );
    });

    it('is what node:crypto itself emits about half the time, which signPayload never returns', () => {
        const payload = Buffer.from('coin');
        const raws = Array.from({ length: 64 }, () => rawSign(executorKey.privateKey, payload));
        expect(raws.some((der) => splitDer(der).s > N / 2n)).toBe(true);
        for (let i = 0; i < 64; i++) {
            expect(decodeSignature(signPayload(executorKey.privateKey, payload)).s <= N / 2n).toBe(true);
        }
    });
});

describe('a signature by the wrong key', () => {
    it('made with another P-256 key fails with the mode’s code', () => {
        const other = newP256Key();
        const forgedInput = signPayload(other.privateKey, inputPayload(binding, taskId, inputHash));
        const forgedResult = signPayload(other.privateKey, resultPayload(binding, taskId, resultHash));
        const forgedCombined = signPayload(other.privateKey, combinedPayload(binding, taskId, inputHash, resultHash));
        expectCode(separate(genuine, forgedInput, resultSignature), ErrorCode.InputSignatureInvalid);
        expectCode(separate(genuine, inputSignature, forgedResult), ErrorCode.ResultSignatureInvalid);
        expectCode(combined(genuine, forgedCombined), ErrorCode.SignatureInvalid);
    });

    it.each(['secp256k1', 'secp384r1'] as const)('cannot even be checked against a %s key: INVALID_PUBLIC_KEY', (curve) => {
        expectCode(() => parsePublicKey(foreignPublicPem(curve)), ErrorCode.InvalidPublicKey);
    });
});

describe('malformed DER', () => {
    const payload = combinedPayload(binding, taskId, inputHash, resultHash);
    const { der, r, s } = lowSignature(payload);
    const attempt = (bytes: Buffer) => () => { verifyPayload(executorKey.publicKey, payload, bytes.toString('base64'), ErrorCode.SignatureInvalid, 'signature'); };

    it('truncated at any length is SIGNATURE_MALFORMED', () => {
        for (let length = 0; length < der.length; length++) {
            expectCode(attempt(der.subarray(0, length)), ErrorCode.SignatureMalformed);
        }
    });

    it('with a trailing byte is SIGNATURE_MALFORMED, whether or not the SEQUENCE length covers it', () => {
        expectCode(attempt(Buffer.concat([der, Buffer.from([0])])), ErrorCode.SignatureMalformed);
        const covered = Buffer.concat([der, Buffer.from([0])]);
        covered[1] = covered[1]! + 1;
        expectCode(attempt(covered), ErrorCode.SignatureMalformed);
    });

    it('with a zero-padded (non-minimal) r or s is SIGNATURE_MALFORMED', () => {
        expectCode(attempt(derSequence(derInteger(r, 1), derInteger(s))), ErrorCode.SignatureMalformed);
        expectCode(attempt(derSequence(derInteger(r), derInteger(s, 1))), ErrorCode.SignatureMalformed);
        expectCode(attempt(derSequence(derInteger(r), derInteger(s, 2))), ErrorCode.SignatureMalformed);
    });

    it('with a SEQUENCE length that is shorter or longer than its content is SIGNATURE_MALFORMED', () => {
        for (const delta of [-1, 1]) {
            const wrong = Buffer.from(der);
            wrong[1] = wrong[1]! + delta;
            expectCode(attempt(wrong), ErrorCode.SignatureMalformed);
        }
    });

    it('with a long-form length is SIGNATURE_MALFORMED', () => {
        const body = der.subarray(2);
        expectCode(attempt(Buffer.concat([Buffer.from([0x30, 0x81, body.length]), body])), ErrorCode.SignatureMalformed);
    });

    it('with a negative integer is SIGNATURE_MALFORMED', () => {
        const rBytes = derInteger(r);
        const negative = rBytes[2] === 0 ? Buffer.concat([Buffer.from([0x02, rBytes.length - 3]), rBytes.subarray(3)]) : undefined;
        const unsigned = negative ?? Buffer.from([0x02, 0x01, 0xff]);
        expectCode(attempt(derSequence(unsigned, derInteger(s))), ErrorCode.SignatureMalformed);
    });

    it('given as raw 64-byte r‖s (IEEE P1363) is SIGNATURE_MALFORMED', () => {
        const raw = Buffer.concat([Buffer.from(r.toString(16).padStart(64, '0'), 'hex'), Buffer.from(s.toString(16).padStart(64, '0'), 'hex')]);
        expect(verify('sha256', payload, { key: executorKey.publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
        expectCode(attempt(raw), ErrorCode.SignatureMalformed);
    });

    it.each([
        ['r = 0', () => derSequence(derInteger(0n), derInteger(1n))],
        ['s = 0', () => derSequence(derInteger(1n), derInteger(0n))],
        ['s = n', () => derSequence(derInteger(1n), derInteger(N))],
        ['r = n', () => derSequence(derInteger(N), derInteger(1n))],
        ['r = n + r', () => derSequence(derInteger(N + r), derInteger(s))],
    ])('with %s is SIGNATURE_MALFORMED', (_name, build) => {
        expectCode(attempt(build()), ErrorCode.SignatureMalformed);
    });

    it('wrapped in other ASN.1 tags is SIGNATURE_MALFORMED', () => {
        const asSet = Buffer.from(der);
        asSet[0] = 0x31;
        expectCode(attempt(asSet), ErrorCode.SignatureMalformed);
        const bitString = Buffer.from(der);
        bitString[2] = 0x03;
        expectCode(attempt(bitString), ErrorCode.SignatureMalformed);
    });
});

describe('non-canonical base64', () => {
    const payload = combinedPayload(binding, taskId, inputHash, resultHash);
    const attempt = (text: string) => () => { verifyPayload(executorKey.publicKey, payload, text, ErrorCode.SignatureInvalid, 'signature'); };
    // A signature whose base64 has padding and holds '+' or '/', so that every variant below differs from it.
    const canonical = (() => {
        for (;;) {
            const text = signPayload(executorKey.privateKey, payload);
            if (text.endsWith('=') && /[+/]/.test(text)) {
                return text;
            }
        }
    })();

    it('starts from a signature that verifies', () => {
        expect(attempt(canonical)).not.toThrow();
    });

    it.each([
        ['missing padding', (t: string) => t.replace(/=+$/, '')],
        ['the URL-safe alphabet', (t: string) => t.replace(/\+/g, '-').replace(/\//g, '_')],
        ['embedded whitespace', (t: string) => `${t.slice(0, 20)}\n${t.slice(20)}`],
        ['a leading space', (t: string) => ` ${t}`],
        ['a trailing newline', (t: string) => `${t}\n`],
        ['extra padding', (t: string) => `${t}==`],
    ])('with %s is SIGNATURE_MALFORMED', (_name, variant) => {
        const text = variant(canonical);
        expect(Buffer.from(text, 'base64')).toEqual(Buffer.from(canonical, 'base64'));
        expectCode(attempt(text), ErrorCode.SignatureMalformed);
    });

    it('with non-zero unused bits in the last character is SIGNATURE_MALFORMED', () => {
        const withoutPadding = canonical.replace(/=+$/, '');
        const last = withoutPadding.at(-1)!;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
        const bumped = alphabet[alphabet.indexOf(last) + 1]!;
        const text = `${withoutPadding.slice(0, -1)}${bumped}${canonical.slice(withoutPadding.length)}`;
        expect(Buffer.from(text, 'base64')).toEqual(Buffer.from(canonical, 'base64'));
        expectCode(attempt(text), ErrorCode.SignatureMalformed);
    });
});
