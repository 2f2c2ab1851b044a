// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet peer's ledger: world state per chaincode namespace, key history and transaction index, kept durably in
 * {@link LedgerDb} and consistent with the block file, which stays the source of truth.
 *
 * A block commits in two steps: {@link DurableLedger.validate} computes its validation codes and updates (the block
 * is then built with those codes and appended, fsynced, to the block file), {@link DurableLedger.commit} writes the
 * updates, history, transaction ids, block location and savepoint in one atomic batch. A crash between the two leaves
 * the indexes one block behind the file; the next open reads only the blocks after the savepoint and commits them
 * again ({@link openLedger}).
 *
 * State is read from LevelDB when asked for, never loaded whole, so opening costs the same at any height and any
 * number of live keys. A bounded cache keeps the entries read or written lately (a block's writes go into it once
 * they are durable, so simulations of transactions on fresh keys and commits that follow them rarely reach the disk).
 * Committed state changes only in {@link DurableLedger.commit}, under the peer's commit lock. Validation runs in the
 * committer, between commits; a simulation that a commit overlapped is run again (`StateLock.optimistic`), so no
 * outcome rests on reads of two states.
 */
import path from 'node:path';
import { BlockFileMismatchError, BlockStore, type OpenedStore } from './blockStore';
import { compareKeys } from './keys';
import { keysLookedUp, NamespacedUpdates, validateBlock, type NamespacedStateReader, type OrderedTransaction, type TxValidationCode } from './ledger';
import type { PrivateDataValidation } from './privateLedger';
import { LedgerDb, type BlockLocation, type BlockIndexUpdate, type IndexedTx, type KeyModification, type Savepoint, type StateReadCounts } from './ledgerDb';
import type { PendingUpdate, StateReader, UpdateBatch, VersionedKV, VersionedValue } from './worldState';
import { defined } from './defined';

/** A block's validation outcome, to be committed once the block is in the block file. */
export interface ValidatedBlock {
    readonly blockNumber: number;
    readonly transactions: readonly OrderedTransaction[];
    readonly codes: readonly TxValidationCode[];
    readonly updates: NamespacedUpdates;
    /**
     * The block's transaction ids the transaction index held when it was validated. Only a block's commit adds to the
     * index and blocks commit one after the other, so it still holds exactly these when the block commits.
     */
    readonly indexedTxIds: ReadonlySet<string>;
}

/** A block to validate: its ordered transactions, with what validating their private data needs. */
export interface BlockToValidate {
    readonly transactions: readonly OrderedTransaction[];
    readonly privateData?: PrivateDataValidation;
}

/** Where the validated block went and with which final codes (the block's TRANSACTIONS_FILTER). */
export interface AppendedBlock {
    readonly location: BlockLocation;
    readonly headerHash: Buffer;
    /** peer.TxValidationCode numbers, one per transaction. */
    readonly codes: readonly number[];
}

/** Bounds of the state cache. */
export interface StateCacheOptions {
    /** Most entries kept (default 100,000). */
    readonly entries?: number;
    /** Most bytes of keys and values kept, roughly (default 64 MiB). */
    readonly bytes?: number;
}

/** What the state cache holds and how state was read (for tests and benchmarks). */
export interface StateCacheStats extends StateReadCounts {
    readonly cachedEntries: number;
    readonly cachedBytes: number;
}

/** A cached lookup: the entry, or `null` for a key known to be absent. */
type Cached = VersionedValue | null;

/** Bytes an entry is charged in the cache: its key (UTF-16 in memory), value and metadata, plus bookkeeping. */
function cost(id: string, entry: Cached): number {
    let bytes = 64 + id.length * 2;
    if (entry !== null) {
        bytes += entry.value.length;
        for (const [name, value] of entry.metadata ?? []) {
            bytes += name.length * 2 + value.length;
        }
    }
    return bytes;
}

/** A least-recently-used map of state lookups, bounded in entries and bytes. Keys are namespace NUL key. */
class StateCache {
    private readonly entries = new Map<string, Cached>();
    private bytes = 0;

