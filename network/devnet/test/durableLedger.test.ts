// SPDX-License-Identifier: Apache-2.0
import { appendFileSync, readFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { common } from '@hyperledger/fabric-protos';
import { blockHeaderHash } from '../src/blockStore';
import { openLedger, type OpenedLedger } from '../src/durableLedger';
import type { OrderedTransaction } from '../src/ledger';
import type { VersionedKV } from '../src/worldState';
import { tempDir } from './support/client';
import { closeLedger, commitNext } from './support/ledgerBlocks';

const VALID = 0;
const MVCC_READ_CONFLICT = 11;
const DUPLICATE_TXID = 2;

function put(txId: string, key: string, value: string, seconds = 1_700_000_000): OrderedTransaction {
    return {
        txId,
        endorsed: true,
        timestamp: { seconds, nanos: 5 },
        rwsets: [{ namespace: 'basic', rwset: { reads: [], ranges: [], writes: [{ key, isDelete: false, value: Buffer.from(value) }] } }],
    };
}

function del(txId: string, key: string): OrderedTransaction {
    return { txId, endorsed: true, timestamp: { seconds: 1_700_000_100, nanos: 0 }, rwsets: [{ namespace: 'basic', rwset: { reads: [], ranges: [], writes: [{ key, isDelete: true, value: Buffer.alloc(0) }] } }] };
}

/** Every committed entry of `namespace`, by a full range scan. */
async function entriesOf(opened: OpenedLedger, namespace: string): Promise<VersionedKV[]> {
    const entries: VersionedKV[] = [];
    for await (const entry of opened.ledger.stateOf(namespace).range('', '')) {
        entries.push(entry);
    }
    return entries;
}


async function fill(dir: string, blocks: number): Promise<void> {
    const opened = await openLedger(dir, 'mychannel');
    await commitNext(opened, []);
    for (let i = 1; i < blocks; i++) {
        await commitNext(opened, [put(`tx${i}`, `asset${i}`, `v${i}`)]);
    }
    await closeLedger(opened);
}

describe('durable ledger', () => {
    it('reopens at its savepoint without reading the blocks below it, with state and transaction index intact', async () => {
        const dir = tempDir();
        await fill(dir, 200);
        const opened = await openLedger(dir, 'mychannel');
        expect(opened.rebuilt).toBe(false);
        expect(opened.pending).toHaveLength(0);
        expect(opened.ledger.height).toBe(200);
        expect(opened.store.height).toBe(200);
        expect(await entriesOf(opened, 'basic')).toHaveLength(199);
        expect(await opened.ledger.stateOf('basic').get('asset150')).toEqual({ value: Buffer.from('v150'), version: { blockNum: 150, txNum: 0 } });
        expect(await opened.ledger.txStatus('tx42')).toEqual({ blockNumber: 42, txNum: 0, code: VALID });
        expect(await opened.ledger.txStatus('never')).toBeUndefined();
        // A transaction id committed before the restart is still a duplicate after it.
        expect(await commitNext(opened, [put('tx42', 'other', 'x')])).toEqual([DUPLICATE_TXID]);
        expect(await opened.ledger.stateOf('basic').get('other')).toBeUndefined();
        // Blocks are read back by location, byte for byte as stored.
        const location = await opened.ledger.blockLocation(150);
        const block = common.Block.deserializeBinary(opened.store.read(location ?? { offset: 0, length: 0 }));
        expect(block.getHeader()?.getNumber()).toBe(150);
        expect(Buffer.from(block.getData()?.getDataList_asU8()[0] ?? []).toString()).toBe('tx150');
        await closeLedger(opened);
    });

    it('commits again only the block appended before a crash that came before its state write', async () => {
        const dir = tempDir();
        await fill(dir, 50);
        const crashed = await openLedger(dir, 'mychannel');
        await commitNext(crashed, [put('late', 'asset1', 'rewritten')], true);
        await closeLedger(crashed);

        const opened = await openLedger(dir, 'mychannel');
        expect(opened.ledger.height).toBe(50);
        expect(opened.store.height).toBe(51);
        expect(opened.pending.map((b) => b.getHeader()?.getNumber())).toEqual([50]);
        // The state is behind the block file: the block is validated again against it and gives the same codes.
        const validated = await opened.ledger.validate([put('late', 'asset1', 'rewritten')]);
        expect(validated.codes).toEqual(['VALID']);
        const stored = opened.pending[0];
        const location = opened.pendingLocations[0];
        if (stored === undefined || location === undefined) {
            throw new Error('no pending block');
        }
        await opened.ledger.commit(validated, { location, headerHash: blockHeaderHash(stored.getHeader() ?? new common.BlockHeader()), codes: [VALID] });
        expect((await opened.ledger.stateOf('basic').get('asset1'))?.value.toString()).toBe('rewritten');
        await closeLedger(opened);

        const again = await openLedger(dir, 'mychannel');
        expect(again.pending).toHaveLength(0);
        expect(again.ledger.height).toBe(51);
        expect((await again.ledger.stateOf('basic').get('asset1'))?.version).toEqual({ blockNum: 50, txNum: 0 });
        await closeLedger(again);
    });

    it('cuts a torn tail after the savepoint and keeps the indexes', async () => {
        const dir = tempDir();
        await fill(dir, 20);
        appendFileSync(path.join(dir, 'mychannel.blocks'), Buffer.from([0, 0, 1, 0, 9, 9, 9]));
        const opened = await openLedger(dir, 'mychannel');
        expect(opened.discardedBytes).toBe(7);
        expect(opened.rebuilt).toBe(false);
        expect(opened.pending).toHaveLength(0);
        expect(opened.ledger.height).toBe(20);
        await commitNext(opened, [put('tx20', 'asset20', 'v20')]);
        await closeLedger(opened);
        const again = await openLedger(dir, 'mychannel');
        expect(again.ledger.height).toBe(21);
        expect(again.store.height).toBe(21);
        await closeLedger(again);
    });

    it('rebuilds the indexes from the block file when the file no longer holds the savepoint block', async () => {
        const dir = tempDir();
        await fill(dir, 30);
        const file = path.join(dir, 'mychannel.blocks');
        const opened = await openLedger(dir, 'mychannel');
        const cut = await opened.ledger.blockLocation(25);
        await closeLedger(opened);
        truncateSync(file, cut?.offset ?? 0);
        expect(readFileSync(file).length).toBe(cut?.offset);

        const reopened = await openLedger(dir, 'mychannel');
        // A state ahead of the blocks cannot stand: it is dropped and every block in the file is committed again.
        expect(reopened.rebuilt).toBe(true);
        expect(reopened.ledger.height).toBe(0);
        expect(await entriesOf(reopened, 'basic')).toEqual([]);
        expect(reopened.pending.map((b) => b.getHeader()?.getNumber())).toEqual([...Array(25).keys()]);
        expect(await reopened.ledger.txStatus('tx3')).toBeUndefined();
        await closeLedger(reopened);
    });

    it('keeps every valid modification of a key, newest first, with transaction id, timestamp and deletes', async () => {
        const dir = tempDir();
        const opened = await openLedger(dir, 'mychannel');
        await commitNext(opened, []);
        await commitNext(opened, [put('a1', 'car', 'red', 100), put('a2', 'bike', 'blue', 101)]);
        await commitNext(opened, [put('a3', 'car', 'green', 102)]);
        // An MVCC conflict is not a modification.
        const stale: OrderedTransaction = {
            txId: 'a4',
            endorsed: true,
            timestamp: { seconds: 103, nanos: 0 },
            rwsets: [{ namespace: 'basic', rwset: { reads: [{ key: 'car', version: { blockNum: 1, txNum: 0 } }], ranges: [], writes: [{ key: 'car', isDelete: false, value: Buffer.from('stale') }] } }],
        };
        expect(await commitNext(opened, [stale])).toEqual([MVCC_READ_CONFLICT]);
        await commitNext(opened, [del('a5', 'car')]);
        await closeLedger(opened);

        const reopened = await openLedger(dir, 'mychannel');
        const history = await reopened.ledger.history('basic', 'car');
        expect(history.map((m) => [m.txId, m.value.toString(), m.isDelete, m.timestamp.seconds, m.version.blockNum])).toEqual([
            ['a5', '', true, 1_700_000_100, 4],
            ['a3', 'green', false, 102, 2],
            ['a1', 'red', false, 100, 1],
        ]);
        expect(history[1]?.timestamp.nanos).toBe(5);
        expect(await reopened.ledger.history('basic', 'bike')).toHaveLength(1);
        expect(await reopened.ledger.history('other', 'car')).toEqual([]);
        // A key that is a prefix of another has its own history only.
        expect(await reopened.ledger.history('basic', 'ca')).toEqual([]);
        await commitNext(reopened, [put('c1', '\u0000owner\u0000alice\u0000', 'x'), put('c2', '\u0000owner\u0000alice\u0000car\u0000', 'y')]);
        expect((await reopened.ledger.history('basic', '\u0000owner\u0000alice\u0000')).map((m) => m.txId)).toEqual(['c1']);
        await closeLedger(reopened);
    });
});
