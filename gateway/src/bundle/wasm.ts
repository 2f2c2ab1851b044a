// SPDX-License-Identifier: Apache-2.0
/**
 * Minimal reader for the WebAssembly binary format (core spec §5): the module header, the section
 * list, LEB128 integers and names. Enough to find custom sections (the bundle's key) and to inspect
 * imports and memories (the sandbox's admission checks). It never executes or compiles anything.
 */

/** The 8-byte header of a version-1 WebAssembly module: `\0asm` followed by version 1 (little endian). */
export const WASM_HEADER = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** Thrown for bytes that are not a well-formed WebAssembly module at the section level. */
export class WasmFormatError extends Error {
    override readonly name = 'WasmFormatError';
}

/** One section of a module: its id, where its payload lies, and for custom sections (id 0) its name. */
export interface WasmSection {
    /** Section id: 0 custom, 1 type, 2 import, 3 function, 4 table, 5 memory, … 12 data count. */
    readonly id: number;
    /** Offset of the section id byte. */
    readonly start: number;
    /** Offset of the first payload byte (after the size field). */
    readonly payloadStart: number;
    /** Offset just after the section. */
    readonly end: number;
    /** Name of a custom section; undefined for other sections. */
    readonly name?: string;
    /** Offset of a custom section's contents, just after its name. */
    readonly contentStart?: number;
}

/** A cursor over a byte array that decodes the binary format's primitive values. */
export class WasmReader {
    private pos: number;

    /** Reads `bytes` from `start` (inclusive) to `end` (exclusive). */
    constructor(
        private readonly bytes: Uint8Array,
        start = 0,
        private readonly end = bytes.length,
    ) {
        this.pos = start;
    }

    /** The current offset. */
    get offset(): number {
        return this.pos;
    }

    /** True when every byte up to `end` has been read. */
    get done(): boolean {
        return this.pos >= this.end;
    }

    /** One byte. */
    byte(): number {
        if (this.pos >= this.end) {
            throw new WasmFormatError(`unexpected end of data at offset ${this.pos}`);
        }
        return this.bytes[this.pos++] ?? 0;
    }

    /** An unsigned LEB128 integer of at most 32 bits. */
    u32(): number {
        let result = 0;
        let shift = 0;
        for (;;) {
            const b = this.byte();
            if (shift === 28 && (b & 0x70) !== 0) {
                throw new WasmFormatError(`u32 out of range at offset ${this.pos - 1}`);
            }
            result += (b & 0x7f) * 2 ** shift;
            if ((b & 0x80) === 0) {
                return result;
            }
            shift += 7;
            if (shift > 28) {
                throw new WasmFormatError(`u32 too long at offset ${this.pos}`);
            }
        }
    }

    /** An unsigned LEB128 integer of at most 64 bits, as a bigint (memory64 limits). */
    u64(): bigint {
        let result = 0n;
        let shift = 0n;
        for (;;) {
            const b = this.byte();
            result |= BigInt(b & 0x7f) << shift;
            if ((b & 0x80) === 0) {
                return result;
            }
            shift += 7n;
            if (shift > 63n) {
                throw new WasmFormatError(`u64 too long at offset ${this.pos}`);
            }
        }
    }

    /** `n` raw bytes (a view, not a copy). */
    take(n: number): Uint8Array {
        if (n > this.end - this.pos) {
            throw new WasmFormatError(`length ${n} at offset ${this.pos} runs past the end`);
        }
        const out = this.bytes.subarray(this.pos, this.pos + n);
        this.pos += n;
        return out;
    }

    /** A name: u32 length then UTF-8 bytes (decoded strictly). */
    name(): string {
        const raw = this.take(this.u32());
        try {
            return new TextDecoder('utf-8', { fatal: true }).decode(raw);
        } catch {
            throw new WasmFormatError(`invalid UTF-8 in a name at offset ${this.pos - raw.length}`);
        }
    }
}

/**
 * Splits a module into its sections without validating their contents.
 * @throws {WasmFormatError} when the header is wrong or a section size runs past the end
 */
export function listSections(bytes: Uint8Array): WasmSection[] {
    if (bytes.length < WASM_HEADER.length || !WASM_HEADER.equals(bytes.subarray(0, WASM_HEADER.length))) {
        throw new WasmFormatError('not a WebAssembly version 1 module (bad magic or version)');
    }
    const sections: WasmSection[] = [];
    const reader = new WasmReader(bytes, WASM_HEADER.length);
    while (!reader.done) {
        const start = reader.offset;
        const id = reader.byte();
        const size = reader.u32();
        const payloadStart = reader.offset;
        reader.take(size);
        const end = reader.offset;
        if (id === 0) {
            const inner = new WasmReader(bytes, payloadStart, end);
            const name = inner.name();
            sections.push({ id, start, payloadStart, end, name, contentStart: inner.offset });
        } else {
            sections.push({ id, start, payloadStart, end });
        }
    }
    return sections;
}

/** Unsigned LEB128 encoding of a non-negative safe integer. */
export function encodeU32(value: number): Buffer {
    if (!Number.isSafeInteger(value) || value < 0 || value > 0xffffffff) {
        throw new RangeError(`not a u32: ${value}`);
    }
    const out: number[] = [];
    let v = value;
    do {
        let b = v % 128;
        v = Math.floor(v / 128);
        if (v !== 0) {
            b |= 0x80;
        }
        out.push(b);
    } while (v !== 0);
    return Buffer.from(out);
}

/** Encodes a whole section: id, size, payload. */
export function encodeSection(id: number, payload: Uint8Array): Buffer {
    return Buffer.concat([Buffer.from([id]), encodeU32(payload.length), payload]);
}

/** Encodes a custom section (id 0) with the given name and contents. */
export function encodeCustomSection(name: string, contents: Uint8Array): Buffer {
    const nameBytes = Buffer.from(name, 'utf8');
    return encodeSection(0, Buffer.concat([encodeU32(nameBytes.length), nameBytes, contents]));
}
