// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDevnet } from '@ledgerwork/devnet';
import type { RunningDevnet } from '@ledgerwork/devnet';
import { treeShape } from '@ledgerwork/core';
import { LedgerworkClient, connectGateway } from '../client';
import type { GatewayConnection } from '../client';
import { FilingWaker, WorkLoop } from '../executor';
import { DirectoryStore, planJob, publishPlan, splitRange, waitForTarget } from '../publisher';
import { SandboxPool } from '../sandbox';
import { runForgeryRound } from './forgeryRound';
import type { ForgeryRoundOptions, ForgeryRoundReport } from './forgeryRound';

export interface MainJobOptions {
    /** The repository: chaincode/ and examples/build/primes.wasm are taken from it. */
    readonly repoDir: string;
    /** Tasks in the job (N); M = the next power of two nodes take part. */
    readonly taskCount?: number;
    /** Count primes below this. */
    readonly upTo?: number;
    readonly orgs?: number;
    /** Tasks and bound of the replicated round (a ranked job under quorum:2 against a forger); 0 tasks skips it. */
    readonly quorumTasks?: number;
    readonly quorumUpTo?: number;
    /** Progress and summary lines. */
    readonly log?: (line: string) => void;
    /** Called once the devnet is up, before anything is registered (`npm start -- --view` starts the view here). */
    readonly onDevnet?: (net: RunningDevnet) => Promise<void>;
    /** Awaited after the summary, before the devnet stops (`--view` keeps it up until Ctrl-C). */
    readonly beforeStop?: () => Promise<void>;
}

export interface MainJobReport {
    readonly result: number;
    readonly expected: number;
    readonly verified: boolean;
    readonly taskCount: number;
    readonly nodeCount: number;
    readonly wallMs: number;
    /** Per org: tasks computed, real merges, credits earned. */
    readonly orgs: readonly { readonly mspId: string; readonly executors: number; readonly tasks: number; readonly merges: number; readonly earned: string; readonly reputation: number }[];
    /** Per executor that took part: its work, credits and reputation. */
    readonly executors: readonly { readonly executorId: string; readonly shard: string; readonly tasks: number; readonly merges: number; readonly earned: string; readonly reputation: number }[];
    /** Ledger height at the end. */
    readonly blocks: number;
    /** The replicated round: its verified count and what the forger filed, lost and was caught at. */
    readonly quorum?: ForgeryRoundReport & { readonly expected: number };
}

/**
 * The main job (`npm start`): a 3-org devnet, executors registered in every org, a ranked, sharded
 * prime-counting job of N tasks (M nodes, ZERO padding) published, every rank worked through the
 * sandbox, the final result at (h, 1) checked against a direct local count, and a summary.
 */
