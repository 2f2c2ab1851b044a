/**
 * Merge-number arithmetic of SPEC §6. A ranked job of N tasks runs on M = 2^n nodes, n = ceil(log2 N);
 * results are filed under numbers (y, x), y = processing round (1 = computed), x = position in that
 * round, and the final result under the target (h, 1), h = n + 1. Every endorsing peer evaluates
 * these functions, so they use small integers only: powers of two come from integer doubling and
 * shifts below 2^13, never from Math.log2 or Math.pow.
 */
/** Most tasks a ranked (merge-tree) job may have; so M ≤ 4096 and h ≤ 13. */
export declare const MAX_TASKS_PER_RANKED_JOB = 4096;
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
export type MergeStep = {
    readonly action: 'stop';
} | {
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
export declare function treeShape(taskCount: number): TreeShape;
/** True if (y, x) is a number of the tree: integers with 1 ≤ y ≤ h and 1 ≤ x ≤ 2^(h−y). */
export declare function numberExists(shape: TreeShape, n: MergeNumber): boolean;
/**
 * Validates an untrusted (y, x) against the tree.
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID if either is not an integer or the number is not in the tree
 */
export declare function requireNumber(shape: TreeShape, y: unknown, x: unknown): MergeNumber;
/**
 * The rank that holds (and alone may file) a number: x · 2^(y−1).
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID if the number is not well-formed (see {@link leafRange})
 */
export declare function holderRank(n: MergeNumber): number;
/** The target number (h, 1), under which the job's final result is filed. */
export declare function target(shape: TreeShape): MergeNumber;
/**
 * The left child (y − 1, 2x − 1) of a merged number: the sibling result its holder fetches.
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID for a leaf (y = 1) or a malformed number
 */
export declare function leftChild(n: MergeNumber): MergeNumber;
/**
 * The right child (y − 1, 2x) of a merged number: the holder's own previous result.
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID for a leaf (y = 1) or a malformed number
 */
export declare function rightChild(n: MergeNumber): MergeNumber;
/**
 * The parent (y + 1, ceil(x / 2)). Shape-free: the parent of the target is outside the tree, so
 * check it with {@link numberExists} where that matters.
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID for a malformed number
 */
export declare function parent(n: MergeNumber): MergeNumber;
/**
 * The ranks of the leaves under a number: (x − 1) · 2^(y−1) + 1 through x · 2^(y−1).
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID unless y and x are integers ≥ 1 with y ≤ h of the
 *   largest tree and x · 2^(y−1) a safe integer
 */
export declare function leafRange(n: MergeNumber): {
    first: number;
    last: number;
};
/**
 * Classifies a number of the tree (see {@link NumberKind}). ZERO leaves are the ranks N+1..M, so they
 * form a suffix: a subtree is all ZERO iff its first leaf is ZERO, and a left subtree is never ZERO
 * while its right sibling is not.
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID if the number is not in the tree
 */
export declare function kindOf(shape: TreeShape, n: MergeNumber): NumberKind;
/**
 * The numbers a rank holds, in filing order: (1, r), then (2, r/2), (3, r/4), … while x is even,
 * ending with the number where it stops (x odd; for rank M that is the target).
 * @throws {LedgerworkError} INVALID_ARGUMENT unless 1 ≤ rank ≤ M
 */
export declare function numbersHeldBy(shape: TreeShape, rank: number): MergeNumber[];
/** Every number of the tree, 2M − 1 of them, sorted by y then x. All of them end up filed. */
export declare function allNumbers(shape: TreeShape): MergeNumber[];
/**
 * How many numbers run the merge program (and earn a merge reward): N − 1. Each real merge turns two
 * live partial results into one, and the N task results end as the one final result; pass-through
 * and ZERO numbers do not change the count of live results.
 */
export declare function realMergeCount(shape: TreeShape): number;
/**
 * What the holder of `held` does next (SPEC §6.5): x odd (the target has x = 1) → stop, its last
 * filing was `held`; x even → fetch (y, x − 1), merge it with its own result and file (y + 1, x / 2).
 * @throws {LedgerworkError} MERGE_NUMBER_INVALID if `held` is not in the tree
 */
export declare function nextStep(shape: TreeShape, held: MergeNumber): MergeStep;
