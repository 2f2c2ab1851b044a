// SPDX-License-Identifier: Apache-2.0
/**
 * Private data in read/write sets, as Fabric encodes it (rwsetutil/rwset_builder.go, rwset_proto_util.go): the public
 * `NsReadWriteSet` of a namespace carries one `CollectionHashedReadWriteSet` per collection touched — hashed reads
 * (SHA-256 of the key, version) and hashed writes (key hash, value hash, delete and purge flags) — with the SHA-256 of
 * the collection's private write set; the plaintext travels apart, as an `rwset.TxPvtReadWriteSet` whose collections
 * hold a `kvrwset.KVRWSet` of writes.
 */
import { createHash } from 'node:crypto';
import { ledger } from '@hyperledger/fabric-protos';
import { compareKeys } from './keys';
import type { Version } from './worldState';

const { kvrwset } = ledger.rwset;

/** A hashed read of a private key (kvrwset.KVReadHash): the committed version seen, null if absent. */
export interface HashedRead {
    readonly keyHash: Buffer;
    readonly version: Version | null;
}

/** A hashed write of a private key (kvrwset.KVWriteHash). */
export interface HashedWrite {
    readonly keyHash: Buffer;
    readonly isDelete: boolean;
    /** Empty for a delete. */
    readonly valueHash: Buffer;
    readonly isPurge: boolean;
}

/** A metadata entry of a key (kvrwset.KVMetadataEntry), e.g. `VALIDATION_PARAMETER`. */
export interface MetadataEntry {
    readonly name: string;
    readonly value: Buffer;
}

/** Metadata entries as kvrwset.KVMetadataEntry messages, for public and hashed metadata writes alike. */
export function metadataEntriesOf(entries: readonly MetadataEntry[]): InstanceType<typeof ledger.rwset.kvrwset.KVMetadataEntry>[] {
    return entries.map((entry) => {
        const e = new ledger.rwset.kvrwset.KVMetadataEntry();
        e.setName(entry.name);
        e.setValue(entry.value);
        return e;
    });
}

/**
 * A write of a private key's metadata (kvrwset.KVMetadataWriteHash): the key's whole metadata after the transaction, in
 * plaintext under the key's hash (no entries: the metadata is deleted).
 */
export interface HashedMetadataWrite {
    readonly keyHash: Buffer;
    readonly entries: readonly MetadataEntry[];
}

/** The hashed read/write set of one collection (rwset.CollectionHashedReadWriteSet). */
export interface CollectionHashedRwset {
    readonly collection: string;
    readonly reads: readonly HashedRead[];
    readonly writes: readonly HashedWrite[];
    /** Metadata writes (key-level endorsement of private keys), sorted by key; absent when there are none. */
    readonly metadataWrites?: readonly HashedMetadataWrite[];
    /** SHA-256 of the collection's serialized private write set (empty when it wrote nothing). */
    readonly pvtRwsetHash: Buffer;
}

/** A private write in plaintext. */
export interface PrivateWrite {
    readonly key: string;
    readonly isDelete: boolean;
    readonly value: Buffer;
}

/** The private writes of one collection of one namespace, with their serialized KVRWSet. */
export interface CollectionPrivateWrites {
    readonly namespace: string;
    readonly collection: string;
    readonly writes: readonly PrivateWrite[];
    /**
     * The keys whose metadata the transaction writes: the private write set names them without their entries, which
     * only the hashed set carries (rwset_builder.go `AddToHashedMetadataWriteSet`).
     */
    readonly metadataKeys?: readonly string[];
    /** The serialized kvrwset.KVRWSet (what pvtRwsetHash is computed over). */
    readonly rwset: Uint8Array;
}

export function sha256(data: Uint8Array | string): Buffer {
    return createHash('sha256').update(data).digest();
}

/** Serializes a collection's private writes as a kvrwset.KVRWSet, writes and metadata writes (keys only) sorted by key. */
export function encodePrivateWrites(writes: readonly PrivateWrite[], metadataKeys: readonly string[] = []): Uint8Array {
    const kv = new kvrwset.KVRWSet();
    kv.setWritesList([...writes].sort((a, b) => compareKeys(a.key, b.key)).map((write) => {
        const out = new kvrwset.KVWrite();
        out.setKey(write.key);
        out.setIsDelete(write.isDelete);
        out.setValue(write.value);
        return out;
    }));
    kv.setMetadataWritesList([...metadataKeys].sort(compareKeys).map((key) => {
        const out = new kvrwset.KVMetadataWrite();
        out.setKey(key);
        return out;
    }));
    return kv.serializeBinary();
}

/** Serializes a transaction's private write sets as rwset.TxPvtReadWriteSet (namespaces, then collections, sorted). */
export function encodeTxPvtRwset(collections: readonly CollectionPrivateWrites[]): Uint8Array {
    const namespaces = [...new Set(collections.map((c) => c.namespace))].sort(compareKeys);
    const tx = new ledger.rwset.TxPvtReadWriteSet();
    tx.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
    tx.setNsPvtRwsetList(namespaces.map((namespace) => {
        const ns = new ledger.rwset.NsPvtReadWriteSet();
        ns.setNamespace(namespace);
        ns.setCollectionPvtRwsetList(collections.filter((c) => c.namespace === namespace).sort((a, b) => compareKeys(a.collection, b.collection)).map((c) => {
            const out = new ledger.rwset.CollectionPvtReadWriteSet();
            out.setCollectionName(c.collection);
            out.setRwset(c.rwset);
            return out;
        }));
        return ns;
    }));
    return tx.serializeBinary();
}

