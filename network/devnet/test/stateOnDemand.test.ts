// SPDX-License-Identifier: Apache-2.0
/**
 * The durable ledger reads world state from LevelDB on demand: opening it reads no state whatever the number of live
 * keys, its cache stays within its bounds, and simulations (reads, range and partial composite key scans, paginated
 * scans, rich queries, metadata), validation (MVCC, phantoms, duplicates) and history give exactly what the in-memory
 * state gives for the same transactions, across restarts and a crash between a block's append and its state write.
 */
import { describe, expect, it, jest } from '@jest/globals';
import { common, ledger as ledgerProtos } from '@hyperledger/fabric-protos';
import { ClassicLevel } from 'classic-level';
import path from 'node:path';
import { startDevnet } from '../src';
import { blockHeaderHash } from '../src/blockStore';
import { DurableLedger, openLedger, type OpenedLedger, type StateCacheOptions } from '../src/durableLedger';
import { Ledger, type OrderedTransaction, type TxValidationCode } from '../src/ledger';
import { LedgerDb } from '../src/ledgerDb';
import { compareKeys } from '../src/keys';
import { TxSimulator, type ReadWriteSet, type ResultsIterator } from '../src/txSimulator';
import type { StateReader, VersionedKV } from '../src/worldState';
import { connectGateway, tempDir } from './support/client';
import { closeLedger, commitGroup, commitNext } from './support/ledgerBlocks';

const NS = 'basic';
const CHANNEL = 'mychannel';
const CODES: readonly TxValidationCode[] = ['VALID', 'DUPLICATE_TXID', 'ENDORSEMENT_POLICY_FAILURE', 'MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT'];
const CODE_NUMBERS: Readonly<Record<TxValidationCode, number>> = { VALID: 0, DUPLICATE_TXID: 2, ENDORSEMENT_POLICY_FAILURE: 10, MVCC_READ_CONFLICT: 11, PHANTOM_READ_CONFLICT: 12 };

function put(txId: string, entries: readonly (readonly [string, string])[]): OrderedTransaction {
    return {
        txId,
        endorsed: true,
        rwsets: [{ namespace: NS, rwset: { reads: [], ranges: [], writes: entries.map(([key, value]) => ({ key, isDelete: false, value: Buffer.from(value) })) } }],
    };
}

async function scan(state: StateReader, startKey: string, endKey: string): Promise<VersionedKV[]> {
    const entries: VersionedKV[] = [];
    for await (const entry of state.range(startKey, endKey)) {
        entries.push(entry);
    }
    return entries;
}

/**
 * Adds `blocks` blocks of `perBlock` new keys each to the ledger in `dir` (after an empty block 0 if it has none):
 * `asset<i>` and a composite key `\0color\0<c>\0asset<i>\0`.
 */
async function fill(dir: string, blocks: number, perBlock: number): Promise<void> {
    const opened = await openLedger(dir, CHANNEL);
    if (opened.ledger.height === 0) {
        await commitNext(opened, []);
    }
    for (let block = 0; block < blocks; block++) {
        const entries: [string, string][] = [];
        for (let i = block * perBlock; i < (block + 1) * perBlock; i++) {
            entries.push([`asset${i}`, JSON.stringify({ ID: `asset${i}`, Color: ['red', 'blue'][i % 2], Size: i })], [`\u0000color\u0000${['red', 'blue'][i % 2]}\u0000asset${i}\u0000`, '\u0000']);
        }
        await commitNext(opened, [put(`fill${block}`, entries)]);
    }
    await closeLedger(opened);
}

