// SPDX-License-Identifier: Apache-2.0
/**
 * The private data ledger block by block: private writes reach member orgs only and only when they match the hashes in
 * the block, the stored write sets and the values expire with the collection's block-to-live, and transient entries
 * whose transaction never committed are dropped after the retention Fabric uses; a private key's validation parameter
 * (key-level endorsement) is kept with its hash, checked in block order and across a reopen.
 */
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ClassicLevel } from 'classic-level';
import type { OrderedTransaction } from '../src/ledger';
import { PrivateDataLedger, TRANSIENT_RETENTION_BLOCKS } from '../src/privateLedger';
import { VALIDATION_PARAMETER } from '../src/keyPolicy';
import { decodeTxPvtRwset, encodePrivateWrites, sha256, type CollectionPrivateWrites } from '../src/privateRwset';
import { tempDir } from './support/client';

// The fixture chaincode's fabric-shim: the policy bytes come from the implementation chaincodes use.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { KeyEndorsementPolicy } = require(path.resolve(__dirname, 'fixtures/asset-transfer-private-data/node_modules/fabric-shim')) as {
    KeyEndorsementPolicy: new () => { addOrgs(role: string, ...orgs: string[]): void; getPolicy(): Uint8Array };
};

const ORGS = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
const CONFIG = JSON.stringify([{ name: 'short', policy: "OR('Org1MSP.member','Org2MSP.member')", blockToLive: 2 }]);

