// SPDX-License-Identifier: Apache-2.0
/**
 * Chaincode as a service: the ledgerwork chaincode folder runs as `fabric-chaincode-node server` in its own
 * process; the devnet dials it like a peer (CCaaS) and a fabric-gateway client uses it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDevnet, type RunningDevnet } from '../src';
import { connectGateway, tempDir, type Connected } from './support/client';

describe('devnet with chaincode as a service', () => {
    let net: RunningDevnet;
    let client: Connected;
    let serverLog: string;

    beforeAll(async () => {
        const dir = tempDir();
        serverLog = path.join(dir, 'chaincode-server.log');
        net = await startDevnet({ dir, batchTimeoutMs: 20, services: [{ name: 'ledgerwork', folder: path.resolve(__dirname, '../../../chaincode'), logFile: serverLog }] });
        client = connectGateway(net.connection(2));
    });

    afterAll(async () => {
        client.close();
        await net.stop();
    });

    it('submits and evaluates through the chaincode server process', async () => {
        const contract = client.gateway.getNetwork('mychannel').getContract('ledgerwork');
        await contract.submitTransaction('executors:Register', 'svc-1', '{}');
        const reply = JSON.parse(new TextDecoder().decode(await contract.evaluateTransaction('queries:GetExecutor', 'svc-1'))) as { executor: { id: string; owner: { mspId: string } } };
        expect(reply.executor.id).toBe('svc-1');
    });

    it("writes the chaincode server's output to the log file it was given", () => {
        // fabric-contract-api logs every transaction it registers at start-up.
        expect(readFileSync(serverLog, 'utf8')).toContain('Property Key -> Register');
    });
});
