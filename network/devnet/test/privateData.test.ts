// SPDX-License-Identifier: Apache-2.0
/**
 * Private data collections through an unmodified fabric-gateway client, with a chaincode written the way fabric-samples'
 * asset-transfer-private-data is (details passed as transient data, collections from its collections_config.json), in
 * both chaincode modes: only hashes in blocks, plaintext only on member orgs' peers, a non-member's failing read, the
 * hash visible to every org, the gateway endorsing only on members, the sample's chaincode endorsement policy and the
 * collection endorsement policies,
 * DeliverWithPrivateData, block-to-live, and the data kept across a restart.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EndorseError, GatewayError, type Contract, type Network } from '@hyperledger/fabric-gateway';
import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { startDevnet, type RunningDevnet } from '../src';
import { defined } from '../src/defined';
import { connectGateway, tempDir, type Connected } from './support/client';

const FOLDER = path.resolve(__dirname, 'fixtures/asset-transfer-private-data');
const COLLECTIONS = readFileSync(path.join(FOLDER, 'collections_config.json'), 'utf8');
const utf8 = new TextDecoder();
const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');
const transient = (key: string, value: object): Record<string, Uint8Array> => ({ [key]: Buffer.from(JSON.stringify(value)) });

/** The messages of the endorsers' refusal of a transaction (EndorseError details). */
async function endorseFailure(submitted: Promise<unknown>): Promise<string> {
    const error = await submitted.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(EndorseError);
    return (error as EndorseError).details.map((d) => d.message).join('\n');
}

/** The MSP ids of a committed transaction's endorsers, and its block's bytes. */
async function endorsersOf(network: Network, blockNumber: bigint, txId: string): Promise<{ readonly mspIds: string[]; readonly blockBytes: Buffer }> {
    const events = await network.getBlockEvents({ startBlock: blockNumber });
    try {
        for await (const block of events) {
            const blockBytes = Buffer.from(block.serializeBinary());
            for (const envelope of block.getData()?.getDataList_asU8() ?? []) {
                const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelope).getPayload_asU8());
                if (common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array()).getTxId() !== txId) {
                    continue;
                }
                const action = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0];
                const endorsed = peer.ChaincodeActionPayload.deserializeBinary(action?.getPayload_asU8() ?? new Uint8Array()).getAction();
                const mspIds = (endorsed?.getEndorsementsList() ?? []).map((e) => msp.SerializedIdentity.deserializeBinary(e.getEndorser_asU8()).getMspid());
                return { mspIds: mspIds.sort(), blockBytes };
            }
            throw new Error(`transaction ${txId} is not in block ${blockNumber}`);
        }
    } finally {
        events.close();
    }
    throw new Error('no block');
}

