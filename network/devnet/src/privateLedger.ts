// SPDX-License-Identifier: Apache-2.0
/**
 * Private data at commit, after Fabric 2.5's committer: the hashed reads of each transaction are checked for MVCC
 * conflicts like public reads (validation/validator.go `validateNsHashedReadSets`); a valid transaction's hashed
 * writes update the hashed state every peer holds, and its private write sets — endorsed into the transient store, never
 * in the block — are checked against the hashes in the block and stored in plaintext only by the orgs whose peers are
 * members of the collection (gossip/privdata/coordinator.go `StoreBlock`); the rest hold the hashes only. Data whose
 * collection has a block-to-live is purged, values and hashes, when block `committed + blockToLive + 1` commits
 * (pvtstatepurgemgmt), and so are the stored write sets (pvtdatastorage). A private key's metadata (its key-level
 * endorsement policy, `SetPrivateDataValidationParameter`) lives with its hash, and a transaction writing the key needs
 * that policy satisfied instead of the collection's or the chaincode's (statebased/validator_keylevel.go).
 */
import path from 'node:path';
import { ChaincodeCollections, parseCollectionsConfig, type CollectionConfig } from './collections';
import { keyPolicySatisfied, validationParameterOf, type ValidEndorser } from './keyPolicy';
import type { OrderedTransaction, TxValidationCode } from './ledger';
import { decodeTxPvtRwset, encodeTxPvtRwset, filterTxPvtRwset, sha256, withoutKeyWrites, type CollectionHashedRwset, type CollectionPrivateWrites } from './privateRwset';
import { PrivateDataStore, type HashedEntry, type KeyExpiry, type KeyLocation, type PrivateBlockUpdate, type WriteSetExpiry } from './privateStore';
import { defined } from './defined';
import type { Version } from './worldState';

/** The private data side of validating one block (the hooks {@link validateBlock} calls for each transaction). */
export interface PrivateDataValidation {
    /** MVCC of the transaction's hashed reads (only called for a transaction valid so far): its code. */
    check(tx: OrderedTransaction, txNum: number): TxValidationCode;
    /** Records a valid transaction's hashed and private writes. */
    apply(tx: OrderedTransaction, version: Version): void;
    /**
     * The transaction's private writes (values and metadata) against their policies (validator_keylevel.go
     * `checkSBAndCCEP`): a key with a validation parameter needs it satisfied by `endorsers`, any other key its
     * collection's endorsement policy, or, for a collection without one, the chaincode's. Says whether every such
     * policy is satisfied, whether some write needs the chaincode's policy, and whether it wrote any private data.
     */
    endorsement(tx: OrderedTransaction, endorsers: readonly ValidEndorser[]): { readonly satisfied: boolean; readonly needsChaincodePolicy: boolean; readonly wrote: boolean };
}

/** Blocks an endorsed transaction's private writes wait in the transient store for its commit (Fabric's default). */
export const TRANSIENT_RETENTION_BLOCKS = 1000;

/** A hashed key's state as of the block's updates so far (valueHash undefined: absent). */
interface HashedState {
    readonly valueHash: Buffer | undefined;
    readonly version: Version;
    readonly metadata?: ReadonlyMap<string, Buffer>;
}

/** The keys a collection's hashed set writes, values or metadata (each once, as the hashes in the block are). */
function writtenKeyHashes(set: CollectionHashedRwset): Buffer[] {
    const seen = new Map<string, Buffer>();
    for (const { keyHash } of [...set.writes, ...(set.metadataWrites ?? [])]) {
        seen.set(keyHash.toString('hex'), keyHash);
    }
    return [...seen.values()];
}

function hashedId(namespace: string, collection: string, keyHash: Buffer): string {
    return `${namespace}\u0000${collection}\u0000${keyHash.toString('hex')}`;
}

function writeSetId(block: number, txNum: number): string {
    return `${block}/${txNum}`;
}

/** The writes of keys a stored write set holds. */
function keyLocationsOf(bytes: Uint8Array, block: number, txNum: number): KeyLocation[] {
    return decodeTxPvtRwset(bytes).flatMap(({ namespace, collection, writes }) => writes.map((w) => ({ namespace, collection, keyHash: sha256(w.key), block, txNum })));
}

