// SPDX-License-Identifier: Apache-2.0
/**
 * An in-process Fabric 2.5 peer for one channel and one chaincode, driving the chaincode through the real
 * fabric-shim runtime (ChaincodeMessageHandler, ChaincodeStub, ChaincodeFromContract, ClientIdentity).
 *
 * - endorse: a signed proposal is validated like an endorser does and simulated against the committed state
 *   (no read-your-writes; reads, writes and range queries recorded);
 * - commit: endorsed transactions are validated in order as one block (DUPLICATE_TXID, endorsement, MVCC, phantom
 *   reads) and the valid writes applied;
 * - submit = endorse + commit alone in a block; evaluate = endorse without commit.
 */
import { createHash } from 'node:crypto';
import { ChaincodeHandler, type ChaincodeHandlerOptions, type ProtocolTraceEvent } from './chaincodeHandler';
import { InProcessChatStream } from './chatStream';
import { getTestCa, getTestIdentity, type IdentityOptions, type TestIdentity } from './identities';
import type { KeyValidation } from './keys';
import { Ledger, type TxValidationCode } from './ledger';
import { MemberIdentities } from './memberIdentities';
import { buildSignedProposal, unpackProposal, validateProposal, type UnpackedProposal } from './proposals';
import { ShimRuntime, type ContractClass, type SerializerConfig } from './shimRuntime';
import { StateLock } from './stateLock';
import type { ReadWriteSet } from './txSimulator';
import { simulateProposal } from './simulation';
import type { Version } from './worldState';
import { defined } from './defined';

/** Configuration of a {@link PeerSimulator}. */
export interface PeerSimulatorOptions {
    /** The contract classes, as a chaincode's index exports them in `contracts`. */
    readonly contracts: readonly ContractClass[];
    /** The chaincode package the contracts belong to: its node_modules provide the fabric-shim they run on. */
    readonly folder: string;
    /** The MSP id `getMspID()` answers (the simulated peer's org), default the first of `mspIds`. */
    readonly peerMspId?: string;
    /** Channel name, default `mychannel`. */
    readonly channel?: string;
    /** Chaincode name as defined on the channel, default `ledgerwork`. */
    readonly chaincode?: string;
    /** MSP ids of the channel's member organizations, default Org1MSP, Org2MSP, Org3MSP. */
    readonly mspIds?: readonly string[];
    /** Results per range query batch (the peer's MaxResultLimit), default 100. */
    readonly queryBatchSize?: number;
    /** ledger.state.totalQueryLimit, default 100000. */
    readonly totalQueryLimit?: number;
    /** Write validation rules of the state database, default `couchdb` (the stricter). */
    readonly keyValidation?: KeyValidation;
    /** chaincode.executetimeout in milliseconds, default 30000. */
    readonly executeTimeoutMs?: number;
    /** Initial virtual clock, default 2025-01-01T00:00:00Z. */
    readonly startTime?: number | Date;
    /** Serializers, if the chaincode exports its own (`serializers` in its index). */
    readonly serializers?: SerializerConfig;
    /** Contract metadata as a chaincode would ship it in META-INF/metadata.json. */
    readonly metadata?: object;
    /** Chaincode package title and version, reported by GetMetadata (fabric-shim takes them from package.json). */
    readonly title?: string;
    readonly version?: string;
    /** Observer of every chaincode protocol message (debugging, tests). */
    readonly trace?: (event: ProtocolTraceEvent) => void;
}

/** Per-proposal client options. */
export interface TransactionOptions {
    /** Client timestamp of the proposal; default the simulator's virtual clock. */
    readonly timestamp?: number | Date;
    /** Transient data (ChaincodeProposalPayload.TransientMap). */
    readonly transient?: Readonly<Record<string, Uint8Array | string>>;
    /** Proposal nonce; reusing one reproduces a transaction id. Default 24 random bytes. */
    readonly nonce?: Uint8Array;
}

