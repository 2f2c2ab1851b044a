// SPDX-License-Identifier: Apache-2.0
/**
 * Private data in a transaction's simulation on one org's peer, after Fabric 2.5's handler.go (collection read/write
 * permissions: memberOnlyRead, memberOnlyWrite), tx_simulator.go and query_executor.go (GetPrivateData,
 * GetPrivateDataHash, SetPrivateData, DeletePrivateData, PurgePrivateData, private range and rich queries): reads see
 * committed data of this peer only (a peer that is not a member holds hashes, no values), every read of a private key
 * is a hashed read, every write a hashed write plus a plaintext write that leaves the peer apart from the transaction.
 */
import { ChaincodeCollections, type CollectionConfig } from './collections';
import type { ValidEndorser } from './keyPolicy';
import { compareKeys } from './keys';
import { encodePrivateWrites, sha256, type CollectionHashedRwset, type CollectionPrivateWrites, type HashedMetadataWrite, type HashedRead, type HashedWrite, type PrivateWrite } from './privateRwset';
import type { PrivateDataStore } from './privateStore';
import { executeRichQuery, parseRichQuery } from './richQuery';
import type { TxSimulator } from './txSimulator';
import { WorldState, UpdateBatch, type Version, type VersionedKV } from './worldState';

/** What a private data simulation produced. */
export interface PrivateSimulationResults {
    /** The hashed read/write sets for the public rwset, sorted by collection. */
    readonly collections: readonly CollectionHashedRwset[];
    /** The plaintext writes, one entry per collection written (empty when none). */
    readonly writes: readonly CollectionPrivateWrites[];
    /** Collections read in plaintext (a gateway keeps such transactions on members). */
    readonly privateReads: readonly string[];
}

function versionText(version: Version | undefined): string {
    return version === undefined ? '<nil>' : `{BlockNum: ${version.blockNum}, TxNum: ${version.txNum}}`;
}

interface CollectionSets {
    readonly reads: Map<string, Version | undefined>;
    readonly writes: Map<string, { readonly value: Buffer; readonly purge: boolean }>;
    /** Each key's whole metadata after the transaction. */
    readonly metadataWrites: Map<string, ReadonlyMap<string, Buffer>>;
}

/** The private data side of one simulation, on the peer of `peerMspId`. */
export class PrivateDataSimulator {
    private readonly sets = new Map<string, CollectionSets>();
    private readonly privateReads = new Set<string>();
    private readonly permissions = new Map<string, { readonly read: boolean; readonly write: boolean }>();
    /** Whether the simulation read committed private or hashed state (reads a commit lock's footprint cannot list). */
    public storeRead = false;

    /**
     * @param creator the proposal's creator (MSP and role), whose membership memberOnlyRead/memberOnlyWrite check
     */
    public constructor(
        private readonly channelId: string,
        private readonly collections: ChaincodeCollections,
        private readonly peerMspId: string,
        private readonly creator: ValidEndorser,
        private readonly store: PrivateDataStore,
        private readonly simulator: TxSimulator,
    ) {}

    private get namespace(): string {
        return this.collections.namespace;
    }

    /** handler.go `errorIfCreatorHasNoReadPermission` / `...WritePermission` (store.go `RetrieveReadWritePermission`). */
    private permission(collection: string): { readonly read: boolean; readonly write: boolean } {
        let known = this.permissions.get(collection);
        if (known === undefined) {
            const config = this.collections.get(collection);
            if (config === undefined) {
                throw new Error(`collection ${this.channelId}/${this.namespace}/${collection} could not be found`);
            }
            const member = (config.memberOnlyRead || config.memberOnlyWrite) && ChaincodeCollections.isMember(config, this.creator);
            known = { read: member || !config.memberOnlyRead, write: member || !config.memberOnlyWrite };
            this.permissions.set(collection, known);
        }
        return known;
    }

    private checkRead(collection: string): void {
        if (!this.permission(collection).read) {
            throw new Error(`tx creator does not have read access permission on privatedata in chaincodeName:${this.namespace} collectionName: ${collection}`);
        }
    }

