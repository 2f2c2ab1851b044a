// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { compareKeys, Ledger, TxSimulator, type ReadWriteSet } from '../support/fabric';
import { assertUtf8StringFields, checkKeyValue } from '../../network/devnet/src/keys';

/** The chaincode namespace the tests write in. */
const NS = 'cc';

/** Simulates `body` against the ledger's committed state and returns the read/write set. */
async function simulate(ledger: Ledger, body: (sim: TxSimulator) => unknown, txId = 'tx'): Promise<ReadWriteSet> {
    const sim = new TxSimulator(ledger.stateOf(NS), txId, 'couchdb');
    await body(sim);
    const rwset = sim.getTxSimulationResults();
    sim.done();
    return rwset;
}

async function drain(sim: TxSimulator, startKey: string, endKey: string, limit = Infinity): Promise<string[]> {
    const iterator = sim.getStateRangeScanIterator(startKey, endKey);
    const keys: string[] = [];
    while (keys.length < limit) {
        const kv = await iterator.next();
        if (kv === undefined) {
            break;
        }
        keys.push(kv.key);
    }
    iterator.close();
    return keys;
}

async function seed(ledger: Ledger, keys: readonly string[]): Promise<void> {
    const { codes } = await ledger.commitBlock([{
        txId: `seed-${ledger.height}`,
        endorsed: true,
        rwsets: [{
            namespace: NS,
            rwset: await simulate(ledger, (sim) => {
                keys.forEach((key) => {
                    sim.setState(key, Buffer.from(`v-${key}`));
                });
            }),
        }],
    }]);
    expect(codes).toEqual(['VALID']);
}

describe('compareKeys', () => {
    it('orders keys like their UTF-8 bytes (Go strings.Compare)', () => {
        const codePoint = fc.oneof(
            fc.constantFrom(0x61, 0xe9, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x10ffff),
            fc.integer({ min: 0, max: 0x10ffff }).filter((cp) => cp < 0xd800 || cp > 0xdfff),
        );
        const chars = codePoint.map((cp) => String.fromCodePoint(cp));
        const key = fc.array(chars, { maxLength: 5 }).map((parts) => parts.join(''));
        fc.assert(fc.property(key, key, (a, b) => compareKeys(a, b) === Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))), { numRuns: 1000 });
    });
});

describe('TxSimulator', () => {
    it('sorts the read and write sets by key, keeps the last write of a key and dedupes identical range queries', async () => {
        const ledger = new Ledger();
        await seed(ledger, ['b', 'a']);
        const rwset = await simulate(ledger, async (sim) => {
            await sim.getState('b');
            await sim.getState('zz');
            await sim.getState('a');
            sim.setState('y', Buffer.from('1'));
            sim.setState('x', Buffer.from('2'));
            sim.setState('y', Buffer.from('3'));
            sim.deleteState('a');
            await drain(sim, 'a', 'c');
            await drain(sim, 'a', 'c');
            await drain(sim, 'a', 'c', 1);
        });
        expect(rwset.reads.map((r) => [r.key, r.version])).toEqual([['a', { blockNum: 1, txNum: 0 }], ['b', { blockNum: 1, txNum: 0 }], ['zz', null]]);
        expect(rwset.writes.map((w) => [w.key, w.isDelete, w.value.toString()])).toEqual([['a', true, ''], ['x', false, '2'], ['y', false, '3']]);
        expect(rwset.ranges.map((q) => [q.startKey, q.endKey, q.itrExhausted, q.reads.length])).toEqual([['a', 'c', true, 2], ['a', 'a', false, 1]]);
    });

    it('refuses use after done() and a second results call', async () => {
        const sim = new TxSimulator(new Ledger().stateOf(NS), 'tx', 'couchdb');
        sim.getTxSimulationResults();
        expect(() => sim.getTxSimulationResults()).toThrow('this function should only be called once on a transaction simulator instance');
        sim.done();
        await expect(sim.getState('k')).rejects.toThrow('this instance should not be used after calling Done()');
    });

    it('limits paginated scans to a page and reports the next key as bookmark', async () => {
        const ledger = new Ledger();
        await seed(ledger, ['p1', 'p2', 'p3']);
        const sim = new TxSimulator(ledger.stateOf(NS), 'tx', 'couchdb');
        const page = sim.getStateRangeScanIteratorWithPagination('p', 'q', 2);
        expect([(await page.next())?.key, (await page.next())?.key, await page.next()]).toEqual(['p1', 'p2', undefined]);
        expect(await page.getBookmarkAndClose()).toBe('p3');
        expect(() => {
            sim.setState('k', Buffer.from('v'));
        }).toThrow('txid [tx]: unsuppored transaction. Transaction has already performed a paginated query. Writes are not allowed');
    });
});