describe('world state on demand', () => {
    it('opens a ledger of 20,000 live keys without reading any, and reads only what it is asked for', async () => {
        const dir = tempDir();
        await fill(dir, 20, 500);
        const opened = await openLedger(dir, CHANNEL, undefined, { entries: 100 });
        try {
            expect(opened.ledger.height).toBe(21);
            expect(opened.ledger.stateStats).toEqual({ pointReads: 0, scannedEntries: 0, cachedEntries: 0, cachedBytes: 0 });
            const state = opened.ledger.stateOf(NS);
            for (let i = 0; i < 10_000; i += 37) {
                expect(JSON.parse((await state.get(`asset${i}`))?.value.toString() ?? 'null')).toEqual({ ID: `asset${i}`, Color: ['red', 'blue'][i % 2], Size: i });
            }
            expect((await state.get('asset9999'))?.version).toEqual({ blockNum: 20, txNum: 0 });
            expect(await state.get('asset10000')).toBeUndefined();
            // 271 + 2 keys read one by one; a second read of a cached key does not reach the database.
            expect(opened.ledger.stateStats.pointReads).toBe(273);
            await state.get('asset9999');
            expect(opened.ledger.stateStats.pointReads).toBe(273);
            expect(opened.ledger.stateStats.cachedEntries).toBe(100);

            // A partial composite key query reads its range and nothing else.
            const blue = await scan(state, '\u0000color\u0000blue\u0000', '\u0000color\u0000blue\u0000\u{10FFFF}');
            const expected = Array.from({ length: 5_000 }, (_, i) => `\u0000color\u0000blue\u0000asset${2 * i + 1}\u0000`).sort(compareKeys);
            expect(blue.map((kv) => kv.key)).toEqual(expected);
            expect(opened.ledger.stateStats.scannedEntries).toBe(5_000);
            // A range read that stops early reads at most one batch past what it used.
            const firstFive: string[] = [];
            for await (const kv of state.range('asset2', 'asset3')) {
                firstFive.push(kv.key);
                if (firstFive.length === 5) {
                    break;
                }
            }
            expect(firstFive).toEqual(['asset2', 'asset20', 'asset200', 'asset2000', 'asset2001']);
            expect(opened.ledger.stateStats.scannedEntries).toBe(5_016);
            expect(opened.ledger.stateStats.cachedEntries).toBeLessThanOrEqual(100);
        } finally {
            await closeLedger(opened);
        }
    }, 120_000);

    it('starts a devnet on a ledger of many live keys without reading them, then serves them', async () => {
        const dir = tempDir();
        const chaincodes = [{ name: NS, folder: path.resolve(__dirname, 'fixtures/asset-transfer-basic') }];
        // The channel's genesis block, then blocks of bare writes.
        await (await startDevnet({ dir, chaincodes })).stop();
        await fill(path.join(dir, 'ledger'), 5, 1_000);
        const reads = [jest.spyOn(LedgerDb.prototype, 'get'), jest.spyOn(LedgerDb.prototype, 'getMany'), jest.spyOn(LedgerDb.prototype, 'range')];
        try {
            const net = await startDevnet({ dir, batchTimeoutMs: 20, chaincodes });
            expect(reads.map((spy) => spy.mock.calls.length)).toEqual([0, 0, 0]);
            const client = connectGateway(net.connection(1));
            try {
                const basic = client.gateway.getNetwork(CHANNEL).getContract(NS);
                expect(JSON.parse(Buffer.from(await basic.evaluateTransaction('ReadAsset', 'asset4321')).toString())).toEqual({ ID: 'asset4321', Color: 'blue', Size: 4321 });
                await basic.submitTransaction('TransferAsset', 'asset4321', 'Zoe');
                expect(JSON.parse(Buffer.from(await basic.evaluateTransaction('ReadAsset', 'asset4321')).toString())).toMatchObject({ Owner: 'Zoe' });
                const all = JSON.parse(Buffer.from(await basic.evaluateTransaction('GetAllAssets')).toString()) as { ID: string }[];
                // The shim's open range starts after the composite keys (at U+0001).
                expect(all.map((asset) => asset.ID).sort()).toEqual(Array.from({ length: 5_000 }, (_, i) => `asset${i}`).sort());
            } finally {
                client.close();
                await net.stop();
            }
        } finally {
            for (const spy of reads) {
                spy.mockRestore();
            }
        }
    }, 180_000);

    it('never caches what a read begun before a commit saw', async () => {
        const dir = tempDir();
        const initial = await openLedger(dir, CHANNEL);
        await commitNext(initial, []);
        await commitNext(initial, [put('t1', [['k', 'old']])]);
        await closeLedger(initial);
        const opened = await openLedger(dir, CHANNEL);
        let release = (): void => undefined;
        const gate = new Promise<void>((resolve) => {
            release = resolve;
        });
        // A point read (an endorsement abandoned at its timeout, say) that answers only after the next commit.
        const slowRead = jest.spyOn(LedgerDb.prototype, 'get').mockImplementation(async function (this: LedgerDb, namespace: string, key: string) {
            const [entry] = await this.getMany(namespace, [key]);
            await gate;
            return entry;
        });
        try {
            const early = opened.ledger.stateOf(NS).get('k');
            await commitNext(opened, [put('t2', [['k', 'new']])]);
            release();
            expect((await early)?.value.toString()).toBe('old');
            slowRead.mockRestore();
            expect((await opened.ledger.stateOf(NS).get('k'))?.value.toString()).toBe('new');
        } finally {
            slowRead.mockRestore();
            await closeLedger(opened);
        }
    });

    it('moves the metadata of a layout-1 ledger (kept apart) into the state values when it opens it', async () => {
        const location = path.join(tempDir(), 'mychannel.db');
        const db = new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
        const version = (blockNum: number, txNum: number): Buffer => {
            const bytes = Buffer.alloc(16);
            bytes.writeBigUInt64BE(BigInt(blockNum), 0);
            bytes.writeBigUInt64BE(BigInt(txNum), 8);
            return bytes;
        };
        const metadata = new ledgerProtos.rwset.kvrwset.KVMetadataWrite();
        const entry = new ledgerProtos.rwset.kvrwset.KVMetadataEntry();
        entry.setName('VALIDATION_PARAMETER');
        entry.setValue(Buffer.from('policy'));
        metadata.setEntriesList([entry]);
        const savepoint = Buffer.alloc(52);
        savepoint.writeBigUInt64BE(3n, 0);
        await db.batch([
            { type: 'put', key: Buffer.from('Sbasic\u0000plain'), value: Buffer.concat([version(1, 0), Buffer.from('one')]) },
            { type: 'put', key: Buffer.from('Sbasic\u0000guarded'), value: Buffer.concat([version(2, 1), Buffer.from('two')]) },
            { type: 'put', key: Buffer.from('Mbasic\u0000guarded'), value: Buffer.from(metadata.serializeBinary()) },
            { type: 'put', key: Buffer.from('P'), value: savepoint },
        ]);
        await db.close();

        const ledger = await DurableLedger.open(location);
        try {
            expect(ledger.height).toBe(4);
            expect(await ledger.stateOf(NS).get('plain')).toEqual({ value: Buffer.from('one'), version: { blockNum: 1, txNum: 0 } });
            expect(await ledger.stateOf(NS).get('guarded')).toEqual({ value: Buffer.from('two'), version: { blockNum: 2, txNum: 1 }, metadata: new Map([['VALIDATION_PARAMETER', Buffer.from('policy')]]) });
            expect((await scan(ledger.stateOf(NS), '', '')).map((kv) => [kv.key, kv.value.toString()])).toEqual([['guarded', 'two'], ['plain', 'one']]);
        } finally {
            await ledger.close();
        }
        const reopened = new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
        try {
            expect(await reopened.keys().all()).toEqual([Buffer.from('F'), Buffer.from('P'), Buffer.from('Sbasic\u0000guarded'), Buffer.from('Sbasic\u0000plain')]);
        } finally {
            await reopened.close();
        }
    });
});

