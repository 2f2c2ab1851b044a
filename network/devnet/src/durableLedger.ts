// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet peer's ledger: world state per chaincode namespace, key history and transaction index, kept durably in
 * {@link LedgerDb} and consistent with the block file, which stays the source of truth.
 *
 * A block commits in two steps: {@link DurableLedger.validate} computes its validation codes and updates (the block
 * is then built with those codes and appended, fsynced, to the block file), {@link DurableLedger.commit} writes the
 * updates, history, transaction ids, block location and savepoint in one atomic batch and only then applies them to
 * the in-memory state simulations read. A crash between the two leaves the indexes one block behind the file; the
 * next open reads only the blocks after the savepoint and commits them again ({@link openLedger}).
 *
 * Simulation reads state synchronously, so the committed state is also held in memory: loading it at open costs
 * time in the number of live keys, never in the number of blocks.
 */
import path from 'node:path';
import { BlockFileMismatchError, BlockStore, type OpenedStore } from './blockStore';
import { validateBlock, type NamespacedStateReader, type NamespacedUpdates, type OrderedTransaction, type TxValidationCode } from './ledger';
import type { PrivateDataValidation } from './privateLedger';
import { LedgerDb, type BlockLocation, type BlockIndexUpdate, type IndexedTx, type KeyModification, type Savepoint } from './ledgerDb';
import { WorldState, type VersionedValue } from './worldState';
import { defined } from './defined';

/** A block's validation outcome, to be committed once the block is in the block file. */
export interface ValidatedBlock {
    readonly blockNumber: number;
    readonly transactions: readonly OrderedTransaction[];
    readonly codes: readonly TxValidationCode[];
    readonly updates: NamespacedUpdates;
}

/** Where the validated block went and with which final codes (the block's TRANSACTIONS_FILTER). */
export interface AppendedBlock {
    readonly location: BlockLocation;
    readonly headerHash: Buffer;
    /** peer.TxValidationCode numbers, one per transaction. */
    readonly codes: readonly number[];
}

/** The committed state of every namespace, durable, plus the history and transaction indexes. */
export class DurableLedger implements NamespacedStateReader {
    private readonly states = new Map<string, WorldState>();

    private constructor(
        private readonly db: LedgerDb,
        private last: Savepoint | undefined,
    ) {}

    /** Opens the indexes in directory `location` and loads the committed state into memory. */
    public static async open(location: string): Promise<DurableLedger> {
        const db = await LedgerDb.open(location);
        try {
            const ledger = new DurableLedger(db, await db.savepoint());
            await ledger.load();
            return ledger;
        } catch (error) {
            await db.close();
            throw error;
        }
    }