    public constructor(
        private readonly maxEntries: number,
        private readonly maxBytes: number,
    ) {}

    public get size(): number {
        return this.entries.size;
    }

    public get byteSize(): number {
        return this.bytes;
    }

    /** The cached lookup of `id` (undefined if not cached), now the most recently used. */
    public get(id: string): Cached | undefined {
        const entry = this.entries.get(id);
        if (entry !== undefined) {
            this.entries.delete(id);
            this.entries.set(id, entry);
        }
        return entry;
    }

    public set(id: string, entry: Cached): void {
        this.delete(id);
        const charged = cost(id, entry);
        if (charged > this.maxBytes) {
            return;
        }
        this.entries.set(id, entry);
        this.bytes += charged;
        if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) {
            return;
        }
        for (const [oldest, evicted] of this.entries) {
            this.entries.delete(oldest);
            this.bytes -= cost(oldest, evicted);
            if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) {
                return;
            }
        }
    }

    public clear(): void {
        this.entries.clear();
        this.bytes = 0;
    }

    private delete(id: string): void {
        const entry = this.entries.get(id);
        if (entry !== undefined) {
            this.entries.delete(id);
            this.bytes -= cost(id, entry);
        }
    }
}

function cacheId(namespace: string, key: string): string {
    return `${namespace}\u0000${key}`;
}

/** The committed state of one namespace, read from the ledger's cache and database. */
class NamespaceState implements StateReader {
    public constructor(
        private readonly ledger: DurableLedger,
        private readonly namespace: string,
    ) {}

    public get(key: string): Promise<VersionedValue | undefined> {
        return this.ledger.read(this.namespace, key);
    }

    public range(startKey: string, endKey: string): AsyncGenerator<VersionedKV, void, undefined> {
        return this.ledger.scan(this.namespace, startKey, endKey);
    }
}

/** A state reader that answers from entries fetched beforehand, else from `state`. */
class PrefetchedState implements StateReader {
    public constructor(
        private readonly state: StateReader,
        private readonly fetched: ReadonlyMap<string, VersionedValue | undefined>,
    ) {}

    public get(key: string): Promise<VersionedValue | undefined> {
        return this.fetched.has(key) ? Promise.resolve(this.fetched.get(key)) : this.state.get(key);
    }

    public range(startKey: string, endKey: string): AsyncGenerator<VersionedKV, void, undefined> {
        return this.state.range(startKey, endKey);
    }
}

/** What a pending update leaves of its key: its entry, or undefined for a delete. */
function entryOf(update: PendingUpdate): VersionedValue | undefined {
    return update.value === undefined ? undefined : { value: update.value, version: update.version, ...(update.metadata === undefined ? {} : { metadata: update.metadata }) };
}

/**
 * A namespace's state as it will be once the blocks validated before (and not yet committed) are: their updates over
 * `state`, for point reads and range scans alike.
 */
class PendingState implements StateReader {
    public constructor(
        private readonly state: StateReader,
        private readonly pending: UpdateBatch,
    ) {}

    public get(key: string): Promise<VersionedValue | undefined> {
        const update = this.pending.get(key);
        return update === undefined ? this.state.get(key) : Promise.resolve(entryOf(update));
    }

    public async* range(startKey: string, endKey: string): AsyncGenerator<VersionedKV, void, undefined> {
        const pending = this.pending.range(startKey, endKey);
        const committed = this.state.range(startKey, endKey);
        try {
            let next = await committed.next();
            let p = 0;
            for (;;) {
                const entry = next.done === true ? undefined : next.value;
                const update = pending[p];
                if (entry !== undefined && (update === undefined || compareKeys(entry.key, update.key) < 0)) {
                    yield entry;
                    next = await committed.next();
                    continue;
                }
                if (update === undefined) {
                    return;
                }
                if (entry !== undefined && entry.key === update.key) {
                    next = await committed.next();
                }
                p++;
                const updated = entryOf(update);
                if (updated !== undefined) {
                    yield { key: update.key, ...updated };
                }
            }
        } finally {
            await committed.return(undefined);
        }
    }
}

