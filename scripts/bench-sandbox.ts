// SPDX-License-Identifier: Apache-2.0
/**
 * Benchmark of the executor sandbox (gateway/src/sandbox):
 *
 *  (1) warm per-task overhead: a trivial WASI program (writes "hello") through SandboxPool.run, module
 *      already compiled in the child, vs the same instantiate + `_start` in this process without a
 *      child (the cost of the JS WASI layer alone), and vs an IPC echo (same pool, a program that
 *      exits at once);
 *  (2) cold start of a program the pool has not seen: admission (parse, validate) + sending the bytes
 *      + compiling in the child;
 *  (3) recovery: after a deadline kill, time until the replacement child is ready;
 *  (4) compute: the example programs (examples/build, AssemblyScript -O3) in the sandbox vs the same
 *      kernel in plain JS in this process — Monte Carlo π (identical integer algorithm and random
 *      stream) and prime counting (the same segmented sieve) — with V8's default tiering and with
 *      `--no-liftoff` in the children.
 *
 * Method (docs/benchmarks.md, "Method"): a warm-up round, then rounds in which variants run in
 * turn; a variant's figure for a round is the median of its ops; the table gives the median and IQR
 * over rounds, and ratios are medians of per-round paired ratios.
 *
 * Run: `node -r ./scripts/register-ts.js scripts/bench-sandbox.ts [--rounds N]` after `npm run build
 * --workspace examples`.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { programHashHex } from '../gateway/src/bundle';
import { SandboxPool, seededRandomBytes } from '../gateway/src/sandbox';
import type { RunRequest } from '../gateway/src/sandbox';
import { runInThisProcess } from '../gateway/src/sandbox/child';
import { Wasm } from '../gateway/src/sandbox/webassembly';
import { infiniteLoop, exitWith } from '../test/fixtures/wasm/attacks';
import { helloModule } from '../test/fixtures/wasm/builder';

const argv = process.argv.slice(2);
const roundsIndex = argv.indexOf('--rounds');
const ROUNDS = roundsIndex < 0 ? 9 : Number(argv[roundsIndex + 1]);

const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const quantile = (xs: number[], q: number): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))]!;
};

function request(module: Uint8Array, stdin: string | Uint8Array = '', seed = 'bench', wallMs = 60_000): RunRequest {
    return { programHash: programHashHex(module), module, argv: ['task'], stdin: Buffer.from(stdin), seed, limits: { wallMs } };
}

async function timeRun(pool: SandboxPool, req: RunRequest): Promise<number> {
    const t0 = performance.now();
    const r = await pool.run(req);
    const ms = performance.now() - t0;
    if (!r.ok && r.kind !== 'timeout') {
        throw new Error(`${r.kind}: ${r.detail}`);
    }
    return ms;
}

/** π in plain JS: the same integer algorithm and random stream as examples/assembly/pi.ts. */
function piJs(seed: string, trials: number): number {
    const bytes = seededRandomBytes(seed, trials * 8);
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset, trials * 2);
    let hits = 0;
    for (let i = 0; i < trials; i++) {
        const x = view[2 * i]! >>> 6;
        const y = view[2 * i + 1]! >>> 6;
        if (x * x + y * y < 4503599627370496) hits++;
    }
    return hits;
}

/** Prime counting in plain JS: the same segmented sieve as examples/assembly/primes.ts. */
function primesJs(lo: number, hi: number): number {
    if (hi <= 2 || lo >= hi) return 0;
    const start0 = Math.max(lo, 2);
    const root = Math.floor(Math.sqrt(hi - 1));
    const small = new Uint8Array(root + 1);
    const primes: number[] = [];
    for (let i = 2; i <= root; i++) {
        if (small[i] === 0) {
            primes.push(i);
            for (let j = i * i; j <= root; j += i) small[j] = 1;
        }
    }
    const SEG = 65536;
    const seg = new Uint8Array(SEG);
    let count = 0;
    for (let start = start0; start < hi; start += SEG) {
        const end = Math.min(start + SEG, hi);
        seg.fill(0);
        for (const p of primes) {
            if (p * p >= end) break;
            let first = Math.ceil(start / p) * p;
            if (first < p * p) first = p * p;
            for (let m = first; m < end; m += p) seg[m - start] = 1;
        }
        for (let i = 0; i < end - start; i++) if (seg[i] === 0) count++;
    }
    return count;
}

interface Row {
    name: string;
    perRound: number[];
}

