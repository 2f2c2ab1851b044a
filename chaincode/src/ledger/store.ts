// SPDX-License-Identifier: Apache-2.0
import type { Iterators } from 'fabric-shim-api';
import { canonicalBytes } from '../core/canonicalJson';
import { ErrorCode, LedgerworkError } from '../core/errors';
import type { LedgerworkContext } from './context';

/**
 * Typed world-state access. Every record lives under a composite key whose object type names the
 * record kind; indexes are separate keys whose value is a single zero byte (an empty value would
 * delete the key). Reads return committed state only (no read-your-writes on a peer), so every
 * transaction reads first, computes, then writes.
 */
export const KeyType = {
    Parameters: 'lw.parameters',
    Executor: 'lw.executor',
    ExecutorByShard: 'lw.executor.shard',
    Job: 'lw.job',
    JobByPublisher: 'lw.job.publisher',
    JobDeadline: 'lw.job.deadline',
    Task: 'lw.task',
    JobTask: 'lw.job.task',
    JobTaskState: 'lw.job.task.state',
    ExecutorTask: 'lw.executor.task',
    ActiveClaim: 'lw.claim',
    LeaseExpiry: 'lw.lease',
    JobTree: 'lw.job.tree',
    Rank: 'lw.rank',
    Filing: 'lw.filing',
    MergeTask: 'lw.job.merge.task',
    Replica: 'lw.replica',
    ReplicaDue: 'lw.replica.due',
    Program: 'lw.program',
    ProgramChunk: 'lw.program.chunk',
    Credit: 'lw.credit',
    CreditFolded: 'lw.credit.folded',
    CreditCheckpoint: 'lw.credit.checkpoint',
    Payout: 'lw.payout',
    PayoutFolded: 'lw.payout.folded',
    PayoutCheckpoint: 'lw.payout.checkpoint',
    Mint: 'lw.mint',
    Reputation: 'lw.reputation',
    ReputationFolded: 'lw.reputation.folded',
    ReputationCheckpoint: 'lw.reputation.checkpoint',
} as const;
export type KeyType = (typeof KeyType)[keyof typeof KeyType];

const INDEX_VALUE = Buffer.from([0]);

/** Fixed-width decimal so keys sort numerically (times, ranks, positions). */
export function pad(value: number, width = 16): string {
    return String(value).padStart(width, '0');
}

export function key(ctx: LedgerworkContext, type: KeyType, ...attributes: string[]): string {
    return ctx.stub.createCompositeKey(type, attributes);
}

