// SPDX-License-Identifier: Apache-2.0
import { MalformedModule } from './bytes';
import type { Reader } from './bytes';

/**
 * Decoding of function-body instructions: each instruction's opcode and extent, and whether the
 * runtime admits it. Admitted: the integer instructions of WebAssembly 1.0, sign extension, typed
 * select, reference instructions, and memory.copy / memory.fill (charged per byte). Refused: every
 * float instruction (loads, stores, constants, arithmetic, comparisons, conversions), SIMD, threads,
 * exceptions, tail calls, memory.init / data.drop, table mutation, multiple memories.
 */

export const Op = {
    Unreachable: 0x00,
    Block: 0x02,
    Loop: 0x03,
    If: 0x04,
    Else: 0x05,
    End: 0x0b,
    Br: 0x0c,
    BrIf: 0x0d,
    BrTable: 0x0e,
    Return: 0x0f,
    Call: 0x10,
    CallIndirect: 0x11,
    MemoryGrow: 0x40,
    /** 0xFC 10 */
    MemoryCopy: 0xfc0a,
    /** 0xFC 11 */
    MemoryFill: 0xfc0b,
} as const;

export const ValType = { I32: 0x7f, I64: 0x7e, F32: 0x7d, F64: 0x7c, V128: 0x7b, FuncRef: 0x70, ExternRef: 0x6f } as const;

export interface Instruction {
    /** One byte, or 0xFCxx for the 0xFC-prefixed instructions. */
    readonly op: number;
    readonly start: number;
    readonly end: number;
}

/** Why an instruction is refused, or undefined when it is admitted. */
export class RefusedInstruction extends Error {
    override readonly name = 'RefusedInstruction';
}

const FLOAT_NAMES: Record<number, string> = { 0x2a: 'f32.load', 0x2b: 'f64.load', 0x38: 'f32.store', 0x39: 'f64.store', 0x43: 'f32.const', 0x44: 'f64.const' };

/** True for one-byte opcodes that compute on or convert to/from floats. */
export function isFloatOpcode(op: number): boolean {
    return (
        FLOAT_NAMES[op] !== undefined ||
        (op >= 0x5b && op <= 0x66) || // f32/f64 comparisons
        (op >= 0x8b && op <= 0xa6) || // f32/f64 arithmetic
        (op >= 0xa8 && op <= 0xab) || // i32.trunc_f32/f64
        (op >= 0xae && op <= 0xbf) // i64.trunc_f*, convert, demote, promote, reinterpret
    );
}

/** Reads a block type: empty, a value type, or a type index (multi-value). Returns the type index, if any. */
export function readBlockType(r: Reader): void {
    const first = r.bytes[r.offset];
    if (first === 0x40) {
        r.byte();
        return;
    }
    if (first === ValType.I32 || first === ValType.I64 || first === ValType.FuncRef || first === ValType.ExternRef) {
        r.byte();
        return;
    }
    if (first === ValType.F32 || first === ValType.F64 || first === ValType.V128) {
        throw new RefusedInstruction('a block yields a float or vector value');
    }
    r.skipSigned(33);
}

function memarg(r: Reader): void {
    const align = r.u32();
    if ((align & 0x40) !== 0) {
        throw new RefusedInstruction('multiple memories are not supported');
    }
    r.u32();
}

type Immediate = 'none' | 'block' | 'index' | 'indexPair' | 'brTable' | 'selectTypes' | 'memarg' | 'memoryIndex' | 's32' | 's64' | 'refType' | 'prefixed';

