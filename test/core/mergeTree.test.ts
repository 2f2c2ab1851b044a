// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode } from '../../chaincode/src/core/errors';
import {
    MAX_TASKS_PER_RANKED_JOB,
    allNumbers,
    holderRank,
    kindOf,
    leafRange,
    leftChild,
    nextStep,
    numberExists,
    numbersHeldBy,
    parent,
    realMergeCount,
    requireNumber,
    rightChild,
    target,
    treeShape,
} from '../../chaincode/src/core/mergeTree';
import type { MergeNumber, NumberKind, TreeShape } from '../../chaincode/src/core/mergeTree';
import { codeOf } from '../support/codeOf';

/** A file written by scripts/gen_merge_vectors.py. */
interface MergeVector {
    taskCount: number;
    levels: number;
    nodeCount: number;
    height: number;
    target: [number, number];
    numberCount: number;
    realMerges: number;
    /** kinds[y − 1][x − 1] */
    kinds: NumberKind[][];
    /** held[r − 1] = the numbers rank r holds, as [y, x] pairs */
    held: [number, number][][];
}

const vectorDir = path.join(__dirname, '..', 'fixtures', 'vectors', 'merge');
const vectors: MergeVector[] = readdirSync(vectorDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(path.join(vectorDir, name), 'utf8')) as MergeVector)
    .sort((a, b) => a.taskCount - b.taskCount);

/** Task counts of all sizes, with small trees (where ZERO patterns vary most) drawn often. */
const taskCounts = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: MAX_TASKS_PER_RANKED_JOB }));

/** Task counts for properties that walk the whole tree: mostly small, sometimes the largest. */
const wholeTreeTaskCounts = fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 40 }), weight: 4 },
    { arbitrary: fc.integer({ min: 41, max: 700 }), weight: 2 },
    { arbitrary: fc.constantFrom(2047, 2048, 2049, 4095, MAX_TASKS_PER_RANKED_JOB), weight: 1 },
);


function pair(n: MergeNumber): [number, number] {
    return [n.y, n.x];
}

function key(n: MergeNumber): string {
    return `${n.y},${n.x}`;
}

describe('treeShape', () => {
    it.each([
        [1, 0, 1, 1],
        [2, 1, 2, 2],
        [3, 2, 4, 3],
        [4, 2, 4, 3],
        [5, 3, 8, 4],
        [7, 3, 8, 4],
        [8, 3, 8, 4],
        [9, 4, 16, 5],
        [4096, 12, 4096, 13],
    ])('gives N = %i: n = %i, M = %i, h = %i', (taskCount, levels, nodeCount, height) => {
        expect(treeShape(taskCount)).toEqual({ taskCount, levels, nodeCount, height });
    });

    it('makes M the smallest power of two that is at least N', () => {
        fc.assert(
            fc.property(taskCounts, (taskCount) => {
                const shape = treeShape(taskCount);
                expect(BigInt(shape.nodeCount)).toBe(1n << BigInt(shape.levels));
                expect(shape.nodeCount).toBeGreaterThanOrEqual(taskCount);
                expect(shape.levels === 0 || shape.nodeCount / 2 < taskCount).toBe(true);
                expect(shape.height).toBe(shape.levels + 1);
            }),
            { numRuns: 1000 },
        );
    });

    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects the task count %p as INVALID_ARGUMENT', (taskCount) => {
        expect(codeOf(() => treeShape(taskCount))).toBe(ErrorCode.InvalidArgument);
    });

    it('rejects more than MAX_TASKS_PER_RANKED_JOB tasks as LIMIT_EXCEEDED', () => {
        expect(MAX_TASKS_PER_RANKED_JOB).toBe(4096);
        expect(codeOf(() => treeShape(MAX_TASKS_PER_RANKED_JOB + 1))).toBe(ErrorCode.LimitExceeded);
    });
});