async function main(): Promise<void> {
    const rows = new Map<string, Row>();
    const record = (name: string, ms: number): void => {
        const row = rows.get(name) ?? { name, perRound: [] };
        row.perRound.push(ms);
        rows.set(name, row);
    };
    const hello = helloModule();
    const quit = exitWith(0);
    const pi = readFileSync(join(__dirname, '../examples/build/pi.wasm'));
    const primes = readFileSync(join(__dirname, '../examples/build/primes.wasm'));
    const PI_TRIALS = 2_000_000;
    const PRIMES_HI = 20_000_000;

    const pool = new SandboxPool({ size: 1 });
    const fast = new SandboxPool({ size: 1, childFlags: ['--no-liftoff'] });
    await Promise.all([pool.ready(), fast.ready()]);
    const helloCompiled = new Wasm.Module(hello);
    const inProcess = { type: 'run' as const, id: 0, hash: '', argv: ['task'], stdin: new Uint8Array(0), seed: 'bench', maxStdout: 1 << 20, maxStderr: 1 << 16, memoryPages: 1 };

    for (let round = 0; round <= ROUNDS; round++) {
        const keep = round > 0; // round 0 is the warm-up
        const ops = async (name: string, n: number, op: () => Promise<number> | number): Promise<void> => {
            const xs: number[] = [];
            for (let i = 0; i < n; i++) xs.push(await op());
            if (keep) record(name, median(xs));
        };
        await ops('(1) warm run, trivial program (hello), via pool', 200, () => timeRun(pool, request(hello)));
        await ops('(1) warm run, program that exits at once (proc_exit 0), via pool', 200, () => timeRun(pool, request(quit)));
        await ops('(1) warm run, AssemblyScript example with a tiny input (primes 0 100), via pool', 200, () => timeRun(pool, request(primes, '0 100')));
        await ops('(1) instantiate + _start in process, JS WASI layer, no child', 200, () => {
            const t0 = performance.now();
            runInThisProcess(inProcess, helloCompiled);
            return performance.now() - t0;
        });
        await ops('(2) cold: new program (admission + compile in child + run)', 20, () => timeRun(pool, request(helloModule(`hello ${round} ${Math.random()}\n`))));
        await ops('(3) recovery: deadline kill → replacement child ready', 3, async () => {
            await timeRun(pool, request(infiniteLoop(), '', 'bench', 50));
            const t0 = performance.now();
            await pool.ready();
            return performance.now() - t0;
        });
        await ops(`(4) pi ${PI_TRIALS / 1e6} M trials, sandbox (default tiering)`, 3, () => timeRun(pool, request(pi, String(PI_TRIALS))));
        await ops(`(4) pi ${PI_TRIALS / 1e6} M trials, sandbox (--no-liftoff)`, 3, () => timeRun(fast, request(pi, String(PI_TRIALS))));
        await ops(`(4) pi ${PI_TRIALS / 1e6} M trials, plain JS in process`, 3, () => {
            const t0 = performance.now();
            piJs('bench', PI_TRIALS);
            return performance.now() - t0;
        });
        await ops(`(4) primes below ${PRIMES_HI / 1e6} M, sandbox (default tiering)`, 3, () => timeRun(pool, request(primes, `0 ${PRIMES_HI}`)));
        await ops(`(4) primes below ${PRIMES_HI / 1e6} M, sandbox (--no-liftoff)`, 3, () => timeRun(fast, request(primes, `0 ${PRIMES_HI}`)));
        await ops(`(4) primes below ${PRIMES_HI / 1e6} M, plain JS in process`, 3, () => {
            const t0 = performance.now();
            primesJs(0, PRIMES_HI);
            return performance.now() - t0;
        });
        process.stderr.write(`round ${round}/${ROUNDS}\n`);
    }
    await Promise.all([pool.close(), fast.close()]);

    // sanity: same answers
    const check = await (async () => {
        const p = new SandboxPool({ size: 1 });
        const a = await p.run(request(pi, '100000', 'chk'));
        const b = await p.run(request(primes, '0 1000000'));
        await p.close();
        return a.ok && b.ok && a.stdout.toString() === `${piJs('chk', 100000)} 100000\n` && b.stdout.toString() === `${primesJs(0, 1_000_000)}\n`;
    })();

    const all = [...rows.values()];
    const base = (prefix: string): Row | undefined => all.find((r) => r.name.startsWith(prefix) && r.name.endsWith('plain JS in process'));
    const out: string[] = [];
    out.push(`Machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.version}; ${ROUNDS} rounds after a warm-up; results identical to plain JS: ${check}`);
    out.push('');
    out.push('| variant | ms (median of round medians) | IQR over rounds | vs plain JS (paired) |');
    out.push('| --- | ---: | ---: | ---: |');
    for (const row of all) {
        const kernel = row.name.startsWith('(4) pi') ? base('(4) pi') : row.name.startsWith('(4) primes') ? base('(4) primes') : undefined;
        const ratio = kernel === undefined || kernel === row ? '' : `${median(row.perRound.map((v, i) => v / kernel.perRound[i]!)).toFixed(2)}×`;
        const fmt = (v: number): string => (v < 10 ? v.toFixed(3) : v.toFixed(1));
        out.push(`| ${row.name} | ${fmt(median(row.perRound))} | ${fmt(quantile(row.perRound, 0.25))}–${fmt(quantile(row.perRound, 0.75))} | ${ratio} |`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
}

void main();
