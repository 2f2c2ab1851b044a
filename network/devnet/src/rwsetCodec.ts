// SPDX-License-Identifier: Apache-2.0
/**
 * A simulated transaction's read/write set as Fabric encodes it in `ChaincodeAction.results`: a
 * `rwset.TxReadWriteSet` (data model KV) with one `NsReadWriteSet` per namespace whose `rwset` is a `kvrwset.KVRWSet`
 * (reads with versions, range query infos with raw reads, writes). See fabric `rwsetutil/rwset_proto_util.go`.
 */
import { ledger } from '@hyperledger/fabric-protos';
import type { NamespaceRwset } from './ledger';
import { decodeHashedRwset, encodeHashedRwset, metadataEntriesOf } from './privateRwset';
import type { KVRead, ReadWriteSet } from './txSimulator';

const { kvrwset } = ledger.rwset;

function encodeRead(read: KVRead): InstanceType<typeof kvrwset.KVRead> {
    const out = new kvrwset.KVRead();
    out.setKey(read.key);
    if (read.version !== null) {
        const version = new kvrwset.Version();
        version.setBlockNum(read.version.blockNum);
        version.setTxNum(read.version.txNum);
        out.setVersion(version);
    }
    return out;
}

function decodeRead(read: InstanceType<typeof kvrwset.KVRead>): KVRead {
    const version = read.getVersion();
    return { key: read.getKey(), version: version === undefined ? null : { blockNum: version.getBlockNum(), txNum: version.getTxNum() } };
}

/** Encodes the read/write sets of the given namespaces as serialized `TxReadWriteSet` bytes. */
export function encodeRwsets(rwsets: readonly NamespaceRwset[]): Uint8Array {
    const tx = new ledger.rwset.TxReadWriteSet();
    tx.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
    tx.setNsRwsetList(rwsets.map(({ namespace, rwset }) => {
        const ns = new ledger.rwset.NsReadWriteSet();
        ns.setNamespace(namespace);
        ns.setRwset(encodeKvRwset(rwset));
        ns.setCollectionHashedRwsetList((rwset.collections ?? []).map((set) => {
            const collection = new ledger.rwset.CollectionHashedReadWriteSet();
            collection.setCollectionName(set.collection);
            collection.setHashedRwset(encodeHashedRwset(set));
            collection.setPvtRwsetHash(set.pvtRwsetHash);
            return collection;
        }));
        return ns;
    }));
    return tx.serializeBinary();
}

/** Encodes `rwset` of chaincode `namespace` as serialized `TxReadWriteSet` bytes. */
export function encodeRwset(namespace: string, rwset: ReadWriteSet): Uint8Array {
    return encodeRwsets([{ namespace, rwset }]);
}

function encodeKvRwset(rwset: ReadWriteSet): Uint8Array {
    const kv = new kvrwset.KVRWSet();
    kv.setReadsList(rwset.reads.map(encodeRead));
    kv.setRangeQueriesInfoList(rwset.ranges.map((range) => {
        const info = new kvrwset.RangeQueryInfo();
        info.setStartKey(range.startKey);
        info.setEndKey(range.endKey);
        info.setItrExhausted(range.itrExhausted);
        const raw = new kvrwset.QueryReads();
        raw.setKvReadsList(range.reads.map(encodeRead));
        info.setRawReads(raw);
        return info;
    }));
    kv.setWritesList(rwset.writes.map((write) => {
        const out = new kvrwset.KVWrite();
        out.setKey(write.key);
        out.setIsDelete(write.isDelete);
        out.setValue(write.value);
        return out;
    }));
    kv.setMetadataWritesList((rwset.metadataWrites ?? []).map((write) => {
        const out = new kvrwset.KVMetadataWrite();
        out.setKey(write.key);
        out.setEntriesList(metadataEntriesOf(write.entries));
        return out;
    }));
    return kv.serializeBinary();
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