/** A seeded pseudo-random generator (mulberry32): the model's runs are reproducible. */
function random(seed: number): { int(n: number): number; pick<T>(items: readonly T[]): T; chance(p: number): boolean } {
    let state = seed >>> 0;
    const next = (): number => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return {
        int: (n) => Math.floor(next() * n),
        pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
        chance: (p) => next() < p,
    };
}

const COMPOSITE = (color: string, id: string): string => `\u0000color\u0000${color}\u0000${id}\u0000`;
/** Plain keys, composite keys and keys whose UTF-16 order differs from their UTF-8 order. */
const KEYS: readonly string[] = [
    'a', 'asset1', 'asset10', 'asset2', 'asset3', 'b', 'ba', 'car', 'é', '\uE000', '\u{1F600}', 'z',
    COMPOSITE('blue', 'asset1'), COMPOSITE('blue', 'asset2'), COMPOSITE('red', 'asset3'), COMPOSITE('red', 'car'),
];
const BOUNDS: readonly string[] = ['', 'a', 'asset', 'asset2', 'b', 'c', '\uE000', '\u{1F600}', 'zz', COMPOSITE('blue', ''), COMPOSITE('red', '')];
const PARTIAL_KEYS: readonly string[] = ['\u0000color\u0000', '\u0000color\u0000blue\u0000', '\u0000color\u0000red\u0000'];
const QUERIES: readonly string[] = [
    '{"selector":{"color":"blue"}}',
    '{"selector":{"size":{"$gt":2}},"sort":[{"size":"desc"}]}',
    '{"selector":{"_id":{"$gt":null}}}',
];