function privateId(mspId: string, namespace: string, collection: string, key: string): string {
    return `${mspId}\u0000${namespace}\u0000${collection}\u0000${key}`;
}

function sameVersion(a: Version | undefined | null, b: Version | undefined | null): boolean {
    if (a === undefined || a === null || b === undefined || b === null) {
        return (a ?? undefined) === (b ?? undefined);
    }
    return a.blockNum === b.blockNum && a.txNum === b.txNum;
}

/** A block's private data, prefetched for validation, accumulating its updates. */
export class PreparedPrivateBlock implements PrivateDataValidation {
    private readonly hashedUpdates = new Map<string, HashedState & { readonly namespace: string; readonly collection: string; readonly keyHash: Buffer }>();
    private readonly privateUpdates: PrivateBlockUpdate['private'][number][] = [];
    private readonly writeSets: { block: number; txNum: number; bytes: Uint8Array | undefined }[] = [];
    private readonly keyExpiries: PrivateBlockUpdate['keyExpiries'][number][] = [];
    private readonly writeSetExpiries: PrivateBlockUpdate['writeSetExpiries'][number][] = [];
    private readonly consumed: string[] = [];
    /** The keys purged by the block's valid transactions. */
    private readonly purged: { readonly namespace: string; readonly collection: string; readonly keyHash: Buffer }[] = [];

    /** Whether bookkeeping of expiries falls due with this block (to be deleted, even if nothing else changes). */
    public get hasExpiries(): boolean {
        return this.expiring.keys.length > 0 || this.expiring.writeSets.length > 0;
    }

    public constructor(
        private readonly ledger: PrivateDataLedger,
        public readonly blockNumber: number,
        private readonly committedHashes: ReadonlyMap<string, HashedEntry>,
        private readonly transient: ReadonlyMap<string, Uint8Array>,
        /** Each org's committed private value of the keys whose metadata the block's transactions write, by {@link privateId}. */
        private readonly committedPrivate: ReadonlyMap<string, { readonly value: Buffer; readonly version: Version }>,
        private readonly expiring: { readonly keys: readonly KeyExpiry[]; readonly writeSets: readonly WriteSetExpiry[] },
        /**
         * The stored write sets the block may change — those expiring, and those holding writes of a key the block's
         * transactions purge — by {@link writeSetId}, and those locations by {@link hashedId} of the key.
         */
        private readonly stored: { readonly writeSets: ReadonlyMap<string, Uint8Array | undefined>; readonly purgeable: ReadonlyMap<string, readonly KeyLocation[]> },
    ) {}

    public endorsement(tx: OrderedTransaction, endorsers: readonly ValidEndorser[]): ReturnType<PrivateDataValidation['endorsement']> {
        let satisfied = true;
        let needsChaincodePolicy = false;
        let wrote = false;
        for (const { namespace, rwset } of tx.rwsets) {
            for (const set of rwset.collections ?? []) {
                const collectionPolicy = this.ledger.collection(namespace, set.collection)?.endorsementPolicy;
                for (const keyHash of writtenKeyHashes(set)) {
                    wrote = true;
                    const parameter = validationParameterOf(this.latest(namespace, set.collection, keyHash)?.metadata);
                    if (parameter !== undefined) {
                        satisfied &&= keyPolicySatisfied(parameter, endorsers);
                    } else if (collectionPolicy === undefined) {
                        needsChaincodePolicy = true;
                    } else {
                        satisfied &&= keyPolicySatisfied(collectionPolicy.envelope, endorsers);
                    }
                }
            }
        }
        return { satisfied, needsChaincodePolicy, wrote };
    }

    /** A hashed key as of the block's valid transactions so far, else as committed (undefined: never written). */
    private latest(namespace: string, collection: string, keyHash: Buffer): HashedState | undefined {
        const id = hashedId(namespace, collection, keyHash);
        return this.hashedUpdates.get(id) ?? this.committedHashes.get(id);
    }

    /** An org's private value of a key as of the block's valid transactions so far, else as committed. */
    private latestPrivate(mspId: string, namespace: string, collection: string, key: string): { readonly value: Buffer | undefined; readonly version: Version } | undefined {
        for (let i = this.privateUpdates.length - 1; i >= 0; i--) {
            const update = defined(this.privateUpdates[i]);
            if (update.mspId === mspId && update.namespace === namespace && update.collection === collection && update.key === key) {
                return update;
            }
        }
        return this.committedPrivate.get(privateId(mspId, namespace, collection, key));
    }

