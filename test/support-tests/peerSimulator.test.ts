// SPDX-License-Identifier: Apache-2.0
import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
    buildSignedProposal,
    computeTxId,
    PeerSimulator,
    SimulatedEndorseError,
    type Endorsement,
    type PeerSimulatorOptions,
    type ProtocolTraceEvent,
    type TestIdentity,
    type TxValidationCode,
} from '../support/fabric';
import { CHAINCODE_DIR } from '../support/chaincodeRuntime';
import { contracts } from '../support/fabric/fixtures/assetContract';
import { protos } from '../../network/devnet/src/runtime';

const HEX64 = '[0-9a-f]{64}';
const running: PeerSimulator[] = [];

async function startPeer(options: Partial<PeerSimulatorOptions> = {}): Promise<PeerSimulator> {
    const peer = await PeerSimulator.start({ contracts, folder: CHAINCODE_DIR, ...options });
    running.push(peer);
    return peer;
}

afterEach(async () => {
    await Promise.all(running.splice(0).map((peer) => peer.stop()));
});

function text(e: Endorsement): string {
    return e.payload.toString('utf8');
}

function json(e: Endorsement): unknown {
    return JSON.parse(text(e));
}

function users(peer: PeerSimulator): { alice: TestIdentity; bob: TestIdentity } {
    return {
        alice: peer.identity({ mspId: 'Org1MSP', name: 'alice' }),
        bob: peer.identity({ mspId: 'Org2MSP', name: 'bob' }),
    };
}

async function putAll(peer: PeerSimulator, identity: TestIdentity, keys: readonly string[]): Promise<void> {
    const endorsements = await Promise.all(keys.map((key) => peer.endorse(identity, 'Put', [key, `v-${key}`])));
    expect(new Set(await peer.commit(endorsements))).toEqual(new Set(['VALID']));
}

