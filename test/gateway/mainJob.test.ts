// SPDX-License-Identifier: Apache-2.0
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { countPrimesBelow, runMainJob } from '../../gateway/src/demo/mainJob';

describe('the main job (npm start), scaled down', () => {
    it('counts primes on a 3-org devnet with a ranked, sharded job, verified against a direct count; a forger is caught by quorum:2', async () => {
        const lines: string[] = [];
        const report = await runMainJob({ repoDir: path.resolve(__dirname, '../..'), taskCount: 9, upTo: 50_000, quorumTasks: 8, quorumUpTo: 20_000, log: (line) => lines.push(line) });
        expect(report).toMatchObject({ result: countPrimesBelow(50_000), verified: true, taskCount: 9, nodeCount: 16 });
        expect(report.result).toBe(5133);
        expect(report.orgs.map((o) => o.executors)).toEqual([6, 5, 5]);
        expect(report.orgs.reduce((n, o) => n + o.tasks, 0)).toBe(9);
        expect(report.orgs.reduce((n, o) => n + o.merges, 0)).toBe(8);
        expect(report.orgs.reduce((n, o) => n + BigInt(o.earned), 0n)).toBe(9n * 10n + 8n * 2n);
        expect(lines.some((line) => line.includes('verified against a direct count'))).toBe(true);

        // The replicated round: the forged, correctly signed results never win; the forger is paid nothing.
        const quorum = report.quorum;
        expect(quorum).toMatchObject({ result: countPrimesBelow(20_000), expected: countPrimesBelow(20_000), forgedAccepted: 0, forgerEarned: '0' });
        expect(quorum?.forgeries).toBeGreaterThan(0);
        expect(quorum?.caught).toBe(quorum?.forgeries);
        expect(quorum?.forgerReputation).toBeLessThan(0);
        expect(lines.some((line) => /^forgeries: org3-forger filed \d+ forged, correctly signed results; \d+ caught by the quorum, 0 accepted/.test(line))).toBe(true);
    }, 180_000);

    it('counts primes directly with a sieve', () => {
        expect([0, 2, 3, 10, 100, 1000].map(countPrimesBelow)).toEqual([0, 0, 1, 4, 25, 168]);
    });
});