type Op =
    | { readonly kind: 'get' | 'metadata' | 'delete'; readonly key: string }
    | { readonly kind: 'put'; readonly key: string; readonly value: string }
    | { readonly kind: 'setMetadata'; readonly key: string; readonly name: string; readonly value: string }
    | { readonly kind: 'range'; readonly start: string; readonly end: string; readonly take: number }
    | { readonly kind: 'page'; readonly start: string; readonly end: string; readonly pageSize: number }
    | { readonly kind: 'query'; readonly query: string; readonly pageSize: number };

function valueOf(rng: ReturnType<typeof random>): string {
    return rng.chance(0.2) ? `plain-${rng.int(100)}` : JSON.stringify({ color: rng.pick(['blue', 'red']), size: rng.int(6) });
}

/** A range: a partial composite key's, or between two bounds ('' at the end: unbounded). */
function rangeOf(rng: ReturnType<typeof random>): { readonly start: string; readonly end: string } {
    if (rng.chance(0.3)) {
        const partial = rng.pick(PARTIAL_KEYS);
        return { start: partial, end: `${partial}\u{10FFFF}` };
    }
    const [start, end] = [rng.pick(BOUNDS), rng.pick(BOUNDS)];
    return { start, end: end !== '' && compareKeys(end, start) < 0 ? '' : end };
}

/** A transaction's operations: reads and writes, or (sometimes) a read-only paginated transaction. */
function script(rng: ReturnType<typeof random>): Op[] {
    const ops: Op[] = [];
    const count = 1 + rng.int(6);
    if (rng.chance(0.15)) {
        for (let i = 0; i < count; i++) {
            ops.push(rng.chance(0.3) ? { kind: 'query', query: rng.pick(QUERIES), pageSize: 1 + rng.int(3) } : { kind: 'page', ...rangeOf(rng), pageSize: 1 + rng.int(3) });
        }
        return ops;
    }
    for (let i = 0; i < count; i++) {
        const key = rng.pick(KEYS);
        const roll = rng.int(10);
        ops.push(
            roll < 3 ? { kind: 'get', key }
                : roll < 5 ? { kind: 'range', ...rangeOf(rng), take: rng.chance(0.5) ? Infinity : 1 + rng.int(4) }
                    : roll < 6 ? (rng.chance(0.5) ? { kind: 'metadata', key } : { kind: 'query', query: rng.pick(QUERIES), pageSize: 0 })
                        : roll < 8 ? { kind: 'put', key, value: valueOf(rng) }
                            : roll < 9 ? { kind: 'delete', key }
                                : { kind: 'setMetadata', key, name: rng.pick(['owner-note', 'tag']), value: rng.chance(0.2) ? '' : `m${rng.int(9)}` },
        );
    }
    return ops;
}

