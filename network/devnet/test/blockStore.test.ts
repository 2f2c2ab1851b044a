// SPDX-License-Identifier: Apache-2.0
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { common } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderHash, BlockStore } from '../src';
import { tempDir } from './support/client';

function block(number: number, previousHash: Uint8Array, data: Uint8Array[]): InstanceType<typeof common.Block> {
    const header = new common.BlockHeader();
    header.setNumber(number);
    header.setPreviousHash(previousHash);
    header.setDataHash(blockDataHash(data));
    const body = new common.BlockData();
    body.setDataList(data);
    const b = new common.Block();
    b.setHeader(header);
    b.setData(body);
    return b;
}

function fill(file: string, count: number): void {
    const { store } = BlockStore.open(file);
    for (let i = 0; i < count; i++) {
        store.append(block(i, store.previousHash, [Buffer.from(`tx ${i}`)]));
    }
    store.close();
}

describe('BlockStore', () => {
    it('reopens every appended block, chained by header hash', () => {
        const file = path.join(tempDir(), 'c.blocks');
        fill(file, 4);
        const { blocks, store, discardedBytes } = BlockStore.open(file);
        expect(discardedBytes).toBe(0);
        expect(blocks.map((b) => b.getHeader()?.getNumber())).toEqual([0, 1, 2, 3]);
        expect(Buffer.from(blocks[2]?.getHeader()?.getPreviousHash_asU8() ?? [])).toEqual(blockHeaderHash(blocks[1]?.getHeader() ?? new common.BlockHeader()));
        expect(store.height).toBe(4);
        store.close();
    });

    it('cuts off a torn last frame and appends after it', () => {
        const file = path.join(tempDir(), 'c.blocks');
        fill(file, 3);
        const intact = readFileSync(file).length;
        const lastFrame = readFileSync(file).subarray(0, intact);
        appendFileSync(file, lastFrame.subarray(0, 50));
        const opened = BlockStore.open(file);
        expect(opened.blocks).toHaveLength(3);
        expect(opened.discardedBytes).toBe(50);
        opened.store.append(block(3, opened.store.previousHash, []));
        opened.store.close();
        expect(BlockStore.open(file).blocks).toHaveLength(4);
    });

    it('reads a block back by the location append gave, and refuses a location that is not an intact frame', () => {
        const file = path.join(tempDir(), 'c.blocks');
        const { store } = BlockStore.open(file);
        store.append(block(0, new Uint8Array(), [Buffer.from('genesis')]));
        const location = store.append(block(1, store.previousHash, [Buffer.from('one')]));
        const read = common.Block.deserializeBinary(store.read(location));
        expect(read.getHeader()?.getNumber()).toBe(1);
        expect(() => store.read({ offset: location.offset + 1, length: location.length - 1 })).toThrow('no intact block frame');
        expect(() => store.read({ offset: location.offset, length: location.length + 10 })).toThrow('no intact block frame');
        store.close();
        const reopened = BlockStore.open(file);
        expect(reopened.locations[1]).toEqual(location);
        reopened.store.close();
    });

    it('refuses a block file whose hash chain was rewritten', () => {
        const file = path.join(tempDir(), 'c.blocks');
        const { store } = BlockStore.open(file);
        store.append(block(0, new Uint8Array(), []));
        store.append(block(1, Buffer.alloc(32, 7), []));
        store.close();
        expect(() => BlockStore.open(file)).toThrow('does not chain');
    });

    it('treats a frame whose checksum does not match as the torn end', () => {
        const file = path.join(tempDir(), 'c.blocks');
        fill(file, 2);
        const bytes = readFileSync(file);
        bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
        writeFileSync(file, bytes);
        expect(BlockStore.open(file).blocks).toHaveLength(1);
    });

    it('refuses a corrupt frame that is followed by more blocks (not a torn tail)', () => {
        const file = path.join(tempDir(), 'c.blocks');
        fill(file, 3);
        const bytes = readFileSync(file);
        bytes.writeUInt8(bytes.readUInt8(40) ^ 0xff, 40);
        writeFileSync(file, bytes);
        expect(() => BlockStore.open(file)).toThrow('corrupt block frame at offset 0');
    });
});
