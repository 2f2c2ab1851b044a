// SPDX-License-Identifier: Apache-2.0
/**
 * A CPU-bound job on 2 executors: open jobs of 64 prime-count tasks (`examples/build/primes.wasm`,
 * each task a range of `--width` integers, sized so one run takes ~100–200 ms) on an in-process
 * devnet, worked by two executors sharing one sandbox pool of 2 children (the 2 cores), side by side
 * in one run: first each executor claiming, running and submitting one task after the other (the
 * way before the WorkLoop), then the WorkLoop, which claims ahead and overlaps submits with runs.
 *
 * Reports for each the wall time from the first claim to the last accepted submission against the
 * ideal (the compute time measured inside the sandbox children, queueing excluded, ÷ 2), and the
 * per-task ledger overhead: claim and submit latency (endorse + order + commit on the devnet, which
 * runs in this process).
 *
 * Run: `node -r ./scripts/register-ts.js scripts/bench-job.ts [--tasks 64] [--width 60000000]`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDevnet } from '../network/devnet/src';
import type { ConnectionSettings } from '../network/devnet/src';
import { contracts } from '../chaincode/src';
import { LedgerworkClient, connectGateway } from '../gateway/src/client';
import type { GatewayConnection } from '../gateway/src/client';
import { sha256 } from '../chaincode/src/core/signature';
import { Executor, WorkLoop } from '../gateway/src/executor';
import type { Runner, WorkLedger } from '../gateway/src/executor';
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

interface Phase {
    readonly name: string;
    readonly accepted: number;
    readonly wallMs: number;
    readonly runs: number[];
    readonly claims: number[];
    readonly submits: number[];
    /** Transactions invalidated by a concurrent one (MVCC or phantom read) and re-run by the client. */
    readonly conflicts: number;
}

/** Wraps the ledger and the sandbox to time claims, submits and the runs inside the children (queueing excluded). */
function instrument(operator: LedgerworkClient, pool: SandboxPool): { ledger: WorkLedger; sandbox: Runner; claims: number[]; submits: number[]; runs: number[] } {
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
    const ledger: WorkLedger = {
        claimTask: (taskId, executorId) => timed(claims, () => operator.claimTask(taskId, executorId)),
        submitResult: (taskId, executorId, submission) => timed(submits, () => operator.submitResult(taskId, executorId, submission)),
        reportFailure: (...args) => operator.reportFailure(...args),
        getTask: (...args) => operator.getTask(...args),
        getJob: (...args) => operator.getJob(...args),
        listTasksByJob: (...args) => operator.listTasksByJob(...args),
        getFiling: (...args) => operator.getFiling(...args),
        fileNumber: (...args) => operator.fileNumber(...args),
        releaseTask: (...args) => operator.releaseTask(...args),
        getMergeTree: (...args) => operator.getMergeTree(...args),
        getExecutor: (...args) => operator.getExecutor(...args),
        listTasksByExecutor: (...args) => operator.listTasksByExecutor(...args),
        sweepExpired: (...args) => operator.sweepExpired(...args),
        reassignRank: (...args) => operator.reassignRank(...args),
    };
    const sandbox: Runner = {
        run: async (request) => {
            const result = await pool.run(request);
            runs.push(result.wallMs);
            return result;
        },
    };
    return { ledger, sandbox, claims, submits, runs };
}

