// SPDX-License-Identifier: Apache-2.0
/**
 * Benchmark of the submit path inside the chaincode, through the peer simulator (fabric-shim's real
 * runtime, in process), with node:crypto and jsrsasign side by side in one run:
 *
 *  (a) full `tasks:Submit` transactions — endorse (chaincode) and commit (MVCC) — in separate and
 *      combined mode; (a−) the endorsement alone, on other claimed tasks (nothing committed);
 *  (b) the chaincode's own verification of the same payloads: `verifySeparate` / `verifyCombined`
 *      (core/signature.ts) with the task's KeyObject parsed beforehand, as the key cache holds it;
 *      (b+) the whole verification step of Submit, `checkTaskSignatures` (ledger/tasks.ts): key
 *      cache lookup, result hash, then (b);
 *  (c) the same verifications with jsrsasign (`KJUR.crypto.Signature`, SHA256withECDSA, key parsed
 *      once), after the same strict DER/low-S decoding the chaincode does.
 *
 * Method (docs/benchmarks.md, "Method"): a warm-up round, then rounds in which every variant
 * runs once in a shuffled order; each op is timed on its own; a variant's figure for a round is the
 * median of its ops; tables give the median and IQR over rounds, and ratios are medians of the
 * per-round paired ratios. From (a), (b) and (c) each round gives the share of a submit spent
 * verifying (b / a) and what a submit would cost with jsrsasign (a − b + c).
 *
 * Run: `npm run bench:submit` (or `node -r ./scripts/register-ts.js scripts/bench-submit.ts`);
 * options `--rounds N` (default 15), `--submits N` per mode per round (default 40), `--jsrsasign N`
 * verifications per mode per round with jsrsasign (default 3; each takes tens of milliseconds).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { KEYUTIL, KJUR } from 'jsrsasign';
import type { TaskRecord } from '../chaincode/src/core/model';
import { combinedPayload, decodeSignature, inputPayload, parsePublicKey, resultPayload, sha256, verifyCombined, verifySeparate } from '../chaincode/src/core/signature';
import type { SignatureMode } from '../chaincode/src/core/signature';
import { parseSubmission } from '../chaincode/src/core/specs';
import type { Signatures } from '../chaincode/src/core/specs';
import { checkTaskSignatures } from '../chaincode/src/ledger/tasks';
import { BINDING, Chain, HOUR, newTaskKey, openJob, sign, taskSpec } from '../test/chaincode/harness';
import type { Actor } from '../test/chaincode/harness';

interface Options {
    readonly rounds: number;
    readonly submits: number;
    readonly jsrsasign: number;
}

function parseOptions(argv: readonly string[]): Options {
    const value = (name: string, fallback: number): number => {
        const index = argv.indexOf(`--${name}`);
        const parsed = index < 0 ? fallback : Number(argv[index + 1]);
        if (!Number.isSafeInteger(parsed) || parsed < 1) {
            throw new Error(`--${name} takes a positive integer`);
        }
        return parsed;
    };
    return { rounds: value('rounds', 15), submits: value('submits', 40), jsrsasign: value('jsrsasign', 3) };
}

const MODES: readonly SignatureMode[] = ['separate', 'combined'];

/** One task ready to submit, with everything each verifier needs, prepared outside the timed code. */
interface Item {
    readonly taskId: string;
    readonly argument: string;
    readonly inputHash: Buffer;
    readonly result: Buffer;
    readonly resultHash: Buffer;
    readonly signatures: Signatures;
    readonly key: KeyObject;
    readonly jsrKey: ReturnType<typeof KEYUTIL.getKey>;
    record?: TaskRecord;
}

/** Per round and mode: the tasks published and claimed for it; `shadow` ones are only endorsed, never committed. */
interface Batch {
    readonly items: Readonly<Record<SignatureMode, readonly Item[]>>;
    readonly shadow: Readonly<Record<SignatureMode, readonly Item[]>>;
}

