// SPDX-License-Identifier: Apache-2.0
/**
 * Scale runs on an in-process 3-org devnet (docs/benchmarks.md, "Scale runs"):
 *
 *  ranked — a ranked prime-count job of `--ranked-tasks` tasks (default 1,024; M = the next power of
 *           two nodes) sharded over every org, each org running `--executors` executors (default 16)
 *           whose capacity lets them hold the org's share of ranks (a node is a rank, not a machine);
 *           worked to (h, 1); every one of the 2M − 1 numbers filed; the result checked against a
 *           direct sieve.
 *  open   — an open prime-count job of `--open-tasks` tasks (default 10,000), published in batches
 *           of `--batch` (default 256; a channel admin raises maxTasksPerJob above its 4,096
 *           default first), worked to the end by the same executors; every task completed, the sum
 *           of the results checked against a direct sieve.
 *
 * Each org runs one WorkLoop (gateway/src/executor) over its executors, following chaincode events
 * (JobFollower); all orgs share one sandbox pool of `--concurrency` children (default 2, the
 * machine's cores). Tasks are small (`--width` integers each, default 2,000) so the figures are the
 * ledger's: wall time from the first publish to the end, committed transactions (one chaincode
 * event each) and their rate, blocks, and the block store's growth per filing / per task.
 *
 * Run: `npm run bench:scale -- [--which ranked|open|both] [--ranked-tasks N] [--open-tasks N]
 *      [--executors N] [--orgs N] [--batch N] [--concurrency N] [--width N] [--max-ranks N] [--verbose]` (--max-ranks: ranks
 *      running at once per org, default 32; --verbose
 *      prints every work-loop event).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDevnet } from '../network/devnet/src';
import type { ConnectionSettings, RunningDevnet } from '../network/devnet/src';
import { contracts } from '../chaincode/src';
import { treeShape } from '../chaincode/src/core/mergeTree';
import { LedgerworkClient, connectGateway } from '../gateway/src/client';
import type { GatewayConnection } from '../gateway/src/client';
import { JobFollower, WorkLoop, describeWorkEvent } from '../gateway/src/executor';
import type { WorkEvent, WorkSummary } from '../gateway/src/executor';
import { DirectoryStore, planJob, publishPlan, splitRange, waitForTarget } from '../gateway/src/publisher';
import { SandboxPool } from '../gateway/src/sandbox';
import { countPrimesBelow } from '../gateway/src/demo/mainJob';

const ROOT = path.resolve(__dirname, '..');

function option(name: string, fallback: number): number {
    const i = process.argv.indexOf(`--${name}`);
    const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
    if (!Number.isSafeInteger(value) || value < 1) {
        throw new Error(`--${name} must be a positive integer`);
    }
    return value;
}

function which(): 'ranked' | 'open' | 'both' {
    const i = process.argv.indexOf('--which');
    const value = i >= 0 ? process.argv[i + 1] : 'both';
    if (value !== 'ranked' && value !== 'open' && value !== 'both') {
        throw new Error('--which takes ranked, open or both');
    }
    return value;
}

const log = (line: string): void => {
    process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

/** Bytes of the channel's block store (a file or a directory of files). */
function ledgerBytes(dir: string): number {
    const at = path.join(dir, 'ledger');
    let total = 0;
    const walk = (p: string): void => {
        const stat = statSync(p);
        if (stat.isDirectory()) {
            for (const name of readdirSync(p)) {
                walk(path.join(p, name));
            }
        } else {
            total += stat.size;
        }
    };
    walk(at);
    return total;
}

/** Valid transactions (one chaincode event each) per event name in blocks [from, to). */
async function eventsBetween(net: RunningDevnet, from: number, to: number): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (let block = from; block < to; block++) {
        for (const { event } of await net.devnet.eventsOf(block)) {
            const name = event.getEventName();
            counts.set(name, (counts.get(name) ?? 0) + 1);
        }
    }
    return counts;
}

interface Org {
    readonly mspId: string;
    readonly client: LedgerworkClient;
    readonly network: GatewayConnection['network'];
    readonly executorIds: readonly string[];
}

interface RunFigures {
    readonly name: string;
    readonly wallMs: number;
    readonly publishMs: number;
    readonly txs: number;
    readonly blocks: number;
    readonly bytes: number;
    readonly units: number;
    readonly unitName: string;
    readonly events: Map<string, number>;
    readonly verified: string;
    readonly summaries: readonly WorkSummary[];
    /** The work loops' transactions invalidated by a concurrent one (MVCC or phantom read) and re-run by their clients. */
    readonly conflictRetries: number;
}

