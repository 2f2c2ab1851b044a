// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { main } from '../../gateway/src/cli/main';
import type { CliIo } from '../../gateway/src/cli/output';
import { VerifyPolicyError, describeVerifyPolicy, parseVerifyPolicy } from '../../gateway/src/publisher/verifyPolicy';
import { exampleFile } from '../support/examples';

describe('parseVerifyPolicy', () => {
    it('reads the three policies with their replica bounds, as the chaincode parseVerify does', () => {
        expect(parseVerifyPolicy('signature')).toEqual({ policy: 'signature' });
        expect(parseVerifyPolicy('quorum:2', 4)).toEqual({ policy: 'quorum', k: 2, maxReplicas: 4 });
        expect(parseVerifyPolicy('quorum:3')).toEqual({ policy: 'quorum', k: 3, maxReplicas: 6 });
        expect(parseVerifyPolicy('quorum:9')).toEqual({ policy: 'quorum', k: 9, maxReplicas: 16 });
        expect(parseVerifyPolicy('credibility:0.999')).toEqual({ policy: 'credibility', trust: '0.999', maxReplicas: 5 });
        expect(parseVerifyPolicy('credibility:0.5', 3)).toEqual({ policy: 'credibility', trust: '0.5', maxReplicas: 3 });
    });

    it.each([
        ['quorum', undefined, /quorum:K/],
        ['quorum:1', undefined, /k must be an integer from 2 to 16/],
        ['quorum:x', undefined, /quorum:K needs a whole K/],
        ['quorum:2:3', undefined, /signature, quorum:K or credibility:T/],
        ['quorum:2', 1, /maxReplicas must be an integer from 2 to 16/],
        ['quorum:2', 17, /maxReplicas must be an integer from 2 to 16/],
        ['credibility:1', undefined, /trust must be a decimal string from "0.5"/],
        ['credibility:0.4', undefined, /from "0.5"/],
        ['credibility:0.9990', undefined, /without trailing zeros/],
        ['credibility:.9', undefined, /trust must be a decimal string/],
        ['credibility:0.999', 0, /maxReplicas must be an integer from 1 to 16/],
        ['signature', 3, /not to signature/],
        ['majority', undefined, /not "majority"/],
        ['', undefined, /signature, quorum:K/],
    ])('turns down %j (max %j) with a typed error', (text, max, message) => {
        expect(() => parseVerifyPolicy(text, max)).toThrow(VerifyPolicyError);
        expect(() => parseVerifyPolicy(text, max)).toThrow(message);
    });

    it('describes a policy the way the CLI prints it', () => {
        expect(describeVerifyPolicy(undefined)).toBe('signature');
        expect(describeVerifyPolicy({ policy: 'signature' })).toBe('signature');
        expect(describeVerifyPolicy({ policy: 'quorum', k: 2, maxReplicas: 4 })).toBe('quorum:2 (≤ 4 replicas)');
        expect(describeVerifyPolicy({ policy: 'credibility', trust: '0.999', maxReplicas: 5 })).toBe('credibility:0.999 (≤ 5 replicas)');
    });
});

describe('ledgerwork job publish --verify (usage errors, before any network)', () => {
    const publish = async (...extra: string[]): Promise<{ code: number; stderr: string }> => {
        let stderr = '';
        const io: CliIo = {
            stdout: () => undefined,
            stderr: (text) => (stderr += text),
            stderrIsTTY: false,
            env: {},
            signal: new AbortController().signal,
            now: () => Date.now(),
            trapSignals: () => () => undefined,
        };
        const code = await main(['job', 'publish', '--program', exampleFile('primes'), '--range', '0:100', '--tasks', '2', '--reward', '1', ...extra], io);
        return { code, stderr };
    };

    it.each([
        [['--verify', 'quorum:1'], /--verify: verify.k must be an integer from 2/],
        [['--verify', 'credibility:2'], /--verify: verify.trust must be a decimal string/],
        [['--verify', 'quorum:2', '--max-replicas', '1'], /maxReplicas must be an integer from 2/],
        [['--max-replicas', '4'], /--max-replicas needs --verify quorum:K/],
        [['--verify', 'quorum:2', '--max-replicas', 'four'], /--max-replicas must be an integer/],
    ])('%j exits 2 with the reason', async (extra, message) => {
        const run = await publish(...extra);
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(message);
    });

    it('lists --verify in the usage', async () => {
        let stdout = '';
        const io: CliIo = { stdout: (t) => (stdout += t), stderr: () => undefined, stderrIsTTY: false, env: {}, signal: new AbortController().signal, now: () => Date.now(), trapSignals: () => () => undefined };
        expect(await main(['help', 'job'], io)).toBe(0);
        expect(stdout).toContain('[--verify signature|quorum:K|credibility:T [--max-replicas N]]');
        expect(stdout).toContain('--verify quorum:2 --max-replicas 4');
    });
});
