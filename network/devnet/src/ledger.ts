// SPDX-License-Identifier: Apache-2.0
/**
 * Block validation and commit, after Fabric 2.5's committer:
 * - core/committer/txvalidator/v20/validator.go: DUPLICATE_TXID against the ledger, endorsement validation, then
 *   DUPLICATE_TXID within the block (later occurrences lose);
 * - core/ledger/kvledger/txmgmt/validation/validator.go, combined_iterator.go, rangequery_validator.go: MVCC read
 *   validation and phantom-read re-execution of range queries, against committed state plus the writes of the
 *   preceding valid transactions of the block; valid writes get version (block number, tx index).
 */
import { compareKeys } from './keys';
import { keyPolicySatisfied, validationParameterOf, type ValidEndorser } from './keyPolicy';
import type { PrivateDataValidation } from './privateLedger';
import type { RangeQueryInfo, ReadWriteSet } from './txSimulator';
import { sameVersion, UpdateBatch, WorldState, type PendingUpdate, type StateReader, type Version, type VersionedKV } from './worldState';
import { defined } from './defined';

/** The peer.TxValidationCode values the simulator assigns. */
export type TxValidationCode =
    | 'VALID'
    | 'MVCC_READ_CONFLICT'
    | 'PHANTOM_READ_CONFLICT'
    | 'DUPLICATE_TXID'
    | 'ENDORSEMENT_POLICY_FAILURE';

/** The read/write set a transaction has in one chaincode namespace (rwset.NsReadWriteSet). */
export interface NamespaceRwset {
    readonly namespace: string;
    readonly rwset: ReadWriteSet;
}

/** A transaction as ordered into a block. */
export interface OrderedTransaction {
    readonly txId: string;
    /**
     * Whether the transaction carries a valid endorsement. A proposal response with status >= 400 is not endorsed
     * by the peer (endorser.go), so a transaction built from it fails endorsement policy validation.
     */
    readonly endorsed: boolean;
    /**
     * The transaction's valid endorsers, when its endorsement is to be checked here (not when committing a stored
     * block again, whose validation code already says): a key it writes that has a key-level endorsement policy needs
     * that policy satisfied instead of the chaincode's (`endorsed`).
     */
    readonly keyEndorsers?: readonly ValidEndorser[];
    /** Read/write sets per namespace, as in the transaction's TxReadWriteSet. */
    readonly rwsets: readonly NamespaceRwset[];
    /** The client's timestamp from the channel header (what the key history reports). */
    readonly timestamp?: { readonly seconds: number; readonly nanos: number };
}

/** Committed state of every namespace, read-only (statedb.VersionedDB). */
export interface NamespacedStateReader {
    /** The committed state of `namespace` (empty if nothing was ever written there). */
    stateOf(namespace: string): StateReader;
}

/**
 * The keys a block's validation looks up one by one, per namespace: those its transactions read (MVCC) and those they
 * write (the key's value and metadata, for key-level policies and metadata-only writes). A ledger whose state is on
 * disk fetches them together first.
 */
export function keysLookedUp(transactions: readonly OrderedTransaction[]): Map<string, Set<string>> {
    const keys = new Map<string, Set<string>>();
    for (const tx of transactions) {
        for (const { namespace, rwset } of tx.rwsets) {
            let ofNamespace = keys.get(namespace);
            if (ofNamespace === undefined) {
                ofNamespace = new Set();
                keys.set(namespace, ofNamespace);
            }
            for (const { key } of rwset.reads) {
                ofNamespace.add(key);
            }
            for (const { key } of rwset.writes) {
                ofNamespace.add(key);
            }
            for (const { key } of rwset.metadataWrites ?? []) {
                ofNamespace.add(key);
            }
        }
    }
    return keys;
}

/** The updates of a block's valid transactions so far, per namespace (privacyenabledstate.UpdateBatch). */
export class NamespacedUpdates {
    private readonly batches = new Map<string, UpdateBatch>();

    /** The updates of `namespace` (created empty on first use). */
    public of(namespace: string): UpdateBatch {
        let batch = this.batches.get(namespace);
        if (batch === undefined) {
            batch = new UpdateBatch();
            this.batches.set(namespace, batch);
        }
        return batch;
    }

    /** Namespaces with updates, with their batches. */
    public entries(): IterableIterator<[string, UpdateBatch]> {
        return this.batches.entries();
    }
}

interface KeyVersion {
    readonly key: string;
    readonly version: Version;
}

/**
 * combined_iterator.go: keys in [startKey, endKey) of committed state overlaid with the block's pending updates
 * (deletes hide keys), plus `endKey` itself when `includeEndKey`.
 */
