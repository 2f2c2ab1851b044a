// SPDX-License-Identifier: Apache-2.0

/**
 * Reading and writing the WebAssembly binary encoding: bytes, LEB128 integers, names, vectors.
 * A reader that runs past its end, or meets an over-long LEB128, throws {@link MalformedModule}.
 */

export class MalformedModule extends Error {
    override readonly name = 'MalformedModule';
}

export class Reader {
    offset: number;

    constructor(
        readonly bytes: Uint8Array,
        start = 0,
        readonly end = bytes.length,
    ) {
        this.offset = start;
    }

    get done(): boolean {
        return this.offset >= this.end;
    }

    byte(): number {
        if (this.offset >= this.end) {
            throw new MalformedModule(`unexpected end at byte ${this.offset}`);
        }
        return this.bytes[this.offset++] as number;
    }

    take(length: number): Uint8Array {
        if (length < 0 || this.offset + length > this.end) {
            throw new MalformedModule(`a ${length}-byte field runs past the end at byte ${this.offset}`);
        }
        const out = this.bytes.subarray(this.offset, this.offset + length);
        this.offset += length;
        return out;
    }

    /** An unsigned LEB128 of at most 32 bits. */
    u32(): number {
        let result = 0;
        let shift = 0;
        for (;;) {
            const b = this.byte();
            if (shift === 28 && (b & 0x70) !== 0) {
                throw new MalformedModule(`u32 out of range at byte ${this.offset - 1}`);
            }
            result += (b & 0x7f) * 2 ** shift;
            if ((b & 0x80) === 0) {
                return result;
            }
            shift += 7;
            if (shift > 28) {
                throw new MalformedModule(`u32 too long at byte ${this.offset - 1}`);
            }
        }
    }

    /** A signed LEB128 of at most `bits` bits; only skipped (instrumentation copies its bytes). */
    skipSigned(bits: number): void {
        const maxBytes = Math.ceil(bits / 7);
        for (let i = 0; i < maxBytes; i++) {
            if ((this.byte() & 0x80) === 0) {
                return;
            }
        }
        throw new MalformedModule(`signed integer too long at byte ${this.offset - 1}`);
    }

    name(): string {
        const raw = this.take(this.u32());
        const text = Buffer.from(raw).toString('utf8');
        if (!Buffer.from(text, 'utf8').equals(Buffer.from(raw))) {
            throw new MalformedModule('a name is not valid UTF-8');
        }
        return text;
    }
}

export function u32Bytes(value: number): number[] {
    const out: number[] = [];
    let rest = value >>> 0;
    do {
        let b = rest & 0x7f;
        rest >>>= 7;
        if (rest !== 0) {
            b |= 0x80;
        }
        out.push(b);
    } while (rest !== 0);
    return out;
}

/** Signed LEB128 of a safe integer or bigint (i32.const / i64.const immediates). */
export function sLebBytes(value: bigint | number): number[] {
    let rest = BigInt(value);
    const out: number[] = [];
    for (;;) {
        const b = Number(rest & 0x7fn);
        rest >>= 7n;
        const signBit = (b & 0x40) !== 0;
        if ((rest === 0n && !signBit) || (rest === -1n && signBit)) {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

export function nameBytes(name: string): number[] {
    const raw = Buffer.from(name, 'utf8');
    return [...u32Bytes(raw.length), ...raw];
}

/** A section: id, then its content's length and the content. */
export function section(id: number, content: readonly number[] | Uint8Array): Uint8Array {
    const head = [id, ...u32Bytes(content.length)];
    const out = new Uint8Array(head.length + content.length);
    out.set(head, 0);
    out.set(content, head.length);
    return out;
}
