// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from './errors';

/**
 * Merge-number arithmetic of SPEC §6. A ranked job of N tasks runs on M = 2^n nodes, n = ceil(log2 N);
 * results are filed under numbers (y, x), y = processing round (1 = computed), x = position in that
 * round, and the final result under the target (h, 1), h = n + 1. Every endorsing peer evaluates
 * these functions, so they use small integers only: powers of two come from integer doubling and
 * shifts below 2^13, never from Math.log2 or Math.pow.
 */

/** Most tasks a ranked (merge-tree) job may have; so M ≤ 4096 and h ≤ 13. */
export const MAX_TASKS_PER_RANKED_JOB = 4096;

/** Height of the largest tree (13); bounds y so that 2^(y−1) is a small shift. */
const MAX_HEIGHT = 13;

/** The dimensions of a job's merge tree. Build it with {@link treeShape}; the other functions trust it. */
export interface TreeShape {
    /** N, the number of real tasks (ranks 1..N compute, ranks N+1..M hold ZERO). */
    readonly taskCount: number;
    /** n = ceil(log2 N); 0 for N = 1. */
    readonly levels: number;
    /** M = 2^n, the number of compute nodes (ranks). */
    readonly nodeCount: number;
    /** h = n + 1, the round of the target number (h, 1). */
    readonly height: number;
}

/** A merge number (y, x): the result of round y at position x. */
export interface MergeNumber {
    readonly y: number;
    readonly x: number;
}

/**
 * What a number stands for:
 * - `leaf`: (1, r) with r ≤ N, a computed task result;
 * - `zero`: every leaf below it is a ZERO leaf (rank > N), including those ZERO leaves themselves;
 *   its result is ZERO and nothing is run;
 * - `pass-through`: its left subtree holds real results and its right subtree is all ZERO; its result
 *   is the left child's, no merge program is run and no merge reward is paid;
 * - `merge`: both children hold real results; the merge program runs. There are exactly N − 1.
 */
export type NumberKind = 'leaf' | 'zero' | 'pass-through' | 'merge';

/** What the holder of a number does next (SPEC §6.5). */
export type MergeStep =
    | { readonly action: 'stop' }
    | {
          readonly action: 'merge';
          /** The sibling result to fetch from the ledger (waiting until it is filed): the left operand. */
          readonly left: MergeNumber;
          /** The number the merged result is filed under. */
          readonly into: MergeNumber;
          /** The kind of `into`: tells whether the merge program actually runs. */
          readonly kind: Exclude<NumberKind, 'leaf'>;
      };

/**
 * The tree of a job with `taskCount` tasks.
 * @throws {LedgerworkError} INVALID_ARGUMENT unless `taskCount` is an integer ≥ 1; LIMIT_EXCEEDED above
 *   {@link MAX_TASKS_PER_RANKED_JOB}
 */
export function treeShape(taskCount: number): TreeShape {
    if (!Number.isSafeInteger(taskCount) || taskCount < 1) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `task count ${String(taskCount)} must be an integer ≥ 1`);
    }
    if (taskCount > MAX_TASKS_PER_RANKED_JOB) {
        throw new LedgerworkError(ErrorCode.LimitExceeded, `task count ${taskCount} exceeds ${MAX_TASKS_PER_RANKED_JOB} for a ranked job`);
    }
    let levels = 0;
    let nodeCount = 1;
    while (nodeCount < taskCount) {
        nodeCount *= 2;
        levels++;
    }
    return Object.freeze({ taskCount, levels, nodeCount, height: levels + 1 });
}

/** True if (y, x) is a number of the tree: integers with 1 ≤ y ≤ h and 1 ≤ x ≤ 2^(h−y). */
export function numberExists(shape: TreeShape, n: MergeNumber): boolean {
    return (
        Number.isSafeInteger(n.y) &&
        Number.isSafeInteger(n.x) &&
        n.y >= 1 &&
        n.y <= shape.height &&
        n.x >= 1 &&
        n.x <= widthOf(shape, n.y)
    );
}

/**
 * Validates an untrusted (y, x) against the tree.
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID if either is not an integer or the number is not in the tree
 */
