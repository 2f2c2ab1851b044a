// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { ErrorCode, LedgerworkError } from '../core/errors';
import { MAX_FUEL } from '../core/programs';
import { HOST_MODULE, admitModule } from './admission';
import type { AdmittedModule, EntryPoint } from './admission';
import { wasm } from './webAssembly';
import type { WasmGlobal, WasmMemory, WasmModule } from './webAssembly';
import { BULK_BYTES_PER_FUEL, EXPORT_FUEL, EXPORT_MEMORY, EXPORT_STATUS, MAX_CALL_DEPTH, StopStatus, instrumentModule } from './instrument';

/**
 * The deterministic runtime: admits a program, instruments it, compiles it once per process (cached
 * by the SHA-256 of the program as stored), and runs an entry point on (input, result) under a fuel
 * limit in a fresh instance. Every outcome is a value — the entry's return and output with the fuel
 * used, or a typed failure — that depends only on the program, the two byte strings and the fuel:
 * no clock, no randomness, no floats, no host state reaches the program.
 */

/** Compiled programs kept per process; the least recently used is dropped first. */
export const COMPILED_CACHE_SIZE = 32;
/** Largest reason a validator may write. */
export const MAX_VERDICT_BYTES = 256;

export interface CompiledProgram {
    readonly sha256: string;
    readonly module: WasmModule;
    readonly entryPoints: readonly EntryPoint[];
}

export interface Run {
    readonly entry: EntryPoint;
    /** read_input's bytes: a task's input, or a merge's left child. */
    readonly input: Uint8Array;
    /** read_result's bytes: the submitted result, or a merge's right child. */
    readonly result: Uint8Array;
    readonly fuel: number;
    readonly maxOutputBytes: number;
}

export type RunOutcome =
    | { readonly kind: 'returned'; readonly value: number; readonly output: Buffer; readonly fuelUsed: number }
    | { readonly kind: 'failed'; readonly code: ErrorCode; readonly detail: string; readonly fuelUsed: number };

/** Failure codes a run can end with (all of them typed rejections). */
export type RunFailureCode = typeof ErrorCode.FuelExhausted | typeof ErrorCode.ProgramTrapped | typeof ErrorCode.MemoryExceeded | typeof ErrorCode.CallDepthExceeded | typeof ErrorCode.OutputExceeded;

export function sha256Hex(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
}

/** Admission and instrumentation, without compiling: the instrumented binary. */
export function prepareProgram(bytes: Uint8Array): { admitted: AdmittedModule; instrumented: Uint8Array } {
    const admitted = admitModule(bytes);
    return { admitted, instrumented: instrumentModule(admitted) };
}

const cache = new Map<string, CompiledProgram>();

/**
 * The compiled form of a program, from the cache or compiled now. `bytes` must be the program whose
 * SHA-256 is `sha256` (checked when compiling). @throws {LedgerworkError} PROGRAM_REFUSED, LIMIT_EXCEEDED
 */
export function compileProgram(sha256: string, bytes: Uint8Array): CompiledProgram {
    const cached = cache.get(sha256);
    if (cached !== undefined) {
        cache.delete(sha256);
        cache.set(sha256, cached);
        return cached;
    }
    if (sha256Hex(bytes) !== sha256) {
        throw new LedgerworkError(ErrorCode.Internal, `program bytes do not hash to ${sha256}`);
    }
    const { admitted, instrumented } = prepareProgram(bytes);
    let module: WasmModule;
    try {
        module = new wasm.Module(instrumented);
    } catch (err) {
        throw new LedgerworkError(ErrorCode.ProgramRefused, `the module does not validate: ${err instanceof Error ? err.message : String(err)}`);
    }
    const compiled: CompiledProgram = { sha256, module, entryPoints: admitted.entryPoints };
    cache.set(sha256, compiled);
    if (cache.size > COMPILED_CACHE_SIZE) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) {
            cache.delete(oldest);
        }
    }
    return compiled;
}

/** How many compiled programs this process holds (for tests and diagnostics). */
export function compiledCount(): number {
    return cache.size;
}

/** Thrown by a host function to end the run with a typed failure. */
class HostStop extends Error {
    constructor(
        readonly code: RunFailureCode,
        readonly detail: string,
    ) {
        super(detail);
    }
}

interface InstanceExports {
    readonly [EXPORT_FUEL]: WasmGlobal;
    readonly [EXPORT_STATUS]: WasmGlobal;
    readonly [EXPORT_MEMORY]: WasmMemory;
    readonly [entry: string]: unknown;
}

