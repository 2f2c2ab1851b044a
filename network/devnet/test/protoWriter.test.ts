// SPDX-License-Identifier: Apache-2.0
/** The devnet's hand-written protobuf encodings give google-protobuf's bytes for the same values. */
import { describe, expect, it } from '@jest/globals';
import { common, ledger, peer } from '@hyperledger/fabric-protos';
import fc from 'fast-check';
import { encodeChaincodeMessage } from '../src/chaincodeMessageCodec';
import { ProtoMessage } from '../src/protoWriter';
import { newTimestamp } from '../src/runtime';
import { decodeRwsets, encodeRwsets } from '../src/rwsetCodec';
import type { NamespaceRwset } from '../src/ledger';
import type { ReadWriteSet } from '../src/txSimulator';

const { kvrwset } = ledger.rwset;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b));
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const version = fc.option(fc.record({ blockNum: fc.nat({ max: 2 ** 40 }), txNum: fc.nat({ max: 70_000 }) }), { nil: null });
const read = fc.record({ key: text, version });

const rwset: fc.Arbitrary<ReadWriteSet> = fc.record({
    reads: fc.array(read, { maxLength: 4 }),
    writes: fc.array(fc.record({ key: text, isDelete: fc.boolean(), value: bytes }), { maxLength: 4 }),
    ranges: fc.array(fc.record({ startKey: text, endKey: text, itrExhausted: fc.boolean(), reads: fc.array(read, { maxLength: 3 }) }), { maxLength: 2 }),
    metadataWrites: fc.option(fc.array(fc.record({ key: text, entries: fc.array(fc.record({ name: text, value: bytes }), { maxLength: 2 }) }), { minLength: 1, maxLength: 2 }), { nil: undefined }),
}).map(({ metadataWrites, ...rest }): ReadWriteSet => (metadataWrites === undefined ? rest : { ...rest, metadataWrites }));

/** The same read/write sets through google-protobuf's generated classes: the reference the hand encoding must match. */
function referenceRwsets(rwsets: readonly NamespaceRwset[]): Uint8Array {
    const encodeRead = (r: ReadWriteSet['reads'][number]): InstanceType<typeof kvrwset.KVRead> => {
        const out = new kvrwset.KVRead();
        out.setKey(r.key);
        if (r.version !== null) {
            const v = new kvrwset.Version();
            v.setBlockNum(r.version.blockNum);
            v.setTxNum(r.version.txNum);
            out.setVersion(v);
        }
        return out;
    };
    const tx = new ledger.rwset.TxReadWriteSet();
    tx.setNsRwsetList(rwsets.map(({ namespace, rwset: set }) => {
        const kv = new kvrwset.KVRWSet();
        kv.setReadsList(set.reads.map(encodeRead));
        kv.setRangeQueriesInfoList(set.ranges.map((range) => {
            const info = new kvrwset.RangeQueryInfo();
            info.setStartKey(range.startKey);
            info.setEndKey(range.endKey);
            info.setItrExhausted(range.itrExhausted);
            const raw = new kvrwset.QueryReads();
            raw.setKvReadsList(range.reads.map(encodeRead));
            info.setRawReads(raw);
            return info;
        }));
        kv.setWritesList(set.writes.map((w) => {
            const out = new kvrwset.KVWrite();
            out.setKey(w.key);
            out.setIsDelete(w.isDelete);
            out.setValue(w.value);
            return out;
        }));
        kv.setMetadataWritesList((set.metadataWrites ?? []).map((w) => {
            const out = new kvrwset.KVMetadataWrite();
            out.setKey(w.key);
            out.setEntriesList(w.entries.map((e) => {
                const entry = new kvrwset.KVMetadataEntry();
                entry.setName(e.name);
                entry.setValue(e.value);
                return entry;
            }));
            return out;
        }));
        const ns = new ledger.rwset.NsReadWriteSet();
        ns.setNamespace(namespace);
        ns.setRwset(kv.serializeBinary());
        return ns;
    }));
    return tx.serializeBinary();
}

