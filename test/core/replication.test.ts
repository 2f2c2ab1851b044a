// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode } from '../../chaincode/src/core/errors';
import {
    commitmentOf,
    credibilityPpm,
    errorRate,
    meetsTrust,
    parseCommitment,
    parseVerify,
    revealOpen,
    settle,
    valueCredibility,
} from '../../chaincode/src/core/replication';
import type { ReplicaState, ReplicaView, ReplicatedPolicy, Settlement, Vote } from '../../chaincode/src/core/replication';
import { codeOf } from '../support/codeOf';

/** The file written by scripts/gen_replication_vectors.py. */
interface Vectors {
    commitments: { channel: string; chaincode: string; subject: string; executorId: string; resultHex: string; saltHex: string; commitment: string }[];
    errorRates: { reputation: number; errorNumerator: number; errorDenominator: number; credibilityPpm: number }[];
    credibility: { votes: Vote[]; sha256: string; numerator: string; denominator: string; meets: Record<string, boolean> }[];
    settlements: { policy: ReplicatedPolicy; replicas: { executorId: string; shard: string; state: ReplicaState; reputation: number; sha256?: string }[]; settlement: Settlement }[];
    table: { cleanResults: number; reputation: number; credibilityPpm: number; needed: Record<string, number> }[];
}

const vectors = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'vectors', 'replication.json'), 'utf8')) as Vectors;
const sha = (hex: string): Buffer => Buffer.from(hex, 'hex');

function views(replicas: Vectors['settlements'][number]['replicas']): ReplicaView[] {
    return replicas.map((r) => ({ executorId: r.executorId, shard: r.shard, state: r.state, reputation: r.reputation, ...(r.sha256 === undefined ? {} : { resultSha256: r.sha256 }) }));
}

describe('golden vectors (scripts/gen_replication_vectors.py)', () => {
    it.each(vectors.commitments)('computes the commitment of $executorId on $subject', (v) => {
        const resultHash = createHash('sha256').update(sha(v.resultHex)).digest();
        expect(commitmentOf({ channel: v.channel, chaincode: v.chaincode }, v.subject, v.executorId, resultHash, sha(v.saltHex)).toString('hex')).toBe(v.commitment);
    });

    it.each(vectors.errorRates)('gives reputation $reputation the error rate $errorNumerator/$errorDenominator', (v) => {
        const rate = errorRate(v.reputation);
        expect(Number(rate.numerator) / Number(rate.denominator)).toBeCloseTo(v.errorNumerator / v.errorDenominator, 12);
        expect(credibilityPpm(v.reputation)).toBe(v.credibilityPpm);
    });

    it.each(vectors.credibility.map((v, i) => ({ ...v, i })))('computes value credibility, case $i', (v) => {
        const c = valueCredibility(v.votes, v.sha256);
        // Same fraction, possibly unreduced.
        expect(c.numerator * BigInt(v.denominator)).toBe(BigInt(v.numerator) * c.denominator);
        for (const [trust, meets] of Object.entries(v.meets)) {
            expect(meetsTrust(v.votes, v.sha256, trust)).toBe(meets);
        }
    });

    it.each(vectors.settlements.map((v, i) => ({ ...v, i })))('settles case $i', (v) => {
        expect(settle(v.policy, views(v.replicas))).toEqual(v.settlement);
    });

    it('matches the worked table: agreeing replicas needed at each trust level', () => {
        for (const row of vectors.table) {
            for (const [trust, needed] of Object.entries(row.needed)) {
                const agreeing = (n: number): Vote[] => Array.from({ length: n }, (_, i) => ({ shard: `S${i}`, sha256: 'v', reputation: row.reputation }));
                expect(meetsTrust(agreeing(needed), 'v', trust)).toBe(true);
                expect(needed === 1 || !meetsTrust(agreeing(needed - 1), 'v', trust)).toBe(true);
            }
        }
    });
});