    public check(tx: OrderedTransaction): TxValidationCode {
        for (const { namespace, rwset } of tx.rwsets) {
            for (const collection of rwset.collections ?? []) {
                for (const read of collection.reads) {
                    const id = hashedId(namespace, collection.collection, read.keyHash);
                    if (this.hashedUpdates.has(id) || !sameVersion(this.committedHashes.get(id)?.version, read.version)) {
                        return 'MVCC_READ_CONFLICT';
                    }
                }
            }
        }
        return 'VALID';
    }

    public apply(tx: OrderedTransaction, version: Version): void {
        const stored = tx.txId === '' ? undefined : this.transient.get(tx.txId);
        const plaintext = stored === undefined ? [] : decodeTxPvtRwset(stored);
        const kept: CollectionPrivateWrites[] = [];
        for (const { namespace, rwset } of tx.rwsets) {
            for (const hashedSet of rwset.collections ?? []) {
                // The plaintext counts only if it is what the endorsers hashed (coordinator.go checks the same).
                const writes = hashedSet.writes.length === 0 && (hashedSet.metadataWrites ?? []).length === 0
                    ? undefined
                    : plaintext.find((p) => p.namespace === namespace && p.collection === hashedSet.collection && sha256(p.rwset).equals(hashedSet.pvtRwsetHash));
                this.applyHashed(namespace, hashedSet, writes, version);
                this.applyMetadataOnly(namespace, hashedSet, writes, version);
                if (writes !== undefined && this.storePrivate(writes, version)) {
                    kept.push(writes);
                }
            }
        }
        if (stored !== undefined) {
            this.consumed.push(tx.txId);
        }
        if (kept.length > 0) {
            this.writeSets.push({ block: this.blockNumber, txNum: version.txNum, bytes: encodeTxPvtRwset(kept) });
        }
        this.applyPurges(tx);
    }

    /**
     * PurgePrivateData: the key's writes leave the block's write sets kept so far, this transaction's included (a purge
     * marker at the purging transaction's height, pvtdatastorage `removePurgedDataFromCollPvtRWset`), and, at
     * {@link update}, those of earlier blocks.
     */
    private applyPurges(tx: OrderedTransaction): void {
        for (const { namespace, rwset } of tx.rwsets) {
            for (const { collection, writes } of rwset.collections ?? []) {
                for (const { keyHash } of writes.filter((w) => w.isPurge)) {
                    this.purged.push({ namespace, collection, keyHash });
                    for (const writeSet of this.writeSets) {
                        writeSet.bytes = writeSet.bytes === undefined ? undefined : (withoutKeyWrites(writeSet.bytes, namespace, collection, keyHash) ?? writeSet.bytes);
                    }
                }
            }
        }
    }

    /**
     * A valid transaction's hashed writes of one collection, and when they expire (with or without the values). A value
     * write keeps the key's metadata unless the transaction also writes that (tx_ops.go `prepareTxOps`).
     */
    private applyHashed(namespace: string, hashedSet: CollectionHashedRwset, writes: CollectionPrivateWrites | undefined, version: Version): void {
        const { collection } = hashedSet;
        for (const write of hashedSet.writes) {
            const id = hashedId(namespace, collection, write.keyHash);
            if (write.isDelete) {
                this.hashedUpdates.set(id, { namespace, collection, keyHash: write.keyHash, valueHash: undefined, version });
                continue;
            }
            const metadataWrite = hashedSet.metadataWrites?.find((m) => m.keyHash.equals(write.keyHash));
            const metadata = metadataWrite === undefined
                ? this.latest(namespace, collection, write.keyHash)?.metadata
                : new Map(metadataWrite.entries.map((entry) => [entry.name, entry.value]));
            this.hashedUpdates.set(id, { namespace, collection, keyHash: write.keyHash, valueHash: write.valueHash, version, ...(metadata === undefined || metadata.size === 0 ? {} : { metadata }) });
            this.scheduleExpiry(namespace, collection, write.keyHash, writes?.writes.find((w) => sha256(w.key).equals(write.keyHash))?.key ?? '');
        }
    }

