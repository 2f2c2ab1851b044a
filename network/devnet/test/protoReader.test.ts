// SPDX-License-Identifier: Apache-2.0
/** The devnet's hand-written protobuf reader reads what google-protobuf wrote, and refuses what is not protobuf. */
import { describe, expect, it } from '@jest/globals';
import { common, peer } from '@hyperledger/fabric-protos';
import fc from 'fast-check';
import { ProtoReader } from '../src/protoReader';
import { newTimestamp } from '../src/runtime';

const bytes = fc.uint8Array({ maxLength: 40 });
const text = fc.string({ unit: 'grapheme', maxLength: 12 });

describe('ProtoReader', () => {
    it('reads a channel header and a chaincode response as google-protobuf wrote them', () => {
        fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), text, text, fc.nat({ max: 2 ** 44 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), bytes,
            (type, channelId, txId, millis, status, payload) => {
                const header = new common.ChannelHeader();
                header.setType(type);
                header.setChannelId(channelId);
                header.setTxId(txId);
                header.setTimestamp(newTimestamp(millis) as Parameters<typeof header.setTimestamp>[0]);
                header.setEpoch(7);
                const read = new ProtoReader(header.serializeBinary());
                expect([read.int32(1), read.string(4), read.string(5), read.int64(6)]).toEqual([type, channelId, txId, 7]);
                const timestamp = read.message(3);
                expect(timestamp === undefined ? undefined : timestamp.int64(1) * 1000 + timestamp.int32(2) / 1_000_000).toBe(millis);

                const response = new peer.Response();
                response.setStatus(status);
                response.setPayload(payload);
                const action = new peer.ChaincodeAction();
                action.setResponse(response);
                const readAction = new ProtoReader(action.serializeBinary());
                expect(readAction.message(3)?.int32(1)).toBe(status);
                expect(Buffer.from(readAction.message(3)?.bytes(3) ?? []).equals(Buffer.from(payload))).toBe(true);
                expect(readAction.message(4)).toBeUndefined();
                expect(readAction.bytes(1)).toEqual(new Uint8Array());
            }), { numRuns: 300 });
    });

    it('reads repeated messages in order, and the last value of a field given twice', () => {
        const endorsed = new peer.ChaincodeEndorsedAction();
        endorsed.setEndorsementsList(['a', 'b', ''].map((name) => {
            const e = new peer.Endorsement();
            e.setEndorser(Buffer.from(name));
            return e;
        }));
        const read = new ProtoReader(endorsed.serializeBinary());
        expect(read.repeated(2).map((e) => new ProtoReader(e).string(1))).toEqual(['a', 'b', '']);
        // field 5 = "x", then field 5 = "y"
        expect(new ProtoReader(Uint8Array.from([0x2a, 1, 0x78, 0x2a, 1, 0x79])).string(5)).toBe('y');
    });

    it('refuses malformed input, and a field read with another wire type than it has', () => {
        const valid = Uint8Array.from([0x0a, 3, 1, 2, 3]);
        expect(new ProtoReader(valid).bytes(1)).toEqual(Uint8Array.from([1, 2, 3]));
        expect(() => new ProtoReader(valid.subarray(0, 4))).toThrow('field 1 runs past the end of the message');
        expect(() => new ProtoReader(Uint8Array.from([0x08, 0x80]))).toThrow('truncated or overlong varint');
        expect(() => new ProtoReader(Uint8Array.from([0x02, 0x00]))).toThrow('invalid field number 0');
        expect(() => new ProtoReader(Uint8Array.from([0x0b]))).toThrow('unsupported wire type 3 of field 1');
        expect(() => new ProtoReader(Uint8Array.from([0x0d, 1, 2]))).toThrow('field 1 runs past the end of the message');
        expect(() => new ProtoReader(Uint8Array.from([0x08, 1])).bytes(1)).toThrow('field 1 does not have wire type 2');
        // An unasked field may hold anything well formed, even two wire types; asked for, that is an error.
        const mixed = new ProtoReader(Uint8Array.from([0x10, 1, 0x12, 0, 0x0a, 1, 0x41]));
        expect(mixed.string(1)).toBe('A');
        expect(() => mixed.bytes(2)).toThrow('field 2 does not have wire type 2');
        // Ten-byte varints: -1 as int32 and as int64; 2^63 as int64 is beyond a safe integer.
        const minusOne = Uint8Array.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        expect(new ProtoReader(minusOne).int32(1)).toBe(-1);
        expect(new ProtoReader(minusOne).int64(1)).toBe(-1);
        expect(() => new ProtoReader(Uint8Array.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).int64(1)).toThrow('beyond the integers');
    });
});
