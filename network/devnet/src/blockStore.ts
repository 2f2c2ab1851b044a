// SPDX-License-Identifier: Apache-2.0
/**
 * An append-only, crash-safe block file. Each block is framed as `[u32 BE flag|length][32-byte SHA-256][bytes]`
 * and fsynced before {@link BlockStore.append} returns. The bytes are the serialized common.Block, or (flag bit set)
 * its raw DEFLATE compression with the file's preset dictionary — the channel's peer identities and CA certificates,
 * which every transaction repeats — kept beside the file in `<file>.dict`. The checksum covers the stored bytes.
 * Readers get the block exactly as serialized: only its storage is compressed. On open, a torn or corrupt tail (a crash mid-append) is cut
 * off; everything before it is intact by construction, and the header hash chain is checked. Blocks are read back
 * by location (the ledger indexes record each block's), never kept in memory.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { deflateRaw, inflateRawSync } from 'node:zlib';
import { closeSync, existsSync, fstatSync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, renameSync, write, writeSync } from 'node:fs';
import path from 'node:path';
import { common } from '@hyperledger/fabric-protos';
import { derInteger, derLength, derOctets } from './der';
import type { BlockLocation } from './ledgerDb';

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
    /** The blocks after the given savepoint (every block without one), in order. */
    readonly blocks: Block[];
    /** Where each of {@link blocks} lies in the file. */
    readonly locations: BlockLocation[];
    /** Bytes of torn or corrupt tail that were discarded. */
    readonly discardedBytes: number;
}

/** The block file does not hold the block a savepoint names (the file was truncated, replaced or damaged). */
export class BlockFileMismatchError extends Error {
    public constructor(message: string) {
        super(message);
        this.name = 'BlockFileMismatchError';
    }
}

const FRAME_HEADER = 36;
const COMPRESSED = 0x8000_0000;
const LENGTH_MASK = 0x7fff_ffff;
const deflateRawAsync = promisify(deflateRaw);
const writeAsync = promisify(write);
const fsyncAsync = promisify(fsync);

function frameOf(stored: Uint8Array, compressed: boolean): Buffer {
    const frame = Buffer.alloc(FRAME_HEADER + stored.length);
    frame.writeUInt32BE((stored.length | (compressed ? COMPRESSED : 0)) >>> 0, 0);
    createHash('sha256').update(stored).digest().copy(frame, 4);
    Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).copy(frame, FRAME_HEADER);
    return frame;
}

/** The length of the stored bytes a frame header announces. */
function storedLength(word: number): number {
    return word & LENGTH_MASK;
}

/** The serialized block a whole frame holds, or undefined if its length or checksum does not match (a torn frame). */
function decodeFrame(file: string, frame: Buffer, dictionary: Buffer | undefined): Buffer | undefined {
    if (frame.length < FRAME_HEADER) {
        return undefined;
    }
    const word = frame.readUInt32BE(0);
    if (storedLength(word) !== frame.length - FRAME_HEADER) {
        return undefined;
    }
    const stored = frame.subarray(FRAME_HEADER);
    if (!createHash('sha256').update(stored).digest().equals(frame.subarray(4, FRAME_HEADER))) {
        return undefined;
    }
    if ((word & COMPRESSED) === 0) {
        return stored;
    }
    if (dictionary === undefined) {
        throw new Error(`block file ${file} holds compressed blocks but its dictionary ${file}.dict is missing`);
    }
    return inflateRawSync(stored, { dictionary });
}

/** How to open a block file. */
export interface BlockStoreOptions {
    /**
     * The savepoint of indexes built from this file: only the blocks after it are read, and its own block is checked
     * to be where and what it says (else {@link BlockFileMismatchError}).
     */
    readonly after?: { readonly blockNumber: number; readonly location: BlockLocation; readonly headerHash: Buffer };
    /**
     * The preset dictionary to compress blocks with, used (and stored beside the file) if the file has none yet; a
     * file's dictionary never changes. Without either, blocks are stored uncompressed.
     */
    readonly dictionary?: Uint8Array;
}

/** The file's dictionary: the one stored beside it, else `given`, written durably before any block uses it. */
function loadDictionary(file: string, given: Uint8Array | undefined): Buffer | undefined {
    const dictFile = `${file}.dict`;
    if (existsSync(dictFile)) {
        return readFileSync(dictFile);
    }
    if (given === undefined || given.length === 0) {
        return undefined;
    }
    const partial = `${dictFile}.partial`;
    const fd = openSync(partial, 'w');
    try {
        writeSync(fd, given);
        fsyncSync(fd);
    } finally {
        closeSync(fd);
    }
    renameSync(partial, dictFile);
    const dirFd = openSync(path.dirname(file), 'r');
    try {
        fsyncSync(dirFd);
    } finally {
        closeSync(dirFd);
    }
    return Buffer.from(given);
}

function readAt(fd: number, offset: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
        const n = readSync(fd, out, read, length - read, offset + read);
        if (n === 0) {
            return out.subarray(0, read);
        }
        read += n;
    }
    return out;
}

/** The block file of one channel. */
export class BlockStore {
    private appending = false;

