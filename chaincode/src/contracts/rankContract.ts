// SPDX-License-Identifier: Apache-2.0
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { ErrorCode, LedgerworkError } from '../core/errors';
import { EventName } from '../core/events';
import { integerAt } from '../core/fields';
import { requireId } from '../core/ids';
import { holderRank, kindOf, leftChild, numbersHeldBy, requireNumber, rightChild, target, treeShape } from '../core/mergeTree';
import type { MergeNumber, TreeShape } from '../core/mergeTree';
import type { ExecutorRecord, FilingRecord, JobRecord, JobTreeRecord, RankRecord } from '../core/model';
import { penaltyOf, requireClaimant } from '../core/rules';
import { chooseReplacement, replacementPool } from '../core/nodeSelection';
import { mergeInputHash, mergeSlotId, sha256 } from '../core/signature';
import type { Binding } from '../core/signature';
import { parseFiling } from '../core/specs';
import type { FilingSpec, NumberResult } from '../core/specs';
import { DeltaWriter, parametersOf } from '../ledger/accounts';
import { emit } from '../ledger/events';
import { LedgerworkContext } from '../ledger/context';
import { eligibleByShard, rankKey, taskIdAt } from '../ledger/jobs';
import { getFiling, putFiling, readRank, readTree } from '../ledger/ranks';
import { KeyType, decode, deleteTimeIndex, entries, putIndex, putRecord, requireRecord } from '../ledger/store';
import { acceptResult, checkTaskSignatures, readTask, rejectResult, saveTask, verifySignatures } from '../ledger/tasks';
import { LedgerworkContract, reply } from './base';

/** Outcome of filing one number: stored, or turned down with the verification failure. */
type NumberOutcome = { readonly filing: FilingRecord } | { readonly rejection: LedgerworkError; readonly number: MergeNumber };

/** Filings of ranked, sharded jobs at task numbers (y, x), and reassignment of overdue ranks (SPEC §6). */
@Info({ title: 'RankContract', description: 'Merge-tree filings of ranked jobs and reassignment of overdue ranks' })
export class RankContract extends LedgerworkContract {
    constructor() {
        super('ranks');
    }

    /**
     * Files the result at (y, x) for the rank that holds it (rank x·2^(y−1)), once. y = 1: the rank's
     * computed leaf, signed with its task key (or ZERO for ranks beyond N). y ≥ 2: a merge of the
     * filed left child (y−1, 2x−1) with the right child (y−1, 2x) — filed by the same rank earlier, or
     * carried in this filing when y = 2 — signed with the merge key over the child hashes; ZERO and
     * pass-through numbers need no signature. Filing (h, 1) completes the job. A signature that does
     * not verify is recorded as a rejection (reply outcome "rejected", ResultRejected event).
     * Throws NOT_CLAIMANT, MERGE_NUMBER_INVALID, ALREADY_FILED, CHILD_MISSING, DEADLINE_PASSED, INVALID_STATE.
     */
    @Transaction()
    @Returns('string')
    async File(ctx: LedgerworkContext, jobId: string, executorId: string, filingJson: string): Promise<string> {
        requireId(jobId, 'jobId');
        requireId(executorId, 'executorId');
        const tree = await readTree(ctx, jobId);
        const shape = treeShape(tree.taskCount);
        const spec = parseFiling(filingJson, tree.maxResultBytes);
        const number = requireNumber(shape, spec.y, spec.x);
        const rank = await readRank(ctx, jobId, holderRank(number));
        requireHolder(ctx, rank, executorId, number);
        if (ctx.now() >= tree.deadline) {
            throw new LedgerworkError(ErrorCode.DeadlinePassed, `job ${jobId} passed its deadline`);
        }
        if ((await getFiling(ctx, jobId, number.y, number.x)) !== undefined) {
            throw new LedgerworkError(ErrorCode.AlreadyFiled, `(${number.y}, ${number.x}) of job ${jobId} is already filed`);
        }
        const filer = new Filer(ctx, tree, shape, rank);
        const outcomes = number.y === 1 ? [await filer.leaf(number, spec)] : await filer.merge(number, spec);
        const filed = outcomes.flatMap((o) => ('filing' in o ? [o.filing] : []));
        for (const filing of filed) {
            await putFiling(ctx, filing);
        }
        const rejected = outcomes.find((o): o is Extract<NumberOutcome, { rejection: LedgerworkError }> => 'rejection' in o);
        const numbers = filed.map((f) => ({ y: f.y, x: f.x, kind: f.kind, ...(f.sha256 === undefined ? {} : { sha256: f.sha256 }) }));
        if (rejected !== undefined) {
            const { rejection, number: at } = rejected;
            emit(ctx, EventName.ResultRejected, { jobId, executorId, rank: rank.rank, y: at.y, x: at.x, code: rejection.code, filed: numbers });
            return reply({ outcome: 'rejected', code: rejection.code, message: rejection.detail, filed: numbers });
        }
        const goal = target(shape);
        if (number.y === goal.y && number.x === goal.x) {
            await completeJob(ctx, jobId);
            emit(ctx, EventName.JobCompleted, { jobId, executorId, rank: rank.rank, filed: numbers });
        } else {
            emit(ctx, EventName.MergeFiled, { jobId, executorId, rank: rank.rank, filed: numbers });
        }
        return reply({ outcome: 'filed', filed: numbers });
    }