describe('block validation', () => {
    it('invalidates a read of a key any earlier valid transaction of the block wrote, even a delete of an absent key', async () => {
        const ledger = new Ledger();
        const blindDelete = await simulate(ledger, (sim) => {
            sim.deleteState('ghost');
        });
        const readAbsent = await simulate(ledger, async (sim) => {
            expect(await sim.getState('ghost')).toBeUndefined();
            sim.setState('seen', Buffer.from('no ghost'));
        });
        expect((await ledger.commitBlock([
            { txId: 't1', endorsed: true, rwsets: [{ namespace: NS, rwset: blindDelete }] },
            { txId: 't2', endorsed: true, rwsets: [{ namespace: NS, rwset: readAbsent }] },
        ])).codes).toEqual(['VALID', 'MVCC_READ_CONFLICT']);
    });

    it('re-executes range queries over committed state plus the block\'s earlier writes and deletes', async () => {
        const ledger = new Ledger();
        await seed(ledger, ['k1', 'k2', 'k3', 'k4']);
        const full = await simulate(ledger, (sim) => drain(sim, 'k1', 'k9'));
        const partial = await simulate(ledger, (sim) => drain(sim, 'k1', 'k9', 2));
        expect(partial.ranges[0]).toMatchObject({ endKey: 'k2', itrExhausted: false });
        const deleteK4 = await simulate(ledger, (sim) => {
            sim.deleteState('k4');
        });
        const deleteK2 = await simulate(ledger, (sim) => {
            sim.deleteState('k2');
        });
        expect((await ledger.commitBlock([
            { txId: 'd4', endorsed: true, rwsets: [{ namespace: NS, rwset: deleteK4 }] },
            { txId: 'full', endorsed: true, rwsets: [{ namespace: NS, rwset: full }] },
            { txId: 'partial', endorsed: true, rwsets: [{ namespace: NS, rwset: partial }] },
        ])).codes).toEqual(['VALID', 'PHANTOM_READ_CONFLICT', 'VALID']);
        const partialAgain = await simulate(ledger, (sim) => drain(sim, 'k1', 'k9', 2));
        expect((await ledger.commitBlock([
            { txId: 'd2', endorsed: true, rwsets: [{ namespace: NS, rwset: deleteK2 }] },
            { txId: 'partial2', endorsed: true, rwsets: [{ namespace: NS, rwset: partialAgain }] },
        ])).codes).toEqual(['VALID', 'PHANTOM_READ_CONFLICT']);
    });

    it('checks duplicates against the ledger before endorsement, then within the block among the valid ones', async () => {
        const ledger = new Ledger();
        const rwset = await simulate(ledger, (sim) => {
            sim.setState('k', Buffer.from('v'));
        });
        expect((await ledger.commitBlock([
            { txId: 'a', endorsed: false, rwsets: [{ namespace: NS, rwset }] },
            { txId: 'a', endorsed: true, rwsets: [{ namespace: NS, rwset }] },
            { txId: 'a', endorsed: true, rwsets: [{ namespace: NS, rwset }] },
        ])).codes).toEqual(['ENDORSEMENT_POLICY_FAILURE', 'VALID', 'DUPLICATE_TXID']);
        expect(ledger.txStatus('a')).toEqual({ blockNumber: 1, txNum: 0, validationCode: 'ENDORSEMENT_POLICY_FAILURE' });
        expect((await ledger.commitBlock([{ txId: 'a', endorsed: false, rwsets: [{ namespace: NS, rwset }] }])).codes).toEqual(['DUPLICATE_TXID']);
        expect(ledger.stateOf(NS).lookup('k')?.version).toEqual({ blockNum: 1, txNum: 1 });
    });
});

