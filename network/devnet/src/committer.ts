// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet's committing peer: validates each ordered block as Fabric's committer does (envelope signature,
 * endorsement policy, MVCC against the world state), appends it to the durable block store with its validation codes,
 * then writes its state updates, history and indexes durably ({@link DurableLedger}), and only then reports its
 * transactions' statuses and chaincode events. At start only the blocks after the ledger's savepoint are read and
 * committed again (a crash between a block's append and its index write), so starting costs the same at any height.
 * Blocks, statuses and events of earlier blocks are read from the block store and the indexes when asked for.
 */
import { common, peer as peerProtos } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderHash, type BlockStore } from './blockStore';
import { makeRoom } from './bounded';
import type { ChannelPolicy, Endorsement } from './channelPolicy';
import { defined } from './defined';
import { openLedger, type AppendedBlock, type DurableLedger, type ValidatedBlock } from './durableLedger';
import type { OrderedTransaction, TxValidationCode } from './ledger';
import { PrivateDataLedger, ReplayedPrivateBlock } from './privateLedger';
import { ProtoReader } from './protoReader';
import { decodeRwsets } from './rwsetCodec';
import type { StateChange, StateLock } from './stateLock';
import type { Org } from './orgs';
import { inRange } from './worldState';

type Block = InstanceType<typeof common.Block>;
type ProtoChaincodeEvent = InstanceType<typeof peerProtos.ChaincodeEvent>;

/** A committed transaction's status. */
export interface TxStatus {
    readonly code: number;
    readonly blockNumber: number;
}

/** A chaincode event of a valid transaction, as the gateway's ChaincodeEvents service delivers it. */
export interface CommittedEvent {
    readonly blockNumber: number;
    readonly event: ProtoChaincodeEvent;
}

interface ParsedTransaction {
    readonly ordered: OrderedTransaction;
    readonly badPayload: boolean;
    readonly event?: ProtoChaincodeEvent;
}

/** An ordered transaction decoded and checked against everything that reads no state (see {@link Committer.check}). */
export type CheckedTransaction = ParsedTransaction;

/** A block the orderer cut: its envelopes, in order, with their {@link Committer.check}s. */
export interface OrderedBlock {
    readonly envelopes: readonly Uint8Array[];
    readonly checked: readonly CheckedTransaction[];
}

/** Whether a transaction reads or writes private data (its rwsets name collections). */
function touchesPrivateData(tx: OrderedTransaction): boolean {
    return tx.rwsets.some(({ rwset }) => (rwset.collections ?? []).length > 0);
}

/** What checking a decoded transaction against the endorsement policy needs. */
interface PolicyInputs {
    /** The envelope's payload and signature, and the payload's creator (undefined: its signature header is malformed). */
    readonly payload: Uint8Array;
    readonly signature: Uint8Array;
    readonly creator: Uint8Array | undefined;
    readonly prpBytes: Uint8Array;
    readonly endorsements: readonly Endorsement[];
    readonly namespace: string;
    readonly status: number;
}

const TX_CODE_NUMBERS: Readonly<Record<TxValidationCode, number>> = {
    VALID: peerProtos.TxValidationCode.VALID,
    MVCC_READ_CONFLICT: peerProtos.TxValidationCode.MVCC_READ_CONFLICT,
    PHANTOM_READ_CONFLICT: peerProtos.TxValidationCode.PHANTOM_READ_CONFLICT,
    DUPLICATE_TXID: peerProtos.TxValidationCode.DUPLICATE_TXID,
    ENDORSEMENT_POLICY_FAILURE: peerProtos.TxValidationCode.ENDORSEMENT_POLICY_FAILURE,
};

/** How many transaction ids found absent from the index are remembered (see {@link Committer.isCommitted}). */
const NOT_INDEXED_CAPACITY = 100_000;

/**
 * How many of the latest committed transactions' statuses are kept at hand (about 15 MB). Each is in the ledger's
 * transaction index before it is kept here, so an older one is read from the index instead.
 */
const RECENT_STATUS_CAPACITY = 100_000;

/** How many recent blocks' chaincode events are kept at hand for event streams following the chain. */
const RECENT_EVENT_BLOCKS = 256;

