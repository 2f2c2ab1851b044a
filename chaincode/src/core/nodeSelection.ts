// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { ErrorCode, LedgerworkError } from './errors';
import { MSP_ID_PATTERN, requireId } from './ids';
import { MAX_TASKS_PER_RANKED_JOB } from './mergeTree';
import { MAX_CAPACITY } from './specs';

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
 * - ordering the sorted candidates a for c ranks: for i = 0..min(c, len)−1, swap a[i] with
 *   a[i + nextInt(len − i)] (a partial Fisher–Yates shuffle);
 * - dealing c ranks (a node is a rank, not a machine): rounds r = 0, 1, …; in each round every
 *   executor of the order whose capacity exceeds r takes the next rank, until c are dealt. With
 *   c ≤ len this is simply the first c of the order, each executor holding one rank;
 * - a replacement for an overdue rank is drawn from the sorted candidates other than the expired
 *   holder that hold no rank of the job, or, if there are none, from those holding fewer ranks
 *   than their capacity: pool[nextInt(len(pool))].
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

/** An eligible executor and how many ranks of one job it may hold at once. */
export interface Candidate {
    readonly id: string;
    /** 1..{@link MAX_CAPACITY}. */
    readonly capacity: number;
}

/** A candidate as given: a bare id stands for capacity 1. */
export type CandidateInput = string | Candidate;

/** Candidate executors per shard, as a Map or a plain object keyed by MSP id. */
export type ShardCandidates = ReadonlyMap<string, readonly CandidateInput[]> | Readonly<Record<string, readonly CandidateInput[]>>;

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
 * Deals `count` ranks over the executors of one shard: sorts the candidates by code units (so the
 * input order does not matter), orders them by a partial Fisher–Yates shuffle driven by the shard's
 * stream of `seed`, then deals round by round, each executor taking at most its capacity. While
 * there are at least `count` candidates every rank goes to a distinct executor. Entry i of the
 * result holds the shard's i-th rank; an id appears once per rank it holds.
 * @throws {LedgerworkError} TOO_FEW_EXECUTORS if the candidates' capacities add up to less than
 *   `count`; INVALID_ID for a malformed shard or executor id; INVALID_ARGUMENT for a duplicate
 *   candidate, a bad count or capacity, or an empty seed; LIMIT_EXCEEDED for a capacity above
 *   {@link MAX_CAPACITY}
 */
export function chooseFromShard(shard: string, candidates: readonly CandidateInput[], count: number, seed: string | Uint8Array): string[] {
    requireId(shard, 'shard', MSP_ID_PATTERN);
    if (!Number.isSafeInteger(count) || count < 0) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `executor count ${String(count)} must be an integer ≥ 0`);
    }
    const random = SeededRandom.fromSeed(streamSeed('ledgerwork/select/v1', seed, shard));
    const pool = sortedCandidates(shard, candidates);
    const total = pool.reduce((sum, candidate) => sum + candidate.capacity, 0);
    if (total < count) {
        throw tooFew(shard, count, pool.length, total);
    }
    const shuffled = Math.min(count, pool.length);
    for (let i = 0; i < shuffled; i++) {
        const j = i + random.nextInt(pool.length - i);
        const chosen = pool[j] as Candidate;
        pool[j] = pool[i] as Candidate;
        pool[i] = chosen;
    }
    const dealt: string[] = [];
    for (let round = 0; dealt.length < count; round++) {
        for (const candidate of pool) {
            if (dealt.length === count) {
                break;
            }
            if (candidate.capacity > round) {
                dealt.push(candidate.id);
            }
        }
    }
    return dealt;
}

