// SPDX-License-Identifier: Apache-2.0
/**
 * The peers' private data, durable in a LevelDB of its own beside the ledger indexes (`<channel>.pvt.db`), as a Fabric
 * peer keeps the hashed and private state in its state database and the private write sets in its pvtdata store:
 * - the hashed state every peer holds (key hash → value hash, version), what GetPrivateDataHash and MVCC read;
 * - each org's private state (plaintext), written only for the collections that org's peers are members of;
 * - the private write sets of each committed block (what DeliverWithPrivateData serves), per transaction;
 * - the block-to-live bookkeeping: which keys and write sets expire at which block;
 * - the transient store: endorsed private write sets waiting for their transaction's commit.
 *
 * Key layout (one byte tag, then the fields; namespace, collection and MSP names never contain a NUL):
 * - `H` namespace NUL collection NUL keyHash → u64 block ‖ u64 tx ‖ value hash, with the key's metadata (its key-level
 *   endorsement policy) as the ledger's state values carry it (ledgerDb.ts `encodeVersioned`)
 * - `V` mspId NUL namespace NUL collection NUL key → u64 block ‖ u64 tx ‖ value
 * - `W` u64 block ‖ u64 tx → the transaction's private write sets (rwset.TxPvtReadWriteSet)
 * - `L` namespace NUL collection NUL keyHash ‖ u64 block ‖ u64 tx → '' (a stored write set holds a write of the key: what
 *   a purge of the key removes from the stored write sets)
 * - `E` u64 expiring block ‖ u64 committing block ‖ namespace NUL collection NUL keyHash → key
 * - `F` u64 expiring block ‖ u64 block ‖ u64 tx ‖ namespace NUL collection → '' (a write set's collection expires)
 * - `X` txId → the endorsed TxPvtReadWriteSet (transient store)
 * - `Y` u64 ledger height at endorsement ‖ txId → '' (to drop transient entries no block ever committed)
 * - `C` namespace → the chaincode's collections configuration (JSON), as its definition on the channel carries it
 * - `P` → u64 last committed block
 * - `Q` → u32 layout version (2: `L` entries exist for every stored write set; opening a store without it adds them)
 */
import { ClassicLevel } from 'classic-level';
import { decodeVersioned, encodeVersioned, readU64, u64 } from './ledgerDb';
import { decodeTxPvtRwset, sha256 } from './privateRwset';
import type { Version } from './worldState';

/** A committed hashed key (what every peer holds). */
export interface HashedEntry {
    readonly valueHash: Buffer;
    readonly version: Version;
    /** The key's metadata (e.g. `VALIDATION_PARAMETER`), if any. */
    readonly metadata?: ReadonlyMap<string, Buffer>;
}

/** A committed private value (what a member peer holds). */
export interface PrivateEntry {
    readonly key: string;
    readonly value: Buffer;
    readonly version: Version;
}

/** A scheduled expiry of a key (block-to-live). */
export interface KeyExpiry {
    readonly namespace: string;
    readonly collection: string;
    readonly keyHash: Buffer;
    readonly key: string;
    /** The block that committed the expiring version. */
    readonly committingBlock: number;
}

/** A scheduled expiry of one collection of a committed write set. */
export interface WriteSetExpiry {
    readonly block: number;
    readonly txNum: number;
    readonly namespace: string;
    readonly collection: string;
}

/** A stored write set holding a write of a key (hashed). */
export interface KeyLocation {
    readonly namespace: string;
    readonly collection: string;
    readonly keyHash: Buffer;
    readonly block: number;
    readonly txNum: number;
}

