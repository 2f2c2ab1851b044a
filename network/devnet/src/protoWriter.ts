// SPDX-License-Identifier: Apache-2.0
/**
 * Protobuf encoding for the messages the devnet builds for every transaction (read/write sets, chaincode actions,
 * proposal response payloads, transaction envelopes). google-protobuf builds an object per message, encodes each
 * nested message into a growing array of numbers and copies it into its parent; here a message is a list of fields
 * whose encoded size is known as they are added, and the outermost message is written once into one buffer.
 *
 * The bytes are what google-protobuf's `serializeBinary` writes for the same values, provided the fields are added in
 * the order the generated code writes them (field-number order for Fabric's messages): proto3 scalars equal to their
 * default (0, false, '', empty bytes) are left out, and a nested message that is present is written even when empty.
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;

type Value = number | bigint | Uint8Array | string | ProtoMessage;

function varintSize(value: number): number {
    let size = 1;
    let rest = value;
    while (rest >= 128) {
        rest = Math.floor(rest / 128);
        size++;
    }
    return size;
}

function writeVarint(buffer: Buffer, offset: number, value: number): number {
    let at = offset;
    let rest = value;
    while (rest >= 128) {
        buffer[at++] = (rest % 128) | 0x80;
        rest = Math.floor(rest / 128);
    }
    buffer[at++] = rest;
    return at;
}

/** A negative int32/int64 is encoded as its 64-bit two's complement: ten bytes. */
function negativeVarint(value: number): bigint {
    return (1n << 64n) + BigInt(value);
}

function bigVarintSize(value: bigint): number {
    let size = 1;
    let rest = value;
    while (rest >= 128n) {
        rest >>= 7n;
        size++;
    }
    return size;
}

function writeBigVarint(buffer: Buffer, offset: number, value: bigint): number {
    let at = offset;
    let rest = value;
    while (rest >= 128n) {
        buffer[at++] = Number(rest & 0x7fn) | 0x80;
        rest >>= 7n;
    }
    buffer[at++] = Number(rest);
    return at;
}

/** A protobuf message being built: add its fields in the order they are to be written, then {@link encode} it. */
export class ProtoMessage {
    /** Per field three entries: its tag, its value, and a string value's UTF-8 length (0 for the other kinds). */
    private readonly parts: Value[] = [];
    private size = 0;

    /** The encoded length of the message's fields. */
    public get length(): number {
        return this.size;
    }

    /** A varint field (uint32/uint64/int32/int64/enum) of a safe integer; left out when 0. */
    public varint(field: number, value: number): this {
        if (!Number.isSafeInteger(value)) {
            throw new RangeError(`field ${field}: ${value} is not a safe integer`);
        }
        if (value === 0) {
            return this;
        }
        if (value < 0) {
            const wide = negativeVarint(value);
            return this.push(field, VARINT, wide, 0, bigVarintSize(wide));
        }
        return this.push(field, VARINT, value, 0, varintSize(value));
    }

    /** A bool field; left out when false. */
    public bool(field: number, value: boolean): this {
        return value ? this.push(field, VARINT, 1, 0, 1) : this;
    }

    /** A bytes field; left out when empty (a proto3 scalar at its default). */
    public bytes(field: number, value: Uint8Array | undefined): this {
        if (value === undefined || value.length === 0) {
            return this;
        }
        return this.lengthDelimited(field, value, value.length);
    }

    /** A string field; left out when empty. */
    public string(field: number, value: string): this {
        if (value.length === 0) {
            return this;
        }
        return this.lengthDelimited(field, value, Buffer.byteLength(value, 'utf8'));
    }

    /** A nested message, written even when it has no fields (it is present); left out when undefined. */
    public message(field: number, value: ProtoMessage | undefined): this {
        return value === undefined ? this : this.lengthDelimited(field, value, value.length);
    }

    /**
     * A bytes field whose content is an encoded message (as NsReadWriteSet carries its KVRWSet): left out when the
     * message is empty, as any empty bytes field is.
     */
    public bytesOf(field: number, value: ProtoMessage): this {
        return value.length === 0 ? this : this.lengthDelimited(field, value, value.length);
    }

    /** A nested message given as its encoded bytes, written even when empty (it is present). */
    public encodedMessage(field: number, value: Uint8Array): this {
        return this.lengthDelimited(field, value, value.length);
    }

    /** The encoded message. */
    public encode(): Buffer {
        const buffer = Buffer.allocUnsafe(this.size);
        const end = this.writeTo(buffer, 0);
        if (end !== this.size) {
            throw new Error(`protobuf encoding wrote ${end} bytes of ${this.size}`);
        }
        return buffer;
    }

    private lengthDelimited(field: number, value: Uint8Array | string | ProtoMessage, length: number): this {
        return this.push(field, LENGTH_DELIMITED, value, length, varintSize(length) + length);
    }

    private push(field: number, wireType: number, value: Value, length: number, valueSize: number): this {
        if (!Number.isInteger(field) || field < 1 || field > 536_870_911) {
            throw new RangeError(`invalid protobuf field number ${field}`);
        }
        const tag = field * 8 + wireType;
        this.parts.push(tag, value, length);
        this.size += varintSize(tag) + valueSize;
        return this;
    }

    private writeTo(buffer: Buffer, offset: number): number {
        let at = offset;
        for (let i = 0; i < this.parts.length; i += 3) {
            const tag = this.parts[i] as number;
            const value = this.parts[i + 1] as Value;
            at = writeVarint(buffer, at, tag);
            if (typeof value === 'number') {
                at = writeVarint(buffer, at, value);
            } else if (typeof value === 'bigint') {
                at = writeBigVarint(buffer, at, value);
            } else if (typeof value === 'string') {
                const length = this.parts[i + 2] as number;
                at = writeVarint(buffer, at, length);
                at += buffer.write(value, at, length, 'utf8');
            } else if (value instanceof ProtoMessage) {
                at = writeVarint(buffer, at, value.length);
                at = value.writeTo(buffer, at);
            } else {
                at = writeVarint(buffer, at, value.length);
                buffer.set(value, at);
                at += value.length;
            }
        }
        return at;
    }
}