async function main(): Promise<void> {
    const taskCount = option('tasks', 64);
    const width = option('width', 60_000_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'lw-bench-job-'));
    const connections: GatewayConnection[] = [];
    const net = await startDevnet({ dir: path.join(dir, 'devnet'), batchSize: 64, batchTimeoutMs: 25, chaincodes: [{ name: 'ledgerwork', folder: path.resolve(__dirname, '../chaincode'), contracts }] });
    // A generous wall limit: the figures are about the loop, and a shared machine can stall a 150 ms run.
    const pool = new SandboxPool({ size: 2, limits: { wallMs: 120_000 } });
    const program = readFileSync(path.join(ROOT, 'examples/build/primes.wasm'));
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
        const inputs = Array.from({ length: taskCount }, (_, i) => Buffer.from(`${BigInt(i) * BigInt(width)} ${BigInt(i + 1) * BigInt(width)}`));
        const publish = async (jobId: string): Promise<void> => {
            const plan = await planJob({ jobId, program, inputs, keyScope: 'job', reward: 1n, deadline: Date.now() + 3_600_000, store: new DirectoryStore(path.join(dir, jobId)) });
            await publishPlan(publisher, plan, 64);
        };
        await pool.ready();
        // Warm-up: each pool child sees the program once (admission, compilation), outside the figures.
        await Promise.all([0, 1].map(() => pool.run({ programHash: sha256(program).toString('hex'), module: program, argv: ['task'], stdin: Buffer.from('0 1000'), seed: 'warm' })));
        const binding = { channel: 'mychannel', chaincode: 'ledgerwork' };
        const phases: Phase[] = [];

        // Before: each executor claims, runs and submits one task after the other (capacity 1).
        await publish('bench-serial');
        for (const id of ['serial-a', 'serial-b']) {
            await operator.registerExecutor(id, { mode: 'active', capacity: 1 });
        }
        {
            const timing = instrument(operator, pool);
            const conflictsBefore = operator.counters.conflictRetries;
            const queue = (await operator.listTasksByJob('bench-serial', 'published', 1000)).items.map((t) => t.id);
            const started = performance.now();
            const accepted = await Promise.all(
                ['serial-a', 'serial-b'].map(async (executorId) => {
                    const executor = new Executor({ executorId, ledger: timing.ledger, sandbox: timing.sandbox, binding });
                    let count = 0;
                    for (let taskId = queue.shift(); taskId !== undefined; taskId = queue.shift()) {
                        const outcome = await executor.claimAndRun(taskId);
                        if (outcome.kind !== 'accepted') {
                            throw new Error(`${taskId}: ${JSON.stringify(outcome)}`);
                        }
                        count++;
                    }
                    return count;
                }),
            );
            phases.push({ name: 'one task at a time', accepted: accepted.reduce((a, b) => a + b, 0), wallMs: performance.now() - started, conflicts: operator.counters.conflictRetries - conflictsBefore, ...timing });
        }

        // The WorkLoop: claims ahead while runs compute, submits overlap the next run (capacity 2 each).
        await publish('bench-loop');
        for (const id of ['loop-a', 'loop-b']) {
            await operator.registerExecutor(id, { mode: 'active', capacity: 2 });
        }
        {
            const timing = instrument(operator, pool);
            const conflictsBefore = operator.counters.conflictRetries;
            const started = performance.now();
            const loop = new WorkLoop({ executorIds: ['loop-a', 'loop-b'], ledger: timing.ledger, sandbox: timing.sandbox, concurrency: 2, binding, jobIds: ['bench-loop'], untilDone: true, pollMs: 200 });
            const summary = await loop.run();
            const wallMs = performance.now() - started;
            if (summary.accepted !== taskCount || summary.failed !== 0) {
                throw new Error(`work loop: ${JSON.stringify(summary)}`);
            }
            phases.push({ name: 'WorkLoop (pipelined)', accepted: summary.accepted, wallMs, conflicts: operator.counters.conflictRetries - conflictsBefore, ...timing });
        }

        console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
        console.log(`job: ${taskCount} tasks of ${width} integers (primes.wasm), 2 executors, pool of 2`);
        for (const phase of phases) {
            const computeMs = phase.runs.reduce((a, b) => a + b, 0);
            const ideal = computeMs / 2;
            const overheads = phase.claims.map((c, i) => c + (phase.submits[i] ?? 0));
            console.log(`\n${phase.name}: ${phase.accepted} accepted`);
            console.log(`  task run (in the child): ${stats(phase.runs)}; total compute ${(computeMs / 1000).toFixed(2)} s`);
            console.log(`  wall ${(phase.wallMs / 1000).toFixed(2)} s vs ideal ${(ideal / 1000).toFixed(2)} s (compute ÷ 2): ${(phase.wallMs / ideal).toFixed(3)} × ideal`);
            console.log(`  claim: ${stats(phase.claims)}`);
            console.log(`  submit: ${stats(phase.submits)}`);
            console.log(`  claim + submit per task: ${stats(overheads)}`);
            console.log(`  transactions re-run after a conflict (MVCC or phantom read): ${phase.conflicts}`);
        }
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
