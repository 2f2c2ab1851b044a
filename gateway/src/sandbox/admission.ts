// SPDX-License-Identifier: Apache-2.0
/**
 * Static admission of a program before anything instantiates it (docs/security.md, sandbox layer 1):
 * size cap, section-level parse, the bundle key stripped, memory limits checked (one 32-bit,
 * unshared memory; initial ≤ cap; maximum present and ≤ cap, or clamped to the cap when the policy
 * says so), table sizes bounded, full validation, imports limited to WASI preview1 functions, and
 * the WASI command exports (`_start`, `memory`) present.
 */
import { stripBundleKey } from '../bundle';
import { encodeSection, encodeU32, listSections, WasmFormatError, WasmReader } from '../bundle/wasm';
import { WASI_MODULE, WASI_PREVIEW1_FUNCTIONS } from './wasi';
import { Wasm } from './webassembly';

/** What to do with a memory that declares no maximum or one above the cap. */
export type MemoryPolicy = 'refuse' | 'clamp';

/** Admission limits. */
export interface AdmissionLimits {
    /** Largest accepted module (bytes, after the key section is stripped). */
    readonly maxModuleBytes: number;
    /** Memory cap in 64 KiB pages. */
    readonly maxMemoryPages: number;
    /** SPEC §9 says refuse; `clamp` rewrites the maximum to the cap instead. */
    readonly memoryPolicy: MemoryPolicy;
    /** Largest table (elements). */
    readonly maxTableElements: number;
}

/** An executor's admission rules unless it is configured otherwise (SandboxPool's defaults); publishers check programs against them. */
export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = { maxModuleBytes: 8 << 20, maxMemoryPages: 256, memoryPolicy: 'refuse', maxTableElements: 100_000 };

/** A module that passed admission: the bytes to instantiate (key stripped, memory maximum possibly rewritten). */
export interface AdmittedModule {
    readonly ok: true;
    readonly bytes: Buffer;
    /** Declared (or clamped) memory maximum in pages. */
    readonly memoryMaxPages: number;
    /** True when the maximum was rewritten. */
    readonly clamped: boolean;
}

/** A refusal, with the reason. */
export interface Refusal {
    readonly ok: false;
    readonly detail: string;
}

interface Limits {
    flags: number;
    min: bigint;
    max: bigint | undefined;
}

function readLimits(reader: WasmReader): Limits {
    const flags = reader.byte();
    if (flags > 7) {
        throw new WasmFormatError(`unknown limits flags 0x${flags.toString(16)}`);
    }
    const min = reader.u64();
    const max = (flags & 1) !== 0 ? reader.u64() : undefined;
    return { flags, min, max };
}

/**
 * Checks `bundle` and returns the bytes the sandbox will compile, or the reason for refusing it.
 * Never throws for hostile input.
 */
export function admit(bundle: Uint8Array, limits: AdmissionLimits): AdmittedModule | Refusal {
    try {
        return admitOrThrow(bundle, limits);
    } catch (err) {
        return { ok: false, detail: `malformed module: ${err instanceof Error ? err.message : String(err)}` };
    }
}

function refuse(detail: string): Refusal {
    return { ok: false, detail };
}

// eslint-disable-next-line complexity -- a flat list of admission rules reads best in one place
function admitOrThrow(bundle: Uint8Array, limits: AdmissionLimits): AdmittedModule | Refusal {
    if (bundle.length > limits.maxModuleBytes + 4096) {
        return refuse(`module of ${bundle.length} bytes exceeds the cap of ${limits.maxModuleBytes}`);
    }
    const stripped = stripBundleKey(bundle);
    if (stripped.length > limits.maxModuleBytes) {
        return refuse(`module of ${stripped.length} bytes exceeds the cap of ${limits.maxModuleBytes}`);
    }
    const sections = listSections(stripped);
    const cap = BigInt(limits.maxMemoryPages);
    let memoryMax = 0;
    let clamped = false;
    let memories = 0;
    const parts: Uint8Array[] = [stripped.subarray(0, 8)];
    for (const section of sections) {
        const raw = stripped.subarray(section.start, section.end);
        const reader = new WasmReader(stripped, section.payloadStart, section.end);
        if (section.id === 4) {
            const count = reader.u32();
            for (let i = 0; i < count; i++) {
                reader.byte();
                const table = readLimits(reader);
                const biggest = table.max ?? table.min;
                if (table.min > BigInt(limits.maxTableElements) || (table.max !== undefined && biggest > BigInt(limits.maxTableElements))) {
                    return refuse(`table of ${biggest} elements exceeds the cap of ${limits.maxTableElements}`);
                }
            }
        }
        if (section.id !== 5) {
            parts.push(raw);
            continue;
        }
        const count = reader.u32();
        memories += count;
        if (count > 1) {
            return refuse(`${count} memories declared; multi-memory is not allowed`);
        }
        const mem = readLimits(reader);
        if ((mem.flags & 4) !== 0) {
            return refuse('memory64 is not allowed');
        }
        if ((mem.flags & 2) !== 0) {
            return refuse('shared memory (threads) is not allowed');
        }
        if (mem.min > cap) {
            return refuse(`memory declares ${mem.min} initial pages; the cap is ${cap}`);
        }
        if (mem.max === undefined || mem.max > cap) {
            if (limits.memoryPolicy === 'refuse') {
                return refuse(
                    mem.max === undefined
                        ? `memory declares no maximum; the cap is ${cap} pages (build with a maximum, e.g. asc --maximumMemory ${cap})`
                        : `memory declares a maximum of ${mem.max} pages; the cap is ${cap}`,
                );
            }
            clamped = true;
            memoryMax = limits.maxMemoryPages;
            const min = Number(mem.min);
            parts.push(encodeSection(5, Buffer.concat([encodeU32(1), Buffer.from([1]), encodeU32(min), encodeU32(memoryMax)])));
        } else {
            memoryMax = Number(mem.max);
            parts.push(raw);
        }
    }
    const bytes = Buffer.concat(parts);
    if (!Wasm.validate(bytes)) {
        return refuse('the module does not validate (or uses a feature this runtime does not enable)');
    }
    const module = new Wasm.Module(bytes);
    for (const imp of Wasm.Module.imports(module)) {
        if (imp.module !== WASI_MODULE || imp.kind !== 'function' || !WASI_PREVIEW1_FUNCTIONS.has(imp.name)) {
            return refuse(`import ${JSON.stringify(imp.module)}.${JSON.stringify(imp.name)} (${imp.kind}) is not a WASI preview1 function`);
        }
    }
    const exports = Wasm.Module.exports(module);
    if (!exports.some((e) => e.name === '_start' && e.kind === 'function')) {
        return refuse('no exported function "_start" (not a WASI command)');
    }
    if (memories !== 1 || !exports.some((e) => e.name === 'memory' && e.kind === 'memory')) {
        return refuse('the module must define and export exactly one memory named "memory"');
    }
    return { ok: true, bytes, memoryMaxPages: memoryMax, clamped };
}
