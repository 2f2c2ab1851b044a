// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';
import { leftChild, numbersHeldBy, realMergeCount, treeShape } from '../core/mergeTree';
import type { MergeNumber, TreeShape } from '../core/mergeTree';
import type { ExecutorRecord, FilingRecord, JobRecord, JobTreeRecord, Parameters, RankRecord } from '../core/model';
import { chooseReplacement, replacementPool, selectNodes } from '../core/nodeSelection';
import { penaltyOf } from '../core/rules';
import { DeltaWriter, parametersOf } from './accounts';
import type { LedgerworkContext } from './context';
import { eligibleByShard, rankKey, taskIdAt } from './jobs';
import { KeyType, decode, entries, getRecord, pad, putIndex, putRecord, requireRecord } from './store';
import { readTask, saveTask } from './tasks';

export function readTree(ctx: LedgerworkContext, jobId: string): Promise<JobTreeRecord> {
    return requireRecord<JobTreeRecord>(ctx, 'ranked job', KeyType.JobTree, jobId);
}

export function readRank(ctx: LedgerworkContext, jobId: string, rank: number): Promise<RankRecord> {
    return requireRecord<RankRecord>(ctx, 'rank', KeyType.Rank, jobId, rankKey(rank));
}

/** Filing keys: the level and position, fixed width so (y, x) sort numerically. */
export function filingKey(y: number, x: number): [string, string] {
    return [pad(y, 2), rankKey(x)];
}

export function getFiling(ctx: LedgerworkContext, jobId: string, y: number, x: number): Promise<FilingRecord | undefined> {
    return getRecord<FilingRecord>(ctx, KeyType.Filing, jobId, ...filingKey(y, x));
}

export async function putFiling(ctx: LedgerworkContext, filing: FilingRecord): Promise<void> {
    await putRecord(ctx, filing, KeyType.Filing, filing.jobId, ...filingKey(filing.y, filing.x));
}

export async function filingsOf(ctx: LedgerworkContext, jobId: string): Promise<FilingRecord[]> {
    return (await entries(ctx, KeyType.Filing, jobId)).map((entry) => decode<FilingRecord>(entry.value));
}

/**
 * Ends a ranked job early (cancelled or expired): marks every rank cancelled, so filings in flight
 * conflict at commit, and refunds the merge rewards not yet paid (under a replicated policy: the
 * escrow of the merges whose merge task was never published).
 */
export async function closeRanks(ctx: LedgerworkContext, writer: DeltaWriter, job: JobRecord): Promise<void> {
    const merge = job.merge;
    if (merge === undefined) {
        return;
    }
    for (const entry of await entries(ctx, KeyType.Rank, job.id)) {
        const rank = decode<RankRecord>(entry.value);
        await putRecord(ctx, { ...rank, cancelled: true }, KeyType.Rank, job.id, rankKey(rank.rank));
    }
    if (job.verify !== 'signature') {
        // Published merge tasks refund their own escrow as tasks; the merges never published refund theirs here.
        const published = (await entries(ctx, KeyType.MergeTask, job.id)).length;
        const unpublished = BigInt(realMergeCount(treeShape(job.taskCount)) - published);
        await writer.credit(job.publisher, BigInt(merge.reward) * BigInt(job.verify.maxReplicas) * unpublished, 'refund', { jobId: job.id });
        return;
    }
    const paidMerges = (await filingsOf(ctx, job.id)).filter((filing) => filing.kind === 'merge').length;
    const unpaid = BigInt(realMergeCount(treeShape(job.taskCount)) - paidMerges);
    await writer.credit(job.publisher, BigInt(merge.reward) * unpaid, 'refund', { jobId: job.id });
}

/**
 * Writes the immutable tree record of a ranked job and, under `signature`, chooses its M nodes
 * across its shards (seeded by the transaction id) and writes the rank records. Under a replicated
 * policy there are no rank holders: replicas of the job's shards work every number.
 */
export async function assignRanks(ctx: LedgerworkContext, job: JobRecord, parameters: Parameters): Promise<Map<number, RankRecord>> {
    const merge = job.merge;
    if (merge === undefined) {
        return new Map();
    }
    const ranks = new Map<number, RankRecord>();
    const assignments = job.verify === 'signature' ? selectNodes(merge.nodeCount, job.shards, await eligibleByShard(ctx, parameters, job.shards, job.requirements), ctx.txId()) : [];
    for (const assignment of assignments) {
        const executor = await getRecord<{ owner: string }>(ctx, KeyType.Executor, assignment.executorId);
        const rank: RankRecord = {
            jobId: job.id,
            rank: assignment.rank,
            shard: assignment.shard,
            executorId: assignment.executorId,
            account: executor?.owner ?? '',
            assignedAt: ctx.now(),
            reassignments: 0,
        };
        await putRecord(ctx, rank, KeyType.Rank, job.id, rankKey(rank.rank));
        await putIndex(ctx, KeyType.ExecutorTask, rank.executorId, `${job.id}#rank${rank.rank}`);
        ranks.set(rank.rank, rank);
    }
    const tree: JobTreeRecord = {
        jobId: job.id,
        publisher: job.publisher,
        taskCount: job.taskCount,
        nodeCount: merge.nodeCount,
        height: merge.height,
        mode: job.mode,
        mergeProgram: merge.program,
        mergePublicKey: merge.publicKey,
        mergeReward: merge.reward,
        ...(merge.verify === undefined ? {} : { mergeVerify: merge.verify }),
        shards: job.shards,
        requirements: job.requirements,
        leaseMs: job.leaseMs,
        deadline: job.deadline,
        rules: job.rules,
        maxResultBytes: parameters.maxInlineBytes,
        ...(job.verify === 'signature' ? {} : { verify: job.verify, maxAttempts: job.maxAttempts }),
    };
    await putRecord(ctx, tree, KeyType.JobTree, job.id);
    return ranks;
}

