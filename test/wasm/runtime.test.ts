// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it, jest } from '@jest/globals';
import { ErrorCode, LedgerworkError } from '../../chaincode/src/core/errors';
import { MAX_CALL_DEPTH } from '../../chaincode/src/wasm/instrument';
import { admitModule, MAX_FUNCTION_LOCALS, MAX_MEMORY_PAGES } from '../../chaincode/src/wasm/admission';
import { compileProgram, runProgram, sha256Hex } from '../../chaincode/src/wasm/runtime';
import type { Run, RunOutcome } from '../../chaincode/src/wasm/runtime';
import type * as Runtime from '../../chaincode/src/wasm/runtime';
import { HOST_IMPORTS, wat } from './wat';

async function compiled(text: string): Promise<ReturnType<typeof compileProgram>> {
    const bytes = await wat(text);
    return compileProgram(sha256Hex(bytes), bytes);
}

const run = (over: Partial<Run> = {}): Run => ({ entry: 'validate', input: Buffer.from('abc'), result: Buffer.from('abc'), fuel: 100_000, maxOutputBytes: 256, ...over });

function refusal(action: () => unknown): LedgerworkError {
    try {
        action();
    } catch (err) {
        if (err instanceof LedgerworkError) {
            return err;
        }
        throw err;
    }
    throw new Error('expected a refusal');
}

/** A validator that accepts when the result equals the input (both at most 64 bytes). */
const EQUALS = `(module ${HOST_IMPORTS}
  (memory 1 1)
  (func (export "validate") (result i32) (local $n i32) (local $i i32)
    (local.set $n (call $read_input (i32.const 0) (i32.const 64)))
    (if (i32.ne (local.get $n) (call $read_result (i32.const 64) (i32.const 64))) (then (return (i32.const 0))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.ne (i32.load8_u (local.get $i)) (i32.load8_u offset=64 (local.get $i))) (then (return (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.const 1)))`;

/**
 * Counts to ten. Its instructions, as the binary lists them:
 *   loop | local.get i32.const i32.add local.set local.get i32.const i32.lt_u br_if | end | i32.const end
 * The segments (each ends at a control instruction) cost 1, then 8 per iteration (10 iterations),
 * then 1 (the loop's end), then 2: 1 + 80 + 1 + 2 = 84 units.
 */
const COUNT_TO_TEN = `(module (memory 1 1)
  (func (export "validate") (result i32) (local i32)
    (loop $l
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 0) (i32.const 10))))
    (i32.const 1)))`;