    /**
     * Hands a rank whose holder is overdue to another eligible executor of the same shard (anyone may
     * call). A rank is overdue when its next number has been ready to work on — its task published
     * and the child it waits for filed — for longer than the job's lease. The old holder is penalised.
     * The new one is chosen deterministically from the transaction id, preferring executors that hold
     * no other rank of the job, else one holding fewer ranks than its capacity. Throws INVALID_STATE
     * (not overdue, finished, cancelled) and TOO_FEW_EXECUTORS (no executor of the shard has room).
     */
    @Transaction()
    @Returns('string')
    async Reassign(ctx: LedgerworkContext, jobId: string, rankNumber: string): Promise<string> {
        requireId(jobId, 'jobId');
        const tree = await readTree(ctx, jobId);
        const shape = treeShape(tree.taskCount);
        const rankNo = integerAt(/^[1-9][0-9]{0,5}$/.test(rankNumber) ? Number(rankNumber) : NaN, 'rank', 1, shape.nodeCount);
        const rank = await readRank(ctx, jobId, rankNo);
        if (rank.cancelled === true) {
            throw new LedgerworkError(ErrorCode.InvalidState, `job ${jobId} has ended; its ranks are closed`);
        }
        const now = ctx.now();
        const dueAt = await dueTime(ctx, tree, shape, rank);
        if (now < dueAt) {
            throw new LedgerworkError(ErrorCode.InvalidState, `rank ${rankNo} of job ${jobId} is not overdue until ${dueAt}`);
        }
        const replacement = await chooseNewHolder(ctx, tree, rank);
        const executor = await requireRecord<ExecutorRecord>(ctx, 'executor', KeyType.Executor, replacement);
        const moved: RankRecord = { ...rank, executorId: replacement, account: executor.owner, assignedAt: now, reassignments: rank.reassignments + 1 };
        await putRecord(ctx, moved, KeyType.Rank, jobId, rankKey(rankNo));
        await putIndex(ctx, KeyType.ExecutorTask, replacement, `${jobId}#rank${rankNo}`);
        const writer = new DeltaWriter(ctx);
        await writer.reputation(rank.executorId, -penaltyOf(tree.rules), 'lease-expired', { jobId });
        await moveTask(ctx, jobId, rankNo, moved);
        emit(ctx, EventName.RankReassigned, { jobId, rank: rankNo, shard: rank.shard, from: rank.executorId, to: replacement });
        return reply(moved);
    }
}

function requireHolder(ctx: LedgerworkContext, rank: RankRecord, executorId: string, number: MergeNumber): void {
    if (rank.cancelled === true) {
        throw new LedgerworkError(ErrorCode.InvalidState, `job ${rank.jobId} has ended; its ranks are closed`);
    }
    if (rank.executorId !== executorId || rank.account !== ctx.caller().account) {
        throw new LedgerworkError(ErrorCode.NotClaimant, `(${number.y}, ${number.x}) of job ${rank.jobId} is held by rank ${rank.rank}, not by executor ${executorId} of the calling identity`);
    }
}

/** Verifies and prepares the records of one filing transaction (it writes only deltas and tasks; the caller writes filings). */
class Filer {
    readonly #writer: DeltaWriter;
    readonly #binding: Binding;

