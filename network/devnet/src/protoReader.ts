// SPDX-License-Identifier: Apache-2.0
/**
 * Protobuf decoding for the messages the devnet reads for every transaction, without google-protobuf's object per
 * message: a message's fields are read once into the values of its varint and length-delimited fields, and nested
 * messages stay bytes until they are read in turn.
 *
 * Malformed input throws, as proto.Unmarshal fails on it: a truncated or overlong varint, a field running past the
 * end, field number 0, an unknown wire type, or a field read with another wire type than it was written with.
 * Fields not asked for are skipped, as unknown fields are. A singular field given twice takes its last value.
 */

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

const TWO_POW_53 = 2 ** 53;

/** A varint's value: a number while it is exact, else a bigint (negative int32/int64 take ten bytes). */
type VarintValue = number | bigint;

interface Occurrences {
    readonly wireType: number;
    readonly values: (Uint8Array | VarintValue)[];
}

export class ProtoReader {
    /** The field numbers met, in order, and their occurrences (a message has a handful: a scan beats a Map). */
    private readonly numbers: number[] = [];
    private readonly occurred: Occurrences[] = [];
    /** Fields that occur with more than one wire type (rarely any). */
    private mixed: Set<number> | undefined;

    /** Reads the fields of one encoded message; throws if its wire format is malformed. */
    public constructor(bytes: Uint8Array) {
        let at = 0;
        while (at < bytes.length) {
            const tag = readVarint(bytes, at);
            at = tag.next;
            const key = typeof tag.value === 'number' ? tag.value : Number(tag.value);
            const field = Math.floor(key / 8);
            const wireType = key % 8;
            if (field === 0 || field > 536_870_911) {
                throw new Error(`invalid field number ${field}`);
            }
            const read = readValue(bytes, at, field, wireType);
            const value = read.value;
            at = read.next;
            const known = this.find(field);
            if (known === undefined) {
                this.numbers.push(field);
                this.occurred.push({ wireType, values: value === undefined ? [] : [value] });
            } else if (known.wireType !== wireType) {
                // Only an error if the field is read (an unknown field is skipped whatever it holds).
                (this.mixed ??= new Set()).add(field);
            } else if (value !== undefined) {
                known.values.push(value);
            }
        }
    }

    /** Whether the message has field `field`. */
    public has(field: number): boolean {
        return this.numbers.includes(field);
    }

    /** A bytes, string or message field's last value; empty when absent. */
    public bytes(field: number): Uint8Array {
        const values = this.occurrences(field, LENGTH_DELIMITED);
        return (values.at(-1) as Uint8Array | undefined) ?? new Uint8Array();
    }

    /** A string field's last value; '' when absent. */
    public string(field: number): string {
        const bytes = this.bytes(field);
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    }

    /** A nested message's last value, undefined when absent. */
    public message(field: number): ProtoReader | undefined {
        return this.has(field) ? new ProtoReader(this.bytes(field)) : undefined;
    }

    /** A repeated bytes or message field's values, in order. */
    public repeated(field: number): Uint8Array[] {
        return this.occurrences(field, LENGTH_DELIMITED) as Uint8Array[];
    }

    /** An int32 or enum field's last value (its low 32 bits, signed); 0 when absent. */
    public int32(field: number): number {
        const value = this.varint(field);
        return typeof value === 'number' ? value | 0 : Number(BigInt.asIntN(32, value));
    }

    /** An int64 field's last value; 0 when absent. Throws when it is not a safe integer. */
    public int64(field: number): number {
        const value = this.varint(field);
        const signed = typeof value === 'number' ? value : Number(BigInt.asIntN(64, value));
        if (!Number.isSafeInteger(signed)) {
            throw new Error(`field ${field}: ${String(value)} is beyond the integers this devnet handles`);
        }
        return signed;
    }

    private find(field: number): Occurrences | undefined {
        const index = this.numbers.indexOf(field);
        return index < 0 ? undefined : this.occurred[index];
    }

    private varint(field: number): VarintValue {
        const values = this.occurrences(field, VARINT);
        return (values.at(-1) as VarintValue | undefined) ?? 0;
    }

    private occurrences(field: number, wireType: number): readonly (Uint8Array | VarintValue)[] {
        const known = this.find(field);
        if (known === undefined) {
            return [];
        }
        if (known.wireType !== wireType || this.mixed?.has(field) === true) {
            throw new Error(`field ${field} does not have wire type ${wireType}`);
        }
        return known.values;
    }
}

/** The value of field `field` of wire type `wireType` at `at` (undefined for the fixed-width types, skipped). */
export function readValue(bytes: Uint8Array, at: number, field: number, wireType: number): { readonly value: Uint8Array | VarintValue | undefined; readonly next: number } {
    if (wireType === VARINT) {
        return readVarint(bytes, at);
    }
    if (wireType === LENGTH_DELIMITED) {
        const length = readVarint(bytes, at);
        const end = length.next + Number(length.value);
        if (end > bytes.length) {
            throw new Error(`field ${field} runs past the end of the message`);
        }
        return { value: bytes.subarray(length.next, end), next: end };
    }
    if (wireType === FIXED64 || wireType === FIXED32) {
        const next = at + (wireType === FIXED64 ? 8 : 4);
        if (next > bytes.length) {
            throw new Error(`field ${field} runs past the end of the message`);
        }
        return { value: undefined, next };
    }
    throw new Error(`unsupported wire type ${wireType} of field ${field}`);
}

export function readVarint(bytes: Uint8Array, start: number): { readonly value: VarintValue; readonly next: number } {
    let value = 0;
    let scale = 1;
    for (let i = start; i < bytes.length && i < start + 10; i++) {
        const byte = bytes[i] as number;
        value += (byte & 0x7f) * scale;
        if ((byte & 0x80) === 0) {
            return { value: value < TWO_POW_53 ? value : bigVarint(bytes, start, i), next: i + 1 };
        }
        scale *= 128;
    }
    throw new Error('truncated or overlong varint');
}

/** The varint in bytes start..last, exactly (within 64 bits, as protobuf's decoders take it). */
function bigVarint(bytes: Uint8Array, start: number, last: number): bigint {
    let value = 0n;
    for (let i = last; i >= start; i--) {
        value = (value << 7n) | BigInt((bytes[i] as number) & 0x7f);
    }
    return BigInt.asUintN(64, value);
}
