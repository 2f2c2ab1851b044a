// SPDX-License-Identifier: Apache-2.0
/**
 * Transaction simulation against committed state, after Fabric's `txSimulator`/`queryExecutor`
 * (core/ledger/kvledger/txmgmt/txmgr/{tx_simulator,query_executor}.go, rwsetutil/rwset_builder.go):
 * reads always see committed state (no read-your-writes), reads/writes/range queries are recorded for validation.
 * State is read asynchronously (the devnet's lives in LevelDB).
 */
import { checkKeyValue, compareKeys, type KeyValidation } from './keys';
import type { CollectionHashedRwset } from './privateRwset';
import { executeRichQuery, parseRichQuery } from './richQuery';
import type { StateReader, Version, VersionedKV } from './worldState';

/** A read-set entry: the committed version seen, `null` if the key was absent. */
export interface KVRead {
    readonly key: string;
    readonly version: Version | null;
}

/** A write-set entry. A write of an empty value is a delete (Fabric FAB-18386). */
export interface KVWrite {
    readonly key: string;
    readonly isDelete: boolean;
    readonly value: Buffer;
}

/**
 * A range query as recorded for phantom-read validation (kvrwset.RangeQueryInfo). While the iterator is not
 * exhausted, `endKey` is the last key read and is itself part of the validated range.
 */
export interface RangeQueryInfo {
    readonly startKey: string;
    readonly endKey: string;
    readonly itrExhausted: boolean;
    readonly reads: readonly KVRead[];
}

/** A metadata entry of a key (kvrwset.KVMetadataEntry), e.g. `VALIDATION_PARAMETER`. */
export interface KVMetadataEntry {
    readonly name: string;
    readonly value: Buffer;
}

/** A write of a key's metadata (kvrwset.KVMetadataWrite): the key's whole metadata after the transaction. */
export interface KVMetadataWrite {
    readonly key: string;
    readonly entries: readonly KVMetadataEntry[];
}

/** The public read/write set of a simulated transaction. Reads and writes are sorted by key. */
export interface ReadWriteSet {
    readonly reads: readonly KVRead[];
    readonly writes: readonly KVWrite[];
    readonly ranges: readonly RangeQueryInfo[];
    /** Metadata writes (key-level endorsement policies), sorted by key; absent when there are none. */
    readonly metadataWrites?: readonly KVMetadataWrite[];
    /** Hashed read/write sets of the private data collections touched, sorted by collection; absent when none. */
    readonly collections?: readonly CollectionHashedRwset[];
}

/** A state iterator as the chaincode handler consumes it (commonledger.ResultsIterator). */
export interface ResultsIterator {
    /** The next result, or undefined when exhausted. */
    next(): Promise<VersionedKV | undefined>;
    close(): void;
    /** For paginated scans: the key the next page starts at ('' if none); closes the iterator. */
    getBookmarkAndClose(): Promise<string>;
}

/** The state database's range scanner (stateleveldb kvScanner): optionally limited to a page. */
class KvScanner {
    private returned = 0;
    private closed = false;
    private readonly source: AsyncGenerator<VersionedKV, void, undefined>;

    public constructor(state: StateReader, startKey: string, endKey: string, private readonly pageSize: number) {
        this.source = state.range(startKey, endKey);
    }

    public async next(): Promise<VersionedKV | undefined> {
        if (this.closed || (this.pageSize > 0 && this.returned >= this.pageSize)) {
            return undefined;
        }
        const item = await this.source.next();
        if (item.done === true) {
            return undefined;
        }
        this.returned++;
        return item.value;
    }

    public async getBookmarkAndClose(): Promise<string> {
        const item = this.closed ? undefined : await this.source.next();
        this.close();
        return item === undefined || item.done === true ? '' : item.value.key;
    }

    /** Stops the scan and releases what the state holds for it (a database iterator). */
    public close(): void {
        if (!this.closed) {
            this.closed = true;
            this.source.return(undefined).catch(() => undefined);
        }
    }
}

/** Wraps a scanner and records the range query info, like query_executor.go's `resultsItr`. */
class RecordingIterator implements ResultsIterator {
    public endKey = '';
    public itrExhausted = false;
    public readonly reads: KVRead[] = [];

    public constructor(
        private readonly scanner: KvScanner,
        public readonly startKey: string,
        private readonly requestedEndKey: string,
    ) {}

