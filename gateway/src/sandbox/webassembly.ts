// SPDX-License-Identifier: Apache-2.0
/**
 * Typed access to the `WebAssembly` global. The repository compiles against `lib: ES2022` and
 * @types/node 20, neither of which declares it (only lib.dom does), so this module describes the
 * small part the sandbox uses instead of pulling DOM types into every package.
 */

/** A compiled module (`WebAssembly.Module`). */
export interface WasmModule {
    readonly __brand?: 'WebAssembly.Module';
}

/** A linear memory (`WebAssembly.Memory`). */
export interface WasmMemory {
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
}

/** An instance (`WebAssembly.Instance`). */
export interface WasmInstance {
    readonly exports: Record<string, unknown>;
}

/** One import or export descriptor as `WebAssembly.Module.imports/exports` report them. */
export interface WasmDescriptor {
    readonly module?: string;
    readonly name: string;
    readonly kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
}

/** Import object: module name → field name → value. */
export type WasmImports = Record<string, Record<string, unknown>>;

interface WasmApi {
    validate(bytes: Uint8Array): boolean;
    compile(bytes: Uint8Array): Promise<WasmModule>;
    instantiate(module: WasmModule, imports: WasmImports): Promise<WasmInstance>;
    Module: (new (bytes: Uint8Array) => WasmModule) & {
        imports(module: WasmModule): WasmDescriptor[];
        exports(module: WasmModule): WasmDescriptor[];
    };
    Instance: new (module: WasmModule, imports: WasmImports) => WasmInstance;
    Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
    RuntimeError: new (message?: string) => Error;
    CompileError: new (message?: string) => Error;
    LinkError: new (message?: string) => Error;
}

/** The runtime's WebAssembly API, typed. */
export const Wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** True for a value that is a `WebAssembly.Memory`. */
export function isMemory(value: unknown): value is WasmMemory {
    return value instanceof (Wasm.Memory as unknown as new () => object);
}
