// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet's durable ledger indexes in one LevelDB (as a Fabric peer keeps its state, history and block indexes
 * in LevelDB): every namespace's world state, the key history, the transaction id index and the block locations in
 * the block file, plus the savepoint — the last block whose effects they hold. Everything one block changes is
 * written in a single atomic batch together with the new savepoint, so after a crash the indexes are exactly as of
 * some block; the block file (fsynced before the batch is written) is never behind them.
 *
 * State is read from here on demand (a point read, or an iterator over a key range in key order — the UTF-8 byte order
 * of keys is LevelDB's order), never loaded whole: opening costs the same whatever the number of keys.
 *
 * Key layout (one byte tag, then the fields; namespace names never contain a NUL, state keys may):
 * - `S` namespace NUL key → version (u64 block, u64 tx whose top bit says metadata follows) ‖ [u32 length ‖ the key's
 *   metadata, a serialized kvrwset.KVMetadataWrite] ‖ value
 * - `H` namespace NUL key NUL u64 block ‖ u64 tx → history entry (isDelete, timestamp, txId, value)
 * - `T` txId → u64 block ‖ u64 tx ‖ u8 validation code
 * - `B` u64 block → u64 frame offset ‖ u32 frame length in the block file
 * - `P` → savepoint: u64 block ‖ u64 block file end ‖ 32-byte header hash
 * - `F` → u32 layout version (2). Version 1 (no `F`) kept metadata apart, under `M` namespace NUL key; opening moves
 *   it into the state values.
 */
import { ledger } from '@hyperledger/fabric-protos';
import { ClassicLevel } from 'classic-level';
import type { Version, VersionedKV, VersionedValue } from './worldState';
import { defined } from './defined';

/** Where a block's frame lies in the block file. */
export interface BlockLocation {
    readonly offset: number;
    readonly length: number;
}

/** The last block whose effects the indexes hold. */
export interface Savepoint {
    readonly blockNumber: number;
    readonly location: BlockLocation;
    /** protoutil.BlockHeaderHash of that block. */
    readonly headerHash: Buffer;
}

/** One modification of a key by a valid transaction, as GetHistoryForKey returns it (queryresult.KeyModification). */
export interface KeyModification {
    readonly txId: string;
    readonly value: Buffer;
    /** The transaction's client timestamp (channel header), seconds and nanos. */
    readonly timestamp: { readonly seconds: number; readonly nanos: number };
    readonly isDelete: boolean;
    readonly version: Version;
}

/** The history database's query (historydb.HistoryQueryExecutor). */
export interface HistoryReader {
    /** The modifications of `key` in `namespace` by valid transactions, newest first. */
    history(namespace: string, key: string): Promise<readonly KeyModification[]>;
}

/** An indexed transaction's outcome. */
export interface IndexedTx {
    readonly blockNumber: number;
    readonly txNum: number;
    /** peer.TxValidationCode number. */
    readonly code: number;
}

/** A key update of one namespace: `value` undefined deletes. */
export interface StateWrite {
    readonly namespace: string;
    readonly key: string;
    readonly value: Buffer | undefined;
    readonly version: Version;
    /** The key's metadata after the write (undefined: none). */
    readonly metadata?: ReadonlyMap<string, Buffer>;
}

/** Everything one committed block changes in the indexes. */
export interface BlockIndexUpdate {
    readonly savepoint: Savepoint;
    readonly writes: readonly StateWrite[];
    readonly history: readonly { readonly namespace: string; readonly key: string; readonly modification: KeyModification }[];
    /** The block's transaction ids (the first occurrence of an id is indexed, valid or not, as blockindex.go does). */
    readonly txs: readonly ({ readonly txId: string } & IndexedTx)[];
}

const STATE = 0x53;
/** Layout version 1's separate metadata entries. */
const METADATA = 0x4d;
const HISTORY = 0x48;
const TX = 0x54;
const BLOCK = 0x42;
const SAVEPOINT = Buffer.from('P');
const FORMAT = Buffer.from('F');
const LAYOUT_VERSION = 2;
/** The top bit of a state value's u64 transaction number: the key's metadata follows the version. */
const HAS_METADATA = 0x8000_0000;

/** A big-endian u64 key part, so that LevelDB's byte order is numeric order (shared with the private data store). */
export function u64(value: number): Buffer {
    const out = Buffer.alloc(8);
    out.writeBigUInt64BE(BigInt(value));
    return out;
}

export function readU64(buffer: Buffer, offset: number): number {
    return Number(buffer.readBigUInt64BE(offset));
}

function stateKey(namespace: string, key: string): Buffer {
    return Buffer.concat([Buffer.from([STATE]), Buffer.from(namespace, 'utf8'), Buffer.from([0]), Buffer.from(key, 'utf8')]);
}

function encodeMetadata(metadata: ReadonlyMap<string, Buffer>): Buffer {
    const write = new ledger.rwset.kvrwset.KVMetadataWrite();
    write.setEntriesList([...metadata].map(([name, value]) => {
        const entry = new ledger.rwset.kvrwset.KVMetadataEntry();
        entry.setName(name);
        entry.setValue(value);
        return entry;
    }));
    return Buffer.from(write.serializeBinary());
}

function decodeMetadata(bytes: Uint8Array): ReadonlyMap<string, Buffer> {
    const write = ledger.rwset.kvrwset.KVMetadataWrite.deserializeBinary(bytes);
    return new Map(write.getEntriesList().map((entry) => [entry.getName(), Buffer.from(entry.getValue_asU8())]));
}

function historyPrefix(namespace: string, key: string): Buffer {
    return Buffer.concat([Buffer.from([HISTORY]), Buffer.from(namespace, 'utf8'), Buffer.from([0]), Buffer.from(key, 'utf8'), Buffer.from([0])]);
}

function layoutVersion(): Buffer {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(LAYOUT_VERSION);
    return bytes;
}

function txKey(txId: string): Buffer {
    return Buffer.concat([Buffer.from([TX]), Buffer.from(txId, 'utf8')]);
}

function blockKey(blockNumber: number): Buffer {
    return Buffer.concat([Buffer.from([BLOCK]), u64(blockNumber)]);
}

/** The smallest key greater than every key starting with `prefix`. */
function prefixEnd(prefix: Buffer): Buffer {
    const end = Buffer.from(prefix);
    for (let i = end.length - 1; i >= 0; i--) {
        if (end[i] !== 0xff) {
            end[i] = (end[i] ?? 0) + 1;
            return end.subarray(0, i + 1);
        }
    }
    throw new Error('prefix has no upper bound');
}

export function encodeVersioned(value: Buffer, version: Version, metadata: ReadonlyMap<string, Buffer> | undefined): Buffer {
    const head = Buffer.concat([u64(version.blockNum), u64(version.txNum)]);
    if (metadata === undefined || metadata.size === 0) {
        return Buffer.concat([head, value]);
    }
    head.writeUInt32BE((head.readUInt32BE(8) | HAS_METADATA) >>> 0, 8);
    const encoded = encodeMetadata(metadata);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(encoded.length);
    return Buffer.concat([head, length, encoded, value]);
}

/** A stored state value: its version, value and (unless `withMetadata` is false) metadata (also the private data store's hashed entries). */
export function decodeVersioned(bytes: Buffer, withMetadata = true): VersionedValue {
    const blockNum = readU64(bytes, 0);
    const txHigh = bytes.readUInt32BE(8);
    const txNum = (txHigh & ~HAS_METADATA) * 2 ** 32 + bytes.readUInt32BE(12);
    if ((txHigh & HAS_METADATA) === 0) {
        return { version: { blockNum, txNum }, value: bytes.subarray(16) };
    }
    const end = 20 + bytes.readUInt32BE(16);
    return { version: { blockNum, txNum }, value: bytes.subarray(end), ...(withMetadata ? { metadata: decodeMetadata(bytes.subarray(20, end)) } : {}) };
}

/** The namespace's state keys in [startKey, endKey) as LevelDB bounds; an empty `endKey` means the namespace's end. */
function stateBounds(namespace: string, startKey: string, endKey: string): { readonly gte: Buffer; readonly lt: Buffer } {
    return { gte: stateKey(namespace, startKey), lt: endKey === '' ? prefixEnd(stateKey(namespace, '')) : stateKey(namespace, endKey) };
}

/** How many state entries were read from the database (point reads, found or not, and entries scanned). */
export interface StateReadCounts {
    readonly pointReads: number;
    readonly scannedEntries: number;
}

function encodeModification(m: KeyModification): Buffer {
    const txId = Buffer.from(m.txId, 'utf8');
    const head = Buffer.alloc(1 + 8 + 4 + 4);
    head.writeUInt8(m.isDelete ? 1 : 0, 0);
    head.writeBigInt64BE(BigInt(m.timestamp.seconds), 1);
    head.writeUInt32BE(m.timestamp.nanos, 9);
    head.writeUInt32BE(txId.length, 13);
    return Buffer.concat([head, txId, m.value]);
}

function decodeModification(bytes: Buffer, version: Version): KeyModification {
    const txIdLength = bytes.readUInt32BE(13);
    return {
        isDelete: bytes.readUInt8(0) === 1,
        timestamp: { seconds: Number(bytes.readBigInt64BE(1)), nanos: bytes.readUInt32BE(9) },
        txId: bytes.subarray(17, 17 + txIdLength).toString('utf8'),
        value: bytes.subarray(17 + txIdLength),
        version,
    };
}

/** The first and the largest batch of entries a state scan reads at a time: most range queries read a few keys. */
const FIRST_SCAN_BATCH = 16;
const LARGEST_SCAN_BATCH = 1024;

/** The ledger indexes of one channel. */
export class LedgerDb {
    private pointReads = 0;
    private scannedEntries = 0;

    private constructor(private readonly db: ClassicLevel<Buffer, Buffer>) {}

    /** Opens (creating if needed) the indexes in directory `location`, moving a layout-1 state to layout 2. */
    public static async open(location: string): Promise<LedgerDb> {
        const db = new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
        await db.open();
        const ledgerDb = new LedgerDb(db);
        try {
            await ledgerDb.upgrade();
        } catch (error) {
            await db.close();
            throw error;
        }
        return ledgerDb;
    }

    private async upgrade(): Promise<void> {
        const format = await this.db.get(FORMAT);
        if (format !== undefined) {
            const version = format.readUInt32BE(0);
            if (version !== LAYOUT_VERSION) {
                throw new Error(`the ledger indexes ${this.db.location} have layout ${version}; this devnet reads layout ${LAYOUT_VERSION}`);
            }
            return;
        }
        // Layout 1 kept the few keys with metadata apart: each moves into its state value, in one atomic batch.
        const batch = this.db.batch();
        for (const [rawKey, rawMetadata] of await this.db.iterator({ gte: Buffer.from([METADATA]), lt: Buffer.from([METADATA + 1]) }).all()) {
            const key = Buffer.concat([Buffer.from([STATE]), rawKey.subarray(1)]);
            const stored = await this.db.get(key);
            if (stored !== undefined) {
                const entry = decodeVersioned(stored);
                batch.put(key, encodeVersioned(Buffer.from(entry.value), entry.version, decodeMetadata(rawMetadata)));
            }
            batch.del(rawKey);
        }
        batch.put(FORMAT, layoutVersion());
        await batch.write();
    }

    /** State entries read from the database since it was opened. */
    public get stateReads(): StateReadCounts {
        return { pointReads: this.pointReads, scannedEntries: this.scannedEntries };
    }

    /** The last block the indexes hold, undefined if none. */
    public async savepoint(): Promise<Savepoint | undefined> {
        const bytes = await this.db.get(SAVEPOINT);
        if (bytes === undefined) {
            return undefined;
        }
        return {
            blockNumber: readU64(bytes, 0),
            location: { offset: readU64(bytes, 8), length: bytes.readUInt32BE(16) },
            headerHash: Buffer.from(bytes.subarray(20, 52)),
        };
    }

    /**
     * The committed value, version and metadata of `key` in `namespace`, undefined if absent. One key is read in line
     * (LevelDB's memtable, block cache and Bloom filters answer in microseconds): handing a single read to the thread
     * pool costs the main thread more than the read itself.
     */
    // eslint-disable-next-line @typescript-eslint/require-await -- a promise, so that callers need not know how the key is read
    public async get(namespace: string, key: string): Promise<VersionedValue | undefined> {
        this.pointReads++;
        const bytes = this.db.getSync(stateKey(namespace, key));
        return bytes === undefined ? undefined : decodeVersioned(bytes);
    }

    /** {@link get} of each of `keys`, in one request. */
    public async getMany(namespace: string, keys: readonly string[]): Promise<(VersionedValue | undefined)[]> {
        if (keys.length === 0) {
            return [];
        }
        this.pointReads += keys.length;
        const values = await this.db.getMany(keys.map((key) => stateKey(namespace, key)));
        return values.map((bytes) => (bytes === undefined ? undefined : decodeVersioned(bytes)));
    }

    /**
     * The entries of `namespace` with keys in [startKey, endKey) (an empty `endKey`: to the end), in key order, without
     * their metadata, read through a LevelDB iterator in growing batches; returning early (`return()`) closes it.
     */
    public async *range(namespace: string, startKey: string, endKey: string): AsyncGenerator<VersionedKV, void, undefined> {
        const prefixLength = stateKey(namespace, '').length;
        const iterator = this.db.iterator(stateBounds(namespace, startKey, endKey));
        try {
            for (let size = FIRST_SCAN_BATCH; ; size = Math.min(size * 2, LARGEST_SCAN_BATCH)) {
                const batch = await iterator.nextv(size);
                this.scannedEntries += batch.length;
                for (const [rawKey, rawValue] of batch) {
                    const { value, version } = decodeVersioned(rawValue, false);
                    yield { key: rawKey.toString('utf8', prefixLength), value, version };
                }
                // Fewer than asked for does not mean the end (a batch is also bounded in bytes); nothing does.
                if (batch.length === 0) {
                    return;
                }
            }
        } finally {
            await iterator.close();
        }
    }

    /** The indexed outcome of each of `txIds` (undefined where never committed). */
    public async txs(txIds: readonly string[]): Promise<(IndexedTx | undefined)[]> {
        if (txIds.length === 0) {
            return [];
        }
        // One id (a proposal's duplicate check) is read in line, as in get(); a block's ids in one request.
        const values = txIds.length === 1 ? [this.db.getSync(txKey(defined(txIds[0])))] : await this.db.getMany(txIds.map(txKey));
        return values.map((bytes) => (bytes === undefined ? undefined : { blockNumber: readU64(bytes, 0), txNum: readU64(bytes, 8), code: bytes.readUInt8(16) }));
    }

    /** Where block `blockNumber` lies in the block file, undefined if not indexed. */
    public async blockLocation(blockNumber: number): Promise<BlockLocation | undefined> {
        const bytes = await this.db.get(blockKey(blockNumber));
        return bytes === undefined ? undefined : { offset: readU64(bytes, 0), length: bytes.readUInt32BE(8) };
    }

    /** The modifications of `key` in `namespace` by valid transactions, newest first (as Fabric 2.x returns them). */
    public async history(namespace: string, key: string): Promise<KeyModification[]> {
        const prefix = historyPrefix(namespace, key);
        const entries = await this.db.iterator({ gte: prefix, lt: prefixEnd(prefix), reverse: true }).all();
        // Keys may contain NUL (composite keys): entries of a longer key sharing this prefix differ in length.
        return entries.filter(([rawKey]) => rawKey.length === prefix.length + 16).map(([rawKey, rawValue]) => decodeModification(rawValue, { blockNum: readU64(rawKey, prefix.length), txNum: readU64(rawKey, prefix.length + 8) }));
    }

    /** Writes one block's index updates and the new savepoint atomically. */
    public async commit(update: BlockIndexUpdate): Promise<void> {
        const batch = this.db.batch();
        for (const write of update.writes) {
            const key = stateKey(write.namespace, write.key);
            if (write.value === undefined) {
                batch.del(key);
            } else {
                batch.put(key, encodeVersioned(write.value, write.version, write.metadata));
            }
        }
        for (const { namespace, key, modification } of update.history) {
            const historyKey = Buffer.concat([historyPrefix(namespace, key), u64(modification.version.blockNum), u64(modification.version.txNum)]);
            batch.put(historyKey, encodeModification(modification));
        }
        for (const tx of update.txs) {
            const value = Buffer.alloc(17);
            value.writeBigUInt64BE(BigInt(tx.blockNumber), 0);
            value.writeBigUInt64BE(BigInt(tx.txNum), 8);
            value.writeUInt8(tx.code, 16);
            batch.put(txKey(tx.txId), value);
        }
        const { savepoint } = update;
        const location = Buffer.alloc(12);
        location.writeBigUInt64BE(BigInt(savepoint.location.offset), 0);
        location.writeUInt32BE(savepoint.location.length, 8);
        batch.put(blockKey(savepoint.blockNumber), location);
        batch.put(SAVEPOINT, Buffer.concat([u64(savepoint.blockNumber), location, savepoint.headerHash]));
        await batch.write();
    }

    /** Drops every index (to rebuild them from the block file). */
    public async clear(): Promise<void> {
        await this.db.clear();
        await this.db.put(FORMAT, layoutVersion());
    }

    public async close(): Promise<void> {
        await this.db.close();
    }
}
