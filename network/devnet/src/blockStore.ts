// SPDX-License-Identifier: Apache-2.0
/**
 * An append-only, crash-safe block file. Each block is framed as `[u32 BE length][32-byte SHA-256][common.Block]`
 * and fsynced before {@link BlockStore.append} returns. On open, a torn or corrupt tail (a crash mid-append) is cut
 * off; everything before it is intact by construction, and the header hash chain is checked.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { common } from '@hyperledger/fabric-protos';
import { derInteger, derLength, derOctets } from './der';

type Block = InstanceType<typeof common.Block>;
type BlockHeader = InstanceType<typeof common.BlockHeader>;

/** protoutil.BlockHeaderHash: SHA-256 of the ASN.1 DER SEQUENCE {number, previousHash, dataHash}. */
export function blockHeaderHash(header: BlockHeader): Buffer {
    const body = Buffer.concat([derInteger(BigInt(header.getNumber())), derOctets(header.getPreviousHash_asU8()), derOctets(header.getDataHash_asU8())]);
    return createHash('sha256').update(Buffer.concat([Buffer.from([0x30]), derLength(body.length), body])).digest();
}

/** protoutil.ComputeBlockDataHash (Fabric 2.x): SHA-256 over the concatenated envelopes. */
export function blockDataHash(data: readonly Uint8Array[]): Buffer {
    const hash = createHash('sha256');
    for (const entry of data) {
        hash.update(entry);
    }
    return hash.digest();
}

/** Checks a stored block's number, link to its predecessor and data hash; returns its header. */
function checkBlock(file: string, block: Block, expectedNumber: number, previousHash: Buffer | undefined): BlockHeader {
    const header = block.getHeader();
    if (header === undefined || header.getNumber() !== expectedNumber) {
        throw new Error(`block file ${file}: block ${header?.getNumber()} found where block ${expectedNumber} was expected`);
    }
    if (previousHash !== undefined && !previousHash.equals(header.getPreviousHash_asU8())) {
        throw new Error(`block file ${file}: block ${expectedNumber} does not chain to block ${expectedNumber - 1}`);
    }
    if (!blockDataHash(block.getData()?.getDataList_asU8() ?? []).equals(header.getDataHash_asU8())) {
        throw new Error(`block file ${file}: data hash mismatch in block ${expectedNumber}`);
    }
    return header;
}

/** What {@link BlockStore.open} found. */
export interface OpenedStore {
    readonly store: BlockStore;
    readonly blocks: Block[];
    /** Bytes of torn or corrupt tail that were discarded. */
    readonly discardedBytes: number;
}

/** The block file of one channel. */
export class BlockStore {
    private constructor(
        private readonly fd: number,
        private lastHash: Buffer | undefined,
        private nextNumber: number,
        private size: number,
    ) {}

    /** Opens (creating if needed) the block file at `file`, recovering its valid prefix. */
    public static open(file: string): OpenedStore {
        mkdirSync(path.dirname(file), { recursive: true });
        const content = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
        const blocks: Block[] = [];
        let offset = 0;
        let lastHash: Buffer | undefined;
        while (offset + 36 <= content.length) {
            const length = content.readUInt32BE(offset);
            const end = offset + 36 + length;
            if (end > content.length) {
                break;
            }
            const bytes = content.subarray(offset + 36, end);
            if (!createHash('sha256').update(bytes).digest().equals(content.subarray(offset + 4, offset + 36))) {
                // Only the last frame can be torn by a crash; a bad frame with data after it is corruption.
                if (end < content.length) {
                    throw new Error(`block file ${file}: corrupt block frame at offset ${offset}`);
                }
                break;
            }
            const block = common.Block.deserializeBinary(bytes);
            const header = checkBlock(file, block, blocks.length, lastHash);
            lastHash = blockHeaderHash(header);
            blocks.push(block);
            offset = end;
        }
        const fd = openSync(file, existsSync(file) ? 'r+' : 'w+');
        if (offset < content.length) {
            ftruncateSync(fd, offset);
            fsyncSync(fd);
        }
        return { store: new BlockStore(fd, lastHash, blocks.length, offset), blocks, discardedBytes: content.length - offset };
    }

    /** Number of the next block. */
    public get height(): number {
        return this.nextNumber;
    }

    /** Header hash of the last block (undefined for an empty store). */
    public get previousHash(): Buffer {
        return this.lastHash ?? Buffer.alloc(0);
    }

    /** Appends `block` (its number must be {@link height}) and fsyncs. */
    public append(block: Block): void {
        const header = block.getHeader();
        if (header === undefined || header.getNumber() !== this.nextNumber) {
            throw new Error(`expected block ${this.nextNumber}`);
        }
        const bytes = block.serializeBinary();
        const frame = Buffer.alloc(36 + bytes.length);
        frame.writeUInt32BE(bytes.length, 0);
        createHash('sha256').update(bytes).digest().copy(frame, 4);
        Buffer.from(bytes).copy(frame, 36);
        let written = 0;
        while (written < frame.length) {
            written += writeSync(this.fd, frame, written, frame.length - written, this.size + written);
        }
        fsyncSync(this.fd);
        this.size += frame.length;
        this.lastHash = blockHeaderHash(header);
        this.nextNumber++;
    }

    /** Closes the file. */
    public close(): void {
        closeSync(this.fd);
    }
}