describe('the deterministic runtime', () => {
    it('runs a validator on (input, result) and reports its verdict and fuel', async () => {
        const program = await compiled(EQUALS);
        const same = runProgram(program, run());
        expect(same).toMatchObject({ kind: 'returned', value: 1 });
        const differs = runProgram(program, run({ result: Buffer.from('abd') }));
        expect(differs).toMatchObject({ kind: 'returned', value: 0 });
        expect(same.fuelUsed).toBeGreaterThan(0);
        expect(runProgram(program, run()).fuelUsed).toBe(same.fuelUsed);
    });

    it('charges exactly one unit per instruction: 84 for counting to ten', async () => {
        const program = await compiled(COUNT_TO_TEN);
        expect(runProgram(program, run({ fuel: 84 }))).toEqual({ kind: 'returned', value: 1, output: Buffer.alloc(0), fuelUsed: 84 });
        expect(runProgram(program, run({ fuel: 1000 })).fuelUsed).toBe(84);
        expect(runProgram(program, run({ fuel: 83 }))).toMatchObject({ kind: 'failed', code: ErrorCode.FuelExhausted, fuelUsed: 83 });
    });

    it('stops an infinite loop at exactly the configured fuel, and the next run is fine', async () => {
        const program = await compiled(`(module (memory 1 1) (func (export "validate") (result i32) (loop $l (br $l)) (i32.const 1)))`);
        for (const fuel of [1, 2, 999, 1_000_000]) {
            expect(runProgram(program, run({ fuel }))).toEqual({ kind: 'failed', code: ErrorCode.FuelExhausted, detail: `the program ran out of its ${fuel} fuel`, fuelUsed: fuel });
        }
        expect(runProgram(await compiled(EQUALS), run())).toMatchObject({ kind: 'returned', value: 1 });
    });

    it('stops a memory bomb when it grows past its declared maximum', async () => {
        const program = await compiled(`(module (memory 1 8) (func (export "validate") (result i32)
          (loop $l (drop (memory.grow (i32.const 1))) (br $l)) (i32.const 1)))`);
        expect(runProgram(program, run())).toMatchObject({ kind: 'failed', code: ErrorCode.MemoryExceeded });
        const huge = await compiled(`(module (memory 1 8) (func (export "validate") (result i32) (drop (memory.grow (i32.const -1))) (i32.const 1)))`);
        expect(runProgram(huge, run())).toMatchObject({ kind: 'failed', code: ErrorCode.MemoryExceeded });
        const within = await compiled(`(module (memory 1 8) (func (export "validate") (result i32) (i32.eq (memory.grow (i32.const 7)) (i32.const 1))))`);
        expect(runProgram(within, run())).toMatchObject({ kind: 'returned', value: 1 });
    });

    it('stops deep recursion at the call-depth cap, before the native stack, even with the most locals a function may have', async () => {
        const plain = await compiled(`(module (memory 1 1) (func $f (export "validate") (result i32) (call $f)))`);
        expect(runProgram(plain, run())).toMatchObject({ kind: 'failed', code: ErrorCode.CallDepthExceeded, detail: `the program nested more than ${MAX_CALL_DEPTH} calls` });
        const locals = Array.from({ length: MAX_FUNCTION_LOCALS - 1 }, (_, i) => `(local $l${i} i64)`).join(' ');
        const uses = Array.from({ length: MAX_FUNCTION_LOCALS - 1 }, (_, i) => `(local.set $l${i} (i64.add (local.get $l${i}) (i64.extend_i32_u (local.get $d))))`).join(' ');
        const fat = await compiled(`(module (memory 1 1)
          (func $f (param $d i32) (result i64) ${locals} ${uses}
            (i64.add (local.get $l0) (call $f (i32.add (local.get $d) (i32.const 1)))))
          (func (export "validate") (result i32) (i32.wrap_i64 (call $f (i32.const 0)))))`);
        expect(runProgram(fat, run({ fuel: 100_000_000 }))).toMatchObject({ kind: 'failed', code: ErrorCode.CallDepthExceeded });
        const bounded = await compiled(`(module (memory 1 1)
          (func $f (param $d i32) (result i32) (if (result i32) (i32.eqz (local.get $d)) (then (i32.const 1)) (else (call $f (i32.sub (local.get $d) (i32.const 1))))))
          (func (export "validate") (result i32) (call $f (i32.const ${MAX_CALL_DEPTH - 2}))))`);
        expect(runProgram(bounded, run())).toMatchObject({ kind: 'returned', value: 1 });
    });

    it('refuses output larger than allowed, and output written twice', async () => {
        const program = await compiled(`(module ${HOST_IMPORTS} (memory 1 1) (func (export "validate") (result i32) (call $write_output (i32.const 0) (i32.const 65536)) (i32.const 1)))`);
        expect(runProgram(program, run())).toMatchObject({ kind: 'failed', code: ErrorCode.OutputExceeded });
        expect(runProgram(program, run({ maxOutputBytes: 65536 }))).toMatchObject({ kind: 'returned', value: 1 });
        const twice = await compiled(`(module ${HOST_IMPORTS} (memory 1 1) (func (export "validate") (result i32) (call $write_output (i32.const 0) (i32.const 1)) (call $write_output (i32.const 0) (i32.const 1)) (i32.const 1)))`);
        expect(runProgram(twice, run())).toMatchObject({ kind: 'failed', code: ErrorCode.ProgramTrapped });
    });

    it('turns traps and host calls outside memory into PROGRAM_TRAPPED', async () => {
        const trap = await compiled(`(module (memory 1 1) (func (export "validate") (result i32) unreachable))`);
        expect(runProgram(trap, run())).toMatchObject({ kind: 'failed', code: ErrorCode.ProgramTrapped });
        const outside = await compiled(`(module ${HOST_IMPORTS} (memory 1 1) (func (export "validate") (result i32) (call $read_input (i32.const 65535) (i32.const 64))))`);
        expect(runProgram(outside, run())).toMatchObject({ kind: 'failed', code: ErrorCode.ProgramTrapped, detail: "read_input reaches outside the program's memory" });
        const noEntry = await compiled(`(module (memory 1 1) (func (export "other") (result i32) (i32.const 1)))`);
        expect(runProgram(noEntry, run())).toMatchObject({ kind: 'failed', code: ErrorCode.ProgramTrapped, detail: 'the program exports no validate entry point' });
    });

    it('charges bulk memory operations and host copies per 16 bytes', async () => {
        const fill = (n: number): string => `(module (memory 1 1) (func (export "validate") (result i32) (memory.fill (i32.const 0) (i32.const 7) (i32.const ${n})) (i32.const 1)))`;
        // i32.const ×3, memory.fill, i32.const, end = 6 units, plus ceil(n / 16).
        expect(runProgram(await compiled(fill(0)), run()).fuelUsed).toBe(6);
        expect(runProgram(await compiled(fill(16)), run()).fuelUsed).toBe(7);
        expect(runProgram(await compiled(fill(17)), run()).fuelUsed).toBe(8);
        expect(runProgram(await compiled(fill(65536)), run({ fuel: 100 }))).toMatchObject({ kind: 'failed', code: ErrorCode.FuelExhausted, fuelUsed: 100 });
    });

    it('compiles a program once and serves it from the cache by hash', async () => {
        const bytes = await wat(EQUALS);
        const first = compileProgram(sha256Hex(bytes), bytes);
        expect(compileProgram(sha256Hex(bytes), bytes)).toBe(first);
    });

    it('gives byte-identical outcomes on two simulated peers with different Math.random, Date.now and warm-up', async () => {
        const bytes = await wat(EQUALS);
        const loop = await wat(`(module (memory 1 1) (func (export "validate") (result i32) (loop $l (br $l)) (i32.const 1)))`);
        const outcomes = (warmUp: number): string => {
            let result = '';
            jest.isolateModules(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const peer = require('../../chaincode/src/wasm/runtime') as typeof Runtime;
                const equals = peer.compileProgram(sha256Hex(bytes), bytes);
                for (let i = 0; i < warmUp; i++) {
                    peer.runProgram(equals, run({ result: Buffer.from(String(i)) }));
                }
                const spin = peer.compileProgram(sha256Hex(loop), loop);
                const show = (o: RunOutcome): unknown => ({ ...o, ...('output' in o ? { output: o.output.toString('base64') } : {}) });
                result = JSON.stringify([show(peer.runProgram(equals, run())), show(peer.runProgram(equals, run({ result: Buffer.from('x') }))), show(peer.runProgram(spin, run({ fuel: 54_321 })))]);
            });
            return result;
        };
        const random = jest.spyOn(Math, 'random').mockReturnValue(0.123);
        const now = jest.spyOn(Date, 'now').mockReturnValue(1_000);
        const cold = outcomes(0);
        random.mockReturnValue(0.987);
        now.mockReturnValue(9_999_999_999);
        const warm = outcomes(2000);
        random.mockRestore();
        now.mockRestore();
        expect(warm).toBe(cold);
        expect(JSON.parse(cold)).toEqual([expect.objectContaining({ kind: 'returned', value: 1 }), expect.objectContaining({ kind: 'returned', value: 0 }), expect.objectContaining({ code: ErrorCode.FuelExhausted, fuelUsed: 54_321 })]);
    });
});