export async function runMainJob(options: MainJobOptions): Promise<MainJobReport> {
    const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
    const taskCount = options.taskCount ?? 100;
    const upTo = options.upTo ?? 2_000_000;
    const orgCount = options.orgs ?? 3;
    const shape = treeShape(taskCount);
    const started = performance.now();
    const dir = mkdtempSync(path.join(tmpdir(), 'ledgerwork-main-'));
    const connections: GatewayConnection[] = [];
    // The chaincode folder as a peer would run it: its built package, one instance per org.
    const net = await startDevnet({ dir: path.join(dir, 'devnet'), orgs: orgCount, batchSize: 64, batchTimeoutMs: 25, chaincodes: [{ name: 'ledgerwork', folder: path.join(options.repoDir, 'chaincode') }] });
    const pool = new SandboxPool({ size: 2 });
    const wakers = new Map<string, FilingWaker>();
    try {
        await options.onDevnet?.(net);
        const connect = (settings: ReturnType<typeof net.connection>): { client: LedgerworkClient; network: GatewayConnection['network'] } => {
            const connection = connectGateway({ ...settings, chaincodeName: 'ledgerwork' });
            connections.push(connection);
            return { client: new LedgerworkClient(connection.network, 'ledgerwork'), network: connection.network };
        };
        const client = (settings: ReturnType<typeof net.connection>): LedgerworkClient => connect(settings).client;
        const shards = Array.from({ length: orgCount }, (_, i) => `Org${i + 1}MSP`);
        log(`devnet: ${orgCount} orgs (${shards.join(', ')}), channel mychannel, chaincode ledgerwork — ${ms(started)}`);
        const admin = client(net.connection(1, 'Admin'));
        const publisher = client(net.addUser(1, 'publisher'));
        const publisherAccount = (await publisher.whoAmI()).account;
        await admin.mint(publisherAccount, 1_000_000n);
        await pool.ready();

        // Every org registers enough executors for its share of the M nodes (plus one spare).
        const perOrg = Math.ceil(shape.nodeCount / orgCount) + 1;
        const operators = new Map<string, LedgerworkClient>();
        await Promise.all(
            shards.map(async (mspId, i) => {
                const { client: operator, network } = connect(net.addUser(i + 1, 'operator'));
                operators.set(mspId, operator);
                wakers.set(mspId, await FilingWaker.follow(network, 'ledgerwork'));
                for (let n = 1; n <= perOrg; n++) {
                    await operator.registerExecutor(`${mspId.replace('MSP', '').toLowerCase()}-node${n}`, { mode: 'passive', skills: ['wasm'] });
                }
            }),
        );
        log(`executors: ${perOrg} registered in each of ${orgCount} orgs — ${ms(started)}`);

        const program = readFileSync(path.join(options.repoDir, 'examples/build/primes.wasm'));
        const plan = await planJob({
            jobId: 'primes',
            description: `count the primes below ${upTo}`,
            program,
            mergeProgram: program,
            inputs: splitRange(0n, BigInt(upTo), taskCount).map((text) => Buffer.from(text)),
            reward: 10n,
            mergeReward: 2n,
            shards,
            requirements: { skills: ['wasm'] },
            deadline: Date.now() + 3600_000,
            store: new DirectoryStore(path.join(dir, 'bundles')),
        });
        await publishPlan(publisher, plan, 50);
        const tree = await publisher.getMergeTree('primes');
        log(`job primes: N = ${taskCount} tasks, M = ${shape.nodeCount} nodes (${shape.nodeCount - taskCount} ZERO), target (${shape.height}, 1), ranks split ${shards.map((s) => tree.holders.filter((h) => h.shard === s).length).join('/')} — ${ms(started)}`);

        const binding = { channel: 'mychannel', chaincode: 'ledgerwork' };
        const target = waitForTarget(publisher, 'primes', taskCount, {
            pollMs: 1000,
            ...withWaker(wakers.get(shards[0] ?? '')),
            onProgress: (filed, numbers, level) => {
                log(`  ${bar(filed, numbers)} ${filed}/${numbers} numbers filed, level ${level}/${shape.height} — ${ms(started)}`);
            },
        });
        // Each org runs one work loop for its executors (as `ledgerwork executor run` does), sharing the 2-core sandbox here.
        const summaries = await Promise.all(
            shards.map(async (shard) => {
                const ledger = operators.get(shard);
                const executorIds = [...new Set(tree.holders.filter((h) => h.shard === shard).map((h) => h.executorId))];
                if (ledger === undefined || executorIds.length === 0) {
                    return undefined;
                }
                return new WorkLoop({ executorIds, ledger, sandbox: pool, concurrency: 2, binding, jobIds: ['primes'], untilDone: true, pollMs: 2000, ...withWaker(wakers.get(shard)) }).run();
            }),
        );
        const failed = summaries.reduce((n, summary) => n + (summary?.failed ?? 0) + (summary?.rejected ?? 0), 0);
        if (failed > 0) {
            throw new Error(`${failed} ranks did not finish`);
        }
        const result = Number((await target).toString().trim());
        const expected = countPrimesBelow(upTo);
        const wallMs = performance.now() - started;
        const finalTree = await publisher.getMergeTree('primes');
        const executors = await Promise.all(
            tree.holders.map(async ({ executorId, shard }) => {
                const view = await publisher.getExecutor(executorId);
                const mine = finalTree.filed.filter((f) => f.executorId === executorId);
                return { executorId, shard, tasks: mine.filter((f) => f.kind === 'leaf').length, merges: mine.filter((f) => f.kind === 'merge').length, earned: view.earned, reputation: view.reputation };
            }),
        );
        const orgs = shards.map((mspId) => {
            const members = executors.filter((e) => e.shard === mspId);
            return {
                mspId,
                executors: members.length,
                tasks: members.reduce((n, e) => n + e.tasks, 0),
                merges: members.reduce((n, e) => n + e.merges, 0),
                earned: members.reduce((n, e) => n + BigInt(e.earned), 0n).toString(),
                reputation: members.reduce((n, e) => n + e.reputation, 0),
            };
        });
        const quorum = await replicatedRound(options, { publisher, operators, sandbox: pool, binding, dir, program, log });
        const verified = result === expected && (quorum === undefined || (quorum.result === quorum.expected && quorum.forgedAccepted === 0));
        const report: MainJobReport = { result, expected, verified, taskCount, nodeCount: shape.nodeCount, wallMs, orgs, executors, blocks: net.devnet.height, ...(quorum === undefined ? {} : { quorum }) };
        summarize(report, log);
        await options.beforeStop?.();
        return report;
    } finally {
        for (const waker of wakers.values()) {
            waker.close();
        }
        for (const connection of connections) {
            connection.close();
        }
        await pool.close();
        await net.stop();
        rmSync(dir, { recursive: true, force: true });
    }
}