function privateWrite(key: string, value: string, collection = 'short'): CollectionPrivateWrites {
    const writes = [{ key, isDelete: false, value: Buffer.from(value) }];
    return { namespace: 'cc', collection, writes, rwset: encodePrivateWrites(writes) };
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
                collections: [{ collection: writes.collection, reads: [], writes: [{ keyHash: sha256(write.key), isDelete: false, valueHash: sha256(write.value), isPurge: false }], pvtRwsetHash: sha256(writes.rwset) }],
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

    it('keeps a private key\'s validation parameter with its hash and checks writes against it, in block order and after a reopen', async () => {
        const dir = tempDir('pvt-');
        let ledger = await PrivateDataLedger.open(dir, 'mychannel', ORGS);
        const policy = new KeyEndorsementPolicy();
        policy.addOrgs('PEER', 'Org3MSP');
        const parameter = Buffer.from(policy.getPolicy());
        // A transaction setting k1's parameter alone: the hashed metadata write, and k1 named in the private write set.
        const metadataOnly = { namespace: 'cc', collection: 'forever', writes: [], metadataKeys: ['k1'], rwset: encodePrivateWrites([], ['k1']) };
        const setParameter: OrderedTransaction = {
            txId: 'tx-sbe',
            endorsed: true,
            rwsets: [{ namespace: 'cc', rwset: { reads: [], writes: [], ranges: [], collections: [{ collection: 'forever', reads: [], writes: [], metadataWrites: [{ keyHash: sha256('k1'), entries: [{ name: VALIDATION_PARAMETER, value: parameter }] }], pvtRwsetHash: sha256(metadataOnly.rwset) }] } }],
        };
        const write = (txId: string, value: string): { readonly tx: OrderedTransaction; readonly writes: CollectionPrivateWrites } => {
            const writes = privateWrite('k1', value, 'forever');
            return { tx: transaction(txId, writes), writes };
        };
        const majority = [{ mspId: 'Org1MSP', role: 'peer' as const }, { mspId: 'Org2MSP', role: 'peer' as const }];
        const org3 = [{ mspId: 'Org3MSP', role: 'peer' as const }];
        try {
            await ledger.define('cc', JSON.stringify([{ name: 'forever', policy: "OR('Org1MSP.member','Org2MSP.member')" }]));
            const first = write('tx1', 'v1');
            await ledger.keepTransient('tx1', [first.writes]);
            await commitBlock(ledger, 1, [first.tx]);
            await ledger.keepTransient('tx-sbe', [metadataOnly]);
            const second = write('tx2', 'v2');
            const block2 = await ledger.prepare(2, [setParameter, second.tx]);
            expect(block2.endorsement(setParameter, majority)).toEqual({ satisfied: true, needsChaincodePolicy: true, wrote: true });
            block2.apply(setParameter, { blockNum: 2, txNum: 0 });
            // The next transaction of the same block already needs the new parameter.
            expect(block2.endorsement(second.tx, majority)).toEqual({ satisfied: false, needsChaincodePolicy: false, wrote: true });
            expect(block2.endorsement(second.tx, org3)).toEqual({ satisfied: true, needsChaincodePolicy: false, wrote: true });
            await ledger.commit(block2);
            // The members' values moved to the key's new version; the parameter is every peer's, with the hash.
            const [hashed] = await ledger.privateStore.hashed([{ namespace: 'cc', collection: 'forever', keyHash: sha256('k1') }]);
            expect(hashed?.version).toEqual({ blockNum: 2, txNum: 0 });
            expect(hashed?.valueHash).toEqual(sha256('v1'));
            expect(hashed?.metadata?.get(VALIDATION_PARAMETER)).toEqual(parameter);
            expect(await ledger.privateStore.private('Org1MSP', 'cc', 'forever', 'k1')).toMatchObject({ version: { blockNum: 2, txNum: 0 } });
            expect((await ledger.blockPrivateData(2, { mspId: 'Org1MSP', role: 'client' })).size).toBe(1);
            await ledger.close();

            ledger = await PrivateDataLedger.open(dir, 'mychannel', ORGS);
            const third = write('tx3', 'v3');
            await ledger.keepTransient('tx3', [third.writes]);
            const block3 = await ledger.prepare(3, [third.tx]);
            expect(block3.endorsement(third.tx, majority).satisfied).toBe(false);
            expect(block3.endorsement(third.tx, org3).satisfied).toBe(true);
            block3.apply(third.tx, { blockNum: 3, txNum: 0 });
            await ledger.commit(block3);
            // A value write keeps the key's metadata.
            const [after] = await ledger.privateStore.hashed([{ namespace: 'cc', collection: 'forever', keyHash: sha256('k1') }]);
            expect(after?.valueHash).toEqual(sha256('v3'));
            expect(after?.metadata?.get(VALIDATION_PARAMETER)).toEqual(parameter);
        } finally {
            await ledger.close();
        }
    });

    it('removes a purged key\'s writes from the stored write sets of earlier blocks and of its own block, durably', async () => {
        const dir = tempDir('pvt-');
        let ledger = await PrivateDataLedger.open(dir, 'mychannel', ORGS);
        const purge = (txId: string): { readonly tx: OrderedTransaction; readonly writes: CollectionPrivateWrites } => {
            const plain = [{ key: 'k', isDelete: true, value: Buffer.alloc(0) }];
            const writes = { namespace: 'cc', collection: 'forever', writes: plain, rwset: encodePrivateWrites(plain) };
            return {
                writes,
                tx: { txId, endorsed: true, rwsets: [{ namespace: 'cc', rwset: { reads: [], writes: [], ranges: [], collections: [{ collection: 'forever', reads: [], writes: [{ keyHash: sha256('k'), isDelete: true, valueHash: Buffer.alloc(0), isPurge: true }], pvtRwsetHash: sha256(writes.rwset) }] } }] },
            };
        };
        const writeOf = async (txId: string, key: string, value: string): Promise<OrderedTransaction> => {
            const writes = privateWrite(key, value, 'forever');
            await ledger.keepTransient(txId, [writes]);
            return transaction(txId, writes);
        };
        const keysIn = async (block: number): Promise<string[][]> => [...(await ledger.blockPrivateData(block, { mspId: 'Org1MSP', role: 'client' })).values()]
            .map((bytes) => decodeTxPvtRwset(bytes).flatMap((c) => c.writes.map((w) => w.key)));
        try {
            await ledger.define('cc', JSON.stringify([{ name: 'forever', policy: "OR('Org1MSP.member','Org2MSP.member')" }]));
            await commitBlock(ledger, 1, [await writeOf('tx1', 'k', 'first'), await writeOf('tx2', 'other', 'kept')]);
            await commitBlock(ledger, 2, [await writeOf('tx3', 'k', 'second')]);
            await ledger.close();
            // As a store written before write sets were indexed by key: opening it indexes them.
            const db = new ClassicLevel<Buffer, Buffer>(path.join(dir, 'mychannel.pvt.db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
            const indexed = await db.keys({ gte: Buffer.from('L'), lt: Buffer.from('M') }).all();
            expect(indexed).toHaveLength(3);
            await db.batch([...indexed, Buffer.from('Q')].map((key) => ({ type: 'del' as const, key })));
            await db.close();
            ledger = await PrivateDataLedger.open(dir, 'mychannel', ORGS);
            const purging = purge('tx5');
            await ledger.keepTransient('tx5', [purging.writes]);
            // Block 3: a write of k, its purge, then a write of k after the purge, which stays.
            await commitBlock(ledger, 3, [await writeOf('tx4', 'k', 'third'), purging.tx, await writeOf('tx6', 'k', 'after')]);
            await ledger.close();
            ledger = await PrivateDataLedger.open(dir, 'mychannel', ORGS);
            expect(await keysIn(1)).toEqual([[], ['other']]);
            expect(await keysIn(2)).toEqual([[]]);
            expect(await keysIn(3)).toEqual([[], [], ['k']]);
            expect((await ledger.privateStore.private('Org1MSP', 'cc', 'forever', 'k'))?.value.toString()).toBe('after');
            // A second purge finds only what was written since the first.
            const again = purge('tx7');
            await ledger.keepTransient('tx7', [again.writes]);
            await commitBlock(ledger, 4, [again.tx]);
            expect(await keysIn(3)).toEqual([[], [], []]);
            expect(await keysIn(1)).toEqual([[], ['other']]);
            expect(await ledger.privateStore.private('Org1MSP', 'cc', 'forever', 'k')).toBeUndefined();
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