/** The committed state of every namespace, durable, plus the history and transaction indexes. */
export class DurableLedger implements NamespacedStateReader {
    private readonly states = new Map<string, NamespaceState>();
    private readonly cache: StateCache;
    /** Point reads under way, so that concurrent simulations reading one key (each org's peer) share one. */
    private readonly reading = new Map<string, Promise<VersionedValue | undefined>>();
    /** Bumped whenever committed state changes: a read begun before does not fill the cache. */
    private epoch = 0;

    private constructor(
        private readonly db: LedgerDb,
        private last: Savepoint | undefined,
        cache: StateCacheOptions,
    ) {
        this.cache = new StateCache(cache.entries ?? 100_000, cache.bytes ?? 64 * 1024 * 1024);
    }

    /** Opens the indexes in directory `location`; no state is read until asked for. */
    public static async open(location: string, cache: StateCacheOptions = {}): Promise<DurableLedger> {
        const db = await LedgerDb.open(location);
        try {
            return new DurableLedger(db, await db.savepoint(), cache);
        } catch (error) {
            await db.close();
            throw error;
        }
    }

    /** The committed state of `namespace`; each chaincode has its own, as on a peer. */
    public stateOf(namespace: string): StateReader {
        let state = this.states.get(namespace);
        if (state === undefined) {
            state = new NamespaceState(this, namespace);
            this.states.set(namespace, state);
        }
        return state;
    }

    /** The committed entry of `key` in `namespace`, from the cache or the database. */
    public read(namespace: string, key: string): Promise<VersionedValue | undefined> {
        const id = cacheId(namespace, key);
        const cached = this.cache.get(id);
        if (cached !== undefined) {
            return Promise.resolve(cached ?? undefined);
        }
        const under = this.reading.get(id);
        if (under !== undefined) {
            return under;
        }
        const epoch = this.epoch;
        const reading = this.db.get(namespace, key).finally(() => {
            if (this.reading.get(id) === reading) {
                this.reading.delete(id);
            }
        });
        this.reading.set(id, reading);
        return reading.then((entry) => {
            if (this.epoch === epoch) {
                this.cache.set(id, entry ?? null);
            }
            return entry;
        });
    }

    /** The committed entries of `namespace` in [startKey, endKey), in key order, from the database. */
    public scan(namespace: string, startKey: string, endKey: string): AsyncGenerator<VersionedKV, void, undefined> {
        return this.db.range(namespace, startKey, endKey);
    }

    /** What the state cache holds and how many state entries were read from the database. */
    public get stateStats(): StateCacheStats {
        return { ...this.db.stateReads, cachedEntries: this.cache.size, cachedBytes: this.cache.byteSize };
    }

    /** The last committed block, undefined before block 0. */
    public get savepoint(): Savepoint | undefined {
        return this.last;
    }

    /** Number of the next block to commit. */
    public get height(): number {
        return this.last === undefined ? 0 : this.last.blockNumber + 1;
    }

    /**
     * Validates the next block's transactions against committed state and the transaction index (and their private
     * data's hashed reads with `privateData`).
     */
    public async validate(transactions: readonly OrderedTransaction[], privateData?: PrivateDataValidation): Promise<ValidatedBlock> {
        return defined((await this.validateBlocks([{ transactions, ...(privateData === undefined ? {} : { privateData }) }]))[0]);
    }

