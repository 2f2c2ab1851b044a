// SPDX-License-Identifier: Apache-2.0
import { LedgerworkClient, connectGateway } from '../../client';
import { startLedgerView } from '../../view';
import { UsageError } from '../args';
import type { CommandContext } from '../context';

/**
 * `ledgerwork view [--port P] [--host H] [--from-block N]`: the read-only web view of the network
 * the settings point at, until SIGINT/SIGTERM. It checks the connection first (`queries:WhoAmI`),
 * so a peer that is down or settings that are wrong end the command with the CLI's usual exit code.
 */
export async function run(ctx: CommandContext): Promise<void> {
    const port = ctx.flags.int('port', 8370);
    if (port > 65535) {
        throw new UsageError(`--port must be at most 65535, not ${port}`);
    }
    const host = ctx.flags.string('host') ?? '127.0.0.1';
    const fromBlock = ctx.flags.optionalInt('from-block', 0);
    const settings = ctx.settings();
    const connection = connectGateway(settings);
    try {
        const client = new LedgerworkClient(connection.network, settings.chaincodeName);
        const identity = await client.whoAmI();
        const view = await startLedgerView({
            client,
            network: connection.network,
            chaincodeName: settings.chaincodeName,
            host,
            port,
            site: { channel: settings.channelName, chaincode: settings.chaincodeName, peer: settings.peerEndpoint, mspId: identity.mspId },
            ...(fromBlock === undefined ? {} : { startBlock: BigInt(fromBlock) }),
        });
        const untrap = ctx.io.trapSignals();
        try {
            ctx.out.result({ url: view.url, channel: settings.channelName, chaincode: settings.chaincodeName, peer: settings.peerEndpoint }, () => `ledgerwork view of ${settings.channelName}/${settings.chaincodeName} at ${settings.peerEndpoint}: ${view.url}\n`);
            ctx.out.note(`read-only; Ctrl-C stops it`);
            await new Promise<void>((resolve) => {
                if (ctx.io.signal.aborted) {
                    resolve();
                }
                ctx.io.signal.addEventListener('abort', () => { resolve(); }, { once: true });
            });
        } finally {
            untrap();
            await view.close();
        }
    } finally {
        connection.close();
    }
}
