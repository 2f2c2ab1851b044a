// SPDX-License-Identifier: Apache-2.0
/**
 * fabric-samples' asset-transfer-private-data, run as the sample runs it: the chaincode deployed with its
 * collections_config.json and the endorsement policy OR('Org1MSP.peer','Org2MSP.peer') on a two-org network whose
 * orgs each serve their own peer, and a fabric-gateway client per org written like the sample's
 * application-gateway-typescript — submits with transient data and no endorsing organizations, so the gateway plans
 * the endorsers from the chaincode's policy and the endorsement policies of the collections written. In both chaincode
 * modes; plus transactions whose endorsements do not satisfy the policy that applies to their writes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EndorseError, type Contract } from '@hyperledger/fabric-gateway';
import { peer } from '@hyperledger/fabric-protos';
import { startDevnet, type RunningDevnet } from '../src';
import { connectGateway, tempDir, type Connected } from './support/client';
import { endorsingMspIds } from './support/endorsers';

const FOLDER = path.resolve(__dirname, 'fixtures/asset-transfer-private-data');
const COLLECTIONS = readFileSync(path.join(FOLDER, 'collections_config.json'), 'utf8');
const utf8 = new TextDecoder();

/** A submit as the sample makes it, returning who endorsed it (the transaction must commit VALID). */
async function submitted(net: RunningDevnet, contract: Contract, name: string, transientData: Record<string, string>): Promise<string[]> {
    const commit = await contract.submitAsync(name, { transientData });
    const status = await commit.getStatus();
    expect(status.code).toBe(peer.TxValidationCode.VALID);
    return endorsingMspIds(net, status.blockNumber, commit.getTransactionId());
}

/** The endorsers' messages of a refused submit. */
async function refused(submit: Promise<unknown>): Promise<string> {
    const error = await submit.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(EndorseError);
    return (error as EndorseError).details.map((d) => d.message).join('\n');
}

