// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode } from '../../chaincode/src/core/errors';
import { afterAccept, allNumbers, kindOf, treeShape } from '../../chaincode/src/core/mergeTree';
import type { AfterAccept, MergeNumber } from '../../chaincode/src/core/mergeTree';
import { requireTaskId } from '../../chaincode/src/core/ids';
import { mergeSlotId } from '../../chaincode/src/core/signature';
import { codeOf } from '../support/codeOf';

/** The file written by scripts/gen_replicated_tree_vectors.py. */
interface AfterAcceptVectors {
    trees: {
        taskCount: number;
        height: number;
        cases: { number: [number, number]; after: { action: string; into?: [number, number]; sibling?: [number, number] } }[];
    }[];
}

const file = path.join(__dirname, '..', 'fixtures', 'vectors', 'replicated-tree', 'after-accept.json');
const vectors = JSON.parse(readFileSync(file, 'utf8')) as AfterAcceptVectors;

function asWire(after: AfterAccept): { action: string; into?: [number, number]; sibling?: [number, number] } {
    const pair = (n: MergeNumber): [number, number] => [n.y, n.x];
    if (after.action === 'complete') {
        return { action: 'complete' };
    }
    if (after.action === 'pass-through') {
        return { action: 'pass-through', into: pair(after.into) };
    }
    return { action: 'merge', into: pair(after.into), sibling: pair(after.sibling) };
}

describe('afterAccept — golden vectors (scripts/gen_replicated_tree_vectors.py)', () => {
    it('covers the generated trees', () => {
        expect(vectors.trees.map((t) => t.taskCount)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 17]);
    });

    it.each(vectors.trees.map((t) => [t.taskCount, t] as const))('matches every real number of the tree of N = %i', (taskCount, tree) => {
        const shape = treeShape(taskCount);
        expect(shape.height).toBe(tree.height);
        const real = allNumbers(shape).filter((n) => kindOf(shape, n) !== 'zero');
        expect(real.map((n) => [n.y, n.x])).toEqual(tree.cases.map((c) => c.number));
        for (const { number, after } of tree.cases) {
            expect(asWire(afterAccept(shape, { y: number[0], x: number[1] }))).toEqual(after);
        }
    });

    it('every real merge is opened by exactly two acceptances, and only the root completes', () => {
        for (const taskCount of [1, 2, 3, 5, 11, 64, 100]) {
            const shape = treeShape(taskCount);
            const opened = new Map<string, number>();
            let completes = 0;
            for (const n of allNumbers(shape).filter((m) => kindOf(shape, m) !== 'zero')) {
                const after = afterAccept(shape, n);
                if (after.action === 'complete') {
                    completes++;
                } else if (after.action === 'merge') {
                    const key = `${after.into.y},${after.into.x}`;
                    opened.set(key, (opened.get(key) ?? 0) + 1);
                }
            }
            expect(completes).toBe(1);
            expect(opened.size).toBe(taskCount - 1);
            expect([...opened.values()].every((count) => count === 2)).toBe(true);
        }
    });

    it('refuses a ZERO number and numbers outside the tree', () => {
        const shape = treeShape(3);
        expect(codeOf(() => afterAccept(shape, { y: 1, x: 4 }))).toBe(ErrorCode.MergeNumberInvalid);
        expect(codeOf(() => afterAccept(shape, { y: 4, x: 1 }))).toBe(ErrorCode.MergeNumberInvalid);
    });
});

describe('requireTaskId', () => {
    it('takes task ids and merge task ids (merge slot ids), nothing else', () => {
        expect(requireTaskId('task-1')).toBe('task-1');
        expect(requireTaskId(mergeSlotId('job-1', 2, 1))).toBe('job-1/2/1');
        for (const bad of ['job-1/0/1', 'job-1/2', '/2/1', 'job-1/2/1/1', 'job 1/2/1', 'job-1/100/1', '', 7]) {
            expect(codeOf(() => requireTaskId(bad))).toBe(ErrorCode.InvalidId);
        }
    });
});