/** Runs one entry point of a compiled program in a fresh instance. Never throws for anything the program does. */
export function runProgram(program: CompiledProgram, run: Run): RunOutcome {
    if (!Number.isSafeInteger(run.fuel) || run.fuel < 1 || run.fuel > MAX_FUEL) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `fuel must be an integer from 1 to ${MAX_FUEL}`);
    }
    if (!program.entryPoints.includes(run.entry)) {
        return { kind: 'failed', code: ErrorCode.ProgramTrapped, detail: `the program exports no ${run.entry} entry point`, fuelUsed: 0 };
    }
    let instanceExports: InstanceExports | undefined;
    let output: Buffer | undefined;
    const memory = (): Uint8Array => new Uint8Array((instanceExports as InstanceExports)[EXPORT_MEMORY].buffer);
    const charge = (bytes: number): void => {
        const fuel = (instanceExports as InstanceExports)[EXPORT_FUEL];
        const cost = BigInt(Math.ceil(bytes / BULK_BYTES_PER_FUEL));
        const left = fuel.value as bigint;
        if (left < cost) {
            (instanceExports as InstanceExports)[EXPORT_STATUS].value = StopStatus.Fuel;
            throw new HostStop(ErrorCode.FuelExhausted, '');
        }
        fuel.value = left - cost;
    };
    const span = (name: string, ptr: number, length: number): { start: number; end: number } => {
        const start = ptr >>> 0;
        const end = start + length;
        if (end > memory().length) {
            throw new HostStop(ErrorCode.ProgramTrapped, `${name} reaches outside the program's memory`);
        }
        return { start, end };
    };
    const reader = (name: string, bytes: Uint8Array) => (ptr: number, max: number): number => {
        const length = Math.min(max >>> 0, bytes.length);
        const { start } = span(name, ptr, length);
        charge(length);
        memory().set(bytes.subarray(0, length), start);
        return bytes.length;
    };
    const host = {
        read_input: reader('read_input', run.input),
        read_result: reader('read_result', run.result),
        write_output: (ptr: number, len: number): void => {
            if (output !== undefined) {
                throw new HostStop(ErrorCode.ProgramTrapped, 'write_output was called twice');
            }
            const length = len >>> 0;
            if (length > run.maxOutputBytes) {
                throw new HostStop(ErrorCode.OutputExceeded, `the program wrote ${length} bytes of output; at most ${run.maxOutputBytes} are allowed`);
            }
            const { start, end } = span('write_output', ptr, length);
            charge(length);
            output = Buffer.from(memory().subarray(start, end));
        },
    };
        try {
        instanceExports = new wasm.Instance(program.module, { [HOST_MODULE]: host }).exports as unknown as InstanceExports;
    } catch (err) {
        return { kind: 'failed', code: ErrorCode.ProgramTrapped, detail: `the program could not be instantiated (${err instanceof Error ? err.name : 'error'})`, fuelUsed: 0 };
    }
    const fuelGlobal = instanceExports[EXPORT_FUEL];
    fuelGlobal.value = BigInt(run.fuel);
    const fuelUsed = (): number => run.fuel - Number(fuelGlobal.value);
    const entry = instanceExports[run.entry] as () => number;
    try {
        const value = entry();
        return { kind: 'returned', value, output: output ?? Buffer.alloc(0), fuelUsed: fuelUsed() };
    } catch (err) {
        return stopped(err, instanceExports[EXPORT_STATUS].value as number, run, fuelUsed());
    }
}

function stopped(err: unknown, status: number, run: Run, used: number): RunOutcome {
    if (status === StopStatus.Fuel) {
        return { kind: 'failed', code: ErrorCode.FuelExhausted, detail: `the program ran out of its ${run.fuel} fuel`, fuelUsed: run.fuel };
    }
    if (status === StopStatus.Depth) {
        return { kind: 'failed', code: ErrorCode.CallDepthExceeded, detail: `the program nested more than ${MAX_CALL_DEPTH} calls`, fuelUsed: used };
    }
    if (status === StopStatus.Memory) {
        return { kind: 'failed', code: ErrorCode.MemoryExceeded, detail: 'the program grew its memory past its declared maximum', fuelUsed: used };
    }
    if (err instanceof HostStop) {
        return { kind: 'failed', code: err.code, detail: err.detail, fuelUsed: used };
    }
    if (err instanceof RangeError) {
        // The depth counter should stop recursion long before the native stack; this is the fallback.
        return { kind: 'failed', code: ErrorCode.CallDepthExceeded, detail: 'the program exhausted the native stack', fuelUsed: used };
    }
    // V8's trap texts are not part of any contract between peers: the detail stays fixed.
    return { kind: 'failed', code: ErrorCode.ProgramTrapped, detail: 'the program trapped (unreachable, out-of-bounds access, division by zero or an indirect call mismatch)', fuelUsed: used };
}
