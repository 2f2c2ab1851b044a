// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, LedgerworkError } from '../../chaincode/src/core/errors';
import {
    MAX_SHARDS_PER_JOB,
    SeededRandom,
    chooseFromShard,
    chooseReplacement,
    replacementPool,
    selectNodes,
    splitAcrossShards,
} from '../../chaincode/src/core/nodeSelection';
import type { CandidateInput, RankAssignment } from '../../chaincode/src/core/nodeSelection';
import { codeOf } from '../support/codeOf';

/** Seeds in the vector files: a UTF-8 string or hex bytes. */
interface SeedField {
    seed?: string;
    seedHex?: string;
}

interface RandomVector extends SeedField {
    bounds: number[];
    values: number[];
    wordsDrawn: number;
}

interface ChooseVector extends SeedField {
    shard: string;
    candidates: CandidateInput[];
    count: number;
    chosen: string[];
}

interface SelectVector extends SeedField {
    name: string;
    nodeCount: number;
    shards: string[];
    candidates: Record<string, CandidateInput[]>;
    counts: number[];
    assignments: RankAssignment[];
}

interface ReplacementVector extends SeedField {
    shard: string;
    candidates: string[];
    exclude: string[];
    chosen: string;
}

interface ReplacementPoolVector extends SeedField {
    shard: string;
    candidates: CandidateInput[];
    held: Record<string, number>;
    expired: string;
    pool: string[];
    chosen: string | null;
}

interface SplitVector {
    nodeCount: number;
    shardCount: number;
    counts: number[];
}

function loadVectors<T>(name: string): T[] {
    const file = path.join(__dirname, '..', 'fixtures', 'vectors', 'selection', name);
    return JSON.parse(readFileSync(file, 'utf8')) as T[];
}

function seedOf(vector: SeedField): string | Uint8Array {
    if (vector.seed !== undefined) {
        return vector.seed;
    }
    return Uint8Array.from(Buffer.from(vector.seedHex ?? '', 'hex'));
}


function errorOf(action: () => unknown): LedgerworkError {
    try {
        action();
    } catch (err) {
        if (err instanceof LedgerworkError) {
            return err;
        }
        throw err;
    }
    throw new Error('expected a LedgerworkError');
}

/** Deterministic test-side shuffle (Fisher–Yates over a small LCG), so fast-check can replay it. */
function shuffled<T>(items: readonly T[], key: number): T[] {
    const out = [...items];
    let state = key >>> 0;
    for (let i = out.length - 1; i > 0; i--) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        const j = state % (i + 1);
        [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
}

/** A job: 1..4 shards, 1..40 nodes, every shard supplied with its share plus 0..4 spare candidates. */
const jobs = fc
    .record({
        shardCount: fc.integer({ min: 1, max: 4 }),
        nodeCount: fc.integer({ min: 1, max: 40 }),
        spares: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 4, maxLength: 4 }),
        seed: fc.string({ minLength: 1, maxLength: 70 }),
    })
    .map(({ shardCount, nodeCount, spares, seed }) => {
        const shards = ['Org1MSP', 'Org2MSP', 'Org3MSP', 'Org4MSP'].slice(0, shardCount);
        const counts = splitAcrossShards(nodeCount, shardCount);
        const candidates: Record<string, string[]> = {};
        shards.forEach((shard, i) => {
            const size = (counts[i] ?? 0) + (spares[i] ?? 0);
            candidates[shard] = Array.from({ length: size }, (_, k) => `s${i + 1}-e${k}`);
        });
        return { shards, nodeCount, candidates, seed };
    });

/** A job whose shards may have fewer executors than ranks: 1..4 shards, 1..64 nodes, 1..5 executors of capacity 1..8 per shard. */
const dealtJobs = fc
    .record({
        shardCount: fc.integer({ min: 1, max: 4 }),
        nodeCount: fc.integer({ min: 1, max: 64 }),
        capacities: fc.array(fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 5 }), { minLength: 4, maxLength: 4 }),
        seed: fc.string({ minLength: 1, maxLength: 70 }),
    })
    .map(({ shardCount, nodeCount, capacities, seed }) => {
        const shards = ['Org1MSP', 'Org2MSP', 'Org3MSP', 'Org4MSP'].slice(0, shardCount);
        const candidates: Record<string, { id: string; capacity: number }[]> = {};
        shards.forEach((shard, i) => {
            candidates[shard] = (capacities[i] ?? []).map((capacity, k) => ({ id: `s${i + 1}-e${k}`, capacity }));
        });
        return { shards, nodeCount, candidates, seed };
    });