describe('PeerSimulator: simulation semantics', () => {
    it('reads committed state only: no read-your-writes, missing keys read as empty', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);

        const fresh = await peer.evaluate(alice, 'PutThenGet', ['k', 'new']);
        expect(json(fresh)).toEqual({ length: 0, value: '' });

        await peer.submit(alice, 'Put', ['k', 'old']);
        const e = await peer.endorse(alice, 'PutThenGet', ['k', 'new']);
        expect(json(e)).toEqual({ length: 3, value: 'old' });
        expect(e.rwset.reads).toEqual([{ key: 'k', version: { blockNum: 1, txNum: 0 } }]);
        expect(e.rwset.writes).toEqual([{ key: 'k', isDelete: false, value: Buffer.from('new') }]);
        expect(peer.state.get('k')?.toString()).toBe('old');

        await expect(peer.evaluate(alice, 'ReadAsset', ['nope'])).rejects.toThrow('The asset nope does not exist');
    });

    it('records an empty-value write as a delete (FAB-18386)', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        await peer.submit(alice, 'Put', ['k', 'v']);
        const r = await peer.submit(alice, 'Put', ['k', '']);
        expect(r.rwset.writes).toEqual([{ key: 'k', isDelete: true, value: Buffer.alloc(0) }]);
        expect(peer.state.has('k')).toBe(false);
    });

    it('serves range queries in UTF-8 byte order, paging through batches with QUERY_STATE_NEXT', async () => {
        const trace: ProtocolTraceEvent[] = [];
        const peer = await startPeer({ trace: (event) => trace.push(event) });
        const { alice } = users(peer);
        await peer.submit(alice, 'PutMany', ['k', '250']);
        const keys = Array.from({ length: 250 }, (_, i) => `k${String(i).padStart(3, '0')}`);

        const e = await peer.evaluate(alice, 'GetAssetsByRange', ['k', 'l']);
        expect((json(e) as { key: string }[]).map((kv) => kv.key)).toEqual(keys);
        // Batches of 100 (the peer's default): the shim fetches the 2nd and 3rd with QUERY_STATE_NEXT.
        expect(trace.filter((t) => t.txId === e.txId && t.direction === 'fromChaincode').map((t) => t.type)).toEqual([
            'GET_STATE_BY_RANGE', 'QUERY_STATE_NEXT', 'QUERY_STATE_NEXT', 'QUERY_STATE_CLOSE', 'COMPLETED',
        ]);
        expect(e.rwset.ranges).toHaveLength(1);
        expect(e.rwset.ranges[0]).toMatchObject({ startKey: 'k', endKey: 'l', itrExhausted: true });
        expect(e.rwset.ranges[0]!.reads).toHaveLength(250);

        const small = await startPeer({ queryBatchSize: 7, trace: (event) => trace.push(event) });
        await small.submit(alice, 'PutMany', ['k', '30']);
        const paged = await small.evaluate(alice, 'GetAssetsByRange', ['k', 'l']);
        expect((json(paged) as unknown[]).length).toBe(30);
        expect(trace.filter((t) => t.txId === paged.txId && t.type === 'QUERY_STATE_NEXT')).toHaveLength(4);

        // U+00E9 < U+FF01 < U+1F600 in UTF-8, whereas UTF-16 code units order the emoji (0xD83D) before U+FF01.
        await putAll(peer, alice, ['u\u{1F600}', 'u\uFF01', 'u\u00e9', 'uz']);
        const unicode = await peer.evaluate(alice, 'GetAssetsByRange', ['u', 'v']);
        expect((json(unicode) as { key: string }[]).map((kv) => kv.key)).toEqual(['uz', 'u\u00e9', 'u\uFF01', 'u\u{1F600}']);
        expect(peer.state.keys().filter((k) => k.startsWith('u'))).toEqual(['uz', 'u\u00e9', 'u\uFF01', 'u\u{1F600}']);
    });

    it('keeps simple-key ranges and composite keys apart, and supports partial composite key queries', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        await peer.submit(alice, 'Put', ['plain', 'p']);
        await peer.submit(alice, 'Tag', ['red', 'a2']);
        await peer.submit(alice, 'Tag', ['red', 'a1']);
        await peer.submit(alice, 'Tag', ['redder', 'a3']);

        expect(json(await peer.evaluate(alice, 'ListTagged', ['red']))).toEqual(['a1', 'a2']);
        const all = await peer.evaluate(alice, 'GetAssetsByRange', ['', '']);
        expect((json(all) as { key: string }[]).map((kv) => kv.key)).toEqual(['plain']);
        expect(all.rwset.ranges[0]).toMatchObject({ startKey: '\u0001', endKey: '', itrExhausted: true });
    });

    it('paginates range queries with QueryResponseMetadata in read-only transactions', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        const keys = Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, '0')}`);
        await putAll(peer, alice, keys);

        const page1 = await peer.evaluate(alice, 'GetAllPaginated', ['p', 'q', '10', '']);
        expect(json(page1)).toEqual({ records: keys.slice(0, 10), fetchedRecordsCount: 10, bookmark: 'p10' });
        const page2 = await peer.evaluate(alice, 'GetAllPaginated', ['p', 'q', '10', 'p10']);
        expect(json(page2)).toEqual({ records: keys.slice(10, 20), fetchedRecordsCount: 10, bookmark: 'p20' });
        expect(page2.rwset.ranges[0]).toMatchObject({ startKey: 'p10', endKey: 'p19', itrExhausted: false });
        const page3 = await peer.evaluate(alice, 'GetAllPaginated', ['p', 'q', '10', 'p20']);
        expect(json(page3)).toEqual({ records: keys.slice(20), fetchedRecordsCount: 5, bookmark: '' });
        expect(page3.rwset.ranges[0]).toMatchObject({ startKey: 'p20', endKey: 'q', itrExhausted: true });
    });

    it('rejects paginated queries in writing transactions as Fabric\'s tx simulator does', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        const writeFirst = await peer.endorse(alice, 'PutThenPaginate', ['w']);
        expect(writeFirst.status).toBe(500);
        expect(writeFirst.message).toMatch(new RegExp(
            `^GET_STATE_BY_RANGE failed: transaction ID: ${writeFirst.txId}: txid \\[${writeFirst.txId}\\]: unsuppored transaction\\. ` +
            'Paginated queries are supported only in a read-only transaction$'));
        const paginateFirst = await peer.endorse(alice, 'PaginateThenPut', ['w']);
        expect(paginateFirst.status).toBe(500);
        expect(paginateFirst.message).toBe(
            `PUT_STATE failed: transaction ID: ${paginateFirst.txId}: txid [${paginateFirst.txId}]: unsuppored transaction. ` +
            'Transaction has already performed a paginated query. Writes are not allowed');
        await expect(peer.submit(alice, 'PutThenPaginate', ['w'])).rejects.toThrow(SimulatedEndorseError);
        expect(peer.height).toBe(1);
    });

    it('validates written keys and values like the CouchDB state database by default', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        const empty = await peer.endorse(alice, 'Put', ['', 'x']);
        expect(empty.message).toBe(`PUT_STATE failed: transaction ID: ${empty.txId}: invalid key. Empty string is not supported as a key by couchdb`);
        expect((await peer.endorse(alice, 'Put', ['_design', 'x'])).message).toMatch(/invalid key \[_design\], cannot begin with "_"$/);
        expect((await peer.endorse(alice, 'Put', ['k', '{"a":1,"_id":"x"}'])).message).toMatch(/field \[_id\] is not valid for the CouchDB state database$/);
        expect((await peer.endorse(alice, 'Put', ['k', '["_id"]'])).status).toBe(200);

        const leveldb = await startPeer({ keyValidation: 'leveldb' });
        await leveldb.submit(alice, 'Put', ['', 'empty-key']);
        expect(leveldb.state.get('')?.toString()).toBe('empty-key');
    });

    it('carries fabric-shim\'s encoding of keys: lone surrogates are dropped on the wire', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        await peer.submit(alice, 'PutUtf16Key', ['0061d8000062', 'v']);
        expect(peer.state.keys()).toEqual(['ab']);
    });
});

describe('PeerSimulator: block validation', () => {
    it('invalidates the second of two read-modify-write transactions endorsed on the same state (MVCC)', async () => {
        const peer = await startPeer();
        const { alice, bob } = users(peer);
        await peer.submit(alice, 'CreateAsset', ['a1', '1']);
        const first = await peer.endorse(alice, 'UpdateAsset', ['a1', '2']);
        const second = await peer.endorse(bob, 'UpdateAsset', ['a1', '3']);
        expect(await peer.commit([first, second])).toEqual(['VALID', 'MVCC_READ_CONFLICT']);
        expect(JSON.parse(peer.state.get('a1')!.toString())).toMatchObject({ value: '2' });
        expect(peer.state.version('a1')).toEqual({ blockNum: 2, txNum: 0 });
        expect(peer.blocks[1]!.transactions.map((tx) => tx.validationCode)).toEqual(['VALID', 'MVCC_READ_CONFLICT']);

        const stale = await peer.endorse(bob, 'UpdateAsset', ['a1', '4']);
        await peer.submit(alice, 'UpdateAsset', ['a1', '5']);
        expect(await peer.commit([stale])).toEqual(['MVCC_READ_CONFLICT']);
    });

    it('lets blind writes to one key both commit, the later one winning', async () => {
        const peer = await startPeer();
        const { alice, bob } = users(peer);
        const one = await peer.endorse(alice, 'Put', ['k', '1']);
        const two = await peer.endorse(bob, 'Put', ['k', '2']);
        expect(await peer.commit([one, two])).toEqual(['VALID', 'VALID']);
        expect(peer.state.entries()).toEqual([{ key: 'k', value: Buffer.from('2'), version: { blockNum: 1, txNum: 1 } }]);
    });

    it('invalidates a range-reading transaction with PHANTOM_READ_CONFLICT when an earlier transaction changes the range', async () => {
        const peer = await startPeer();
        const { alice, bob } = users(peer);
        await putAll(peer, alice, ['k1', 'k3']);

        const count = await peer.endorse(alice, 'CountRange', ['k0', 'k9', 'count']);
        expect(count.rwset.ranges).toEqual([{
            startKey: 'k0', endKey: 'k9', itrExhausted: true,
            reads: [{ key: 'k1', version: { blockNum: 1, txNum: 0 } }, { key: 'k3', version: { blockNum: 1, txNum: 1 } }],
        }]);
        const insert = await peer.endorse(bob, 'Put', ['k2', 'x']);
        const outside = await peer.endorse(bob, 'Put', ['k9', 'x']);
        expect(await peer.commit([outside, count])).toEqual(['VALID', 'VALID']);
        const recount = await peer.endorse(alice, 'CountRange', ['k0', 'k9', 'count']);
        expect(await peer.commit([insert, recount])).toEqual(['VALID', 'PHANTOM_READ_CONFLICT']);

        const recount2 = await peer.endorse(alice, 'CountRange', ['k0', 'k9', 'count']);
        const update = await peer.endorse(bob, 'Put', ['k1', 'changed']);
        expect(await peer.commit([recount2, update])).toEqual(['VALID', 'VALID']);
        const recount3 = await peer.endorse(alice, 'CountRange', ['k0', 'k9', 'count']);
        const remove = await peer.endorse(bob, 'Put', ['k3', '']);
        expect(await peer.commit([remove, recount3])).toEqual(['VALID', 'PHANTOM_READ_CONFLICT']);
        expect(peer.state.get('count')?.toString()).toBe('3');
    });

    it('validates a non-exhausted range iterator only up to the last key the peer read', async () => {
        const peer = await startPeer({ queryBatchSize: 4 });
        const { alice, bob } = users(peer);
        await putAll(peer, alice, ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8']);

        const probe = async (): Promise<Endorsement> => peer.endorse(alice, 'GetFirstInRange', ['r', 's', '2']);
        const first = await probe();
        expect(json(first)).toEqual(['r1', 'r2']);
        // The peer cut a batch of 4 and read one result ahead: r1..r5 are recorded, r5 being the (inclusive) end key.
        expect(first.rwset.ranges).toHaveLength(1);
        expect(first.rwset.ranges[0]).toMatchObject({ startKey: 'r', endKey: 'r5', itrExhausted: false });
        expect(first.rwset.ranges[0]!.reads.map((r) => r.key)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);

        expect(await peer.commit([await peer.endorse(bob, 'Put', ['r5a', 'x']), first])).toEqual(['VALID', 'VALID']);
        const second = await probe();
        expect(await peer.commit([await peer.endorse(bob, 'Put', ['r5', 'changed']), second])).toEqual(['VALID', 'PHANTOM_READ_CONFLICT']);
        const third = await probe();
        expect(await peer.commit([await peer.endorse(bob, 'Put', ['r2a', 'x']), third])).toEqual(['VALID', 'PHANTOM_READ_CONFLICT']);
    });

    it('names validation codes as Fabric\'s peer.TxValidationCode', () => {
        const codes: TxValidationCode[] = ['VALID', 'MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT', 'DUPLICATE_TXID', 'ENDORSEMENT_POLICY_FAILURE'];
        expect(codes.filter((code) => !(code in protos.peer.TxValidationCode))).toEqual([]);
    });

    it('marks reused transaction ids DUPLICATE_TXID, in the block and against the ledger', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        const nonce = randomBytes(24);
        const one = await peer.endorse(alice, 'Put', ['d', '1'], { nonce });
        const two = await peer.endorse(alice, 'Put', ['d', '2'], { nonce });
        expect(two.txId).toBe(one.txId);
        expect(await peer.commit([one, two])).toEqual(['VALID', 'DUPLICATE_TXID']);
        expect(peer.state.get('d')?.toString()).toBe('1');

        expect(await peer.commit([one])).toEqual(['DUPLICATE_TXID']);
        const again = await peer.endorse(alice, 'Put', ['d', '3'], { nonce });
        expect(again.status).toBe(500);
        expect(again.message).toBe(`duplicate transaction found [${one.txId}]. Creator [${Buffer.from(alice.serializedIdentity).toString('hex')}]`);
    });

    it('fails endorsement policy validation for failed or altered endorsements', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        const failed = await peer.endorse(alice, 'EventThenFail');
        const good = await peer.endorse(alice, 'Put', ['k', 'v']);
        const altered: Endorsement = { ...good, rwset: { ...good.rwset, writes: [{ key: 'k', isDelete: false, value: Buffer.from('forged') }] } };
        expect(await peer.commit([failed, altered])).toEqual(['ENDORSEMENT_POLICY_FAILURE', 'ENDORSEMENT_POLICY_FAILURE']);
        expect(peer.state.size).toBe(0);
        // The ledger indexes invalid transactions too, so the genuine transaction's id is now taken.
        expect(await peer.commit([good])).toEqual(['DUPLICATE_TXID']);
        expect(await peer.commit([await peer.endorse(alice, 'Put', ['k', 'v'])])).toEqual(['VALID']);
    });

    it('holds commits until running simulations finish, so a simulation sees one committed state', async () => {
        const peer = await startPeer();
        const { alice, bob } = users(peer);
        await peer.submit(alice, 'Put', ['k', 'old']);
        const slow = peer.endorse(alice, 'SlowRead', ['30', 'k']);
        await new Promise((resolve) => setTimeout(resolve, 5));
        const write = peer.submit(bob, 'Put', ['k', 'new']);
        expect(text(await slow)).toBe('old');
        expect((await write).validationCode).toBe('VALID');
        expect(peer.state.get('k')?.toString()).toBe('new');
    });

    it('commits two concurrent read-modify-write submits in separate blocks, invalidating the later one exactly when it read the earlier one\'s version', async () => {
        const peer = await startPeer();
        const { alice, bob } = users(peer);
        const created = await peer.submit(alice, 'CreateAsset', ['a', '0']);
        const submitted = await Promise.all([peer.submit(alice, 'UpdateAsset', ['a', '1']), peer.submit(bob, 'UpdateAsset', ['a', '2'])]);
        const [earlier, later] = [...submitted].sort((x, y) => x.blockNumber - y.blockNumber);
        expect(earlier!.blockNumber).toBeLessThan(later!.blockNumber);
        expect(earlier!.validationCode).toBe('VALID');
        // Whether the later one simulated before or after the earlier one committed depends on timing; its outcome
        // must follow from what it read either way (no lost update).
        const readVersion = later!.rwset.reads.find((read) => read.key === 'a')?.version;
        const readTheEarlierWrite = readVersion?.blockNum === earlier!.blockNumber;
        if (!readTheEarlierWrite) {
            expect(readVersion).toEqual({ blockNum: created.blockNumber, txNum: 0 });
        }
        expect(later!.validationCode).toBe(readTheEarlierWrite ? 'VALID' : 'MVCC_READ_CONFLICT');
        const lastValid = readTheEarlierWrite ? later! : earlier!;
        expect(JSON.parse(peer.state.get('a')!.toString())).toMatchObject({ value: lastValid.args[1] });
    });
});

describe('PeerSimulator: responses and events', () => {
    it('keeps only the last event a transaction sets, and delivers events of valid transactions only', async () => {
        const peer = await startPeer();
        const { alice, bob } = users(peer);
        const r = await peer.submit(alice, 'EmitTwoEvents', ['First', 'Second']);
        expect(r.event).toEqual({ name: 'Second', payload: Buffer.from('second') });

        const c1 = await peer.endorse(alice, 'CreateAsset', ['a1', '1']);
        const c2 = await peer.endorse(bob, 'CreateAsset', ['a1', '2']);
        expect(await peer.commit([c1, c2])).toEqual(['VALID', 'MVCC_READ_CONFLICT']);
        expect(peer.blocks[1]!.transactions[1]!.event?.name).toBe('AssetCreated');

        expect(peer.chaincodeEvents()).toEqual([
            { blockNumber: 1, txId: r.txId, chaincode: 'ledgerwork', name: 'Second', payload: Buffer.from('second') },
            { blockNumber: 2, txId: c1.txId, chaincode: 'ledgerwork', name: 'AssetCreated', payload: c1.event!.payload },
        ]);
        expect(peer.chaincodeEvents(2).map((e) => e.txId)).toEqual([c1.txId]);
    });

    it('returns contract errors as status 500 with the error message, without events; submit throws and commits nothing', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        const failed = await peer.endorse(alice, 'EventThenFail');
        expect(failed).toMatchObject({ status: 500, message: 'deliberate failure' });
        expect(failed.event).toBeUndefined();
        expect(failed.payload).toHaveLength(0);

        const error = await peer.submit(alice, 'Fail', ['boom']).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SimulatedEndorseError);
        expect(error).toMatchObject({ message: 'boom', status: 500 });
        expect(peer.height).toBe(1);

        expect((await peer.endorse(alice, 'Nope')).message).toBe('You\'ve asked to invoke a function that does not exist: Nope');
    });

    it('dispatches to several contracts and serves the contract metadata', async () => {
        const peer = await startPeer({ title: 'fixture-chaincode', version: '1.2.3' });
        const { alice } = users(peer);
        expect(text(await peer.submit(alice, 'counter:Increment', ['c']))).toBe('1');
        expect(text(await peer.submit(alice, 'counter:Increment', ['c']))).toBe('2');
        expect(peer.state.get('\u0000counter\u0000c\u0000')?.toString()).toBe('2');

        interface Metadata {
            info: { title: string; version: string };
            contracts: Record<string, { transactions: { name: string; tag: string[] }[] }>;
        }
        const metadata = json(await peer.evaluate(alice, 'org.hyperledger.fabric:GetMetadata')) as Metadata;
        expect(metadata.info).toEqual({ title: 'fixture-chaincode', version: '1.2.3' });
        expect(Object.keys(metadata.contracts).sort()).toEqual(['assets', 'counter', 'org.hyperledger.fabric']);
        const tags = Object.fromEntries(metadata.contracts.assets!.transactions.map((t) => [t.name, t.tag]));
        expect(tags.CreateAsset).toEqual(['SUBMIT', 'submitTx']);
        expect(tags.ReadAsset).toEqual(['EVALUATE']);
    });

    it('fails an endorsement whose chaincode exceeds the execute timeout, and ignores its late messages', async () => {
        const trace: ProtocolTraceEvent[] = [];
        // 1 s, not less: the Put at the end must finish within it on a busy machine too.
        const peer = await startPeer({ executeTimeoutMs: 1000, trace: (event) => trace.push(event) });
        const { alice } = users(peer);
        const slow = await peer.endorse(alice, 'SlowRead', ['2000', 'k']);
        expect(slow.status).toBe(500);
        expect(slow.message).toBe(`error in simulation: failed to execute transaction ${slow.txId}: timeout expired while executing transaction`);
        // The chaincode's late GET_STATE was refused ("no ledger context"), its COMPLETED ignored. Waited for rather
        // than slept on: on a busy machine the late messages come well after the chaincode's 2 s.
        const ofSlow = (): string[] => trace.filter((t) => t.txId === slow.txId).map((t) => `${t.direction}:${t.type}`);
        for (const until = Date.now() + 10_000; !ofSlow().includes('fromChaincode:COMPLETED') && Date.now() < until;) {
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(ofSlow()).toEqual([
            'toChaincode:TRANSACTION', 'fromChaincode:GET_STATE', 'toChaincode:ERROR', 'fromChaincode:COMPLETED',
        ]);
        expect((await peer.submit(alice, 'Put', ['k', 'v'])).validationCode).toBe('VALID');
    });

    it('rejects use after stop', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        await peer.stop();
        await expect(peer.endorse(alice, 'Put', ['k', 'v'])).rejects.toThrow('the peer simulator has been stopped');
    });
});

describe('PeerSimulator: proposals and identities', () => {
    it('computes the transaction id as hex SHA-256(nonce || creator) and passes proposal details to the stub', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        const nonce = Buffer.alloc(24, 7);
        const timestamp = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
        const e = await peer.evaluate(alice, 'WhoAmI', [], { nonce, timestamp, transient: { secret: 's3cret' } });
        const expected = createHash('sha256').update(nonce).update(alice.serializedIdentity).digest('hex');
        expect(e.txId).toBe(expected);
        expect(computeTxId(nonce, alice.serializedIdentity)).toBe(expected);
        expect(json(e)).toMatchObject({
            txId: expected,
            channel: 'mychannel',
            timestampSeconds: Math.floor(timestamp / 1000),
            timestampNanos: 678_000_000,
            date: '2030-01-02T03:04:05.678Z',
            creatorMspId: 'Org1MSP',
            creatorPem: alice.certificatePem,
            transient: { secret: 's3cret' },
            args: ['WhoAmI'],
        });
        expect(e.timestamp).toBe(timestamp);
    });

    it('uses the virtual clock as the default proposal timestamp', async () => {
        const peer = await startPeer({ startTime: new Date('2026-03-01T00:00:00Z') });
        const { alice } = users(peer);
        peer.advance(90_000);
        expect(peer.clock).toBe(Date.parse('2026-03-01T00:01:30Z'));
        expect(json(await peer.evaluate(alice, 'WhoAmI'))).toMatchObject({ date: '2026-03-01T00:01:30.000Z' });
        peer.setTime(0);
        expect(json(await peer.evaluate(alice, 'WhoAmI'))).toMatchObject({ date: '1970-01-01T00:00:00.000Z' });
    });

    it('lets the chaincode read the caller\'s MSP id, id, NodeOU and Fabric CA attributes through ClientIdentity', async () => {
        const peer = await startPeer();
        const admin = peer.identity({ mspId: 'Org2MSP', name: 'root', ou: 'admin', attrs: { 'ledgerwork.admin': 'true' } });
        const plain = peer.identity({ mspId: 'Org3MSP', name: 'carol' });
        const adminView = json(await peer.evaluate(admin, 'WhoAmI'));
        expect(adminView).toMatchObject({ mspId: 'Org2MSP', id: admin.clientId, admin: 'true', isAdminAttr: true });
        expect(admin.clientId).toBe('x509::/C=US/ST=North Carolina/O=Hyperledger/OU=admin/CN=root::/C=US/ST=North Carolina/L=Durham/O=org2.example.com/CN=ca.org2.example.com');
        expect(json(await peer.evaluate(plain, 'WhoAmI'))).toMatchObject({ mspId: 'Org3MSP', id: plain.clientId, admin: null, isAdminAttr: false });
        expect(plain.clientId).toContain('/OU=client/CN=carol::');
    });

    it('rejects proposals from outside the channel, with bad signatures or with the wrong target, as an endorser does', async () => {
        const peer = await startPeer({ mspIds: ['Org1MSP', 'Org2MSP'] });
        const { alice } = users(peer);
        const outsider = peer.identity({ mspId: 'Org3MSP', name: 'dave' });
        expect((await peer.endorse(outsider, 'Put', ['k', 'v'])).message)
            .toBe('error validating proposal: access denied: channel [mychannel] creator org unknown, creator is malformed');

        // Org3's certificate presented as an Org1MSP identity: not issued by Org1's CA.
        const impostorCreator = new protos.msp.SerializedIdentity();
        impostorCreator.setMspid('Org1MSP');
        impostorCreator.setIdBytes(outsider.credentials);
        const impostor: TestIdentity = { ...outsider, mspId: 'Org1MSP', serializedIdentity: impostorCreator.serializeBinary() };
        const spec = { channel: 'mychannel', chaincode: 'ledgerwork', fn: 'Put', args: ['k', 'v'], timestamp: peer.clock };
        expect((await peer.processProposal(buildSignedProposal(impostor, spec).signedProposal)).message)
            .toBe('error validating proposal: access denied: channel [mychannel] creator org [Org1MSP]');

        const signed = protos.peer.SignedProposal.deserializeBinary(buildSignedProposal(alice, spec).signedProposal);
        const tampered = Buffer.from(signed.getProposalBytes_asU8());
        tampered[tampered.length - 1]! ^= 1;
        signed.setProposalBytes(tampered);
        expect((await peer.processProposal(signed.serializeBinary())).message)
            .toBe('error validating proposal: access denied: channel [mychannel] creator org [Org1MSP]');

        expect((await peer.processProposal(buildSignedProposal(alice, { ...spec, channel: 'other' }).signedProposal)).message)
            .toBe('channel \'other\' not found');
        expect((await peer.processProposal(buildSignedProposal(alice, { ...spec, chaincode: 'basic' }).signedProposal)).message)
            .toBe('make sure the chaincode basic has been successfully defined on channel mychannel and try again: chaincode basic not found');
        expect(peer.state.size).toBe(0);
    });

    it('rejects a high-S signature and an incorrectly computed transaction id', async () => {
        const peer = await startPeer();
        const { alice } = users(peer);
        const spec = { channel: 'mychannel', chaincode: 'ledgerwork', fn: 'Put', args: ['k', 'v'], timestamp: peer.clock };
        const signed = protos.peer.SignedProposal.deserializeBinary(buildSignedProposal(alice, spec).signedProposal);
        const twin = highSTwin(signed.getSignature_asU8());
        // node:crypto accepts the malleable twin; only Fabric's low-S rule rejects it.
        expect(verify('sha256', signed.getProposalBytes_asU8(), new X509Certificate(alice.certificatePem).publicKey, twin)).toBe(true);
        signed.setSignature(twin);
        expect((await peer.processProposal(signed.serializeBinary())).message)
            .toBe('error validating proposal: access denied: channel [mychannel] creator org [Org1MSP]');

        const proposal = protos.peer.Proposal.deserializeBinary(protos.peer.SignedProposal.deserializeBinary(buildSignedProposal(alice, spec).signedProposal).getProposalBytes_asU8());
        const header = protos.common.Header.deserializeBinary(proposal.getHeader_asU8());
        const channelHeader = protos.common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
        const realTxId = channelHeader.getTxId();
        channelHeader.setTxId('0'.repeat(64));
        header.setChannelHeader(channelHeader.serializeBinary());
        proposal.setHeader(header.serializeBinary());
        const resigned = new protos.peer.SignedProposal();
        resigned.setProposalBytes(proposal.serializeBinary());
        resigned.setSignature(alice.sign(proposal.serializeBinary()));
        expect((await peer.processProposal(resigned.serializeBinary())).message)
            .toBe(`error validating proposal: incorrectly computed txid '${'0'.repeat(64)}' -- expected '${realTxId}'`);
        expect(realTxId).toMatch(new RegExp(`^${HEX64}$`));
    });
});

/** The other valid ECDSA signature (r, N - s) of the same message. */
function highSTwin(der: Uint8Array): Buffer {
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    const bytes = Buffer.from(der);
    const rLength = bytes[3]!;
    const r = bytes.subarray(4, 4 + rLength);
    const s = BigInt(`0x${bytes.subarray(6 + rLength).toString('hex')}`);
    let twin = (n - s).toString(16).padStart(64, '0');
    if (parseInt(twin.slice(0, 2), 16) >= 0x80) {
        twin = `00${twin}`;
    }
    const sBytes = Buffer.from(twin, 'hex');
    const body = Buffer.concat([Buffer.from([0x02, r.length]), r, Buffer.from([0x02, sBytes.length]), sBytes]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
