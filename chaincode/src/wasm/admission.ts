// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';
import { MalformedModule, Reader } from './bytes';
import { RefusedInstruction, ValType, readInstruction, skipConstExpr } from './instructions';

/**
 * Admission of a program into the deterministic runtime. A module is admitted only if every endorsing
 * peer is bound to reach the same verdict on it: integer-only code (no float type, instruction or
 * value anywhere), no start function, imports only from the host functions the chaincode offers, one
 * memory with a declared maximum no larger than {@link MAX_MEMORY_PAGES}, bounded tables, locals and
 * functions. Everything refused is a PROGRAM_REFUSED error naming the reason.
 */

/** Largest program the ledger stores. */
export const MAX_PROGRAM_BYTES = 256 * 1024;
/** Largest memory a program may declare, in 64 KiB pages (4 MiB). */
export const MAX_MEMORY_PAGES = 64;
/** Largest table a program may declare. */
export const MAX_TABLE_ELEMENTS = 10_000;
/** Parameters plus locals of one function, at most: bounds a call frame, so the call-depth cap bounds the native stack. */
export const MAX_FUNCTION_LOCALS = 256;
export const MAX_FUNCTIONS = 10_000;
/** Custom section a task bundle carries its private key in; a program with it is never stored. */
export const KEY_SECTION = 'ledgerwork.key';
/** The import module of the host functions. */
export const HOST_MODULE = 'ledgerwork';

/** The host functions a program may import, with their signatures (params → results). */
export const HOST_FUNCTIONS: Readonly<Record<string, { readonly params: readonly number[]; readonly results: readonly number[] }>> = {
    /** read_input(ptr, max) → length: copies up to max bytes of the input to ptr, returns the input's full length. */
    read_input: { params: [ValType.I32, ValType.I32], results: [ValType.I32] },
    /** read_result(ptr, max) → length: the same for the result under test (a merge's right child). */
    read_result: { params: [ValType.I32, ValType.I32], results: [ValType.I32] },
    /** write_output(ptr, len): the verdict's reason (validators) or the merged value (merges); once. */
    write_output: { params: [ValType.I32, ValType.I32], results: [] },
};

/** Entry points a program exports; each takes nothing and returns an i32. */
export const ENTRY_POINTS = ['validate', 'merge'] as const;
export type EntryPoint = (typeof ENTRY_POINTS)[number];

export interface FuncType {
    readonly params: readonly number[];
    readonly results: readonly number[];
}

export interface CodeBody {
    /** The locals declaration bytes (count, then groups), copied verbatim. */
    readonly locals: Uint8Array;
    /** The expression, ending with its final `end`. */
    readonly expr: Uint8Array;
}

/** A module as admission understood it; the instrumenter rebuilds the binary from these parts. */
export interface AdmittedModule {
    readonly types: readonly FuncType[];
    /** Raw section contents (without id and size) copied through unchanged. */
    readonly raw: { readonly types: Uint8Array; readonly imports?: Uint8Array; readonly functions: Uint8Array; readonly table?: Uint8Array; readonly memory: Uint8Array; readonly globals?: Uint8Array; readonly exports?: Uint8Array; readonly elements?: Uint8Array; readonly dataCount?: Uint8Array; readonly data?: Uint8Array };
    readonly importedFunctions: number;
    readonly functionTypes: readonly number[];
    readonly globalCount: number;
    readonly exportCount: number;
    readonly memory: { readonly min: number; readonly max: number };
    readonly bodies: readonly CodeBody[];
    /** The entry points the module exports with the right signature, sorted. */
    readonly entryPoints: readonly EntryPoint[];
}

function refuse(reason: string): never {
    throw new LedgerworkError(ErrorCode.ProgramRefused, reason);
}

/**
 * Parses and checks a module. @throws {LedgerworkError} LIMIT_EXCEEDED when too large,
 * PROGRAM_REFUSED when malformed or outside what the runtime admits.
 */
export function admitModule(bytes: Uint8Array): AdmittedModule {
    if (bytes.length > MAX_PROGRAM_BYTES) {
        throw new LedgerworkError(ErrorCode.LimitExceeded, `a program is at most ${MAX_PROGRAM_BYTES} bytes; this one has ${bytes.length}`);
    }
    try {
        return parse(bytes);
    } catch (err) {
        if (err instanceof MalformedModule || err instanceof RefusedInstruction) {
            return refuse(err.message);
        }
        throw err;
    }
}

const SECTION_ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12 };

type Raw = { -readonly [K in keyof AdmittedModule['raw']]: AdmittedModule['raw'][K] };

interface ParseState {
    raw: Partial<Raw>;
    types: FuncType[];
    importedFunctions: number;
    functionTypes: number[];
    globalCount: number;
    exportList: { name: string; kind: number; index: number }[];
    memory?: { min: number; max: number };
    bodies: CodeBody[];
}