/** A ~1 KiB result, like the task results the reference ECDSA figures of docs/benchmarks.md were measured on. */
function resultOf(taskId: string): Buffer {
    return Buffer.from(JSON.stringify({ task: taskId, primes: Array.from({ length: 180 }, (_, i) => i * 7919) }).slice(0, 1024));
}

class Bench {
    #jobs = 0;

    private constructor(
        readonly chain: Chain,
        readonly publisher: Actor,
        readonly worker: Actor,
    ) {}

    static async start(): Promise<Bench> {
        const chain = await Chain.start();
        const publisher = chain.actor({ mspId: 'Org1MSP', name: 'bench-publisher' });
        const worker = chain.actor({ mspId: 'Org2MSP', name: 'bench-worker' });
        await chain.mint(publisher, 10n ** 15n);
        await chain.register(worker, 'bench-worker', { capacity: 1024 });
        return new Bench(chain, publisher, worker);
    }

    /** Publishes, for each mode, `count` tasks to submit and `count` to endorse only. */
    async prepare(count: number): Promise<Batch> {
        return { items: await this.publish(count), shadow: await this.publish(count) };
    }

    /** Publishes one job per mode with `count` tasks, each with its own key (SPEC §4), and claims them all. */
    async publish(count: number): Promise<Readonly<Record<SignatureMode, readonly Item[]>>> {
        const batch: Partial<Record<SignatureMode, Item[]>> = {};
        for (const mode of MODES) {
            const jobId = `bench-${++this.#jobs}`;
            const items: Item[] = [];
            const specs = [];
            for (let i = 1; i <= count; i++) {
                const taskId = `${jobId}-t${i}`;
                const key = newTaskKey();
                const input = Buffer.from(`input of ${taskId}: ${'x'.repeat(64)}`);
                const result = resultOf(taskId);
                specs.push(taskSpec(taskId, key, input, '1'));
                const argument = JSON.stringify({ result: result.toString('base64'), signatures: sign(key, taskId, sha256(input), result, mode) });
                const submission = parseSubmission(argument, 64 * 1024);
                items.push({
                    taskId,
                    argument,
                    inputHash: sha256(input),
                    result,
                    resultHash: sha256(result),
                    signatures: submission.signatures,
                    key: parsePublicKey(key.publicKeyPem),
                    jsrKey: KEYUTIL.getKey(key.publicKeyPem),
                });
            }
            await this.chain.submit(this.publisher, 'jobs:Publish', [JSON.stringify(openJob(jobId, specs, { mode, deadline: this.chain.peer.clock + 24 * HOUR }))]);
            for (const item of items) {
                const claimed = await this.chain.submit(this.worker, 'tasks:Claim', [item.taskId, 'bench-worker']);
                item.record = claimed as unknown as TaskRecord;
            }
            batch[mode] = items;
        }
        return batch as Record<SignatureMode, readonly Item[]>;
    }

    /** Gives back the endorse-only tasks of a round, so claims never reach the worker's capacity. */
    async release(batch: Batch): Promise<void> {
        for (const mode of MODES) {
            for (const item of batch.shadow[mode]) {
                await this.chain.submit(this.worker, 'tasks:Release', [item.taskId, 'bench-worker']);
            }
        }
    }

    /** (a−) The endorsement of a Submit alone (the proposal is built and signed, checked, run by the chaincode); nothing is committed. */
    async endorse(item: Item): Promise<void> {
        const endorsement = await this.chain.peer.endorse(this.worker.identity, 'tasks:Submit', [item.taskId, 'bench-worker', item.argument]);
        if (endorsement.status !== 200) {
            throw new Error(`endorsement of ${item.taskId} failed: ${endorsement.message}`);
        }
    }

    /** (a) One full Submit: endorsement by the chaincode, then commit. */
    async submit(item: Item): Promise<void> {
        const submission = await this.chain.peer.submit(this.worker.identity, 'tasks:Submit', [item.taskId, 'bench-worker', item.argument]);
        const reply = JSON.parse(submission.payload.toString('utf8')) as { outcome?: string };
        if (submission.validationCode !== 'VALID' || reply.outcome !== 'accepted') {
            throw new Error(`submit of ${item.taskId} was not accepted: ${submission.validationCode} ${submission.payload.toString('utf8').slice(0, 200)}`);
        }
    }
}