/** Validates and commits ordered blocks to the ledger and the block store; answers what was committed. */
export class Committer {
    /** Statuses of the latest committed transactions (all of them are in the ledger's index too). */
    private readonly statuses = new Map<string, TxStatus>();
    private readonly statusWaiters = new Map<string, ((status: TxStatus) => void)[]>();
    /**
     * Transaction ids this process looked up in the transaction index and did not find (a proposal's duplicate
     * check). Only this process adds to the index, and what it commits is in {@link statuses}: until then such an id
     * is still not indexed, and its commit status needs no second look-up.
     */
    private readonly notIndexed = new Set<string>();
    private readonly recentEvents = new Map<number, readonly CommittedEvent[]>();
    private readonly blockListeners = new Set<(blockNumber: number) => void>();

    private constructor(
        private readonly store: BlockStore,
        /** The durable ledger (state per namespace, history, indexes), the endorsers' source of committed state. */
        public readonly ledger: DurableLedger,
        private readonly lock: StateLock,
        private readonly policy: ChannelPolicy,
        /** The peers' private data: collections, hashed and private state, transient store. */
        public readonly privateData: PrivateDataLedger,
    ) {}

    /**
     * Opens the channel's ledger in `dir` (block file and indexes), writes the genesis block (holding the channel
     * configuration transaction `genesisEnvelope` builds) to a new one and commits again the blocks an earlier run
     * appended but did not index. `dictionary` compresses a new block file's blocks.
     */
    public static async open(dir: string, channel: string, lock: StateLock, policy: ChannelPolicy, genesisEnvelope: () => Uint8Array, dictionary?: Uint8Array): Promise<Committer> {
        const opened = await openLedger(dir, channel, dictionary);
        let privateData: PrivateDataLedger;
        try {
            privateData = await PrivateDataLedger.open(dir, channel, [...policy.members.msps.keys()]);
        } catch (error) {
            opened.store.close();
            await opened.ledger.close();
            throw error;
        }
        const committer = new Committer(opened.store, opened.ledger, lock, policy, privateData);
        try {
            if (opened.rebuilt) {
                process.stderr.write(`devnet: the ledger indexes in ${dir} did not match the block file; rebuilding them from its ${opened.pending.length} blocks\n`);
            }
            for (const [i, block] of opened.pending.entries()) {
                await committer.catchUp(block, defined(opened.pendingLocations[i]));
            }
            privateData.noteHeight(opened.store.height);
            if (opened.store.height === 0) {
                const validated = await opened.ledger.validate([]);
                const genesis = committer.buildBlock(0, [genesisEnvelope()], [peerProtos.TxValidationCode.VALID]);
                const location = await opened.store.append(genesis);
                await opened.ledger.commit(validated, { location, headerHash: blockHeaderHash(defined(genesis.getHeader())), codes: [] });
            }
            return committer;
        } catch (error) {
            await committer.close();
            throw error;
        }
    }

    /** Ledger height (number of blocks, genesis included). */
    public get height(): number {
        return this.store.height;
    }

    /** Whether a transaction with this id was committed (valid or not). */
    public async isCommitted(txId: string): Promise<boolean> {
        if (this.statuses.has(txId)) {
            return true;
        }
        if ((await this.ledger.txStatus(txId)) !== undefined) {
            return true;
        }
        if (!this.statuses.has(txId)) {
            makeRoom(this.notIndexed, NOT_INDEXED_CAPACITY);
            this.notIndexed.add(txId);
        }
        return false;
    }

    /**
     * The checks of an envelope the orderer accepted that read no state: decoding, and the endorsements against the
     * chaincode's policy (the signatures made on the thread pool). The orderer verified the creator's signature over
     * these very bytes before accepting them, so it is not verified a second time. They run while the transaction
     * waits for its block, so a block's commit does not wait for them.
     */
    public check(envelopeBytes: Uint8Array): Promise<CheckedTransaction> {
        return this.checkTransaction(envelopeBytes, true);
    }

