// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { ErrorCode, LedgerworkError } from './errors';
import { MSP_ID_PATTERN, requireId } from './ids';
import { MAX_TASKS_PER_RANKED_JOB } from './mergeTree';

/**
 * Deterministic node selection for ranked jobs (SPEC §6.2). Every endorsing peer runs it with the
 * transaction id as the seed and must pick the same executors, so the only entropy is the seed, the
 * candidates are sorted by code units before use, and all arithmetic is on integers below 2^32.
 *
 * The byte-level definition (reproduced independently by scripts/gen_selection_vectors.py):
 * - stream(seed): block i = SHA-256(seed ‖ uint32be(i)), i = 0, 1, …; each block yields eight
 *   uint32be words, used in order;
 * - nextInt(k): draw words until one is below 2^32 − (2^32 mod k), return it mod k;
 * - the stream of a selection in shard s is stream(frame('ledgerwork/select/v1') ‖ frame(seed) ‖
 *   frame(s)), of a replacement stream(frame('ledgerwork/replace/v1') ‖ frame(seed) ‖ frame(s)),
 *   where frame(b) = uint32be(byte length of b) ‖ b and strings are UTF-8;
 * - choosing c of the sorted candidates a: for i = 0..c−1, swap a[i] with a[i + nextInt(len − i)];
 *   the chosen are a[0..c−1] in that order.
 */

/** Most shards (organizations) one job may name. */
export const MAX_SHARDS_PER_JOB = 64;

/** One rank of a ranked job and the executor assigned to it. */
export interface RankAssignment {
    /** 1..M. */
    readonly rank: number;
    /** The MSP id of the executor's organization. */
    readonly shard: string;
    readonly executorId: string;
}

/** Candidate executor ids per shard, as a Map or a plain object keyed by MSP id. */
export type ShardCandidates = ReadonlyMap<string, readonly string[]> | Readonly<Record<string, readonly string[]>>;

/**
 * Splits `nodeCount` nodes over `shardCount` shards as evenly as possible, earlier shards taking the
 * remainder: 8 over 3 → [3, 3, 2]. With more shards than nodes the last shards get 0.
 * @throws {LedgerworkError} INVALID_ARGUMENT for non-integers or counts below 1; LIMIT_EXCEEDED above
 *   {@link MAX_TASKS_PER_RANKED_JOB} nodes or {@link MAX_SHARDS_PER_JOB} shards
 */
export function splitAcrossShards(nodeCount: number, shardCount: number): number[] {
    requireCount(nodeCount, 'node count', MAX_TASKS_PER_RANKED_JOB);
    requireCount(shardCount, 'shard count', MAX_SHARDS_PER_JOB);
    const remainder = nodeCount % shardCount;
    const base = (nodeCount - remainder) / shardCount;
    const counts: number[] = [];
    for (let i = 0; i < shardCount; i++) {
        counts.push(i < remainder ? base + 1 : base);
    }
    return counts;
}

const WORD_COUNT = 0x1_0000_0000;
const WORDS_PER_BLOCK = 8;

/**
 * A deterministic pseudo-random generator: SHA-256 in counter mode over the seed bytes, uniform
 * integers by rejection sampling so there is no modulo bias. Not for secrets; for agreeing on choices.
 */
export class SeededRandom {
    private readonly seed: Uint8Array;
    private counter = 0;
    private block: Uint8Array = new Uint8Array(0);
    private word = WORDS_PER_BLOCK;

    private constructor(seed: Uint8Array) {
        this.seed = seed;
    }

    /**
     * A generator over the given seed (a string is taken as its UTF-8 bytes).
     * @throws {LedgerworkError} INVALID_ARGUMENT for an empty seed or a string with a lone surrogate
     */
    static fromSeed(seed: string | Uint8Array): SeededRandom {
        return new SeededRandom(seedBytes(seed));
    }