async function* combinedRange(state: StateReader, updates: UpdateBatch, startKey: string, endKey: string, includeEndKey: boolean): AsyncGenerator<KeyVersion, void, undefined> {
    const db = state.range(startKey, endKey);
    try {
        yield* mergeWithUpdates(db, updates.range(startKey, endKey));
    } finally {
        await db.return(undefined);
    }
    if (includeEndKey) {
        const update = updates.get(endKey);
        if (update !== undefined) {
            if (update.value !== undefined) {
                yield { key: endKey, version: update.version };
            }
        } else {
            const committed = await state.get(endKey);
            if (committed !== undefined) {
                yield { key: endKey, version: committed.version };
            }
        }
    }
}

/** Committed entries in key order overlaid with the pending updates of the same range, also in key order. */
async function* mergeWithUpdates(db: AsyncGenerator<VersionedKV, void, undefined>, pending: readonly PendingUpdate[]): AsyncGenerator<KeyVersion, void, undefined> {
    let dbItem = await db.next();
    let p = 0;
    for (;;) {
        const committed = dbItem.done === true ? undefined : dbItem.value;
        const update = pending[p];
        if (committed !== undefined && (update === undefined || compareKeys(committed.key, update.key) < 0)) {
            yield { key: committed.key, version: committed.version };
            dbItem = await db.next();
            continue;
        }
        if (update === undefined) {
            return;
        }
        if (committed !== undefined && committed.key === update.key) {
            dbItem = await db.next();
        }
        p++;
        // The update wins over the committed value; a delete hides the key.
        if (update.value !== undefined) {
            yield { key: update.key, version: update.version };
        }
    }
}

/** rangequery_validator.go `rangeQueryResultsValidator.validate`. */
async function rangeQueryStillValid(state: StateReader, updates: UpdateBatch, info: RangeQueryInfo): Promise<boolean> {
    const results = combinedRange(state, updates, info.startKey, info.endKey, !info.itrExhausted);
    try {
        for (const read of info.reads) {
            const result = await results.next();
            if (result.done === true || result.value.key !== read.key || !sameVersion(result.value.version, read.version ?? undefined)) {
                return false;
            }
        }
        return (await results.next()).done === true;
    } finally {
        await results.return(undefined);
    }
}

/** validation/validator.go `validateTx`: every namespace's reads (MVCC first, then phantoms), in rwset order. */
export async function validateTransaction(state: NamespacedStateReader, updates: NamespacedUpdates, rwsets: readonly NamespaceRwset[]): Promise<TxValidationCode> {
    for (const { namespace, rwset } of rwsets) {
        for (const read of rwset.reads) {
            if (updates.of(namespace).has(read.key) || !sameVersion((await state.stateOf(namespace).get(read.key))?.version, read.version ?? undefined)) {
                return 'MVCC_READ_CONFLICT';
            }
        }
    }
    for (const { namespace, rwset } of rwsets) {
        for (const range of rwset.ranges) {
            if (!(await rangeQueryStillValid(state.stateOf(namespace), updates.of(namespace), range))) {
                return 'PHANTOM_READ_CONFLICT';
            }
        }
    }
    return 'VALID';
}

/** The key's metadata as of the block's updates so far, else as committed. */
async function currentEntry(state: NamespacedStateReader, updates: NamespacedUpdates, namespace: string, key: string): Promise<{ readonly value: Buffer | undefined; readonly metadata?: ReadonlyMap<string, Buffer> }> {
    const pending = updates.of(namespace).get(key);
    return pending ?? (await state.stateOf(namespace).get(key)) ?? { value: undefined };
}

/**
 * statebased validation (core/common/validation/statebased/validator_keylevel.go): every key the transaction writes
 * (values or metadata) that has a key-level endorsement policy needs it satisfied; the chaincode's policy is needed
 * if any written key has none, or if the transaction writes nothing.
 */
async function endorsementValid(state: NamespacedStateReader, updates: NamespacedUpdates, tx: OrderedTransaction, privateData?: PrivateDataValidation): Promise<boolean> {
    if (tx.keyEndorsers === undefined) {
        return tx.endorsed;
    }
    let needsChaincodePolicy = true;
    // Writes to a collection with its own endorsement policy need that policy instead of the chaincode's.
    const collections = privateData?.endorsement(tx, tx.keyEndorsers);
    if (collections !== undefined) {
        if (!collections.satisfied || (collections.needsChaincodePolicy && !tx.endorsed)) {
            return false;
        }
        needsChaincodePolicy = !collections.wrote;
    }
    for (const { namespace, rwset } of tx.rwsets) {
        const keys = new Set([...rwset.writes.map((w) => w.key), ...(rwset.metadataWrites ?? []).map((w) => w.key)]);
        for (const key of keys) {
            const parameter = validationParameterOf((await currentEntry(state, updates, namespace, key)).metadata);
            if (parameter === undefined) {
                if (!tx.endorsed) {
                    return false;
                }
            } else if (!keyPolicySatisfied(parameter, tx.keyEndorsers)) {
                return false;
            }
            needsChaincodePolicy = false;
        }
    }
    return !needsChaincodePolicy || tx.endorsed;
}

/**
 * A valid transaction's writes into the block's updates: a value write keeps the key's metadata, a metadata write
 * keeps its value (and is dropped for a key that does not exist), each with the transaction's version.
 */