describe('golden vectors (scripts/gen_merge_vectors.py)', () => {
    it('cover the agreed task counts', () => {
        expect(vectors.map((v) => v.taskCount)).toEqual([1, 2, 3, 4, 5, 7, 8, 16, 33]);
    });

    it.each(vectors.map((v) => [v.taskCount, v] as const))('match the tree of N = %i', (taskCount, vector) => {
        const shape = treeShape(taskCount);
        expect(shape).toEqual({ taskCount, levels: vector.levels, nodeCount: vector.nodeCount, height: vector.height });
        expect(pair(target(shape))).toEqual(vector.target);
        expect(realMergeCount(shape)).toBe(vector.realMerges);

        const numbers = allNumbers(shape);
        expect(numbers).toHaveLength(vector.numberCount);
        const kinds: NumberKind[][] = [];
        for (const n of numbers) {
            (kinds[n.y - 1] ??= []).push(kindOf(shape, n));
        }
        expect(kinds).toEqual(vector.kinds);

        const held: [number, number][][] = [];
        for (let rank = 1; rank <= shape.nodeCount; rank++) {
            held.push(numbersHeldBy(shape, rank).map(pair));
        }
        expect(held).toEqual(vector.held);
    });
});

describe('SPEC §6.7 worked example, N = M = 4', () => {
    const shape = treeShape(4);

    it('has ranks 1 and 3 upload their leaves and stop', () => {
        expect(numbersHeldBy(shape, 1)).toEqual([{ y: 1, x: 1 }]);
        expect(numbersHeldBy(shape, 3)).toEqual([{ y: 1, x: 3 }]);
        expect(nextStep(shape, { y: 1, x: 1 })).toEqual({ action: 'stop' });
        expect(nextStep(shape, { y: 1, x: 3 })).toEqual({ action: 'stop' });
    });

    it('has rank 2 merge (1,1) + (1,2) into (2,1) and stop', () => {
        expect(nextStep(shape, { y: 1, x: 2 })).toEqual({ action: 'merge', left: { y: 1, x: 1 }, into: { y: 2, x: 1 }, kind: 'merge' });
        expect(nextStep(shape, { y: 2, x: 1 })).toEqual({ action: 'stop' });
        expect(numbersHeldBy(shape, 2)).toEqual([
            { y: 1, x: 2 },
            { y: 2, x: 1 },
        ]);
    });

    it('has rank 4 merge into (2,2), then with (2,1) into the target (3,1)', () => {
        expect(nextStep(shape, { y: 1, x: 4 })).toEqual({ action: 'merge', left: { y: 1, x: 3 }, into: { y: 2, x: 2 }, kind: 'merge' });
        expect(nextStep(shape, { y: 2, x: 2 })).toEqual({ action: 'merge', left: { y: 2, x: 1 }, into: { y: 3, x: 1 }, kind: 'merge' });
        expect(nextStep(shape, { y: 3, x: 1 })).toEqual({ action: 'stop' });
        expect(target(shape)).toEqual({ y: 3, x: 1 });
        expect(holderRank(target(shape))).toBe(4);
    });
});

describe('ZERO leaves', () => {
    it('make N = 5 file (3,2) and (2,3) as pass-through and (2,4) as ZERO', () => {
        const shape = treeShape(5);
        expect(kindOf(shape, { y: 1, x: 5 })).toBe('leaf');
        expect(kindOf(shape, { y: 1, x: 6 })).toBe('zero');
        expect(kindOf(shape, { y: 2, x: 3 })).toBe('pass-through');
        expect(kindOf(shape, { y: 2, x: 4 })).toBe('zero');
        expect(kindOf(shape, { y: 3, x: 2 })).toBe('pass-through');
        expect(kindOf(shape, { y: 4, x: 1 })).toBe('merge');
        expect(nextStep(shape, { y: 1, x: 8 })).toEqual({ action: 'merge', left: { y: 1, x: 7 }, into: { y: 2, x: 4 }, kind: 'zero' });
    });

    it('make the lone task of N = 1 its own target', () => {
        const shape = treeShape(1);
        expect(allNumbers(shape)).toEqual([{ y: 1, x: 1 }]);
        expect(target(shape)).toEqual({ y: 1, x: 1 });
        expect(kindOf(shape, { y: 1, x: 1 })).toBe('leaf');
        expect(realMergeCount(shape)).toBe(0);
    });
});

