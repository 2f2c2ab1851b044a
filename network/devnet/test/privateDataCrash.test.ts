// SPDX-License-Identifier: Apache-2.0
/**
 * Private data survives `kill -9`: the devnet CLI runs a fabric-samples-style private data chaincode with its
 * collections_config.json and the sample's endorsement policy; after SIGKILL and a restart on the same directory the member orgs still hold the values, the
 * others still only the hashes, and a transaction endorsed before the kill (its private writes waiting in the transient
 * store) commits afterwards with its private data; a private key's endorsement policy still holds, and a purged key's
 * values are still absent from the private data DeliverWithPrivateData serves.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ledger, peer } from '@hyperledger/fabric-protos';
import type { Network } from '@hyperledger/fabric-gateway';
import type { ConnectionSettings } from '../src';
import { defined } from '../src/defined';
import { connectGateway, tempDir } from './support/client';
import { exited, spawnCli } from './support/spawn';

const FOLDER = path.resolve(__dirname, 'fixtures/asset-transfer-private-data');
const utf8 = new TextDecoder();
const transient = (key: string, value: object): Record<string, Uint8Array> => ({ [key]: Buffer.from(JSON.stringify(value)) });

/** The devnet's JSON settings line (chaincode servers run with --service share its stdout and may print first). */
function settingsLine(child: ChildProcess): Promise<string> {
    return new Promise((resolve, reject) => {
        let out = '';
        child.stdout?.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            const line = out.split('\n').find((l) => l.startsWith('{"pid":'));
            if (line !== undefined) {
                resolve(line);
            }
        });
        child.once('exit', (code) => {
            reject(new Error(`devnet exited with ${code}`));
        });
    });
}

async function start(dir: string, extra: readonly string[]): Promise<{ readonly child: ChildProcess; readonly orgs: readonly ConnectionSettings[] }> {
    const child = spawnCli(['up', '--dir', dir, '--port', '0', '--json', '--batch-timeout', '10', ...extra]);
    const parsed = JSON.parse(await settingsLine(child)) as { orgs: ConnectionSettings[] };
    return { child, orgs: parsed.orgs };
}

/** The keys written in transaction 0's assetCollection in block `blockNumber`, as DeliverWithPrivateData serves them. */
async function privateWritesOf(network: Network, blockNumber: bigint): Promise<string[]> {
    const events = await network.getBlockAndPrivateDataEvents({ startBlock: blockNumber });
    try {
        for await (const event of events) {
            const map = event.getPrivateDataMapMap() as unknown as { get(txNum: number): InstanceType<typeof ledger.rwset.TxPvtReadWriteSet> | undefined };
            // The collection is served (the creation's write set is there), only without the purged key's write.
            const collection = defined(map.get(0)?.getNsPvtRwsetList()[0]?.getCollectionPvtRwsetList().find((c) => c.getCollectionName() === 'assetCollection'));
            return ledger.rwset.kvrwset.KVRWSet.deserializeBinary(collection.getRwset_asU8()).getWritesList().map((w) => w.getKey());
        }
    } finally {
        events.close();
    }
    throw new Error('no block');
}

