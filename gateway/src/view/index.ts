// SPDX-License-Identifier: Apache-2.0
import type { Network } from '@hyperledger/fabric-gateway';
import type { LedgerworkClient } from '../client';
import type { SiteInfo } from './pages';
import { startViewServer } from './server';
import type { ViewServer } from './server';
import { LedgerSource } from './source';

export { LedgerSource, UnknownJobError } from './source';
export { ViewModel, organizationsOf, treeOf } from './model';
export type { LedgerEvent, JobEntry, ExecutorEntry, TreeModel, TreeNode } from './model';
export { startViewServer } from './server';
export type { ViewServer } from './server';

export interface LedgerViewOptions {
    readonly client: LedgerworkClient;
    readonly network: Pick<Network, 'getChaincodeEvents'>;
    readonly chaincodeName: string;
    readonly site: SiteInfo;
    readonly host?: string;
    readonly port: number;
    readonly startBlock?: bigint;
}

/** Follows the ledger and serves the view; `close()` stops both. */
export async function startLedgerView(options: LedgerViewOptions): Promise<ViewServer & { readonly source: LedgerSource }> {
    const source = new LedgerSource({ client: options.client, network: options.network, chaincodeName: options.chaincodeName, ...(options.startBlock === undefined ? {} : { startBlock: options.startBlock }) });
    await source.start();
    try {
        const server = await startViewServer({ source, site: options.site, port: options.port, ...(options.host === undefined ? {} : { host: options.host }) });
        return {
            source,
            url: server.url,
            port: server.port,
            close: async () => {
                await server.close();
                await source.close();
            },
        };
    } catch (err) {
        await source.close();
        throw err;
    }
}
