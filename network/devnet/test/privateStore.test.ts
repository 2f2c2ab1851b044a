// SPDX-License-Identifier: Apache-2.0
/**
 * The private data ledger block by block: private writes reach member orgs only and only when they match the hashes in
 * the block, the stored write sets and the values expire with the collection's block-to-live, and transient entries
 * whose transaction never committed are dropped after the retention Fabric uses.
 */
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { OrderedTransaction } from '../src/ledger';
import { PrivateDataLedger, TRANSIENT_RETENTION_BLOCKS } from '../src/privateLedger';
import { encodePrivateWrites, sha256, type CollectionPrivateWrites } from '../src/privateRwset';
import { tempDir } from './support/client';

const ORGS = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
const CONFIG = JSON.stringify([{ name: 'short', policy: "OR('Org1MSP.member','Org2MSP.member')", blockToLive: 2 }]);

function privateWrite(key: string, value: string): CollectionPrivateWrites {
    const writes = [{ key, isDelete: false, value: Buffer.from(value) }];
    return { namespace: 'cc', collection: 'short', writes, rwset: encodePrivateWrites(writes) };
}

function transaction(txId: string, writes: CollectionPrivateWrites): OrderedTransaction {
    const write = writes.writes[0];
    if (write === undefined) {
        throw new Error('no write');
    }
    return {
        txId,
        endorsed: true,
        rwsets: [{
            namespace: 'cc',
            rwset: {
                reads: [],
                writes: [],
                ranges: [],
                collections: [{ collection: 'short', reads: [], writes: [{ keyHash: sha256(write.key), isDelete: false, valueHash: sha256(write.value), isPurge: false }], pvtRwsetHash: sha256(writes.rwset) }],
            },
        }],
    };
}

async function commitBlock(ledger: PrivateDataLedger, blockNumber: number, transactions: readonly OrderedTransaction[]): Promise<void> {
    const prepared = await ledger.prepare(blockNumber, transactions);
    transactions.forEach((tx, txNum) => {
        expect(prepared.check(tx)).toBe('VALID');
        prepared.apply(tx, { blockNum: blockNumber, txNum });
    });
    await ledger.commit(prepared);
}

describe('the private data ledger', () => {
    it('stores matching plaintext on members only and purges values, hashes and write sets after blockToLive', async () => {
        const ledger = await PrivateDataLedger.open(tempDir('pvt-'), 'mychannel', ORGS);
        try {
            await ledger.define('cc', CONFIG);
            const good = privateWrite('k1', 'v1');
            await ledger.keepTransient('tx1', [good]);
            // tx2's transient data is not what its block's hashes say: it is not stored anywhere.
            await ledger.keepTransient('tx2', [privateWrite('k2', 'forged')]);
            await commitBlock(ledger, 1, [transaction('tx1', good), transaction('tx2', privateWrite('k2', 'v2'))]);
            const store = ledger.privateStore;
            expect((await store.private('Org1MSP', 'cc', 'short', 'k1'))?.value.toString()).toBe('v1');
            expect((await store.private('Org2MSP', 'cc', 'short', 'k1'))?.value.toString()).toBe('v1');
            expect(await store.private('Org3MSP', 'cc', 'short', 'k1')).toBeUndefined();
            expect(await store.private('Org1MSP', 'cc', 'short', 'k2')).toBeUndefined();
            expect((await store.hashed([{ namespace: 'cc', collection: 'short', keyHash: sha256('k2') }]))[0]?.valueHash).toEqual(sha256('v2'));
            expect([...(await ledger.blockPrivateData(1, { mspId: 'Org1MSP', role: 'client' })).keys()]).toEqual([0]);
            expect((await ledger.blockPrivateData(1, { mspId: 'Org3MSP', role: 'client' })).size).toBe(0);
            expect(await store.transient(['tx1', 'tx2'])).toEqual([undefined, undefined]);

            // blockToLive 2: committed in block 1, there through block 3, gone when block 4 commits.
            await commitBlock(ledger, 2, []);
            await commitBlock(ledger, 3, []);
            expect((await store.private('Org1MSP', 'cc', 'short', 'k1'))?.value.toString()).toBe('v1');
            await commitBlock(ledger, 4, []);
            expect(await store.private('Org1MSP', 'cc', 'short', 'k1')).toBeUndefined();
            expect(await store.hashed([{ namespace: 'cc', collection: 'short', keyHash: sha256('k1') }, { namespace: 'cc', collection: 'short', keyHash: sha256('k2') }])).toEqual([undefined, undefined]);
            expect((await ledger.blockPrivateData(1, { mspId: 'Org1MSP', role: 'client' })).size).toBe(0);
        } finally {
            await ledger.close();
        }
    });

    it('drops transient entries of transactions that never committed after the retention, and keeps definitions', async () => {
        const dir = tempDir('pvt-');
        let ledger = await PrivateDataLedger.open(dir, 'mychannel', ORGS);
        try {
            await ledger.define('cc', CONFIG);
            await ledger.keepTransient('orphan', [privateWrite('k', 'v')]);
            for (let block = 1; block <= TRANSIENT_RETENTION_BLOCKS; block++) {
                await commitBlock(ledger, block, []);
            }
            expect((await ledger.privateStore.transient(['orphan']))[0]).toBeDefined();
            await ledger.keepTransient('recent', [privateWrite('k', 'v')]);
            for (let block = TRANSIENT_RETENTION_BLOCKS + 1; block <= TRANSIENT_RETENTION_BLOCKS + 100; block++) {
                await commitBlock(ledger, block, []);
            }
            expect(await ledger.privateStore.transient(['orphan'])).toEqual([undefined]);
            expect((await ledger.privateStore.transient(['recent']))[0]).toBeDefined();
            await ledger.close();
            ledger = await PrivateDataLedger.open(dir, 'mychannel', ORGS);
            expect(ledger.collection('cc', 'short')?.blockToLive).toBe(2);
            expect(ledger.collection('cc', '_implicit_org_Org2MSP')).toBeDefined();
        } finally {
            await ledger.close();
        }
        expect(path.isAbsolute(dir)).toBe(true);
    }, 120_000);
});