    constructor(
        private readonly ctx: LedgerworkContext,
        private readonly tree: JobTreeRecord,
        private readonly shape: TreeShape,
        private readonly rank: RankRecord,
    ) {
        this.#writer = new DeltaWriter(ctx);
        this.#binding = ctx.binding();
    }

    /** A leaf (1, x): the rank's task result, or ZERO beyond N. */
    async leaf(number: MergeNumber, given: NumberResult): Promise<NumberOutcome> {
        if (kindOf(this.shape, number) === 'zero') {
            requireZero(given, number);
            return { filing: this.record(number, 'zero') };
        }
        const result = requireBytes(given, number);
        const signatures = requireSignatures(given, number);
        const taskId = await taskIdAt(this.ctx, this.tree.jobId, number.x);
        if (taskId === undefined) {
            throw new LedgerworkError(ErrorCode.InvalidState, `the task of rank ${number.x} of job ${this.tree.jobId} is not published yet`);
        }
        const task = await readTask(this.ctx, taskId);
        if (task.state !== 'assigned') {
            throw new LedgerworkError(ErrorCode.InvalidState, `task ${taskId} is ${task.state}`);
        }
        const claim = requireClaimant(task, this.rank.executorId, this.rank.account);
        const rejection = checkTaskSignatures(this.#binding, task, result, signatures);
        if (rejection !== undefined) {
            await rejectResult(this.ctx, this.#writer, task, claim, rejection);
            return { rejection, number };
        }
        const accepted = await acceptResult(this.ctx, this.#writer, task, claim, result);
        return { filing: { ...this.record(number, 'leaf'), sha256: accepted.result?.sha256 ?? '', taskId } };
    }

    /** A number y ≥ 2, with its carried right child when y = 2. */
    async merge(number: MergeNumber, spec: FilingSpec): Promise<NumberOutcome[]> {
        const jobId = this.tree.jobId;
        const leftNumber = leftChild(number);
        const left = await getFiling(this.ctx, jobId, leftNumber.y, leftNumber.x);
        if (left === undefined) {
            throw new LedgerworkError(ErrorCode.ChildMissing, `(${leftNumber.y}, ${leftNumber.x}) of job ${jobId} is not filed yet`);
        }
        const rightNumber = rightChild(number);
        const outcomes: NumberOutcome[] = [];
        let right = await getFiling(this.ctx, jobId, rightNumber.y, rightNumber.x);
        if (right === undefined) {
            if (rightNumber.y !== 1 || spec.carry === undefined) {
                throw new LedgerworkError(ErrorCode.ChildMissing, `(${rightNumber.y}, ${rightNumber.x}) of job ${jobId} is not filed; with y = 2 carry it in this filing`);
            }
            const carried = await this.leaf(rightNumber, spec.carry);
            outcomes.push(carried);
            if (!('filing' in carried)) {
                return outcomes;
            }
            right = carried.filing;
        } else if (spec.carry !== undefined) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `(${rightNumber.y}, ${rightNumber.x}) is already filed; do not carry it`);
        }
        outcomes.push(await this.combine(number, spec, left, right));
        return outcomes;
    }

    async combine(number: MergeNumber, given: NumberResult, left: FilingRecord, right: FilingRecord): Promise<NumberOutcome> {
        const kind = kindOf(this.shape, number);
        if (kind === 'zero') {
            requireZero(given, number);
            return { filing: this.record(number, 'zero') };
        }
        const result = requireBytes(given, number);
        const resultHash = sha256(result).toString('hex');
        if (kind === 'pass-through') {
            if (given.signatures !== undefined || resultHash !== left.sha256) {
                throw new LedgerworkError(ErrorCode.InvalidArgument, `(${number.y}, ${number.x}) merges with ZERO: its result is its left child's, unsigned`);
            }
            return { filing: { ...this.record(number, 'pass-through'), sha256: resultHash } };
        }
        const signatures = requireSignatures(given, number);
        if (signatures.mode !== this.tree.mode) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `job ${this.tree.jobId} is in ${this.tree.mode} mode`);
        }
        const slot = mergeSlotId(this.tree.jobId, number.y, number.x);
        const inputHash = mergeInputHash(Buffer.from(left.sha256 ?? '', 'hex'), Buffer.from(right.sha256 ?? '', 'hex'));
        const rejection = verifySignatures(this.#binding, this.tree.mergePublicKey, slot, inputHash, Buffer.from(resultHash, 'hex'), signatures);
        const about = { jobId: this.tree.jobId, executorId: this.rank.executorId };
        if (rejection !== undefined) {
            await this.#writer.reputation(this.rank.executorId, -penaltyOf(this.tree.rules), 'rejected', { jobId: this.tree.jobId });
            return { rejection, number };
        }
        await this.#writer.credit(this.rank.account, BigInt(this.tree.mergeReward), 'merge-payout', about);
        await this.#writer.reputation(this.rank.executorId, this.tree.rules.reputationGain, 'merge-accepted', { jobId: this.tree.jobId });
        return { filing: { ...this.record(number, 'merge'), sha256: resultHash, inline: result.toString('base64') } };
    }