/** Everything one block changes in the private data store. */
export interface PrivateBlockUpdate {
    readonly blockNumber: number;
    /** Hashed state updates; `valueHash` undefined deletes. */
    readonly hashed: readonly { readonly namespace: string; readonly collection: string; readonly keyHash: Buffer; readonly valueHash: Buffer | undefined; readonly version: Version; readonly metadata?: ReadonlyMap<string, Buffer> }[];
    /** Private state updates of member orgs; `value` undefined deletes. */
    readonly private: readonly { readonly mspId: string; readonly namespace: string; readonly collection: string; readonly key: string; readonly value: Buffer | undefined; readonly version: Version }[];
    /** Write sets to keep (undefined: delete the stored one). */
    readonly writeSets: readonly { readonly block: number; readonly txNum: number; readonly bytes: Uint8Array | undefined }[];
    readonly keyExpiries: readonly (KeyExpiry & { readonly expiringBlock: number })[];
    readonly writeSetExpiries: readonly (WriteSetExpiry & { readonly expiringBlock: number })[];
    /** Writes of keys in stored write sets, recorded (for a later purge) and forgotten (purged or expired). */
    readonly keyLocations: readonly KeyLocation[];
    readonly droppedKeyLocations: readonly KeyLocation[];
    /** Transient entries the block's transactions consumed. */
    readonly consumedTransient: readonly string[];
    /** Transient entries endorsed below this ledger height are dropped (their transactions never committed). */
    readonly transientRetainedFrom: number;
}

const HASHED = 0x48;
const PRIVATE = 0x56;
const WRITE_SET = 0x57;
const KEY_EXPIRY = 0x45;
const SET_EXPIRY = 0x46;
const TRANSIENT = 0x58;
const COLLECTIONS = 0x43;
const TRANSIENT_AGE = 0x59;
const KEY_LOCATION = 0x4c;
const LAYOUT = Buffer.from('Q');
const LAYOUT_VERSION = 2;
const SAVEPOINT = Buffer.from('P');
const NUL = Buffer.from([0]);

function text(value: string): Buffer {
    return Buffer.from(value, 'utf8');
}

function hashedKey(namespace: string, collection: string, keyHash: Buffer): Buffer {
    return Buffer.concat([Buffer.from([HASHED]), text(namespace), NUL, text(collection), NUL, keyHash]);
}

function privatePrefix(mspId: string, namespace: string, collection: string): Buffer {
    return Buffer.concat([Buffer.from([PRIVATE]), text(mspId), NUL, text(namespace), NUL, text(collection), NUL]);
}

function keyLocationPrefix(namespace: string, collection: string, keyHash: Buffer): Buffer {
    return Buffer.concat([Buffer.from([KEY_LOCATION]), text(namespace), NUL, text(collection), NUL, keyHash]);
}

function keyLocationKey(location: KeyLocation): Buffer {
    return Buffer.concat([keyLocationPrefix(location.namespace, location.collection, location.keyHash), u64(location.block), u64(location.txNum)]);
}

function writeSetKey(block: number, txNum: number): Buffer {
    return Buffer.concat([Buffer.from([WRITE_SET]), u64(block), u64(txNum)]);
}

function versioned(version: Version, value: Buffer): Buffer {
    return Buffer.concat([u64(version.blockNum), u64(version.txNum), value]);
}

function versionOf(bytes: Buffer): Version {
    return { blockNum: readU64(bytes, 0), txNum: readU64(bytes, 8) };
}

/** The end (exclusive) of the keys starting with `prefix`. */
function prefixEnd(prefix: Buffer): Buffer {
    const end = Buffer.from(prefix);
    for (let i = end.length - 1; i >= 0; i--) {
        if (end[i] !== 0xff) {
            end[i] = (end[i] ?? 0) + 1;
            return end.subarray(0, i + 1);
        }
    }
    return Buffer.from([0xff]);
}

/** The private data of a channel's peers. */
export class PrivateDataStore {
    private constructor(
        private readonly db: ClassicLevel<Buffer, Buffer>,
        private last: number | undefined,
        /**
         * Whether any key or write set may be scheduled to expire (block-to-live): until one is, a block's expiry
         * look-ups are known to find nothing and are not made.
         */
        private expiriesScheduled: boolean,
    ) {}