    /**
     * A uniform integer in [0, bound).
     * @throws {LedgerworkError} INVALID_ARGUMENT unless `bound` is an integer in 1..2^32
     */
    nextInt(bound: number): number {
        if (!Number.isSafeInteger(bound) || bound < 1 || bound > WORD_COUNT) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `random bound ${String(bound)} must be an integer in 1..2^32`);
        }
        // Largest multiple of bound that fits in a word: drawing below it makes every residue equally likely.
        const limit = WORD_COUNT - (WORD_COUNT % bound);
        for (;;) {
            const value = this.nextWord();
            if (value < limit) {
                return value % bound;
            }
        }
    }

    private nextWord(): number {
        if (this.word === WORDS_PER_BLOCK) {
            if (this.counter === WORD_COUNT) {
                throw new LedgerworkError(ErrorCode.Internal, 'random stream exhausted');
            }
            this.block = createHash('sha256').update(this.seed).update(uint32be(this.counter)).digest();
            this.counter++;
            this.word = 0;
        }
        const offset = this.word * 4;
        this.word++;
        return readUint32be(this.block, offset);
    }
}

/**
 * Chooses `count` distinct executors of one shard: sorts the candidates by code units (so the input
 * order does not matter), then runs a partial Fisher–Yates shuffle driven by the shard's stream of
 * `seed`. The result is in the order chosen.
 * @throws {LedgerworkError} TOO_FEW_EXECUTORS if the shard has fewer than `count` candidates;
 *   INVALID_ID for a malformed shard or executor id; INVALID_ARGUMENT for a duplicate candidate,
 *   a bad count or an empty seed
 */
export function chooseFromShard(shard: string, candidates: readonly string[], count: number, seed: string | Uint8Array): string[] {
    requireId(shard, 'shard', MSP_ID_PATTERN);
    if (!Number.isSafeInteger(count) || count < 0) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `executor count ${String(count)} must be an integer ≥ 0`);
    }
    const random = SeededRandom.fromSeed(streamSeed('ledgerwork/select/v1', seed, shard));
    const pool = sortedCandidates(shard, candidates);
    if (pool.length < count) {
        throw tooFew(shard, count, pool.length);
    }
    for (let i = 0; i < count; i++) {
        const j = i + random.nextInt(pool.length - i);
        const chosen = pool[j] as string;
        pool[j] = pool[i] as string;
        pool[i] = chosen;
    }
    return pool.slice(0, count);
}

/**
 * Selects the executors of a ranked job with `nodeCount` (M) nodes over `shards` (in the job's
 * order): {@link splitAcrossShards} says how many come from each shard, {@link chooseFromShard}
 * picks them, and ranks 1..M are dealt round-robin over the shards, skipping shards that have given
 * all theirs, so merge-tree siblings (2k − 1, 2k) come from different shards whenever there are two.
 * Candidates of shards the job does not name are ignored; a named shard without an entry has none.
 * @throws {LedgerworkError} TOO_FEW_EXECUTORS naming the first shard that cannot supply its share;
 *   INVALID_ARGUMENT for repeated shards, an executor listed twice (in one shard or in two), bad
 *   counts or an empty seed; INVALID_ID for malformed ids; LIMIT_EXCEEDED for too many nodes or shards
 */
export function selectNodes(nodeCount: number, shards: readonly string[], candidates: ShardCandidates, seed: string | Uint8Array): RankAssignment[] {
    const counts = splitAcrossShards(nodeCount, shards.length);
    requireDistinctShards(shards);
    seedBytes(seed);
    const seen = new Set<string>();
    const chosen = shards.map((shard, i) => {
        const list = candidatesOf(candidates, shard);
        for (const id of list) {
            if (seen.has(id)) {
                throw new LedgerworkError(ErrorCode.InvalidArgument, `executor ${id} is listed more than once`);
            }
            seen.add(id);
        }
        return chooseFromShard(shard, list, counts[i] ?? 0, seed);
    });
    const assignments: RankAssignment[] = [];
    for (let round = 0; assignments.length < nodeCount; round++) {
        shards.forEach((shard, i) => {
            const executorId = chosen[i]?.[round];
            if (executorId !== undefined) {
                assignments.push({ rank: assignments.length + 1, shard, executorId });
            }
        });
    }
    return assignments;
}