    /**
     * Validates the ordered `envelopes` as the next block (MVCC against committed state, key-level policies,
     * duplicate ids), stores it and reports its transactions; `checked` are their {@link check}s. Blocks commit one
     * after the other.
     */
    public async commitBlock(envelopes: readonly Uint8Array[], checked?: readonly CheckedTransaction[]): Promise<void> {
        const parsed = checked ?? await Promise.all(envelopes.map((bytes) => this.checkTransaction(bytes, false)));
        // Committed state changes only here, one block after the other: validating the block, building it and making
        // it durable in the block file read it without holding the commit lock, so simulations go on meanwhile. The
        // lock is held only while the block's updates are written to the state simulations read.
        const number = this.store.height;
        const ordered = parsed.map((p) => p.ordered);
        const privateBlock = await this.privateData.prepare(number, ordered);
        const validated = await this.ledger.validate(ordered, privateBlock);
        const numeric = validated.codes.map((code, i) => defined(parsed[i]).badPayload ? peerProtos.TxValidationCode.BAD_PAYLOAD : TX_CODE_NUMBERS[code]);
        const block = this.buildBlock(number, envelopes, numeric);
        // The block is durable in the block file before the private data, the state and the indexes say it is
        // committed; the private data before the indexes, so that a restart replays the block's private part. Both
        // under the lock: a simulation sees the private and the public state of the same block.
        const location = await this.store.append(block);
        await this.lock.exclusive(async () => {
            await this.privateData.commit(privateBlock);
            await this.ledger.commit(validated, { location, headerHash: blockHeaderHash(defined(block.getHeader())), codes: numeric });
        }, stateChangeOf([validated]));
        this.recordBlock(number, parsed, numeric);
    }

    /**
     * Commits the next blocks, in order, as {@link commitBlock} would one after the other, but together: validated in
     * one pass (each against the state the blocks before it leave), appended with one fsync, and written under one
     * hold of the commit lock. Blocks queue up behind a commit when transactions come faster than one block's commit
     * takes; committing them together spends the per-block costs once. Blocks with private data commit one by one.
     */
    public async commitBlocks(blocks: readonly OrderedBlock[]): Promise<void> {
        if (blocks.length === 1 || blocks.some((block) => block.checked.some((tx) => touchesPrivateData(tx.ordered)))) {
            for (const block of blocks) {
                await this.commitBlock(block.envelopes, block.checked);
            }
            return;
        }
        const first = this.store.height;
        const privateBlocks = await Promise.all(blocks.map((block, i) => this.privateData.prepare(first + i, block.checked.map((tx) => tx.ordered))));
        const validated = await this.ledger.validateBlocks(blocks.map((block, i) => ({ transactions: block.checked.map((tx) => tx.ordered), privateData: defined(privateBlocks[i]) })));
        const appended: AppendedBlock[] = [];
        for (const [i, block] of blocks.entries()) {
            const numeric = defined(validated[i]).codes.map((code, t) => defined(block.checked[t]).badPayload ? peerProtos.TxValidationCode.BAD_PAYLOAD : TX_CODE_NUMBERS[code]);
            const built = this.buildBlock(first + i, block.envelopes, numeric);
            // One fsync, after the last block's write, makes the whole group durable before any of it is committed.
            const location = await this.store.append(built, { sync: i === blocks.length - 1 });
            appended.push({ location, headerHash: blockHeaderHash(defined(built.getHeader())), codes: numeric });
        }
        await this.lock.exclusive(async () => {
            for (const [i, privateBlock] of privateBlocks.entries()) {
                await this.privateData.commit(privateBlock);
                await this.ledger.commit(defined(validated[i]), defined(appended[i]));
            }
        }, stateChangeOf(validated));
        blocks.forEach((block, i) => { this.recordBlock(first + i, block.checked, defined(appended[i]).codes); });
    }

    /** The status of a committed transaction, waiting for its commit if needed. */
    public async commitStatus(txId: string): Promise<TxStatus> {
        const known = this.statuses.get(txId);
        if (known !== undefined) {
            return known;
        }
        // Wait first, then look in the index: a commit in between resolves the wait.
        let resolveWait: (status: TxStatus) => void = () => undefined;
        const waiting = new Promise<TxStatus>((resolve) => {
            resolveWait = resolve;
            const waiters = this.statusWaiters.get(txId) ?? [];
            waiters.push(resolve);
            this.statusWaiters.set(txId, waiters);
        });
        if (this.notIndexed.has(txId)) {
            return waiting;
        }
        const indexed = await this.ledger.txStatus(txId);
        if (indexed !== undefined) {
            const others = (this.statusWaiters.get(txId) ?? []).filter((waiter) => waiter !== resolveWait);
            if (others.length === 0) {
                this.statusWaiters.delete(txId);
            } else {
                this.statusWaiters.set(txId, others);
            }
            return { code: indexed.code, blockNumber: indexed.blockNumber };
        }
        return waiting;
    }

