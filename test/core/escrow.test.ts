// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { lockedEscrow } from '../../chaincode/src/core/escrow';

describe('lockedEscrow', () => {
    const task = (state: 'published' | 'claimed' | 'assigned' | 'completed' | 'failed' | 'cancelled', reward = '5', maxReplicas?: number) => ({
        state,
        reward,
        ...(maxReplicas === undefined ? {} : { verify: { policy: 'quorum' as const, k: 2, maxReplicas, revealWindowMs: 1000 } }),
    });

    it('holds the rewards of unfinished tasks only, a replicated task once per replica it may pay', () => {
        const tasks = [task('published'), task('claimed'), task('assigned'), task('completed'), task('failed'), task('cancelled'), task('published', '7', 3)];
        expect(lockedEscrow({ state: 'open', taskCount: 7 }, tasks, [])).toBe(5n * 3n + 7n * 3n);
        expect(lockedEscrow({ state: 'publishing', taskCount: 9 }, tasks, [])).toBe(36n);
    });

    it('holds the merge reward of every real merge (N − 1 of them) not filed yet', () => {
        const merge = { reward: '2', nodeCount: 8, height: 4, program: { uri: 'file:///m', sha256: 'ab' }, publicKey: 'k' };
        const filings = [{ kind: 'leaf' as const }, { kind: 'merge' as const }, { kind: 'pass-through' as const }, { kind: 'zero' as const }, { kind: 'merge' as const }];
        // 5 tasks: 4 real merges, 2 filed; the one assigned leaf still holds its reward.
        expect(lockedEscrow({ state: 'open', taskCount: 5, merge }, [task('assigned', '3'), task('completed', '3')], filings)).toBe(3n + 2n * 2n);
    });

    it('holds nothing once the job ended: ending it paid or refunded the rest', () => {
        for (const state of ['completed', 'cancelled', 'expired'] as const) {
            expect(lockedEscrow({ state, taskCount: 1 }, [task('published')], [])).toBe(0n);
        }
    });
});
