// SPDX-License-Identifier: Apache-2.0
/**
 * The committed, versioned world state of one chaincode namespace, and the update batch a block's valid
 * transactions accumulate during validation.
 */
import { compareKeys } from './keys';
import { defined } from './defined';

/** A key's version: the height (block number, transaction index in the block) of the transaction that wrote it. */
export interface Version {
    readonly blockNum: number;
    readonly txNum: number;
}

/** Whether two versions are equal; `undefined` stands for "key absent" (Fabric's `version.AreSame`). */
export function sameVersion(a: Version | undefined, b: Version | undefined): boolean {
    if (a === undefined || b === undefined) {
        return a === b;
    }
    return a.blockNum === b.blockNum && a.txNum === b.txNum;
}

/** A committed value with its version. */
export interface VersionedValue {
    readonly value: Buffer;
    readonly version: Version;
    /** The key's metadata (e.g. its key-level endorsement policy, `VALIDATION_PARAMETER`), if any. */
    readonly metadata?: ReadonlyMap<string, Buffer>;
}

/** A committed key/value/version triple, as returned by range scans. */
export interface VersionedKV extends VersionedValue {
    readonly key: string;
}

/** Index of the first element of the sorted `keys` that is >= `key`. */
function lowerBound(keys: readonly string[], key: string): number {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareKeys(defined(keys[mid]), key) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/** Whether `key` lies in [startKey, endKey); an empty `endKey` means unbounded (as in the state database). */
export function inRange(key: string, startKey: string, endKey: string): boolean {
    return compareKeys(key, startKey) >= 0 && (endKey === '' || compareKeys(key, endKey) < 0);
}

/** A pending update of one key in an {@link UpdateBatch}: `value` undefined means delete. */
export interface PendingUpdate {
    readonly key: string;
    readonly value: Buffer | undefined;
    readonly version: Version;
    /** The key's metadata after the update (undefined: none). */
    readonly metadata?: ReadonlyMap<string, Buffer>;
}

/**
 * The writes of the valid transactions validated so far in a block (Fabric's `UpdateBatch`). Later writes of a key
 * replace earlier ones.
 */
export class UpdateBatch {
    private readonly updates = new Map<string, PendingUpdate>();

    /** Records a put (`value` non-empty) or a delete (`value` undefined), with the key's metadata after it. */
    public put(key: string, value: Buffer | undefined, version: Version, metadata?: ReadonlyMap<string, Buffer>): void {
        this.updates.set(key, { key, value, version, ...(metadata === undefined || metadata.size === 0 || value === undefined ? {} : { metadata }) });
    }

    /** Whether the batch touches `key` (put or delete). */
    public has(key: string): boolean {
        return this.updates.has(key);
    }

    /** The pending update of `key`, if any. */
    public get(key: string): PendingUpdate | undefined {
        return this.updates.get(key);
    }

    /** The pending updates with keys in [startKey, endKey), sorted by key. */
    public range(startKey: string, endKey: string): PendingUpdate[] {
        return [...this.updates.values()]
            .filter((u) => inRange(u.key, startKey, endKey))
            .sort((a, b) => compareKeys(a.key, b.key));
    }

    /** All pending updates, in insertion order. */
    public all(): IterableIterator<PendingUpdate> {
        return this.updates.values();
    }
}

/**
 * A read-only view of committed state, which may live on disk (the devnet's LevelDB) or in memory: reads are
 * asynchronous. Committed state may change while a reader uses it; a simulation that a commit overlapped is not kept
 * but run again (the peer's commit lock, `StateLock.optimistic`).
 */
export interface StateReader {
    /** The committed value and version of `key`, or undefined if absent. */
    get(key: string): Promise<VersionedValue | undefined>;
    /**
     * Lazily scans the keys in [startKey, endKey) in key order; an empty `endKey` means unbounded. A consumer that
     * stops early calls the iterator's `return()` (as `for await … break` does) to release it.
     */
    range(startKey: string, endKey: string): AsyncGenerator<VersionedKV, void, undefined>;
}

/**
 * The committed state of one namespace held in memory: key → (value, version), kept sorted in UTF-8 byte order.
 * The single-peer simulator's state; the devnet's lives in LevelDB (durableLedger.ts).
 */
export class WorldState implements StateReader {
    private readonly values = new Map<string, VersionedValue>();
    private readonly sortedKeys: string[] = [];

    /** Number of keys. */
    public get size(): number {
        return this.sortedKeys.length;
    }

    public get(key: string): Promise<VersionedValue | undefined> {
        return Promise.resolve(this.values.get(key));
    }

    // eslint-disable-next-line @typescript-eslint/require-await -- in memory there is nothing to wait for
    public async *range(startKey: string, endKey: string): AsyncGenerator<VersionedKV, void, undefined> {
        yield* this.scan(startKey, endKey);
    }

    /** {@link get}, synchronously. */
    public lookup(key: string): VersionedValue | undefined {
        return this.values.get(key);
    }

    /** {@link range}, synchronously. */
    public *scan(startKey: string, endKey: string): Generator<VersionedKV, void, undefined> {
        for (let i = lowerBound(this.sortedKeys, startKey); i < this.sortedKeys.length; i++) {
            const key = defined(this.sortedKeys[i]);
            if (endKey !== '' && compareKeys(key, endKey) >= 0) {
                return;
            }
            const entry = defined(this.values.get(key));
            yield { key, value: entry.value, version: entry.version };
        }
    }

    /** All keys in order. */
    public keys(): readonly string[] {
        return this.sortedKeys;
    }

    /** Applies a validated block's updates. */
    public apply(batch: UpdateBatch): void {
        for (const update of batch.all()) {
            const index = lowerBound(this.sortedKeys, update.key);
            const present = this.sortedKeys[index] === update.key;
            if (update.value === undefined) {
                if (present) {
                    this.sortedKeys.splice(index, 1);
                    this.values.delete(update.key);
                }
            } else {
                if (!present) {
                    this.sortedKeys.splice(index, 0, update.key);
                }
                this.values.set(update.key, { value: update.value, version: update.version, ...(update.metadata === undefined ? {} : { metadata: update.metadata }) });
            }
        }
    }
}