    /**
     * A valid transaction's writes of a private key's metadata alone: the key keeps its value hash and takes the new
     * metadata and the transaction's version, and so does its value on each peer that holds the matching value
     * (batch_preparer.go `incrementPvtdataVersionIfNeeded`); a key that does not exist is left alone.
     */
    private applyMetadataOnly(namespace: string, hashedSet: CollectionHashedRwset, writes: CollectionPrivateWrites | undefined, version: Version): void {
        const { collection } = hashedSet;
        for (const write of hashedSet.metadataWrites ?? []) {
            if (hashedSet.writes.some((w) => w.keyHash.equals(write.keyHash))) {
                continue;
            }
            const current = this.latest(namespace, collection, write.keyHash);
            if (current?.valueHash === undefined) {
                continue;
            }
            const metadata = new Map(write.entries.map((entry) => [entry.name, entry.value]));
            this.hashedUpdates.set(hashedId(namespace, collection, write.keyHash), { namespace, collection, keyHash: write.keyHash, valueHash: current.valueHash, version, ...(metadata.size === 0 ? {} : { metadata }) });
            const key = writes?.metadataKeys?.find((k) => sha256(k).equals(write.keyHash)) ?? '';
            this.scheduleExpiry(namespace, collection, write.keyHash, key);
            for (const mspId of key === '' ? [] : this.ledger.orgs) {
                const value = this.latestPrivate(mspId, namespace, collection, key)?.value;
                if (value !== undefined && sha256(value).equals(current.valueHash)) {
                    this.privateUpdates.push({ mspId, namespace, collection, key, value, version });
                }
            }
        }
    }

    /** The hashes (and values) of a key written now expire with the collection's block-to-live (pvtstatepurgemgmt). */
    private scheduleExpiry(namespace: string, collection: string, keyHash: Buffer, key: string): void {
        const btl = this.ledger.collection(namespace, collection)?.blockToLive ?? 0;
        if (btl > 0) {
            this.keyExpiries.push({ expiringBlock: this.blockNumber + btl + 1, committingBlock: this.blockNumber, namespace, collection, keyHash, key });
        }
    }

    /** A valid transaction's plaintext writes of one collection, on its members' peers; false for an unknown collection. */
    private storePrivate(writes: CollectionPrivateWrites, version: Version): boolean {
        const { namespace, collection } = writes;
        const config = this.ledger.collection(namespace, collection);
        if (config === undefined) {
            return false;
        }
        for (const member of this.ledger.orgs.filter((mspId) => ChaincodeCollections.peerIsMember(config, mspId))) {
            for (const write of writes.writes) {
                this.privateUpdates.push({ mspId: member, namespace, collection, key: write.key, value: write.isDelete ? undefined : write.value, version });
            }
        }
        if (config.blockToLive > 0) {
            this.writeSetExpiries.push({ expiringBlock: this.blockNumber + config.blockToLive + 1, block: this.blockNumber, txNum: version.txNum, namespace, collection });
        }
        return true;
    }