/** Decodes a serialized rwset.TxPvtReadWriteSet. */
export function decodeTxPvtRwset(bytes: Uint8Array): CollectionPrivateWrites[] {
    const tx = ledger.rwset.TxPvtReadWriteSet.deserializeBinary(bytes);
    return tx.getNsPvtRwsetList().flatMap((ns) => ns.getCollectionPvtRwsetList().map((c) => {
        const rwset = c.getRwset_asU8();
        const kv = kvrwset.KVRWSet.deserializeBinary(rwset);
        const metadataKeys = kv.getMetadataWritesList().map((w) => w.getKey());
        return {
            namespace: ns.getNamespace(),
            collection: c.getCollectionName(),
            rwset,
            writes: kv.getWritesList().map((w) => ({ key: w.getKey(), isDelete: w.getIsDelete() || w.getValue_asU8().length === 0, value: Buffer.from(w.getValue_asU8()) })),
            ...(metadataKeys.length === 0 ? {} : { metadataKeys }),
        };
    }));
}

/** A TxPvtReadWriteSet reduced to the collections `keep` accepts; undefined when none is left. */
export function filterTxPvtRwset(bytes: Uint8Array, keep: (namespace: string, collection: string) => boolean): Uint8Array | undefined {
    const kept = decodeTxPvtRwset(bytes).filter((c) => keep(c.namespace, c.collection));
    return kept.length === 0 ? undefined : encodeTxPvtRwset(kept);
}

/**
 * A TxPvtReadWriteSet without the writes of the key whose hash is `keyHash` in collection `collection` of `namespace`
 * (pvtdatastorage `removePurgedDataFromCollPvtRWset`: the collection stays, with its other writes); undefined when the
 * write set has no such write.
 */
export function withoutKeyWrites(bytes: Uint8Array, namespace: string, collection: string, keyHash: Buffer): Uint8Array | undefined {
    const collections = decodeTxPvtRwset(bytes);
    const index = collections.findIndex((c) => c.namespace === namespace && c.collection === collection);
    const found = collections[index];
    if (found === undefined) {
        return undefined;
    }
    const writes = found.writes.filter((w) => !sha256(w.key).equals(keyHash));
    if (writes.length === found.writes.length) {
        return undefined;
    }
    collections[index] = { ...found, writes, rwset: encodePrivateWrites(writes, found.metadataKeys) };
    return encodeTxPvtRwset(collections);
}

/** Serializes a collection's hashed read/write set (kvrwset.HashedRWSet). */
export function encodeHashedRwset(set: CollectionHashedRwset): Uint8Array {
    const hashed = new kvrwset.HashedRWSet();
    hashed.setHashedReadsList(set.reads.map((read) => {
        const out = new kvrwset.KVReadHash();
        out.setKeyHash(read.keyHash);
        if (read.version !== null) {
            const version = new kvrwset.Version();
            version.setBlockNum(read.version.blockNum);
            version.setTxNum(read.version.txNum);
            out.setVersion(version);
        }
        return out;
    }));
    hashed.setHashedWritesList(set.writes.map((write) => {
        const out = new kvrwset.KVWriteHash();
        out.setKeyHash(write.keyHash);
        out.setIsDelete(write.isDelete);
        out.setValueHash(write.valueHash);
        out.setIsPurge(write.isPurge);
        return out;
    }));
    hashed.setMetadataWritesList((set.metadataWrites ?? []).map((write) => {
        const out = new kvrwset.KVMetadataWriteHash();
        out.setKeyHash(write.keyHash);
        out.setEntriesList(metadataEntriesOf(write.entries));
        return out;
    }));
    return hashed.serializeBinary();
}

/** Decodes a collection's hashed read/write set. */
export function decodeHashedRwset(collection: string, bytes: Uint8Array, pvtRwsetHash: Uint8Array): CollectionHashedRwset {
    const hashed = kvrwset.HashedRWSet.deserializeBinary(bytes);
    const metadataWrites = hashed.getMetadataWritesList().map((write) => ({
        keyHash: Buffer.from(write.getKeyHash_asU8()),
        entries: write.getEntriesList().map((entry) => ({ name: entry.getName(), value: Buffer.from(entry.getValue_asU8()) })),
    }));
    return {
        collection,
        ...(metadataWrites.length === 0 ? {} : { metadataWrites }),
        pvtRwsetHash: Buffer.from(pvtRwsetHash),
        reads: hashed.getHashedReadsList().map((read) => {
            const version = read.getVersion();
            return { keyHash: Buffer.from(read.getKeyHash_asU8()), version: version === undefined ? null : { blockNum: version.getBlockNum(), txNum: version.getTxNum() } };
        }),
        writes: hashed.getHashedWritesList().map((write) => ({
            keyHash: Buffer.from(write.getKeyHash_asU8()),
            isDelete: write.getIsDelete(),
            valueHash: Buffer.from(write.getValueHash_asU8()),
            isPurge: write.getIsPurge(),
        })),
    };
}