async function main(): Promise<void> {
    const mode = which();
    const rankedTasks = option('ranked-tasks', 1024);
    const openTasks = option('open-tasks', 10_000);
    const perOrg = option('executors', 16);
    const orgCount = option('orgs', 3);
    const batch = option('batch', 256);
    const concurrency = option('concurrency', 2);
    const width = option('width', 2000);
    const verbose = process.argv.includes('--verbose');
    const maxRanks = option('max-ranks', 32);
    const dir = mkdtempSync(path.join(tmpdir(), 'lw-bench-scale-'));
    const devnetDir = path.join(dir, 'devnet');
    const connections: GatewayConnection[] = [];
    const net = await startDevnet({ dir: devnetDir, orgs: orgCount, batchSize: 64, batchTimeoutMs: 25, chaincodes: [{ name: 'ledgerwork', folder: path.resolve(__dirname, '../chaincode'), contracts }] });
    const pool = new SandboxPool({ size: concurrency });
    const program = readFileSync(path.join(ROOT, 'examples/build/primes.wasm'));
    const binding = { channel: 'mychannel', chaincode: 'ledgerwork' };
    const results: RunFigures[] = [];
    try {
        const connect = (settings: ConnectionSettings): { client: LedgerworkClient; network: GatewayConnection['network'] } => {
            // Longer deadlines than a client's defaults: on a shared, overloaded machine a 1,024-rank Publish
            // endorses for longer than 15 s, and a 5 s evaluate deadline turns slowness into retries.
            const connection = connectGateway({ ...settings, chaincodeName: 'ledgerwork' }, { deadlines: { evaluateMs: 30_000, endorseMs: 120_000, submitMs: 30_000 } });
            connections.push(connection);
            return { client: new LedgerworkClient(connection.network, 'ledgerwork'), network: connection.network };
        };
        const admin = connect(net.connection(1, 'Admin')).client;
        const publisher = connect(net.addUser(1, 'publisher')).client;
        await admin.mint((await publisher.whoAmI()).account, 10n ** 12n);
        await admin.setParameters({ maxTasksPerJob: 65_536 });
        const shards = Array.from({ length: orgCount }, (_, i) => `Org${i + 1}MSP`);
        const share = Math.ceil(treeShape(rankedTasks).nodeCount / orgCount);
        const capacity = Math.max(4, Math.ceil(share / perOrg));
        const orgs: Org[] = await Promise.all(
            shards.map(async (mspId, i) => {
                const { client, network } = connect(net.addUser(i + 1, 'operator'));
                const executorIds = Array.from({ length: perOrg }, (_, n) => `${mspId.replace('MSP', '').toLowerCase()}-x${n + 1}`);
                for (const id of executorIds) {
                    await client.registerExecutor(id, { mode: 'active', skills: ['wasm'], capacity });
                }
                return { mspId, client, network, executorIds };
            }),
        );
        await pool.ready();
        log(`devnet: ${orgCount} orgs × ${perOrg} executors (capacity ${capacity}), sandbox pool ${concurrency}; ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1) ?? '?'}`);

        /** Runs one job to its end with one WorkLoop per org; returns the figures. */
        const run = async (name: string, jobId: string, publish: () => Promise<void>, finish: () => Promise<{ units: number; unitName: string; verified: string }>): Promise<void> => {
            const heightBefore = net.devnet.height;
            const conflictsBefore = orgs.reduce((n, org) => n + org.client.counters.conflictRetries, 0);
            const bytesBefore = ledgerBytes(devnetDir);
            const followers = await Promise.all(
                orgs.map((org) => JobFollower.start({ network: org.network, chaincodeName: 'ledgerwork', executorIds: org.executorIds, checkpointFile: path.join(dir, `${jobId}-${org.mspId}.checkpoint`), startBlock: BigInt(heightBefore) })),
            );
            const started = performance.now();
            try {
                await publish();
                const publishMs = performance.now() - started;
                log(`${name}: published in ${(publishMs / 1000).toFixed(1)} s`);
                const loops = orgs.map(
                    (org, i) =>
                        new WorkLoop({
                            executorIds: org.executorIds,
                            ledger: org.client,
                            sandbox: pool,
                            concurrency,
                            binding,
                            jobIds: [jobId],
                            untilDone: true,
                            pollMs: 2000,
                            maxRanks,
                            ...(followers[i] === undefined ? {} : { source: followers[i] }),
                            ...(verbose ? { onEvent: (event: WorkEvent) => { log(`${org.mspId}: ${describeWorkEvent(event)}`); } } : {}),
                        }),
                );
                const progress = setInterval(() => {
                    void publisher.getJobProgress(jobId).then(
                        (p) => {
                            log(`${name}: ${JSON.stringify(p.tasks)} — ${((performance.now() - started) / 1000).toFixed(0)} s, height ${net.devnet.height}`);
                        },
                        () => undefined,
                    );
                }, 30_000); // GetJobProgress reads every task of the job: not too often
                let summaries: WorkSummary[];
                try {
                    summaries = await Promise.all(loops.map((loop) => loop.run()));
                } finally {
                    clearInterval(progress);
                }
                const outcome = await finish();
                const wallMs = performance.now() - started;
                await net.devnet.flush();
                const heightAfter = net.devnet.height;
                const events = await eventsBetween(net, heightBefore, heightAfter);
                const txs = [...events.values()].reduce((a, b) => a + b, 0);
                const conflictRetries = orgs.reduce((n, org) => n + org.client.counters.conflictRetries, 0) - conflictsBefore;
                results.push({ name, wallMs, publishMs, txs, blocks: heightAfter - heightBefore, bytes: ledgerBytes(devnetDir) - bytesBefore, ...outcome, events, summaries, conflictRetries });
                log(`${name}: done in ${(wallMs / 1000).toFixed(1)} s — ${outcome.verified}`);
            } finally {
                await Promise.all(followers.map((f) => f.close()));
            }
        };

        if (mode !== 'open') {
            const upTo = rankedTasks * width;
            const jobId = 'scale-ranked';
            await run(
                `ranked job of ${rankedTasks} tasks`,
                jobId,
                async () => {
                    const plan = await planJob({
                        jobId,
                        program,
                        mergeProgram: program,
                        inputs: splitRange(0n, BigInt(upTo), rankedTasks).map((text) => Buffer.from(text)),
                        keyScope: 'job',
                        reward: 10n,
                        mergeReward: 2n,
                        assignment: 'ranked',
                        shards,
                        requirements: { skills: ['wasm'] },
                        deadline: Date.now() + 6 * 3_600_000,
                        leaseMs: 3_600_000,
                        store: new DirectoryStore(path.join(dir, jobId)),
                    });
                    await publishPlan(publisher, plan, batch);
                },
                async () => {
                    const result = Number((await waitForTarget(publisher, jobId, rankedTasks, { pollMs: 1000 })).toString().trim());
                    const tree = await publisher.getMergeTree(jobId);
                    const expected = countPrimesBelow(upTo);
                    const numbers = 2 * tree.nodeCount - 1;
                    const perExecutor = new Map<string, number>();
                    for (const holder of tree.holders) {
                        perExecutor.set(holder.executorId, (perExecutor.get(holder.executorId) ?? 0) + 1);
                    }
                    return {
                        units: tree.filed.length,
                        unitName: 'filing',
                        verified: `${tree.filed.length} of ${numbers} numbers filed (${tree.missing.length} missing) by ${perExecutor.size} executors holding ${Math.min(...perExecutor.values())}–${Math.max(...perExecutor.values())} ranks each; result ${result}, direct sieve ${expected}: ${result === expected && tree.filed.length === numbers ? 'verified' : 'MISMATCH'}`,
                    };
                },
            );
        }

        if (mode !== 'ranked') {
            const upTo = openTasks * width;
            const jobId = 'scale-open';
            await run(
                `open job of ${openTasks} tasks`,
                jobId,
                async () => {
                    const plan = await planJob({
                        jobId,
                        program,
                        inputs: splitRange(0n, BigInt(upTo), openTasks).map((text) => Buffer.from(text)),
                        keyScope: 'job',
                        reward: 1n,
                        requirements: { skills: ['wasm'] },
                        deadline: Date.now() + 6 * 3_600_000,
                        leaseMs: 600_000, // a claim left by a failed call is swept and claimed again within minutes, not an hour
                        store: new DirectoryStore(path.join(dir, jobId)),
                    });
                    await publishPlan(publisher, plan, batch);
                },
                async () => {
                    const progress = await publisher.getJobProgress(jobId);
                    let sum = 0;
                    let bookmark = '';
                    do {
                        const page = await publisher.listTasksByJob(jobId, 'completed', 1000, bookmark);
                        for (const task of page.items) {
                            sum += Number(Buffer.from(task.result?.inline ?? '', 'base64').toString().trim());
                        }
                        bookmark = page.bookmark;
                    } while (bookmark !== '');
                    const expected = countPrimesBelow(upTo);
                    const completed = progress.tasks.completed;
                    return { units: completed, unitName: 'task', verified: `${completed} of ${openTasks} tasks completed (${JSON.stringify(progress.tasks)}); sum of results ${sum}, direct sieve ${expected}: ${sum === expected && completed === openTasks ? 'verified' : 'MISMATCH'}` };
                },
            );
        }
    } finally {
        for (const connection of connections) {
            connection.close();
        }
        await pool.close();
        await net.stop();
        rmSync(dir, { recursive: true, force: true });
    }
    const lines = [
        `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, load average at the end ${loadavg()[0]?.toFixed(1) ?? '?'}. ${orgCount} orgs × ${perOrg} executors, sandbox pool ${concurrency}, tasks of ${width} integers.`,
        '',
        '| run | wall | publish | committed txs | tx/s | blocks | txs per unit | block bytes per unit | verified |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
        ...results.map(
            (r) =>
                `| ${r.name} | ${(r.wallMs / 1000).toFixed(1)} s | ${(r.publishMs / 1000).toFixed(1)} s | ${r.txs} | ${((r.txs * 1000) / r.wallMs).toFixed(1)} | ${r.blocks} | ${(r.txs / r.units).toFixed(2)} per ${r.unitName} | ${Math.round(r.bytes / r.units)} per ${r.unitName} | ${r.verified} |`,
        ),
        '',
        ...results.map((r) => `${r.name}: transactions by event: ${[...r.events].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}; work loops: ${r.summaries.map((s) => `accepted ${s.accepted}, filed ${s.filed}, lost races ${s.lostRaces}, skipped ${s.skipped}, failed ${s.failed}, resumed ${s.resumed}`).join(' | ')}; transactions re-run after a conflict: ${r.conflictRetries}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
});