async function applyWrites(state: NamespacedStateReader, updates: NamespacedUpdates, rwsets: readonly NamespaceRwset[], version: Version): Promise<void> {
    for (const { namespace, rwset } of rwsets) {
        for (const write of rwset.writes) {
            const metadata = write.isDelete ? undefined : (await currentEntry(state, updates, namespace, write.key)).metadata;
            updates.of(namespace).put(write.key, write.isDelete ? undefined : Buffer.from(write.value), version, metadata);
        }
        for (const write of rwset.metadataWrites ?? []) {
            const { value } = await currentEntry(state, updates, namespace, write.key);
            if (value !== undefined) {
                updates.of(namespace).put(write.key, value, version, new Map(write.entries.map((entry) => [entry.name, entry.value])));
            }
        }
    }
}

/**
 * Validates a block's transactions in order against `state`. Returns the validation codes and the updates of the
 * valid transactions (to be applied to `state`).
 */
export async function validateBlock(
    state: NamespacedStateReader,
    blockNumber: number,
    transactions: readonly OrderedTransaction[],
    txIdCommitted: (txId: string) => boolean,
    privateData?: PrivateDataValidation,
): Promise<{ readonly codes: TxValidationCode[]; readonly updates: NamespacedUpdates }> {
    const codes = transactions.map((tx): TxValidationCode => {
        if (tx.txId !== '' && txIdCommitted(tx.txId)) {
            return 'DUPLICATE_TXID';
        }
        return tx.endorsed || tx.keyEndorsers !== undefined ? 'VALID' : 'ENDORSEMENT_POLICY_FAILURE';
    });
    const seen = new Set<string>();
    transactions.forEach((tx, i) => {
        if (codes[i] === 'VALID' && tx.txId !== '') {
            if (seen.has(tx.txId)) {
                codes[i] = 'DUPLICATE_TXID';
            }
            seen.add(tx.txId);
        }
    });
    const updates = new NamespacedUpdates();
    for (const [txNum, tx] of transactions.entries()) {
        if (codes[txNum] !== 'VALID') {
            continue;
        }
        const publicCode = (await endorsementValid(state, updates, tx, privateData)) ? await validateTransaction(state, updates, tx.rwsets) : 'ENDORSEMENT_POLICY_FAILURE';
        // Hashed reads of private data are checked after the public ones (validator.go validateNsHashedReadSets).
        const code = publicCode === 'VALID' && privateData !== undefined ? privateData.check(tx, txNum) : publicCode;
        codes[txNum] = code;
        if (code === 'VALID') {
            await applyWrites(state, updates, tx.rwsets, { blockNum: blockNumber, txNum });
            privateData?.apply(tx, { blockNum: blockNumber, txNum });
        }
    }
    return { codes, updates };
}

/** A transaction's outcome as recorded by the ledger. */
export interface CommittedTxStatus {
    readonly blockNumber: number;
    readonly txNum: number;
    readonly validationCode: TxValidationCode;
}

/** The committed state of every chaincode namespace plus the transaction id index. */
export class Ledger implements NamespacedStateReader {
    private readonly states = new Map<string, WorldState>();
    private readonly txIndex = new Map<string, CommittedTxStatus>();
    private nextBlock: number;

    /** @param firstBlockNumber number of the first block committed through this ledger (block 0 is the genesis block). */
    public constructor(firstBlockNumber = 1) {
        this.nextBlock = firstBlockNumber;
    }

    /** The committed state of `namespace`; each chaincode has its own, as on a peer. */
    public stateOf(namespace: string): WorldState {
        let state = this.states.get(namespace);
        if (state === undefined) {
            state = new WorldState();
            this.states.set(namespace, state);
        }
        return state;
    }

    /** Number of the next block to commit (the ledger height). */
    public get height(): number {
        return this.nextBlock;
    }

    /** Status of a committed transaction id (valid or not), undefined if never committed. */
    public txStatus(txId: string): CommittedTxStatus | undefined {
        return this.txIndex.get(txId);
    }

    /** Validates and commits one block; returns its number and the validation codes. */
    public async commitBlock(transactions: readonly OrderedTransaction[]): Promise<{ readonly blockNumber: number; readonly codes: readonly TxValidationCode[] }> {
        const blockNumber = this.nextBlock;
        const { codes, updates } = await validateBlock(this, blockNumber, transactions, (txId) => this.txIndex.has(txId));
        for (const [namespace, batch] of updates.entries()) {
            this.stateOf(namespace).apply(batch);
        }
        transactions.forEach((tx, txNum) => {
            // blockindex.go indexes every transaction id, valid or not; the first occurrence is kept.
            if (tx.txId !== '' && !this.txIndex.has(tx.txId)) {
                this.txIndex.set(tx.txId, { blockNumber, txNum, validationCode: defined(codes[txNum]) });
            }
        });
        this.nextBlock++;
        return { blockNumber, codes };
    }
}