    /** Opens (creating if needed) the store in directory `location`. */
    public static async open(location: string): Promise<PrivateDataStore> {
        const db = new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
        await db.open();
        try {
            await PrivateDataStore.upgrade(db);
        } catch (error) {
            await db.close();
            throw error;
        }
        const savepoint = await db.get(SAVEPOINT);
        const [keyExpiry, setExpiry] = await Promise.all([KEY_EXPIRY, SET_EXPIRY].map((tag) => db.keys({ gte: Buffer.from([tag]), lt: Buffer.from([tag + 1]), limit: 1 }).all()));
        const expiriesScheduled = (keyExpiry?.length ?? 0) + (setExpiry?.length ?? 0) > 0;
        return new PrivateDataStore(db, savepoint === undefined ? undefined : readU64(savepoint, 0), expiriesScheduled);
    }

    /** A store written before layout 2 gets the `L` entries of the write sets it holds, in one atomic batch. */
    private static async upgrade(db: ClassicLevel<Buffer, Buffer>): Promise<void> {
        const layout = await db.get(LAYOUT);
        if (layout !== undefined && layout.readUInt32BE(0) >= LAYOUT_VERSION) {
            return;
        }
        const batch = db.batch();
        for await (const [rawKey, bytes] of db.iterator({ gte: Buffer.from([WRITE_SET]), lt: Buffer.from([WRITE_SET + 1]) })) {
            const block = readU64(rawKey, 1);
            const txNum = readU64(rawKey, 9);
            for (const { namespace, collection, writes } of decodeTxPvtRwset(bytes)) {
                for (const { key } of writes) {
                    batch.put(keyLocationKey({ namespace, collection, keyHash: sha256(key), block, txNum }), Buffer.alloc(0));
                }
            }
        }
        const version = Buffer.alloc(4);
        version.writeUInt32BE(LAYOUT_VERSION);
        await batch.put(LAYOUT, version).write();
    }

    /** The last block whose private data the store holds, undefined if none. */
    public get savepoint(): number | undefined {
        return this.last;
    }

    /** The committed hashes of the given keys. */
    public async hashed(keys: readonly { readonly namespace: string; readonly collection: string; readonly keyHash: Buffer }[]): Promise<(HashedEntry | undefined)[]> {
        if (keys.length === 0) {
            return [];
        }
        const values = await this.db.getMany(keys.map((k) => hashedKey(k.namespace, k.collection, k.keyHash)));
        return values.map((bytes) => {
            if (bytes === undefined) {
                return undefined;
            }
            const { version, value, metadata } = decodeVersioned(bytes);
            return { version, valueHash: Buffer.from(value), ...(metadata === undefined ? {} : { metadata }) };
        });
    }

    /** `mspId`'s peer's committed private value of `key`, if it holds one. */
    public async private(mspId: string, namespace: string, collection: string, key: string): Promise<PrivateEntry | undefined> {
        const bytes = await this.db.get(Buffer.concat([privatePrefix(mspId, namespace, collection), text(key)]));
        return bytes === undefined ? undefined : { key, version: versionOf(bytes), value: Buffer.from(bytes.subarray(16)) };
    }

    /** `mspId`'s peer's committed private values with keys in [startKey, endKey) ('' = unbounded), in key order. */
    public async privateRange(mspId: string, namespace: string, collection: string, startKey: string, endKey: string, limit: number): Promise<PrivateEntry[]> {
        const prefix = privatePrefix(mspId, namespace, collection);
        const entries = await this.db.iterator({
            gte: Buffer.concat([prefix, text(startKey)]),
            lt: endKey === '' ? prefixEnd(prefix) : Buffer.concat([prefix, text(endKey)]),
            limit,
        }).all();
        return entries.map(([rawKey, bytes]) => ({ key: rawKey.subarray(prefix.length).toString('utf8'), version: versionOf(bytes), value: Buffer.from(bytes.subarray(16)) }));
    }