/** The chaincode event of a transaction (the last one the chaincode set). */
export interface ChaincodeEventRecord {
    readonly name: string;
    readonly payload: Buffer;
}

/** The outcome of endorsing (simulating) one proposal. */
export interface Endorsement {
    readonly txId: string;
    /** Transaction name, `[contract:]function`. */
    readonly fn: string;
    readonly args: readonly string[];
    /** MSP id of the proposal's creator ('' if the proposal could not be decoded). */
    readonly creatorMspId: string;
    /** Client timestamp of the proposal, milliseconds since the epoch. */
    readonly timestamp: number;
    /** Chaincode (or endorser) response. Status >= 400 means not endorsed. */
    readonly status: number;
    readonly message: string;
    readonly payload: Buffer;
    /** Only present when the chaincode set an event and the status is < 400. */
    readonly event?: ChaincodeEventRecord;
    /** Empty when the proposal was rejected before simulation. */
    readonly rwset: ReadWriteSet;
    /** The serialized SignedProposal. */
    readonly signedProposal: Uint8Array;
}

/** A submitted transaction: its endorsement plus where and how it was committed. */
export interface Submission extends Endorsement {
    readonly validationCode: TxValidationCode;
    readonly blockNumber: number;
}

/** A transaction as recorded in a committed block. */
export interface CommittedTransaction {
    readonly txId: string;
    readonly txNum: number;
    readonly validationCode: TxValidationCode;
    readonly fn: string;
    readonly creatorMspId: string;
    readonly timestamp: number;
    readonly event?: ChaincodeEventRecord;
}

/** A committed block. Block 0 (the channel genesis block) is implicit; transaction blocks start at 1. */
export interface BlockRecord {
    readonly number: number;
    readonly transactions: readonly CommittedTransaction[];
}

/** A chaincode event as a client's event listener receives it (only from valid transactions). */
export interface ChaincodeEvent {
    readonly blockNumber: number;
    readonly txId: string;
    readonly chaincode: string;
    readonly name: string;
    readonly payload: Buffer;
}

/** A committed key with its value and version. */
export interface StateEntry {
    readonly key: string;
    readonly value: Buffer;
    readonly version: Version;
}

/** Read-only access to the committed world state, for assertions. Values are copies. */
export interface StateView {
    readonly size: number;
    get(key: string): Buffer | undefined;
    version(key: string): Version | undefined;
    has(key: string): boolean;
    /** All keys in UTF-8 byte order. */
    keys(): string[];
    /** All entries in key order. */
    entries(): StateEntry[];
}

/** Thrown by {@link PeerSimulator.submit} and {@link PeerSimulator.evaluate} when endorsement fails (status >= 400). */
export class SimulatedEndorseError extends Error {
    public readonly txId: string;
    public readonly status: number;

    /** @param endorsement the failed endorsement; `message` is the chaincode's (or endorser's) error message. */
    public constructor(public readonly endorsement: Endorsement) {
        super(endorsement.message);
        this.name = 'SimulatedEndorseError';
        this.txId = endorsement.txId;
        this.status = endorsement.status;
    }
}

const DEFAULT_START_TIME = Date.UTC(2025, 0, 1);
const EMPTY_RWSET: ReadWriteSet = deepFreeze({ reads: [], writes: [], ranges: [] });

function toMillis(time: number | Date): number {
    const ms = typeof time === 'number' ? time : time.getTime();
    if (!Number.isSafeInteger(ms) || ms < 0) {
        throw new Error(`invalid time ${String(time)}: expected non-negative integer milliseconds`);
    }
    return ms;
}