function capacityOf(candidates: readonly { capacity: number }[] | undefined): number {
    return (candidates ?? []).reduce((sum, c) => sum + c.capacity, 0);
}

describe('splitAcrossShards', () => {
    it.each(loadVectors<SplitVector>('split.json').map((v) => [v.nodeCount, v.shardCount, v.counts] as const))(
        'splits %i nodes over %i shards as the vector says',
        (nodeCount, shardCount, counts) => {
            expect(splitAcrossShards(nodeCount, shardCount)).toEqual(counts);
        },
    );

    it('sums to M, is non-increasing and differs by at most 1', () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: MAX_SHARDS_PER_JOB }), (nodeCount, shardCount) => {
                const counts = splitAcrossShards(nodeCount, shardCount);
                expect(counts).toHaveLength(shardCount);
                expect(counts.reduce((a, b) => a + b, 0)).toBe(nodeCount);
                expect(counts.every((c, i) => i === 0 || c <= counts[i - 1]!)).toBe(true);
                expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
            }),
            { numRuns: 1000 },
        );
    });

    it.each([
        [0, 1, ErrorCode.InvalidArgument],
        [8, 0, ErrorCode.InvalidArgument],
        [1.5, 2, ErrorCode.InvalidArgument],
        [8, Number.NaN, ErrorCode.InvalidArgument],
        [4097, 1, ErrorCode.LimitExceeded],
        [8, MAX_SHARDS_PER_JOB + 1, ErrorCode.LimitExceeded],
    ])('rejects %p nodes over %p shards as %s', (nodeCount, shardCount, code) => {
        expect(codeOf(() => splitAcrossShards(nodeCount, shardCount))).toBe(code);
    });
});

describe('SeededRandom', () => {
    it.each(loadVectors<RandomVector>('random.json').map((v, i) => [i, v] as const))('reproduces random vector %i', (_, vector) => {
        const random = SeededRandom.fromSeed(seedOf(vector));
        expect(vector.bounds.map((bound) => random.nextInt(bound))).toEqual(vector.values);
    });

    it('has a vector that exercises rejection sampling', () => {
        expect(loadVectors<RandomVector>('random.json').some((v) => v.wordsDrawn > v.bounds.length)).toBe(true);
    });

    it('treats a string seed as its UTF-8 bytes and copies a byte seed', () => {
        const bytes = Uint8Array.from(Buffer.from('tx-é', 'utf8'));
        const fromString = SeededRandom.fromSeed('tx-é');
        const fromBytes = SeededRandom.fromSeed(bytes);
        bytes.fill(0);
        const draws = (random: SeededRandom): number[] => Array.from({ length: 20 }, () => random.nextInt(1000));
        expect(draws(fromBytes)).toEqual(draws(fromString));
    });

    it('stays within its bound', () => {
        fc.assert(
            fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 2 ** 32 }), (seed, bound) => {
                const random = SeededRandom.fromSeed(seed);
                for (let i = 0; i < 10; i++) {
                    const value = random.nextInt(bound);
                    expect(Number.isInteger(value) && value >= 0 && value < bound).toBe(true);
                }
            }),
            { numRuns: 1000 },
        );
    });

    it.each(['tx-1', 'c0ffee', 'another seed'])('draws each face of a die about 1000 times in 6000 rolls with seed %p', (seed) => {
        const random = SeededRandom.fromSeed(seed);
        const counts = [0, 0, 0, 0, 0, 0];
        for (let i = 0; i < 6000; i++) {
            const face = random.nextInt(6);
            counts[face] = (counts[face] ?? 0) + 1;
        }
        expect(counts).toHaveLength(6);
        for (const count of counts) {
            expect(count).toBeGreaterThan(850);
            expect(count).toBeLessThan(1150);
        }
    });

    it.each([0, -1, 1.5, Number.NaN, 2 ** 32 + 1])('rejects the bound %p as INVALID_ARGUMENT', (bound) => {
        expect(codeOf(() => SeededRandom.fromSeed('x').nextInt(bound))).toBe(ErrorCode.InvalidArgument);
    });

    it('rejects an empty seed as INVALID_ARGUMENT', () => {
        expect(codeOf(() => SeededRandom.fromSeed(''))).toBe(ErrorCode.InvalidArgument);
        expect(codeOf(() => SeededRandom.fromSeed(new Uint8Array(0)))).toBe(ErrorCode.InvalidArgument);
    });

    it('rejects a seed string with a lone surrogate, which would collide with U+FFFD', () => {
        expect(codeOf(() => SeededRandom.fromSeed('tx\uD800'))).toBe(ErrorCode.InvalidArgument);
        expect(codeOf(() => SeededRandom.fromSeed('tx\uDC00'))).toBe(ErrorCode.InvalidArgument);
        expect(codeOf(() => SeededRandom.fromSeed('tx\uFFFD'))).toBeUndefined();
        expect(codeOf(() => SeededRandom.fromSeed('tx\uD83D\uDE00'))).toBeUndefined();
    });
});