    private constructor(
        private readonly file: string,
        private readonly fd: number,
        private readonly dictionary: Buffer | undefined,
        private lastHash: Buffer | undefined,
        private nextNumber: number,
        private size: number,
    ) {}

    /**
     * Opens (creating if needed) the block file at `file` and recovers its valid prefix: a torn tail is cut off, the
     * hash chain checked. Given a savepoint, opening costs the same at any height.
     */
    public static open(file: string, options: BlockStoreOptions = {}): OpenedStore {
        mkdirSync(path.dirname(file), { recursive: true });
        const fd = openSync(file, existsSync(file) ? 'r+' : 'w+');
        try {
            return BlockStore.recover(file, fd, options.after, loadDictionary(file, options.dictionary));
        } catch (error) {
            closeSync(fd);
            throw error;
        }
    }

    private static recover(file: string, fd: number, after: BlockStoreOptions['after'], dictionary: Buffer | undefined): OpenedStore {
        const fileSize = fstatSync(fd).size;
        let start = 0;
        let lastHash: Buffer | undefined;
        let nextNumber = 0;
        if (after !== undefined) {
            const { offset, length } = after.location;
            const body = offset + length <= fileSize ? decodeFrame(file, readAt(fd, offset, length), dictionary) : undefined;
            const header = body === undefined ? undefined : common.Block.deserializeBinary(body).getHeader();
            if (header === undefined || header.getNumber() !== after.blockNumber || !blockHeaderHash(header).equals(after.headerHash)) {
                throw new BlockFileMismatchError(`block file ${file} does not hold block ${after.blockNumber} at offset ${offset} as the ledger indexes record`);
            }
            start = offset + length;
            lastHash = after.headerHash;
            nextNumber = after.blockNumber + 1;
        }
        const content = readAt(fd, start, fileSize - start);
        const blocks: Block[] = [];
        const locations: BlockLocation[] = [];
        let offset = 0;
        while (offset + FRAME_HEADER <= content.length) {
            const end = offset + FRAME_HEADER + storedLength(content.readUInt32BE(offset));
            if (end > content.length) {
                break;
            }
            const bytes = decodeFrame(file, content.subarray(offset, end), dictionary);
            if (bytes === undefined) {
                // Only the last frame can be torn by a crash; a bad frame with data after it is corruption.
                if (end < content.length) {
                    throw new Error(`block file ${file}: corrupt block frame at offset ${start + offset}`);
                }
                break;
            }
            const block = common.Block.deserializeBinary(bytes);
            const header = checkBlock(file, block, nextNumber, lastHash);
            lastHash = blockHeaderHash(header);
            blocks.push(block);
            locations.push({ offset: start + offset, length: end - offset });
            nextNumber++;
            offset = end;
        }
        if (offset < content.length) {
            ftruncateSync(fd, start + offset);
            fsyncSync(fd);
        }
        return { store: new BlockStore(file, fd, dictionary, lastHash, nextNumber, start + offset), blocks, locations, discardedBytes: content.length - offset };
    }

    /** Number of the next block. */
    public get height(): number {
        return this.nextNumber;
    }

    /** Header hash of the last block (undefined for an empty store). */
    public get previousHash(): Buffer {
        return this.lastHash ?? Buffer.alloc(0);
    }

    /**
     * Appends `block` (its number must be {@link height}) and fsyncs (unless `sync` is false, for bulk loads that
     * sync once at the end); returns where its frame lies. Compression runs off the main thread; appends must not
     * overlap.
     */
    public async append(block: Block, { sync = true }: { readonly sync?: boolean } = {}): Promise<BlockLocation> {
        const header = block.getHeader();
        if (header === undefined || header.getNumber() !== this.nextNumber) {
            throw new Error(`expected block ${this.nextNumber}`);
        }
        if (this.appending) {
            throw new Error(`block file ${this.file}: appends must not overlap`);
        }
        this.appending = true;
        try {
            const bytes = block.serializeBinary();
            const frame = this.dictionary === undefined ? frameOf(bytes, false) : frameOf(await deflateRawAsync(bytes, { dictionary: this.dictionary }), true);
            // Written and fsynced on the thread pool: the main thread serves requests meanwhile.
            let written = 0;
            while (written < frame.length) {
                written += (await writeAsync(this.fd, frame, written, frame.length - written, this.size + written)).bytesWritten;
            }
            if (sync) {
                await fsyncAsync(this.fd);
            }
            const location = { offset: this.size, length: frame.length };
            this.size += frame.length;
            this.lastHash = blockHeaderHash(header);
            this.nextNumber++;
            return location;
        } finally {
            this.appending = false;
        }
    }

    /** The serialized block whose frame lies at `location` (as {@link append} or {@link open} reported it). */
    public read(location: BlockLocation): Buffer {
        const body = location.offset + location.length <= this.size ? decodeFrame(this.file, readAt(this.fd, location.offset, location.length), this.dictionary) : undefined;
        if (body === undefined) {
            throw new Error(`block file ${this.file}: no intact block frame at offset ${location.offset}`);
        }
        return body;
    }

    /** Flushes appended blocks to disk. */
    public sync(): void {
        fsyncSync(this.fd);
    }

    /** Closes the file. */
    public close(): void {
        closeSync(this.fd);
    }
}
