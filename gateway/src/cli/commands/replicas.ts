// SPDX-License-Identifier: Apache-2.0
/** What `task show` and `job status` print about the replicas of replicated tasks (quorum, credibility). */
import type { JobRecord } from '@ledgerwork/core';
import type { LedgerworkClient, ReplicationView } from '../../client/ledgerworkClient';
import { describeVerifyPolicy } from '../../publisher/verifyPolicy';
import { allPages } from '../context';
import { table } from '../output';

/** Replicas of a job's tasks, by state and verdict. */
export interface ReplicaSummary {
    readonly policy: string;
    readonly replicas: number;
    /** Revealed the accepted value: paid. */
    readonly agreed: number;
    /** Revealed another value than the accepted one: penalised. */
    readonly disagreed: number;
    /** Revealed, task not settled yet. */
    readonly revealed: number;
    /** Claimed or committed, not revealed yet. */
    readonly inFlight: number;
    /** Reveal turned down (commitment or signature), committed and never revealed, run failed, or no longer needed. */
    readonly rejected: number;
    readonly abandoned: number;
    readonly failed: number;
    readonly superseded: number;
}

/** The job's verification policy in words, or undefined for `signature`. */
export function replicatedPolicyOf(job: JobRecord): string | undefined {
    return job.verify === 'signature' ? undefined : describeVerifyPolicy(job.verify);
}

/** Counts the replicas of every task of a replicated job (one query per task, eight at a time). */
export async function summarizeReplicas(client: LedgerworkClient, job: JobRecord, policy: string): Promise<ReplicaSummary> {
    const tasks = await allPages((bookmark) => client.listTasksByJob(job.id, '', 1000, bookmark));
    const counts = { replicas: 0, agreed: 0, disagreed: 0, revealed: 0, inFlight: 0, rejected: 0, abandoned: 0, failed: 0, superseded: 0 };
    for (let start = 0; start < tasks.length; start += 8) {
        const views = await Promise.all(tasks.slice(start, start + 8).map((task) => client.getReplication(task.id)));
        for (const replica of views.flatMap((view) => view.replicas)) {
            counts.replicas++;
            if (replica.verdict !== undefined) {
                counts[replica.verdict]++;
            } else if (replica.state === 'claimed' || replica.state === 'committed') {
                counts.inFlight++;
            } else {
                counts[replica.state]++;
            }
        }
    }
    return { policy, ...counts };
}

/** One line: "8 replicas: 6 agreed (paid), 2 disagreed (penalised), …". */
export function describeReplicaSummary(summary: ReplicaSummary): string {
    const parts = [
        `${summary.agreed} agreed (paid)`,
        summary.disagreed > 0 ? `${summary.disagreed} disagreed (penalised)` : '',
        summary.revealed > 0 ? `${summary.revealed} revealed, awaiting agreement` : '',
        summary.inFlight > 0 ? `${summary.inFlight} running or committed` : '',
        summary.rejected > 0 ? `${summary.rejected} rejected` : '',
        summary.abandoned > 0 ? `${summary.abandoned} abandoned` : '',
        summary.failed > 0 ? `${summary.failed} run failed` : '',
        summary.superseded > 0 ? `${summary.superseded} superseded` : '',
    ].filter((part) => part !== '');
    return `${summary.replicas} replicas: ${parts.join(', ')}`;
}

/** The settlement and a table of a task's replicas. */
export function describeReplication(view: ReplicationView): { entries: [string, string][]; replicas: string } {
    const settlement = view.settlement;
    const verdict =
        view.state === 'completed'
            ? `accepted ${view.resultSha256 ?? ''}`.trim()
            : view.state === 'failed'
              ? 'failed: no value reached agreement'
              : settlement?.kind === 'open'
                ? `open, ${settlement.openSlots} slot${settlement.openSlots === 1 ? '' : 's'} to fill`
                : view.state;
    return {
        entries: [
            ['verify', describeVerifyPolicy(view.policy)],
            ['agreement', verdict],
        ],
        replicas: table(
            ['EXECUTOR', 'SHARD', 'STATE', 'CREDIBILITY', 'RESULT SHA-256', 'VERDICT'],
            view.replicas.map((r) => [
                r.executorId,
                r.shard,
                r.state + (r.revealOpen ? ' (may reveal)' : ''),
                (r.credibilityPpm / 1_000_000).toFixed(6),
                r.resultSha256 === undefined ? '' : `${r.resultSha256.slice(0, 16)}…`,
                r.verdict ?? r.reason ?? '',
            ]),
        ),
    };
}