function parse(bytes: Uint8Array): AdmittedModule {
    const r = new Reader(bytes);
    const header = r.take(8);
    if (!Buffer.from(header).equals(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]))) {
        refuse('not a WebAssembly 1.0 binary module (bad magic or version)');
    }
    const state: ParseState = { raw: {}, types: [], importedFunctions: 0, functionTypes: [], globalCount: 0, exportList: [], bodies: [] };
    let lastOrder = 0;
    while (!r.done) {
        const id = r.byte();
        const size = r.u32();
        const content = r.take(size);
        const s = new Reader(bytes, content.byteOffset - bytes.byteOffset, content.byteOffset - bytes.byteOffset + size);
        if (id === 0) {
            if (s.name() === KEY_SECTION) {
                refuse(`the module carries a ${KEY_SECTION} section: a task bundle holds a private key and never goes on the ledger`);
            }
            continue;
        }
        const order = SECTION_ORDER[id];
        if (order === undefined) {
            refuse(`unknown section id ${id}`);
        }
        if (order <= lastOrder) {
            refuse(`section ${id} is out of order or repeated`);
        }
        lastOrder = order;
        readSection(state, id, s, content);
        if (!s.done) {
            refuse(`section ${id} has ${s.end - s.offset} trailing bytes`);
        }
    }
    return finish(state);
}

function readSection(state: ParseState, id: number, s: Reader, content: Uint8Array): void {
    const { raw } = state;
    switch (id) {
        case 1:
            state.types = readTypes(s);
            raw.types = content;
            return;
        case 2:
            state.importedFunctions = readImports(s, state.types);
            raw.imports = content;
            return;
        case 3:
            state.functionTypes = readVector(s, () => s.u32(), MAX_FUNCTIONS, 'functions');
            if (state.functionTypes.some((t) => state.types[t] === undefined)) {
                refuse('a function uses a type that does not exist');
            }
            raw.functions = content;
            return;
        case 4:
            readTables(s);
            raw.table = content;
            return;
        case 5:
            state.memory = readMemory(s);
            raw.memory = content;
            return;
        case 6:
            state.globalCount = readGlobals(s);
            raw.globals = content;
            return;
        case 7:
            state.exportList = readExports(s);
            raw.exports = content;
            return;
        case 8:
            refuse('the module has a start function: a program runs only through its entry point');
            return;
        case 10:
            state.bodies = readBodies(s, state.functionTypes.length, (index) => state.types[state.functionTypes[index] ?? -1]);
            return;
        default:
            // Elements (9), the data count (12) and data (11) are copied through; the engine validates them after instrumentation.
            raw[id === 9 ? 'elements' : id === 12 ? 'dataCount' : 'data'] = content;
            s.offset = s.end;
    }
}

function finish(state: ParseState): AdmittedModule {
    const { memory, bodies, functionTypes, types, importedFunctions, raw } = state;
    if (memory === undefined) {
        return refuse('the module defines no memory: a program needs one, with a maximum');
    }
    if (bodies.length !== functionTypes.length) {
        refuse(`the module declares ${functionTypes.length} functions but has ${bodies.length} bodies`);
    }
    const entryPoints = ENTRY_POINTS.filter((entry) => {
        const exported = state.exportList.find((e) => e.name === entry && e.kind === 0);
        if (exported === undefined) {
            return false;
        }
        const type = exported.index < importedFunctions ? undefined : types[functionTypes[exported.index - importedFunctions] ?? -1];
        if (type === undefined || type.params.length !== 0 || type.results.length !== 1 || type.results[0] !== ValType.I32) {
            refuse(`the export ${entry} must be a function of this module taking nothing and returning an i32`);
        }
        return true;
    });
    return {
        types,
        raw: { ...raw, types: raw.types ?? new Uint8Array([0]), functions: raw.functions ?? new Uint8Array([0]), memory: raw.memory ?? new Uint8Array([0]) },
        importedFunctions,
        functionTypes,
        globalCount: state.globalCount,
        exportCount: state.exportList.length,
        memory,
        bodies,
        entryPoints,
    };
}

function readVector<T>(r: Reader, item: (index: number) => T, max: number, what: string): T[] {
    const count = r.u32();
    if (count > max) {
        refuse(`${count} ${what}, more than the ${max} allowed`);
    }
    const out: T[] = [];
    for (let i = 0; i < count; i++) {
        out.push(item(i));
    }
    return out;
}

function valueType(r: Reader, where: string): number {
    const type = r.byte();
    if (type === ValType.F32 || type === ValType.F64) {
        refuse(`${where} has a float type: programs are integer-only`);
    }
    if (type !== ValType.I32 && type !== ValType.I64 && type !== ValType.FuncRef && type !== ValType.ExternRef) {
        refuse(`${where} has an unsupported value type 0x${type.toString(16)}`);
    }
    return type;
}

function readTypes(r: Reader): FuncType[] {
    return readVector(
        r,
        (i) => {
            if (r.byte() !== 0x60) {
                refuse(`type ${i} is not a function type`);
            }
            const params = readVector(r, () => valueType(r, `type ${i}`), 64, 'parameters');
            const results = readVector(r, () => valueType(r, `type ${i}`), 16, 'results');
            return { params, results };
        },
        MAX_FUNCTIONS,
        'types',
    );
}

