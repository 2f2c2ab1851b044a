// SPDX-License-Identifier: Apache-2.0
/**
 * A CPU-bound job on 2 executors: an open job of 64 prime-count tasks (`examples/build/primes.wasm`,
 * each task a range of `--width` integers, sized so one run takes ~100–200 ms) on an in-process
 * devnet, worked by two executors sharing one sandbox pool of 2 children (the 2 cores).
 *
 * Reports the wall time from the first claim to the last accepted submission against the ideal
 * (the compute time measured inside the sandbox runs ÷ 2), and the per-task ledger overhead:
 * claim and submit latency (endorse + order + commit on the devnet, which runs in this process).
 *
 * Run: `node -r ./scripts/register-ts.js scripts/bench-job.ts [--tasks 64] [--width 60000000]`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDevnet } from '../network/devnet/src';
import type { ConnectionSettings } from '../network/devnet/src';
import { contracts } from '../chaincode/src';
import { LedgerworkClient, connectGateway } from '../gateway/src/client';
import type { GatewayConnection } from '../gateway/src/client';
import { Executor } from '../gateway/src/executor';
import type { LedgerPort, Runner } from '../gateway/src/executor';
import { DirectoryStore, planJob, publishPlan } from '../gateway/src/publisher';
import { SandboxPool } from '../gateway/src/sandbox';

const ROOT = path.resolve(__dirname, '..');

function option(name: string, fallback: number): number {
    const i = process.argv.indexOf(`--${name}`);
    const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
    if (!Number.isSafeInteger(value) || value < 1) {
        throw new Error(`--${name} must be a positive integer`);
    }
    return value;
}

function quantile(sorted: readonly number[], q: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function stats(values: readonly number[]): string {
    const sorted = [...values].sort((a, b) => a - b);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    return `mean ${mean.toFixed(1)} ms, p50 ${quantile(sorted, 0.5).toFixed(1)}, p95 ${quantile(sorted, 0.95).toFixed(1)}, max ${(sorted.at(-1) ?? NaN).toFixed(1)}`;
}

async function main(): Promise<void> {
    const taskCount = option('tasks', 64);
    const width = option('width', 60_000_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'lw-bench-job-'));
    const connections: GatewayConnection[] = [];
    const net = await startDevnet({ dir: path.join(dir, 'devnet'), batchSize: 64, batchTimeoutMs: 25, chaincodes: [{ name: 'ledgerwork', contracts }] });
    const pool = new SandboxPool({ size: 2 });
    try {
        const client = (settings: ConnectionSettings): LedgerworkClient => {
            const connection = connectGateway({ ...settings, chaincodeName: 'ledgerwork' });
            connections.push(connection);
            return new LedgerworkClient(connection.network, 'ledgerwork');
        };
        const admin = client(net.connection(1, 'Admin'));
        const publisher = client(net.addUser(1, 'publisher'));
        const operator = client(net.addUser(1, 'operator'));
        await admin.mint((await publisher.whoAmI()).account, 1_000_000n);
        const ids = ['bench-a', 'bench-b'];
        for (const id of ids) {
            await operator.registerExecutor(id, { mode: 'active', capacity: 1 });
        }
        const inputs = Array.from({ length: taskCount }, (_, i) => Buffer.from(`${BigInt(i) * BigInt(width)} ${BigInt(i + 1) * BigInt(width)}`));
        const plan = await planJob({ jobId: 'bench-job', program: readFileSync(path.join(ROOT, 'examples/build/primes.wasm')), inputs, keyScope: 'job', reward: 1n, deadline: Date.now() + 3_600_000, store: new DirectoryStore(path.join(dir, 'store')) });
        await publishPlan(publisher, plan, 64);
        await pool.ready();

        const claims: number[] = [];
        const submits: number[] = [];
        const runs: number[] = [];
        const timed = async <T>(into: number[], work: () => Promise<T>): Promise<T> => {
            const started = performance.now();
            try {
                return await work();
            } finally {
                into.push(performance.now() - started);
            }
        };
        const ledger: LedgerPort = {
            claimTask: (taskId, executorId) => timed(claims, () => operator.claimTask(taskId, executorId)),
            submitResult: (taskId, executorId, submission) => timed(submits, () => operator.submitResult(taskId, executorId, submission)),
            reportFailure: (...args) => operator.reportFailure(...args),
            getTask: (...args) => operator.getTask(...args),
            getJob: (...args) => operator.getJob(...args),
            listTasksByJob: (...args) => operator.listTasksByJob(...args),
            getFiling: (...args) => operator.getFiling(...args),
            fileNumber: (...args) => operator.fileNumber(...args),
        };
        const sandbox: Runner = { run: (request) => timed(runs, () => pool.run(request)) };
        const binding = { channel: 'mychannel', chaincode: 'ledgerwork' };
        const queue = (await operator.listTasksByJob('bench-job', 'published', 1000)).items.map((t) => t.id);
        // Warm-up: each pool child sees the program once (admission, compilation), outside the figures.
        await Promise.all(
            [0, 1].map(() => pool.run({ programHash: 'warm', module: readFileSync(path.join(ROOT, 'examples/build/primes.wasm')), argv: ['task'], stdin: Buffer.from('0 1000'), seed: 'warm' })),
        );
        const started = performance.now();
        const outcomes = await Promise.all(
            ids.map(async (executorId) => {
                const executor = new Executor({ executorId, ledger, sandbox, binding });
                let accepted = 0;
                for (let taskId = queue.shift(); taskId !== undefined; taskId = queue.shift()) {
                    const outcome = await executor.claimAndRun(taskId);
                    if (outcome.kind !== 'accepted') {
                        throw new Error(`${taskId}: ${JSON.stringify(outcome)}`);
                    }
                    accepted++;
                }
                return accepted;
            }),
        );
        const wallMs = performance.now() - started;
        const computeMs = runs.reduce((a, b) => a + b, 0);
        const ideal = computeMs / 2;
        const overheads = claims.map((c, i) => c + (submits[i] ?? 0));
        const progress = await publisher.getJobProgress('bench-job');
        console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}`);
        console.log(`job: ${taskCount} tasks of ${width} integers (primes.wasm), 2 executors (${outcomes.join(' + ')} tasks), pool of 2; finished ${String(progress.finished)}`);
        console.log(`task run (sandbox): ${stats(runs)}; total compute ${(computeMs / 1000).toFixed(2)} s`);
        console.log(`wall ${(wallMs / 1000).toFixed(2)} s vs ideal ${(ideal / 1000).toFixed(2)} s (compute ÷ 2): ${((wallMs / ideal - 1) * 100).toFixed(1)} % over`);
        console.log(`claim: ${stats(claims)}`);
        console.log(`submit: ${stats(submits)}`);
        console.log(`claim + submit per task: ${stats(overheads)}`);
    } finally {
        await pool.close();
        for (const connection of connections) {
            connection.close();
        }
        await net.stop();
        rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
});
