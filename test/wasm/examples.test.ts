// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { compileProgram, runProgram, sha256Hex } from '../../chaincode/src/wasm/runtime';
import type { CompiledProgram, RunOutcome } from '../../chaincode/src/wasm/runtime';

/** The example programs on the ledger (examples/assembly/onchain), built at install, through the chaincode's runtime. */
const BUILD = path.join(__dirname, '../../examples/build');

function load(name: string): CompiledProgram {
    const bytes = readFileSync(path.join(BUILD, `${name}.wasm`));
    return compileProgram(sha256Hex(bytes), bytes);
}

function validate(program: CompiledProgram, input: string, result: string): RunOutcome {
    return runProgram(program, { entry: 'validate', input: Buffer.from(input), result: Buffer.from(result), fuel: 10_000_000, maxOutputBytes: 256 });
}

/** Primes in [lo, hi) by a plain sieve, independent of the programs. */
function primesIn(lo: number, hi: number): number {
    const sieve = new Uint8Array(hi);
    let count = 0;
    for (let i = 2; i < hi; i++) {
        if (sieve[i] === 0) {
            if (i >= lo) count++;
            for (let j = i * i; j < hi; j += i) sieve[j] = 1;
        }
    }
    return count;
}

describe('example programs on the ledger', () => {
    it('are admitted: integer-only, no start function, only the offered imports', () => {
        expect(load('primes-validator').entryPoints).toEqual(['validate']);
        expect(load('wordcount-validator').entryPoints).toEqual(['validate']);
        expect(load('primes-merge').entryPoints).toEqual(['merge']);
    });

    it('primes validator: accepts true counts, refuses counts outside the bounds and malformed results', () => {
        const program = load('primes-validator');
        const ranges: [number, number][] = [[0, 0], [0, 2], [0, 100], [0, 100_000], [17, 18], [1000, 5000], [90_000, 100_000], [500_000, 1_000_000]];
        for (const [lo, hi] of ranges) {
            const count = primesIn(lo, hi);
            expect([lo, hi, validate(program, `${lo} ${hi}`, `${count}\n`)]).toEqual([lo, hi, expect.objectContaining({ kind: 'returned', value: 1 })]);
            expect(validate(program, `${lo} ${hi}`, `${(hi - lo) + 1}\n`)).toMatchObject({ kind: 'returned', value: 0, output: Buffer.from('more primes than the range can hold') });
        }
        expect(validate(program, '0 100000', '0\n')).toMatchObject({ value: 0, output: Buffer.from('fewer primes than the known density guarantees') });
        expect(validate(program, '0 100000', '20000\n')).toMatchObject({ value: 0 });
        expect(validate(program, '0 100000', '9592')).toMatchObject({ value: 0, output: Buffer.from('the result is not "<count>\\n"') });
        expect(validate(program, '0 100000', 'many\n')).toMatchObject({ value: 0 });
        expect(validate(program, '5 1', '0\n')).toMatchObject({ value: 0 });
    });

    it('wordcount validator: accepts counts that add up to the input words, refuses others', () => {
        const program = load('wordcount-validator');
        const text = 'The cat and the hat. Ünïcode words, 42 too!';
        // the, cat, and, the, hat, Ünïcode, words, 42, too: 9 words
        expect(validate(program, text, 'the\t2\ncat\t1\nand\t1\nhat\t1\n\xc3\x9cn\xc3\xafcode\t1\nwords\t1\n42\t1\ntoo\t1\n')).toMatchObject({ value: 1 });
        expect(validate(program, text, 'the\t9\n')).toMatchObject({ value: 1 });
        expect(validate(program, text, 'the\t8\n')).toMatchObject({ value: 0, output: Buffer.from("the counts do not add up to the input's words") });
        expect(validate(program, text, 'the 9\n')).toMatchObject({ value: 0 });
        expect(validate(program, '', '')).toMatchObject({ value: 1 });
    });

    it('primes merge: sums the children, refuses malformed ones', () => {
        const program = load('primes-merge');
        const merge = (left: string, right: string): RunOutcome => runProgram(program, { entry: 'merge', input: Buffer.from(left), result: Buffer.from(right), fuel: 1_000_000, maxOutputBytes: 64 });
        expect(merge('9592\n', '8392\n')).toMatchObject({ kind: 'returned', value: 0, output: Buffer.from('17984\n') });
        expect(merge('0\n', '0\n')).toMatchObject({ value: 0, output: Buffer.from('0\n') });
        expect(merge('x\n', '1\n')).toMatchObject({ value: 1 });
    });
});