function endorsementDigest(e: Omit<Endorsement, 'signedProposal'>): string {
    const canonical = JSON.stringify([
        e.txId,
        e.status,
        e.payload.toString('base64'),
        e.event === undefined ? null : [e.event.name, e.event.payload.toString('base64')],
        e.rwset.reads.map((r) => [r.key, r.version?.blockNum, r.version?.txNum]),
        e.rwset.writes.map((w) => [w.key, w.isDelete, w.value.toString('base64')]),
        e.rwset.ranges.map((q) => [q.startKey, q.endKey, q.itrExhausted, q.reads.map((r) => [r.key, r.version?.blockNum, r.version?.txNum])]),
    ]);
    return createHash('sha256').update(canonical).digest('hex');
}

function deepFreeze<T>(value: T): T {
    if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const child of Object.values(value)) {
            deepFreeze(child);
        }
    }
    return value;
}

/** An in-process Fabric peer simulator; see the module documentation. */
export class PeerSimulator {
    /** Channel name. */
    public readonly channel: string;
    /** Chaincode name. */
    public readonly chaincode: string;
    private readonly ledger = new Ledger();
    private readonly lock = new StateLock();
    private readonly members: MemberIdentities;
    private readonly endorsed = new Set<string>();
    private readonly committedBlocks: BlockRecord[] = [];
    private now: number;
    private stopped = false;

    private constructor(
        private readonly handler: ChaincodeHandler,
        private readonly options: PeerSimulatorOptions,
    ) {
        this.channel = options.channel ?? 'mychannel';
        this.chaincode = options.chaincode ?? 'ledgerwork';
        this.now = toMillis(options.startTime ?? DEFAULT_START_TIME);
        const mspIds = options.mspIds ?? ['Org1MSP', 'Org2MSP', 'Org3MSP'];
        this.members = new MemberIdentities(new Map(mspIds.map((mspId) => [mspId, getTestCa(mspId).certificate])));
    }

    /** Starts the chaincode on fabric-shim's runtime and registers it with a fresh simulated peer. */
    public static async start(options: PeerSimulatorOptions): Promise<PeerSimulator> {
        const handlerOptions: ChaincodeHandlerOptions = {
            maxResultLimit: options.queryBatchSize ?? 100,
            totalQueryLimit: options.totalQueryLimit ?? 100_000,
            executeTimeoutMs: options.executeTimeoutMs ?? 30_000,
            ...(options.trace === undefined ? {} : { trace: options.trace }),
        };
        if (!(handlerOptions.maxResultLimit >= 1 && handlerOptions.totalQueryLimit >= 1)) {
            throw new Error('queryBatchSize and totalQueryLimit must be positive');
        }
        const runtime = ShimRuntime.of(options.folder);
        const chaincode = runtime.createContractChaincode({ ...options, mspId: options.peerMspId ?? options.mspIds?.[0] ?? 'Org1MSP' });
        const stream = new InProcessChatStream((bytes) => runtime.parseMessage(bytes));
        const handler = new ChaincodeHandler(stream, handlerOptions);
        runtime.startHandler(stream.chaincodeSide, chaincode, `${options.chaincode ?? 'ledgerwork'}:simulated`);
        try {
            await handler.ready();
            return new PeerSimulator(handler, options);
        } catch (error) {
            handler.close();
            throw error;
        }
    }

    /** The virtual client clock (milliseconds since the epoch) used as the default proposal timestamp. */
    public get clock(): number {
        return this.now;
    }

    /** Sets the virtual clock. */
    public setTime(time: number | Date): void {
        this.now = toMillis(time);
    }

    /** Advances the virtual clock by `ms` milliseconds. */
    public advance(ms: number): void {
        this.now = toMillis(this.now + ms);
    }

    /** A test identity (cached per MSP, name, OU and attributes), issued by its MSP's test CA. */
    public identity(options: IdentityOptions): TestIdentity {
        return getTestIdentity(options);
    }