describe.each(['in-process', 'service'] as const)('private data collections, chaincode run %s', (mode) => {
    let net: RunningDevnet;
    const clients: Connected[] = [];
    let org1: Contract;
    let org2: Contract;
    let org3: Contract;
    let network1: Network;
    let network3: Network;

    beforeAll(async () => {
        const dir = tempDir('devnet-pdc-');
        // Deployed as fabric-samples' network script deploys the sample: any one of Org1 and Org2 endorses.
        const chaincode = { name: 'private', folder: FOLDER, collections: COLLECTIONS, signaturePolicy: "OR('Org1MSP.peer','Org2MSP.peer')" };
        net = await startDevnet({
            dir,
            batchTimeoutMs: 20,
            ...(mode === 'service' ? { services: [{ ...chaincode, logFile: path.join(dir, 'private.server.log') }] } : { chaincodes: [chaincode] }),
        });
        for (const org of [1, 2, 3]) {
            clients.push(connectGateway(net.connection(org)));
        }
        [network1, , network3] = clients.map((c) => c.gateway.getNetwork('mychannel')) as [Network, Network, Network];
        [org1, org2, org3] = clients.map((c) => c.gateway.getNetwork('mychannel').getContract('private')) as [Contract, Contract, Contract];
    }, 180_000);

    afterAll(async () => {
        for (const client of clients) {
            client.close();
        }
        await net.stop();
    });

    it('keeps the plaintext out of blocks and on member orgs only; the hash is everybody\'s', async () => {
        const properties = { objectType: 'asset', assetID: 'asset1', color: 'ultramarine', size: 7, appraisedValue: 1234 };
        const commit = await org1.submitAsync('CreateAsset', { transientData: transient('asset_properties', properties) });
        const status = await commit.getStatus();
        expect(status.code).toBe(peer.TxValidationCode.VALID);

        // The gateway endorsed on Org1 alone: with transient data only members of both collections written may endorse,
        // and Org1 satisfies the chaincode's policy (for assetCollection) and Org1MSPPrivateCollection's own.
        const { mspIds, blockBytes } = await endorsersOf(network1, status.blockNumber, commit.getTransactionId());
        expect(mspIds).toEqual(['Org1MSP']);
        // Neither the transient data nor the value is in the block; the key's and the value's hashes are.
        expect(blockBytes.includes(Buffer.from('ultramarine'))).toBe(false);
        expect(blockBytes.includes(Buffer.from('asset_properties'))).toBe(false);
        expect(blockBytes.includes(createHash('sha256').update('asset1').digest())).toBe(true);

        const value = await org1.evaluateTransaction('ReadAsset', 'asset1');
        expect(JSON.parse(utf8.decode(value))).toMatchObject({ assetID: 'asset1', color: 'ultramarine', size: 7 });
        expect(blockBytes.includes(createHash('sha256').update(value).digest())).toBe(true);
        // Org2's peer holds it too.
        expect(utf8.decode(await org2.evaluate('ReadAsset', { arguments: ['asset1'], endorsingOrganizations: ['Org2MSP'] }))).toBe(utf8.decode(value));

        // Org3's peer holds only the hash: a read there fails as on a non-member peer, the hash is there.
        const onOrg3 = org1.evaluate('ReadAsset', { arguments: ['asset1'], endorsingOrganizations: ['Org3MSP'] });
        await expect(onOrg3).rejects.toThrow(GatewayError);
        await expect(onOrg3).rejects.toThrow(`private data matching public hash version is not available. Public hash version = {BlockNum: ${status.blockNumber}, TxNum: 0}, Private data version = <nil>`);
        expect(utf8.decode(await org3.evaluate('AssetHash', { arguments: ['assetCollection', 'asset1'], endorsingOrganizations: ['Org3MSP'] }))).toBe(sha256(value));
        expect(utf8.decode(await org3.evaluate('VerifyAsset', { arguments: ['assetCollection', 'asset1', utf8.decode(value)], endorsingOrganizations: ['Org3MSP'] }))).toBe('true');

        // memberOnlyRead / memberOnlyWrite: Org3's client is refused on any peer.
        await expect(org3.evaluateTransaction('ReadAsset', 'asset1'))
            .rejects.toThrow('tx creator does not have read access permission on privatedata in chaincodeName:private collectionName: assetCollection');
        expect(await endorseFailure(org3.submit('CreateAsset', { transientData: transient('asset_properties', { ...properties, assetID: 'asset3' }) })))
            .toContain('GET_STATE failed: transaction ID: ');
        expect(await endorseFailure(org3.submit('PutNote', { arguments: ['assetCollection', 'asset3'], transientData: { note: Buffer.from('x') } })))
            .toContain('PUT_STATE failed: transaction ID: ');
        expect(await endorseFailure(org3.submit('PutNote', { arguments: ['assetCollection', 'asset3'], transientData: { note: Buffer.from('x') } })))
            .toContain('tx creator does not have write access permission on privatedata in chaincodeName:private collectionName: assetCollection');
        await expect(org1.evaluateTransaction('ReadAssetPrivateDetails', 'noSuchCollection', 'asset1'))
            .rejects.toThrow('collection mychannel/private/noSuchCollection could not be found');
        await expect(org1.evaluateTransaction('AssetHash', 'noSuchCollection', 'asset1'))
            .rejects.toThrow('collection [noSuchCollection] not defined in the collection config for chaincode [private]');
    });

    it('validates hashed reads for MVCC conflicts, serves ranges and queries of the peer\'s own data, refuses writes after a private query', async () => {
        await org1.submit('CreateAsset', { transientData: transient('asset_properties', { objectType: 'asset', assetID: 'asset2', color: 'red', size: 2, appraisedValue: 20 }) });
        await org1.submit('CreateAsset', { transientData: transient('asset_properties', { objectType: 'asset', assetID: 'asset4', color: 'red', size: 4, appraisedValue: 40 }) });
        expect((JSON.parse(utf8.decode(await org1.evaluateTransaction('GetAssetByRange', 'asset2', 'asset9'))) as { assetID: string }[]).map((a) => a.assetID))
            .toEqual(['asset2', 'asset4']);
        expect(JSON.parse(utf8.decode(await org2.evaluate('QueryAssetByColor', { arguments: ['red'], endorsingOrganizations: ['Org2MSP'] })))).toEqual(['asset2', 'asset4']);
        expect(JSON.parse(utf8.decode(await org1.evaluate('GetAssetByRange', { arguments: ['', ''], endorsingOrganizations: ['Org3MSP'] })))).toEqual([]);
        expect(await endorseFailure(org1.submit('UpdateAfterRangeRead', { arguments: ['asset2'] })))
            .toContain('unsuppored transaction. Transaction has already performed queries on pvt data. Writes are not allowed');

        // Two deletes of one asset read its hash at the same version: the second is an MVCC conflict.
        const first = await org1.newProposal('DeleteAsset', { transientData: transient('asset_delete', { assetID: 'asset2' }) }).endorse();
        const second = await org1.newProposal('DeleteAsset', { transientData: transient('asset_delete', { assetID: 'asset2' }) }).endorse();
        expect((await (await first.submit()).getStatus()).code).toBe(peer.TxValidationCode.VALID);
        expect((await (await second.submit()).getStatus()).code).toBe(peer.TxValidationCode.MVCC_READ_CONFLICT);
        expect(utf8.decode(await org1.evaluateTransaction('ReadAsset', 'asset2'))).toBe('');
        expect(utf8.decode(await org3.evaluate('AssetHash', { arguments: ['assetCollection', 'asset2'], endorsingOrganizations: ['Org3MSP'] }))).toBe('');

        await org1.submit('PurgeAsset', { transientData: transient('asset_purge', { assetID: 'asset4' }) });
        expect(utf8.decode(await org1.evaluateTransaction('ReadAsset', 'asset4'))).toBe('');
    });

    it('checks a private key\'s own endorsement policy at commit (SetPrivateDataValidationParameter)', async () => {
        await org1.submit('CreateAsset', { transientData: transient('asset_properties', { objectType: 'asset', assetID: 'sbe1', color: 'green', size: 1, appraisedValue: 10 }) });
        const policyOn = async (org: string): Promise<unknown> => JSON.parse(utf8.decode(await org1.evaluate('GetPrivateKeyPolicy', { arguments: ['assetCollection', 'sbe1'], endorsingOrganizations: [org] })));
        expect(await policyOn('Org1MSP')).toEqual([]);
        // Setting it is a write of the key: without a policy of its own yet, the chaincode's policy (Org1 here) endorses it.
        const set = await org1.submitAsync('SetPrivateKeyPolicy', { arguments: ['assetCollection', 'sbe1', 'Org2MSP'] });
        expect((await set.getStatus()).code).toBe(peer.TxValidationCode.VALID);
        // Every peer holds it with the hashes, also Org3's, which is not a member; a non-member client is refused.
        expect(await policyOn('Org1MSP')).toEqual(['Org2MSP']);
        expect(await policyOn('Org3MSP')).toEqual(['Org2MSP']);
        await expect(org3.evaluateTransaction('GetPrivateKeyPolicy', 'assetCollection', 'sbe1'))
            .rejects.toThrow('tx creator does not have read access permission on privatedata in chaincodeName:private collectionName: assetCollection');
        // The members' values took the new version of the key with it and are still readable.
        expect(JSON.parse(utf8.decode(await org1.evaluateTransaction('ReadAsset', 'sbe1')))).toMatchObject({ color: 'green' });
        expect(JSON.parse(utf8.decode(await org2.evaluate('ReadAsset', { arguments: ['sbe1'], endorsingOrganizations: ['Org2MSP'] })))).toMatchObject({ color: 'green' });

        // The key's policy replaces the chaincode's: Org1 and Org3 without Org2 may not write it, Org2 alone may.
        const note = (text: string): { transientData: Record<string, Uint8Array> } => ({ transientData: { note: Buffer.from(text) } });
        const byMajority = await org1.submitAsync('PutNote', { arguments: ['assetCollection', 'sbe1'], ...note('by Org1 and Org3'), endorsingOrganizations: ['Org1MSP', 'Org3MSP'] });
        expect((await byMajority.getStatus()).code).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
        const byOrg2 = await org1.submitAsync('PutNote', { arguments: ['assetCollection', 'sbe1'], ...note('by Org2'), endorsingOrganizations: ['Org2MSP'] });
        expect((await byOrg2.getStatus()).code).toBe(peer.TxValidationCode.VALID);
        expect(utf8.decode(await org1.evaluate('ReadAssetPrivateDetails', { arguments: ['assetCollection', 'sbe1'], endorsingOrganizations: ['Org1MSP'] }))).toBe('by Org2');
        // A value write keeps the policy, and changing the policy needs it too.
        expect(await policyOn('Org2MSP')).toEqual(['Org2MSP']);
        const reset = await org1.submitAsync('SetPrivateKeyPolicy', { arguments: ['assetCollection', 'sbe1', 'Org1MSP'], endorsingOrganizations: ['Org1MSP', 'Org3MSP'] });
        expect((await reset.getStatus()).code).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
        const handedOver = await org1.submitAsync('SetPrivateKeyPolicy', { arguments: ['assetCollection', 'sbe1', 'Org1MSP'], endorsingOrganizations: ['Org2MSP'] });
        expect((await handedOver.getStatus()).code).toBe(peer.TxValidationCode.VALID);
        expect(await policyOn('Org2MSP')).toEqual(['Org1MSP']);

        // The gateway plans from the key's policy, as Fabric's does from the chaincode interest: a write of a key only
        // Org3 (not a member) may endorse goes to Org3 without being named.
        const toOrg3 = await org1.submitAsync('SetPrivateKeyPolicy', { arguments: ['assetCollection', 'sbe1', 'Org3MSP'], endorsingOrganizations: ['Org1MSP'] });
        expect((await toOrg3.getStatus()).code).toBe(peer.TxValidationCode.VALID);
        const planned = await org1.submitAsync('PutNote', { arguments: ['assetCollection', 'sbe1'], ...note('planned') });
        expect((await planned.getStatus()).code).toBe(peer.TxValidationCode.VALID);
        expect((await endorsersOf(network1, (await planned.getStatus()).blockNumber, planned.getTransactionId())).mspIds).toEqual(['Org3MSP']);
    });

    it('plans endorsements on members for transient data, applies collection endorsement policies, purges after blockToLive', async () => {
        // The collection's endorsement policy (Org2 alone) replaces the chaincode's for its writes.
        const agreed = await org2.submitAsync('AgreeToTransfer', { transientData: transient('asset_value', { assetID: 'asset1', appraisedValue: 200 }), endorsingOrganizations: ['Org2MSP'] });
        const agreedAt = (await agreed.getStatus()).blockNumber;
        expect((await agreed.getStatus()).code).toBe(peer.TxValidationCode.VALID);
        const details = (): Promise<string> => org2.evaluate('ReadAssetPrivateDetails', { arguments: ['Org2MSPPrivateCollection', 'asset1'], endorsingOrganizations: ['Org2MSP'] }).then((b) => utf8.decode(b));
        expect(JSON.parse(await details())).toEqual({ assetID: 'asset1', appraisedValue: 200 });

        // An org's implicit collection: writes need that org's peer (its Endorsement policy), only it holds the value.
        const note = { transientData: { note: Buffer.from('for Org2 only') } };
        const byOrg1 = await org1.submitAsync('PutNote', { arguments: ['_implicit_org_Org2MSP', 'n1'], ...note, endorsingOrganizations: ['Org1MSP'] });
        expect((await byOrg1.getStatus()).code).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
        const byOrg2 = await org1.submitAsync('PutNote', { arguments: ['_implicit_org_Org2MSP', 'n1'], ...note, endorsingOrganizations: ['Org2MSP'] });
        expect((await byOrg2.getStatus()).code).toBe(peer.TxValidationCode.VALID);
        expect(utf8.decode(await org1.evaluate('ReadAssetPrivateDetails', { arguments: ['_implicit_org_Org2MSP', 'n1'], endorsingOrganizations: ['Org2MSP'] }))).toBe('for Org2 only');
        await expect(org1.evaluate('ReadAssetPrivateDetails', { arguments: ['_implicit_org_Org2MSP', 'n1'], endorsingOrganizations: ['Org1MSP'] }))
            .rejects.toThrow('private data matching public hash version is not available');

        // blockToLive 3: the value stays through block agreedAt + 3 and is purged, with its hash, when the next commits.
        let height = BigInt(net.devnet.height);
        while (height <= agreedAt + 4n) {
            expect(JSON.parse(await details())).toEqual({ assetID: 'asset1', appraisedValue: 200 });
            const filler = await org1.submitAsync('AssetHash', { arguments: ['assetCollection', `filler${height}`] });
            height = (await filler.getStatus()).blockNumber + 1n;
        }
        expect(net.devnet.height).toBe(Number(agreedAt) + 5);
        expect(await details()).toBe('');
        expect(utf8.decode(await org3.evaluate('AssetHash', { arguments: ['Org2MSPPrivateCollection', 'asset1'], endorsingOrganizations: ['Org3MSP'] }))).toBe('');
    });

    it('delivers blocks with the private data of the requester\'s collections', async () => {
        const commit = await org1.submitAsync('CreateAsset', { transientData: transient('asset_properties', { objectType: 'asset', assetID: 'asset5', color: 'teal', size: 5, appraisedValue: 50 }) });
        const { blockNumber } = await commit.getStatus();
        const privateDataOf = async (network: Network): Promise<Map<number, InstanceType<typeof ledger.rwset.TxPvtReadWriteSet>>> => {
            const events = await network.getBlockAndPrivateDataEvents({ startBlock: blockNumber });
            try {
                for await (const event of events) {
                    const map = event.getPrivateDataMapMap() as unknown as { keys(): Iterable<number>; get(txNum: number): InstanceType<typeof ledger.rwset.TxPvtReadWriteSet> | undefined };
                    return new Map([...map.keys()].map((txNum) => [txNum, defined(map.get(txNum))]));
                }
            } finally {
                events.close();
            }
            throw new Error('no block');
        };
        const forOrg1 = await privateDataOf(network1);
        const written = defined(forOrg1.get(0)).getNsPvtRwsetList()[0];
        expect(written?.getNamespace()).toBe('private');
        expect(written?.getCollectionPvtRwsetList().map((c) => c.getCollectionName()).sort()).toEqual(['Org1MSPPrivateCollection', 'assetCollection']);
        const assets = written?.getCollectionPvtRwsetList().find((c) => c.getCollectionName() === 'assetCollection');
        const writes = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(defined(assets).getRwset_asU8()).getWritesList();
        expect(writes.map((w) => w.getKey())).toEqual(['asset5']);
        expect(JSON.parse(utf8.decode(writes[0]?.getValue_asU8())) as object).toMatchObject({ color: 'teal' });
        expect((await privateDataOf(network3)).size).toBe(0);

        // After a purge commits, no block's private data carries the purged key's values, the purge's own included.
        const noteOf = async (text: string): Promise<bigint> => {
            const written = await org1.submitAsync('PutNote', { arguments: ['assetCollection', 'asset5'], transientData: { note: Buffer.from(text) } });
            return (await written.getStatus()).blockNumber;
        };
        const second = await noteOf('second version of asset5');
        const purged = await org1.submitAsync('PurgeAsset', { transientData: transient('asset_purge', { assetID: 'asset5' }) });
        const purgedAt = (await purged.getStatus()).blockNumber;
        expect((await purged.getStatus()).code).toBe(peer.TxValidationCode.VALID);
        const third = await noteOf('written again after the purge');
        for (const [block, keys] of [[blockNumber, []], [second, []], [purgedAt, []], [third, ['asset5']]] as const) {
            const events = await network1.getBlockAndPrivateDataEvents({ startBlock: block });
            try {
                for await (const event of events) {
                    const map = event.getPrivateDataMapMap() as unknown as { get(txNum: number): InstanceType<typeof ledger.rwset.TxPvtReadWriteSet> | undefined };
                    const collection = defined(map.get(0)?.getNsPvtRwsetList()[0]?.getCollectionPvtRwsetList().find((c) => c.getCollectionName() === 'assetCollection'));
                    expect(ledger.rwset.kvrwset.KVRWSet.deserializeBinary(collection.getRwset_asU8()).getWritesList().map((w) => w.getKey())).toEqual(keys);
                    const bytes = Buffer.from(event.serializeBinary());
                    expect(bytes.includes(Buffer.from('teal'))).toBe(false);
                    expect(bytes.includes(Buffer.from('second version of asset5'))).toBe(false);
                    break;
                }
            } finally {
                events.close();
            }
        }
    });
});

