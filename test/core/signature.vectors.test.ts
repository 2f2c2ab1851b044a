// SPDX-License-Identifier: Apache-2.0
// Golden vectors made by scripts/make-signature-vectors.sh: payloads built by python3, signatures by the openssl CLI.
import { describe, expect, it } from '@jest/globals';
import { createPrivateKey, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '../../chaincode/src/core/errors';
import {
    combinedPayload,
    decodeSignature,
    encodeFields,
    inputPayload,
    mergeInputHash,
    mergeSlotId,
    normalizeLowS,
    parsePublicKey,
    resultPayload,
    sha256,
    signPayload,
    verifyCombined,
    verifyPayload,
    verifySeparate,
} from '../../chaincode/src/core/signature';
import { expectCode } from './signatureSupport';

const directory = join(__dirname, '..', 'fixtures', 'vectors', 'signature');

type Kind = 'input' | 'result' | 'combined';
const kinds: readonly Kind[] = ['input', 'result', 'combined'];

interface SignatureEntry {
    opensslDer: string;
    highS: boolean;
    rHex: string;
    sHex: string;
    lowSDer: string;
}

interface Vector {
    name: string;
    binding: { channel: string; chaincode: string };
    subjectId: string;
    input: { bytesHex: string; sha256Hex: string };
    result: { bytesHex: string; sha256Hex: string };
    merge?: { jobId: string; y: number; x: number; leftResultHashHex: string; rightResultHashHex: string };
    payloadsHex: Record<Kind, string>;
    publicKeyPem: string;
    signatures: Record<Kind, SignatureEntry>;
}

interface FieldVectors {
    vectors: { fields: (string | { hex: string })[]; encodedHex: string }[];
}

const vectors = readdirSync(directory)
    .filter((file) => file.endsWith('.json') && file !== 'fields.json')
    .sort()
    .map((file) => JSON.parse(readFileSync(join(directory, file), 'utf8')) as Vector);
const fieldVectors = JSON.parse(readFileSync(join(directory, 'fields.json'), 'utf8')) as FieldVectors;
const testKeyPem = readFileSync(join(directory, 'test-key.pem'), 'utf8');

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

const ourPayload = (vector: Vector, kind: Kind): Buffer => {
    const inputHash = hex(vector.input.sha256Hex);
    const resultHash = hex(vector.result.sha256Hex);
    switch (kind) {
        case 'input':
            return inputPayload(vector.binding, vector.subjectId, inputHash);
        case 'result':
            return resultPayload(vector.binding, vector.subjectId, resultHash);
        case 'combined':
            return combinedPayload(vector.binding, vector.subjectId, inputHash, resultHash);
    }
};

const entries = vectors.flatMap((vector) => kinds.map((kind) => [`${vector.name} ${kind}`, vector, kind] as const));

describe('signature golden vectors', () => {
    it('include the expected cases, with both high-S and low-S openssl signatures', () => {
        expect(vectors.map((v) => v.name)).toEqual(['high-s', 'low-s', 'merge-slot', 'task-basic', 'task-empty-data']);
        const flags = vectors.flatMap((v) => kinds.map((kind) => v.signatures[kind].highS));
        expect(flags).toContain(true);
        expect(flags).toContain(false);
        expect(vectors.find((v) => v.name === 'high-s')?.signatures.combined.highS).toBe(true);
        expect(vectors.find((v) => v.name === 'low-s')?.signatures.combined.highS).toBe(false);
    });

    it.each(vectors.map((v) => [v.name, v] as const))('%s: records hashes that are SHA-256 of the recorded bytes', (_name, vector) => {
        expect(sha256(hex(vector.input.bytesHex)).toString('hex')).toBe(vector.input.sha256Hex);
        expect(sha256(hex(vector.result.bytesHex)).toString('hex')).toBe(vector.result.sha256Hex);
    });

    it.each(entries)('%s: our encoder reproduces the payload byte for byte', (_name, vector, kind) => {
        expect(ourPayload(vector, kind).toString('hex')).toBe(vector.payloadsHex[kind]);
    });

    it('merge-slot: mergeSlotId and mergeInputHash reproduce the subject and input hash', () => {
        const vector = vectors.find((v) => v.merge !== undefined)!;
        const merge = vector.merge!;
        expect(mergeSlotId(merge.jobId, merge.y, merge.x)).toBe(vector.subjectId);
        expect(mergeInputHash(hex(merge.leftResultHashHex), hex(merge.rightResultHashHex)).toString('hex')).toBe(vector.input.sha256Hex);
    });

    it.each(fieldVectors.vectors.map((v) => [JSON.stringify(v.fields), v] as const))('encodeFields(%s) matches the vector', (_name, vector) => {
        const fields = vector.fields.map((field) => (typeof field === 'string' ? field : hex(field.hex)));
        expect(encodeFields(fields).toString('hex')).toBe(vector.encodedHex);
    });

    it.each(entries)('%s: the openssl signature is rejected with HIGH_S exactly when its S is high', (_name, vector, kind) => {
        const entry = vector.signatures[kind];
        const key = parsePublicKey(vector.publicKeyPem);
        const payload = hex(vector.payloadsHex[kind]);
        // node:crypto accepts either form: the high-S rule is ledgerwork's own.
        expect(verify('sha256', payload, { key, dsaEncoding: 'der' }, Buffer.from(entry.opensslDer, 'base64'))).toBe(true);
        if (entry.highS) {
            expectCode(() => decodeSignature(entry.opensslDer), ErrorCode.HighS);
            expectCode(() => { verifyPayload(key, payload, entry.opensslDer, ErrorCode.SignatureInvalid, 'vector'); }, ErrorCode.HighS);
        } else {
            const { r, s } = decodeSignature(entry.opensslDer);
            expect(r.toString(16).padStart(64, '0')).toBe(entry.rHex);
            expect(s.toString(16).padStart(64, '0')).toBe(entry.sHex);
            expect(entry.lowSDer).toBe(entry.opensslDer);
        }
    });

    it.each(entries)('%s: normalizeLowS gives the vector’s low-S form, which verifies', (_name, vector, kind) => {
        const entry = vector.signatures[kind];
        const key = parsePublicKey(vector.publicKeyPem);
        expect(normalizeLowS(Buffer.from(entry.opensslDer, 'base64')).toString('base64')).toBe(entry.lowSDer);
        verifyPayload(key, hex(vector.payloadsHex[kind]), entry.lowSDer, ErrorCode.SignatureInvalid, 'vector');
    });

    it.each(vectors.map((v) => [v.name, v] as const))('%s: the low-S signatures pass verifySeparate and verifyCombined', (_name, vector) => {
        const key = parsePublicKey(vector.publicKeyPem);
        const inputHash = hex(vector.input.sha256Hex);
        const resultHash = hex(vector.result.sha256Hex);
        const { input, result, combined } = vector.signatures;
        verifySeparate(key, vector.binding, vector.subjectId, inputHash, resultHash, input.lowSDer, result.lowSDer);
        verifyCombined(key, vector.binding, vector.subjectId, inputHash, resultHash, combined.lowSDer);
        expectCode(
            () => { verifySeparate(key, vector.binding, vector.subjectId, inputHash, resultHash, combined.lowSDer, result.lowSDer); },
            ErrorCode.InputSignatureInvalid,
        );
        expectCode(() => { verifyCombined(key, vector.binding, vector.subjectId, inputHash, resultHash, input.lowSDer); }, ErrorCode.SignatureInvalid);
    });

    it('carry the public key of the committed test key, whose signatures verify against them', () => {
        const privateKey = createPrivateKey(testKeyPem);
        for (const vector of vectors) {
            const key = parsePublicKey(vector.publicKeyPem);
            expect(key.equals(parsePublicKey(vectors[0]!.publicKeyPem))).toBe(true);
            const payload = hex(vector.payloadsHex.combined);
            verifyPayload(key, payload, signPayload(privateKey, payload), ErrorCode.SignatureInvalid, 'fresh signature');
        }
    });
});
