// SPDX-License-Identifier: Apache-2.0
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { ErrorCode, LedgerworkError } from '../core/errors';
import { ACCOUNT_PATTERN, MSP_ID_PATTERN, requireId, requireTaskId } from '../core/ids';
import { allNumbers, holderRank, leftChild, requireNumber, target, treeShape } from '../core/mergeTree';
import type { CreditDelta, ExecutorRecord, FilingRecord, JobRecord, RankRecord, ReputationDelta, TaskRecord, TaskState } from '../core/model';
import { taskStates } from '../core/model';
import { effectiveStatus, isTerminal } from '../core/rules';
import { oneOf } from '../core/fields';
import { lockedEscrow } from '../core/escrow';
import { parseBookmark, parsePageSize } from '../core/specs';
import { creditState, earnedBy, parametersOf, reputationState } from '../ledger/accounts';
import { LedgerworkContext } from '../ledger/context';
import { readJob, tasksOfJob } from '../ledger/jobs';
import { filingsOf, getFiling, readTree } from '../ledger/ranks';
import { KeyType, decode, entries, page, requireRecord } from '../ledger/store';
import type { Entry, Page } from '../ledger/store';
import { readTask } from '../ledger/tasks';
import { readReplicas, replicatedPolicy, viewOf } from '../ledger/replicas';
import { credibilityPpm, revealOpen, settle } from '../core/replication';
import { mergeTasksOf } from '../ledger/replicatedTree';
import { LedgerworkContract, reply } from './base';

/** Read-only views (SPEC §3 queries): jobs, tasks, executors, credits, the merge tree. Every list is paginated. */
@Info({ title: 'QueryContract', description: 'Read-only queries over jobs, tasks, executors, credits and merge trees' })
export class QueryContract extends LedgerworkContract {
    constructor() {
        super('queries');
    }

    /** The caller's account, MSP id and whether it is an admin. */
    @Transaction(false)
    @Returns('string')
    async WhoAmI(ctx: LedgerworkContext): Promise<string> {
        await Promise.resolve();
        return reply(ctx.caller());
    }

    @Transaction(false)
    @Returns('string')
    async GetParameters(ctx: LedgerworkContext): Promise<string> {
        return reply(await parametersOf(ctx));
    }

    /** An account's balance and how it was spent as a publisher: escrowed, refunded and net. */
    @Transaction(false)
    @Returns('string')
    async GetAccount(ctx: LedgerworkContext, account: string): Promise<string> {
        requireId(account, 'account', ACCOUNT_PATTERN);
        let escrowed = 0n;
        let refunded = 0n;
        let earned = 0n;
        const { balance, checkpoint, live } = await creditState(ctx, account, 'read-only');
        const folded = Object.entries(checkpoint?.byKind ?? {}).map(([kind, amount]) => ({ kind, amount }));
        for (const delta of [...folded, ...live]) {
            const amount = BigInt(delta.amount);
            if (delta.kind === 'escrow') {
                escrowed -= amount;
            } else if (delta.kind === 'refund') {
                refunded += amount;
            } else if (delta.kind !== 'mint') {
                earned += amount;
            }
        }
        return reply({
            account,
            balance: balance.toString(),
            escrowed: escrowed.toString(),
            refunded: refunded.toString(),
            spent: (escrowed - refunded).toString(),
            earned: earned.toString(),
        });
    }

    /**
     * What an account's jobs hold in escrow now (unfinished tasks' rewards, unfiled merges' rewards),
     * in total and per live job. Reads every job the account published and the tasks and filings of
     * the live ones.
     */
    @Transaction(false)
    @Returns('string')
    async GetEscrow(ctx: LedgerworkContext, account: string): Promise<string> {
        requireId(account, 'account', ACCOUNT_PATTERN);
        let locked = 0n;
        const jobs: { jobId: string; state: string; locked: string }[] = [];
        for (const entry of await entries(ctx, KeyType.JobByPublisher, account)) {
            const job = await readJob(ctx, entry.attributes[1] ?? '');
            if (job.state !== 'publishing' && job.state !== 'open') {
                continue;
            }
            const held = lockedEscrow(job, await tasksOfJob(ctx, job.id), job.merge === undefined ? [] : await filingsOf(ctx, job.id));
            locked += held;
            jobs.push({ jobId: job.id, state: job.state, locked: held.toString() });
        }
        return reply({ account, locked: locked.toString(), jobs });
    }