    /** The committed block `blockNumber`, serialized (undefined beyond the height). */
    public async blockBytes(blockNumber: number): Promise<Uint8Array | undefined> {
        if (blockNumber >= this.store.height) {
            return undefined;
        }
        const location = await this.ledger.blockLocation(blockNumber);
        return location === undefined ? undefined : this.store.read(location);
    }

    /** Committed chaincode events of block `blockNumber` (empty if none or not yet committed). */
    public async eventsOf(blockNumber: number): Promise<readonly CommittedEvent[]> {
        const recent = this.recentEvents.get(blockNumber);
        if (recent !== undefined) {
            return recent;
        }
        const bytes = await this.blockBytes(blockNumber);
        if (bytes === undefined || blockNumber === 0) {
            return [];
        }
        const block = common.Block.deserializeBinary(bytes);
        const codes = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array();
        return (block.getData()?.getDataList_asU8() ?? []).flatMap((envelope, i) => {
            const event = codes[i] === peerProtos.TxValidationCode.VALID ? this.parseTransaction(envelope).event : undefined;
            return event === undefined ? [] : [{ blockNumber, event }];
        });
    }

    /** The block number of a committed transaction id, if any. */
    public async blockOf(txId: string): Promise<number | undefined> {
        return this.statuses.get(txId)?.blockNumber ?? (await this.ledger.txStatus(txId))?.blockNumber;
    }

    /** Calls `listener` with each newly committed block number; returns an unsubscribe function. */
    public onBlock(listener: (blockNumber: number) => void): () => void {
        this.blockListeners.add(listener);
        return () => this.blockListeners.delete(listener);
    }

    /** Closes the block store and the ledger. */
    public async close(): Promise<void> {
        this.store.close();
        await this.ledger.close();
        await this.privateData.close();
    }

    private recordBlock(number: number, parsed: readonly ParsedTransaction[], codes: readonly number[]): void {
        const events: CommittedEvent[] = [];
        parsed.forEach((tx, i) => {
            const code = defined(codes[i]);
            if (tx.ordered.txId !== '' && !this.statuses.has(tx.ordered.txId)) {
                const status = { code, blockNumber: number };
                makeRoom(this.statuses, RECENT_STATUS_CAPACITY);
                this.statuses.set(tx.ordered.txId, status);
                this.notIndexed.delete(tx.ordered.txId);
                for (const waiter of this.statusWaiters.get(tx.ordered.txId) ?? []) {
                    waiter(status);
                }
                this.statusWaiters.delete(tx.ordered.txId);
            }
            if (code === peerProtos.TxValidationCode.VALID && tx.event !== undefined) {
                events.push({ blockNumber: number, event: tx.event });
            }
        });
        this.recentEvents.set(number, events);
        this.recentEvents.delete(number - RECENT_EVENT_BLOCKS);
        for (const listener of this.blockListeners) {
            listener(number);
        }
    }

    /** Commits again a block that is in the block file but not yet in the ledger indexes. */
    private async catchUp(block: Block, location: { readonly offset: number; readonly length: number }): Promise<void> {
        const number = defined(block.getHeader()).getNumber();
        const headerHash = blockHeaderHash(defined(block.getHeader()));
        if (number === 0) {
            await this.ledger.commit(await this.ledger.validate([]), { location, headerHash, codes: [] });
            return;
        }
        const envelopes = block.getData()?.getDataList_asU8() ?? [];
        const stored = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array();
        // Endorsement checks are not repeated: the stored validation codes say which transactions passed them.
        const parsed = envelopes.map((bytes) => this.parseTransaction(bytes));
        const ordered = parsed.map((p, i) => ({ ...p.ordered, endorsed: stored[i] !== peerProtos.TxValidationCode.ENDORSEMENT_POLICY_FAILURE && !p.badPayload }));
        // The private data store may already hold this block (written just before the indexes).
        const prepared = (this.privateData.savepoint ?? -1) >= number ? undefined : await this.privateData.prepare(number, ordered);
        const validated = await this.ledger.validate(ordered, prepared ?? new ReplayedPrivateBlock([...stored], peerProtos.TxValidationCode.MVCC_READ_CONFLICT));
        const numeric = validated.codes.map((code, i) => defined(parsed[i]).badPayload ? peerProtos.TxValidationCode.BAD_PAYLOAD : TX_CODE_NUMBERS[code]);
        if (validated.blockNumber !== number || numeric.some((code, i) => code !== stored[i])) {
            throw new Error(`committing block ${number} again gave different validation codes than recorded`);
        }
        if (prepared !== undefined) {
            await this.privateData.commit(prepared);
        }
        await this.ledger.commit(validated, { location, headerHash, codes: numeric });
    }