    /**
     * Validates the next blocks, in order, each against committed state updated by the blocks before it (which commit
     * first, one after the other): the group's state and transaction ids are looked up in one go. A block's private
     * data is validated against committed private state only, so blocks that touch private data are validated alone.
     */
    public async validateBlocks(blocks: readonly BlockToValidate[]): Promise<ValidatedBlock[]> {
        const all = blocks.flatMap((block) => block.transactions);
        const txIds = [...new Set(all.map((tx) => tx.txId).filter((txId) => txId !== ''))];
        const [indexed, prefetched] = await Promise.all([this.db.txs(txIds), this.prefetch(all)]);
        const committed = new Set(txIds.filter((_, i) => indexed[i] !== undefined));
        const pending = new NamespacedUpdates();
        const state: NamespacedStateReader = blocks.length === 1 ? prefetched : { stateOf: (namespace) => new PendingState(prefetched.stateOf(namespace), pending.of(namespace)) };
        const validated: ValidatedBlock[] = [];
        for (const [i, { transactions, privateData }] of blocks.entries()) {
            const blockNumber = this.height + i;
            const indexedTxIds = new Set(committed);
            const { codes, updates } = await validateBlock(state, blockNumber, transactions, (txId) => indexedTxIds.has(txId), privateData);
            validated.push({ blockNumber, transactions, codes, updates, indexedTxIds });
            // The index will hold every transaction id of the block, valid or not.
            for (const tx of transactions) {
                if (tx.txId !== '') {
                    committed.add(tx.txId);
                }
            }
            for (const [namespace, batch] of updates.entries()) {
                for (const update of batch.all()) {
                    pending.of(namespace).put(update.key, update.value, update.version, update.metadata);
                }
            }
        }
        return validated;
    }

    /** The state validation will look up key by key, the entries not in the cache read in one request per namespace. */
    private async prefetch(transactions: readonly OrderedTransaction[]): Promise<NamespacedStateReader> {
        const fetched = new Map<string, Map<string, VersionedValue | undefined>>();
        await Promise.all([...keysLookedUp(transactions)].map(async ([namespace, keys]) => {
            const entries = new Map<string, VersionedValue | undefined>();
            fetched.set(namespace, entries);
            const missing: string[] = [];
            for (const key of keys) {
                const cached = this.cache.get(cacheId(namespace, key));
                if (cached === undefined) {
                    missing.push(key);
                } else {
                    entries.set(key, cached ?? undefined);
                }
            }
            const values = await this.db.getMany(namespace, missing);
            missing.forEach((key, i) => {
                entries.set(key, values[i]);
            });
        }));
        const states = new Map([...fetched].map(([namespace, entries]) => [namespace, new PrefetchedState(this.stateOf(namespace), entries)]));
        return { stateOf: (namespace) => states.get(namespace) ?? this.stateOf(namespace) };
    }

    /** Persists a validated block that is now in the block file; the cache then holds its writes. */
    public async commit(validated: ValidatedBlock, appended: AppendedBlock): Promise<void> {
        if (validated.blockNumber !== this.height) {
            throw new Error(`block ${validated.blockNumber} cannot be committed at height ${this.height}`);
        }
        const alreadyIndexed = new Set(validated.indexedTxIds);
        const txs: BlockIndexUpdate['txs'][number][] = [];
        const history: BlockIndexUpdate['history'][number][] = [];
        validated.transactions.forEach((tx, txNum) => {
            if (tx.txId !== '' && !alreadyIndexed.has(tx.txId)) {
                // blockindex.go indexes every transaction id, valid or not; the first occurrence is kept.
                alreadyIndexed.add(tx.txId);
                txs.push({ txId: tx.txId, blockNumber: validated.blockNumber, txNum, code: defined(appended.codes[txNum]) });
            }
            if (validated.codes[txNum] !== 'VALID') {
                return;
            }
            for (const { namespace, rwset } of tx.rwsets) {
                for (const write of rwset.writes) {
                    const modification: KeyModification = {
                        txId: tx.txId,
                        value: write.isDelete ? Buffer.alloc(0) : Buffer.from(write.value),
                        timestamp: tx.timestamp ?? { seconds: 0, nanos: 0 },
                        isDelete: write.isDelete,
                        version: { blockNum: validated.blockNumber, txNum },
                    };
                    history.push({ namespace, key: write.key, modification });
                }
            }
        });
        const writes = [...validated.updates.entries()].flatMap(([namespace, batch]) =>
            [...batch.all()].map((update) => ({ namespace, key: update.key, value: update.value, version: update.version, ...(update.metadata === undefined ? {} : { metadata: update.metadata }) })));
        const savepoint: Savepoint = { blockNumber: validated.blockNumber, location: appended.location, headerHash: appended.headerHash };
        this.stateChanging();
        try {
            await this.db.commit({ savepoint, writes, history, txs });
        } catch (error) {
            // Whether the batch was written is unknown: nothing cached may be trusted.
            this.cache.clear();
            throw error;
        }
        for (const write of writes) {
            this.cache.set(cacheId(write.namespace, write.key), write.value === undefined ? null : { value: write.value, version: write.version, ...(write.metadata === undefined ? {} : { metadata: write.metadata }) });
        }
        this.stateChanging();
        this.last = savepoint;
    }