function sameSignature(a: FuncType, b: FuncType): boolean {
    return a.params.length === b.params.length && a.results.length === b.results.length && a.params.every((p, i) => p === b.params[i]) && a.results.every((p, i) => p === b.results[i]);
}

function readImports(r: Reader, types: readonly FuncType[]): number {
    const imports = readVector(
        r,
        () => {
            const module = r.name();
            const name = r.name();
            const kind = r.byte();
            const offered = module === HOST_MODULE ? HOST_FUNCTIONS[name] : undefined;
            if (kind !== 0 || offered === undefined) {
                refuse(`the module imports ${module}.${name}: programs may import only ${Object.keys(HOST_FUNCTIONS).map((n) => `${HOST_MODULE}.${n}`).join(', ')}`);
            }
            const type = types[r.u32()];
            if (type === undefined || !sameSignature(type, offered)) {
                refuse(`the import ${module}.${name} has the wrong signature`);
            }
            return name;
        },
        Object.keys(HOST_FUNCTIONS).length,
        'imports',
    );
    if (new Set(imports).size !== imports.length) {
        refuse('the module imports a host function twice');
    }
    return imports.length;
}

function limits(r: Reader, what: string): { min: number; max: number | undefined } {
    const flags = r.byte();
    if (flags > 1) {
        refuse(`${what} limits flag 0x${flags.toString(16)} (shared or 64-bit) is not supported`);
    }
    const min = r.u32();
    const max = flags === 1 ? r.u32() : undefined;
    if (max !== undefined && max < min) {
        refuse(`${what} maximum ${max} is below its minimum ${min}`);
    }
    return { min, max };
}

function readTables(r: Reader): void {
    readVector(
        r,
        () => {
            const type = r.byte();
            if (type !== ValType.FuncRef && type !== ValType.ExternRef) {
                refuse('a table has an unsupported element type');
            }
            const { min } = limits(r, 'table');
            if (min > MAX_TABLE_ELEMENTS) {
                refuse(`a table of ${min} elements is larger than the ${MAX_TABLE_ELEMENTS} allowed`);
            }
        },
        4,
        'tables',
    );
}

function readMemory(r: Reader): { min: number; max: number } {
    const memories = readVector(r, () => limits(r, 'memory'), 1, 'memories');
    const memory = memories[0];
    if (memory === undefined) {
        return refuse('the module defines no memory: a program needs one, with a maximum');
    }
    if (memory.max === undefined) {
        return refuse(`the memory declares no maximum: declare one of at most ${MAX_MEMORY_PAGES} pages`);
    }
    if (memory.max > MAX_MEMORY_PAGES) {
        return refuse(`the memory maximum of ${memory.max} pages exceeds the ${MAX_MEMORY_PAGES} allowed`);
    }
    return { min: memory.min, max: memory.max };
}

function readGlobals(r: Reader): number {
    return readVector(
        r,
        (i) => {
            valueType(r, `global ${i}`);
            if (r.byte() > 1) {
                refuse(`global ${i} has a bad mutability flag`);
            }
            skipConstExpr(r);
        },
        MAX_FUNCTIONS,
        'globals',
    ).length;
}

function readExports(r: Reader): { name: string; kind: number; index: number }[] {
    return readVector(
        r,
        () => {
            const name = r.name();
            if (name.startsWith('__lw_')) {
                refuse(`the export name ${name} is reserved for the runtime`);
            }
            return { name, kind: r.byte(), index: r.u32() };
        },
        MAX_FUNCTIONS,
        'exports',
    );
}

function readBodies(r: Reader, declared: number, typeOf: (index: number) => FuncType | undefined): CodeBody[] {
    return readVector(
        r,
        (index) => {
            const size = r.u32();
            const bodyEnd = r.offset + size;
            const body = new Reader(r.bytes, r.offset, bodyEnd);
            if (bodyEnd > r.end) {
                throw new MalformedModule(`function body ${index} runs past its section`);
            }
            const localsStart = body.offset;
            let localCount = typeOf(index)?.params.length ?? 0;
            const groups = body.u32();
            for (let g = 0; g < groups; g++) {
                localCount += body.u32();
                if (localCount > MAX_FUNCTION_LOCALS) {
                    refuse(`function ${index} has more than ${MAX_FUNCTION_LOCALS} parameters and locals`);
                }
                valueType(body, `a local of function ${index}`);
            }
            const locals = r.bytes.subarray(localsStart, body.offset);
            const exprStart = body.offset;
            let depth = 1;
            while (depth > 0) {
                const { op } = readInstruction(body);
                if (op === 0x02 || op === 0x03 || op === 0x04) {
                    depth++;
                } else if (op === 0x0b) {
                    depth--;
                }
            }
            if (!body.done) {
                throw new MalformedModule(`function body ${index} has bytes after its end`);
            }
            r.offset = bodyEnd;
            return { locals, expr: r.bytes.subarray(exprStart, bodyEnd) };
        },
        declared,
        'function bodies',
    );
}