    /** The private write sets committed in block `block`, by transaction number. */
    public async writeSets(block: number): Promise<Map<number, Uint8Array>> {
        const prefix = Buffer.concat([Buffer.from([WRITE_SET]), u64(block)]);
        const entries = await this.db.iterator({ gte: prefix, lt: prefixEnd(prefix) }).all();
        return new Map(entries.map(([rawKey, bytes]) => [readU64(rawKey, 9), bytes]));
    }

    /** One stored write set. */
    public async writeSet(block: number, txNum: number): Promise<Uint8Array | undefined> {
        return this.db.get(writeSetKey(block, txNum));
    }

    /** The stored write sets holding a write of the key (namespace, collection, key hash), in block order. */
    public async keyLocations(namespace: string, collection: string, keyHash: Buffer): Promise<KeyLocation[]> {
        const prefix = keyLocationPrefix(namespace, collection, keyHash);
        const keys = await this.db.keys({ gte: prefix, lt: prefixEnd(prefix) }).all();
        return keys.map((key) => ({ namespace, collection, keyHash, block: readU64(key, prefix.length), txNum: readU64(key, prefix.length + 8) }));
    }

    /** The keys and write sets that expire when block `block` commits. */
    public async expiringAt(block: number): Promise<{ readonly keys: KeyExpiry[]; readonly writeSets: WriteSetExpiry[] }> {
        if (!this.expiriesScheduled) {
            return { keys: [], writeSets: [] };
        }
        const keyPrefix = Buffer.concat([Buffer.from([KEY_EXPIRY]), u64(block)]);
        const setPrefix = Buffer.concat([Buffer.from([SET_EXPIRY]), u64(block)]);
        const [keyEntries, setEntries] = await Promise.all([
            this.db.iterator({ gte: keyPrefix, lt: prefixEnd(keyPrefix) }).all(),
            this.db.iterator({ gte: setPrefix, lt: prefixEnd(setPrefix) }).all(),
        ]);
        const keys = keyEntries.map(([rawKey, rawValue]): KeyExpiry => {
            const names = rawKey.subarray(17);
            const first = names.indexOf(0);
            const second = names.indexOf(0, first + 1);
            return {
                committingBlock: readU64(rawKey, 9),
                namespace: names.subarray(0, first).toString('utf8'),
                collection: names.subarray(first + 1, second).toString('utf8'),
                keyHash: Buffer.from(names.subarray(second + 1)),
                key: rawValue.toString('utf8'),
            };
        });
        const writeSets = setEntries.map(([rawKey]): WriteSetExpiry => {
            const names = rawKey.subarray(25);
            const separator = names.indexOf(0);
            return { block: readU64(rawKey, 9), txNum: readU64(rawKey, 17), namespace: names.subarray(0, separator).toString('utf8'), collection: names.subarray(separator + 1).toString('utf8') };
        });
        return { keys, writeSets };
    }

    /** Every chaincode's collections configuration (JSON), by namespace. */
    public async collectionConfigs(): Promise<Map<string, string>> {
        const entries = await this.db.iterator({ gte: Buffer.from([COLLECTIONS]), lt: Buffer.from([COLLECTIONS + 1]) }).all();
        return new Map(entries.map(([rawKey, value]) => [rawKey.subarray(1).toString('utf8'), value.toString('utf8')]));
    }

    /** Records chaincode `namespace`'s collections configuration. */
    public async putCollectionConfig(namespace: string, config: string): Promise<void> {
        await this.db.put(Buffer.concat([Buffer.from([COLLECTIONS]), text(namespace)]), text(config));
    }

    /** Keeps an endorsed transaction's private write sets until its block commits (the transient store). */
    public async putTransient(txId: string, bytes: Uint8Array, height: number): Promise<void> {
        await this.db.batch()
            .put(Buffer.concat([Buffer.from([TRANSIENT]), text(txId)]), Buffer.from(bytes))
            .put(Buffer.concat([Buffer.from([TRANSIENT_AGE]), u64(height), text(txId)]), Buffer.alloc(0))
            .write();
    }

