// SPDX-License-Identifier: Apache-2.0
/**
 * An executor process for the crash test: `node -r scripts/register-ts.js stallingExecutor.ts <job JSON>`.
 * It connects with the given identity, then claims an open task (`taskId`) or works a rank (`jobId`,
 * `rank`) with the gateway library — fetching and checking the program for real — but its sandbox
 * never finishes: it prints `running <taskId|rank>` and stalls, so the parent can SIGKILL it
 * mid-task, holding a live claim or rank on the ledger. It starts no child processes.
 */
import type { ConnectionSettings } from '../../../gateway/src/client';
import { LedgerworkClient, connectGateway } from '../../../gateway/src/client';
import { Executor } from '../../../gateway/src/executor';
import type { Runner } from '../../../gateway/src/executor';

interface Work {
    readonly settings: ConnectionSettings;
    readonly executorId: string;
    readonly taskId?: string;
    readonly jobId?: string;
    readonly rank?: number;
}

async function run(work: Work): Promise<void> {
    const connection = connectGateway({ ...work.settings, chaincodeName: 'ledgerwork' });
    const ledger = new LedgerworkClient(connection.network, 'ledgerwork');
    const stalling: Runner = {
        run: (request) => {
            process.stdout.write(`running ${request.seed}\n`);
            // Keeps the process alive; the parent kills it.
            setInterval(() => undefined, 60_000);
            return new Promise(() => undefined);
        },
    };
    const executor = new Executor({ executorId: work.executorId, ledger, sandbox: stalling, binding: { channel: work.settings.channelName, chaincode: 'ledgerwork' } });
    if (work.taskId !== undefined) {
        await executor.claimAndRun(work.taskId);
    } else if (work.jobId !== undefined && work.rank !== undefined) {
        await executor.runRank(work.jobId, work.rank);
    }
    process.stderr.write('stalling executor finished unexpectedly\n');
    process.exit(3);
}

run(JSON.parse(process.argv[2] ?? '{}') as Work).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
});