    private buildBlock(number: number, envelopes: readonly Uint8Array[], codes: readonly number[] = []): Block {
        return newBlock(number, this.store.previousHash, envelopes, codes);
    }

    /**
     * The transaction's endorsement as validation needs it: whether the chaincode's endorsement policy is met, and the
     * valid endorsers a key-level policy is evaluated against (none when the transaction is not well formed).
     */
    private async checkEndorsement({ payload, signature, creator, prpBytes, endorsements, namespace, status }: PolicyInputs, signatureVerified: boolean): Promise<Pick<OrderedTransaction, 'endorsed' | 'keyEndorsers'>> {
        const [envelopeFailure, orgsEndorsing] = await Promise.all([
            signatureVerified ? undefined : creator === undefined ? 'bad signature header' : this.policy.checkSignature(creator, payload, signature),
            this.policy.endorsingOrgs(prpBytes, endorsements),
        ]);
        if (envelopeFailure !== undefined || namespace === '' || status < 200 || status >= 400) {
            return { endorsed: false };
        }
        // The devnet's endorsers are the orgs' peers (NodeOU peer).
        const endorsers = [...orgsEndorsing].map((mspId) => ({ mspId, role: 'peer' as const }));
        return { endorsed: this.policy.chaincodePolicy(namespace).isSatisfiedBy(endorsers), keyEndorsers: endorsers };
    }

    /**
     * Decodes an ordered envelope and checks its signature (unless `signatureVerified`: the orderer verified it) and
     * endorsements (chaincode and key-level policies).
     */
    private async checkTransaction(bytes: Uint8Array, signatureVerified: boolean): Promise<ParsedTransaction> {
        const { parsed, policy } = this.decodeTransaction(bytes);
        if (policy === undefined) {
            return parsed;
        }
        return { ...parsed, ordered: { ...parsed.ordered, ...(await this.checkEndorsement(policy, signatureVerified)) } };
    }

    /** Decodes an ordered envelope (`endorsed` then only says whether it decoded). */
    private parseTransaction(bytes: Uint8Array): ParsedTransaction {
        return this.decodeTransaction(bytes).parsed;
    }

