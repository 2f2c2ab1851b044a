// SPDX-License-Identifier: Apache-2.0
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { countPrimesBelow, runMainJob } from '../../gateway/src/demo/mainJob';

describe('the main job (npm start), scaled down', () => {
    it('counts primes on a 3-org devnet with a ranked, sharded job, verified against a direct count', async () => {
        const lines: string[] = [];
        const report = await runMainJob({ repoDir: path.resolve(__dirname, '../..'), taskCount: 9, upTo: 50_000, log: (line) => lines.push(line) });
        expect(report).toMatchObject({ result: countPrimesBelow(50_000), verified: true, taskCount: 9, nodeCount: 16 });
        expect(report.result).toBe(5133);
        expect(report.orgs.map((o) => o.executors)).toEqual([6, 5, 5]);
        expect(report.orgs.reduce((n, o) => n + o.tasks, 0)).toBe(9);
        expect(report.orgs.reduce((n, o) => n + o.merges, 0)).toBe(8);
        expect(report.orgs.reduce((n, o) => n + BigInt(o.earned), 0n)).toBe(9n * 10n + 8n * 2n);
        expect(lines.some((line) => line.includes('verified against a direct count'))).toBe(true);
    });

    it('counts primes directly with a sieve', () => {
        expect([0, 2, 3, 10, 100, 1000].map(countPrimesBelow)).toEqual([0, 0, 1, 4, 25, 168]);
    });
});
