// SPDX-License-Identifier: Apache-2.0
/**
 * Benchmark of verification by the endorsing peers, through the peer simulator (fabric-shim's real
 * runtime, in process), side by side in one run: the endorsement of
 *
 *  - `plain`: a tasks:Submit under the signature policy;
 *  - `fuel 1e4` … `fuel 1e8`: the same Submit under a validator that burns that much fuel
 *    (a counting loop, 8 units per iteration) and accepts;
 *  - `merge signed`: a ranked job's merge filing (2, 1) with its carried leaf, checked by signatures;
 *  - `merge reexecuted`: the same filing for a job with `merge.verify: "reexecute"`, the example
 *    primes merge (examples/build/primes-merge.wasm) re-run on the two children.
 *
 * Endorsements only (nothing is committed), so each op sees the same state. A warm-up round, then
 * rounds in which every variant runs `--ops` times in a shuffled order; a variant's figure for a
 * round is the median of its ops; tables give the median and IQR over rounds. Fuel per millisecond
 * comes from the per-round difference between `fuel 1e8` and `plain`.
 *
 * Run: `npm run bench:validator` (or `node -r ./scripts/register-ts.js scripts/bench-validator.ts`);
 * options `--rounds N` (default 9), `--ops N` per variant per round (default 10).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../chaincode/src/core/signature';
import { MAX_FUEL } from '../chaincode/src/core/programs';
import { Chain, HOUR, PROGRAM, mergeSignatures, newTaskKey, openJob, sign, submission, taskSpec } from '../test/chaincode/harness';
import type { Actor, Json, TaskKey } from '../test/chaincode/harness';
import { wat } from '../test/wasm/wat';

const FUELS = [10_000, 1_000_000, 10_000_000, 100_000_000] as const;
const VARIANTS = ['plain', ...FUELS.map((f) => `fuel ${f.toExponential().replace('+', '')}`), 'merge signed', 'merge reexecuted'] as const;
type Variant = (typeof VARIANTS)[number];

function option(name: string, fallback: number): number {
    const index = process.argv.indexOf(`--${name}`);
    const value = index < 0 ? fallback : Number(process.argv[index + 1]);
    if (!Number.isSafeInteger(value) || value < 1) {
        throw new Error(`--${name} takes a positive integer`);
    }
    return value;
}

/** A validator that loops `iterations` times (8 fuel each, 4 more around the loop) and accepts. */
function burner(iterations: number): Promise<Buffer> {
    return wat(`(module (memory 1 1) (func (export "validate") (result i32) (local i32)
      (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br_if $l (i32.lt_u (local.get 0) (i32.const ${iterations}))))
      (i32.const 1)))`);
}

interface Op {
    readonly actor: Actor;
    readonly fn: string;
    readonly args: readonly string[];
}

async function setup(chain: Chain): Promise<Record<Variant, Op>> {
    const publisher = chain.actor({ mspId: 'Org1MSP', name: 'bench-publisher' });
    const worker = chain.actor({ mspId: 'Org2MSP', name: 'bench-worker' });
    await chain.mint(publisher, 10_000_000n);
    await chain.register(worker, 'bench-worker', { capacity: 64 });
    const ops = {} as Record<Variant, Op>;
    const openTask = async (variant: Variant, verify?: Json): Promise<void> => {
        const jobId = `bench-${VARIANTS.indexOf(variant)}`;
        const key = newTaskKey();
        const input = Buffer.from('0 100000');
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(openJob(jobId, [taskSpec(`${jobId}-t`, key, input)], { deadline: chain.peer.clock + 24 * HOUR, ...(verify === undefined ? {} : { verify }) }))]);
        await chain.submit(worker, 'tasks:Claim', [`${jobId}-t`, 'bench-worker']);
        ops[variant] = { actor: worker, fn: 'tasks:Submit', args: [`${jobId}-t`, 'bench-worker', submission(key, `${jobId}-t`, input, Buffer.from('9592\n'))] };
    };
    await openTask('plain');
    for (const [i, fuel] of FUELS.entries()) {
        const program = await burner(Math.floor((fuel - 4) / 8));
        const stored = await chain.submit(publisher, 'programs:Store', [program.toString('base64')]);
        await openTask(VARIANTS[i + 1]!, { policy: 'validator', program: stored.uri, fuel });
    }
    // Ranked jobs of two tasks: one node per organization of Org1 and Org2.
    const owners = new Map<string, Actor>([['bench-worker', worker]]);
    for (const [o, mspId] of ['Org1MSP', 'Org2MSP'].entries()) {
        const owner = chain.actor({ mspId, name: `bench-node-owner-${o}` });
        await chain.register(owner, `bench-node-${o}`, { mode: 'passive' });
        owners.set(`bench-node-${o}`, owner);
    }
    const merge = await chain.submit(publisher, 'programs:Store', [readFileSync(join(__dirname, '../examples/build/primes-merge.wasm')).toString('base64')]);
    const ranked = async (variant: Variant, mergeSpec: (key: TaskKey) => Json): Promise<void> => {
        const jobId = `bench-${VARIANTS.indexOf(variant)}`;
        const keys = [newTaskKey(), newTaskKey()];
        const mergeKey = newTaskKey();
        const inputs = [Buffer.from('0 50000'), Buffer.from('50000 100000')];
        const results = [Buffer.from('5133\n'), Buffer.from('4459\n')];
        const tasks = keys.map((key, i) => taskSpec(`${jobId}-t${i + 1}`, key, inputs[i]!));
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify({ id: jobId, program: PROGRAM, assignment: 'ranked', shards: ['Org1MSP', 'Org2MSP'], taskCount: 2, deadline: chain.peer.clock + 24 * HOUR, merge: mergeSpec(mergeKey), tasks })]);
        const holders = new Map((chain.lastEvent().payload.ranks as { rank: number; executorId: string }[]).map((r) => [r.rank, r.executorId]));
        const leaf = (i: number): Json => ({ result: results[i]!.toString('base64'), signatures: sign(keys[i]!, `${jobId}-t${i + 1}`, sha256(inputs[i]!), results[i]!) });
        await chain.submit(owners.get(holders.get(1)!)!, 'ranks:File', [jobId, holders.get(1)!, JSON.stringify({ y: 1, x: 1, ...leaf(0) })]);
        const value = Buffer.from('9592\n');
        const signatures = variant === 'merge signed' ? { signatures: mergeSignatures(mergeKey, jobId, 2, 1, results[0]!, results[1]!, value) } : {};
        ops[variant] = { actor: owners.get(holders.get(2)!)!, fn: 'ranks:File', args: [jobId, holders.get(2)!, JSON.stringify({ y: 2, x: 1, result: value.toString('base64'), ...signatures, carry: leaf(1) })] };
    };
    await ranked('merge signed', (key) => ({ program: PROGRAM, publicKey: key.publicKeyPem, reward: '1' }));
    await ranked('merge reexecuted', () => ({ program: { uri: merge.uri, sha256: merge.sha256 }, reward: '1', verify: 'reexecute', fuel: 100_000 }));
    return ops;
}