    /** The block's changes: its valid transactions' writes, then what expires with it. */
    public update(): PrivateBlockUpdate {
        for (const expiry of this.expiring.keys) {
            const id = hashedId(expiry.namespace, expiry.collection, expiry.keyHash);
            // A key written again since (or in this block) lives on with its new version.
            if (this.hashedUpdates.has(id) || this.committedHashes.get(id)?.version.blockNum !== expiry.committingBlock) {
                continue;
            }
            this.hashedUpdates.set(id, { namespace: expiry.namespace, collection: expiry.collection, keyHash: expiry.keyHash, valueHash: undefined, version: { blockNum: this.blockNumber, txNum: 0 } });
            for (const mspId of expiry.key === '' ? [] : this.ledger.orgs) {
                this.privateUpdates.push({ mspId, namespace: expiry.namespace, collection: expiry.collection, key: expiry.key, value: undefined, version: { blockNum: this.blockNumber, txNum: 0 } });
            }
        }
        const rewritten = new Map<string, { block: number; txNum: number; bytes: Uint8Array | undefined }>();
        const current = (block: number, txNum: number): Uint8Array | undefined => {
            const id = writeSetId(block, txNum);
            return rewritten.has(id) ? rewritten.get(id)?.bytes : this.stored.writeSets.get(id);
        };
        const droppedKeyLocations: KeyLocation[] = [];
        for (const expiry of this.expiring.writeSets) {
            const bytes = current(expiry.block, expiry.txNum);
            if (bytes === undefined) {
                continue;
            }
            droppedKeyLocations.push(...keyLocationsOf(bytes, expiry.block, expiry.txNum).filter((l) => l.namespace === expiry.namespace && l.collection === expiry.collection));
            rewritten.set(writeSetId(expiry.block, expiry.txNum), { block: expiry.block, txNum: expiry.txNum, bytes: filterTxPvtRwset(bytes, (ns, coll) => ns !== expiry.namespace || coll !== expiry.collection) });
        }
        // The purged keys' writes leave the write sets of earlier blocks too.
        for (const { namespace, collection, keyHash } of this.purged) {
            for (const location of this.stored.purgeable.get(hashedId(namespace, collection, keyHash)) ?? []) {
                droppedKeyLocations.push(location);
                const bytes = current(location.block, location.txNum);
                const without = bytes === undefined ? undefined : withoutKeyWrites(bytes, namespace, collection, keyHash);
                if (without !== undefined) {
                    rewritten.set(writeSetId(location.block, location.txNum), { block: location.block, txNum: location.txNum, bytes: without });
                }
            }
        }
        return {
            blockNumber: this.blockNumber,
            hashed: [...this.hashedUpdates.values()],
            private: this.privateUpdates,
            writeSets: [...this.writeSets, ...rewritten.values()],
            keyExpiries: this.keyExpiries,
            writeSetExpiries: this.writeSetExpiries,
            keyLocations: this.writeSets.flatMap((w) => (w.bytes === undefined ? [] : keyLocationsOf(w.bytes, w.block, w.txNum))),
            droppedKeyLocations,
            consumedTransient: this.consumed,
            // gossip's transientstoreMaxBlockRetention (1000 by default): endorsements never ordered are forgotten.
            transientRetainedFrom: Math.max(0, this.blockNumber - TRANSIENT_RETENTION_BLOCKS),
        };
    }
}

/**
 * Replays a block whose private data was already committed (a crash between the private store's write and the ledger
 * indexes'): hashed-read conflicts are taken from the validation codes recorded in the block.
 */
export class ReplayedPrivateBlock implements PrivateDataValidation {
    public constructor(private readonly recordedCodes: readonly number[], private readonly mvccConflictCode: number) {}

    public check(_tx: OrderedTransaction, txNum: number): TxValidationCode {
        return this.recordedCodes[txNum] === this.mvccConflictCode ? 'MVCC_READ_CONFLICT' : 'VALID';
    }

    public apply(): void {
        // Already in the private data store.
    }

    public endorsement(): ReturnType<PrivateDataValidation['endorsement']> {
        // Replayed transactions carry no endorsers to check (their recorded codes say).
        return { satisfied: true, needsChaincodePolicy: false, wrote: false };
    }
}

/** The channel's private data: collection definitions, the peers' private store, validation and commit. */
export class PrivateDataLedger {
    private readonly definitions = new Map<string, ChaincodeCollections>();
    /** The ledger height, what endorsements in the transient store are dated with. */
    private height = 0;

    private constructor(
        private readonly store: PrivateDataStore,
        /** The channel's orgs, by MSP id. */
        public readonly orgs: readonly string[],
    ) {}

    /** Opens the private data store of `channel` in `dir` (`<channel>.pvt.db`) and the collection definitions it holds. */
    public static async open(dir: string, channel: string, orgs: readonly string[]): Promise<PrivateDataLedger> {
        const store = await PrivateDataStore.open(path.join(dir, `${channel}.pvt.db`));
        const ledger = new PrivateDataLedger(store, orgs);
        try {
            for (const [namespace, config] of await store.collectionConfigs()) {
                ledger.definitions.set(namespace, new ChaincodeCollections(namespace, parseCollectionsConfig(config, orgs), orgs));
            }
        } catch (error) {
            await store.close();
            throw error;
        }
        return ledger;
    }

    /** Records the ledger height (at start, once the block file is read). */
    public noteHeight(height: number): void {
        this.height = Math.max(this.height, height);
    }

    /** The private data store (reads during simulation). */
    public get privateStore(): PrivateDataStore {
        return this.store;
    }