    /**
     * Decodes an ordered envelope: the transaction (`endorsed` if it decoded) and, for one that decoded, what its
     * policy check needs.
     */
    private decodeTransaction(bytes: Uint8Array): { readonly parsed: ParsedTransaction; readonly policy?: PolicyInputs } {
        const bad = { parsed: { ordered: { txId: '', endorsed: false, rwsets: [] }, badPayload: true } };
        try {
            // common.Envelope: payload (1), signature (2). common.Payload: header (1), data (2).
            const envelope = new ProtoReader(bytes);
            const payloadBytes = envelope.bytes(1);
            const payload = new ProtoReader(payloadBytes);
            // common.Header: channel_header (1), signature_header (2).
            const header = payload.message(1);
            if (header === undefined) {
                return bad;
            }
            // common.ChannelHeader: type (1), timestamp (3: seconds, nanos), tx_id (5).
            const channelHeader = new ProtoReader(header.bytes(1));
            const txId = channelHeader.string(5);
            const timestamp = channelHeader.message(3);
            // peer.Transaction: actions (1: TransactionAction of header 1 and payload 2).
            const action = new ProtoReader(payload.bytes(2)).repeated(1)[0];
            if (action === undefined || channelHeader.int32(1) !== common.HeaderType.ENDORSER_TRANSACTION) {
                return bad;
            }
            // peer.ChaincodeActionPayload: action (2: ChaincodeEndorsedAction of proposal_response_payload 1, endorsements 2).
            const endorsed = new ProtoReader(new ProtoReader(action).bytes(2)).message(2);
            if (endorsed === undefined) {
                return bad;
            }
            const prpBytes = endorsed.bytes(1);
            const endorsements = endorsed.repeated(2).map((bytes) => {
                const endorsement = new ProtoReader(bytes);
                return { endorser: endorsement.bytes(1), signature: endorsement.bytes(2) };
            });
            // peer.ProposalResponsePayload: extension (2), a peer.ChaincodeAction: results (1), events (2), response (3:
            // status 1), chaincode_id (4: name 2).
            const ccAction = new ProtoReader(new ProtoReader(prpBytes).bytes(2));
            const namespace = ccAction.message(4)?.string(2) ?? '';
            const status = ccAction.message(3)?.int32(1) ?? 0;
            const rwsets = decodeRwsets(ccAction.bytes(1));
            const event = decodeEvent(ccAction.bytes(2));
            const policy = { payload: payloadBytes, signature: envelope.bytes(2), creator: creatorOf(header), prpBytes, endorsements, namespace, status };
            const ordered = { txId, rwsets, endorsed: true, timestamp: { seconds: timestamp?.int64(1) ?? 0, nanos: timestamp?.int32(2) ?? 0 } };
            return { parsed: { ordered, badPayload: false, ...(event === undefined ? {} : { event }) }, policy };
        } catch {
            return bad;
        }
    }
}

/** A block as the devnet's orderer and committer make it: header, envelopes, validation codes in TRANSACTIONS_FILTER. */
export function newBlock(number: number, previousHash: Uint8Array, envelopes: readonly Uint8Array[], codes: readonly number[] = []): Block {
    const header = new common.BlockHeader();
    header.setNumber(number);
    header.setPreviousHash(previousHash);
    header.setDataHash(blockDataHash(envelopes));
    const data = new common.BlockData();
    data.setDataList([...envelopes]);
    const metadata = new common.BlockMetadata();
    const entries: Uint8Array[] = [new common.Metadata().serializeBinary(), new Uint8Array(), Uint8Array.from(codes), new Uint8Array(), new Uint8Array()];
    metadata.setMetadataList(entries);
    const block = new common.Block();
    block.setHeader(header);
    block.setData(data);
    block.setMetadata(metadata);
    return block;
}

/**
 * The block file's compression dictionary: every transaction repeats the endorsing peers' identities and
 * certificates issued by the org CAs.
 */
export function identityDictionary(orgs: readonly Org[]): Buffer {
    return Buffer.concat(orgs.flatMap((org) => [Buffer.from(org.caCertificatePem), Buffer.from(org.peer.serialized)]));
}

/** The creator (1) of a Header's common.SignatureHeader (2), undefined if that does not decode (its check then fails). */
function creatorOf(header: ProtoReader): Uint8Array | undefined {
    try {
        return new ProtoReader(header.bytes(2)).bytes(1);
    } catch {
        return undefined;
    }
}

function decodeEvent(bytes: Uint8Array): ProtoChaincodeEvent | undefined {
    return bytes.length === 0 ? undefined : peerProtos.ChaincodeEvent.deserializeBinary(bytes);
}

/**
 * The public state committing `blocks` writes, as simulations that ran without the commit lock check their reads
 * against it (private and hashed state are not listed: a simulation that read them runs again whatever was written).
 */
function stateChangeOf(blocks: readonly ValidatedBlock[]): StateChange {
    // Keys only: the lock keeps recent changes, and must not keep the values written with them.
    const written = new Map<string, Set<string>>();
    for (const block of blocks) {
        for (const [namespace, batch] of block.updates.entries()) {
            const keys = written.get(namespace) ?? new Set<string>();
            for (const update of batch.all()) {
                keys.add(update.key);
            }
            written.set(namespace, keys);
        }
    }
    return {
        wrote: (namespace, key) => written.get(namespace)?.has(key) === true,
        wroteWithin: (namespace, startKey, endKey) => [...(written.get(namespace) ?? [])].some((key) => inRange(key, startKey, endKey)),
    };
}