export function requireNumber(shape: TreeShape, y: unknown, x: unknown): MergeNumber {
    if (typeof y !== 'number' || typeof x !== 'number' || !Number.isSafeInteger(y) || !Number.isSafeInteger(x)) {
        throw new LedgerworkError(ErrorCode.MergeNumberInvalid, `merge number (${show(y)}, ${show(x)}) must be two integers`);
    }
    const n = { y, x };
    if (!numberExists(shape, n)) {
        throw new LedgerworkError(
            ErrorCode.MergeNumberInvalid,
            `merge number (${y}, ${x}) is not in the tree of ${shape.taskCount} tasks (1 ≤ y ≤ ${shape.height}, 1 ≤ x ≤ 2^(${shape.height}−y))`,
        );
    }
    return n;
}

/**
 * The rank that holds (and alone may file) a number: x · 2^(y−1).
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID if the number is not well-formed (see {@link leafRange})
 */
export function holderRank(n: MergeNumber): number {
    return leafRange(n).last;
}

/** The target number (h, 1), under which the job's final result is filed. */
export function target(shape: TreeShape): MergeNumber {
    return { y: shape.height, x: 1 };
}

/**
 * The left child (y − 1, 2x − 1) of a merged number: the sibling result its holder fetches.
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID for a leaf (y = 1) or a malformed number
 */
export function leftChild(n: MergeNumber): MergeNumber {
    requireMerged(n);
    return { y: n.y - 1, x: 2 * n.x - 1 };
}

/**
 * The right child (y − 1, 2x) of a merged number: the holder's own previous result.
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID for a leaf (y = 1) or a malformed number
 */
export function rightChild(n: MergeNumber): MergeNumber {
    requireMerged(n);
    return { y: n.y - 1, x: 2 * n.x };
}

/**
 * The parent (y + 1, ceil(x / 2)). Shape-free: the parent of the target is outside the tree, so
 * check it with {@link numberExists} where that matters.
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID for a malformed number
 */
export function parent(n: MergeNumber): MergeNumber {
    requireWellFormed(n);
    return { y: n.y + 1, x: (n.x + (n.x % 2)) / 2 };
}

/**
 * The ranks of the leaves under a number: (x − 1) · 2^(y−1) + 1 through x · 2^(y−1).
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID unless y and x are integers ≥ 1 with y ≤ h of the
 *   largest tree and x · 2^(y−1) a safe integer
 */
export function leafRange(n: MergeNumber): { first: number; last: number } {
    requireWellFormed(n);
    const span = 1 << (n.y - 1);
    const last = n.x * span;
    if (!Number.isSafeInteger(last)) {
        throw new LedgerworkError(ErrorCode.MergeNumberInvalid, `merge number (${n.y}, ${n.x}) is out of range`);
    }
    return { first: last - span + 1, last };
}

/**
 * Classifies a number of the tree (see {@link NumberKind}). ZERO leaves are the ranks N+1..M, so they
 * form a suffix: a subtree is all ZERO iff its first leaf is ZERO, and a left subtree is never ZERO
 * while its right sibling is not.
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID if the number is not in the tree
 */
export function kindOf(shape: TreeShape, n: MergeNumber): NumberKind {
    requireInTree(shape, n);
    if (n.y === 1) {
        return n.x > shape.taskCount ? 'zero' : 'leaf';
    }
    return mergedKind(shape, n);
}

/**
 * The numbers a rank holds, in filing order: (1, r), then (2, r/2), (3, r/4), … while x is even,
 * ending with the number where it stops (x odd; for rank M that is the target).
 * @throws {LedgerworkError} INVALID_ARGUMENT unless 1 ≤ rank ≤ M
 */
export function numbersHeldBy(shape: TreeShape, rank: number): MergeNumber[] {
    if (!Number.isSafeInteger(rank) || rank < 1 || rank > shape.nodeCount) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `rank ${String(rank)} must be an integer in 1..${shape.nodeCount}`);
    }
    const held: MergeNumber[] = [{ y: 1, x: rank }];
    let step = nextStep(shape, { y: 1, x: rank });
    while (step.action === 'merge') {
        held.push(step.into);
        step = nextStep(shape, step.into);
    }
    return held;
}