describe.each(['in-process', 'service'] as const)('private data across kill -9, chaincode run %s', (mode) => {
    const children: ChildProcess[] = [];
    afterAll(() => {
        for (const child of children) {
            child.kill('SIGKILL');
        }
    });

    it('keeps member orgs\' values, the hashes and the transient store', async () => {
        const dir = tempDir('devnet-pdc-crash-');
        const first = await start(dir, [
            '--chaincode', `private=${FOLDER}`,
            '--collections-config', `private=${path.join(FOLDER, 'collections_config.json')}`,
            // As fabric-samples' network script deploys the sample.
            '--signature-policy', "private=OR('Org1MSP.peer','Org2MSP.peer')",
            ...(mode === 'service' ? ['--service'] : []),
        ]);
        children.push(first.child);
        const org1 = connectGateway(first.orgs[0] as ConnectionSettings);
        const contract = org1.gateway.getNetwork('mychannel').getContract('private');
        await contract.submit('CreateAsset', { transientData: transient('asset_properties', { objectType: 'asset', assetID: 'kept', color: 'amber', size: 3, appraisedValue: 30 }) });
        const value = await contract.evaluateTransaction('ReadAsset', 'kept');
        expect((await (await contract.submitAsync('SetPrivateKeyPolicy', { arguments: ['assetCollection', 'kept', 'Org2MSP'] })).getStatus()).code).toBe(peer.TxValidationCode.VALID);
        const created = await contract.submitAsync('CreateAsset', { transientData: transient('asset_properties', { objectType: 'asset', assetID: 'purged', color: 'cerise', size: 5, appraisedValue: 50 }) });
        const createdAt = (await created.getStatus()).blockNumber;
        await contract.submit('PurgeAsset', { transientData: transient('asset_purge', { assetID: 'purged' }) });
        // Endorsed, not yet submitted: its private writes wait in the endorsing peers' transient store.
        const pending = await contract.newProposal('CreateAsset', { transientData: transient('asset_properties', { objectType: 'asset', assetID: 'pending', color: 'jade', size: 4, appraisedValue: 40 }) }).endorse();
        first.child.kill('SIGKILL');
        await exited(first.child);
        org1.close();

        // Restarted without the flags: the chaincode, its collections and its endorsement policy are remembered in the
        // directory.
        const second = await start(dir, []);
        children.push(second.child);
        const again = connectGateway(second.orgs[0] as ConnectionSettings);
        const org3 = connectGateway(second.orgs[2] as ConnectionSettings);
        try {
            const contract2 = again.gateway.getNetwork('mychannel').getContract('private');
            expect(utf8.decode(await contract2.evaluateTransaction('ReadAsset', 'kept'))).toBe(utf8.decode(value));
            expect(utf8.decode(await contract2.evaluate('ReadAsset', { arguments: ['kept'], endorsingOrganizations: ['Org2MSP'] }))).toBe(utf8.decode(value));
            await expect(contract2.evaluate('ReadAsset', { arguments: ['kept'], endorsingOrganizations: ['Org3MSP'] }))
                .rejects.toThrow('private data matching public hash version is not available');
            const hash = await org3.gateway.getNetwork('mychannel').getContract('private').evaluate('AssetHash', { arguments: ['assetCollection', 'kept'], endorsingOrganizations: ['Org3MSP'] });
            expect(utf8.decode(hash)).toBe(createHash('sha256').update(value).digest('hex'));

            // The key's policy (Org2) still replaces the chaincode's.
            expect(JSON.parse(utf8.decode(await contract2.evaluate('GetPrivateKeyPolicy', { arguments: ['assetCollection', 'kept'], endorsingOrganizations: ['Org3MSP'] })))).toEqual(['Org2MSP']);
            const note = { arguments: ['assetCollection', 'kept'], transientData: { note: Buffer.from('after the restart') } };
            expect((await (await contract2.submitAsync('PutNote', { ...note, endorsingOrganizations: ['Org1MSP', 'Org3MSP'] })).getStatus()).code).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
            expect((await (await contract2.submitAsync('PutNote', { ...note, endorsingOrganizations: ['Org2MSP'] })).getStatus()).code).toBe(peer.TxValidationCode.VALID);
            // The purged asset's creation is served without its value.
            expect(await privateWritesOf(again.gateway.getNetwork('mychannel'), createdAt)).toEqual([]);

            // The transaction endorsed before the kill commits now, and its private data reaches the members.
            const restored = again.gateway.newTransaction(pending.getBytes());
            expect((await (await restored.submit()).getStatus()).code).toBe(peer.TxValidationCode.VALID);
            expect(JSON.parse(utf8.decode(await contract2.evaluateTransaction('ReadAsset', 'pending')))).toMatchObject({ color: 'jade', size: 4 });
        } finally {
            again.close();
            org3.close();
            second.child.kill('SIGTERM');
            await exited(second.child);
        }
        // Two devnet starts (each org's chaincode instance loading): generous under load.
    }, 240_000);
});
