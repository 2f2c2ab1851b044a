// SPDX-License-Identifier: Apache-2.0
import type { FilingRecord, JobRecord, TaskRecord } from './model';
import { isTerminal } from './rules';

/**
 * What a job still holds in escrow: the rewards of its unfinished tasks (a replicated task holds its
 * reward for every replica it may pay) and, for a ranked job, the merge reward of every real merge
 * not filed yet (a job of N tasks has N − 1 real merges). A job that ended (completed, cancelled,
 * expired) holds nothing: ending it paid or refunded the rest.
 */
export function lockedEscrow(job: Pick<JobRecord, 'state' | 'taskCount' | 'merge'>, tasks: readonly Pick<TaskRecord, 'state' | 'reward' | 'verify'>[], filings: readonly Pick<FilingRecord, 'kind'>[]): bigint {
    if (job.state !== 'publishing' && job.state !== 'open') {
        return 0n;
    }
    let locked = 0n;
    for (const task of tasks) {
        if (!isTerminal(task.state)) {
            locked += BigInt(task.reward) * BigInt(task.verify?.maxReplicas ?? 1);
        }
    }
    if (job.merge !== undefined) {
        const merged = filings.filter((filing) => filing.kind === 'merge').length;
        locked += BigInt(job.merge.reward) * BigInt(Math.max(0, job.taskCount - 1 - merged));
    }
    return locked;
}