/** Every number of the tree, 2M − 1 of them, sorted by y then x. All of them end up filed. */
export function allNumbers(shape: TreeShape): MergeNumber[] {
    const numbers: MergeNumber[] = [];
    for (let y = 1; y <= shape.height; y++) {
        const width = widthOf(shape, y);
        for (let x = 1; x <= width; x++) {
            numbers.push({ y, x });
        }
    }
    return numbers;
}

/**
 * How many numbers run the merge program (and earn a merge reward): N − 1. Each real merge turns two
 * live partial results into one, and the N task results end as the one final result; pass-through
 * and ZERO numbers do not change the count of live results.
 */
export function realMergeCount(shape: TreeShape): number {
    return shape.taskCount - 1;
}

/**
 * What the holder of `held` does next (SPEC §6.5): x odd (the target has x = 1) → stop, its last
 * filing was `held`; x even → fetch (y, x − 1), merge it with its own result and file (y + 1, x / 2).
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID if `held` is not in the tree
 */
export function nextStep(shape: TreeShape, held: MergeNumber): MergeStep {
    requireInTree(shape, held);
    if (held.x % 2 === 1) {
        return { action: 'stop' };
    }
    // x even implies x < 2^(h−y), so y < h and the parent is in the tree.
    const into = { y: held.y + 1, x: held.x / 2 };
    return { action: 'merge', left: { y: held.y, x: held.x - 1 }, into, kind: mergedKind(shape, into) };
}

/**
 * What accepting the value of a real (non-ZERO) number opens when a ranked job is verified by
 * replicas instead of rank holders: the root completes the job; a left child whose sibling
 * subtree is all ZERO passes its value to the parent; otherwise the parent is a merge that can be
 * published once the sibling's value is accepted too.
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID if `accepted` is not in the tree or is ZERO
 */
export function afterAccept(shape: TreeShape, accepted: MergeNumber): AfterAccept {
    if (kindOf(shape, accepted) === 'zero') {
        throw new LedgerworkError(ErrorCode.MergeNumberInvalid, `merge number (${accepted.y}, ${accepted.x}) is ZERO: nothing is accepted there`);
    }
    if (accepted.y === shape.height) {
        return { action: 'complete' };
    }
    const into = parent(accepted);
    if (mergedKind(shape, into) === 'pass-through') {
        return { action: 'pass-through', into };
    }
    return { action: 'merge', into, sibling: { y: accepted.y, x: accepted.x % 2 === 1 ? accepted.x + 1 : accepted.x - 1 } };
}

export type AfterAccept =
    | { readonly action: 'complete' }
    | { readonly action: 'pass-through'; readonly into: MergeNumber }
    | { readonly action: 'merge'; readonly into: MergeNumber; readonly sibling: MergeNumber };

/** Kind of a number with y ≥ 2 that is known to be in the tree. */
function mergedKind(shape: TreeShape, n: MergeNumber): Exclude<NumberKind, 'leaf'> {
    const { first, last } = leafRange(n);
    if (first > shape.taskCount) {
        return 'zero';
    }
    const firstOfRight = first + (last - first + 1) / 2;
    return firstOfRight > shape.taskCount ? 'pass-through' : 'merge';
}

/** 2^(h−y), the number of positions in round y. */
function widthOf(shape: TreeShape, y: number): number {
    return shape.nodeCount >> (y - 1);
}

function requireWellFormed(n: MergeNumber): void {
    if (!Number.isSafeInteger(n.y) || !Number.isSafeInteger(n.x) || n.y < 1 || n.x < 1 || n.y > MAX_HEIGHT) {
        throw new LedgerworkError(ErrorCode.MergeNumberInvalid, `merge number (${show(n.y)}, ${show(n.x)}) is not well-formed`);
    }
}

function requireMerged(n: MergeNumber): void {
    requireWellFormed(n);
    if (n.y === 1) {
        throw new LedgerworkError(ErrorCode.MergeNumberInvalid, `merge number (1, ${n.x}) is a leaf and has no children`);
    }
}

function requireInTree(shape: TreeShape, n: MergeNumber): void {
    if (!numberExists(shape, n)) {
        throw new LedgerworkError(ErrorCode.MergeNumberInvalid, `merge number (${show(n.y)}, ${show(n.x)}) is not in the tree of ${shape.taskCount} tasks`);
    }
}

function show(value: unknown): string {
    return typeof value === 'number' ? String(value) : typeof value;
}