    /** The last block whose private data is committed. */
    public get savepoint(): number | undefined {
        return this.store.savepoint;
    }

    /**
     * Defines the collections of chaincode `namespace` from its collections configuration (JSON text or parsed; none:
     * only the orgs' implicit collections), durably. Throws {@link CollectionConfigError}.
     */
    public async define(namespace: string, config: unknown): Promise<ChaincodeCollections> {
        const parsed = config === undefined ? [] : parseCollectionsConfig(config, this.orgs);
        const collections = new ChaincodeCollections(namespace, parsed, this.orgs);
        await this.store.putCollectionConfig(namespace, JSON.stringify(config === undefined ? [] : typeof config === 'string' ? JSON.parse(config) : config));
        this.definitions.set(namespace, collections);
        return collections;
    }

    /** The collections of chaincode `namespace` (the implicit ones when none were defined). */
    public collectionsOf(namespace: string): ChaincodeCollections {
        let collections = this.definitions.get(namespace);
        if (collections === undefined) {
            collections = new ChaincodeCollections(namespace, [], this.orgs);
            this.definitions.set(namespace, collections);
        }
        return collections;
    }

    /** A collection's definition, if chaincode `namespace` has it. */
    public collection(namespace: string, collection: string): CollectionConfig | undefined {
        return this.collectionsOf(namespace).get(collection);
    }

    /**
     * The committed key-level policies of the private keys a simulation of chaincode `namespace` wrote (values or
     * metadata), as Fabric's simulator collects them for the chaincode interest (tx_simulator.go
     * `checkPrivateStateMetadata`), and the collections written that have a key without one (whose collection or
     * chaincode policy the endorsements need).
     */
    public async writtenKeyPolicies(namespace: string, collections: readonly CollectionHashedRwset[]): Promise<{ readonly keyPolicies: Buffer[]; readonly collectionsWithoutKeyPolicy: string[] }> {
        const written = collections.flatMap((set) => writtenKeyHashes(set).map((keyHash) => ({ namespace, collection: set.collection, keyHash })));
        const entries = await this.store.hashed(written);
        const keyPolicies: Buffer[] = [];
        const withoutPolicy = new Set<string>();
        written.forEach(({ collection }, i) => {
            const parameter = validationParameterOf(entries[i]?.metadata);
            if (parameter === undefined) {
                withoutPolicy.add(collection);
            } else {
                keyPolicies.push(parameter);
            }
        });
        return { keyPolicies, collectionsWithoutKeyPolicy: collections.map((c) => c.collection).filter((c) => withoutPolicy.has(c)) };
    }

    /** Keeps an endorsed transaction's private writes until it commits (the endorsing peer's transient store). */
    public async keepTransient(txId: string, writes: readonly CollectionPrivateWrites[]): Promise<void> {
        if (writes.length > 0) {
            await this.store.putTransient(txId, encodeTxPvtRwset(writes), this.height);
        }
    }

