// SPDX-License-Identifier: Apache-2.0
import { realMergeCount, treeShape } from '../core/mergeTree';
import type { FilingRecord, JobRecord, JobTreeRecord, RankRecord } from '../core/model';
import type { DeltaWriter } from './accounts';
import type { LedgerworkContext } from './context';
import { rankKey } from './jobs';
import { KeyType, decode, entries, getRecord, pad, putRecord, requireRecord } from './store';

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
 * conflict at commit, and refunds the merge rewards not yet paid.
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
    const paidMerges = (await filingsOf(ctx, job.id)).filter((filing) => filing.kind === 'merge').length;
    const unpaid = BigInt(realMergeCount(treeShape(job.taskCount)) - paidMerges);
    await writer.credit(job.publisher, BigInt(merge.reward) * unpaid, 'refund', { jobId: job.id });
}
