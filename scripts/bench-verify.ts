// SPDX-License-Identifier: Apache-2.0
/**
 * What replicated verification costs: the 64-task prime-count job of `bench:job` (same program,
 * same task width) run side by side in one process under `signature`, `quorum:2` and
 * `credibility:0.999`, on an in-process devnet of five organizations with one executor each
 * (replicas must come from distinct organizations), every executor a WorkLoop sharing one sandbox
 * pool of 2 children (the 2 cores).
 *
 * Reports per policy: wall time from publish to the last settled task, replicas run per task and
 * compute against `signature`, ledger transactions per task (every transaction the executors sent
 * to ordering, conflicts included), valid transactions per replica and how many more that is than
 * `signature` needs per task, and conflicts (MVCC) re-run with a new proposal. Targets: quorum:k
 * costs at most k× the compute of `signature` and at most two extra transactions per replica.
 *
 * Run: `npm run bench:verify -- [--tasks 64] [--width 60000000]`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDevnet } from '../network/devnet/src';
import type { ConnectionSettings } from '../network/devnet/src';
import { contracts } from '../chaincode/src';
import { sha256 } from '../chaincode/src/core/signature';
import { LedgerworkClient, connectGateway } from '../gateway/src/client';
import type { GatewayConnection } from '../gateway/src/client';
import { ReplicaJournal, WorkLoop } from '../gateway/src/executor';
import type { Runner } from '../gateway/src/executor';
import { DirectoryStore, describeVerifyPolicy, planJob, publishPlan } from '../gateway/src/publisher';
import type { VerifyPolicy } from '../gateway/src/publisher';
import { SandboxPool } from '../gateway/src/sandbox';

const ROOT = path.resolve(__dirname, '..');
const ORGS = 5;

function option(name: string, fallback: number): number {
    const i = process.argv.indexOf(`--${name}`);
    const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
    if (!Number.isSafeInteger(value) || value < 1) {
        throw new Error(`--${name} must be a positive integer`);
    }
    return value;
}

interface Row {
    readonly policy: string;
    readonly completed: number;
    readonly failed: number;
    readonly wallMs: number;
    readonly runs: number;
    readonly computeMs: number;
    readonly transactions: number;
    readonly conflicts: number;
}

async function main(): Promise<void> {
    const taskCount = option('tasks', 64);
    const width = option('width', 60_000_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'lw-bench-verify-'));
    const connections: GatewayConnection[] = [];
    const net = await startDevnet({ dir: path.join(dir, 'devnet'), orgs: ORGS, batchSize: 64, batchTimeoutMs: 25, chaincodes: [{ name: 'ledgerwork', folder: path.join(ROOT, 'chaincode'), contracts }] });
    const pool = new SandboxPool({ size: 2 });
    const program = readFileSync(path.join(ROOT, 'examples/build/primes.wasm'));
    const binding = { channel: 'mychannel', chaincode: 'ledgerwork' };
    try {
        const client = (settings: ConnectionSettings): LedgerworkClient => {
            const connection = connectGateway({ ...settings, chaincodeName: 'ledgerwork' });
            connections.push(connection);
            return new LedgerworkClient(connection.network, 'ledgerwork');
        };
        const admin = client(net.connection(1, 'Admin'));
        const publisher = client(net.addUser(1, 'publisher'));
        await admin.mint((await publisher.whoAmI()).account, 10_000_000n);
        const operators = Array.from({ length: ORGS }, (_, i) => ({ id: `org${i + 1}-bench`, client: client(net.addUser(i + 1, 'operator')) }));
        for (const { id, client: operator } of operators) {
            await operator.registerExecutor(id, { mode: 'active', capacity: 8 });
        }
        const inputs = Array.from({ length: taskCount }, (_, i) => Buffer.from(`${BigInt(i) * BigInt(width)} ${BigInt(i + 1) * BigInt(width)}`));
        await pool.ready();
        // Warm-up: each pool child sees the program once (admission, compilation), outside the figures.
        await Promise.all([0, 1].map(() => pool.run({ programHash: sha256(program).toString('hex'), module: program, argv: ['task'], stdin: Buffer.from('0 1000'), seed: 'warm' })));

        const policies: VerifyPolicy[] = [{ policy: 'signature' }, { policy: 'quorum', k: 2, maxReplicas: 4 }, { policy: 'credibility', trust: '0.999', maxReplicas: 5 }];
        const rows: Row[] = [];
        for (const [n, verify] of policies.entries()) {
            const jobId = `bench-verify-${n}`;
            const plan = await planJob({ jobId, program, inputs, keyScope: 'job', reward: 1n, verify, deadline: Date.now() + 3_600_000, store: new DirectoryStore(path.join(dir, jobId)) });
            const before = operators.map((o) => ({ ...o.client.counters }));
            let runs = 0;
            let computeMs = 0;
            const sandbox: Runner = {
                run: async (request) => {
                    const result = await pool.run(request);
                    runs++;
                    computeMs += result.wallMs;
                    return result;
                },
            };
            const started = performance.now();
            await publishPlan(publisher, plan, 64);
            await Promise.all(
                operators.map(({ id, client: ledger }) =>
                    new WorkLoop({
                        executorIds: [id],
                        ledger,
                        sandbox,
                        concurrency: 1,
                        binding,
                        jobIds: [jobId],
                        untilDone: true,
                        pollMs: 100,
                        journal: new ReplicaJournal(path.join(dir, 'journals', id)),
                    }).run(),
                ),
            );
            const wallMs = performance.now() - started;
            const progress = await publisher.getJobProgress(jobId);
            const after = operators.map((o) => o.client.counters);
            rows.push({
                policy: verify.policy === 'signature' ? 'signature' : describeVerifyPolicy(verify),
                completed: progress.tasks.completed,
                failed: progress.tasks.failed,
                wallMs,
                runs,
                computeMs,
                transactions: after.reduce((sum, c, i) => sum + c.submitted - (before[i]?.submitted ?? 0), 0),
                conflicts: after.reduce((sum, c, i) => sum + c.conflictRetries - (before[i]?.conflictRetries ?? 0), 0),
            });
        }

        console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
        console.log(`job: ${taskCount} tasks of ${width} integers (primes.wasm), ${ORGS} orgs × 1 executor (WorkLoop), pool of 2\n`);
        const base = rows[0];
        console.log('| policy | tasks accepted | wall | replicas / task | compute vs signature | ledger tx / task | valid tx / replica | extra tx / replica | conflicts re-run |');
        console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
        const validPerReplica = (row: Row): number => (row.transactions - row.conflicts) / row.runs;
        for (const row of rows) {
            const perTask = row.runs / taskCount;
            const extra = base === undefined ? NaN : validPerReplica(row) - validPerReplica(base);
            console.log(
                `| ${row.policy} | ${row.completed}/${taskCount}${row.failed > 0 ? ` (${row.failed} failed)` : ''} | ${(row.wallMs / 1000).toFixed(2)} s | ${perTask.toFixed(2)} | ${base === undefined ? '' : (row.computeMs / base.computeMs).toFixed(2)}× | ${(row.transactions / taskCount).toFixed(2)} | ${validPerReplica(row).toFixed(2)} | ${extra.toFixed(2)} | ${row.conflicts} |`,
            );
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