    public async next(): Promise<VersionedKV | undefined> {
        const result = await this.scanner.next();
        if (result === undefined) {
            this.itrExhausted = true;
            this.endKey = this.requestedEndKey;
            return undefined;
        }
        this.reads.push({ key: result.key, version: result.version });
        this.endKey = result.key;
        return result;
    }

    public close(): void {
        this.scanner.close();
    }

    public getBookmarkAndClose(): Promise<string> {
        return this.scanner.getBookmarkAndClose();
    }

    public info(): RangeQueryInfo {
        return { startKey: this.startKey, endKey: this.endKey, itrExhausted: this.itrExhausted, reads: [...this.reads] };
    }
}

/**
 * A rich query's results (query_executor.go `queryResultsItr`): each result read is added to the read set (validated
 * for MVCC at commit; rich queries get no phantom protection, as on Fabric).
 */
class QueryResultsIterator implements ResultsIterator {
    private next_ = 0;
    private closed = false;

    public constructor(
        private readonly results: readonly VersionedKV[],
        private readonly bookmark: string,
        private readonly recordRead: (key: string, version: Version) => void,
    ) {}

    public next(): Promise<VersionedKV | undefined> {
        const result = this.closed ? undefined : this.results[this.next_];
        if (result === undefined) {
            return Promise.resolve(undefined);
        }
        this.next_++;
        this.recordRead(result.key, result.version);
        return Promise.resolve(result);
    }

    public close(): void {
        this.closed = true;
    }

    public getBookmarkAndClose(): Promise<string> {
        this.close();
        return Promise.resolve(this.bookmark);
    }
}

/** Simulates one transaction against a committed state that must not change while the simulation runs. */
export class TxSimulator {
    private readonly readSet = new Map<string, Version | undefined>();
    private readonly writeSet = new Map<string, Buffer>();
    private readonly metadataWrites = new Map<string, Map<string, Buffer>>();
    private readonly iterators: RecordingIterator[] = [];
    private readonly queryIterators: QueryResultsIterator[] = [];
    private writePerformed = false;
    private paginatedQueriesPerformed = false;
    private pvtdataQueriesPerformed = false;
    private doneInvoked = false;
    private resultsComputed = false;

    public constructor(
        private readonly state: StateReader,
        public readonly txId: string,
        private readonly keyValidation: KeyValidation,
    ) {}

    /** Committed value of `key` (undefined if absent); records the read. Never sees this transaction's writes. */
    public async getState(key: string): Promise<Buffer | undefined> {
        this.checkDone();
        const committed = await this.state.get(key);
        this.readSet.set(key, committed?.version);
        return committed?.value;
    }

    /** The committed metadata of `key` (name → value; empty if none); records the read of the key, as Fabric does. */
    public async getStateMetadata(key: string): Promise<ReadonlyMap<string, Buffer>> {
        this.checkDone();
        const committed = await this.state.get(key);
        this.readSet.set(key, committed?.version);
        return committed?.metadata ?? new Map<string, Buffer>();
    }

    /**
     * Records a write of the key's metadata as this one entry (handler.go `putStateMetadata`, tx_simulator.go
     * `SetStateMetadata`: the key's metadata becomes the map of this entry); it reads nothing, so it is no MVCC read.
     */
    public setStateMetadata(key: string, name: string, value: Uint8Array): void {
        this.checkWritePrecondition(key, new Uint8Array(0));
        this.metadataWrites.set(key, new Map([[name, Buffer.from(value)]]));
    }

    /** Records a write; an empty value records a delete. Throws the peer's error if the write is not allowed. */
    public setState(key: string, value: Uint8Array): void {
        this.checkWritePrecondition(key, value);
        this.writeSet.set(key, Buffer.from(value));
    }

    /** tx_simulator.go `checkWritePrecondition`, for public and private writes alike: throws the peer's error. */
    public checkWritePrecondition(key: string, value: Uint8Array): void {
        this.checkDone();
        if (this.pvtdataQueriesPerformed) {
            throw new Error(`txid [${this.txId}]: unsuppored transaction. Transaction has already performed queries on pvt data. Writes are not allowed`);
        }
        if (this.paginatedQueriesPerformed) {
            throw new Error(`txid [${this.txId}]: unsuppored transaction. Transaction has already performed a paginated query. Writes are not allowed`);
        }
        this.writePerformed = true;
        const invalid = checkKeyValue(this.keyValidation, key, value);
        if (invalid !== undefined) {
            throw new Error(invalid);
        }
    }