describe('parseVerify', () => {
    it('keeps "signature" and reads both replicated policies', () => {
        expect(parseVerify(undefined)).toEqual({ policy: 'signature' });
        expect(parseVerify('signature')).toEqual({ policy: 'signature' });
        expect(parseVerify({ policy: 'signature' })).toEqual({ policy: 'signature' });
        expect(parseVerify({ policy: 'quorum', k: 2, maxReplicas: 4 })).toEqual({ policy: 'quorum', k: 2, maxReplicas: 4 });
        expect(parseVerify({ policy: 'quorum', k: 3 })).toEqual({ policy: 'quorum', k: 3, maxReplicas: 3 });
        expect(parseVerify({ policy: 'credibility', trust: '0.999', maxReplicas: 5 })).toEqual({ policy: 'credibility', trust: '0.999', maxReplicas: 5 });
    });

    it.each([
        ['quorum', 'quorum:2'],
        ['k of 1', { policy: 'quorum', k: 1, maxReplicas: 4 }],
        ['maxReplicas below k', { policy: 'quorum', k: 3, maxReplicas: 2 }],
        ['too many replicas', { policy: 'quorum', k: 2, maxReplicas: 17 }],
        ['trust as a float', { policy: 'credibility', trust: 0.999, maxReplicas: 5 }],
        ['trust of 1', { policy: 'credibility', trust: '1', maxReplicas: 5 }],
        ['trust below one half', { policy: 'credibility', trust: '0.4', maxReplicas: 5 }],
        ['trust with a trailing zero', { policy: 'credibility', trust: '0.990', maxReplicas: 5 }],
        ['trust with seven digits', { policy: 'credibility', trust: '0.9999999', maxReplicas: 5 }],
        ['credibility without maxReplicas', { policy: 'credibility', trust: '0.99' }],
        ['a quorum field on credibility', { policy: 'credibility', trust: '0.99', maxReplicas: 3, k: 2 }],
        ['a trust field on quorum', { policy: 'quorum', k: 2, maxReplicas: 3, trust: '0.9' }],
        ['an unknown policy', { policy: 'majority', k: 2 }],
        ['a field on signature', { policy: 'signature', k: 2 }],
    ])('refuses %s', (_name, value) => {
        expect(codeOf(() => parseVerify(value))).toBe(ErrorCode.InvalidArgument);
    });
});

describe('commitments', () => {
    const binding = { channel: 'mychannel', chaincode: 'ledgerwork' };
    const hash = Buffer.alloc(32, 7);

    it('refuses a salt shorter than 16 bytes or longer than 64, a short hash, a bad executor id', () => {
        expect(codeOf(() => commitmentOf(binding, 't', 'e', hash, Buffer.alloc(15)))).toBe(ErrorCode.InvalidArgument);
        expect(codeOf(() => commitmentOf(binding, 't', 'e', hash, Buffer.alloc(65)))).toBe(ErrorCode.InvalidArgument);
        expect(codeOf(() => commitmentOf(binding, 't', 'e', Buffer.alloc(31), Buffer.alloc(16)))).toBe(ErrorCode.InvalidArgument);
        expect(codeOf(() => commitmentOf(binding, 't', 'e/1', hash, Buffer.alloc(16)))).toBe(ErrorCode.InvalidId);
        expect(codeOf(() => parseCommitment('AB'.repeat(32)))).toBe(ErrorCode.InvalidArgument);
    });

    it('binds every field: changing any one changes the commitment', () => {
        const base = commitmentOf(binding, 't', 'e', hash, Buffer.alloc(16)).toString('hex');
        expect(commitmentOf({ ...binding, channel: 'c2' }, 't', 'e', hash, Buffer.alloc(16)).toString('hex')).not.toBe(base);
        expect(commitmentOf(binding, 't2', 'e', hash, Buffer.alloc(16)).toString('hex')).not.toBe(base);
        expect(commitmentOf(binding, 't', 'e2', hash, Buffer.alloc(16)).toString('hex')).not.toBe(base);
        expect(commitmentOf(binding, 't', 'e', Buffer.alloc(32, 8), Buffer.alloc(16)).toString('hex')).not.toBe(base);
        expect(commitmentOf(binding, 't', 'e', hash, Buffer.alloc(17)).toString('hex')).not.toBe(base);
    });
});

