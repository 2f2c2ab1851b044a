// SPDX-License-Identifier: Apache-2.0
/**
 * `npm start`: the main job on an embedded devnet (see mainJob.ts). `npm start -- --view [--port P]`
 * also serves the web view (`ledgerwork view`) from the start and keeps the devnet and the view up
 * after the job until Ctrl-C, so the merge tree can be watched filling in and looked at afterwards.
 */
import path from 'node:path';
import { LedgerworkClient, connectGateway } from '../client';
import type { GatewayConnection } from '../client';
import { startLedgerView } from '../view';
import type { ViewServer } from '../view';
import { runMainJob } from './mainJob';

/** From gateway/src/demo up to the repository. */
function repoDir(): string {
    const marker = `${path.sep}gateway${path.sep}`;
    return __dirname.slice(0, __dirname.indexOf(marker));
}

function viewPort(argv: readonly string[]): number {
    const at = argv.indexOf('--port');
    const text = at < 0 ? '8370' : (argv[at + 1] ?? '');
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
        throw new Error(`--port must be a port number, not ${JSON.stringify(text)}`);
    }
    return Number(text);
}

async function main(argv: readonly string[]): Promise<boolean> {
    if (!argv.includes('--view')) {
        return (await runMainJob({ repoDir: repoDir() })).verified;
    }
    const port = viewPort(argv);
    let view: (ViewServer & { close(): Promise<void> }) | undefined;
    let connection: GatewayConnection | undefined;
    try {
        const report = await runMainJob({
            repoDir: repoDir(),
            onDevnet: async (net) => {
                const settings = { ...net.addUser(1, 'viewer'), chaincodeName: 'ledgerwork' };
                connection = connectGateway(settings);
                view = await startLedgerView({
                    client: new LedgerworkClient(connection.network, 'ledgerwork'),
                    network: connection.network,
                    chaincodeName: 'ledgerwork',
                    port,
                    site: { channel: settings.channelName, chaincode: 'ledgerwork', peer: settings.peerEndpoint, mspId: settings.mspId },
                });
                process.stdout.write(`view: ${view.url}jobs/primes — the merge tree fills in as the ranks file\n`);
            },
            beforeStop: async () => {
                process.stdout.write(`\nthe devnet and the view keep running: ${view?.url ?? ''} — Ctrl-C to stop\n`);
                await new Promise<void>((resolve) => {
                    process.once('SIGINT', resolve);
                    process.once('SIGTERM', resolve);
                });
            },
        });
        return report.verified;
    } finally {
        await view?.close();
        connection?.close();
    }
}

main(process.argv.slice(2))
    .then((verified) => {
        process.exitCode = verified ? 0 : 1;
    })
    .catch((error: unknown) => {
        process.stderr.write(`ledgerwork main job failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
    });