/** (b) The chaincode's verification with the KeyObject in hand. */
function verifyNode(item: Item): void {
    const s = item.signatures;
    if (s.mode === 'separate') {
        verifySeparate(item.key, BINDING, item.taskId, item.inputHash, item.resultHash, s.input, s.result);
    } else {
        verifyCombined(item.key, BINDING, item.taskId, item.inputHash, item.resultHash, s.combined);
    }
}

/** (b+) The whole verification step of Submit. */
function checkStep(item: Item): void {
    const rejection = checkTaskSignatures(BINDING, item.record!, item.result, item.signatures);
    if (rejection !== undefined) {
        throw rejection;
    }
}

function jsrVerify(key: Item['jsrKey'], payload: Buffer, signature: string): boolean {
    const verifier = new KJUR.crypto.Signature({ alg: 'SHA256withECDSA' });
    verifier.init(key);
    verifier.updateHex(payload.toString('hex'));
    return verifier.verify(decodeSignature(signature).der.toString('hex'));
}

/** (c) The same checks with jsrsasign: same payloads, same strict decoding, jsrsasign's ECDSA. */
function verifyJsr(item: Item): void {
    const s = item.signatures;
    const ok =
        s.mode === 'separate'
            ? jsrVerify(item.jsrKey, inputPayload(BINDING, item.taskId, item.inputHash), s.input) && jsrVerify(item.jsrKey, resultPayload(BINDING, item.taskId, item.resultHash), s.result)
            : jsrVerify(item.jsrKey, combinedPayload(BINDING, item.taskId, item.inputHash, item.resultHash), s.combined);
    if (!ok) {
        throw new Error(`jsrsasign rejected the signatures of ${item.taskId}`);
    }
}

/** Times each op on its own; returns the durations in microseconds. */
async function timeEach(items: readonly Item[], op: (item: Item) => void | Promise<void>): Promise<number[]> {
    const times: number[] = [];
    for (const item of items) {
        const started = performance.now();
        await op(item);
        times.push((performance.now() - started) * 1000);
    }
    return times;
}