async function drain(iterator: ResultsIterator, take: number): Promise<string[]> {
    const seen: string[] = [];
    while (seen.length < take) {
        const kv = await iterator.next();
        if (kv === undefined) {
            break;
        }
        seen.push(`${kv.key}=${kv.value.toString('hex')}@${kv.version.blockNum}.${kv.version.txNum}`);
    }
    return seen;
}

/** Runs a script on a simulator over `state`: what each operation returned, and the read/write set. */
async function simulate(state: StateReader, txId: string, ops: readonly Op[]): Promise<{ readonly seen: unknown[]; readonly rwset: ReadWriteSet }> {
    const sim = new TxSimulator(state, txId, 'couchdb');
    const seen: unknown[] = [];
    try {
        for (const op of ops) {
            switch (op.kind) {
                case 'get':
                    seen.push((await sim.getState(op.key))?.toString('hex'));
                    break;
                case 'metadata':
                    seen.push([...(await sim.getStateMetadata(op.key))].map(([name, value]) => `${name}=${value.toString()}`).sort());
                    break;
                case 'put':
                    sim.setState(op.key, Buffer.from(op.value));
                    break;
                case 'delete':
                    sim.deleteState(op.key);
                    break;
                case 'setMetadata':
                    sim.setStateMetadata(op.key, op.name, Buffer.from(op.value));
                    break;
                case 'range': {
                    const iterator = sim.getStateRangeScanIterator(op.start, op.end);
                    seen.push(await drain(iterator, op.take));
                    iterator.close();
                    break;
                }
                case 'page': {
                    const iterator = sim.getStateRangeScanIteratorWithPagination(op.start, op.end, op.pageSize);
                    seen.push(await drain(iterator, Infinity), await iterator.getBookmarkAndClose());
                    break;
                }
                case 'query': {
                    const iterator = op.pageSize === 0 ? await sim.executeQuery(op.query) : await sim.executeQueryWithPagination(op.query, '', op.pageSize);
                    seen.push(await drain(iterator, Infinity), await iterator.getBookmarkAndClose());
                    break;
                }
            }
        }
        return { seen, rwset: sim.getTxSimulationResults() };
    } finally {
        sim.done();
    }
}

/** A comparable form of a read/write set (buffers as text). */
function plain(value: unknown): unknown {
    const replace = (_key: string, v: unknown): unknown => {
        if (v instanceof Map) {
            return Object.fromEntries(v as Map<string, unknown>);
        }
        return v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v;
    };
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value, replace)) as unknown;
}

interface Modification {
    readonly txId: string;
    readonly value: string;
    readonly isDelete: boolean;
    readonly blockNum: number;
    readonly txNum: number;
}

/** Every key's full committed entry (value, version, metadata) of both ledgers, and the durable one's full scan. */
async function expectSameState(memory: Ledger, durable: OpenedLedger): Promise<void> {
    const reference = memory.stateOf(NS);
    const onDisk = durable.ledger.stateOf(NS);
    expect(plain(await scan(onDisk, '', ''))).toEqual(plain([...reference.scan('', '')]));
    for (const key of KEYS) {
        expect(plain(await onDisk.get(key))).toEqual(plain(reference.lookup(key)));
    }
}

