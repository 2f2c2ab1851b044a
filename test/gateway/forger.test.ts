// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { KeyExtractingForger, plausibleCount } from '../../gateway/src/adversary';
import { BundleError, buildBundle, generateTaskKey } from '../../gateway/src/bundle';
import { mergeInputHash, mergeSlotId, parsePublicKey, sha256, verifyCombined, verifySeparate } from '../../chaincode/src/core/signature';
import { helloModule } from '../fixtures/wasm/builder';

/**
 * The key-extracting forger: given only a bundle, it signs results it never computed, and the
 * chaincode's signature check (the same core functions the contracts call) accepts every one. That
 * is the adversary the replicated policies exist for.
 */

const binding = { channel: 'mychannel', chaincode: 'ledgerwork' };

describe('KeyExtractingForger', () => {
    const key = generateTaskKey();
    const bundle = buildBundle(helloModule(), key.privateKey);
    const publicKey = parsePublicKey(key.publicKeyPem);
    const input = Buffer.from('0 1000');

    it('signs a forged result in separate mode that the §5 check accepts', () => {
        const forger = new KeyExtractingForger({ binding });
        const forged = forger.forgeTask(bundle, { taskId: 'job-1', input, mode: 'separate' });
        expect(forged.result.equals(plausibleCount('job-1'))).toBe(true);
        if (forged.signatures.mode !== 'separate') {
            throw new Error('expected separate signatures');
        }
        const { inputSignature, resultSignature } = forged.signatures;
        expect(() => { verifySeparate(publicKey, binding, 'job-1', sha256(input), sha256(forged.result), inputSignature, resultSignature); }).not.toThrow();
        // The signature binds the forged bytes: another result does not verify under it.
        expect(() => { verifySeparate(publicKey, binding, 'job-1', sha256(input), sha256(Buffer.from('168\n')), inputSignature, resultSignature); }).toThrow(/RESULT_SIGNATURE_INVALID/);
        expect(forger.forgeries).toBe(1);
    });

    it('signs a forged result in combined mode and a forged merge with the merge key', () => {
        const forger = new KeyExtractingForger({ binding, forge: () => Buffer.from('7\n') });
        const forged = forger.forgeTask(bundle, { taskId: 'job-2', input, mode: 'combined' });
        if (forged.signatures.mode !== 'combined') {
            throw new Error('expected a combined signature');
        }
        expect(() => { verifyCombined(publicKey, binding, 'job-2', sha256(input), sha256(Buffer.from('7\n')), (forged.signatures as { signature: string }).signature); }).not.toThrow();

        const left = sha256(Buffer.from('3\n'));
        const right = sha256(Buffer.from('4\n'));
        const merged = forger.forgeMerge(bundle, { jobId: 'job', y: 2, x: 1, leftResultHash: left, rightResultHash: right, mode: 'combined' });
        expect(() => { verifyCombined(publicKey, binding, mergeSlotId('job', 2, 1), mergeInputHash(left, right), sha256(merged.result), (merged.signatures as { signature: string }).signature); }).not.toThrow();
        expect(forger.forgeries).toBe(2);
    });

    it('forges the same value for the same task in every forger (colluders agree), different values across tasks', () => {
        const a = new KeyExtractingForger({ binding }).forgeTask(bundle, { taskId: 'job-3', input, mode: 'separate' });
        const b = new KeyExtractingForger({ binding }).forgeTask(bundle, { taskId: 'job-3', input, mode: 'separate' });
        expect(a.result.equals(b.result)).toBe(true);
        expect(plausibleCount('job-3').equals(plausibleCount('job-4'))).toBe(false);
        expect(plausibleCount('job-3').toString()).toMatch(/^\d{1,6}\n$/);
    });

    it('cannot forge without a key in the bundle (typed error)', () => {
        const forger = new KeyExtractingForger({ binding });
        expect(() => forger.forgeTask(helloModule(), { taskId: 'job-5', input, mode: 'separate' })).toThrow(BundleError);
        expect(forger.forgeries).toBe(0);
    });
});