    private async load(): Promise<void> {
        let namespace = '';
        let entries: [string, VersionedValue][] = [];
        const flush = (): void => {
            if (entries.length > 0) {
                this.stateOf(namespace).load(entries);
            }
            entries = [];
        };
        for await (const item of this.db.state()) {
            if (item.namespace !== namespace) {
                flush();
                namespace = item.namespace;
            }
            entries.push([item.key, item.entry]);
        }
        flush();
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

    /** The last committed block, undefined before block 0. */
    public get savepoint(): Savepoint | undefined {
        return this.last;
    }

    /** Number of the next block to commit. */
    public get height(): number {
        return this.last === undefined ? 0 : this.last.blockNumber + 1;
    }

    /**
     * Validates the next block's transactions against committed state and the transaction index (and their private
     * data's hashed reads with `privateData`).
     */
    public async validate(transactions: readonly OrderedTransaction[], privateData?: PrivateDataValidation): Promise<ValidatedBlock> {
        const blockNumber = this.height;
        const txIds = [...new Set(transactions.map((tx) => tx.txId).filter((txId) => txId !== ''))];
        const indexed = await this.db.txs(txIds);
        const committed = new Set(txIds.filter((_, i) => indexed[i] !== undefined));
        const { codes, updates } = validateBlock(this, blockNumber, transactions, (txId) => committed.has(txId), privateData);
        return { blockNumber, transactions, codes, updates };
    }

    /** Persists a validated block that is now in the block file, then applies it to the in-memory state. */
    public async commit(validated: ValidatedBlock, appended: AppendedBlock): Promise<void> {
        if (validated.blockNumber !== this.height) {
            throw new Error(`block ${validated.blockNumber} cannot be committed at height ${this.height}`);
        }
        const txIds = [...new Set(validated.transactions.map((tx) => tx.txId).filter((txId) => txId !== ''))];
        const indexed = await this.db.txs(txIds);
        const alreadyIndexed = new Set(txIds.filter((_, i) => indexed[i] !== undefined));
        const txs: BlockIndexUpdate['txs'][number][] = [];
        const history: BlockIndexUpdate['history'][number][] = [];
        validated.transactions.forEach((tx, txNum) => {
            if (tx.txId !== '' && !alreadyIndexed.has(tx.txId)) {
                // blockindex.go indexes every transaction id, valid or not; the first occurrence is kept.
                alreadyIndexed.add(tx.txId);
                txs.push({ txId: tx.txId, blockNumber: validated.blockNumber, txNum, code: defined(appended.codes[txNum]) });
            }
            if (validated.codes[txNum] !== 'VALID') {
                return;
            }
            for (const { namespace, rwset } of tx.rwsets) {
                for (const write of rwset.writes) {
                    const modification: KeyModification = {
                        txId: tx.txId,
                        value: write.isDelete ? Buffer.alloc(0) : Buffer.from(write.value),
                        timestamp: tx.timestamp ?? { seconds: 0, nanos: 0 },
                        isDelete: write.isDelete,
                        version: { blockNum: validated.blockNumber, txNum },
                    };
                    history.push({ namespace, key: write.key, modification });
                }
            }
        });
        const writes = [...validated.updates.entries()].flatMap(([namespace, batch]) =>
            [...batch.all()].map((update) => ({ namespace, key: update.key, value: update.value, version: update.version, ...(update.metadata === undefined ? {} : { metadata: update.metadata }) })));
        const savepoint: Savepoint = { blockNumber: validated.blockNumber, location: appended.location, headerHash: appended.headerHash };
        await this.db.commit({ savepoint, writes, history, txs });
        for (const [namespace, batch] of validated.updates.entries()) {
            this.stateOf(namespace).apply(batch);
        }
        this.last = savepoint;
    }

    /** The indexed outcome of a transaction id, undefined if never committed. */
    public async txStatus(txId: string): Promise<IndexedTx | undefined> {
        return (await this.db.txs([txId]))[0];
    }

    /** The modifications of `key` in `namespace` by valid transactions, newest first. */
    public history(namespace: string, key: string): Promise<KeyModification[]> {
        return this.db.history(namespace, key);
    }

    /** Where block `blockNumber` lies in the block file, undefined beyond the height. */
    public blockLocation(blockNumber: number): Promise<BlockLocation | undefined> {
        return this.db.blockLocation(blockNumber);
    }

    /** Forgets every index and all state (to rebuild them from the block file). */
    public async reset(): Promise<void> {
        await this.db.clear();
        this.states.clear();
        this.last = undefined;
    }

    public close(): Promise<void> {
        return this.db.close();
    }
}

/** An opened channel ledger: the block file, the indexes, and the blocks the indexes do not hold yet. */
export interface OpenedLedger {
    readonly store: BlockStore;
    readonly ledger: DurableLedger;
    /** Blocks in the file after the savepoint, to commit again in order (all blocks when the indexes were rebuilt). */
    readonly pending: OpenedStore['blocks'];
    /** Where each of {@link pending} lies in the file. */
    readonly pendingLocations: OpenedStore['locations'];
    /** Whether the indexes did not match the block file and were dropped to be rebuilt from it. */
    readonly rebuilt: boolean;
    /** Bytes of torn tail cut off the block file. */
    readonly discardedBytes: number;
}

/**
 * Opens the block file `<dir>/<channel>.blocks` (compressing new blocks with `dictionary`, see {@link BlockStore})
 * and the indexes `<dir>/<channel>.db`. Indexes that name a block the file does not hold (the file was truncated or
 * replaced) are dropped and rebuilt from the file.
 */
export async function openLedger(dir: string, channel: string, dictionary?: Uint8Array): Promise<OpenedLedger> {
    const file = path.join(dir, `${channel}.blocks`);
    const ledger = await DurableLedger.open(path.join(dir, `${channel}.db`));
    try {
        try {
            const opened = BlockStore.open(file, { ...(ledger.savepoint === undefined ? {} : { after: ledger.savepoint }), ...(dictionary === undefined ? {} : { dictionary }) });
            return { store: opened.store, ledger, pending: opened.blocks, pendingLocations: opened.locations, rebuilt: false, discardedBytes: opened.discardedBytes };
        } catch (error) {
            if (!(error instanceof BlockFileMismatchError)) {
                throw error;
            }
            await ledger.reset();
            const opened = BlockStore.open(file, dictionary === undefined ? {} : { dictionary });
            return { store: opened.store, ledger, pending: opened.blocks, pendingLocations: opened.locations, rebuilt: true, discardedBytes: opened.discardedBytes };
        }
    } catch (error) {
        await ledger.close();
        throw error;
    }
}