describe('chooseFromShard', () => {
    it.each(loadVectors<ChooseVector>('choose.json').map((v, i) => [i, v] as const))('reproduces choice vector %i', (_, vector) => {
        expect(chooseFromShard(vector.shard, vector.candidates, vector.count, seedOf(vector))).toEqual(vector.chosen);
    });

    it('extends a choice of c executors when choosing c + 1', () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 30 }), fc.nat(), fc.string({ minLength: 1 }), (size, pick, seed) => {
                const candidates = Array.from({ length: size }, (_, i) => `e${i}`);
                const count = pick % size;
                const fewer = chooseFromShard('OrgMSP', candidates, count, seed);
                const more = chooseFromShard('OrgMSP', candidates, count + 1, seed);
                expect(more.slice(0, count)).toEqual(fewer);
                expect(new Set(more).size).toBe(count + 1);
            }),
            { numRuns: 1000 },
        );
    });

    it('names the shard, the need and the supply when the capacity is short', () => {
        const err = errorOf(() => chooseFromShard('Org2MSP', ['a', 'b'], 3, 'tx'));
        expect(err.code).toBe(ErrorCode.TooFewExecutors);
        expect(err.detail).toBe('shard Org2MSP needs 3 ranks but its 2 eligible executors have capacity for 2');
        const short = errorOf(() => chooseFromShard('Org2MSP', [{ id: 'a', capacity: 4 }, { id: 'b', capacity: 3 }], 8, 'tx'));
        expect(short.detail).toBe('shard Org2MSP needs 8 ranks but its 2 eligible executors have capacity for 7');
        expect(chooseFromShard('Org2MSP', [{ id: 'a', capacity: 4 }, { id: 'b', capacity: 3 }], 7, 'tx').sort()).toEqual(['a', 'a', 'a', 'a', 'b', 'b', 'b']);
    });

    it('deals ranks over fewer executors evenly, never beyond a capacity, the first round distinct', () => {
        fc.assert(
            fc.property(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }), fc.nat(), fc.string({ minLength: 1 }), (capacities, pick, seed) => {
                const candidates = capacities.map((capacity, i) => ({ id: `e${i}`, capacity }));
                const total = capacities.reduce((a, b) => a + b, 0);
                const count = pick % (total + 1);
                const dealt = chooseFromShard('OrgMSP', candidates, count, seed);
                expect(dealt).toHaveLength(count);
                const held = new Map<string, number>();
                dealt.forEach((id) => held.set(id, (held.get(id) ?? 0) + 1));
                for (const candidate of candidates) {
                    expect(held.get(candidate.id) ?? 0).toBeLessThanOrEqual(candidate.capacity);
                }
                expect(new Set(dealt.slice(0, Math.min(count, candidates.length))).size).toBe(Math.min(count, candidates.length));
                // Even: an executor holds more than another only if the other is at its capacity.
                for (const a of candidates) {
                    for (const b of candidates) {
                        if ((held.get(a.id) ?? 0) > (held.get(b.id) ?? 0) + 1) {
                            expect(held.get(b.id) ?? 0).toBe(b.capacity);
                        }
                    }
                }
                expect(codeOf(() => chooseFromShard('OrgMSP', candidates, total + 1, seed))).toBe(ErrorCode.TooFewExecutors);
            }),
            { numRuns: 1000 },
        );
    });

    it('treats a bare id as capacity 1', () => {
        expect(chooseFromShard('OrgMSP', ['a', 'b', 'c'], 3, 'tx')).toEqual(chooseFromShard('OrgMSP', ['a', { id: 'b', capacity: 1 }, 'c'], 3, 'tx'));
    });

    it.each([0, -1, 1.5, Number.NaN])('rejects the capacity %p as INVALID_ARGUMENT', (capacity) => {
        expect(codeOf(() => chooseFromShard('OrgMSP', [{ id: 'a', capacity }], 1, 'tx'))).toBe(ErrorCode.InvalidArgument);
    });

    it('rejects a capacity above the executor limit as LIMIT_EXCEEDED', () => {
        expect(codeOf(() => chooseFromShard('OrgMSP', [{ id: 'a', capacity: 1025 }], 1, 'tx'))).toBe(ErrorCode.LimitExceeded);
    });

    it('rejects duplicate candidates, malformed ids, bad counts and an empty seed', () => {
        expect(codeOf(() => chooseFromShard('OrgMSP', ['a', 'b', 'a'], 1, 'tx'))).toBe(ErrorCode.InvalidArgument);
        expect(codeOf(() => chooseFromShard('OrgMSP', ['a', 'b c'], 1, 'tx'))).toBe(ErrorCode.InvalidId);
        expect(codeOf(() => chooseFromShard('Org MSP', ['a'], 1, 'tx'))).toBe(ErrorCode.InvalidId);
        expect(codeOf(() => chooseFromShard('OrgMSP', ['a'], -1, 'tx'))).toBe(ErrorCode.InvalidArgument);
        expect(codeOf(() => chooseFromShard('OrgMSP', ['a'], 1, ''))).toBe(ErrorCode.InvalidArgument);
    });
});