    /** An account's credit movements, oldest first. */
    @Transaction(false)
    @Returns('string')
    async ListCredits(ctx: LedgerworkContext, account: string, pageSize: string, bookmark: string): Promise<string> {
        requireId(account, 'account', ACCOUNT_PATTERN);
        return reply(decodePage<CreditDelta>(await historyPage(ctx, parsePageSize(pageSize), parseBookmark(bookmark), KeyType.CreditFolded, KeyType.Credit, account)));
    }

    /** Rewards an executor received (task payouts, merge payouts, cancellation fees), oldest first. */
    @Transaction(false)
    @Returns('string')
    async ListPayouts(ctx: LedgerworkContext, executorId: string, pageSize: string, bookmark: string): Promise<string> {
        requireId(executorId, 'executorId');
        return reply(decodePage<CreditDelta>(await historyPage(ctx, parsePageSize(pageSize), parseBookmark(bookmark), KeyType.PayoutFolded, KeyType.Payout, executorId)));
    }

    /** An executor with its reputation, effective status, total earned and the last task it completed. */
    @Transaction(false)
    @Returns('string')
    async GetExecutor(ctx: LedgerworkContext, executorId: string): Promise<string> {
        requireId(executorId, 'executorId');
        const executor = await requireRecord<ExecutorRecord>(ctx, 'executor', KeyType.Executor, executorId);
        const { reputation, checkpoint, live } = await reputationState(ctx, executorId, 'read-only');
        const lastCompleted = live.filter((d) => d.reason === 'accepted').at(-1)?.taskId ?? checkpoint?.lastAcceptedTask;
        const earned = await earnedBy(ctx, executorId, 'read-only');
        return reply({
            executor,
            reputation,
            effectiveStatus: effectiveStatus(await parametersOf(ctx), executor, reputation),
            earned: earned.toString(),
            ...(lastCompleted === undefined ? {} : { lastCompletedTask: lastCompleted }),
        });
    }

    /** Executors registered in a shard (MSP id), by id. */
    @Transaction(false)
    @Returns('string')
    async ListExecutorsByShard(ctx: LedgerworkContext, shard: string, pageSize: string, bookmark: string): Promise<string> {
        requireId(shard, 'shard', MSP_ID_PATTERN);
        const ids = await page(ctx, parsePageSize(pageSize), parseBookmark(bookmark), KeyType.ExecutorByShard, shard);
        const items: ExecutorRecord[] = [];
        for (const entry of ids.items) {
            items.push(await requireRecord<ExecutorRecord>(ctx, 'executor', KeyType.Executor, entry.attributes[1] ?? ''));
        }
        return reply({ items, bookmark: ids.bookmark });
    }

    /** Every reputation change of an executor and why, oldest first. */
    @Transaction(false)
    @Returns('string')
    async ListReputation(ctx: LedgerworkContext, executorId: string, pageSize: string, bookmark: string): Promise<string> {
        requireId(executorId, 'executorId');
        return reply(decodePage<ReputationDelta>(await historyPage(ctx, parsePageSize(pageSize), parseBookmark(bookmark), KeyType.ReputationFolded, KeyType.Reputation, executorId)));
    }

    @Transaction(false)
    @Returns('string')
    async GetJob(ctx: LedgerworkContext, jobId: string): Promise<string> {
        requireId(jobId, 'jobId');
        return reply(await readJob(ctx, jobId));
    }

    /** Jobs an account published, by id. */
    @Transaction(false)
    @Returns('string')
    async ListJobsByPublisher(ctx: LedgerworkContext, account: string, pageSize: string, bookmark: string): Promise<string> {
        requireId(account, 'account', ACCOUNT_PATTERN);
        const ids = await page(ctx, parsePageSize(pageSize), parseBookmark(bookmark), KeyType.JobByPublisher, account);
        const items: JobRecord[] = [];
        for (const entry of ids.items) {
            items.push(await readJob(ctx, entry.attributes[1] ?? ''));
        }
        return reply({ items, bookmark: ids.bookmark });
    }

