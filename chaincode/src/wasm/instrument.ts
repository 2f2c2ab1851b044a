// SPDX-License-Identifier: Apache-2.0
import { Reader, nameBytes, sLebBytes, section, u32Bytes } from './bytes';
import type { AdmittedModule } from './admission';
import { Op, readInstruction } from './instructions';

/**
 * Fuel metering, a call-depth counter and a memory cap, added by rewriting the admitted binary.
 *
 * Fuel: every instruction of the original program costs one unit. A body is cut into straight-line
 * segments, each ending at a control instruction (block, loop, if, else, end, br, br_if, br_table,
 * return, unreachable) or a call; the start of each segment gets a check-and-subtract of the
 * segment's cost, so a segment runs only when the fuel left covers all of it. A loop body is charged
 * on every iteration. memory.copy and memory.fill cost one more unit per started 16 bytes
 * ({@link BULK_BYTES_PER_FUEL}); the host functions charge the same for the bytes they copy.
 *
 * Depth: every call increments a counter before and decrements it after; passing
 * {@link MAX_CALL_DEPTH} stops the program. The counter, not the native stack, bounds recursion,
 * so every peer stops at the same depth whatever its stack size.
 *
 * Memory: memory.grow past the module's declared maximum stops the program (instead of returning −1).
 *
 * A stop sets the exported status global (fuel, depth or memory) and traps; the runtime reads it.
 * The runtime's globals, types and helper functions are appended after the module's own, so no
 * index of the original module changes.
 */

/** Calls in progress at most (host calls count too). */
export const MAX_CALL_DEPTH = 256;
/** memory.copy, memory.fill and host copies cost one fuel per this many bytes (rounded up). */
export const BULK_BYTES_PER_FUEL = 16;

/** Why the instrumentation stopped the program (the exported `__lw_status`). */
export const StopStatus = { None: 0, Fuel: 1, Depth: 2, Memory: 3 } as const;

export const EXPORT_FUEL = '__lw_fuel';
export const EXPORT_STATUS = '__lw_status';
export const EXPORT_MEMORY = '__lw_memory';

const I32 = 0x7f;
const I64 = 0x7e;

/** Returns the vector's content without its count, and the count. */
function vectorItems(raw: Uint8Array | undefined): { count: number; items: Uint8Array } {
    if (raw === undefined) {
        return { count: 0, items: new Uint8Array(0) };
    }
    const r = new Reader(raw);
    const count = r.u32();
    return { count, items: raw.subarray(r.offset) };
}

function appendVector(raw: Uint8Array | undefined, extra: readonly (readonly number[])[]): number[] {
    const { count, items } = vectorItems(raw);
    return [...u32Bytes(count + extra.length), ...items, ...extra.flat()];
}

export function instrumentModule(module: AdmittedModule): Uint8Array {
    const typeGrow = module.types.length;
    const typeBulk = typeGrow + 1;
    const definedFunctions = module.functionTypes.length;
    const fnGrow = module.importedFunctions + definedFunctions;
    const fnCopy = fnGrow + 1;
    const fnFill = fnGrow + 2;
    const gFuel = module.globalCount;
    const gDepth = gFuel + 1;
    const gStatus = gFuel + 2;
    const g = { fuel: gFuel, depth: gDepth, status: gStatus };

    const types = appendVector(module.raw.types, [
        [0x60, 1, I32, 1, I32],
        [0x60, 3, I32, I32, I32, 0],
    ]);
    const functions = appendVector(module.raw.functions, [u32Bytes(typeGrow), u32Bytes(typeBulk), u32Bytes(typeBulk)]);
    const globals = appendVector(module.raw.globals, [
        [I64, 1, 0x42, 0, 0x0b],
        [I32, 1, 0x41, 0, 0x0b],
        [I32, 1, 0x41, 0, 0x0b],
    ]);
    const exportSection = appendVector(module.raw.exports, [
        [...nameBytes(EXPORT_FUEL), 0x03, ...u32Bytes(gFuel)],
        [...nameBytes(EXPORT_STATUS), 0x03, ...u32Bytes(gStatus)],
        [...nameBytes(EXPORT_MEMORY), 0x02, 0],
    ]);
    const helpers = { grow: fnGrow, copy: fnCopy, fill: fnFill };
    const bodies = module.bodies.map((body) => encodeBody(body.locals, instrumentExpr(body.expr, g, helpers)));
    bodies.push(encodeBody([0], growHelper(g, module.memory.max)));
    bodies.push(encodeBody([1, 1, I64], bulkHelper(g, [0xfc, ...u32Bytes(10), 0, 0])));
    bodies.push(encodeBody([1, 1, I64], bulkHelper(g, [0xfc, ...u32Bytes(11), 0])));
    const code = [...u32Bytes(bodies.length), ...bodies.flat()];

    const parts: Uint8Array[] = [new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]), section(1, types)];
    const { raw } = module;
    if (raw.imports !== undefined) parts.push(section(2, raw.imports));
    parts.push(section(3, functions));
    if (raw.table !== undefined) parts.push(section(4, raw.table));
    parts.push(section(5, raw.memory), section(6, globals), section(7, exportSection));
    if (raw.elements !== undefined) parts.push(section(9, raw.elements));
    if (raw.dataCount !== undefined) parts.push(section(12, raw.dataCount));
    parts.push(section(10, code));
    if (raw.data !== undefined) parts.push(section(11, raw.data));
    return Buffer.concat(parts);
}