describe('selectNodes', () => {
    it.each(loadVectors<SelectVector>('select.json').map((v) => [v.name, v] as const))('reproduces selection vector: %s', (_, vector) => {
        const seed = seedOf(vector);
        expect(splitAcrossShards(vector.nodeCount, vector.shards.length)).toEqual(vector.counts);
        expect(selectNodes(vector.nodeCount, vector.shards, vector.candidates, seed)).toEqual(vector.assignments);
        const asMap = new Map(Object.entries(vector.candidates));
        expect(selectNodes(vector.nodeCount, vector.shards, asMap, seed)).toEqual(vector.assignments);
    });

    it('assigns ranks 1..M to distinct executors of their own shards, in the split counts', () => {
        fc.assert(
            fc.property(jobs, ({ shards, nodeCount, candidates, seed }) => {
                const assignments = selectNodes(nodeCount, shards, candidates, seed);
                expect(assignments.map((a) => a.rank)).toEqual(Array.from({ length: nodeCount }, (_, i) => i + 1));
                expect(new Set(assignments.map((a) => a.executorId)).size).toBe(nodeCount);
                expect(assignments.every((a) => candidates[a.shard]?.includes(a.executorId) === true)).toBe(true);
                const perShard = shards.map((shard) => assignments.filter((a) => a.shard === shard).length);
                expect(perShard).toEqual(splitAcrossShards(nodeCount, shards.length));
            }),
            { numRuns: 1000 },
        );
    });

    it('puts merge-tree siblings (2k − 1, 2k) in different shards when there are at least two', () => {
        fc.assert(
            fc.property(
                jobs.filter((job) => job.shards.length >= 2),
                ({ shards, nodeCount, candidates, seed }) => {
                    const assignments = selectNodes(nodeCount, shards, candidates, seed);
                    for (let k = 1; 2 * k <= nodeCount; k++) {
                        expect(assignments[2 * k - 2]!.shard).not.toBe(assignments[2 * k - 1]!.shard);
                    }
                },
            ),
            { numRuns: 1000 },
        );
    });

    it('depends on the candidate sets, not on the order of lists or keys', () => {
        fc.assert(
            fc.property(jobs, fc.nat(), ({ shards, nodeCount, candidates, seed }, key) => {
                const reordered = new Map<string, string[]>();
                for (const shard of shuffled(shards, key)) {
                    reordered.set(shard, shuffled(candidates[shard] ?? [], key + shard.length));
                }
                expect(selectNodes(nodeCount, shards, reordered, seed)).toEqual(selectNodes(nodeCount, shards, candidates, seed));
            }),
            { numRuns: 1000 },
        );
    });

    it('gives the same seed the same result and different seeds different results', () => {
        const shards = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
        const candidates = Object.fromEntries(shards.map((s) => [s, Array.from({ length: 12 }, (_, i) => `${s}-n${i}`)]));
        fc.assert(
            fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
                fc.pre(a !== b);
                const first = selectNodes(16, shards, candidates, a);
                expect(selectNodes(16, shards, candidates, a)).toEqual(first);
                expect(selectNodes(16, shards, candidates, b)).not.toEqual(first);
            }),
            { numRuns: 1000 },
        );
    });

    it('reads only own properties of a candidate record', () => {
        expect(codeOf(() => selectNodes(1, ['constructor'], {}, 'tx'))).toBe(ErrorCode.TooFewExecutors);
        expect(selectNodes(2, ['toString', 'constructor'], { constructor: ['c1'], toString: ['t1'] }, 'tx')).toEqual([
            { rank: 1, shard: 'toString', executorId: 't1' },
            { rank: 2, shard: 'constructor', executorId: 'c1' },
        ]);
    });

    it('ignores shards the job does not name', () => {
        expect(selectNodes(1, ['Org1MSP'], { Org1MSP: ['a'], Org9MSP: ['a', 'a', 'bad id'] }, 'tx')).toEqual([
            { rank: 1, shard: 'Org1MSP', executorId: 'a' },
        ]);
    });

    it('names the first shard that cannot supply its share', () => {
        const err = errorOf(() => selectNodes(8, ['Org1MSP', 'Org2MSP', 'Org3MSP'], { Org1MSP: ['a', 'b', 'c'], Org2MSP: ['d'] }, 'tx'));
        expect(err.code).toBe(ErrorCode.TooFewExecutors);
        expect(err.detail).toBe('shard Org2MSP needs 3 ranks but its 1 eligible executor has capacity for 1');
    });

    it('deals ranks over few executors within capacity, keeps siblings apart, and fails only when a shard is short', () => {
        fc.assert(
            fc.property(dealtJobs, ({ shards, nodeCount, candidates, seed }) => {
                const counts = splitAcrossShards(nodeCount, shards.length);
                const short = shards.findIndex((shard, i) => capacityOf(candidates[shard]) < (counts[i] ?? 0));
                if (short >= 0) {
                    const err = errorOf(() => selectNodes(nodeCount, shards, candidates, seed));
                    expect(err.code).toBe(ErrorCode.TooFewExecutors);
                    expect(err.detail).toContain(`shard ${String(shards[short])} `);
                    return;
                }
                const assignments = selectNodes(nodeCount, shards, candidates, seed);
                expect(assignments.map((a) => a.rank)).toEqual(Array.from({ length: nodeCount }, (_, i) => i + 1));
                expect(shards.map((shard) => assignments.filter((a) => a.shard === shard).length)).toEqual(counts);
                shards.forEach((shard, i) => {
                    const pool = candidates[shard] ?? [];
                    const mine = assignments.filter((a) => a.shard === shard);
                    for (const candidate of pool) {
                        expect(mine.filter((a) => a.executorId === candidate.id).length).toBeLessThanOrEqual(candidate.capacity);
                    }
                    expect(mine.every((a) => pool.some((c) => c.id === a.executorId))).toBe(true);
                    if ((counts[i] ?? 0) <= pool.length) {
                        expect(new Set(mine.map((a) => a.executorId)).size).toBe(mine.length);
                    }
                });
                for (let k = 1; 2 * k <= nodeCount && shards.length >= 2; k++) {
                    expect(assignments[2 * k - 2]!.shard).not.toBe(assignments[2 * k - 1]!.shard);
                }
                expect(selectNodes(nodeCount, [...shards], new Map(Object.entries(candidates).map(([k, v]) => [k, [...v].reverse()])), seed)).toEqual(assignments);
            }),
            { numRuns: 1000 },
        );
    });

    it('lets the README example run: 16 tasks over 2 shards with one executor per org', () => {
        const assignments = selectNodes(16, ['Org1MSP', 'Org2MSP'], { Org1MSP: [{ id: 'org1-a', capacity: 8 }], Org2MSP: [{ id: 'org2-a', capacity: 8 }] }, 'tx');
        expect(assignments.filter((a) => a.executorId === 'org1-a').map((a) => a.rank)).toEqual([1, 3, 5, 7, 9, 11, 13, 15]);
        expect(codeOf(() => selectNodes(16, ['Org1MSP', 'Org2MSP'], { Org1MSP: ['org1-a'], Org2MSP: ['org2-a'] }, 'tx'))).toBe(ErrorCode.TooFewExecutors);
    });

    it.each([
        ['no shards', 1, [], {}, 'tx', ErrorCode.InvalidArgument],
        ['a repeated shard', 2, ['Org1MSP', 'Org1MSP'], { Org1MSP: ['a', 'b'] }, 'tx', ErrorCode.InvalidArgument],
        ['an executor in two shards', 2, ['Org1MSP', 'Org2MSP'], { Org1MSP: ['a'], Org2MSP: ['a'] }, 'tx', ErrorCode.InvalidArgument],
        ['a malformed shard id', 1, ['Org 1'], { 'Org 1': ['a'] }, 'tx', ErrorCode.InvalidId],
        ['an empty seed', 1, ['Org1MSP'], { Org1MSP: ['a'] }, '', ErrorCode.InvalidArgument],
        ['too many nodes', 4097, ['Org1MSP'], { Org1MSP: ['a'] }, 'tx', ErrorCode.LimitExceeded],
    ] as const)('rejects %s', (_, nodeCount, shards, candidates, seed, code) => {
        expect(codeOf(() => selectNodes(nodeCount, shards, candidates as Record<string, readonly string[]>, seed))).toBe(code);
    });
});

