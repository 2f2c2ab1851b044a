// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// The chaincode runtime first: loading it quiets fabric-shim's loggers before the contracts' decorators log.
import { CHAINCODE_DIR } from '../support/chaincodeRuntime';
import { startDevnet } from '../../network/devnet/src';
import type { RunningDevnet } from '../../network/devnet/src';
import { contracts } from '../../chaincode/src';
import { ChaincodeError, LedgerworkClient, connectGateway } from '../../gateway/src/client';
import type { GatewayConnection } from '../../gateway/src/client';
import { WorkLoop } from '../../gateway/src/executor';
import { DirectoryStore, planJob, publishPlan, splitRange, waitForTarget } from '../../gateway/src/publisher';
import { SandboxPool } from '../../gateway/src/sandbox';
import { exampleModule } from '../support/examples';

/**
 * The gateway library over gRPC and TLS against the devnet — the code path a real Fabric peer
 * sees: LedgerworkClient (fabric-gateway, node:crypto signer) for an admin, a publisher and
 * executors of three orgs; the sandbox running the primes example; a ranked job to its target.
 */

const work = mkdtempSync(path.join(tmpdir(), 'lw-devnet-client-'));


describe('gateway client on the devnet', () => {
    let net: RunningDevnet;
    let pool: SandboxPool;
    const connections: GatewayConnection[] = [];

    const clientFor = (org: number, user: string): LedgerworkClient => {
        const settings = user === 'Admin' ? net.connection(org, 'Admin') : net.addUser(org, user);
        const connection = connectGateway({ ...settings, chaincodeName: 'ledgerwork' });
        connections.push(connection);
        return new LedgerworkClient(connection.network, 'ledgerwork');
    };

    beforeAll(async () => {
        net = await startDevnet({ dir: path.join(work, 'devnet'), batchTimeoutMs: 50, chaincodes: [{ name: 'ledgerwork', folder: CHAINCODE_DIR, contracts }] });
        pool = new SandboxPool({ size: 2 });
        await pool.ready();
    });
    afterAll(async () => {
        for (const connection of connections) {
            connection.close();
        }
        await pool.close();
        await net.stop();
        rmSync(work, { recursive: true, force: true });
    });

    it('re-types chaincode errors and runs a ranked job across three orgs to the direct count', async () => {
        const admin = clientFor(1, 'Admin');
        const publisher = clientFor(1, 'gw-publisher');
        expect((await admin.whoAmI()).isAdmin).toBe(true);
        const publisherAccount = (await publisher.whoAmI()).account;
        await admin.mint(publisherAccount, 10_000n);
        await expect(publisher.mint(publisherAccount, 1n)).rejects.toMatchObject({ code: 'NOT_ADMIN', stage: 'chaincode' });
        await expect(publisher.getTask('no-such-task')).rejects.toBeInstanceOf(ChaincodeError);

        const executors: { client: LedgerworkClient; id: string }[] = [];
        for (const org of [1, 2, 3]) {
            const client = clientFor(org, `gw-worker-${org}`);
            for (const n of [1, 2, 3]) {
                await client.registerExecutor(`gw-o${org}-${n}`, { mode: 'passive', skills: ['primes'] });
                executors.push({ client, id: `gw-o${org}-${n}` });
            }
        }
        const program = exampleModule('primes');
        const plan = await planJob({
            jobId: 'gw-ranked',
            program,
            mergeProgram: program,
            inputs: splitRange(0n, 20_000n, 5).map((text) => Buffer.from(text)),
            reward: 4n,
            mergeReward: 1n,
            shards: ['Org1MSP', 'Org2MSP', 'Org3MSP'],
            requirements: { skills: ['primes'] },
            deadline: Date.now() + 3600_000,
            store: new DirectoryStore(path.join(work, 'bundles')),
        });
        await publishPlan(publisher, plan, 2);
        const tree = await publisher.getMergeTree('gw-ranked');
        expect(tree.holders.map((h) => h.shard).sort()).toEqual(['Org1MSP', 'Org1MSP', 'Org1MSP', 'Org2MSP', 'Org2MSP', 'Org2MSP', 'Org3MSP', 'Org3MSP']);
        const target = waitForTarget(publisher, 'gw-ranked', 5, { pollMs: 50 });
        // One work loop per org, as each org's `executor run` would.
        const summaries = await Promise.all(
            [...new Set(executors.map((e) => e.client))].map((client) =>
                new WorkLoop({ executorIds: executors.filter((e) => e.client === client).map((e) => e.id), ledger: client, sandbox: pool, concurrency: 2, binding: { channel: 'mychannel', chaincode: 'ledgerwork' }, jobIds: ['gw-ranked'], untilDone: true, pollMs: 50 }).run(),
            ),
        );
        expect(summaries.reduce((n, s) => n + s.filed, 0)).toBe(8);
        expect(summaries.every((s) => s.failed === 0 && s.rejected === 0)).toBe(true);
        expect((await target).toString()).toBe('2262\n');
        expect((await publisher.getJob('gw-ranked')).state).toBe('completed');
        const account = await publisher.getAccount(publisherAccount);
        expect(account).toMatchObject({ balance: String(10_000 - 5 * 4 - 4 * 1), spent: String(5 * 4 + 4 * 1) });
    });
});