/** Reads a record: this transaction's own write if there is one, else the committed state. */
export async function getRecord<T>(ctx: LedgerworkContext, type: KeyType, ...attributes: string[]): Promise<T | undefined> {
    const stateKey = key(ctx, type, ...attributes);
    const pending = ctx.written.get(stateKey);
    const bytes = pending === undefined ? await ctx.stub.getState(stateKey) : (pending ?? Buffer.alloc(0));
    if (bytes.length === 0) {
        return undefined;
    }
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

export async function requireRecord<T>(ctx: LedgerworkContext, what: string, type: KeyType, ...attributes: string[]): Promise<T> {
    const record = await getRecord<T>(ctx, type, ...attributes);
    if (record === undefined) {
        throw new LedgerworkError(ErrorCode.NotFound, `${what} ${attributes.join('/')} does not exist`);
    }
    return record;
}

export async function putRecord(ctx: LedgerworkContext, value: unknown, type: KeyType, ...attributes: string[]): Promise<void> {
    await write(ctx, key(ctx, type, ...attributes), canonicalBytes(value));
}

export async function putIndex(ctx: LedgerworkContext, type: KeyType, ...attributes: string[]): Promise<void> {
    await write(ctx, key(ctx, type, ...attributes), INDEX_VALUE);
}

export async function deleteKey(ctx: LedgerworkContext, type: KeyType, ...attributes: string[]): Promise<void> {
    await write(ctx, key(ctx, type, ...attributes), null);
}

async function write(ctx: LedgerworkContext, stateKey: string, value: Buffer | null): Promise<void> {
    ctx.written.set(stateKey, value);
    await (value === null ? ctx.stub.deleteState(stateKey) : ctx.stub.putState(stateKey, value));
}

export interface Entry {
    readonly attributes: readonly string[];
    readonly value: Buffer;
}

/**
 * All entries under a partial composite key, in key order. Used inside submitted transactions: the
 * range is re-checked at commit (phantom protection), so callers keep ranges narrow.
 */
export async function entries(ctx: LedgerworkContext, type: KeyType, ...attributes: string[]): Promise<Entry[]> {
    const iterator = await ctx.stub.getStateByPartialCompositeKey(type, attributes);
    return drain(ctx, iterator, Number.MAX_SAFE_INTEGER);
}

/** Whether any entry exists under a partial composite key (reads at most one: the range checked at commit ends there). */
export async function hasEntry(ctx: LedgerworkContext, type: KeyType, ...attributes: string[]): Promise<boolean> {
    const iterator = await ctx.stub.getStateByPartialCompositeKey(type, attributes);
    return (await drain(ctx, iterator, 1)).length > 0;
}

/**
 * Like {@link entries}, without the keys this transaction has deleted (a peer gives no
 * read-your-writes, so a range read after a delete in the same transaction still sees them).
 */
export async function liveEntries(ctx: LedgerworkContext, type: KeyType, ...attributes: string[]): Promise<Entry[]> {
    const found = await entries(ctx, type, ...attributes);
    return found.filter((entry) => ctx.written.get(key(ctx, type, ...entry.attributes)) !== null);
}

/**
 * Time-ordered indexes (lease expiries, job deadlines) need a bounded range scan, which Fabric
 * offers only for simple keys (getStateByRange rejects composite keys). They are therefore simple
 * keys `<type>/<time>/<id>`: ids cannot contain '/', and simple keys never start with U+0000, so
 * they cannot meet a composite key.
 */
export function timeKey(type: KeyType, time: number, id: string): string {
    return `${type}/${pad(time)}/${id}`;
}

export async function putTimeIndex(ctx: LedgerworkContext, type: KeyType, time: number, id: string): Promise<void> {
    await write(ctx, timeKey(type, time, id), INDEX_VALUE);
}

export async function deleteTimeIndex(ctx: LedgerworkContext, type: KeyType, time: number, id: string): Promise<void> {
    await write(ctx, timeKey(type, time, id), null);
}

/**
 * Ids in a time index at or before `time`, earliest first, at most `limit`. A range read sees the committed state
 * only, so the entries this transaction already deleted are left out here: a sweep that ended a job through one index
 * must not end it again through another (its merge escrow was refunded twice).
 */
export async function idsDueBy(ctx: LedgerworkContext, type: KeyType, time: number, limit: number): Promise<string[]> {
    const iterator = await ctx.stub.getStateByRange(`${type}/`, `${type}/${pad(time + 1)}`);
    // `type/time/id`: the id is everything after the time, and may itself hold '/' (a merge task's `<job>/<y>/<x>`).
    return collect(iterator, limit, (entryKey) => entryKey.slice(entryKey.indexOf('/', type.length + 1) + 1), (entryKey) => ctx.written.get(entryKey) === null);
}

function drain(ctx: LedgerworkContext, iterator: Iterators.StateQueryIterator, limit: number): Promise<Entry[]> {
    return collect(iterator, limit, (entryKey, value) => ({ attributes: ctx.stub.splitCompositeKey(entryKey).attributes, value: Buffer.from(value) }));
}

/** Reads up to `limit` results (not counting those `skip` leaves out) and always closes the iterator. */
async function collect<T>(iterator: Iterators.StateQueryIterator, limit: number, map: (key: string, value: Uint8Array) => T, skip?: (key: string) => boolean): Promise<T[]> {
    const found: T[] = [];
    try {
        while (found.length < limit) {
            const next = await iterator.next();
            if (next.done) {
                break;
            }
            if (skip?.(next.value.key) === true) {
                continue;
            }
            found.push(map(next.value.key, next.value.value));
        }
    } finally {
        await iterator.close();
    }
    return found;
}

export interface Page<T> {
    readonly items: T[];
    /** Pass back to get the next page; empty when there is none. */
    readonly bookmark: string;
}

/** One page of entries under a partial composite key (read-only transactions only, as on Fabric). */
export async function page(ctx: LedgerworkContext, pageSize: number, bookmark: string, type: KeyType, ...attributes: string[]): Promise<Page<Entry>> {
    const { iterator, metadata } = await ctx.stub.getStateByPartialCompositeKeyWithPagination(type, attributes, pageSize, bookmark);
    const items = await drain(ctx, iterator, Number.MAX_SAFE_INTEGER);
    // Fabric returns the next key as the bookmark even on the last page; an empty page ends the list.
    // fabric-shim leaves `metadata` out when the peer's is empty (no records, no bookmark).
    const next = (metadata as Partial<typeof metadata> | undefined)?.bookmark ?? '';
    const more = items.length === pageSize;
    return { items, bookmark: more ? next : '' };
}

/** Decodes a record this chaincode wrote (canonical JSON); T names which record it is. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed view of trusted bytes
export function decode<T>(value: Buffer): T {
    return JSON.parse(value.toString('utf8')) as T;
}