    private checkWrite(collection: string): void {
        if (!this.permission(collection).write) {
            throw new Error(`tx creator does not have write access permission on privatedata in chaincodeName:${this.namespace} collectionName: ${collection}`);
        }
    }

    /** collection_val.go `validateCollName`. */
    private config(collection: string): CollectionConfig {
        const config = this.collections.get(collection);
        if (config === undefined) {
            throw new Error(`collection [${collection}] not defined in the collection config for chaincode [${this.namespace}]`);
        }
        return config;
    }

    private setsOf(collection: string): CollectionSets {
        let sets = this.sets.get(collection);
        if (sets === undefined) {
            sets = { reads: new Map(), writes: new Map(), metadataWrites: new Map() };
            this.sets.set(collection, sets);
        }
        return sets;
    }

    private async committedHash(collection: string, key: string): Promise<{ readonly valueHash: Buffer; readonly version: Version; readonly metadata?: ReadonlyMap<string, Buffer> } | undefined> {
        this.storeRead = true;
        return (await this.store.hashed([{ namespace: this.namespace, collection, keyHash: sha256(key) }]))[0];
    }

    /** GetPrivateData: the peer's committed value, which must be the version the hashes say is current. */
    public async getPrivateData(collection: string, key: string): Promise<Uint8Array> {
        this.checkRead(collection);
        this.config(collection);
        this.storeRead = true;
        const [entry, hashed] = await Promise.all([
            this.store.private(this.peerMspId, this.namespace, collection, key),
            this.committedHash(collection, key),
        ]);
        const same = entry === undefined || hashed === undefined
            ? entry === hashed
            : entry.version.blockNum === hashed.version.blockNum && entry.version.txNum === hashed.version.txNum;
        if (!same) {
            throw new Error(`private data matching public hash version is not available. Public hash version = ${versionText(hashed?.version)}, Private data version = ${versionText(entry?.version)}`);
        }
        this.setsOf(collection).reads.set(key, entry?.version);
        this.privateReads.add(collection);
        return entry?.value ?? new Uint8Array(0);
    }

    /** GetPrivateDataHash: the committed value's SHA-256, which every peer holds; a hashed read. */
    public async getPrivateDataHash(collection: string, key: string): Promise<Uint8Array> {
        this.config(collection);
        const hashed = await this.committedHash(collection, key);
        this.setsOf(collection).reads.set(key, hashed?.version);
        return hashed?.valueHash ?? new Uint8Array(0);
    }

    /**
     * GetPrivateDataValidationParameter and the other private metadata reads (handler.go `HandleGetStateMetadata` with a
     * collection, query_executor.go `GetPrivateDataMetadata`): the key's committed metadata, which every peer holds with
     * the hashes; a hashed read of the key.
     */
    public async getPrivateDataMetadata(collection: string, key: string): Promise<ReadonlyMap<string, Buffer>> {
        this.checkRead(collection);
        this.config(collection);
        const hashed = await this.committedHash(collection, key);
        this.setsOf(collection).reads.set(key, hashed?.version);
        return hashed?.metadata ?? new Map<string, Buffer>();
    }

    /**
     * SetPrivateDataValidationParameter (handler.go `HandlePutStateMetadata` with a collection, tx_simulator.go
     * `SetPrivateDataMetadata`): the key's metadata becomes this one entry; it reads nothing.
     */
    public setPrivateDataMetadata(collection: string, key: string, name: string, value: Uint8Array): void {
        this.checkWrite(collection);
        this.config(collection);
        this.simulator.checkWritePrecondition(key, new Uint8Array(0));
        this.setsOf(collection).metadataWrites.set(key, new Map([[name, Buffer.from(value)]]));
    }

    /** PutPrivateData (an empty value deletes, FAB-18386). */
    public putPrivateData(collection: string, key: string, value: Uint8Array): void {
        this.checkWrite(collection);
        this.config(collection);
        this.simulator.checkWritePrecondition(key, value);
        this.setsOf(collection).writes.set(key, { value: Buffer.from(value), purge: false });
    }

