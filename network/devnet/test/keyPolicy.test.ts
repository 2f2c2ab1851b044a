// SPDX-License-Identifier: Apache-2.0
/**
 * Key-level endorsement: policies built by fabric-shim's own KeyEndorsementPolicy, evaluated against endorsers; a key's
 * validation parameter checked at commit, kept across value updates and across a restart of the durable ledger.
 */
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DurableLedger } from '../src/durableLedger';
import { keyPolicySatisfied, VALIDATION_PARAMETER, type ValidEndorser } from '../src/keyPolicy';
import { Ledger, type OrderedTransaction } from '../src/ledger';
import { TxSimulator } from '../src/txSimulator';
import { UpdateBatch, WorldState } from '../src/worldState';
import { tempDir } from './support/client';

// The fixture chaincode's fabric-shim: the policy bytes come from the implementation chaincodes use.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { KeyEndorsementPolicy } = require(path.resolve(__dirname, 'fixtures/asset-transfer-basic/node_modules/fabric-shim')) as {
    KeyEndorsementPolicy: new () => { addOrgs(role: string, ...orgs: string[]): void; getPolicy(): Uint8Array };
};

function policyOf(role: string, ...orgs: string[]): Buffer {
    const policy = new KeyEndorsementPolicy();
    policy.addOrgs(role, ...orgs);
    return Buffer.from(policy.getPolicy());
}

const peerOf = (mspId: string): ValidEndorser => ({ mspId, role: 'peer' });

describe('key-level endorsement policies', () => {
    it('need every listed org, in the listed role', () => {
        const both = policyOf('PEER', 'Org1MSP', 'Org2MSP');
        expect(keyPolicySatisfied(both, [peerOf('Org1MSP'), peerOf('Org2MSP')])).toBe(true);
        expect(keyPolicySatisfied(both, [peerOf('Org2MSP'), peerOf('Org3MSP'), peerOf('Org1MSP')])).toBe(true);
        expect(keyPolicySatisfied(both, [peerOf('Org1MSP')])).toBe(false);
        expect(keyPolicySatisfied(both, [peerOf('Org1MSP'), peerOf('Org1MSP')])).toBe(false);
        expect(keyPolicySatisfied(policyOf('MEMBER', 'Org3MSP'), [peerOf('Org3MSP')])).toBe(true);
        expect(keyPolicySatisfied(policyOf('PEER', 'Org3MSP'), [{ mspId: 'Org3MSP', role: 'client' }])).toBe(false);
        expect(keyPolicySatisfied(Buffer.from('not a policy'), [peerOf('Org1MSP')])).toBe(false);
    });

    it('are checked at commit, kept across value updates and across a restart', async () => {
        const location = path.join(tempDir(), 'sbe.db');
        let ledger = await DurableLedger.open(location);
        const commit = async (transactions: OrderedTransaction[]): Promise<readonly string[]> => {
            const validated = await ledger.validate(transactions);
            await ledger.commit(validated, { location: { offset: validated.blockNumber * 10, length: 10 }, headerHash: Buffer.alloc(32), codes: validated.codes.map(() => 0) });
            return validated.codes;
        };
        const write = (txId: string, value: string, endorsers: string[], policy?: Buffer): OrderedTransaction => ({
            txId,
            endorsed: endorsers.length >= 2,
            keyEndorsers: endorsers.map(peerOf),
            rwsets: [{
                namespace: 'basic',
                rwset: {
                    reads: [],
                    ranges: [],
                    writes: [{ key: 'asset', isDelete: false, value: Buffer.from(value) }],
                    ...(policy === undefined ? {} : { metadataWrites: [{ key: 'asset', entries: [{ name: VALIDATION_PARAMETER, value: policy }] }] }),
                },
            }],
        });
        expect(await commit([])).toEqual([]);
        expect(await commit([write('t1', 'v1', ['Org1MSP', 'Org2MSP'], policyOf('PEER', 'Org3MSP'))])).toEqual(['VALID']);
        expect(await commit([write('t2', 'v2', ['Org1MSP', 'Org2MSP']), write('t3', 'v3', ['Org3MSP'])])).toEqual(['ENDORSEMENT_POLICY_FAILURE', 'VALID']);
        await ledger.close();
        ledger = await DurableLedger.open(location);
        try {
            expect((await ledger.stateOf('basic').get('asset'))?.value.toString()).toBe('v3');
            expect(await commit([write('t4', 'v4', ['Org1MSP', 'Org2MSP']), write('t5', 'v5', ['Org3MSP'])])).toEqual(['ENDORSEMENT_POLICY_FAILURE', 'VALID']);
            expect((await ledger.stateOf('basic').get('asset'))?.metadata?.get(VALIDATION_PARAMETER)).toEqual(policyOf('PEER', 'Org3MSP'));
        } finally {
            await ledger.close();
        }
    });

    it('are set without reading the key, replacing its metadata; an empty one is none', async () => {
        const state = new WorldState();
        const batch = new UpdateBatch();
        batch.put('asset', Buffer.from('v1'), { blockNum: 1, txNum: 0 }, new Map([['OTHER', Buffer.from('x')], [VALIDATION_PARAMETER, policyOf('PEER', 'Org3MSP')]]));
        state.apply(batch);
        const simulator = new TxSimulator(state, 'tx', 'couchdb');
        simulator.setStateMetadata('asset', VALIDATION_PARAMETER, policyOf('PEER', 'Org1MSP'));
        const results = simulator.getTxSimulationResults();
        // No MVCC read of the key (tx_simulator.go SetStateMetadata), and the metadata becomes the one entry.
        expect(results.reads).toEqual([]);
        expect(results.metadataWrites).toEqual([{ key: 'asset', entries: [{ name: VALIDATION_PARAMETER, value: policyOf('PEER', 'Org1MSP') }] }]);

        const ledger = new Ledger();
        const tx = (txId: string, endorsers: string[], metadata?: Buffer): OrderedTransaction => ({
            txId,
            endorsed: endorsers.length >= 2,
            keyEndorsers: endorsers.map(peerOf),
            rwsets: [{
                namespace: 'basic',
                rwset: {
                    reads: [],
                    ranges: [],
                    writes: [{ key: 'asset', isDelete: false, value: Buffer.from(txId) }],
                    ...(metadata === undefined ? {} : { metadataWrites: [{ key: 'asset', entries: [{ name: VALIDATION_PARAMETER, value: metadata }] }] }),
                },
            }],
        });
        expect((await ledger.commitBlock([tx('t1', ['Org1MSP', 'Org2MSP'], Buffer.alloc(0))])).codes).toEqual(['VALID']);
        // The key's empty parameter leaves the chaincode's policy in force.
        expect((await ledger.commitBlock([tx('t2', ['Org3MSP']), tx('t3', ['Org1MSP', 'Org2MSP'])])).codes).toEqual(['ENDORSEMENT_POLICY_FAILURE', 'VALID']);
    });
});