async function endorse(chain: Chain, op: Op): Promise<number> {
    const started = performance.now();
    const endorsement = await chain.peer.endorse(op.actor.identity, op.fn, op.args);
    const elapsed = (performance.now() - started) * 1000;
    const reply = JSON.parse(endorsement.payload.toString('utf8')) as { outcome?: string; code?: string };
    if (endorsement.status !== 200 || reply.outcome === 'rejected') {
        throw new Error(`${op.fn} ${op.args[0] ?? ''} was not accepted: ${endorsement.message} ${reply.code ?? ''}`);
    }
    return elapsed;
}

/** A variant's entry (variant names are built at run time, so the record's keys are plain strings). */
function at<T>(record: Readonly<Record<string, T>>, variant: string): T {
    const value = record[variant];
    if (value === undefined) {
        throw new Error(`no figure for ${variant}`);
    }
    return value;
}

function quantile(values: readonly number[], q: number): number {
    const sorted = [...values].sort((x, y) => x - y);
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.ceil(position);
    return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}
const median = (values: readonly number[]): number => quantile(values, 0.5);

function shuffled<T>(list: readonly T[], seed: number): T[] {
    const out = [...list];
    let state = (seed * 2654435761) >>> 0 || 1;
    for (let i = out.length - 1; i > 0; i--) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        state >>>= 0;
        const j = state % (i + 1);
        [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
}

async function main(): Promise<void> {
    const rounds = option('rounds', 9);
    const opsPerRound = option('ops', 10);
    const chain = await Chain.start();
    const started = performance.now();
    try {
        const ops = await setup(chain);
        const perRound: Record<Variant, number>[] = [];
        for (let round = 0; round <= rounds; round++) {
            const figures = {} as Record<Variant, number>;
            for (const variant of shuffled(VARIANTS, round + 1)) {
                const times: number[] = [];
                for (let i = 0; i < opsPerRound; i++) {
                    times.push(await endorse(chain, at(ops, variant)));
                }
                figures[variant] = median(times);
            }
            if (round > 0) {
                perRound.push(figures);
            }
        }
        const ms = (us: number): string => (us / 1000).toFixed(us >= 100_000 ? 0 : 2);
        const lines = [
            `Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}; ${rounds} rounds × ${opsPerRound} endorsements per variant, ${((performance.now() - started) / 1000).toFixed(0)} s.`,
            '',
            '| endorsement of | ms, median of round medians | IQR over rounds | × plain (median of per-round ratios) |',
            '| --- | ---: | ---: | ---: |',
        ];
        for (const variant of VARIANTS) {
            const values = perRound.map((r) => at(r, variant));
            const ratios = perRound.map((r) => at(r, variant) / at(r, 'plain'));
            lines.push(`| ${variant} | ${ms(median(values))} | ${ms(quantile(values, 0.25))}–${ms(quantile(values, 0.75))} | ${median(ratios).toFixed(2)} |`);
        }
        const top = VARIANTS[FUELS.length]!;
        const fuelPerMs = median(perRound.map((r) => FUELS[FUELS.length - 1]! / ((at(r, top) - at(r, 'plain')) / 1000)));
        const plainMs = median(perRound.map((r) => at(r, 'plain'))) / 1000;
        const underOneSecond = Math.floor(((1000 - plainMs) * fuelPerMs) / 1e6) * 1e6;
        lines.push(
            '',
            `Fuel per millisecond (fuel 1e8 − plain, per round): ${fuelPerMs.toFixed(0)}.`,
            `A validator stays under one second of endorsement with at most ${underOneSecond.toLocaleString('en-US')} fuel on this machine (the chaincode accepts up to ${MAX_FUEL.toLocaleString('en-US')}).`,
        );
        process.stdout.write(`${lines.join('\n')}\n`);
    } finally {
        await chain.stop();
    }
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
});