    /** DelPrivateData. */
    public deletePrivateData(collection: string, key: string): void {
        this.putPrivateData(collection, key, new Uint8Array(0));
    }

    /** PurgePrivateData: deletes the key and, at commit, every earlier version of it a peer keeps. */
    public purgePrivateData(collection: string, key: string): void {
        if (collection === '') {
            throw new Error('only applicable for private data');
        }
        this.checkWrite(collection);
        this.config(collection);
        this.simulator.checkWritePrecondition(key, new Uint8Array(0));
        this.setsOf(collection).writes.set(key, { value: Buffer.alloc(0), purge: true });
    }

    /** GetPrivateDataByRange: this peer's committed values in [startKey, endKey); not recorded for validation. */
    public async getPrivateDataRange(collection: string, startKey: string, endKey: string, limit: number): Promise<VersionedKV[]> {
        this.checkRead(collection);
        this.simulator.checkBeforePvtdataQueries();
        this.config(collection);
        this.storeRead = true;
        return this.store.privateRange(this.peerMspId, this.namespace, collection, startKey, endKey, limit);
    }

    /** GetPrivateDataQueryResult: a CouchDB query over this peer's committed values of the collection. */
    public async executeQueryOnPrivateData(collection: string, query: string, limit: number): Promise<VersionedKV[]> {
        this.checkRead(collection);
        this.simulator.checkBeforePvtdataQueries();
        this.config(collection);
        const parsed = parseRichQuery(query);
        this.storeRead = true;
        const state = new WorldState();
        const batch = new UpdateBatch();
        for (const entry of await this.store.privateRange(this.peerMspId, this.namespace, collection, '', '', limit)) {
            batch.put(entry.key, entry.value, entry.version);
        }
        state.apply(batch);
        return [...(await executeRichQuery(state, parsed, '', 0)).results];
    }

    /** The hashed sets for the public rwset and the plaintext writes, as rwset_builder.go builds them. */
    public results(): PrivateSimulationResults {
        const collections: CollectionHashedRwset[] = [];
        const writes: CollectionPrivateWrites[] = [];
        for (const collection of [...this.sets.keys()].sort(compareKeys)) {
            const sets = this.sets.get(collection);
            if (sets === undefined) {
                continue;
            }
            const byKey = ([a]: [string, unknown], [b]: [string, unknown]): number => compareKeys(a, b);
            const reads: HashedRead[] = [...sets.reads].sort(byKey).map(([key, version]) => ({ keyHash: sha256(key), version: version ?? null }));
            const hashedWrites: HashedWrite[] = [];
            const plain: PrivateWrite[] = [];
            for (const [key, write] of [...sets.writes].sort(byKey)) {
                const isDelete = write.value.length === 0;
                hashedWrites.push({ keyHash: sha256(key), isDelete, valueHash: isDelete ? Buffer.alloc(0) : sha256(write.value), isPurge: write.purge });
                plain.push({ key, isDelete, value: write.value });
            }
            const metadataKeys = [...sets.metadataWrites.keys()].sort(compareKeys);
            const metadataWrites: HashedMetadataWrite[] = metadataKeys.map((key) => ({
                keyHash: sha256(key),
                entries: [...(sets.metadataWrites.get(key) ?? [])].sort(([a], [b]) => compareKeys(a, b)).map(([name, value]) => ({ name, value })),
            }));
            let pvtRwsetHash: Buffer = Buffer.alloc(0);
            if (plain.length > 0 || metadataKeys.length > 0) {
                const rwset = encodePrivateWrites(plain, metadataKeys);
                pvtRwsetHash = sha256(rwset);
                writes.push({ namespace: this.namespace, collection, writes: plain, ...(metadataKeys.length === 0 ? {} : { metadataKeys }), rwset });
            }
            collections.push({ collection, reads, writes: hashedWrites, ...(metadataWrites.length === 0 ? {} : { metadataWrites }), pvtRwsetHash });
        }
        return { collections, writes, privateReads: [...this.privateReads].sort(compareKeys) };
    }
}
