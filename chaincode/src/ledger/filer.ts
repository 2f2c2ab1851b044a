// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';
import { requireBytes, requireSignatures, requireZero } from '../core/filing';
import { kindOf, leftChild, rightChild } from '../core/mergeTree';
import type { MergeNumber, TreeShape } from '../core/mergeTree';
import type { FilingRecord, JobTreeRecord, RankRecord } from '../core/model';
import { penaltyOf, requireClaimant } from '../core/rules';
import { mergeInputHash, mergeSlotId, sha256 } from '../core/signature';
import type { Binding } from '../core/signature';
import type { FilingSpec, NumberResult } from '../core/specs';
import { DeltaWriter } from './accounts';
import type { LedgerworkContext } from './context';
import { taskIdAt } from './jobs';
import { getFiling } from './ranks';
import { reexecuteMerge } from './reexecution';
import { acceptResult, checkTaskSignatures, readTask, rejectResult, verifySignatures } from './tasks';

/** Outcome of filing one number: stored, or turned down with the verification failure. */
export type NumberOutcome = { readonly filing: FilingRecord } | { readonly rejection: LedgerworkError; readonly number: MergeNumber };

/**
 * Verifies and prepares the records of one filing transaction at `number` (y, x) — with its carried
 * right leaf when y = 2. It writes deltas and tasks; the caller writes the filings it returns.
 * @throws {LedgerworkError} CHILD_MISSING, INVALID_STATE, INVALID_ARGUMENT
 */
export async function fileNumber(ctx: LedgerworkContext, tree: JobTreeRecord, shape: TreeShape, rank: RankRecord, number: MergeNumber, spec: FilingSpec): Promise<NumberOutcome[]> {
    const filer = new Filer(ctx, tree, shape, rank);
    return number.y === 1 ? [await filer.leaf(number, spec)] : filer.merge(number, spec);
}

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
        const rejection =
            this.tree.mergeVerify === undefined ? this.checkMergeSignatures(number, given, left, right, resultHash) : await reexecuteMerge(this.ctx, this.tree, number, given, left, right, result);
        const about = { jobId: this.tree.jobId, executorId: this.rank.executorId };
        if (rejection !== undefined) {
            await this.#writer.reputation(this.rank.executorId, -penaltyOf(this.tree.rules), 'rejected', { jobId: this.tree.jobId });
            return { rejection, number };
        }
        await this.#writer.credit(this.rank.account, BigInt(this.tree.mergeReward), 'merge-payout', about);
        await this.#writer.reputation(this.rank.executorId, this.tree.rules.reputationGain, 'merge-accepted', { jobId: this.tree.jobId });
        return { filing: { ...this.record(number, 'merge'), sha256: resultHash, inline: result.toString('base64') } };
    }

    checkMergeSignatures(number: MergeNumber, given: NumberResult, left: FilingRecord, right: FilingRecord, resultHash: string): LedgerworkError | undefined {
        const signatures = requireSignatures(given, number);
        if (signatures.mode !== this.tree.mode) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `job ${this.tree.jobId} is in ${this.tree.mode} mode`);
        }
        const slot = mergeSlotId(this.tree.jobId, number.y, number.x);
        const inputHash = mergeInputHash(Buffer.from(left.sha256 ?? '', 'hex'), Buffer.from(right.sha256 ?? '', 'hex'));
        return verifySignatures(this.#binding, this.tree.mergePublicKey, slot, inputHash, Buffer.from(resultHash, 'hex'), signatures);
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