    record(number: MergeNumber, kind: FilingRecord['kind']): FilingRecord {
        return {
            jobId: this.tree.jobId,
            y: number.y,
            x: number.x,
            kind,
            executorId: this.rank.executorId,
            rank: this.rank.rank,
            filedAt: this.ctx.now(),
            txId: this.ctx.txId(),
        };
    }
}

function requireZero(given: NumberResult, number: MergeNumber): void {
    if (given.result !== null || given.signatures !== undefined) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `(${number.y}, ${number.x}) is ZERO: file result null without signatures`);
    }
}

function requireBytes(given: NumberResult, number: MergeNumber): Buffer {
    if (given.result === null) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `(${number.y}, ${number.x}) is not ZERO: its result is required`);
    }
    return given.result;
}

function requireSignatures(given: NumberResult, number: MergeNumber): NonNullable<NumberResult['signatures']> {
    if (given.signatures === undefined) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `(${number.y}, ${number.x}) needs signatures`);
    }
    return given.signatures;
}

async function completeJob(ctx: LedgerworkContext, jobId: string): Promise<void> {
    const job = await requireRecord<JobRecord>(ctx, 'job', KeyType.Job, jobId);
    await putRecord(ctx, { ...job, state: 'completed', updatedAt: ctx.now() }, KeyType.Job, jobId);
    await deleteTimeIndex(ctx, KeyType.JobDeadline, job.deadline, jobId);
}

/**
 * When the rank's holder became overdue: its first unfiled number's prerequisites (its task
 * published; the child it merges with filed) plus the lease.
 * @throws {LedgerworkError} INVALID_STATE when the rank has nothing left or is waiting on others
 */
async function dueTime(ctx: LedgerworkContext, tree: JobTreeRecord, shape: TreeShape, rank: RankRecord): Promise<number> {
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

/** An eligible executor of the rank's shard with room for one more rank of the job, idle ones first. */
async function chooseNewHolder(ctx: LedgerworkContext, tree: JobTreeRecord, rank: RankRecord): Promise<string> {
    const parameters = await parametersOf(ctx);
    const candidates = (await eligibleByShard(ctx, parameters, [rank.shard], tree.requirements))[rank.shard] ?? [];
    const held = new Map<string, number>();
    for (const entry of await entries(ctx, KeyType.Rank, tree.jobId)) {
        const executorId = decode<RankRecord>(entry.value).executorId;
        held.set(executorId, (held.get(executorId) ?? 0) + 1);
    }
    return chooseReplacement(replacementPool(candidates, held, rank.executorId), new Set([rank.executorId]), ctx.txId(), rank.shard);
}

/** Moves the rank's task (if published and unfinished) to the new holder. */
async function moveTask(ctx: LedgerworkContext, jobId: string, rankNo: number, moved: RankRecord): Promise<void> {
    const taskId = await taskIdAt(ctx, jobId, rankNo);
    if (taskId === undefined) {
        return;
    }
    const task = await readTask(ctx, taskId);
    if (task.state !== 'assigned') {
        return;
    }
    const claim = { executorId: moved.executorId, account: moved.account, shard: moved.shard, claimedAt: moved.assignedAt, leaseExpiresAt: task.deadline };
    await saveTask(ctx, task, { ...task, claim, updatedAt: moved.assignedAt });
}