describe('private data dissemination (requiredPeerCount)', () => {
    it('fails an endorsement whose private data cannot reach requiredPeerCount other member peers, as gossip does', async () => {
        // assetCollection's members are Org1 and Org2: an Org1 peer knows of one other member peer, not two.
        const config = (JSON.parse(COLLECTIONS) as { name: string }[]).map((c) => (c.name === 'assetCollection' ? { ...c, requiredPeerCount: 2, maxPeerCount: 2 } : c));
        const net = await startDevnet({ dir: tempDir('devnet-pdc-rpc-'), batchTimeoutMs: 20, chaincodes: [{ name: 'private', folder: FOLDER, collections: JSON.stringify(config) }] });
        const client = connectGateway(net.connection(1));
        try {
            const contract = client.gateway.getNetwork('mychannel').getContract('private');
            const proposal = contract.newProposal('CreateAsset', { transientData: transient('asset_properties', { objectType: 'asset', assetID: 'a1', color: 'red', size: 1, appraisedValue: 1 }) });
            const message = await endorseFailure(proposal.endorse());
            expect(message).toContain(`error in simulation: failed to distribute private collection, txID ${proposal.getTransactionId()}, channel mychannel: could not build private data dissemination plan for chaincode private and collection assetCollection: required to disseminate to at least 2 peers, but know of only 1 eligible peers`);
            // Nothing was written.
            expect(utf8.decode(await contract.evaluateTransaction('ReadAsset', 'a1'))).toBe('');
        } finally {
            client.close();
            await net.stop();
        }
    }, 180_000);
});