    /**
     * A job's progress: tasks per state, and for ranked jobs the merge tree's filings, the highest
     * level reached and whether the target (h, 1) is filed. An open job is finished when every
     * published task is completed, failed or cancelled.
     */
    @Transaction(false)
    @Returns('string')
    async GetJobProgress(ctx: LedgerworkContext, jobId: string): Promise<string> {
        requireId(jobId, 'jobId');
        const job = await readJob(ctx, jobId);
        const counts: Record<string, number> = Object.fromEntries(taskStates.map((s) => [s, 0]));
        for (const task of await tasksOfJob(ctx, jobId)) {
            counts[task.state] = (counts[task.state] ?? 0) + 1;
        }
        const done = (counts.completed ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0);
        // A ranked job verified by replicas goes on after its leaves: it is finished when it has ended.
        const finished = done === job.taskCount && (job.merge === undefined || job.verify === 'signature' || (job.state !== 'open' && job.state !== 'publishing'));
        const progress = { jobId, state: job.state, taskCount: job.taskCount, published: job.publishedCount, tasks: counts, finished };
        if (job.merge === undefined) {
            return reply(progress);
        }
        const filings = await filingsOf(ctx, jobId);
        const level = filings.reduce((highest, f) => Math.max(highest, f.y), 0);
        return reply({ ...progress, merge: { numbers: 2 * job.merge.nodeCount - 1, filed: filings.length, levelReached: level, height: job.merge.height } });
    }

    @Transaction(false)
    @Returns('string')
    async GetTask(ctx: LedgerworkContext, taskId: string): Promise<string> {
        requireTaskId(taskId);
        return reply(await readTask(ctx, taskId));
    }

    /**
     * A replicated task's policy, state and every replica (shard, reputation at claim, state,
     * windows, commitment, revealed hash and verdict), the settlement as it stands, and for each
     * committed replica whether its reveal window is open at this query's timestamp.
     */
    @Transaction(false)
    @Returns('string')
    async GetReplication(ctx: LedgerworkContext, taskId: string): Promise<string> {
        requireTaskId(taskId);
        const task = await readTask(ctx, taskId);
        const policy = replicatedPolicy(task);
        const replicas = await readReplicas(ctx, taskId);
        const views = replicas.map(viewOf);
        const now = ctx.now();
        return reply({
            taskId,
            jobId: task.jobId,
            policy,
            state: task.state,
            reward: task.reward,
            ...(task.result === undefined ? {} : { resultSha256: task.result.sha256 }),
            ...(isTerminal(task.state) ? {} : { settlement: settle(policy, views) }),
            replicas: replicas.map((replica) => {
                const { result: _bytes, ...shown } = replica;
                return { ...shown, credibilityPpm: credibilityPpm(replica.reputation), revealOpen: revealOpen(policy, views, replica, now) };
            }),
        });
    }

    /** A job's tasks in publication order, or only those in `state` (pass '' for all). */
    @Transaction(false)
    @Returns('string')
    async ListTasksByJob(ctx: LedgerworkContext, jobId: string, state: string, pageSize: string, bookmark: string): Promise<string> {
        requireId(jobId, 'jobId');
        const size = parsePageSize(pageSize);
        const mark = parseBookmark(bookmark);
        let found: Page<Entry>;
        let idOf: (entry: Entry) => string;
        if (state === '') {
            found = await page(ctx, size, mark, KeyType.JobTask, jobId);
            idOf = (entry) => decode<{ taskId: string }>(entry.value).taskId;
        } else {
            found = await page(ctx, size, mark, KeyType.JobTaskState, jobId, oneOf<TaskState>(state, 'state', taskStates));
            idOf = (entry) => entry.attributes[2] ?? '';
        }
        const items: TaskRecord[] = [];
        for (const entry of found.items) {
            items.push(await readTask(ctx, idOf(entry)));
        }
        return reply({ items, bookmark: found.bookmark });
    }

    /** Tasks an executor took part in (claimed or was assigned), and ranks it held as `<jobId>#rank<r>`. */
    @Transaction(false)
    @Returns('string')
    async ListTasksByExecutor(ctx: LedgerworkContext, executorId: string, pageSize: string, bookmark: string): Promise<string> {
        requireId(executorId, 'executorId');
        const found = await page(ctx, parsePageSize(pageSize), parseBookmark(bookmark), KeyType.ExecutorTask, executorId);
        const tasks: TaskRecord[] = [];
        const ranks: string[] = [];
        for (const entry of found.items) {
            const ref = entry.attributes[1] ?? '';
            if (ref.includes('#rank')) {
                ranks.push(ref);
            } else {
                tasks.push(await readTask(ctx, ref));
            }
        }
        return reply({ items: tasks, ranks, bookmark: found.bookmark });
    }

