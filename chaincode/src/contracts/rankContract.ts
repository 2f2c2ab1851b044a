// SPDX-License-Identifier: Apache-2.0
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { ErrorCode, LedgerworkError } from '../core/errors';
import { EventName } from '../core/events';
import { integerAt } from '../core/fields';
import { requireHolder, requireRankHolders } from '../core/filing';
import { requireId } from '../core/ids';
import { holderRank, requireNumber, target, treeShape } from '../core/mergeTree';
import { parseFiling } from '../core/specs';
import { emit } from '../ledger/events';
import { LedgerworkContext } from '../ledger/context';
import { fileNumber } from '../ledger/filer';
import type { NumberOutcome } from '../ledger/filer';
import { completeJob } from '../ledger/jobs';
import { chooseNewHolder, dueTime, getFiling, moveRank, putFiling, readRank, readTree } from '../ledger/ranks';
import { LedgerworkContract, reply } from './base';

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
     * Throws NOT_CLAIMANT, MERGE_NUMBER_INVALID, ALREADY_FILED, CHILD_MISSING, DEADLINE_PASSED,
     * INVALID_STATE (also for a job verified by replicas: its numbers are filed by acceptance).
     */
    @Transaction()
    @Returns('string')
    async File(ctx: LedgerworkContext, jobId: string, executorId: string, filingJson: string): Promise<string> {
        requireId(jobId, 'jobId');
        requireId(executorId, 'executorId');
        const tree = await readTree(ctx, jobId);
        requireRankHolders(tree);
        const shape = treeShape(tree.taskCount);
        const spec = parseFiling(filingJson, tree.maxResultBytes);
        const number = requireNumber(shape, spec.y, spec.x);
        const rank = await readRank(ctx, jobId, holderRank(number));
        requireHolder(rank, executorId, ctx.caller().account, number);
        if (ctx.now() >= tree.deadline) {
            throw new LedgerworkError(ErrorCode.DeadlinePassed, `job ${jobId} passed its deadline`);
        }
        if ((await getFiling(ctx, jobId, number.y, number.x)) !== undefined) {
            throw new LedgerworkError(ErrorCode.AlreadyFiled, `(${number.y}, ${number.x}) of job ${jobId} is already filed`);
        }
        const outcomes = await fileNumber(ctx, tree, shape, rank, number, spec);
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
        requireRankHolders(tree);
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
        const moved = await moveRank(ctx, tree, rank, replacement);
        emit(ctx, EventName.RankReassigned, { jobId, rank: rankNo, shard: rank.shard, from: rank.executorId, to: replacement });
        return reply(moved);
    }
}