describe('chooseReplacement', () => {
    it.each(loadVectors<ReplacementVector>('replacement.json').map((v, i) => [i, v] as const))('reproduces replacement vector %i', (_, vector) => {
        expect(chooseReplacement(vector.candidates, new Set(vector.exclude), seedOf(vector), vector.shard)).toBe(vector.chosen);
    });

    it('picks a candidate that is not excluded, whatever the candidate order', () => {
        fc.assert(
            fc.property(
                fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { minLength: 2, maxLength: 12 }),
                fc.nat(),
                fc.string({ minLength: 1 }),
                (candidates, key, seed) => {
                    const exclude = new Set(candidates.filter((_, i) => (key >> i) % 2 === 1).slice(0, candidates.length - 1));
                    const chosen = chooseReplacement(candidates, exclude, seed, 'OrgMSP');
                    expect(candidates).toContain(chosen);
                    expect(exclude.has(chosen)).toBe(false);
                    expect(chooseReplacement(shuffled(candidates, key), exclude, seed, 'OrgMSP')).toBe(chosen);
                },
            ),
            { numRuns: 1000 },
        );
    });

    it('reports TOO_FEW_EXECUTORS when every candidate is excluded', () => {
        const err = errorOf(() => chooseReplacement(['a', 'b'], new Set(['a', 'b']), 'tx', 'Org1MSP'));
        expect(err.code).toBe(ErrorCode.TooFewExecutors);
        expect(err.detail).toBe('shard Org1MSP has no other eligible executor with room for another rank');
    });
});