/** The ranks that compute the tasks at positions first … first + count − 1 (a ranked job's next batch). */
export async function ranksAt(ctx: LedgerworkContext, job: JobRecord, first: number, count: number): Promise<Map<number, RankRecord>> {
    const ranks = new Map<number, RankRecord>();
    if (job.assignment !== 'ranked') {
        return ranks;
    }
    for (let index = first; index < first + count; index++) {
        const rank = await getRecord<RankRecord>(ctx, KeyType.Rank, job.id, rankKey(index));
        if (rank !== undefined) {
            ranks.set(index, rank);
        }
    }
    return ranks;
}

/**
 * When the rank's holder became overdue: its first unfiled number's prerequisites (its task
 * published; the child it merges with filed) plus the lease.
 * @throws {LedgerworkError} INVALID_STATE when the rank has nothing left or is waiting on others
 */
export async function dueTime(ctx: LedgerworkContext, tree: JobTreeRecord, shape: TreeShape, rank: RankRecord): Promise<number> {
    let next: MergeNumber | undefined;
    for (const number of numbersHeldBy(shape, rank.rank)) {
        if ((await getFiling(ctx, tree.jobId, number.y, number.x)) === undefined) {
            next = number;
            break;
        }
    }
    if (next === undefined) {
        throw new LedgerworkError(ErrorCode.InvalidState, `rank ${rank.rank} of job ${tree.jobId} has filed all its numbers`);
    }
    let readyAt = rank.assignedAt;
    if (rank.rank <= tree.taskCount && next.y <= 2) {
        const taskId = await taskIdAt(ctx, tree.jobId, rank.rank);
        if (taskId === undefined) {
            throw new LedgerworkError(ErrorCode.InvalidState, `rank ${rank.rank} of job ${tree.jobId} waits for its task to be published`);
        }
        readyAt = Math.max(readyAt, (await readTask(ctx, taskId)).claim?.claimedAt ?? readyAt);
    }
    const dependency = next.y === 1 ? (next.x % 2 === 0 ? { y: 1, x: next.x - 1 } : undefined) : leftChild(next);
    if (dependency !== undefined) {
        const filed = await getFiling(ctx, tree.jobId, dependency.y, dependency.x);
        if (filed === undefined) {
            throw new LedgerworkError(ErrorCode.InvalidState, `rank ${rank.rank} of job ${tree.jobId} waits for (${dependency.y}, ${dependency.x})`);
        }
        readyAt = Math.max(readyAt, filed.filedAt);
    }
    return readyAt + tree.leaseMs;
}

/** An eligible executor of the rank's shard with room for one more rank of the job, idle ones first (chosen from the transaction id). */
export async function chooseNewHolder(ctx: LedgerworkContext, tree: JobTreeRecord, rank: RankRecord): Promise<string> {
    const parameters = await parametersOf(ctx);
    const candidates = (await eligibleByShard(ctx, parameters, [rank.shard], tree.requirements))[rank.shard] ?? [];
    const held = new Map<string, number>();
    for (const entry of await entries(ctx, KeyType.Rank, tree.jobId)) {
        const executorId = decode<RankRecord>(entry.value).executorId;
        held.set(executorId, (held.get(executorId) ?? 0) + 1);
    }
    return chooseReplacement(replacementPool(candidates, held, rank.executorId), new Set([rank.executorId]), ctx.txId(), rank.shard);
}

/**
 * Hands the rank to `replacement`: writes the moved rank and its index, penalises the old holder like
 * an expired lease, and moves the rank's task (if published and unfinished) with it.
 * @returns the rank as written
 */
export async function moveRank(ctx: LedgerworkContext, tree: JobTreeRecord, rank: RankRecord, replacement: string): Promise<RankRecord> {
    const now = ctx.now();
    const executor = await requireRecord<ExecutorRecord>(ctx, 'executor', KeyType.Executor, replacement);
    const moved: RankRecord = { ...rank, executorId: replacement, account: executor.owner, assignedAt: now, reassignments: rank.reassignments + 1 };
    await putRecord(ctx, moved, KeyType.Rank, tree.jobId, rankKey(rank.rank));
    await putIndex(ctx, KeyType.ExecutorTask, replacement, `${tree.jobId}#rank${rank.rank}`);
    await new DeltaWriter(ctx).reputation(rank.executorId, -penaltyOf(tree.rules), 'lease-expired', { jobId: tree.jobId });
    const taskId = await taskIdAt(ctx, tree.jobId, rank.rank);
    if (taskId === undefined) {
        return moved;
    }
    const task = await readTask(ctx, taskId);
    if (task.state === 'assigned') {
        const claim = { executorId: moved.executorId, account: moved.account, shard: moved.shard, claimedAt: moved.assignedAt, leaseExpiresAt: task.deadline };
        await saveTask(ctx, task, { ...task, claim, updatedAt: moved.assignedAt });
    }
    return moved;
}