    /** The transient private write sets of each of `txIds`. */
    public async transient(txIds: readonly string[]): Promise<(Uint8Array | undefined)[]> {
        if (txIds.length === 0) {
            return [];
        }
        return this.db.getMany(txIds.map((txId) => Buffer.concat([Buffer.from([TRANSIENT]), text(txId)])));
    }

    /** Writes one block's private data changes and the savepoint atomically. */
    public async commit(update: PrivateBlockUpdate): Promise<void> {
        const batch = this.db.batch();
        for (const h of update.hashed) {
            const key = hashedKey(h.namespace, h.collection, h.keyHash);
            if (h.valueHash === undefined) {
                batch.del(key);
            } else {
                batch.put(key, encodeVersioned(h.valueHash, h.version, h.metadata));
            }
        }
        for (const p of update.private) {
            const key = Buffer.concat([privatePrefix(p.mspId, p.namespace, p.collection), text(p.key)]);
            if (p.value === undefined) {
                batch.del(key);
            } else {
                batch.put(key, versioned(p.version, p.value));
            }
        }
        for (const w of update.writeSets) {
            if (w.bytes === undefined) {
                batch.del(writeSetKey(w.block, w.txNum));
            } else {
                batch.put(writeSetKey(w.block, w.txNum), Buffer.from(w.bytes));
            }
        }
        for (const location of update.droppedKeyLocations) {
            batch.del(keyLocationKey(location));
        }
        update.keyLocations.forEach((location) => batch.put(keyLocationKey(location), Buffer.alloc(0)));
        for (const e of update.keyExpiries) {
            batch.put(Buffer.concat([Buffer.from([KEY_EXPIRY]), u64(e.expiringBlock), u64(e.committingBlock), text(e.namespace), NUL, text(e.collection), NUL, e.keyHash]), text(e.key));
        }
        for (const e of update.writeSetExpiries) {
            batch.put(Buffer.concat([Buffer.from([SET_EXPIRY]), u64(e.expiringBlock), u64(e.block), u64(e.txNum), text(e.namespace), NUL, text(e.collection)]), Buffer.alloc(0));
        }
        await this.dropExpiryBookkeeping(batch, update.blockNumber);
        for (const txId of update.consumedTransient) {
            batch.del(Buffer.concat([Buffer.from([TRANSIENT]), text(txId)]));
        }
        if (update.transientRetainedFrom > 0) {
            for (const key of await this.db.keys({ gte: Buffer.from([TRANSIENT_AGE]), lt: Buffer.concat([Buffer.from([TRANSIENT_AGE]), u64(update.transientRetainedFrom)]) }).all()) {
                batch.del(key);
                batch.del(Buffer.concat([Buffer.from([TRANSIENT]), key.subarray(9)]));
            }
        }
        batch.put(SAVEPOINT, u64(update.blockNumber));
        // Scheduled before the batch is written: a look-up made meanwhile reads the store, as it did before.
        this.expiriesScheduled ||= update.keyExpiries.length + update.writeSetExpiries.length > 0;
        await batch.write();
        this.last = update.blockNumber;
    }

    /** Deletes in `batch` the bookkeeping of what expires at `blockNumber`, which that block's commit is done with. */
    private async dropExpiryBookkeeping(batch: ReturnType<ClassicLevel<Buffer, Buffer>['batch']>, blockNumber: number): Promise<void> {
        if (!this.expiriesScheduled) {
            return;
        }
        for (const tag of [KEY_EXPIRY, SET_EXPIRY]) {
            const prefix = Buffer.concat([Buffer.from([tag]), u64(blockNumber)]);
            for (const key of await this.db.keys({ gte: prefix, lt: prefixEnd(prefix) }).all()) {
                batch.del(key);
            }
        }
    }

    /** Forgets everything (the ledger is being rebuilt from its block file). */
    public async clear(): Promise<void> {
        await this.db.clear();
        this.last = undefined;
        this.expiriesScheduled = false;
    }

    public async close(): Promise<void> {
        await this.db.close();
    }
}