describe('replacementPool', () => {
    it.each(loadVectors<ReplacementPoolVector>('replacement-pool.json').map((v, i) => [i, v] as const))('reproduces replacement pool vector %i', (_, vector) => {
        const held = new Map(Object.entries(vector.held));
        const pool = replacementPool(vector.candidates, held, vector.expired);
        expect(pool.map((c) => c.id)).toEqual(vector.pool);
        if (vector.chosen === null) {
            expect(codeOf(() => chooseReplacement(pool, new Set([vector.expired]), seedOf(vector), vector.shard))).toBe(ErrorCode.TooFewExecutors);
        } else {
            expect(chooseReplacement(pool, new Set([vector.expired]), seedOf(vector), vector.shard)).toBe(vector.chosen);
        }
    });

    it('never offers the expired holder or an executor at its capacity, and prefers idle ones', () => {
        fc.assert(
            fc.property(fc.array(fc.record({ capacity: fc.integer({ min: 1, max: 6 }), held: fc.nat(6) }), { minLength: 1, maxLength: 8 }), fc.nat(), (specs, pick) => {
                const candidates = specs.map((spec, i) => ({ id: `e${i}`, capacity: spec.capacity }));
                const held = new Map(specs.map((spec, i) => [`e${i}`, Math.min(spec.held, spec.capacity)]));
                const expired = `e${pick % specs.length}`;
                const pool = replacementPool(candidates, held, expired);
                expect(pool.some((c) => c.id === expired)).toBe(false);
                const idle = candidates.filter((c) => c.id !== expired && held.get(c.id) === 0);
                if (idle.length > 0) {
                    expect(pool).toEqual(idle);
                } else {
                    expect(pool).toEqual(candidates.filter((c) => c.id !== expired && (held.get(c.id) ?? 0) < c.capacity));
                }
            }),
            { numRuns: 500 },
        );
    });
});
