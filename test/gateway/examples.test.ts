// SPDX-License-Identifier: Apache-2.0
/**
 * The example programs (examples/assembly), built from source with AssemblyScript and run in the
 * sandbox, against the reference implementations in test/fixtures/wasm/examplesReference.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { buildBundle, frameMergeInput, generateTaskKey, programHashHex, signTaskOutput } from '../../gateway/src/bundle';
import { SandboxPool } from '../../gateway/src/sandbox';
import type { RunResult } from '../../gateway/src/sandbox';
import { parsePublicKey, sha256, verifyCombined } from '../../chaincode/src/core/signature';
import { countPrimes, formatCounts, merkleNode, merkleRoot, piTask, wordCounts } from '../fixtures/wasm/examplesReference';

const examples = join(__dirname, '../../examples');
const PROGRAMS = ['pi', 'primes', 'wordcount', 'merkle'] as const;
type Program = (typeof PROGRAMS)[number];

describe('example programs', () => {
    let out: string;
    let pool: SandboxPool;
    const wasm = new Map<Program, Buffer>();

    const run = async (program: Program, stdin: Uint8Array | string, argv: 'task' | 'merge' = 'task', seed = 'task-1'): Promise<RunResult> => {
        const module = wasm.get(program)!;
        return pool.run({ programHash: programHashHex(module), module, argv: [argv], stdin: Buffer.from(stdin), seed, limits: { wallMs: 10_000 } });
    };
    const stdout = async (program: Program, stdin: Uint8Array | string, argv: 'task' | 'merge' = 'task', seed = 'task-1'): Promise<Buffer> => {
        const r = await run(program, stdin, argv, seed);
        if (!r.ok) throw new Error(`${program} ${argv} failed: ${r.kind} ${r.detail} ${r.stderr.toString()}`);
        return r.stdout;
    };
    const merge = (program: Program, left: Uint8Array, right: Uint8Array): Promise<Buffer> => stdout(program, frameMergeInput(left, right), 'merge');

    beforeAll(async () => {
        out = mkdtempSync(join(tmpdir(), 'ledgerwork-examples-'));
        execFileSync(process.execPath, [join(examples, 'build.mjs'), out, ...PROGRAMS], { stdio: 'pipe' });
        for (const p of PROGRAMS) wasm.set(p, readFileSync(join(out, `${p}.wasm`)));
        pool = new SandboxPool({ size: 2 });
        await pool.ready();
    });

    afterAll(async () => {
        await pool.close();
        rmSync(out, { recursive: true, force: true });
    });

    it('builds deterministically, as plain WASI modules that declare a memory maximum', () => {
        const again = mkdtempSync(join(tmpdir(), 'ledgerwork-examples-'));
        try {
            execFileSync(process.execPath, [join(examples, 'build.mjs'), again, 'primes'], { stdio: 'pipe' });
            expect(readFileSync(join(again, 'primes.wasm')).equals(wasm.get('primes')!)).toBe(true);
        } finally {
            rmSync(again, { recursive: true, force: true });
        }
    });

    it('pi: hits follow the seed\'s random stream exactly; merge sums hits and trials', async () => {
        for (const [seed, trials] of [['t1', 1], ['t1', 10_000], ['t2', 10_000], ['job/3', 8193]] as const) {
            expect((await stdout('pi', `${trials}\n`, 'task', seed)).toString()).toBe(piTask(seed, trials));
        }
        const big = (await stdout('pi', '200000', 'task', 'seed-x')).toString();
        const [hits, trials] = big.trim().split(' ').map(Number);
        expect(Math.abs((4 * hits!) / trials! - Math.PI)).toBeLessThan(0.02);
        expect((await merge('pi', Buffer.from('785 1000\n'), Buffer.from('3 4'))).toString()).toBe('788 1004\n');
        expect((await stdout('pi', '0')).toString()).toBe('0 0\n');
    });

    it('primes: counts match a plain sieve, and merge of adjacent ranges equals the whole range', async () => {
        const cases: [number, number][] = [[0, 0], [0, 2], [0, 3], [2, 3], [0, 100], [90, 100], [0, 1_000_000], [999_000, 1_000_100]];
        for (const [lo, hi] of cases) {
            expect((await stdout('primes', `${lo} ${hi}`)).toString()).toBe(`${countPrimes(lo, hi)}\n`);
        }
        const a = await stdout('primes', '0 500000');
        const b = await stdout('primes', '500000 1000000');
        expect((await merge('primes', a, b)).toString()).toBe(`${countPrimes(0, 1_000_000)}\n`);
        let top = 0; // near 2^32, by trial division
        for (let n = 4294967000; n < 2 ** 32; n++) {
            let prime = true;
            for (let d = 2; d * d <= n && prime; d++) prime = n % d !== 0;
            if (prime) top++;
        }
        expect((await stdout('primes', '4294967000 4294967296')).toString()).toBe(`${top}\n`);
    });

    it('wordcount: matches the reference on arbitrary bytes; merge of shards equals the whole', async () => {
        await fc.assert(
            fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200, unit: 'grapheme' }), async (bytes, text) => {
                const words = Buffer.from(`${text} Foo foo FOO`, 'utf8');
                expect((await stdout('wordcount', bytes)).equals(formatCounts(wordCounts(bytes)))).toBe(true);
                const left = await stdout('wordcount', words);
                expect(left.equals(formatCounts(wordCounts(words)))).toBe(true);
                const right = await stdout('wordcount', bytes);
                const whole = formatCounts(wordCounts(Buffer.concat([words, Buffer.from(' '), bytes])));
                expect((await merge('wordcount', left, right)).equals(whole)).toBe(true);
            }),
            { numRuns: 25 },
        );
    });

    it('merkle: roots match the reference; merge hashes the children, equal to the root of aligned shards', async () => {
        for (const size of [0, 1, 1023, 1024, 1025, 3000, 4096, 70_000]) {
            const data = Buffer.alloc(size);
            for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) & 0xff;
            expect((await stdout('merkle', data)).toString()).toBe(`${merkleRoot(data).toString('hex')}\n`);
        }
        const a = Buffer.alloc(4096, 1);
        const b = Buffer.alloc(4096, 2);
        const ra = await stdout('merkle', a);
        const rb = await stdout('merkle', b);
        const merged = await merge('merkle', ra, rb);
        expect(merged.toString()).toBe(`${merkleNode(merkleRoot(a), merkleRoot(b)).toString('hex')}\n`);
        expect(merged.toString()).toBe(`${merkleRoot(Buffer.concat([a, b])).toString('hex')}\n`);
    });

    it('malformed input is a non-zero exit, not a crash', async () => {
        const bad: [Program, string, 'task' | 'merge'][] = [
            ['pi', 'many', 'task'],
            ['pi', '1 2', 'merge'],
            ['primes', '10 5', 'task'],
            ['primes', '0 99999999999', 'task'],
            ['wordcount', 'no-tab', 'merge'],
            ['merkle', 'xyz', 'merge'],
        ];
        for (const [program, stdin, argv] of bad) {
            const r = await run(program, stdin, argv);
            expect(r.ok ? 'ok' : `${r.kind}:${r.exitCode ?? ''}`).toBe('exit:2');
        }
        const r = await run('merkle', frameMergeInput(Buffer.from('zz'), Buffer.from('00'.repeat(32))), 'merge');
        expect(!r.ok && r.stderr.toString()).toMatch(/hex/);
    });

    it('end to end: a keyed bundle runs unchanged and its output signature verifies with the chaincode core', async () => {
        const { privateKey, publicKeyPem } = generateTaskKey();
        const bundle = buildBundle(wasm.get('primes')!, privateKey);
        const input = Buffer.from('0 10000');
        const r = await pool.run({ programHash: programHashHex(bundle), module: bundle, argv: ['task'], stdin: input, seed: 'task-7' });
        if (!r.ok) throw new Error(r.detail);
        expect(r.stdout.toString()).toBe('1229\n');
        const binding = { channel: 'ledgerwork', chaincode: 'ledgerwork' };
        const sig = signTaskOutput(bundle, { binding, taskId: 'task-7', input, result: r.stdout, mode: 'combined' });
        if (sig.mode !== 'combined') throw new Error('mode');
        expect(() => {
            verifyCombined(parsePublicKey(publicKeyPem), binding, 'task-7', sha256(input), sha256(r.stdout), sig.signature);
        }).not.toThrow();
    });
});