    /** Reads begun before this point must not fill the cache: they may have seen the state before the change. */
    private stateChanging(): void {
        this.epoch++;
        this.reading.clear();
    }

    /** The indexed outcome of a transaction id, undefined if never committed. */
    public async txStatus(txId: string): Promise<IndexedTx | undefined> {
        return (await this.db.txs([txId]))[0];
    }

    /** The modifications of `key` in `namespace` by valid transactions, newest first. */
    public history(namespace: string, key: string): Promise<KeyModification[]> {
        return this.db.history(namespace, key);
    }

    /** Where block `blockNumber` lies in the block file, undefined beyond the height. */
    public blockLocation(blockNumber: number): Promise<BlockLocation | undefined> {
        return this.db.blockLocation(blockNumber);
    }

    /** Forgets every index and all state (to rebuild them from the block file). */
    public async reset(): Promise<void> {
        this.stateChanging();
        this.cache.clear();
        await this.db.clear();
        this.last = undefined;
    }

    public close(): Promise<void> {
        return this.db.close();
    }
}

/** An opened channel ledger: the block file, the indexes, and the blocks the indexes do not hold yet. */
export interface OpenedLedger {
    readonly store: BlockStore;
    readonly ledger: DurableLedger;
    /** Blocks in the file after the savepoint, to commit again in order (all blocks when the indexes were rebuilt). */
    readonly pending: OpenedStore['blocks'];
    /** Where each of {@link pending} lies in the file. */
    readonly pendingLocations: OpenedStore['locations'];
    /** Whether the indexes did not match the block file and were dropped to be rebuilt from it. */
    readonly rebuilt: boolean;
    /** Bytes of torn tail cut off the block file. */
    readonly discardedBytes: number;
}

/**
 * Opens the block file `<dir>/<channel>.blocks` (compressing new blocks with `dictionary`, see {@link BlockStore})
 * and the indexes `<dir>/<channel>.db` (with a state cache bounded by `cache`). Indexes that name a block the file does
 * not hold (the file was truncated or replaced) are dropped and rebuilt from the file.
 */
export async function openLedger(dir: string, channel: string, dictionary?: Uint8Array, cache: StateCacheOptions = {}): Promise<OpenedLedger> {
    const file = path.join(dir, `${channel}.blocks`);
    const ledger = await DurableLedger.open(path.join(dir, `${channel}.db`), cache);
    try {
        try {
            const opened = BlockStore.open(file, { ...(ledger.savepoint === undefined ? {} : { after: ledger.savepoint }), ...(dictionary === undefined ? {} : { dictionary }) });
            return { store: opened.store, ledger, pending: opened.blocks, pendingLocations: opened.locations, rebuilt: false, discardedBytes: opened.discardedBytes };
        } catch (error) {
            if (!(error instanceof BlockFileMismatchError)) {
                throw error;
            }
            await ledger.reset();
            const opened = BlockStore.open(file, dictionary === undefined ? {} : { dictionary });
            return { store: opened.store, ledger, pending: opened.blocks, pendingLocations: opened.locations, rebuilt: true, discardedBytes: opened.discardedBytes };
        }
    } catch (error) {
        await ledger.close();
        throw error;
    }
}