describe('requireNumber and numberExists', () => {
    const shape = treeShape(5); // h = 4; widths 8, 4, 2, 1

    it.each([
        [1, 1],
        [1, 8],
        [2, 4],
        [3, 2],
        [4, 1],
    ])('accept (%p, %p)', (y, x) => {
        expect(requireNumber(shape, y, x)).toEqual({ y, x });
        expect(numberExists(shape, { y, x })).toBe(true);
    });

    it.each([
        [0, 1],
        [1, 0],
        [1, 9],
        [2, 5],
        [3, 3],
        [4, 2],
        [5, 1],
        [-1, 1],
        [1, -1],
        [1.5, 1],
        [1, 2.5],
        [Number.NaN, 1],
        [1, Number.POSITIVE_INFINITY],
        ['1', 1],
        [1, null],
        [undefined, undefined],
        [1n, 1],
    ])('reject (%p, %p) as MERGE_NUMBER_INVALID', (y, x) => {
        expect(codeOf(() => requireNumber(shape, y, x))).toBe(ErrorCode.MergeNumberInvalid);
    });

    it('reject every integer pair outside 1 ≤ y ≤ h, 1 ≤ x ≤ 2^(h−y)', () => {
        fc.assert(
            fc.property(taskCounts, fc.integer({ min: -3, max: 16 }), fc.integer({ min: -3, max: 9000 }), (taskCount, y, x) => {
                const shape = treeShape(taskCount);
                const inside = y >= 1 && y <= shape.height && x >= 1 && BigInt(x) << BigInt(y - 1) <= BigInt(shape.nodeCount);
                expect(numberExists(shape, { y, x })).toBe(inside);
                expect(codeOf(() => requireNumber(shape, y, x))).toBe(inside ? undefined : ErrorCode.MergeNumberInvalid);
            }),
            { numRuns: 2000 },
        );
    });

    it('reject every non-integer coordinate', () => {
        fc.assert(
            fc.property(
                taskCounts,
                fc.double().filter((d) => !Number.isInteger(d)),
                fc.boolean(),
                (taskCount, bad, badIsY) => {
                    const shape = treeShape(taskCount);
                    const [y, x] = badIsY ? [bad, 1] : [1, bad];
                    expect(codeOf(() => requireNumber(shape, y, x))).toBe(ErrorCode.MergeNumberInvalid);
                },
            ),
            { numRuns: 1000 },
        );
    });
});