/**
 * Selects the executors of a ranked job with `nodeCount` (M) nodes over `shards` (in the job's
 * order): {@link splitAcrossShards} says how many ranks each shard takes, {@link chooseFromShard}
 * deals them over the shard's executors, and ranks 1..M are dealt round-robin over the shards,
 * skipping shards that have given all theirs, so merge-tree siblings (2k − 1, 2k) come from
 * different shards whenever there are two. An executor holds several ranks only when its shard has
 * fewer candidates than its share, and never more than its capacity.
 * Candidates of shards the job does not name are ignored; a named shard without an entry has none.
 * @throws {LedgerworkError} TOO_FEW_EXECUTORS naming the first shard whose capacity is short of its share;
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
        for (const id of list.map(idOf)) {
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
 * shard not in `exclude`, chosen by the shard's replacement stream of `seed` (the reassigning
 * transaction's id). Callers pass as candidates only executors with room for another rank
 * ({@link replacementPool}).
 * @throws {LedgerworkError} TOO_FEW_EXECUTORS if no candidate is left; INVALID_ID for malformed ids;
 *   INVALID_ARGUMENT for a duplicate candidate or an empty seed
 */
export function chooseReplacement(candidates: readonly CandidateInput[], exclude: ReadonlySet<string>, seed: string | Uint8Array, shard: string): string {
    requireId(shard, 'shard', MSP_ID_PATTERN);
    const random = SeededRandom.fromSeed(streamSeed('ledgerwork/replace/v1', seed, shard));
    const pool = sortedCandidates(shard, candidates)
        .map((candidate) => candidate.id)
        .filter((id) => !exclude.has(id));
    if (pool.length === 0) {
        throw new LedgerworkError(ErrorCode.TooFewExecutors, `shard ${shard} has no other eligible executor with room for another rank`);
    }
    return pool[random.nextInt(pool.length)] as string;
}

/**
 * The executors that may take over a rank from `expired`: those of the shard's candidates (other
 * than `expired`) that hold no rank of the job, or — when every one holds some — those holding fewer
 * ranks than their capacity. `held` counts the ranks of the job each executor holds now.
 */
export function replacementPool(candidates: readonly CandidateInput[], held: ReadonlyMap<string, number>, expired: string): Candidate[] {
    const others = candidates.map(toCandidate).filter((candidate) => candidate.id !== expired);
    const idle = others.filter((candidate) => (held.get(candidate.id) ?? 0) === 0);
    return idle.length > 0 ? idle : others.filter((candidate) => (held.get(candidate.id) ?? 0) < candidate.capacity);
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

function candidatesOf(candidates: ShardCandidates, shard: string): readonly CandidateInput[] {
    if (isMap(candidates)) {
        return candidates.get(shard) ?? [];
    }
    // Own properties only: an MSP id such as 'constructor' must not find Object.prototype members.
    return Object.hasOwn(candidates, shard) ? (candidates[shard] ?? []) : [];
}

function isMap(candidates: ShardCandidates): candidates is ReadonlyMap<string, readonly CandidateInput[]> {
    return candidates instanceof Map;
}

function idOf(candidate: CandidateInput): string {
    return typeof candidate === 'string' ? candidate : candidate.id;
}

function toCandidate(candidate: CandidateInput): Candidate {
    return typeof candidate === 'string' ? { id: candidate, capacity: 1 } : candidate;
}

/** Validated, duplicate-free copy of the candidates in code-unit order of their ids. */
function sortedCandidates(shard: string, candidates: readonly CandidateInput[]): Candidate[] {
    const pool = candidates.map((candidate) => {
        const { id, capacity } = toCandidate(candidate);
        requireId(id, `executor of shard ${shard}`);
        requireCount(capacity, `capacity of executor ${id}`, MAX_CAPACITY);
        return { id, capacity };
    });
    pool.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (let i = 1; i < pool.length; i++) {
        if (pool[i]?.id === pool[i - 1]?.id) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `executor ${String(pool[i]?.id)} is listed twice for shard ${shard}`);
        }
    }
    return pool;
}

function tooFew(shard: string, needed: number, executors: number, capacity: number): LedgerworkError {
    return new LedgerworkError(
        ErrorCode.TooFewExecutors,
        `shard ${shard} needs ${needed} rank${needed === 1 ? '' : 's'} but its ${executors} eligible executor${executors === 1 ? ' has' : 's have'} capacity for ${capacity}`,
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
