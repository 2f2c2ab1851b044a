// SPDX-License-Identifier: Apache-2.0
import { ChaincodeError, CommitFailedError } from '../../gateway/src/client/errors';
import type { WorkLedger } from '../../gateway/src/executor';
import type { PublisherPort } from '../../gateway/src/publisher';
import { ChainError } from '../chaincode/harness';
import type { Actor, Chain, Json } from '../chaincode/harness';

/**
 * The gateway's ledger ports over the simulated chain (the real chaincode on fabric-shim), with
 * LedgerworkClient's semantics: thrown codes become ChaincodeError, recorded rejections become
 * ChaincodeError with `committed: true`. The devnet tests use the real LedgerworkClient instead.
 */
export function simulatedLedger(chain: Chain, actor: Actor): WorkLedger & PublisherPort {
    const call = async (fn: string, args: string[], submit: boolean): Promise<Json> => {
        for (let attempt = 0; ; attempt++) {
            try {
                return submit ? await chain.submit(actor, fn, args) : await chain.evaluate(actor, fn, args);
            } catch (err) {
                if (err instanceof ChainError) {
                    throw new ChaincodeError(err.code === 'UNTYPED' ? 'RUNTIME' : err.code, err.detail);
                }
                // Like LedgerworkClient: a step invalidated by a concurrent transaction is re-run.
                const conflict = err instanceof Error ? /was invalidated: (MVCC_READ_CONFLICT|PHANTOM_READ_CONFLICT)$/.exec(err.message) : null;
                if (conflict && attempt < 4) {
                    await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(Math.random() * 10)));
                    continue;
                }
                if (conflict) {
                    // Still conflicting after the re-runs: LedgerworkClient then throws CommitFailedError, and so does this port.
                    throw new CommitFailedError(conflict[1] ?? 'MVCC_READ_CONFLICT', fn, { cause: err });
                }
                throw err;
            }
        }
    };
    const accepted = (reply: Json): Json => {
        if (reply.outcome === 'rejected') {
            throw new ChaincodeError(reply.code as 'SIGNATURE_INVALID', reply.message as string, { committed: true });
        }
        return reply;
    };
    const port = {
        claimTask: (taskId: string, executorId: string) => call('tasks:Claim', [taskId, executorId], true),
        releaseTask: (taskId: string, executorId: string) => call('tasks:Release', [taskId, executorId], true),
        submitResult: async (taskId: string, executorId: string, submission: object) => accepted(await call('tasks:Submit', [taskId, executorId, JSON.stringify(submission)], true)).task,
        reportFailure: (taskId: string, executorId: string, report: object) => call('tasks:ReportFailure', [taskId, executorId, JSON.stringify(report)], true),
        getTask: (taskId: string) => call('queries:GetTask', [taskId], false),
        getJob: (jobId: string) => call('queries:GetJob', [jobId], false),
        getJobProgress: (jobId: string) => call('queries:GetJobProgress', [jobId], false),
        listTasksByJob: (jobId: string, state = '', pageSize = 100, bookmark = '') => call('queries:ListTasksByJob', [jobId, state, String(pageSize), bookmark], false),
        getFiling: (jobId: string, y: number, x: number) => call('queries:GetFiling', [jobId, String(y), String(x)], false),
        fileNumber: async (jobId: string, executorId: string, filing: object) => accepted(await call('ranks:File', [jobId, executorId, JSON.stringify(filing)], true)),
        getMergeTree: (jobId: string) => call('queries:GetMergeTree', [jobId], false),
        getExecutor: (executorId: string) => call('queries:GetExecutor', [executorId], false),
        listTasksByExecutor: (executorId: string, pageSize = 100, bookmark = '') => call('queries:ListTasksByExecutor', [executorId, String(pageSize), bookmark], false),
        sweepExpired: (limit = 100) => call('tasks:SweepExpired', [String(limit)], true),
        reassignRank: (jobId: string, rank: number) => call('ranks:Reassign', [jobId, String(rank)], true),
        publishJob: (job: object) => call('jobs:Publish', [JSON.stringify(job)], true),
        addTasks: (jobId: string, tasks: readonly object[]) => call('jobs:AddTasks', [jobId, JSON.stringify(tasks)], true),
    };
    return port as unknown as WorkLedger & PublisherPort;
}