/** The replicated round (forgeryRound.ts) unless `quorumTasks` is 0. */
async function replicatedRound(options: MainJobOptions, context: Omit<ForgeryRoundOptions, 'taskCount' | 'upTo' | 'reward'>): Promise<MainJobReport['quorum']> {
    const taskCount = options.quorumTasks ?? 16;
    if (taskCount === 0) {
        return undefined;
    }
    context.log('');
    const upTo = options.quorumUpTo ?? 300_000;
    const round = await runForgeryRound({ ...context, taskCount, upTo, reward: 10n });
    return { ...round, expected: countPrimesBelow(upTo) };
}

function withWaker(waker: FilingWaker | undefined): { waker?: FilingWaker } {
    return waker === undefined ? {} : { waker };
}

function summarize(report: MainJobReport, log: (line: string) => void): void {
    log('');
    log(`result: ${report.result} primes below the bound — ${report.verified ? 'verified against a direct count' : `MISMATCH (a direct count gives ${report.expected})`}`);
    log('');
    log('org        executors  tasks  merges  credits earned  reputation gained');
    for (const org of report.orgs) {
        log(`${org.mspId.padEnd(10)} ${String(org.executors).padStart(9)}  ${String(org.tasks).padStart(5)}  ${String(org.merges).padStart(6)}  ${org.earned.padStart(14)}  ${String(org.reputation).padStart(17)}`);
    }
    const busiest = [...report.executors].sort((a, b) => b.tasks + b.merges - (a.tasks + a.merges) || (a.executorId < b.executorId ? -1 : 1)).slice(0, 5);
    log('');
    log('busiest executors: ' + busiest.map((e) => `${e.executorId} (${e.tasks} tasks, ${e.merges} merges, ${e.earned} credits, reputation ${e.reputation})`).join('; '));
    log('');
    if (report.quorum !== undefined) {
        const q = report.quorum;
        log('');
        log(`quorum:2 result: ${q.result} primes below the bound of ${q.jobId} — ${q.result === q.expected ? 'verified against a direct count' : `MISMATCH (a direct count gives ${q.expected})`}; ${q.taskCount} tasks and ${q.merges} merges, each verified by replicas (${q.replicas} in all), in ${(q.wallMs / 1000).toFixed(1)} s`);
        log(
            `forgeries: ${q.forgerId} filed ${q.forgeries} forged, correctly signed results; ${q.caught} caught by the quorum, ${q.forgedAccepted} accepted — it earned ${q.forgerEarned} credits (forgoing ${q.forgoneReward}), its reputation fell to ${q.forgerReputation}, it is ${q.forgerStatus}`,
        );
    }
    log('');
    log(`${report.taskCount} tasks on ${report.nodeCount} nodes in ${(report.wallMs / 1000).toFixed(1)} s (${((report.taskCount * 1000) / report.wallMs).toFixed(1)} tasks/s), ledger height ${report.blocks} blocks`);
}

/** The count the job must reproduce, computed directly with a sieve. */
export function countPrimesBelow(bound: number): number {
    const composite = new Uint8Array(Math.max(bound, 2));
    let count = 0;
    for (let n = 2; n < bound; n++) {
        if (composite[n] === 0) {
            count++;
            for (let m = n * n; m < bound; m += n) {
                composite[m] = 1;
            }
        }
    }
    return count;
}

function bar(done: number, total: number): string {
    const width = 24;
    const filled = total === 0 ? 0 : Math.round((done / total) * width);
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function ms(since: number): string {
    return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}