    /** Builds, signs and endorses a proposal. Never throws for chaincode or endorser failures: see `status`. */
    public async endorse(identity: TestIdentity, fn: string, args: readonly (string | Uint8Array)[] = [], options: TransactionOptions = {}): Promise<Endorsement> {
        const proposal = buildSignedProposal(identity, {
            channel: this.channel,
            chaincode: this.chaincode,
            fn,
            args,
            timestamp: toMillis(options.timestamp ?? this.now),
            ...(options.transient === undefined ? {} : { transient: options.transient }),
            ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
        });
        return this.processProposal(proposal.signedProposal);
    }

    /** Endorses without committing; throws {@link SimulatedEndorseError} when the status is >= 400. */
    public async evaluate(identity: TestIdentity, fn: string, args: readonly (string | Uint8Array)[] = [], options: TransactionOptions = {}): Promise<Endorsement> {
        const endorsement = await this.endorse(identity, fn, args, options);
        if (endorsement.status >= 400) {
            throw new SimulatedEndorseError(endorsement);
        }
        return endorsement;
    }

    /**
     * Endorses and commits the transaction alone in a new block. Like a fabric-gateway client, a failed
     * endorsement (status >= 400) is not ordered: {@link SimulatedEndorseError} is thrown and nothing is committed.
     * An invalidated transaction (e.g. MVCC_READ_CONFLICT after a concurrent commit) is returned, not thrown.
     */
    public async submit(identity: TestIdentity, fn: string, args: readonly (string | Uint8Array)[] = [], options: TransactionOptions = {}): Promise<Submission> {
        const endorsement = await this.evaluate(identity, fn, args, options);
        const { blockNumber, codes } = await this.commitBlock([endorsement]);
        return { ...endorsement, validationCode: defined(codes[0]), blockNumber };
    }

    /** Orders the endorsed transactions into one block, validates them in order and commits the valid ones. */
    public async commit(endorsements: readonly Endorsement[]): Promise<TxValidationCode[]> {
        return [...(await this.commitBlock(endorsements)).codes];
    }

    /** Endorses a serialized SignedProposal (e.g. a hand-crafted or tampered one), as the peer's endorser would. */
    public async processProposal(signedProposal: Uint8Array): Promise<Endorsement> {
        this.assertRunning();
        let up: UnpackedProposal;
        try {
            up = unpackProposal(signedProposal);
        } catch (error) {
            return this.rejected(signedProposal, undefined, (error as Error).message);
        }
        if (up.channelId !== this.channel) {
            return this.rejected(signedProposal, up, `channel '${up.channelId}' not found`);
        }
        let creatorMspId: string;
        try {
            creatorMspId = (await validateProposal(up, this.members)).mspId;
        } catch (error) {
            return this.rejected(signedProposal, up, `error validating proposal: ${(error as Error).message}`);
        }
        if (this.ledger.txStatus(up.txId) !== undefined) {
            return this.rejected(signedProposal, up, `duplicate transaction found [${up.txId}]. Creator [${Buffer.from(up.creator).toString('hex')}]`);
        }
        if (up.chaincodeName !== this.chaincode) {
            return this.rejected(signedProposal, up, `make sure the chaincode ${up.chaincodeName} has been successfully defined on channel ${this.channel} and try again: chaincode ${up.chaincodeName} not found`);
        }
        return this.lock.shared(() => this.simulate(signedProposal, up, creatorMspId));
    }

    /** Committed blocks, oldest first. */
    public get blocks(): readonly BlockRecord[] {
        return this.committedBlocks;
    }

    /** The ledger height: the number the next block will get. */
    public get height(): number {
        return this.ledger.height;
    }

    /** Chaincode events of the valid transactions in blocks >= `startBlock`, in commit order. */
    public chaincodeEvents(startBlock = 1): ChaincodeEvent[] {
        return this.committedBlocks
            .filter((block) => block.number >= startBlock)
            .flatMap((block) => block.transactions
                .filter((tx) => tx.validationCode === 'VALID' && tx.event !== undefined)
                .map((tx) => ({ blockNumber: block.number, txId: tx.txId, chaincode: this.chaincode, name: defined(tx.event).name, payload: Buffer.from(defined(tx.event).payload) })));
    }