describe('protobuf encoding by hand', () => {
    it('writes read/write sets byte for byte as google-protobuf does, and they decode to what was written', () => {
        fc.assert(fc.property(fc.array(fc.record({ namespace: text, rwset }), { maxLength: 3 }), (rwsets) => {
            const encoded = encodeRwsets(rwsets);
            expect(hex(encoded)).toBe(hex(referenceRwsets(rwsets)));
            const decoded = decodeRwsets(encoded);
            expect(decoded.map((ns) => ns.namespace)).toEqual(rwsets.map((ns) => ns.namespace));
            expect(decoded.map((ns) => ns.rwset.writes)).toEqual(rwsets.map((ns) => ns.rwset.writes));
            expect(decoded.map((ns) => ns.rwset.reads)).toEqual(rwsets.map((ns) => ns.rwset.reads));
        }), { numRuns: 300 });
    });

    it('writes a chaincode response (int32 status, negative ones in ten bytes) and event as google-protobuf does', () => {
        fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), text, bytes, text, bytes, (status, message, payload, eventName, eventPayload) => {
            const reference = new peer.Response();
            reference.setStatus(status);
            reference.setMessage(message);
            reference.setPayload(payload);
            expect(hex(new ProtoMessage().varint(1, status).string(2, message).bytes(3, payload).encode())).toBe(hex(reference.serializeBinary()));
            const event = new peer.ChaincodeEvent();
            event.setChaincodeId('basic');
            event.setTxId('tx');
            event.setEventName(eventName);
            event.setPayload(eventPayload);
            const action = new peer.ChaincodeAction();
            action.setEvents(event.serializeBinary());
            action.setResponse(reference);
            action.setChaincodeId(new peer.ChaincodeID());
            const mine = new ProtoMessage()
                .bytesOf(2, new ProtoMessage().string(1, 'basic').string(2, 'tx').string(3, eventName).bytes(4, eventPayload))
                .message(3, new ProtoMessage().varint(1, status).string(2, message).bytes(3, payload))
                .message(4, new ProtoMessage());
            expect(hex(mine.encode())).toBe(hex(action.serializeBinary()));
        }), { numRuns: 300 });
    });

    it('writes nested and repeated messages, present but empty ones included, as google-protobuf does', () => {
        const endorsement = new peer.Endorsement();
        endorsement.setEndorser(Buffer.from('peer0'));
        endorsement.setSignature(Buffer.alloc(200, 7));
        const endorsed = new peer.ChaincodeEndorsedAction();
        endorsed.setProposalResponsePayload(Buffer.alloc(300, 1));
        endorsed.setEndorsementsList([endorsement, new peer.Endorsement()]);
        const header = new common.Header();
        header.setChannelHeader(Buffer.alloc(130, 2));
        const payload = new common.Payload();
        payload.setHeader(header);
        payload.setData(endorsed.serializeBinary());
        const mine = new ProtoMessage()
            .message(1, new ProtoMessage().bytes(1, Buffer.alloc(130, 2)).bytes(2, new Uint8Array()))
            .bytesOf(2, new ProtoMessage()
                .bytes(1, Buffer.alloc(300, 1))
                .message(2, new ProtoMessage().bytes(1, Buffer.from('peer0')).bytes(2, Buffer.alloc(200, 7)))
                .message(2, new ProtoMessage()));
        expect(hex(mine.encode())).toBe(hex(payload.serializeBinary()));
        expect(hex(new ProtoMessage().encodedMessage(1, new Uint8Array()).bool(2, false).varint(3, 0).string(4, '').encode())).toBe('0a00');
    });

    it('writes the peer\'s ChaincodeMessages as google-protobuf does', () => {
        fc.assert(fc.property(fc.nat({ max: 30 }), fc.option(fc.nat({ max: 2 ** 44 }), { nil: undefined }), bytes, text, text,
            fc.option(fc.tuple(bytes, bytes), { nil: undefined }), fc.option(fc.tuple(text, text, text, bytes), { nil: undefined }),
            (type, time, payload, txId, channelId, proposal, event) => {
                const message = new peer.ChaincodeMessage();
                message.setType(type as peer.ChaincodeMessage.TypeMap[keyof peer.ChaincodeMessage.TypeMap]);
                if (time !== undefined) {
                    message.setTimestamp(newTimestamp(time) as Parameters<typeof message.setTimestamp>[0]);
                }
                message.setPayload(payload);
                message.setTxid(txId);
                message.setChannelId(channelId);
                if (proposal !== undefined) {
                    const signed = new peer.SignedProposal();
                    signed.setProposalBytes(proposal[0]);
                    signed.setSignature(proposal[1]);
                    message.setProposal(signed);
                }
                if (event !== undefined) {
                    const chaincodeEvent = new peer.ChaincodeEvent();
                    chaincodeEvent.setChaincodeId(event[0]);
                    chaincodeEvent.setTxId(event[1]);
                    chaincodeEvent.setEventName(event[2]);
                    chaincodeEvent.setPayload(event[3]);
                    message.setChaincodeEvent(chaincodeEvent);
                }
                expect(hex(encodeChaincodeMessage(message))).toBe(hex(message.serializeBinary()));
            }), { numRuns: 300 });
    });

    it('refuses integers it cannot write exactly and field numbers protobuf does not have', () => {
        expect(() => new ProtoMessage().varint(1, 2 ** 53)).toThrow(RangeError);
        expect(() => new ProtoMessage().varint(1, 1.5)).toThrow(RangeError);
        expect(() => new ProtoMessage().bytes(0, Buffer.from('x'))).toThrow('invalid protobuf field number 0');
        expect(() => new ProtoMessage().bytes(2 ** 29, Buffer.from('x'))).toThrow(RangeError);
        expect(hex(new ProtoMessage().varint(1, 2 ** 53 - 1).encode())).toBe('08ffffffffffffff0f');
    });
});
