// SPDX-License-Identifier: Apache-2.0
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { treeShape } from '@ledgerwork/core';
import type { Binding } from '@ledgerwork/core';
import { KeyExtractingForger, forgingSource } from '../adversary';
import type { LedgerworkClient } from '../client';
import { ReplicaJournal, WorkLoop } from '../executor';
import type { JobSource, Runner } from '../executor';
import { DirectoryStore, planJob, publishPlan, splitRange } from '../publisher';

export interface ForgeryRoundOptions {
    /** Publishes the job (its account pays the escrow). */
    readonly publisher: LedgerworkClient;
    /** One operator client per organization, by MSP id, in order; the last organization also runs the forger. */
    readonly operators: ReadonlyMap<string, LedgerworkClient>;
    /** Chaincode events per organization, to wake replicas waiting for their reveal window. */
    readonly sources?: ReadonlyMap<string, JobSource>;
    readonly sandbox: Runner;
    readonly binding: Binding;
    /** Bundles and the replica journals go here. */
    readonly dir: string;
    readonly program: Uint8Array;
    readonly taskCount: number;
    readonly upTo: number;
    readonly reward: bigint;
    readonly log: (line: string) => void;
}

export interface ForgeryRoundReport {
    readonly jobId: string;
    readonly result: number;
    readonly taskCount: number;
    /** Merge tasks that ran (N − 1 for a tree of N tasks). */
    readonly merges: number;
    readonly forgerId: string;
    /** Forged, correctly signed results the forger filed. */
    readonly forgeries: number;
    /** Of those, how many the quorum turned down (a forged value never accepted). */
    readonly caught: number;
    readonly forgedAccepted: number;
    readonly forgerEarned: string;
    readonly forgerReputation: number;
    readonly forgerStatus: string;
    /** What the forger would have been paid had every forgery been accepted. */
    readonly forgoneReward: bigint;
    readonly replicas: number;
    readonly wallMs: number;
}

/**
 * The replicated round of `npm start`: the prime count as a ranked, sharded job verified by `quorum:2`
 * across the organizations — every leaf and every merge of its tree is a replicated task — worked by
 * one honest executor per organization and, in the last organization, a dishonest one that extracts
 * each task's (and the merge) key from its bundle and files forged, correctly signed results without
 * running anything. The quorum never accepts a forged value, so no merge ever runs on one; the
 * forger's losing replicas are penalised until the reputation floor suspends it.
 */
export async function runForgeryRound(options: ForgeryRoundOptions): Promise<ForgeryRoundReport> {
    const { publisher, operators, log } = options;
    const started = performance.now();
    const shards = [...operators.keys()];
    const forgerShard = shards.at(-1) ?? '';
    const forgerId = `${forgerShard.replace('MSP', '').toLowerCase()}-forger`;
    const honest = new Map(shards.map((shard) => [shard, `${shard.replace('MSP', '').toLowerCase()}-replica`]));
    for (const [shard, operator] of operators) {
        await operator.registerExecutor(honest.get(shard) ?? '', { mode: 'active', skills: ['wasm'], capacity: 8 });
    }
    await operators.get(forgerShard)?.registerExecutor(forgerId, { mode: 'active', skills: ['wasm'], capacity: 8 });

    const jobId = 'primes-quorum';
    const plan = await planJob({
        jobId,
        description: `count the primes below ${options.upTo}, each task verified by two organizations`,
        program: options.program,
        mergeProgram: options.program,
        inputs: splitRange(0n, BigInt(options.upTo), options.taskCount).map((text) => Buffer.from(text)),
        reward: options.reward,
        mergeReward: 2n,
        verify: { policy: 'quorum', k: 2, maxReplicas: shards.length },
        shards,
        requirements: { skills: ['wasm'] },
        deadline: Date.now() + 3600_000,
        store: new DirectoryStore(path.join(options.dir, 'bundles-quorum')),
    });
    await publishPlan(publisher, plan);
    log(`job ${jobId}: ranked, ${options.taskCount} tasks and ${options.taskCount - 1} merges, every number under quorum:2 (≤ ${shards.length} replicas, each from another organization); ${forgerId} extracts task and merge keys and forges`);

    const forger = new KeyExtractingForger({ binding: options.binding });
    const loop = (shard: string, executorId: string, dishonest: boolean): Promise<unknown> => {
        const ledger = operators.get(shard);
        if (ledger === undefined) {
            throw new Error(`no operator for ${shard}`);
        }
        const source = options.sources?.get(shard);
        return new WorkLoop({
            executorIds: [executorId],
            ledger,
            sandbox: options.sandbox,
            concurrency: 2,
            binding: options.binding,
            jobIds: [jobId],
            untilDone: true,
            pollMs: 200,
            journal: new ReplicaJournal(path.join(options.dir, 'journals', executorId)),
            ...(source === undefined ? {} : { source }),
            ...(dishonest ? { resultSource: forgingSource(forger) } : {}),
        }).run();
    };
    // The forger starts first: it takes a slot in as many tasks as it can before it is suspended.
    const forging = loop(forgerShard, forgerId, true);
    await Promise.all([forging, ...[...honest].map(([shard, id]) => loop(shard, id, false))]);

    const job = await publisher.getJob(jobId);
    if (job.state !== 'completed') {
        throw new Error(`job ${jobId} ended ${job.state}`);
    }
    const root = await publisher.getFiling(jobId, treeShape(options.taskCount).height, 1);
    const result = Number(Buffer.from(root.result ?? '', 'base64').toString().trim());
    let caught = 0;
    let forgedAccepted = 0;
    let replicas = 0;
    // Every number of the tree that ran: the tasks and the merge tasks published as their children were accepted.
    const numbers = (await publisher.listTasksByJob(jobId, 'completed', 1000)).items;
    for (const record of numbers) {
        const replication = await publisher.getReplication(record.id);
        if (record.result === undefined) {
            throw new Error(`task ${record.id} has no result`);
        }
        replicas += replication.replicas.length;
        const forged = replication.replicas.find((r) => r.executorId === forgerId && r.resultSha256 !== undefined);
        if (forged !== undefined) {
            if (forged.resultSha256 === record.result.sha256) {
                forgedAccepted++;
            } else {
                caught++;
            }
        }
    }
    const view = await publisher.getExecutor(forgerId);
    return {
        jobId,
        result,
        taskCount: options.taskCount,
        merges: numbers.length - options.taskCount,
        forgerId,
        forgeries: forger.forgeries,
        caught,
        forgedAccepted,
        forgerEarned: view.earned,
        forgerReputation: view.reputation,
        forgerStatus: view.effectiveStatus,
        forgoneReward: BigInt(forger.forgeries) * options.reward,
        replicas,
        wallMs: performance.now() - started,
    };
}
