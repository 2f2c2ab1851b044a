// SPDX-License-Identifier: Apache-2.0
/**
 * A chaincode no one here wrote — fabric-samples' basic asset transfer in plain JavaScript, with its own
 * node_modules — behind the devnet, through an unmodified fabric-gateway client, in both chaincode modes: each org's
 * peer runs its own instance (getMspID answers that org), each chaincode has its own namespace, and the chaincode
 * may load fabric-shim itself.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EndorseError, type Contract } from '@hyperledger/fabric-gateway';
import { startDevnet, type RunningDevnet } from '../src';
import { connectGateway, tempDir, type Connected } from './support/client';

const FOLDER = path.resolve(__dirname, 'fixtures/asset-transfer-basic');
const utf8 = new TextDecoder();

describe.each(['in-process', 'service'] as const)('a fabric-samples chaincode run %s', (mode) => {
    let net: RunningDevnet;
    let client: Connected;
    let basic: Contract;
    let other: Contract;

    beforeAll(async () => {
        const chaincodes = [{ name: 'basic', folder: FOLDER }, { name: 'other', folder: FOLDER }];
        net = await startDevnet({ dir: tempDir(), batchTimeoutMs: 20, ...(mode === 'service' ? { services: chaincodes } : { chaincodes }) });
        client = connectGateway(net.connection(1));
        basic = client.gateway.getNetwork('mychannel').getContract('basic');
        other = client.gateway.getNetwork('mychannel').getContract('other');
    }, 180_000);

    afterAll(async () => {
        client.close();
        await net.stop();
    });

    it('runs the asset lifecycle of the sample application', async () => {
        await basic.submitTransaction('InitLedger');
        await basic.submitTransaction('CreateAsset', 'asset7', 'yellow', '5', 'Tom', '1300');
        expect(utf8.decode(await basic.submitTransaction('TransferAsset', 'asset7', 'Saptha'))).toBe('Tom');
        const asset = JSON.parse(utf8.decode(await basic.evaluateTransaction('ReadAsset', 'asset7'))) as { Owner: string };
        expect(asset.Owner).toBe('Saptha');
        const all = JSON.parse(utf8.decode(await basic.evaluateTransaction('GetAllAssets'))) as { ID: string }[];
        expect(all.map((a) => a.ID)).toEqual(['asset1', 'asset2', 'asset3', 'asset7']);
    });

    it('keeps each chaincode in its own namespace', async () => {
        await basic.submitTransaction('CreateAsset', 'mine', 'blue', '1', 'Ann', '10');
        await expect(other.evaluateTransaction('ReadAsset', 'mine')).rejects.toThrow('The asset mine does not exist');
        await other.submitTransaction('CreateAsset', 'mine', 'red', '2', 'Bob', '20');
        expect((JSON.parse(utf8.decode(await basic.evaluateTransaction('ReadAsset', 'mine'))) as { Owner: string }).Owner).toBe('Ann');
        expect((JSON.parse(utf8.decode(await other.evaluateTransaction('GetAllAssets'))) as { ID: string }[]).map((a) => a.ID)).toEqual(['mine']);
        await other.submitTransaction('DeleteAsset', 'mine');
        expect(utf8.decode(await basic.evaluateTransaction('AssetExists', 'mine'))).toBe('true');
    });

    it('runs each org\'s endorsement as that org\'s peer', async () => {
        for (const mspId of ['Org1MSP', 'Org2MSP', 'Org3MSP']) {
            expect(utf8.decode(await basic.evaluate('PeerMspId', { endorsingOrganizations: [mspId] }))).toBe(mspId);
        }
        // Each endorser writes its own MSP id: the responses differ and the error names the org and its endpoint.
        const error = await basic.submit('StampEndorser', { arguments: ['stamp'], endorsingOrganizations: ['Org1MSP', 'Org3MSP'] }).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(EndorseError);
        expect((error as EndorseError).details).toEqual([
            { mspId: 'Org3MSP', address: `peer0.org3.example.com:${net.server.port}`, message: 'ProposalResponsePayloads do not match' },
        ]);
    });

    it('names the devnet and the feature in what it does not support', async () => {
        await expect(basic.evaluateTransaction('QueryAssets', JSON.stringify({ selector: { Owner: 'Tom' } })))
            .rejects.toThrow('rich queries (GetQueryResult) are not supported by the ledgerwork devnet');
        const events = await client.gateway.getNetwork('mychannel').getBlockEvents();
        try {
            await expect(events[Symbol.asyncIterator]().next()).rejects.toThrow(
                'the ledgerwork devnet does not support the peer Deliver service (block events: Deliver, DeliverFiltered, DeliverWithPrivateData): /protos.Deliver/Deliver is not implemented',
            );
        } finally {
            events.close();
        }
    });

    it('runs a chaincode that loads fabric-shim itself', async () => {
        const policy = Buffer.from(utf8.decode(await basic.evaluateTransaction('EndorsementPolicyFor', 'Org1MSP,Org2MSP')), 'base64');
        expect(policy.includes(Buffer.from('Org1MSP'))).toBe(true);
        expect(policy.includes(Buffer.from('Org2MSP'))).toBe(true);
    });
});