describe('namespaces', () => {
    it('keeps each chaincode\'s state apart and validates reads in the namespace they were made in', async () => {
        const ledger = new Ledger();
        const write = (namespace: string, value: string): { namespace: string; rwset: ReadWriteSet } => {
            const sim = new TxSimulator(ledger.stateOf(namespace), 'w', 'couchdb');
            sim.setState('k', Buffer.from(value));
            return { namespace, rwset: sim.getTxSimulationResults() };
        };
        expect((await ledger.commitBlock([{ txId: 'a', endorsed: true, rwsets: [write('cc1', 'one')] }])).codes).toEqual(['VALID']);
        expect(ledger.stateOf('cc1').lookup('k')?.value.toString()).toBe('one');
        expect(ledger.stateOf('cc2').lookup('k')).toBeUndefined();
        // A read of cc2's (absent) k does not conflict with cc1's k being written in the same block.
        const readAbsentInCc2 = await (async () => {
            const sim = new TxSimulator(ledger.stateOf('cc2'), 'r', 'couchdb');
            await sim.getState('k');
            sim.setState('other', Buffer.from('x'));
            return { namespace: 'cc2', rwset: sim.getTxSimulationResults() };
        })();
        expect((await ledger.commitBlock([
            { txId: 'b', endorsed: true, rwsets: [write('cc1', 'two')] },
            { txId: 'c', endorsed: true, rwsets: [readAbsentInCc2] },
        ])).codes).toEqual(['VALID', 'VALID']);
        // The same read now conflicts once cc2's k is written before it in the block.
        expect((await ledger.commitBlock([
            { txId: 'd', endorsed: true, rwsets: [write('cc2', 'three')] },
            { txId: 'e', endorsed: true, rwsets: [readAbsentInCc2] },
        ])).codes).toEqual(['VALID', 'MVCC_READ_CONFLICT']);
        expect(ledger.stateOf('cc1').lookup('k')?.value.toString()).toBe('two');
        expect(ledger.stateOf('cc2').lookup('k')?.value.toString()).toBe('three');
    });
});

describe('key validation', () => {
    it('applies the CouchDB rules only in couchdb mode', () => {
        expect(checkKeyValue('couchdb', 'ok', Buffer.from('{"a":{"_nested":1}}'))).toBeUndefined();
        expect(checkKeyValue('couchdb', 'ok', Buffer.from('{"~version":1}'))).toBe('field [~version] is not valid for the CouchDB state database');
        expect(checkKeyValue('leveldb', '', Buffer.from('{"_id":1}'))).toBeUndefined();
    });

    it('rejects invalid UTF-8 in protobuf string fields like the Go runtime', () => {
        const valid = Buffer.from([0x0a, 0x02, 0x61, 0x62, 0x12, 0x01, 0xff]);
        expect(() => {
            assertUtf8StringFields(valid, new Set([1]));
        }).not.toThrow();
        expect(() => {
            assertUtf8StringFields(Buffer.from([0x0a, 0x02, 0x61, 0xff]), new Set([1]));
        }).toThrow('string field contains invalid UTF-8');
        expect(() => {
            assertUtf8StringFields(Buffer.from([0x0a, 0x05, 0x61]), new Set([1]));
        }).toThrow('unexpected EOF');
    });
});