/** Kill -9 after the block reached the block file, before its state: the next open commits it again, as it was. */
async function recoverAfterCrash(crashed: OpenedLedger, dir: string, cache: StateCacheOptions, transactions: readonly OrderedTransaction[], codes: readonly TxValidationCode[]): Promise<OpenedLedger> {
    await closeLedger(crashed);
    const reopened = await openLedger(dir, CHANNEL, undefined, cache);
    const [pending, location] = [reopened.pending[0], reopened.pendingLocations[0]];
    if (reopened.pending.length !== 1 || pending === undefined || location === undefined) {
        throw new Error(`expected one block to commit again, found ${reopened.pending.length}`);
    }
    const validated = await reopened.ledger.validate(transactions);
    expect(validated.codes).toEqual(codes);
    await reopened.ledger.commit(validated, { location, headerHash: blockHeaderHash(pending.getHeader() ?? new common.BlockHeader()), codes: codes.map((code) => CODE_NUMBERS[code]) });
    return reopened;
}

/** Adds the writes of the block's valid transactions to `history`, newest first per key. */
function recordHistory(history: Map<string, Modification[]>, blockNum: number, transactions: readonly OrderedTransaction[], codes: readonly TxValidationCode[]): void {
    transactions.forEach((tx, txNum) => {
        if (codes[txNum] !== 'VALID') {
            return;
        }
        for (const write of tx.rwsets[0]?.rwset.writes ?? []) {
            const entries = history.get(write.key) ?? [];
            entries.unshift({ txId: tx.txId, value: write.isDelete ? '' : write.value.toString('hex'), isDelete: write.isDelete, blockNum, txNum });
            history.set(write.key, entries);
        }
    });
}

