// SPDX-License-Identifier: Apache-2.0
/**
 * Entry point of a sandbox child process (forked by SandboxPool with an empty environment, no stdio
 * except a small stderr pipe, V8 memory flags, and an IPC channel). It compiles each program once and
 * keeps the WebAssembly.Module by hash, instantiates it per run against the JS WASI layer, runs
 * `_start` and reports what happened. It never enforces the wall-clock limit itself: the parent kills
 * the whole process with SIGKILL, which works even when the guest is inside a host call or a
 * `memory.grow` loop.
 */
import { performance } from 'node:perf_hooks';
import type { ChildMessage, ChildOutcome, RunMessage } from './protocol';
import { createWasi, ExitSignal, GuestFault, OutputLimitSignal, WASI_MODULE } from './wasi';
import { isMemory, Wasm } from './webassembly';
import type { WasmModule } from './webassembly';

/** How many compiled modules a child keeps (least recently used evicted). */
const MODULE_CACHE_SIZE = 32;
const PAGE = 65536;

const modules = new Map<string, WasmModule>();

function send(message: ChildMessage): void {
    process.send?.(message);
}

function cachedModule(msg: RunMessage): WasmModule | undefined {
    const hit = modules.get(msg.hash);
    if (hit !== undefined) {
        modules.delete(msg.hash);
        modules.set(msg.hash, hit);
        return hit;
    }
    if (msg.bytes === undefined) {
        return undefined;
    }
    const compiled = new Wasm.Module(msg.bytes);
    if (modules.size >= MODULE_CACHE_SIZE) {
        const oldest = modules.keys().next();
        if (oldest.done !== true) {
            modules.delete(oldest.value);
        }
    }
    modules.set(msg.hash, compiled);
    return compiled;
}

function describe(err: unknown): string {
    if (err instanceof Error) {
        return `${err.name}: ${err.message}`.slice(0, 500);
    }
    return String(err).slice(0, 500);
}

/** Runs one message; pure apart from the module cache. Exported for in-process tests. */
export function runInThisProcess(msg: RunMessage, module: WasmModule): Omit<Extract<ChildMessage, { type: 'result' }>, 'childMs'> {
    const wasi = createWasi({ argv: msg.argv, stdin: msg.stdin, seed: msg.seed, maxStdout: msg.maxStdout, maxStderr: msg.maxStderr });
    let outcome: ChildOutcome = 'exit';
    let exitCode = 0;
    let detail = '';
    let memoryBytes = 0;
    let initialBytes = 0;
    try {
        const instance = new Wasm.Instance(module, { [WASI_MODULE]: wasi.imports });
        const memory = instance.exports.memory;
        const start = instance.exports._start;
        if (!isMemory(memory) || typeof start !== 'function') {
            throw new GuestFault('the instance lacks "memory" or "_start"');
        }
        wasi.bindMemory(memory);
        initialBytes = memory.buffer.byteLength;
        try {
            (start as () => void)();
        } finally {
            memoryBytes = memory.buffer.byteLength;
        }
    } catch (err) {
        if (err instanceof ExitSignal) {
            exitCode = err.code;
        } else if (err instanceof OutputLimitSignal) {
            outcome = 'output-limit';
            detail = `${err.fd === 1 ? 'stdout' : 'stderr'} exceeded ${err.limit} bytes`;
        } else if (err instanceof RangeError && /out of memory|allocate wasm memory|array buffer allocation/i.test(err.message)) {
            outcome = 'memory';
            detail = describe(err);
        } else {
            outcome = 'trap';
            detail = describe(err);
        }
    }
    // A failure after the memory grew to where the next usual step (doubling, or 1 MiB) no longer fits
    // under the cap is reported as `memory`: memory.grow failing is not observable from the host, so
    // this is a heuristic; the kind is informative, the run fails either way.
    const room = msg.memoryPages * PAGE - memoryBytes;
    const nearCap = memoryBytes > initialBytes && room < Math.max(memoryBytes, 16 * PAGE);
    if (nearCap && (outcome === 'trap' || (outcome === 'exit' && exitCode !== 0))) {
        detail = `memory near the cap (${memoryBytes / PAGE} of ${msg.memoryPages} pages); ${detail === '' ? `exit code ${exitCode}` : detail}`;
        outcome = 'memory';
    }
    return { type: 'result', id: msg.id, outcome, exitCode, stdout: wasi.stdout(), stderr: wasi.stderr(), detail };
}

function onMessage(raw: unknown): void {
    if ((raw as { type?: unknown } | null)?.type !== 'run') {
        return;
    }
    const msg = raw as RunMessage;
    const t0 = performance.now();
    let module: WasmModule | undefined;
    try {
        module = cachedModule(msg);
    } catch (err) {
        send({ type: 'result', id: msg.id, outcome: 'rejected', exitCode: 0, stdout: new Uint8Array(0), stderr: new Uint8Array(0), detail: describe(err), childMs: performance.now() - t0 });
        return;
    }
    if (module === undefined) {
        send({ type: 'need-module', id: msg.id });
        return;
    }
    const result = runInThisProcess(msg, module);
    send({ ...result, childMs: performance.now() - t0 });
}

if (require.main === module && typeof process.send === 'function') {
    process.on('message', onMessage);
    process.on('disconnect', () => process.exit(0));
    send({ type: 'ready' });
}