describe('tree arithmetic', () => {
    it('finds children, parent and leaf range of (3, 2)', () => {
        expect(leftChild({ y: 3, x: 2 })).toEqual({ y: 2, x: 3 });
        expect(rightChild({ y: 3, x: 2 })).toEqual({ y: 2, x: 4 });
        expect(parent({ y: 3, x: 2 })).toEqual({ y: 4, x: 1 });
        expect(parent({ y: 2, x: 3 })).toEqual({ y: 3, x: 2 });
        expect(leafRange({ y: 3, x: 2 })).toEqual({ first: 5, last: 8 });
        expect(holderRank({ y: 3, x: 2 })).toBe(8);
    });

    it('gives a leaf no children', () => {
        expect(codeOf(() => leftChild({ y: 1, x: 2 }))).toBe(ErrorCode.MergeNumberInvalid);
        expect(codeOf(() => rightChild({ y: 1, x: 2 }))).toBe(ErrorCode.MergeNumberInvalid);
    });

    it('bounds y by the height of the largest tree', () => {
        expect(holderRank({ y: 13, x: 1 })).toBe(4096);
        expect(codeOf(() => holderRank({ y: 14, x: 1 }))).toBe(ErrorCode.MergeNumberInvalid);
        expect(codeOf(() => holderRank({ y: 0, x: 1 }))).toBe(ErrorCode.MergeNumberInvalid);
        expect(codeOf(() => parent({ y: 1, x: 0 }))).toBe(ErrorCode.MergeNumberInvalid);
        expect(codeOf(() => leafRange({ y: 2, x: Number.MAX_SAFE_INTEGER }))).toBe(ErrorCode.MergeNumberInvalid);
    });

    it('makes children partition their parent and share its holder with the right one', () => {
        fc.assert(
            fc.property(fc.integer({ min: 2, max: 13 }), fc.integer({ min: 1, max: 1 << 20 }), (y, x) => {
                const n = { y, x };
                const left = leftChild(n);
                const right = rightChild(n);
                expect(parent(left)).toEqual(n);
                expect(parent(right)).toEqual(n);
                expect(leafRange(left).first).toBe(leafRange(n).first);
                expect(leafRange(left).last + 1).toBe(leafRange(right).first);
                expect(leafRange(right).last).toBe(leafRange(n).last);
                expect(holderRank(right)).toBe(holderRank(n));
                expect(holderRank(n)).toBe(x * 2 ** (y - 1));
            }),
            { numRuns: 1000 },
        );
    });
});

