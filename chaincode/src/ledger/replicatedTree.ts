// SPDX-License-Identifier: Apache-2.0
import { afterAccept, holderRank, treeShape } from '../core/mergeTree';
import type { MergeNumber } from '../core/mergeTree';
import type { FilingRecord, JobTreeRecord, TaskRecord } from '../core/model';
import { mergeSlotId, sha256 } from '../core/signature';
import type { LedgerworkContext } from './context';
import { completeJob } from './jobs';
import { filingKey, getFiling, putFiling, readTree } from './ranks';
import { KeyType, decode, entries, getRecord, putRecord } from './store';
import { readTask, saveTask } from './tasks';

/**
 * Ranked jobs under a replicated policy (quorum, credibility). No number (y, x) is final until the
 * policy accepts its value: a leaf is the job's task at position x, a real merge is a *merge task*
 * with the merge slot's id `<jobId>/<y>/<x>`, published by the transaction that accepts the second
 * of its children and worked by replicas like any replicated task (its key is the merge key, its
 * input the two accepted children's result hashes, so its signatures are the merge slot's). When a
 * value is accepted this module files it, passes it up through pass-through numbers, publishes the
 * parent's merge task once both children are in, and completes the job at the root.
 *
 * Keys: the accepting transaction writes the filings of its own numbers and the parent's merge task
 * and reads only its sibling's filing and the immutable tree record — the siblings of one parent
 * are the only transactions that may conflict, and MVCC orders them (the later one sees both).
 */

/** What accepting a ranked number's value did, for the transaction's event. */
export interface TreeProgress {
    readonly filed: readonly { readonly y: number; readonly x: number; readonly kind: FilingRecord['kind']; readonly sha256?: string }[];
    /** The merge task published because both its children are now accepted. */
    readonly opened?: string;
    readonly jobCompleted: boolean;
}

/** The number a task of a ranked job computes: (1, index) for its tasks, (y, x) for merge tasks. */
export function numberOf(task: TaskRecord): MergeNumber {
    return task.mergeAt ?? { y: 1, x: task.index };
}

/** The merge task of (y, x), once published. */
export async function mergeTaskAt(ctx: LedgerworkContext, jobId: string, number: MergeNumber): Promise<TaskRecord | undefined> {
    const entry = await getRecord<{ taskId: string }>(ctx, KeyType.MergeTask, jobId, ...filingKey(number.y, number.x));
    return entry === undefined ? undefined : readTask(ctx, entry.taskId);
}

/** Every merge task published for a job so far. */
export async function mergeTasksOf(ctx: LedgerworkContext, jobId: string): Promise<TaskRecord[]> {
    const tasks: TaskRecord[] = [];
    for (const entry of await entries(ctx, KeyType.MergeTask, jobId)) {
        tasks.push(await readTask(ctx, decode<{ taskId: string }>(entry.value).taskId));
    }
    return tasks;
}

/**
 * Files the value the replicas of `task` agreed on (the task was just written completed with it)
 * and carries its consequences up the tree.
 */
export async function fileAccepted(ctx: LedgerworkContext, task: TaskRecord, accepted: { sha256: string; inline: string; executorId: string }): Promise<TreeProgress> {
    const tree = await readTree(ctx, task.jobId);
    const shape = treeShape(tree.taskCount);
    const filed: TreeProgress['filed'][number][] = [];
    const file = async (number: MergeNumber, kind: FilingRecord['kind'], extra: Partial<FilingRecord>): Promise<void> => {
        const record: FilingRecord = {
            jobId: task.jobId,
            y: number.y,
            x: number.x,
            kind,
            sha256: accepted.sha256,
            ...extra,
            executorId: accepted.executorId,
            rank: holderRank(number),
            filedAt: ctx.now(),
            txId: ctx.txId(),
        };
        await putFiling(ctx, record);
        filed.push({ y: number.y, x: number.x, kind, sha256: accepted.sha256 });
    };
    let number = numberOf(task);
    await file(number, task.mergeAt === undefined ? 'leaf' : 'merge', task.mergeAt === undefined ? { taskId: task.id } : { taskId: task.id, inline: accepted.inline });
    for (;;) {
        const next = afterAccept(shape, number);
        if (next.action === 'complete') {
            await completeJob(ctx, task.jobId);
            return { filed, jobCompleted: true };
        }
        if (next.action === 'pass-through') {
            await file(next.into, 'pass-through', {});
            number = next.into;
            continue;
        }
        const sibling = await getFiling(ctx, task.jobId, next.sibling.y, next.sibling.x);
        if (sibling?.sha256 === undefined) {
            return { filed, jobCompleted: false };
        }
        const left = number.x < next.sibling.x ? accepted.sha256 : sibling.sha256;
        const right = number.x < next.sibling.x ? sibling.sha256 : accepted.sha256;
        const opened = await publishMergeTask(ctx, tree, task, next.into, left, right);
        return { filed, opened: opened.id, jobCompleted: false };
    }
}

/** Publishes the merge task of `number` whose children's accepted values hash to `left` and `right`. */
async function publishMergeTask(ctx: LedgerworkContext, tree: JobTreeRecord, child: TaskRecord, number: MergeNumber, left: string, right: string): Promise<TaskRecord> {
    const input = Buffer.concat([Buffer.from(left, 'hex'), Buffer.from(right, 'hex')]);
    const now = ctx.now();
    const task: TaskRecord = {
        id: mergeSlotId(tree.jobId, number.y, number.x),
        jobId: tree.jobId,
        index: 0,
        description: `merge (${number.y}, ${number.x}) of job ${tree.jobId}`,
        publisher: tree.publisher,
        program: tree.mergeProgram,
        publicKey: tree.mergePublicKey,
        input: { inline: input.toString('base64'), sha256: sha256(input).toString('hex'), size: input.length },
        reward: tree.mergeReward,
        requirements: tree.requirements,
        shards: tree.shards,
        assignment: 'ranked',
        mode: tree.mode,
        leaseMs: tree.leaseMs,
        deadline: tree.deadline,
        maxAttempts: tree.maxAttempts ?? child.maxAttempts,
        rules: tree.rules,
        maxResultBytes: tree.maxResultBytes,
        ...(child.verify === undefined ? {} : { verify: child.verify }),
        mergeAt: { y: number.y, x: number.x },
        state: 'published',
        attempts: 0,
        updatedAt: now,
    };
    await saveTask(ctx, undefined, task);
    await putRecord(ctx, { taskId: task.id }, KeyType.MergeTask, tree.jobId, ...filingKey(number.y, number.x));
    return task;
}