function encodeBody(locals: Uint8Array | readonly number[], expr: readonly number[]): number[] {
    const content = [...locals, ...expr];
    return [...u32Bytes(content.length), ...content];
}

interface Globals {
    readonly fuel: number;
    readonly depth: number;
    readonly status: number;
}

function stop(g: Globals, status: number): number[] {
    return [0x41, status, 0x24, ...u32Bytes(g.status), 0x00];
}

/** Check-and-subtract `cost` units of fuel; stack-neutral. */
export function chargeCode(g: Globals, cost: number): number[] {
    const fuel = u32Bytes(g.fuel);
    const amount = [0x42, ...sLebBytes(cost)];
    return [0x23, ...fuel, ...amount, 0x54, 0x04, 0x40, ...stop(g, StopStatus.Fuel), 0x0b, 0x23, ...fuel, ...amount, 0x7d, 0x24, ...fuel];
}

function depthEnter(g: Globals): number[] {
    const depth = u32Bytes(g.depth);
    return [0x23, ...depth, 0x41, 1, 0x6a, 0x24, ...depth, 0x23, ...depth, 0x41, ...sLebBytes(MAX_CALL_DEPTH), 0x4b, 0x04, 0x40, ...stop(g, StopStatus.Depth), 0x0b];
}

function depthLeave(g: Globals): number[] {
    const depth = u32Bytes(g.depth);
    return [0x23, ...depth, 0x41, 1, 0x6b, 0x24, ...depth];
}

const SEGMENT_END: ReadonlySet<number> = new Set([Op.Unreachable, Op.Block, Op.Loop, Op.If, Op.Else, Op.End, Op.Br, Op.BrIf, Op.BrTable, Op.Return]);

/** Rewrites one function's expression (ending with its final `end`). */
export function instrumentExpr(expr: Uint8Array, g: Globals, helpers: { grow: number; copy: number; fill: number }): number[] {
    const out: number[][] = [];
    let slot = -1;
    let cost = 0;
    const open = (): void => {
        slot = out.length;
        out.push([]);
        cost = 0;
    };
    const close = (): void => {
        out[slot] = chargeCode(g, cost);
    };
    open();
    const r = new Reader(expr);
    while (!r.done) {
        const { op, start, end } = readInstruction(r);
        const bytes = Array.from(expr.subarray(start, end));
        cost++;
        if (op === Op.Call || op === Op.CallIndirect) {
            out.push(depthEnter(g), bytes, depthLeave(g));
            close();
            open();
        } else if (op === Op.MemoryGrow) {
            out.push([0x10, ...u32Bytes(helpers.grow)]);
        } else if (op === Op.MemoryCopy) {
            out.push([0x10, ...u32Bytes(helpers.copy)]);
        } else if (op === Op.MemoryFill) {
            out.push([0x10, ...u32Bytes(helpers.fill)]);
        } else if (SEGMENT_END.has(op)) {
            out.push(bytes);
            close();
            if (r.offset < r.end) {
                open();
            }
        } else {
            out.push(bytes);
        }
    }
    return out.flat();
}

/** memory.grow that stops the program instead of failing past the declared maximum. */
function growHelper(g: Globals, maxPages: number): number[] {
    return [
        // memory.size + n > max (as i64: no wrap-around)
        0x3f, 0, 0xad, 0x20, 0, 0xad, 0x7c, 0x42, ...sLebBytes(maxPages), 0x56, 0x04, 0x40, ...stop(g, StopStatus.Memory), 0x0b,
        0x20, 0, 0x40, 0, 0x0b,
    ];
}

/** memory.copy / memory.fill (d, s|v, n) after charging ceil(n / 16) fuel. */
function bulkHelper(g: Globals, instruction: readonly number[]): number[] {
    const fuel = u32Bytes(g.fuel);
    return [
        0x20, 2, 0xad, 0x42, ...sLebBytes(BULK_BYTES_PER_FUEL - 1), 0x7c, 0x42, ...sLebBytes(Math.log2(BULK_BYTES_PER_FUEL)), 0x88, 0x21, 3,
        0x23, ...fuel, 0x20, 3, 0x54, 0x04, 0x40, ...stop(g, StopStatus.Fuel), 0x0b,
        0x23, ...fuel, 0x20, 3, 0x7d, 0x24, ...fuel,
        0x20, 0, 0x20, 1, 0x20, 2, ...instruction, 0x0b,
    ];
}