    /** Prefetches what validating and committing block `blockNumber` needs from the store. */
    public async prepare(blockNumber: number, transactions: readonly OrderedTransaction[]): Promise<PreparedPrivateBlock> {
        const expiring = await this.store.expiringAt(blockNumber);
        const wanted = new Map<string, { readonly namespace: string; readonly collection: string; readonly keyHash: Buffer }>();
        for (const tx of transactions) {
            for (const { namespace, rwset } of tx.rwsets) {
                for (const set of rwset.collections ?? []) {
                    for (const { keyHash } of [...set.reads, ...set.writes, ...(set.metadataWrites ?? [])]) {
                        wanted.set(hashedId(namespace, set.collection, keyHash), { namespace, collection: set.collection, keyHash });
                    }
                }
            }
        }
        for (const expiry of expiring.keys) {
            wanted.set(hashedId(expiry.namespace, expiry.collection, expiry.keyHash), expiry);
        }
        const keys = [...wanted.values()];
        const entries = await this.store.hashed(keys);
        const committed = new Map<string, HashedEntry>();
        keys.forEach((key, i) => {
            const entry = entries[i];
            if (entry !== undefined) {
                committed.set(hashedId(key.namespace, key.collection, key.keyHash), entry);
            }
        });
        const txIds = transactions.filter((tx) => tx.txId !== '' && tx.rwsets.some((ns) => (ns.rwset.collections ?? []).some((c) => c.writes.length > 0 || (c.metadataWrites ?? []).length > 0))).map((tx) => tx.txId);
        const stored = await this.store.transient(txIds);
        const transient = new Map<string, Uint8Array>();
        const metadataOnly: { readonly mspId: string; readonly namespace: string; readonly collection: string; readonly key: string }[] = [];
        const writingMetadata = new Set(transactions.filter((tx) => tx.rwsets.some((ns) => (ns.rwset.collections ?? []).some((c) => (c.metadataWrites ?? []).length > 0))).map((tx) => tx.txId));
        txIds.forEach((txId, i) => {
            const bytes = stored[i];
            if (bytes !== undefined) {
                transient.set(txId, bytes);
                for (const { namespace, collection, metadataKeys } of writingMetadata.has(txId) ? decodeTxPvtRwset(bytes) : []) {
                    for (const key of metadataKeys ?? []) {
                        metadataOnly.push(...this.orgs.map((mspId) => ({ mspId, namespace, collection, key })));
                    }
                }
            }
        });
        const committedPrivate = new Map<string, { readonly value: Buffer; readonly version: Version }>();
        await Promise.all(metadataOnly.map(async ({ mspId, namespace, collection, key }) => {
            const entry = await this.store.private(mspId, namespace, collection, key);
            if (entry !== undefined) {
                committedPrivate.set(privateId(mspId, namespace, collection, key), entry);
            }
        }));
        // The write sets holding earlier writes of the keys the block's transactions purge (if they commit).
        const purgeable = new Map<string, KeyLocation[]>();
        for (const tx of transactions) {
            for (const { namespace, rwset } of tx.rwsets) {
                for (const { collection, writes } of rwset.collections ?? []) {
                    for (const { keyHash } of writes.filter((w) => w.isPurge)) {
                        const id = hashedId(namespace, collection, keyHash);
                        if (!purgeable.has(id)) {
                            purgeable.set(id, await this.store.keyLocations(namespace, collection, keyHash));
                        }
                    }
                }
            }
        }
        const locations = new Map<string, { readonly block: number; readonly txNum: number }>();
        for (const location of [...expiring.writeSets, ...[...purgeable.values()].flat()]) {
            locations.set(writeSetId(location.block, location.txNum), location);
        }
        const writeSets = new Map<string, Uint8Array | undefined>();
        await Promise.all([...locations].map(async ([id, { block, txNum }]) => {
            writeSets.set(id, await this.store.writeSet(block, txNum));
        }));
        return new PreparedPrivateBlock(this, blockNumber, committed, transient, committedPrivate, expiring, { writeSets, purgeable });
    }

    /**
     * Commits a prepared block's private data (after the block is in the block file, before the ledger indexes). A
     * block that changes nothing here is not written (the savepoint then names the last block that did).
     */
    public async commit(prepared: PreparedPrivateBlock): Promise<void> {
        const update = prepared.update();
        this.height = Math.max(this.height, prepared.blockNumber + 1);
        const changes = update.hashed.length + update.private.length + update.writeSets.length + update.keyExpiries.length + update.writeSetExpiries.length + update.consumedTransient.length + update.droppedKeyLocations.length;
        if (changes > 0 || prepared.hasExpiries || (update.transientRetainedFrom > 0 && update.blockNumber % 100 === 0)) {
            await this.store.commit(update);
        }
    }

    /**
     * The private write sets of block `blockNumber` that `identity` may receive (DeliverWithPrivateData): by
     * transaction number, the collections whose member policy the identity satisfies.
     */
    public async blockPrivateData(blockNumber: number, identity: ValidEndorser): Promise<Map<number, Uint8Array>> {
        const out = new Map<number, Uint8Array>();
        for (const [txNum, bytes] of await this.store.writeSets(blockNumber)) {
            const eligible = filterTxPvtRwset(bytes, (namespace, collection) => {
                const config = this.collection(namespace, collection);
                return config !== undefined && ChaincodeCollections.isMember(config, identity);
            });
            if (eligible !== undefined) {
                out.set(txNum, eligible);
            }
        }
        return out;
    }

    public close(): Promise<void> {
        return this.store.close();
    }
}
