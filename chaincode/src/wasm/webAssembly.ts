// SPDX-License-Identifier: Apache-2.0
/**
 * Typed access to the part of the `WebAssembly` global the runtime uses. The chaincode compiles
 * against `lib: ES2022` and @types/node 20, neither of which declares it (only lib.dom does).
 */

export interface WasmModule {
    readonly __brand?: 'WebAssembly.Module';
}

export interface WasmGlobal {
    value: unknown;
}

export interface WasmMemory {
    readonly buffer: ArrayBuffer;
}

export interface WasmInstance {
    readonly exports: Record<string, unknown>;
}

interface WasmApi {
    Module: new (bytes: Uint8Array) => WasmModule;
    Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