function quantile(values: readonly number[], q: number): number {
    const sorted = [...values].sort((x, y) => x - y);
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.ceil(position);
    return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

const median = (values: readonly number[]): number => quantile(values, 0.5);

/** A deterministic shuffle (xorshift), so a run's variant order can be reproduced. */
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

const KINDS = ['submit', 'endorse', 'verify', 'check', 'jsrsasign'] as const;
type Kind = (typeof KINDS)[number];
type Variant = `${Kind}:${SignatureMode}`;

const VARIANTS: readonly Variant[] = MODES.flatMap((mode) => KINDS.map((kind): Variant => `${kind}:${mode}`));

async function runRound(bench: Bench, batch: Batch, options: Options, seed: number): Promise<Record<Variant, number>> {
    const perRound = {} as Record<Variant, number>;
    for (const variant of shuffled(VARIANTS, seed)) {
        const [kind, mode] = variant.split(':') as [Kind, SignatureMode];
        const items = batch.items[mode];
        const ops: Record<Kind, () => Promise<number[]>> = {
            submit: () => timeEach(items, (item) => bench.submit(item)),
            endorse: () => timeEach(batch.shadow[mode], (item) => bench.endorse(item)),
            verify: () => timeEach(items, verifyNode),
            check: () => timeEach(items, checkStep),
            jsrsasign: () => timeEach(items.slice(0, options.jsrsasign), verifyJsr),
        };
        perRound[variant] = median(await ops[kind]());
    }
    return perRound;
}

function describeMachine(): string {
    const jsrsasign = (JSON.parse(readFileSync(join(require.resolve('jsrsasign'), '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    return `${availableParallelism()} CPUs (${cpu}), Node ${process.version} (V8 ${process.versions.v8}, OpenSSL ${process.versions.openssl}), jsrsasign ${jsrsasign}`;
}

const fmt = (us: number): string => (us >= 10_000 ? us.toFixed(0) : us >= 100 ? us.toFixed(0) : us.toFixed(1));
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const times = (x: number): string => `${x.toFixed(x >= 10 ? 0 : 1)}×`;

function summary(values: readonly number[], format: (x: number) => string): string {
    return `${format(median(values))} | ${format(quantile(values, 0.25))}–${format(quantile(values, 0.75))}`;
}

function report(rounds: readonly Record<Variant, number>[], options: Options, seconds: number): string {
    const lines = [
        `machine: ${describeMachine()}`,
        `run: ${rounds.length} rounds after 1 warm-up round; per round and mode ${options.submits} submits, ${options.submits} node:crypto verifications, ${options.jsrsasign} jsrsasign verifications; ${seconds.toFixed(0)} s`,
        '',
        '| variant | µs per op, median of round medians | IQR over rounds |',
        '| --- | ---: | ---: |',
    ];
    const labels: Record<string, string> = {
        submit: '(a) `tasks:Submit`, endorse + commit',
        endorse: '(a−) `tasks:Submit`, endorsement only',
        verify: '(b) `verify{Separate,Combined}`, node:crypto, KeyObject cached',
        check: '(b+) `checkTaskSignatures` (key cache lookup + result hash + (b))',
        jsrsasign: '(c) same verification with jsrsasign',
    };
    for (const variant of VARIANTS) {
        const [kind = '', mode = ''] = variant.split(':');
        lines.push(`| ${labels[kind] ?? kind}, ${mode} | ${summary(rounds.map((r) => r[variant]), fmt)} |`);
    }
    lines.push('', '| per-round paired figures | median | IQR over rounds |', '| --- | ---: | ---: |');
    for (const mode of MODES) {
        const a = rounds.map((r) => r[`submit:${mode}`]);
        const b = rounds.map((r) => r[`verify:${mode}`]);
        const b2 = rounds.map((r) => r[`check:${mode}`]);
        const c = rounds.map((r) => r[`jsrsasign:${mode}`]);
        const e = rounds.map((r) => r[`endorse:${mode}`]);
        const jsrSubmit = a.map((x, i) => x - b[i]! + c[i]!);
        lines.push(
            `| ${mode}: share of a submit spent verifying, b / a | ${summary(b.map((x, i) => x / a[i]!), pct)} |`,
            `| ${mode}: share spent in the verification step, b+ / a | ${summary(b2.map((x, i) => x / a[i]!), pct)} |`,
            `| ${mode}: share of an endorsement spent verifying, b / a− | ${summary(b.map((x, i) => x / e[i]!), pct)} |`,
            `| ${mode}: submit with jsrsasign, a − b + c (µs) | ${summary(jsrSubmit, fmt)} |`,
            `| ${mode}: jsrsasign submit / node:crypto submit, (a − b + c) / a | ${summary(jsrSubmit.map((x, i) => x / a[i]!), times)} |`,
            `| ${mode}: jsrsasign / node:crypto verification, c / b | ${summary(c.map((x, i) => x / b[i]!), times)} |`,
            `| ${mode}: submits per second on one core, node:crypto → jsrsasign | ${(1e6 / median(a)).toFixed(0)} → ${(1e6 / median(jsrSubmit)).toFixed(1)} | |`,
        );
    }
    return lines.join('\n');
}

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    const started = performance.now();
    const bench = await Bench.start();
    try {
        const rounds: Record<Variant, number>[] = [];
        for (let round = 0; round <= options.rounds; round++) {
            const batch = await bench.prepare(options.submits);
            const figures = await runRound(bench, batch, options, round + 1);
            await bench.release(batch);
            if (round > 0) {
                rounds.push(figures);
            }
            process.stderr.write(`round ${round}/${options.rounds}${round === 0 ? ' (warm-up)' : ''}: submit separate ${fmt(figures['submit:separate'])} µs, combined ${fmt(figures['submit:combined'])} µs\n`);
        }
        process.stdout.write(`${report(rounds, options, (performance.now() - started) / 1000)}\n`);
    } finally {
        await bench.chain.stop();
    }
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
});
