// SPDX-License-Identifier: Apache-2.0
import { appendFileSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
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

async function fill(file: string, count: number): Promise<void> {
    const { store } = BlockStore.open(file);
    for (let i = 0; i < count; i++) {
        await store.append(block(i, store.previousHash, [Buffer.from(`tx ${i}`)]));
    }
    store.close();
}

describe('BlockStore', () => {
    it('reopens every appended block, chained by header hash', async () => {
        const file = path.join(tempDir(), 'c.blocks');
        await fill(file, 4);
        const { blocks, store, discardedBytes } = BlockStore.open(file);
        expect(discardedBytes).toBe(0);
        expect(blocks.map((b) => b.getHeader()?.getNumber())).toEqual([0, 1, 2, 3]);
        expect(Buffer.from(blocks[2]?.getHeader()?.getPreviousHash_asU8() ?? [])).toEqual(blockHeaderHash(blocks[1]?.getHeader() ?? new common.BlockHeader()));
        expect(store.height).toBe(4);
        store.close();
    });

    it('cuts off a torn last frame and appends after it', async () => {
        const file = path.join(tempDir(), 'c.blocks');
        await fill(file, 3);
        const intact = readFileSync(file).length;
        const lastFrame = readFileSync(file).subarray(0, intact);
        appendFileSync(file, lastFrame.subarray(0, 50));
        const opened = BlockStore.open(file);
        expect(opened.blocks).toHaveLength(3);
        expect(opened.discardedBytes).toBe(50);
        await opened.store.append(block(3, opened.store.previousHash, []));
        opened.store.close();
        expect(BlockStore.open(file).blocks).toHaveLength(4);
    });

    it('reads a block back by the location append gave, and refuses a location that is not an intact frame', async () => {
        const file = path.join(tempDir(), 'c.blocks');
        const { store } = BlockStore.open(file);
        await store.append(block(0, new Uint8Array(), [Buffer.from('genesis')]));
        const location = await store.append(block(1, store.previousHash, [Buffer.from('one')]));
        const read = common.Block.deserializeBinary(store.read(location));
        expect(read.getHeader()?.getNumber()).toBe(1);
        expect(() => store.read({ offset: location.offset + 1, length: location.length - 1 })).toThrow('no intact block frame');
        expect(() => store.read({ offset: location.offset, length: location.length + 10 })).toThrow('no intact block frame');
        store.close();
        const reopened = BlockStore.open(file);
        expect(reopened.locations[1]).toEqual(location);
        reopened.store.close();
    });

    it('refuses a block file whose hash chain was rewritten', async () => {
        const file = path.join(tempDir(), 'c.blocks');
        const { store } = BlockStore.open(file);
        await store.append(block(0, new Uint8Array(), []));
        await store.append(block(1, Buffer.alloc(32, 7), []));
        store.close();
        expect(() => BlockStore.open(file)).toThrow('does not chain');
    });

    it('treats a frame whose checksum does not match as the torn end', async () => {
        const file = path.join(tempDir(), 'c.blocks');
        await fill(file, 2);
        const bytes = readFileSync(file);
        bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
        writeFileSync(file, bytes);
        expect(BlockStore.open(file).blocks).toHaveLength(1);
    });

    it('refuses a corrupt frame that is followed by more blocks (not a torn tail)', async () => {
        const file = path.join(tempDir(), 'c.blocks');
        await fill(file, 3);
        const bytes = readFileSync(file);
        bytes.writeUInt8(bytes.readUInt8(40) ^ 0xff, 40);
        writeFileSync(file, bytes);
        expect(() => BlockStore.open(file)).toThrow('corrupt block frame at offset 0');
    });

    describe('with a dictionary', () => {
        const identity = Buffer.from(`-----BEGIN CERTIFICATE-----\n${'MIICZTCCAgygAwIBAgIQUwn+6WpPksrhQTTg0zSHmjAKBggqhkjOPQQDAjB3MQsw'.repeat(12)}\n-----END CERTIFICATE-----\n`);
        const txLike = (i: number): Buffer => Buffer.concat([Buffer.from(`tx ${i} `), identity, Buffer.from(` signed ${i}`), identity]);

        it('stores blocks compressed and returns them byte for byte, also after reopening from the stored dictionary', async () => {
            const dir = tempDir();
            const plainFile = path.join(dir, 'plain.blocks');
            const file = path.join(dir, 'c.blocks');
            const plain = BlockStore.open(plainFile).store;
            const { store } = BlockStore.open(file, { dictionary: identity });
            const written: Uint8Array[] = [];
            const locations = [];
            for (let i = 0; i < 5; i++) {
                const b = block(i, store.previousHash, [txLike(i), txLike(i + 100)]);
                await plain.append(block(i, plain.previousHash, [txLike(i), txLike(i + 100)]));
                written.push(b.serializeBinary());
                locations.push(await store.append(b));
            }
            plain.close();
            expect(locations.map((l) => Buffer.from(store.read(l)))).toEqual(written.map((b) => Buffer.from(b)));
            store.close();
            expect(statSync(file).size * 5).toBeLessThan(statSync(plainFile).size);

            // The dictionary given later is ignored: the file's own is kept beside it.
            const reopened = BlockStore.open(file, { dictionary: Buffer.from('another dictionary') });
            expect(reopened.blocks.map((b) => Buffer.from(b.serializeBinary()))).toEqual(written.map((b) => Buffer.from(b)));
            expect(reopened.locations).toEqual(locations);
            reopened.store.close();
        });

        it('opens a file whose older blocks are uncompressed, and cuts a torn compressed tail', async () => {
            const file = path.join(tempDir(), 'c.blocks');
            await fill(file, 2);
            const { store } = BlockStore.open(file, { dictionary: identity });
            await store.append(block(2, store.previousHash, [txLike(2)]));
            await store.append(block(3, store.previousHash, [txLike(3)]));
            store.close();
            const whole = readFileSync(file);
            writeFileSync(file, whole.subarray(0, whole.length - 3));
            const opened = BlockStore.open(file);
            expect(opened.blocks.map((b) => b.getHeader()?.getNumber())).toEqual([0, 1, 2]);
            expect(opened.discardedBytes).toBeGreaterThan(0);
            opened.store.close();
        });

        it('refuses compressed blocks whose dictionary is gone, naming the file', async () => {
            const file = path.join(tempDir(), 'c.blocks');
            const { store } = BlockStore.open(file, { dictionary: identity });
            await store.append(block(0, new Uint8Array(), [txLike(0)]));
            store.close();
            unlinkSync(`${file}.dict`);
            expect(() => BlockStore.open(file)).toThrow(`holds compressed blocks but its dictionary ${file}.dict is missing`);
        });
    });
});
