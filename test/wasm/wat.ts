// SPDX-License-Identifier: Apache-2.0
import wabtInit from 'wabt';

/** Assembles WebAssembly text with wabt (an independent toolchain), all features it knows enabled. */
let wabt: Awaited<ReturnType<typeof wabtInit>> | undefined;

export async function wat(text: string): Promise<Buffer> {
    wabt ??= await wabtInit();
    const module = wabt.parseWat('test.wat', text, { bulk_memory: true, reference_types: true, sign_extension: true, mutable_globals: true, multi_value: true, simd: true, sat_float_to_int: true });
    try {
        return Buffer.from(module.toBinary({}).buffer);
    } finally {
        module.destroy();
    }
}

/** The host imports a validator or merge declares. */
export const HOST_IMPORTS = `
  (import "ledgerwork" "read_input" (func $read_input (param i32 i32) (result i32)))
  (import "ledgerwork" "read_result" (func $read_result (param i32 i32) (result i32)))
  (import "ledgerwork" "write_output" (func $write_output (param i32 i32)))`;