/**
 * Picks the executor that takes over a rank whose holder's lease expired: one candidate of the same
 * shard not in `exclude` (the expired holder, executors already holding ranks of the job), chosen by
 * the shard's replacement stream of `seed` (the reassigning transaction's id).
 * @throws {LedgerworkError} TOO_FEW_EXECUTORS if no candidate is left; INVALID_ID for malformed ids;
 *   INVALID_ARGUMENT for a duplicate candidate or an empty seed
 */
export function chooseReplacement(candidates: readonly string[], exclude: ReadonlySet<string>, seed: string | Uint8Array, shard: string): string {
    requireId(shard, 'shard', MSP_ID_PATTERN);
    const random = SeededRandom.fromSeed(streamSeed('ledgerwork/replace/v1', seed, shard));
    const pool = sortedCandidates(shard, candidates).filter((id) => !exclude.has(id));
    if (pool.length === 0) {
        throw tooFew(shard, 1, 0);
    }
    return pool[random.nextInt(pool.length)] as string;
}

function requireCount(value: number, what: string, max: number): void {
    if (!Number.isSafeInteger(value) || value < 1) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${what} ${String(value)} must be an integer ≥ 1`);
    }
    if (value > max) {
        throw new LedgerworkError(ErrorCode.LimitExceeded, `${what} ${value} exceeds ${max}`);
    }
}

function requireDistinctShards(shards: readonly string[]): void {
    const seen = new Set<string>();
    for (const shard of shards) {
        requireId(shard, 'shard', MSP_ID_PATTERN);
        if (seen.has(shard)) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `shard ${shard} is named more than once`);
        }
        seen.add(shard);
    }
}

function candidatesOf(candidates: ShardCandidates, shard: string): readonly string[] {
    if (isMap(candidates)) {
        return candidates.get(shard) ?? [];
    }
    // Own properties only: an MSP id such as 'constructor' must not find Object.prototype members.
    return Object.hasOwn(candidates, shard) ? (candidates[shard] ?? []) : [];
}

function isMap(candidates: ShardCandidates): candidates is ReadonlyMap<string, readonly string[]> {
    return candidates instanceof Map;
}

/** Validated, duplicate-free copy of the candidates in code-unit order. */
function sortedCandidates(shard: string, candidates: readonly string[]): string[] {
    const pool = candidates.map((id) => requireId(id, `executor of shard ${shard}`));
    pool.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (let i = 1; i < pool.length; i++) {
        if (pool[i] === pool[i - 1]) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `executor ${String(pool[i])} is listed twice for shard ${shard}`);
        }
    }
    return pool;
}

function tooFew(shard: string, needed: number, available: number): LedgerworkError {
    return new LedgerworkError(
        ErrorCode.TooFewExecutors,
        `shard ${shard} needs ${needed} eligible executor${needed === 1 ? '' : 's'} but has ${available}`,
    );
}

function seedBytes(seed: string | Uint8Array): Uint8Array {
    const bytes = typeof seed === 'string' ? Buffer.from(seed, 'utf8') : seed;
    if (bytes.length === 0) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, 'random seed must not be empty');
    }
    // A lone surrogate would encode as U+FFFD, so two different strings would give the same stream.
    if (typeof seed === 'string' && Buffer.from(bytes).toString('utf8') !== seed) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, 'random seed must be well-formed Unicode');
    }
    return Uint8Array.from(bytes);
}

function streamSeed(purpose: string, seed: string | Uint8Array, shard: string): Uint8Array {
    return Buffer.concat([frame(Buffer.from(purpose, 'utf8')), frame(seedBytes(seed)), frame(Buffer.from(shard, 'utf8'))]);
}

function frame(bytes: Uint8Array): Uint8Array {
    return Buffer.concat([uint32be(bytes.length), bytes]);
}

function uint32be(value: number): Uint8Array {
    return Uint8Array.of((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

function readUint32be(bytes: Uint8Array, offset: number): number {
    return (bytes[offset] ?? 0) * 0x1000000 + (((bytes[offset + 1] ?? 0) << 16) | ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0));
}