/** The immediates of every admitted one-byte opcode; an opcode missing here is refused. */
const IMMEDIATES: ReadonlyMap<number, Immediate> = (() => {
    const table = new Map<number, Immediate>();
    const set = (from: number, to: number, kind: Immediate): void => {
        for (let op = from; op <= to; op++) {
            table.set(op, kind);
        }
    };
    for (const op of [0x00, 0x01, 0x05, 0x0b, 0x0f, 0x1a, 0x1b, 0xa7, 0xac, 0xad, 0xd1]) {
        table.set(op, 'none');
    }
    set(0x45, 0x5a, 'none'); // integer comparisons
    set(0x67, 0x8a, 'none'); // integer arithmetic
    set(0xc0, 0xc4, 'none'); // sign extension
    set(0x02, 0x04, 'block');
    for (const op of [0x0c, 0x0d, 0x10, 0xd2]) {
        table.set(op, 'index'); // br, br_if, call, ref.func
    }
    set(0x20, 0x26, 'index'); // local.*, global.*, table.get/set
    table.set(0x0e, 'brTable');
    table.set(0x11, 'indexPair');
    table.set(0x1c, 'selectTypes');
    set(0x28, 0x3e, 'memarg'); // integer loads and stores (the float ones are refused first)
    set(0x3f, 0x40, 'memoryIndex');
    table.set(0x41, 's32');
    table.set(0x42, 's64');
    table.set(0xd0, 'refType');
    table.set(0xfc, 'prefixed');
    return table;
})();

function selectTypes(r: Reader, start: number): void {
    const count = r.u32();
    for (let i = 0; i < count; i++) {
        const type = r.byte();
        if (type === ValType.F32 || type === ValType.F64 || type === ValType.V128) {
            throw new RefusedInstruction(`select of a float or vector type at byte ${start}`);
        }
    }
}

function brTable(r: Reader): void {
    const count = r.u32();
    for (let i = 0; i <= count; i++) {
        r.u32();
    }
}

function memoryIndex(r: Reader): void {
    if (r.byte() !== 0) {
        throw new RefusedInstruction('multiple memories are not supported');
    }
}

const IMMEDIATE_READERS: Readonly<Record<Exclude<Immediate, 'prefixed'>, (r: Reader, start: number) => void>> = {
    none: () => undefined,
    block: readBlockType,
    index: (r) => void r.u32(),
    indexPair: (r) => {
        r.u32();
        r.u32();
    },
    brTable,
    selectTypes,
    memarg,
    memoryIndex,
    s32: (r) => {
        r.skipSigned(32);
    },
    s64: (r) => {
        r.skipSigned(64);
    },
    refType: (r) => void r.byte(),
};

/** Decodes the instruction at the reader's offset, advancing past it; throws RefusedInstruction for what the runtime refuses. */
export function readInstruction(r: Reader): Instruction {
    const start = r.offset;
    const op = r.byte();
    if (isFloatOpcode(op)) {
        throw new RefusedInstruction(`float instruction ${FLOAT_NAMES[op] ?? `0x${op.toString(16)}`} at byte ${start}`);
    }
    const kind = IMMEDIATES.get(op);
    if (kind === undefined) {
        throw new RefusedInstruction(`unsupported opcode 0x${op.toString(16).padStart(2, '0')} at byte ${start}`);
    }
    if (kind === 'prefixed') {
        return { op: prefixed(r, start), start, end: r.offset };
    }
    IMMEDIATE_READERS[kind](r, start);
    return { op, start, end: r.offset };
}

function prefixed(r: Reader, start: number): number {
    const sub = r.u32();
    if (sub <= 7) {
        throw new RefusedInstruction(`float instruction (saturating truncation 0xfc ${sub}) at byte ${start}`);
    }
    if (sub === 10) {
        if (r.byte() !== 0 || r.byte() !== 0) {
            throw new RefusedInstruction('multiple memories are not supported');
        }
        return Op.MemoryCopy;
    }
    if (sub === 11) {
        if (r.byte() !== 0) {
            throw new RefusedInstruction('multiple memories are not supported');
        }
        return Op.MemoryFill;
    }
    throw new RefusedInstruction(`unsupported instruction 0xfc ${sub} at byte ${start} (memory.init, data.drop and table mutation are not offered)`);
}

/** Reads a constant expression (global initialiser, segment offset) up to and including its `end`. */
export function skipConstExpr(r: Reader): void {
    for (;;) {
        const { op } = readInstruction(r);
        if (op === Op.End) {
            return;
        }
        if (!(op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd0 || op === 0xd2)) {
            throw new MalformedModule(`opcode 0x${op.toString(16)} in a constant expression`);
        }
    }
}
