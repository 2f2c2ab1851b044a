// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// The chaincode runtime first: loading it quiets fabric-shim's loggers before the contracts' decorators log.
import { CHAINCODE_DIR } from '../../support/chaincodeRuntime';
import { startDevnet } from '../../../network/devnet/src';
import type { ConnectionSettings, RunningDevnet } from '../../../network/devnet/src';
import { contracts } from '../../../chaincode/src';
import { LedgerworkClient, connectGateway } from '../../../gateway/src/client';
import type { GatewayConnection } from '../../../gateway/src/client';
import { SandboxPool } from '../../../gateway/src/sandbox';
import { exampleModule } from '../../support/examples';

/**
 * Shared set-up of the end-to-end suites: one devnet (three orgs by default, gRPC/TLS), one SandboxPool,
 * clients per org user, executors registered in bulk, the primes example and a direct count.
 */

export const repo = path.resolve(__dirname, '../../..');
export const binding = { channel: 'mychannel', chaincode: 'ledgerwork' } as const;
export const mspOf = (org: number): string => `Org${org}MSP`;

export interface E2e {
    readonly work: string;
    readonly net: RunningDevnet;
    readonly pool: SandboxPool;
    /** A client of `user` in `org` ('Admin' for the org admin); its connection is closed by `close`. */
    clientFor(org: number, user: string): LedgerworkClient;
    /** A new user of `org`: its client and its connection settings (for a child process). */
    userFor(org: number, user: string): { client: LedgerworkClient; settings: ConnectionSettings };
    close(): Promise<void>;
}

export async function startE2e(name: string, poolSize = 2, orgs = 3): Promise<E2e> {
    const work = mkdtempSync(path.join(tmpdir(), `lw-e2e-${name}-`));
    const net = await startDevnet({ dir: path.join(work, 'devnet'), orgs, batchTimeoutMs: 25, chaincodes: [{ name: 'ledgerwork', folder: CHAINCODE_DIR, contracts }] });
    const pool = new SandboxPool({ size: poolSize });
    await pool.ready();
    const connections: GatewayConnection[] = [];
    return {
        work,
        net,
        pool,
        clientFor(org, user) {
            const settings = user === 'Admin' ? net.connection(org, 'Admin') : net.addUser(org, user);
            const connection = connectGateway({ ...settings, chaincodeName: 'ledgerwork' });
            connections.push(connection);
            return new LedgerworkClient(connection.network, 'ledgerwork');
        },
        userFor(org, user) {
            const settings = net.addUser(org, user);
            const connection = connectGateway({ ...settings, chaincodeName: 'ledgerwork' });
            connections.push(connection);
            return { client: new LedgerworkClient(connection.network, 'ledgerwork'), settings };
        },
        async close() {
            for (const connection of connections) {
                connection.close();
            }
            await pool.close();
            await net.stop();
            rmSync(work, { recursive: true, force: true });
        },
    };
}

/** Registers `count` primes executors named `${prefix}-${i}` for the client; returns their ids. */
export async function registerExecutors(client: LedgerworkClient, prefix: string, count: number, mode: 'active' | 'passive' = 'passive'): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
    for (const id of ids) {
        await client.registerExecutor(id, { mode, skills: ['primes'] });
    }
    return ids;
}

/** The primes example program. */
export function primesProgram(): Buffer {
    return exampleModule('primes');
}

/** The number of primes p with lo ≤ p < hi, by a sieve of Eratosthenes (the direct count). */
export function sieveCount(lo: number, hi: number): number {
    const composite = new Uint8Array(Math.max(hi, 2));
    let count = 0;
    for (let n = 2; n < hi; n++) {
        if (composite[n] === 0) {
            if (n >= lo) {
                count++;
            }
            for (let m = n * n; m < hi; m += n) {
                composite[m] = 1;
            }
        }
    }
    return count;
}
