// SPDX-License-Identifier: Apache-2.0
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
    BUNDLE_KEY_SECTION,
    BundleError,
    buildBundle,
    bundlePublicKeyPem,
    frameMergeInput,
    generateTaskKey,
    programHash,
    programHashHex,
    readBundleKey,
    signMergeOutput,
    signTaskOutput,
    stripBundleKey,
    WasmFormatError,
} from '../../gateway/src/bundle';
import { listSections } from '../../gateway/src/bundle/wasm';
import { Wasm } from '../../gateway/src/sandbox/webassembly';
import { mergeInputHash, parsePublicKey, sha256, verifyCombined, verifySeparate } from '../../chaincode/src/core/signature';
import { buildModule, helloModule } from '../fixtures/wasm/builder';

const binding = { channel: 'ledgerwork', chaincode: 'ledgerwork' };

describe('bundle', () => {
    const module = helloModule();

    it('appends one key section and keeps the module valid and runnable as before', () => {
        const { pkcs8Der, privateKey } = generateTaskKey();
        const bundle = buildBundle(module, privateKey);
        expect(Wasm.validate(bundle)).toBe(true);
        const keys = listSections(bundle).filter((s) => s.name === BUNDLE_KEY_SECTION);
        expect(keys).toHaveLength(1);
        expect(bundle.subarray(keys[0]!.contentStart, keys[0]!.end).equals(pkcs8Der)).toBe(true);
        expect(stripBundleKey(bundle).equals(module)).toBe(true);
        expect(readBundleKey(bundle).export({ type: 'pkcs8', format: 'der' }).equals(pkcs8Der)).toBe(true);
    });

    it('replaces an existing key instead of adding a second one, wherever it was', () => {
        const first = generateTaskKey();
        const second = generateTaskKey();
        const withKeyFirst = buildModule({ funcs: [{ body: [], export: '_start' }], custom: [{ name: BUNDLE_KEY_SECTION, bytes: first.pkcs8Der }, { name: 'other', bytes: Buffer.from('x') }] });
        const rebuilt = buildBundle(withKeyFirst, second.pkcs8Der);
        const names = listSections(rebuilt).map((s) => s.name);
        expect(names.filter((n) => n === BUNDLE_KEY_SECTION)).toHaveLength(1);
        expect(names).toContain('other');
        expect(bundlePublicKeyPem(rebuilt)).toBe(second.publicKeyPem);
    });

    it('hashes the whole bundle, so a different key gives a different program hash', () => {
        const a = buildBundle(module, generateTaskKey().pkcs8Der);
        const b = buildBundle(module, generateTaskKey().pkcs8Der);
        expect(programHash(a).equals(sha256(a))).toBe(true);
        expect(programHashHex(a)).not.toBe(programHashHex(b));
        expect(programHashHex(a)).toMatch(/^[0-9a-f]{64}$/);
    });

    it('refuses a bundle without key, with two keys, or with a key that is not P-256', () => {
        expect(() => readBundleKey(module)).toThrow(BundleError);
        const k = generateTaskKey().pkcs8Der;
        const two = buildModule({ funcs: [], custom: [{ name: BUNDLE_KEY_SECTION, bytes: k }, { name: BUNDLE_KEY_SECTION, bytes: k }] });
        expect(() => readBundleKey(two)).toThrow(/2 ledgerwork.key sections/);
        const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'der' });
        expect(() => buildBundle(module, rsa)).toThrow(/P-256/);
        const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
        expect(() => buildBundle(module, k1)).toThrow(/P-256/);
        const garbage = buildModule({ funcs: [], custom: [{ name: BUNDLE_KEY_SECTION, bytes: Buffer.from('not a key') }] });
        expect(() => readBundleKey(garbage)).toThrow(/not PKCS#8/);
        expect(() => buildBundle(module, Buffer.alloc(0))).toThrow(BundleError);
    });

    it('rejects bytes that are not a module, or whose sections run past the end', () => {
        expect(() => stripBundleKey(Buffer.from('hello world'))).toThrow(WasmFormatError);
        const truncated = module.subarray(0, module.length - 3);
        expect(() => listSections(truncated)).toThrow(/runs past the end|unexpected end/);
    });

    it('signs task outputs that the chaincode core verifies, in both modes', () => {
        const { publicKeyPem, privateKey } = generateTaskKey();
        const bundle = buildBundle(module, privateKey);
        const input = Buffer.from('1000');
        const result = Buffer.from('785 1000');
        const pub = parsePublicKey(publicKeyPem);
        const sep = signTaskOutput(bundle, { binding, taskId: 't1', input, result, mode: 'separate' });
        expect(sep.mode).toBe('separate');
        if (sep.mode !== 'separate') throw new Error('mode');
        expect(() => {
            verifySeparate(pub, binding, 't1', sha256(input), sha256(result), sep.inputSignature, sep.resultSignature);
        }).not.toThrow();
        expect(() => {
            verifySeparate(pub, binding, 't2', sha256(input), sha256(result), sep.inputSignature, sep.resultSignature);
        }).toThrow();
        const comb = signTaskOutput(bundle, { binding, taskId: 't1', input, result, mode: 'combined' });
        if (comb.mode !== 'combined') throw new Error('mode');
        expect(() => {
            verifyCombined(pub, binding, 't1', sha256(input), sha256(result), comb.signature);
        }).not.toThrow();
        expect(() => {
            verifyCombined(pub, binding, 't1', sha256(input), sha256(Buffer.from('x')), comb.signature);
        }).toThrow();
    });

    it('signs merge outputs with the slot id and the children hashes as input', () => {
        const { publicKeyPem, privateKey } = generateTaskKey();
        const left = sha256(Buffer.from('a'));
        const right = sha256(Buffer.from('b'));
        const result = Buffer.from('ab');
        const sig = signMergeOutput(privateKey, { binding, jobId: 'job1', y: 1, x: 0, leftResultHash: left, rightResultHash: right, result, mode: 'combined' });
        if (sig.mode !== 'combined') throw new Error('mode');
        const pub = parsePublicKey(publicKeyPem);
        expect(() => {
            verifyCombined(pub, binding, 'job1/1/0', mergeInputHash(left, right), sha256(result), sig.signature);
        }).not.toThrow();
        expect(() => {
            verifyCombined(pub, binding, 'job1/1/1', mergeInputHash(left, right), sha256(result), sig.signature);
        }).toThrow();
    });

    it('frames merge input as two length-prefixed byte strings', () => {
        expect(frameMergeInput(Buffer.from('ab'), Buffer.from('')).toString('hex')).toBe('000000026162' + '00000000');
    });
});