const stateArb = fc.constantFrom<ReplicaState>('claimed', 'committed', 'revealed', 'rejected', 'abandoned', 'failed', 'superseded');
const replicasArb = fc
    .array(fc.record({ shard: fc.constantFrom('A', 'B', 'C', 'D', 'E'), state: stateArb, value: fc.constantFrom('x', 'y', 'z'), reputation: fc.integer({ min: -50, max: 20000 }) }), { maxLength: 6 })
    .map((items) =>
        items.map((item, i): ReplicaView => ({
            executorId: `e${i}`,
            shard: item.shard,
            state: item.state,
            reputation: item.reputation,
            ...(item.state === 'revealed' ? { resultSha256: item.value } : {}),
        })),
    );
const policyArb = fc.oneof(
    fc.integer({ min: 2, max: 4 }).chain((k) => fc.integer({ min: k, max: 6 }).map((maxReplicas): ReplicatedPolicy => ({ policy: 'quorum', k, maxReplicas }))),
    fc.record({ trust: fc.constantFrom('0.9', '0.99', '0.999'), maxReplicas: fc.integer({ min: 1, max: 6 }) }).map((p): ReplicatedPolicy => ({ policy: 'credibility', ...p })),
);

describe('settlement properties', () => {
    it('does not depend on the order of the replicas', () => {
        fc.assert(
            fc.property(policyArb, replicasArb, (policy, replicas) => {
                expect(settle(policy, [...replicas].reverse())).toEqual(settle(policy, replicas));
            }),
        );
    });

    it('accepts a quorum value only with k agreeing replicas of k distinct shards, and never opens more slots than maxReplicas allows', () => {
        fc.assert(
            fc.property(policyArb, replicasArb, (policy, replicas) => {
                const outcome = settle(policy, replicas);
                if (outcome.kind === 'accepted' && policy.policy === 'quorum') {
                    const shards = new Set(replicas.filter((r) => r.state === 'revealed' && r.resultSha256 === outcome.sha256).map((r) => r.shard));
                    expect(shards.size).toBeGreaterThanOrEqual(policy.k);
                }
                if (outcome.kind === 'accepted' && policy.policy === 'credibility') {
                    const votes = replicas.filter((r) => r.state === 'revealed').map((r) => ({ shard: r.shard, sha256: r.resultSha256 ?? '', reputation: r.reputation }));
                    expect(meetsTrust(votes, outcome.sha256, policy.trust)).toBe(true);
                }
                if (outcome.kind === 'open') {
                    expect(replicas.length + outcome.openSlots).toBeLessThanOrEqual(Math.max(policy.maxReplicas, replicas.length));
                }
            }),
        );
    });

    it('opens reveals only when everyone needed has committed, or the own commit window has passed', () => {
        const policy: ReplicatedPolicy = { policy: 'quorum', k: 2, maxReplicas: 4 };
        const me = { state: 'committed' as const, commitBy: 100, revealBy: 200 };
        const a: ReplicaView = { executorId: 'a', shard: 'A', state: 'committed', reputation: 0 };
        const b: ReplicaView = { executorId: 'b', shard: 'B', state: 'claimed', reputation: 0 };
        expect(revealOpen(policy, [a], me, 50)).toBe(false);
        expect(revealOpen(policy, [a, b], me, 50)).toBe(false);
        expect(revealOpen(policy, [a, { ...b, state: 'committed' }], me, 50)).toBe(true);
        expect(revealOpen(policy, [a], me, 100)).toBe(true);
        expect(revealOpen(policy, [a], me, 200)).toBe(false);
        expect(revealOpen(policy, [a], { ...me, state: 'claimed' }, 150)).toBe(false);
    });
});
