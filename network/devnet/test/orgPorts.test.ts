// SPDX-License-Identifier: Apache-2.0
/**
 * One port per org, as test-network serves its peers: each port is that org's gateway peer — a sample application
 * connecting to Org2's address evaluates on Org2's peer, and endorsement errors name each peer's own endpoint.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EndorseError } from '@hyperledger/fabric-gateway';
import { startDevnet, testNetworkPorts, type RunningDevnet } from '../src';
import { defined } from '../src/defined';
import { connectGateway, tempDir, type Connected } from './support/client';

const FOLDER = path.resolve(__dirname, 'fixtures/asset-transfer-basic');
const utf8 = new TextDecoder();

describe('a devnet serving each org on its own port', () => {
    let net: RunningDevnet;
    const clients: Connected[] = [];

    beforeAll(async () => {
        net = await startDevnet({ dir: tempDir(), batchTimeoutMs: 20, orgPorts: [0, 0, 0], chaincodes: [{ name: 'basic', folder: FOLDER }] });
    });

    afterAll(async () => {
        for (const client of clients) {
            client.close();
        }
        await net.stop();
    });

    it('lays ports out as test-network does', () => {
        expect(testNetworkPorts(3)).toEqual([7051, 9051, 11051]);
        expect(testNetworkPorts(2, 8051)).toEqual([8051, 10051]);
    });

    it('serves each org as its own peer', async () => {
        const ports = net.servers.map((s) => s.port);
        expect(new Set(ports).size).toBe(3);
        for (const [i, mspId] of ['Org1MSP', 'Org2MSP', 'Org3MSP'].entries()) {
            const settings = net.connection(i + 1);
            expect(settings.peerEndpoint).toBe(`localhost:${ports[i] ?? 0}`);
            const client = connectGateway(settings);
            clients.push(client);
            const contract = client.gateway.getNetwork('mychannel').getContract('basic');
            expect(utf8.decode(await contract.evaluateTransaction('PeerMspId'))).toBe(mspId);
        }
        // Org3's peer endorses first, then Org1's: they write different values; the error names Org1's own endpoint.
        const org3 = defined(clients[2]).gateway.getNetwork('mychannel').getContract('basic');
        const error = await org3.submit('StampEndorser', { arguments: ['k'] }).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(EndorseError);
        expect((error as EndorseError).details).toEqual([
            { mspId: 'Org1MSP', address: `peer0.org1.example.com:${ports[0] ?? 0}`, message: 'ProposalResponsePayloads do not match' },
        ]);
        await org3.submitTransaction('CreateAsset', 'a1', 'blue', '1', 'Ann', '5');
        const org2 = defined(clients[1]).gateway.getNetwork('mychannel').getContract('basic');
        expect((JSON.parse(utf8.decode(await org2.evaluateTransaction('ReadAsset', 'a1'))) as { Owner: string }).Owner).toBe('Ann');
    });
});

