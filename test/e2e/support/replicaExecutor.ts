// SPDX-License-Identifier: Apache-2.0
/**
 * A replica executor process for the replicated suite: `node -r scripts/register-ts.js replicaExecutor.ts <work JSON>`.
 * It connects with the given identity and claims a replica slot of `taskId` with the gateway
 * library — fetching, checking and running the program for real, sealing result and salt in the
 * journal at `journalDir`, committing — and then, between commit and reveal, prints
 * `committed <taskId>` and stalls, so the parent can SIGKILL it there. Its one sandbox child exits
 * when it loses its parent.
 */
import type { ConnectionSettings } from '../../../gateway/src/client';
import { LedgerworkClient, connectGateway } from '../../../gateway/src/client';
import { Executor, ReplicaJournal } from '../../../gateway/src/executor';
import { SandboxPool } from '../../../gateway/src/sandbox';

interface Work {
    readonly settings: ConnectionSettings;
    readonly executorId: string;
    readonly taskId: string;
    readonly journalDir: string;
}

async function run(work: Work): Promise<void> {
    const connection = connectGateway({ ...work.settings, chaincodeName: 'ledgerwork' });
    const ledger = new LedgerworkClient(connection.network, 'ledgerwork');
    const sandbox = new SandboxPool({ size: 1 });
    await sandbox.ready();
    const executor = new Executor({
        executorId: work.executorId,
        ledger,
        sandbox,
        binding: { channel: work.settings.channelName, chaincode: 'ledgerwork' },
        journal: new ReplicaJournal(work.journalDir),
        pollMs: 200,
        onReplicaStep: (step, taskId) => {
            if (step !== 'committed') {
                return undefined;
            }
            process.stdout.write(`committed ${taskId}\n`);
            // Keeps the process alive between commit and reveal; the parent kills it.
            setInterval(() => undefined, 60_000);
            return new Promise<void>(() => undefined);
        },
    });
    await executor.claimAndRun(work.taskId);
    process.stderr.write('replica executor revealed unexpectedly\n');
    process.exit(3);
}

run(JSON.parse(process.argv[2] ?? '{}') as Work).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
});
