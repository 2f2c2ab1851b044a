// SPDX-License-Identifier: Apache-2.0
/**
 * A simulated transaction's read/write set as Fabric encodes it in `ChaincodeAction.results`: a
 * `rwset.TxReadWriteSet` (data model KV) with one `NsReadWriteSet` per namespace whose `rwset` is a `kvrwset.KVRWSet`
 * (reads with versions, range query infos with raw reads, writes). See fabric `rwsetutil/rwset_proto_util.go`.
 */
import { ledger } from '@hyperledger/fabric-protos';
import type { NamespaceRwset } from './ledger';
import { decodeHashedRwset, encodeHashedRwset } from './privateRwset';
import { ProtoMessage } from './protoWriter';
import type { KVRead, ReadWriteSet } from './txSimulator';

const { kvrwset } = ledger.rwset;

/** kvrwset.KVRead: key (1), version (2: block_num 1, tx_num 2) unless the key was absent. */
function encodeRead(read: KVRead): ProtoMessage {
    const out = new ProtoMessage().string(1, read.key);
    return read.version === null ? out : out.message(2, new ProtoMessage().varint(1, read.version.blockNum).varint(2, read.version.txNum));
}

function decodeRead(read: InstanceType<typeof kvrwset.KVRead>): KVRead {
    const version = read.getVersion();
    return { key: read.getKey(), version: version === undefined ? null : { blockNum: version.getBlockNum(), txNum: version.getTxNum() } };
}

/** Encodes the read/write sets of the given namespaces as serialized `TxReadWriteSet` bytes. */
export function encodeRwsets(rwsets: readonly NamespaceRwset[]): Uint8Array {
    // data_model (1) is KV, the enum's zero: not written.
    const tx = new ProtoMessage();
    for (const { namespace, rwset } of rwsets) {
        const ns = new ProtoMessage().string(1, namespace).bytesOf(2, encodeKvRwset(rwset));
        for (const set of rwset.collections ?? []) {
            ns.message(3, new ProtoMessage().string(1, set.collection).bytes(2, encodeHashedRwset(set)).bytes(3, set.pvtRwsetHash));
        }
        tx.message(2, ns);
    }
    return tx.encode();
}

/** Encodes `rwset` of chaincode `namespace` as serialized `TxReadWriteSet` bytes. */
export function encodeRwset(namespace: string, rwset: ReadWriteSet): Uint8Array {
    return encodeRwsets([{ namespace, rwset }]);
}

/**
 * kvrwset.KVRWSet: reads (1), range query infos (2: start_key, end_key, itr_exhausted, raw_reads 4), writes (3: key,
 * is_delete, value), metadata writes (4: key, entries 2 of name and value). NsReadWriteSet carries it as bytes (field
 * 2), which encode the same as the nested message.
 */
function encodeKvRwset(rwset: ReadWriteSet): ProtoMessage {
    const kv = new ProtoMessage();
    for (const read of rwset.reads) {
        kv.message(1, encodeRead(read));
    }
    for (const range of rwset.ranges) {
        const raw = new ProtoMessage();
        for (const read of range.reads) {
            raw.message(1, encodeRead(read));
        }
        kv.message(2, new ProtoMessage().string(1, range.startKey).string(2, range.endKey).bool(3, range.itrExhausted).message(4, raw));
    }
    for (const write of rwset.writes) {
        kv.message(3, new ProtoMessage().string(1, write.key).bool(2, write.isDelete).bytes(3, write.value));
    }
    for (const write of rwset.metadataWrites ?? []) {
        const out = new ProtoMessage().string(1, write.key);
        for (const entry of write.entries) {
            out.message(2, new ProtoMessage().string(1, entry.name).bytes(2, entry.value));
        }
        kv.message(4, out);
    }
    return kv;
}

/** Decodes every namespace's read/write set from serialized `TxReadWriteSet` bytes, in order. */
export function decodeRwsets(bytes: Uint8Array): NamespaceRwset[] {
    const tx = ledger.rwset.TxReadWriteSet.deserializeBinary(bytes);
    return tx.getNsRwsetList().map((ns) => {
        const rwset = decodeKvRwset(ns.getRwset_asU8());
        const collections = ns.getCollectionHashedRwsetList().map((c) => decodeHashedRwset(c.getCollectionName(), c.getHashedRwset_asU8(), c.getPvtRwsetHash_asU8()));
        return { namespace: ns.getNamespace(), rwset: collections.length === 0 ? rwset : { ...rwset, collections } };
    });
}

function decodeKvRwset(bytes: Uint8Array): ReadWriteSet {
    const kv = kvrwset.KVRWSet.deserializeBinary(bytes);
    const metadataWrites = kv.getMetadataWritesList().map((write) => ({
        key: write.getKey(),
        entries: write.getEntriesList().map((entry) => ({ name: entry.getName(), value: Buffer.from(entry.getValue_asU8()) })),
    }));
    return {
        ...(metadataWrites.length === 0 ? {} : { metadataWrites }),
        reads: kv.getReadsList().map(decodeRead),
        writes: kv.getWritesList().map((w) => ({ key: w.getKey(), isDelete: w.getIsDelete(), value: Buffer.from(w.getValue_asU8()) })),
        ranges: kv.getRangeQueriesInfoList().map((info) => {
            if (info.hasReadsMerkleHashes()) {
                throw new Error('Merkle-hashed range query summaries are not supported');
            }
            return {
                startKey: info.getStartKey(),
                endKey: info.getEndKey(),
                itrExhausted: info.getItrExhausted(),
                reads: info.getRawReads()?.getKvReadsList().map(decodeRead) ?? [],
            };
        }),
    };
}