describe('world state on demand against the in-memory state', () => {
    // A cache of a few entries (most reads miss it, many are evicted), or one that holds everything.
    it.each([
        [1, 4],
        [2, 100_000],
        [3, 4],
        [4, 100_000],
    ])('simulates, validates and keeps history identically (seed %i, cache of %i entries)', async (seed, entries) => {
        const rng = random(seed);
        const dir = tempDir();
        const memory = new Ledger(1);
        const cache = { entries };
        let durable = await openLedger(dir, CHANNEL, undefined, cache);
        await commitNext(durable, []);
        const history = new Map<string, Modification[]>();
        const stale: OrderedTransaction[] = [];
        const usedTxIds: string[] = [];
        const codesSeen = new Set<TxValidationCode>();
        try {
            for (let block = 1; block <= 80; block++) {
                const transactions: OrderedTransaction[] = [];
                const count = 1 + rng.int(4);
                for (let txNum = 0; txNum < count; txNum++) {
                    const duplicate = usedTxIds.length > 0 && rng.chance(0.05);
                    const txId = duplicate ? rng.pick(usedTxIds) : `tx${block}.${txNum}`;
                    const ops = script(rng);
                    const inMemory = await simulate(memory.stateOf(NS), txId, ops);
                    const fromDisk = await simulate(durable.ledger.stateOf(NS), txId, ops);
                    expect(plain(fromDisk)).toEqual(plain(inMemory));
                    const tx: OrderedTransaction = { txId, endorsed: !rng.chance(0.05), timestamp: { seconds: 1_700_000_000 + block, nanos: txNum }, rwsets: [{ namespace: NS, rwset: inMemory.rwset }] };
                    transactions.push(tx);
                    if (rng.chance(0.3)) {
                        stale.push({ ...tx, txId: `stale${block}.${txNum}` });
                    }
                }
                if (stale.length > 0 && rng.chance(0.4)) {
                    transactions.splice(rng.int(transactions.length + 1), 0, ...stale.splice(0, 1));
                }
                const { codes } = await memory.commitBlock(transactions);
                const crash = rng.chance(0.08);
                const numbers = await commitNext(durable, transactions, crash);
                if (crash) {
                    durable = await recoverAfterCrash(durable, dir, cache, transactions, codes);
                }
                expect(numbers).toEqual(codes.map((code) => CODE_NUMBERS[code]));
                codes.forEach((code, txNum) => {
                    codesSeen.add(code);
                    usedTxIds.push(transactions[txNum]?.txId ?? '');
                });
                recordHistory(history, block, transactions, codes);
                if (block % 20 === 0) {
                    await closeLedger(durable);
                    durable = await openLedger(dir, CHANNEL, undefined, cache);
                    expect(durable.ledger.stateStats.pointReads + durable.ledger.stateStats.scannedEntries).toBe(0);
                }
                if (block % 10 === 0) {
                    await expectSameState(memory, durable);
                }
            }
            await expectSameState(memory, durable);
            for (const key of KEYS) {
                const recorded = (await durable.ledger.history(NS, key)).map((m) => ({ txId: m.txId, value: m.value.toString('hex'), isDelete: m.isDelete, blockNum: m.version.blockNum, txNum: m.version.txNum }));
                expect(recorded).toEqual(history.get(key) ?? []);
            }
            expect(durable.ledger.stateStats.cachedEntries).toBeLessThanOrEqual(cache.entries);
            // The model reached every outcome.
            expect([...codesSeen].sort()).toEqual([...CODES].sort());
        } finally {
            await closeLedger(durable);
        }
    }, 180_000);

    // Blocks that queued up behind a commit are validated together, each against the state the blocks before it
    // leave: every transaction of a group was simulated before any block of the group committed.
    it.each([
        [5, 4],
        [6, 100_000],
    ])('validates blocks committed together exactly as one after the other (seed %i, cache of %i entries)', async (seed, entries) => {
        const rng = random(seed);
        const dir = tempDir();
        const memory = new Ledger(1);
        let durable = await openLedger(dir, CHANNEL, undefined, { entries });
        await commitNext(durable, []);
        const history = new Map<string, Modification[]>();
        const usedTxIds: string[] = [];
        const codesSeen = new Set<TxValidationCode>();
        let block = 1;
        try {
            for (let group = 0; group < 30; group++) {
                const blocks: OrderedTransaction[][] = [];
                for (let b = 0, size = 1 + rng.int(4); b < size; b++) {
                    const transactions: OrderedTransaction[] = [];
                    for (let txNum = 0, count = 1 + rng.int(4); txNum < count; txNum++) {
                        const duplicate = usedTxIds.length > 0 && rng.chance(0.05);
                        const txId = duplicate ? rng.pick(usedTxIds) : `tx${block + b}.${txNum}`;
                        const ops = script(rng);
                        const inMemory = await simulate(memory.stateOf(NS), txId, ops);
                        const fromDisk = await simulate(durable.ledger.stateOf(NS), txId, ops);
                        expect(plain(fromDisk)).toEqual(plain(inMemory));
                        transactions.push({ txId, endorsed: !rng.chance(0.05), timestamp: { seconds: 1_700_000_000 + block + b, nanos: txNum }, rwsets: [{ namespace: NS, rwset: inMemory.rwset }] });
                        usedTxIds.push(txId);
                    }
                    blocks.push(transactions);
                }
                const expected: (readonly number[])[] = [];
                for (const transactions of blocks) {
                    const { codes } = await memory.commitBlock(transactions);
                    expected.push(codes.map((code) => CODE_NUMBERS[code]));
                    codes.forEach((code) => codesSeen.add(code));
                    recordHistory(history, block++, transactions, codes);
                }
                expect(await commitGroup(durable, blocks)).toEqual(expected);
                if (group % 10 === 9) {
                    await expectSameState(memory, durable);
                    await closeLedger(durable);
                    durable = await openLedger(dir, CHANNEL, undefined, { entries });
                }
            }
            await expectSameState(memory, durable);
            for (const key of KEYS) {
                const recorded = (await durable.ledger.history(NS, key)).map((m) => ({ txId: m.txId, value: m.value.toString('hex'), isDelete: m.isDelete, blockNum: m.version.blockNum, txNum: m.version.txNum }));
                expect(recorded).toEqual(history.get(key) ?? []);
            }
            expect([...codesSeen].sort()).toEqual([...CODES].sort());
        } finally {
            await closeLedger(durable);
        }
    }, 180_000);
});