describe('merge-rule properties', () => {
    it('lists 2M − 1 distinct numbers of the tree sorted by (y, x)', () => {
        fc.assert(
            fc.property(wholeTreeTaskCounts, (taskCount) => {
                const shape = treeShape(taskCount);
                const numbers = allNumbers(shape);
                expect(numbers).toHaveLength(2 * shape.nodeCount - 1);
                expect(new Set(numbers.map(key)).size).toBe(numbers.length);
                expect(numbers.every((n) => numberExists(shape, n))).toBe(true);
                expect(numbers.every((n, i) => i === 0 || n.y > numbers[i - 1]!.y || (n.y === numbers[i - 1]!.y && n.x > numbers[i - 1]!.x))).toBe(true);
            }),
            { numRuns: 1000 },
        );
    });

    it('carries every leaf to the target through the holders of its ancestors', () => {
        fc.assert(
            fc.property(
                taskCounts.chain((taskCount) => fc.tuple(fc.constant(treeShape(taskCount)), fc.integer({ min: 1, max: treeShape(taskCount).nodeCount }))),
                ([shape, rank]: [TreeShape, number]) => {
                    let current: MergeNumber = { y: 1, x: rank };
                    for (let step = 0; step < shape.levels; step++) {
                        const up = parent(current);
                        // Whoever holds the parent gets there by merging its left child with its own right child.
                        expect(nextStep(shape, rightChild(up))).toEqual({
                            action: 'merge',
                            left: leftChild(up),
                            into: up,
                            kind: kindOf(shape, up),
                        });
                        current = up;
                    }
                    expect(current).toEqual(target(shape));
                    expect(nextStep(shape, current)).toEqual({ action: 'stop' });
                },
            ),
            { numRuns: 1000 },
        );
    });

    it('has each rank hold exactly the numbers with x · 2^(y−1) = rank, in filing order, and only rank M reach the target', () => {
        fc.assert(
            fc.property(wholeTreeTaskCounts, (taskCount) => {
                const shape = treeShape(taskCount);
                const byFormula = new Map<number, string[]>();
                for (const n of allNumbers(shape)) {
                    const rank = n.x * 2 ** (n.y - 1);
                    const list = byFormula.get(rank) ?? [];
                    list.push(key(n));
                    byFormula.set(rank, list);
                }
                const seen = new Set<string>();
                const problems: string[] = [];
                const reachingTarget: number[] = [];
                for (let rank = 1; rank <= shape.nodeCount; rank++) {
                    const held = numbersHeldBy(shape, rank);
                    if (held.map(key).join(' ') !== (byFormula.get(rank) ?? []).join(' ')) {
                        problems.push(`rank ${rank} holds ${held.map(key).join(' ')}`);
                    }
                    held.forEach((n, i) => {
                        const step = nextStep(shape, n);
                        const following = held[i + 1];
                        const stepsTo = step.action === 'merge' ? key(step.into) : 'stop';
                        if (holderRank(n) !== rank || stepsTo !== (following === undefined ? 'stop' : key(following))) {
                            problems.push(`rank ${rank} at ${key(n)} steps to ${stepsTo}`);
                        }
                        seen.add(key(n));
                    });
                    const last = held[held.length - 1]!;
                    if (key(last) === key(target(shape))) {
                        reachingTarget.push(rank);
                    }
                }
                expect(problems).toEqual([]);
                expect(seen.size).toBe(2 * shape.nodeCount - 1);
                expect(reachingTarget).toEqual([shape.nodeCount]);
            }),
            { numRuns: 1000 },
        );
    });

    it('has exactly N − 1 real merges, N leaves and M − N ZERO leaves', () => {
        fc.assert(
            fc.property(wholeTreeTaskCounts, (taskCount) => {
                const shape = treeShape(taskCount);
                const count = new Map<NumberKind, number>();
                for (const n of allNumbers(shape)) {
                    const kind = kindOf(shape, n);
                    count.set(kind, (count.get(kind) ?? 0) + 1);
                }
                expect(count.get('merge') ?? 0).toBe(taskCount - 1);
                expect(realMergeCount(shape)).toBe(taskCount - 1);
                expect(count.get('leaf')).toBe(taskCount);
                const zeroLeaves = allNumbers(shape).filter((n) => n.y === 1 && kindOf(shape, n) === 'zero').length;
                expect(zeroLeaves).toBe(shape.nodeCount - taskCount);
            }),
            { numRuns: 1000 },
        );
    });

    it('classifies every number from its children', () => {
        fc.assert(
            fc.property(wholeTreeTaskCounts, (taskCount) => {
                const shape = treeShape(taskCount);
                const problems: string[] = [];
                for (const n of allNumbers(shape)) {
                    const kind = kindOf(shape, n);
                    let expected: NumberKind;
                    if (n.y === 1) {
                        expected = n.x <= taskCount ? 'leaf' : 'zero';
                    } else {
                        const leftZero = kindOf(shape, leftChild(n)) === 'zero';
                        const rightZero = kindOf(shape, rightChild(n)) === 'zero';
                        if (leftZero && !rightZero) {
                            problems.push(`${key(n)} has a ZERO left child and a real right child`);
                        }
                        expected = leftZero && rightZero ? 'zero' : rightZero ? 'pass-through' : 'merge';
                    }
                    if (kind !== expected) {
                        problems.push(`${key(n)} is ${kind}, expected ${expected}`);
                    }
                }
                expect(problems).toEqual([]);
            }),
            { numRuns: 1000 },
        );
    });

    it('rejects ranks outside 1..M and numbers outside the tree', () => {
        const shape = treeShape(5);
        expect(codeOf(() => numbersHeldBy(shape, 0))).toBe(ErrorCode.InvalidArgument);
        expect(codeOf(() => numbersHeldBy(shape, 9))).toBe(ErrorCode.InvalidArgument);
        expect(codeOf(() => numbersHeldBy(shape, 1.5))).toBe(ErrorCode.InvalidArgument);
        expect(codeOf(() => kindOf(shape, { y: 2, x: 5 }))).toBe(ErrorCode.MergeNumberInvalid);
        expect(codeOf(() => nextStep(shape, { y: 5, x: 1 }))).toBe(ErrorCode.MergeNumberInvalid);
    });
});