describe.each(['in-process', 'service'] as const)('fabric-samples asset-transfer-private-data, chaincode run %s', (mode) => {
    let net: RunningDevnet;
    const clients: Connected[] = [];
    let org1: Contract;
    let org2: Contract;

    beforeAll(async () => {
        const dir = tempDir('devnet-atpd-');
        const chaincode = { name: 'private', folder: FOLDER, collections: COLLECTIONS, signaturePolicy: "OR('Org1MSP.peer','Org2MSP.peer')" };
        net = await startDevnet({
            dir,
            orgs: 2,
            // Each org's client talks to its own org's peer, as the sample's clients do (test-network's 7051 and 9051).
            orgPorts: [0, 0],
            batchTimeoutMs: 20,
            ...(mode === 'service' ? { services: [{ ...chaincode, logFile: path.join(dir, 'private.server.log') }] } : { chaincodes: [chaincode] }),
        });
        for (const org of [1, 2]) {
            clients.push(connectGateway(net.connection(org)));
        }
        [org1, org2] = clients.map((c) => c.gateway.getNetwork('mychannel').getContract('private')) as [Contract, Contract];
    }, 180_000);

    afterAll(async () => {
        for (const client of clients) {
            client.close();
        }
        await net.stop();
    });

    it('runs the sample application: create, agree, transfer, delete', async () => {
        const asset1 = { objectType: 'ValuableAsset', assetID: 'asset1', color: 'green', size: 20, appraisedValue: 100 };
        const asset2 = { objectType: 'ValuableAsset', assetID: 'asset2', color: 'blue', size: 35, appraisedValue: 727 };
        // CreateAsset writes assetCollection (the chaincode's policy) and Org1MSPPrivateCollection (Org1's own policy);
        // with transient data only Org1 holds both, and Org1 alone satisfies both policies.
        expect(await submitted(net, org1, 'CreateAsset', { asset_properties: JSON.stringify(asset1) })).toEqual(['Org1MSP']);
        expect(await submitted(net, org1, 'CreateAsset', { asset_properties: JSON.stringify(asset2) })).toEqual(['Org1MSP']);
        const range = JSON.parse(utf8.decode(await org1.evaluateTransaction('GetAssetByRange', 'asset1', 'asset3'))) as { assetID: string }[];
        expect(range.map((a) => a.assetID)).toEqual(['asset1', 'asset2']);

        // Without Org2's agreement the transfer fails on Org1's peer.
        expect(await refused(org1.submit('TransferAsset', { transientData: { asset_owner: JSON.stringify({ assetID: 'asset1', buyerMSP: 'Org2MSP' }) } })))
            .toContain('hash of appraised value for asset1 does not exist in collection Org2MSPPrivateCollection. AgreeToTransfer must be called by the buyer first');

        // As Org2: read the asset on Org2's peer, agree to buy it (endorsed by Org2 alone).
        expect(JSON.parse(utf8.decode(await org2.evaluateTransaction('ReadAsset', 'asset1')))).toMatchObject({ assetID: 'asset1', color: 'green', size: 20 });
        expect(await submitted(net, org2, 'AgreeToTransfer', { asset_value: JSON.stringify({ assetID: 'asset1', appraisedValue: 100 }) })).toEqual(['Org2MSP']);

        // As Org1: read the agreement, transfer.
        const agreement = JSON.parse(utf8.decode(await org1.evaluateTransaction('ReadTransferAgreement', 'asset1'))) as { assetID: string; buyerID: string };
        expect(agreement.assetID).toBe('asset1');
        expect(agreement.buyerID).toContain('CN=User1@org2.example.com');
        expect(await submitted(net, org1, 'TransferAsset', { asset_owner: JSON.stringify({ assetID: 'asset1', buyerMSP: 'Org2MSP' }) })).toEqual(['Org1MSP']);
        expect(JSON.parse(utf8.decode(await org1.evaluateTransaction('ReadAsset', 'asset1')))).toMatchObject({ owner: agreement.buyerID });
        expect(utf8.decode(await org1.evaluateTransaction('ReadAssetPrivateDetails', 'Org1MSPPrivateCollection', 'asset1'))).toBe('');
        expect(utf8.decode(await org1.evaluateTransaction('ReadTransferAgreement', 'asset1'))).toBe('');

        // As Org2: the new owner's details are in Org2's collection; Org2 cannot delete Org1's asset2.
        expect(JSON.parse(utf8.decode(await org2.evaluateTransaction('ReadAssetPrivateDetails', 'Org2MSPPrivateCollection', 'asset1')))).toEqual({ assetID: 'asset1', appraisedValue: 100 });
        expect(await refused(org2.submit('DeleteAsset', { transientData: { asset_delete: JSON.stringify({ assetID: 'asset2' }) } })))
            .toContain("asset not found in owner's private Collection Org2MSPPrivateCollection: asset2");

        // As Org1: delete asset2.
        expect(await submitted(net, org1, 'DeleteAsset', { asset_delete: JSON.stringify({ assetID: 'asset2' }) })).toEqual(['Org1MSP']);
        expect(utf8.decode(await org1.evaluateTransaction('ReadAsset', 'asset2'))).toBe('');
    });

    it('invalidates writes endorsed against their policy with ENDORSEMENT_POLICY_FAILURE and writes nothing', async () => {
        const note = (text: string): { transientData: Record<string, string> } => ({ transientData: { note: text } });
        // Org1MSPPrivateCollection's writes need Org1 (its own policy): Org2, which satisfies the chaincode's policy, is
        // not enough.
        const byOrg2 = await org2.submitAsync('PutNote', { arguments: ['Org1MSPPrivateCollection', 'n1'], ...note('not by Org2'), endorsingOrganizations: ['Org2MSP'] });
        expect((await byOrg2.getStatus()).code).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
        expect(utf8.decode(await org1.evaluateTransaction('AssetHash', 'Org1MSPPrivateCollection', 'n1'))).toBe('');
        expect(utf8.decode(await org1.evaluateTransaction('ReadAssetPrivateDetails', 'Org1MSPPrivateCollection', 'n1'))).toBe('');
        // The same write endorsed by Org1 is valid.
        const byOrg1 = await org2.submitAsync('PutNote', { arguments: ['Org1MSPPrivateCollection', 'n1'], ...note('by Org1'), endorsingOrganizations: ['Org1MSP'] });
        expect((await byOrg1.getStatus()).code).toBe(peer.TxValidationCode.VALID);
        expect(utf8.decode(await org1.evaluateTransaction('ReadAssetPrivateDetails', 'Org1MSPPrivateCollection', 'n1'))).toBe('by Org1');
    });
});
