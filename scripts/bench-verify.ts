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
 * Run: `npm run bench:verify -- [--tasks 64] [--width 60000000] [--trace]` (--trace: every work event on stderr).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { common, peer } from '@hyperledger/fabric-protos';
import { startDevnet } from '../network/devnet/src';
import type { ConnectionSettings, Devnet } from '../network/devnet/src';
import { contracts } from '../chaincode/src';
import { sha256 } from '../chaincode/src/core/signature';
import { LedgerworkClient, connectGateway } from '../gateway/src/client';
import type { GatewayConnection } from '../gateway/src/client';
import { ReplicaJournal, WorkLoop, describeWorkEvent } from '../gateway/src/executor';
import type { WorkEvent } from '../gateway/src/executor';
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

/** With --trace: each work event on stderr, seconds since the run's publish first. */
function tracer(started: number, executorId: string): (event: WorkEvent) => void {
    return (event) => {
        console.error(`${((performance.now() - started) / 1000).toFixed(1)} ${executorId} ${describeWorkEvent(event)}`);
    };
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
    readonly census: Census;
}

/** What the blocks of one run hold: transactions by function, valid or invalidated by a concurrent one (MVCC or phantom read). */
interface Census {
    /**
     * `contract:Function` → valid, conflicted, and of those conflicted how many lost to the same
     * function on the same task by another executor (a valid one committed in the same block or one
     * of the two before) — for tasks:Reveal, reveals of one task invalidating each other.
     */
    readonly byFunction: Map<string, { valid: number; conflicted: number; sameTask: number }>;
}

const MVCC_READ_CONFLICT = 11;
const PHANTOM_READ_CONFLICT = 12;

/** The function and first two arguments (task, executor) of an endorser transaction; undefined for any other. */
function invocationOf(envelopeBytes: Uint8Array): { fn: string; taskId: string; executorId: string } | undefined {
    const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelopeBytes).getPayload_asU8());
    const channelHeader = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array());
    const action = channelHeader.getType() === common.HeaderType.ENDORSER_TRANSACTION ? peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0] : undefined;
    if (action === undefined) {
        return undefined;
    }
    const proposal = peer.ChaincodeProposalPayload.deserializeBinary(peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8()).getChaincodeProposalPayload_asU8());
    const args = peer.ChaincodeInvocationSpec.deserializeBinary(proposal.getInput_asU8()).getChaincodeSpec()?.getInput()?.getArgsList_asU8() ?? [];
    const [fn = '?', taskId = '', executorId = ''] = args.slice(0, 3).map((arg) => Buffer.from(arg).toString('utf8'));
    return { fn, taskId, executorId };
}

/** The endorser transactions of a serialized block with their validation codes. */
function transactionsOf(bytes: Uint8Array | undefined): { tx: NonNullable<ReturnType<typeof invocationOf>>; code: number | undefined }[] {
    if (bytes === undefined) {
        return [];
    }
    const block = common.Block.deserializeBinary(bytes);
    const codes = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array();
    return (block.getData()?.getDataList_asU8() ?? []).flatMap((envelopeBytes, i) => {
        const tx = invocationOf(envelopeBytes);
        return tx === undefined ? [] : [{ tx, code: codes[i] }];
    });
}

/** Reads blocks `from` (inclusive) to `to` (exclusive) of the devnet's ledger and counts what they hold. */
async function censusOf(devnet: Devnet, from: number, to: number): Promise<Census> {
    const byFunction = new Map<string, { valid: number; conflicted: number; sameTask: number }>();
    /** Valid transactions by function and task: block and executor. */
    const valid = new Map<string, { block: number; executorId: string }[]>();
    const conflicted: { block: number; fn: string; taskId: string; executorId: string }[] = [];
    for (let number = from; number < to; number++) {
        for (const { tx, code } of transactionsOf(await devnet.blockBytes(number))) {
            const counts = byFunction.get(tx.fn) ?? { valid: 0, conflicted: 0, sameTask: 0 };
            byFunction.set(tx.fn, counts);
            if (code === 0) {
                counts.valid++;
                const key = `${tx.fn}\u0000${tx.taskId}`;
                valid.set(key, [...(valid.get(key) ?? []), { block: number, executorId: tx.executorId }]);
            } else if (code === MVCC_READ_CONFLICT || code === PHANTOM_READ_CONFLICT) {
                counts.conflicted++;
                conflicted.push({ block: number, ...tx });
            }
        }
    }
    for (const lost of conflicted) {
        const winners = valid.get(`${lost.fn}\u0000${lost.taskId}`) ?? [];
        if (winners.some((won) => won.executorId !== lost.executorId && won.block <= lost.block && won.block >= lost.block - 2)) {
            const counts = byFunction.get(lost.fn);
            if (counts !== undefined) {
                counts.sameTask++;
            }
        }
    }
    return { byFunction };
}

async function main(): Promise<void> {
    const taskCount = option('tasks', 64);
    const width = option('width', 60_000_000);
    const trace = process.argv.includes('--trace');
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
            const firstBlock = net.devnet.height;
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
                        ...(trace ? { onEvent: tracer(started, id) } : {}),
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
                census: await censusOf(net.devnet, firstBlock, net.devnet.height),
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
        console.log('\nTransactions in the blocks of each run by function: valid / invalidated by a concurrent one (MVCC or phantom read) / of those, lost to the same function on the same task by another executor; publishing excluded:\n');
        const functions = [...new Set(rows.flatMap((row) => [...row.census.byFunction.keys()]))].filter((fn) => fn !== 'jobs:Publish' && fn !== 'jobs:AddTasks').sort();
        console.log(`| policy | ${functions.join(' | ')} |`);
        console.log(`| --- |${functions.map(() => ' ---: |').join('')}`);
        for (const row of rows) {
            const cells = functions.map((fn) => {
                const counts = row.census.byFunction.get(fn);
                return counts === undefined ? '–' : `${counts.valid} / ${counts.conflicted} / ${counts.sameTask}`;
            });
            console.log(`| ${row.policy} | ${cells.join(' | ')} |`);
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