    /** tx_simulator.go `checkBeforePvtdataQueries`: private data range and rich queries need a transaction that has not written. */
    public checkBeforePvtdataQueries(): void {
        if (this.writePerformed) {
            throw new Error(`txid [${this.txId}]: unsuppored transaction. Queries on pvt data is supported only in a read-only transaction`);
        }
        this.pvtdataQueriesPerformed = true;
    }

    /** Records a delete. */
    public deleteState(key: string): void {
        this.setState(key, new Uint8Array(0));
    }

    /** A range scan over committed state, [startKey, endKey) ('' = unbounded), recorded for phantom validation. */
    public getStateRangeScanIterator(startKey: string, endKey: string): ResultsIterator {
        return this.newIterator(startKey, endKey, 0);
    }

    /** A range scan limited to `pageSize` results; only allowed in a transaction that has not written. */
    public getStateRangeScanIteratorWithPagination(startKey: string, endKey: string, pageSize: number): ResultsIterator {
        if (this.writePerformed) {
            throw new Error(`txid [${this.txId}]: unsuppored transaction. Paginated queries are supported only in a read-only transaction`);
        }
        this.paginatedQueriesPerformed = true;
        return this.newIterator(startKey, endKey, pageSize);
    }

    /** A CouchDB rich query (Mango selector) over committed state; its results join the read set as they are read. */
    public executeQuery(query: string): Promise<ResultsIterator> {
        this.checkDone();
        return this.newQueryIterator(query, '', 0);
    }

    /** A rich query limited to `pageSize` results from `bookmark`; only allowed in a transaction that has not written. */
    public async executeQueryWithPagination(query: string, bookmark: string, pageSize: number): Promise<ResultsIterator> {
        this.checkDone();
        if (this.writePerformed) {
            throw new Error(`txid [${this.txId}]: unsuppored transaction. Paginated queries are supported only in a read-only transaction`);
        }
        this.paginatedQueriesPerformed = true;
        return this.newQueryIterator(query, bookmark, pageSize);
    }

    /** The read/write set; may be called once. */
    public getTxSimulationResults(): ReadWriteSet {
        if (this.resultsComputed) {
            throw new Error('this function should only be called once on a transaction simulator instance');
        }
        this.resultsComputed = true;
        const byKey = (a: { key: string }, b: { key: string }): number => compareKeys(a.key, b.key);
        const reads = [...this.readSet].map(([key, version]) => ({ key, version: version ?? null })).sort(byKey);
        const writes = [...this.writeSet]
            .map(([key, value]) => ({ key, isDelete: value.length === 0, value }))
            .sort(byKey);
        // rwset_builder.go AddToRangeQuerySet keeps the first of identical (startKey, endKey, exhausted) queries.
        const seen = new Set<string>();
        const ranges: RangeQueryInfo[] = [];
        for (const iterator of this.iterators) {
            const info = iterator.info();
            const identity = JSON.stringify([info.startKey, info.endKey, info.itrExhausted]);
            if (!seen.has(identity)) {
                seen.add(identity);
                ranges.push(info);
            }
        }
        const metadataWrites = [...this.metadataWrites]
            .map(([key, entries]) => ({ key, entries: [...entries].sort(([a], [b]) => compareKeys(a, b)).map(([name, value]) => ({ name, value })) }))
            .sort(byKey);
        return { reads, writes, ranges, ...(metadataWrites.length === 0 ? {} : { metadataWrites }) };
    }

    /** Ends the simulation and closes all iterators. */
    public done(): void {
        if (this.doneInvoked) {
            return;
        }
        this.doneInvoked = true;
        for (const iterator of [...this.iterators, ...this.queryIterators]) {
            iterator.close();
        }
    }

    private async newQueryIterator(query: string, bookmark: string, limit: number): Promise<ResultsIterator> {
        const page = await executeRichQuery(this.state, parseRichQuery(query), bookmark, limit);
        const iterator = new QueryResultsIterator(page.results, page.bookmark, (key, version) => {
            this.readSet.set(key, version);
        });
        this.queryIterators.push(iterator);
        return iterator;
    }

    private newIterator(startKey: string, endKey: string, pageSize: number): RecordingIterator {
        this.checkDone();
        const iterator = new RecordingIterator(new KvScanner(this.state, startKey, endKey, pageSize), startKey, endKey);
        this.iterators.push(iterator);
        return iterator;
    }

    private checkDone(): void {
        if (this.doneInvoked) {
            throw new Error('this instance should not be used after calling Done()');
        }
    }
}