describe('admission', () => {
    const refused = async (text: string, reason: RegExp): Promise<void> => {
        const bytes = await wat(text);
        const error = refusal(() => admitModule(bytes));
        expect(error.code).toBe(ErrorCode.ProgramRefused);
        expect(error.detail).toMatch(reason);
    };

    it('admits an integer-only validator and lists its entry points', async () => {
        expect(admitModule(await wat(EQUALS)).entryPoints).toEqual(['validate']);
    });

    it('refuses float instructions, float types and float values anywhere', async () => {
        await refused(`(module (memory 1 1) (func (export "validate") (result i32) (drop (f32.const 1)) (i32.const 1)))`, /float instruction f32.const/);
        await refused(`(module (memory 1 1) (func (export "validate") (result i32) (i32.trunc_f64_s (f64.load (i32.const 0)))))`, /float instruction f64.load/);
        await refused(`(module (memory 1 1) (func (param f64)))`, /float type/);
        await refused(`(module (memory 1 1) (func (local f32)))`, /float type/);
        await refused(`(module (memory 1 1) (global f64 (f64.const 0)))`, /float type/);
        await refused(`(module (memory 1 1) (func (result i32) (i32.trunc_sat_f32_s (i32.const 0))))`, /float instruction \(saturating/);
        await refused(`(module (memory 1 1) (func (drop (v128.const i64x2 0 0))))`, /unsupported opcode 0xfd/);
    });

    it('refuses a start function', async () => {
        await refused(`(module (memory 1 1) (func $s) (start $s))`, /start function/);
    });

    it('refuses imports outside the offered host functions, and offered ones with the wrong signature', async () => {
        await refused(`(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (memory 1 1))`, /imports wasi_snapshot_preview1.fd_write/);
        await refused(`(module (import "env" "abort" (func (param i32 i32 i32 i32))) (memory 1 1))`, /imports env.abort/);
        await refused(`(module (import "ledgerwork" "memory" (memory 1 1)))`, /imports ledgerwork.memory/);
        await refused(`(module (import "ledgerwork" "read_input" (func (param i32) (result i32))) (memory 1 1))`, /wrong signature/);
    });

    it('refuses a memory without a maximum, above the cap, or none at all', async () => {
        await refused(`(module (memory 1))`, /declares no maximum/);
        await refused(`(module (memory 1 ${MAX_MEMORY_PAGES + 1}))`, /exceeds the 64 allowed/);
        await refused(`(module (func))`, /defines no memory/);
    });

    it('refuses task bundles (a ledgerwork.key section), reserved export names, too many locals and malformed bytes', async () => {
        const bytes = await wat(`(module (memory 1 1))`);
        const keySection = Buffer.concat([bytes, Buffer.from([0, 15, 14]), Buffer.from('ledgerwork.key')]);
        expect(refusal(() => admitModule(keySection)).detail).toMatch(/private key/);
        await refused(`(module (memory 1 1) (global (export "__lw_fuel") i32 (i32.const 0)))`, /reserved/);
        await refused(`(module (memory 1 1) (func (local ${'i32 '.repeat(MAX_FUNCTION_LOCALS + 1)})))`, /parameters and locals/);
        expect(refusal(() => admitModule(Buffer.from('not wasm'))).code).toBe(ErrorCode.ProgramRefused);
        expect(refusal(() => admitModule(bytes.subarray(0, bytes.length - 1))).code).toBe(ErrorCode.ProgramRefused);
        expect(refusal(() => admitModule(Buffer.alloc(256 * 1024 + 1))).code).toBe(ErrorCode.LimitExceeded);
    });

    it('refuses an entry point with the wrong signature', async () => {
        await refused(`(module (memory 1 1) (func (export "validate") (param i32) (result i32) (local.get 0)))`, /taking nothing and returning an i32/);
    });
});