    /** Read-only view of the committed world state. */
    public get state(): StateView {
        const state = this.ledger.stateOf(this.chaincode);
        return {
            get size() {
                return state.size;
            },
            get: (key) => {
                const entry = state.lookup(key);
                return entry === undefined ? undefined : Buffer.from(entry.value);
            },
            version: (key) => state.lookup(key)?.version,
            has: (key) => state.lookup(key) !== undefined,
            keys: () => [...state.keys()],
            entries: () => [...state.scan('', '')].map(({ key, value, version }) => ({ key, value: Buffer.from(value), version })),
        };
    }

    /** Disconnects the chaincode; pending endorsements fail. */
    public async stop(): Promise<void> {
        if (!this.stopped) {
            this.stopped = true;
            this.handler.close();
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
    }

    private async simulate(signedProposal: Uint8Array, up: UnpackedProposal, creatorMspId: string): Promise<Endorsement> {
        const outcome = await simulateProposal(this.handler, this.chaincode, up, this.ledger.stateOf(this.chaincode), this.options.keyValidation ?? 'couchdb');
        if (!outcome.ok) {
            return this.rejected(signedProposal, up, outcome.message, creatorMspId);
        }
        const endorsement = {
            ...this.describe(up, creatorMspId),
            status: outcome.status,
            message: outcome.message,
            payload: Buffer.from(outcome.payload),
            ...(outcome.event === undefined ? {} : { event: { name: outcome.event.name, payload: Buffer.from(outcome.event.payload) } }),
            rwset: outcome.rwset,
        };
        if (outcome.status < 400) {
            this.endorsed.add(endorsementDigest(endorsement));
        }
        return deepFreeze({ ...endorsement, signedProposal });
    }

    private describe(up: UnpackedProposal | undefined, creatorMspId = ''): Pick<Endorsement, 'txId' | 'fn' | 'args' | 'creatorMspId' | 'timestamp'> {
        const args = up?.input.getArgsList_asU8().map((arg) => Buffer.from(arg).toString()) ?? [];
        return { txId: up?.txId ?? '', fn: args[0] ?? '', args: args.slice(1), creatorMspId, timestamp: up?.timestamp ?? 0 };
    }

    private rejected(signedProposal: Uint8Array, up: UnpackedProposal | undefined, message: string, creatorMspId?: string): Endorsement {
        return deepFreeze({
            ...this.describe(up, creatorMspId),
            status: 500,
            message,
            payload: Buffer.alloc(0),
            rwset: EMPTY_RWSET,
            signedProposal,
        });
    }

    private async commitBlock(endorsements: readonly Endorsement[]): Promise<{ blockNumber: number; codes: readonly TxValidationCode[] }> {
        this.assertRunning();
        return this.lock.exclusive(async () => {
            const { blockNumber, codes } = await this.ledger.commitBlock(endorsements.map((e) => ({
                txId: e.txId,
                // A response this peer did not endorse (failed, altered, or from elsewhere) has no valid endorsement.
                endorsed: e.status < 400 && this.endorsed.has(endorsementDigest(e)),
                rwsets: [{ namespace: this.chaincode, rwset: e.rwset }],
            })));
            this.committedBlocks.push(deepFreeze({
                number: blockNumber,
                transactions: endorsements.map((e, txNum) => ({
                    txId: e.txId,
                    txNum,
                    validationCode: defined(codes[txNum]),
                    fn: e.fn,
                    creatorMspId: e.creatorMspId,
                    timestamp: e.timestamp,
                    ...(e.event === undefined ? {} : { event: e.event }),
                })),
            }));
            return { blockNumber, codes };
        });
    }

    private assertRunning(): void {
        if (this.stopped) {
            throw new Error('the peer simulator has been stopped');
        }
    }
}