    /**
     * The merge tree of a ranked job: target, holders of every rank, filed and missing numbers; under
     * a replicated policy also the policy and the merge tasks published so far (no holders).
     */
    @Transaction(false)
    @Returns('string')
    async GetMergeTree(ctx: LedgerworkContext, jobId: string): Promise<string> {
        requireId(jobId, 'jobId');
        const tree = await readTree(ctx, jobId);
        const shape = treeShape(tree.taskCount);
        const filed = await filingsOf(ctx, jobId);
        const filedKeys = new Set(filed.map((f) => `${f.y}/${f.x}`));
        const holders = (await entries(ctx, KeyType.Rank, jobId)).map((entry) => {
            const rank = decode<RankRecord>(entry.value);
            return { rank: rank.rank, executorId: rank.executorId, shard: rank.shard, reassignments: rank.reassignments };
        });
        const missing = allNumbers(shape)
            .filter((n) => !filedKeys.has(`${n.y}/${n.x}`))
            .map((n) => ({ y: n.y, x: n.x, rank: holderRank(n) }));
        return reply({
            jobId,
            taskCount: shape.taskCount,
            nodeCount: shape.nodeCount,
            height: shape.height,
            target: target(shape),
            holders,
            filed: filed.map((f) => ({ y: f.y, x: f.x, kind: f.kind, rank: f.rank, executorId: f.executorId, ...(f.sha256 === undefined ? {} : { sha256: f.sha256 }) })),
            missing,
            ...(tree.verify === undefined ? {} : { verify: tree.verify, mergeTasks: (await mergeTasksOf(ctx, jobId)).map((t) => ({ ...t.mergeAt, taskId: t.id, state: t.state })) }),
        });
    }

    /** The filing at (y, x) with its result bytes (base64; null for ZERO), resolving leaves and pass-throughs. */
    @Transaction(false)
    @Returns('string')
    async GetFiling(ctx: LedgerworkContext, jobId: string, y: string, x: string): Promise<string> {
        requireId(jobId, 'jobId');
        const tree = await readTree(ctx, jobId);
        const number = requireNumber(treeShape(tree.taskCount), toInteger(y), toInteger(x));
        const filing = await getFiling(ctx, jobId, number.y, number.x);
        if (filing === undefined) {
            throw new LedgerworkError(ErrorCode.NotFound, `(${number.y}, ${number.x}) of job ${jobId} is not filed`);
        }
        return reply({ filing, result: await resultOf(ctx, filing) });
    }
}

/** Marks a bookmark that continues in the live range after the folded one. */
const LIVE_BOOKMARK = 'live:';

/**
 * One page of an owner's delta history, oldest first: the folded deltas (all older than the live
 * ones), then the live ones. A bookmark starting with `live:` continues in the live range.
 */
async function historyPage(ctx: LedgerworkContext, pageSize: number, bookmark: string, folded: KeyType, live: KeyType, owner: string): Promise<Page<Entry>> {
    if (bookmark.startsWith(LIVE_BOOKMARK)) {
        const next = await page(ctx, pageSize, bookmark.slice(LIVE_BOOKMARK.length), live, owner);
        return { items: next.items, bookmark: next.bookmark === '' ? '' : LIVE_BOOKMARK + next.bookmark };
    }
    const first = await page(ctx, pageSize, bookmark, folded, owner);
    if (first.bookmark !== '') {
        return first;
    }
    const rest = await page(ctx, pageSize - first.items.length, '', live, owner);
    return { items: [...first.items, ...rest.items], bookmark: rest.bookmark === '' ? '' : LIVE_BOOKMARK + rest.bookmark };
}

function decodePage<T>(found: Page<Entry>): Page<T> {
    return { items: found.items.map((entry) => decode<T>(entry.value)), bookmark: found.bookmark };
}

function toInteger(text: string): number {
    return /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
}

async function resultOf(ctx: LedgerworkContext, filing: FilingRecord): Promise<string | null> {
    let current: FilingRecord | undefined = filing;
    while (current !== undefined) {
        switch (current.kind) {
            case 'zero':
                return null;
            case 'merge':
                return current.inline ?? null;
            case 'leaf':
                return (await readTask(ctx, current.taskId ?? '')).result?.inline ?? null;
            case 'pass-through': {
                const left = leftChild(current);
                current = await getFiling(ctx, current.jobId, left.y, left.x);
                break;
            }
        }
    }
    throw new LedgerworkError(ErrorCode.Internal, `the filing chain under (${filing.y}, ${filing.x}) is broken`);
}


