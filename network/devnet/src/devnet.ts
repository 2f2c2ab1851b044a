// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet's peer, endorsers and orderer in one object: proposals are validated and simulated once per endorsing
 * organization through the real fabric-shim runtime; the responses are compared and signed by each org's peer
 * identity; signed transaction envelopes are ordered into blocks (size / timeout), validated as Fabric's committer
 * does, appended to a durable block store and only then reported committed.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { common, peer as peerProtos } from '@hyperledger/fabric-protos';
import { blockDataHash, BlockStore } from './blockStore';
import { ChaincodeHandler } from './chaincodeHandler';
import { freePort, GrpcChatStream, launchChaincodeServer } from './chaincodeService';
import { InProcessChatStream } from './chatStream';
import { isLowS } from './identities';
import { Ledger, type OrderedTransaction, type TxValidationCode } from './ledger';
import { ensureCryptoMaterial, type CryptoMaterial, type Org } from './orgs';
import { unpackProposal, validateProposal, type ChannelMsps, type UnpackedProposal } from './proposals';
import { createContractChaincode, protos as shimProtos, startShimHandler, type ContractClass, type SerializerConfig } from './runtime';
import { decodeRwset, encodeRwset } from './rwsetCodec';
import { StateLock } from './stateLock';
import { simulateProposal } from './simulation';
import { defined } from './defined';

type Envelope = InstanceType<typeof common.Envelope>;
type Block = InstanceType<typeof common.Block>;
type ProtoResponse = InstanceType<typeof peerProtos.Response>;
type ProtoChaincodeEvent = InstanceType<typeof peerProtos.ChaincodeEvent>;

/** Configuration of a {@link Devnet}. */
export interface DevnetOptions {
    /** Directory of the crypto material and ledger; created if missing. */
    readonly dir: string;
    /** Number of peer organizations, default 3. */
    readonly orgs?: number;
    /** Channel name, default `mychannel`. */
    readonly channel?: string;
    /** Orderer BatchSize.MaxMessageCount, default 10. */
    readonly batchSize?: number;
    /** Orderer BatchTimeout in milliseconds, default 200 (Fabric's default is 2 s). */
    readonly batchTimeoutMs?: number;
    /** chaincode.executetimeout in milliseconds, default 30000. */
    readonly executeTimeoutMs?: number;
}

/** A chaincode to deploy: its contract classes, run on fabric-shim's runtime. */
export interface ChaincodeDefinition {
    /** Chaincode name on the channel. */
    readonly name: string;
    readonly contracts: readonly ContractClass[];
    readonly serializers?: SerializerConfig;
    readonly metadata?: object;
    readonly version?: string;
}

/** Why a request was refused, with the gRPC status code Fabric's gateway uses. */
export class DevnetError extends Error {
    /**
     * @param code gRPC status code (grpc-js `status`)
     * @param details per-endorser error details (gateway.ErrorDetail)
     */
    public constructor(
        public readonly code: status,
        message: string,
        public readonly details: readonly { readonly mspId: string; readonly message: string }[] = [],
    ) {
        super(message);
        this.name = 'DevnetError';
    }
}

/** gRPC status codes used by the gateway service. */
export const Code = {
    UNKNOWN: status.UNKNOWN,
    INVALID_ARGUMENT: status.INVALID_ARGUMENT,
    NOT_FOUND: status.NOT_FOUND,
    PERMISSION_DENIED: status.PERMISSION_DENIED,
    FAILED_PRECONDITION: status.FAILED_PRECONDITION,
    ABORTED: status.ABORTED,
    UNAVAILABLE: status.UNAVAILABLE,
} as const;

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

interface Deployed {
    readonly version: string;
    readonly handler: ChaincodeHandler;
    /** The chaincode server process, for chaincode run as a service. */
    readonly process?: ChildProcess;
}

/** A chaincode package folder to run as a service (`fabric-chaincode-node server`, as with CCaaS). */
export interface ChaincodeServiceDefinition {
    /** Chaincode name on the channel. */
    readonly name: string;
    /** The chaincode package (package.json `main` exporting `contracts`, fabric-shim in its node_modules). */
    readonly folder: string;
    readonly version?: string;
    /** A file the chaincode server's stdout and stderr are appended to; by default they are the devnet's own. */
    readonly logFile?: string;
}

interface Simulation {
    readonly response: ProtoResponse;
    /** Serialized ProposalResponsePayload, undefined when the peer generated the failure (no payload). */
    readonly payload?: Uint8Array;
}

const TX_CODE_NUMBERS: Readonly<Record<TxValidationCode, number>> = {
    VALID: peerProtos.TxValidationCode.VALID,
    MVCC_READ_CONFLICT: peerProtos.TxValidationCode.MVCC_READ_CONFLICT,
    PHANTOM_READ_CONFLICT: peerProtos.TxValidationCode.PHANTOM_READ_CONFLICT,
    DUPLICATE_TXID: peerProtos.TxValidationCode.DUPLICATE_TXID,
    ENDORSEMENT_POLICY_FAILURE: peerProtos.TxValidationCode.ENDORSEMENT_POLICY_FAILURE,
};

function response(status: number, message: string, payload: Uint8Array = new Uint8Array()): ProtoResponse {
    const r = new peerProtos.Response();
    r.setStatus(status);
    r.setMessage(message);
    r.setPayload(payload);
    return r;
}

/** A whole Fabric network (N orgs, one channel, one orderer) in one process. */
export class Devnet {
    /** Channel name. */
    public readonly channel: string;
    /** The organizations' crypto material. */
    public readonly material: CryptoMaterial;
    private readonly msps: ChannelMsps;
    private readonly chaincodes = new Map<string, Deployed>();
    private readonly ledger = new Ledger();
    private readonly lock = new StateLock();
    private readonly store: BlockStore;
    private readonly statuses = new Map<string, TxStatus>();
    private readonly statusWaiters = new Map<string, ((status: TxStatus) => void)[]>();
    private readonly events: CommittedEvent[][] = [];
    private readonly blockListeners = new Set<(blockNumber: number) => void>();
    private pending: Uint8Array[] = [];
    private batchTimer: NodeJS.Timeout | undefined;
    private committing: Promise<void> = Promise.resolve();
    private closed = false;
    private failure: Error | undefined;
    private readonly batchSize: number;
    private readonly batchTimeoutMs: number;

    private constructor(private readonly options: DevnetOptions) {
        this.channel = options.channel ?? 'mychannel';
        this.material = ensureCryptoMaterial(options.dir, options.orgs ?? 3);
        this.msps = new Map(this.material.orgs.map((org) => [org.mspId, org.caCertificate]));
        this.batchSize = options.batchSize ?? 10;
        this.batchTimeoutMs = options.batchTimeoutMs ?? 200;
        const opened = BlockStore.open(path.join(options.dir, 'ledger', `${this.channel}.blocks`));
        this.store = opened.store;
        if (opened.blocks.length === 0) {
            this.store.append(this.buildBlock(0, []));
            this.events.push([]);
        }
        for (const block of opened.blocks) {
            this.replay(block);
        }
    }

    /** Opens (or creates) the devnet in `options.dir`, rebuilding state from its block store. */
    public static open(options: DevnetOptions): Devnet {
        return new Devnet(options);
    }

    /** Ledger height (number of blocks, genesis included). */
    public get height(): number {
        return this.store.height;
    }

    /** Organizations, in order. */
    public get orgs(): readonly Org[] {
        return this.material.orgs;
    }

    /** Endorsements required by the default policy: a majority of the channel's orgs. */
    public get requiredEndorsements(): number {
        return Math.floor(this.material.orgs.length / 2) + 1;
    }

    /** Starts a chaincode on fabric-shim's runtime in this process and defines it on the channel. */
    public async deploy(definition: ChaincodeDefinition): Promise<void> {
        const existing = this.chaincodes.get(definition.name);
        existing?.handler.close();
        const stream = new InProcessChatStream();
        const handler = new ChaincodeHandler(stream, {
            maxResultLimit: 100,
            totalQueryLimit: 100_000,
            executeTimeoutMs: this.options.executeTimeoutMs ?? 30_000,
        });
        const chaincode = createContractChaincode({
            contracts: definition.contracts,
            ...(definition.serializers === undefined ? {} : { serializers: definition.serializers }),
            ...(definition.metadata === undefined ? {} : { metadata: definition.metadata }),
            title: definition.name,
            version: definition.version ?? '1.0',
        });
        startShimHandler(stream.chaincodeSide, chaincode, `${definition.name}:${definition.version ?? '1.0'}`);
        await handler.ready();
        this.chaincodes.set(definition.name, { version: definition.version ?? '1.0', handler });
    }

    /**
     * Runs a chaincode folder as a service: starts `fabric-chaincode-node server` there on a free local port, dials
     * it as a peer does with CCaaS and waits for the chaincode to register.
     */
    public async deployService(definition: ChaincodeServiceDefinition): Promise<void> {
        this.chaincodes.get(definition.name)?.handler.close();
        const version = definition.version ?? '1.0';
        const address = `127.0.0.1:${await freePort()}`;
        const child = launchChaincodeServer(path.resolve(definition.folder), address, `${definition.name}:${version}`, defined(this.material.orgs[0]).mspId, definition.logFile);
        const deadline = Date.now() + 30_000;
        for (;;) {
            if (child.exitCode !== null) {
                throw new Error(`chaincode server ${definition.name} exited with code ${child.exitCode}`);
            }
            const handler = new ChaincodeHandler(new GrpcChatStream(address), {
                maxResultLimit: 100,
                totalQueryLimit: 100_000,
                executeTimeoutMs: this.options.executeTimeoutMs ?? 30_000,
            });
            try {
                await handler.ready();
                this.chaincodes.set(definition.name, { version, handler, process: child });
                return;
            } catch (error) {
                handler.close();
                if (Date.now() > deadline) {
                    child.kill();
                    throw new Error(`chaincode server ${definition.name} did not register: ${(error as Error).message}`);
                }
                await new Promise((resolve) => setTimeout(resolve, 200));
            }
        }
    }

    /** Evaluates a proposal on one org's peer (the first of `targetOrgs`, default Org1). */
    public async evaluate(signedProposal: Uint8Array, targetOrgs: readonly string[]): Promise<ProtoResponse> {
        const org = defined(this.pickOrgs(targetOrgs, 1)[0]);
        const up = this.checkProposal(signedProposal, 'evaluate');
        const sim = await this.lock.shared(() => this.simulate(up));
        const status = sim.response.getStatus();
        if (status >= 400 || status < 200) {
            if (sim.payload === undefined) {
                throw new DevnetError(Code.ABORTED, 'failed to evaluate transaction, see attached details for more info', [{ mspId: org.mspId, message: sim.response.getMessage() }]);
            }
            throw new DevnetError(Code.UNKNOWN, `evaluate call to endorser returned error: chaincode response ${status}, ${sim.response.getMessage()}`, [
                { mspId: org.mspId, message: `chaincode response ${status}, ${sim.response.getMessage()}` },
            ]);
        }
        return sim.response;
    }

    /**
     * Endorses a proposal on a majority of orgs (or `endorsingOrgs`), compares their responses and returns the
     * prepared (unsigned) transaction envelope, as the gateway's Endorse does.
     */
    public async endorse(signedProposal: Uint8Array, endorsingOrgs: readonly string[]): Promise<Envelope> {
        const orgs = this.pickOrgs(endorsingOrgs, this.requiredEndorsements);
        const up = this.checkProposal(signedProposal, 'endorse');
        const failure = (sim: Simulation, org: Org): { mspId: string; message: string } | undefined => {
            const status = sim.response.getStatus();
            if (status >= 200 && status < 400) {
                return undefined;
            }
            return { mspId: org.mspId, message: sim.payload === undefined ? sim.response.getMessage() : `chaincode response ${status}, ${sim.response.getMessage()}` };
        };
        const first = await this.lock.shared(async () => {
            // api.go planFromFirstEndorser: the first (local org's) endorser alone decides whether to go on.
            const firstSim = await this.simulate(up);
            const firstFailure = failure(firstSim, defined(orgs[0]));
            if (firstFailure !== undefined) {
                throw new DevnetError(Code.ABORTED, 'failed to endorse transaction, see attached details for more info', [firstFailure]);
            }
            const payload = defined(firstSim.payload);
            // One simulation per further endorsing peer: a nondeterministic chaincode yields differing responses.
            for (const org of orgs.slice(1)) {
                const sim = await this.simulate(up);
                const error = failure(sim, org)
                    ?? (Buffer.from(defined(sim.payload)).equals(Buffer.from(payload)) ? undefined : { mspId: org.mspId, message: 'ProposalResponsePayloads do not match' });
                if (error !== undefined) {
                    throw new DevnetError(Code.ABORTED, 'failed to collect enough transaction endorsements, see attached details for more info', [error]);
                }
            }
            return payload;
        });
        const endorsements = orgs.map((org) => {
            const e = new peerProtos.Endorsement();
            e.setEndorser(org.peer.serialized);
            e.setSignature(org.peer.sign(Buffer.concat([first, org.peer.serialized])));
            return e;
        });
        return this.prepareTransaction(up, first, endorsements);
    }

    /** Accepts a signed transaction envelope for ordering (the orderer's Broadcast). */
    public submit(envelopeBytes: Uint8Array): void {
        if (this.closed || this.failure !== undefined) {
            throw new DevnetError(Code.UNAVAILABLE, `no orderers could successfully process transaction${this.failure === undefined ? '' : `: ${this.failure.message}`}`);
        }
        const envelope = common.Envelope.deserializeBinary(envelopeBytes);
        if (envelope.getSignature_asU8().length === 0) {
            throw new DevnetError(Code.INVALID_ARGUMENT, 'prepared transaction must be signed');
        }
        const failure = this.checkEnvelopeSignature(envelope);
        if (failure !== undefined) {
            throw new DevnetError(Code.ABORTED, `received unsuccessful response from orderer: status=FORBIDDEN, info=${failure}`);
        }
        this.pending.push(envelopeBytes);
        if (this.pending.length >= this.batchSize) {
            this.cutBlock();
        } else if (this.batchTimer === undefined) {
            this.batchTimer = setTimeout(() => { this.cutBlock(); }, this.batchTimeoutMs);
        }
    }

    /** Verifies a signature by a channel member over `data` (the gateway's ACL check on signed requests). */
    public checkSignedRequest(identity: Uint8Array, data: Uint8Array, signature: Uint8Array): void {
        const failure = this.checkSignature(identity, data, signature);
        if (failure !== undefined) {
            throw new DevnetError(Code.PERMISSION_DENIED, failure);
        }
    }

    /** The status of a committed transaction, waiting for its commit if needed. */
    public commitStatus(txId: string): Promise<TxStatus> {
        const known = this.statuses.get(txId);
        if (known !== undefined) {
            return Promise.resolve(known);
        }
        return new Promise((resolve) => {
            const waiters = this.statusWaiters.get(txId) ?? [];
            waiters.push(resolve);
            this.statusWaiters.set(txId, waiters);
        });
    }

    /** Committed chaincode events of block `blockNumber` (empty if none or not yet committed). */
    public eventsOf(blockNumber: number): readonly CommittedEvent[] {
        return this.events[blockNumber] ?? [];
    }

    /** The block number of a committed transaction id, if any. */
    public blockOf(txId: string): number | undefined {
        return this.statuses.get(txId)?.blockNumber;
    }

    /** Calls `listener` with each newly committed block number; returns an unsubscribe function. */
    public onBlock(listener: (blockNumber: number) => void): () => void {
        this.blockListeners.add(listener);
        return () => this.blockListeners.delete(listener);
    }

    /** Orders and commits the pending transactions now; resolves when every cut block is committed. */
    public async flush(): Promise<void> {
        if (this.pending.length > 0) {
            this.cutBlock();
        }
        await this.committing;
    }

    /** Commits what is pending, stops the chaincodes and closes the block store. */
    public async close(): Promise<void> {
        if (this.closed) {
            return;
        }
        await this.flush();
        this.closed = true;
        for (const { handler, process } of this.chaincodes.values()) {
            handler.close();
            process?.kill();
        }
        this.store.close();
    }

    private pickOrgs(requested: readonly string[], count: number): Org[] {
        if (requested.length === 0) {
            return this.material.orgs.slice(0, count);
        }
        return requested.map((mspId) => {
            const org = this.material.orgs.find((o) => o.mspId === mspId);
            if (org === undefined) {
                throw new DevnetError(Code.UNAVAILABLE, `no endorsers found for organization ${mspId} on channel ${this.channel}`);
            }
            return org;
        });
    }

    private checkProposal(signedProposal: Uint8Array, what: 'evaluate' | 'endorse'): UnpackedProposal & { readonly creatorMspId: string } {
        const reject = (message: string): never => {
            throw new DevnetError(Code.ABORTED, `failed to ${what} transaction, see attached details for more info`, [{ mspId: defined(this.material.orgs[0]).mspId, message }]);
        };
        let up: UnpackedProposal;
        try {
            up = unpackProposal(signedProposal);
        } catch (error) {
            throw new DevnetError(Code.INVALID_ARGUMENT, `failed to unpack transaction proposal: ${(error as Error).message}`);
        }
        // Fabric's gateway resolves the channel and the chaincode's endorsers before any peer sees the proposal.
        if (up.channelId !== this.channel) {
            throw new DevnetError(Code.UNAVAILABLE, `failed to get config for channel [${up.channelId}]: could not get last config for channel ${up.channelId}`);
        }
        if (!this.chaincodes.has(up.chaincodeName)) {
            throw new DevnetError(Code.FAILED_PRECONDITION, `no peers available to ${what} chaincode ${up.chaincodeName} in channel ${this.channel}`);
        }
        let creatorMspId = '';
        try {
            creatorMspId = validateProposal(up, this.msps).mspId;
        } catch (error) {
            reject(`error validating proposal: ${(error as Error).message}`);
        }
        if (this.statuses.has(up.txId)) {
            reject(`duplicate transaction found [${up.txId}]. Creator [${Buffer.from(up.creator).toString('hex')}]`);
        }
        return { ...up, creatorMspId };
    }

    private async simulate(up: UnpackedProposal): Promise<Simulation> {
        const deployed = defined(this.chaincodes.get(up.chaincodeName));
        const outcome = await simulateProposal(deployed.handler, up.chaincodeName, up, this.ledger.state, 'couchdb');
        if (!outcome.ok) {
            return { response: response(500, outcome.message) };
        }
        const result = response(outcome.status, outcome.message, outcome.payload);
        const action = new peerProtos.ChaincodeAction();
        action.setResults(encodeRwset(up.chaincodeName, outcome.rwset));
        if (outcome.event !== undefined) {
            const event = new peerProtos.ChaincodeEvent();
            event.setChaincodeId(up.chaincodeName);
            event.setTxId(up.txId);
            event.setEventName(outcome.event.name);
            event.setPayload(outcome.event.payload);
            action.setEvents(event.serializeBinary());
        }
        action.setResponse(result);
        const ccId = new peerProtos.ChaincodeID();
        ccId.setName(up.chaincodeName);
        ccId.setVersion(deployed.version);
        action.setChaincodeId(ccId);
        const prp = new peerProtos.ProposalResponsePayload();
        prp.setProposalHash(proposalHash(up));
        prp.setExtension$(action.serializeBinary());
        return { response: result, payload: prp.serializeBinary() };
    }

    private prepareTransaction(up: UnpackedProposal, responsePayload: Uint8Array, endorsements: InstanceType<typeof peerProtos.Endorsement>[]): Envelope {
        const proposal = peerProtos.Proposal.deserializeBinary(up.signedProposal.getProposalBytes_asU8());
        const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
        const endorsed = new peerProtos.ChaincodeEndorsedAction();
        endorsed.setProposalResponsePayload(responsePayload);
        endorsed.setEndorsementsList(endorsements);
        const actionPayload = new peerProtos.ChaincodeActionPayload();
        actionPayload.setChaincodeProposalPayload(proposalPayloadWithoutTransient(proposal.getPayload_asU8()));
        actionPayload.setAction(endorsed);
        const txAction = new peerProtos.TransactionAction();
        txAction.setHeader(header.getSignatureHeader_asU8());
        txAction.setPayload(actionPayload.serializeBinary());
        const tx = new peerProtos.Transaction();
        tx.setActionsList([txAction]);
        const payload = new common.Payload();
        payload.setHeader(header);
        payload.setData(tx.serializeBinary());
        const envelope = new common.Envelope();
        envelope.setPayload(payload.serializeBinary());
        return envelope;
    }

    private checkSignature(identityBytes: Uint8Array, data: Uint8Array, signature: Uint8Array): string | undefined {
        let mspId: string;
        let certificate: X509Certificate;
        try {
            const identity = shimProtos.msp.SerializedIdentity.deserializeBinary(identityBytes);
            mspId = identity.getMspid();
            certificate = new X509Certificate(Buffer.from(identity.getIdBytes_asU8()));
        } catch {
            return `failed evaluating policy on signed data during check policy on channel [${this.channel}]: identity is malformed`;
        }
        const ca = this.msps.get(mspId);
        const denied = `failed evaluating policy on signed data during check policy on channel [${this.channel}] with policy [/Channel/Application/Writers]: [implicit policy evaluation failed - 0 sub-policies were satisfied]`;
        if (ca === undefined || !certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) {
            return denied;
        }
        try {
            if (!isLowS(signature) || !verifySignature('sha256', data, certificate.publicKey, signature)) {
                return denied;
            }
        } catch {
            return denied;
        }
        return undefined;
    }

    private checkEnvelopeSignature(envelope: Envelope): string | undefined {
        try {
            const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
            const signatureHeader = common.SignatureHeader.deserializeBinary(payload.getHeader()?.getSignatureHeader_asU8() ?? new Uint8Array());
            return this.checkSignature(signatureHeader.getCreator_asU8(), envelope.getPayload_asU8(), envelope.getSignature_asU8());
        } catch (error) {
            return `bad envelope: ${(error as Error).message}`;
        }
    }

    private cutBlock(): void {
        if (this.batchTimer !== undefined) {
            clearTimeout(this.batchTimer);
            this.batchTimer = undefined;
        }
        const batch = this.pending.splice(0, this.batchSize);
        if (this.pending.length > 0) {
            this.batchTimer = setTimeout(() => { this.cutBlock(); }, this.pending.length >= this.batchSize ? 0 : this.batchTimeoutMs);
        }
        if (batch.length === 0) {
            return;
        }
        this.committing = this.committing.then(() => this.commitBlock(batch)).catch((error: unknown) => {
            // The block may be applied in memory but not stored: stop taking transactions rather than diverge.
            this.failure = error instanceof Error ? error : new Error(String(error));
            process.stderr.write(`devnet: committing a block failed, no longer accepting transactions: ${this.failure.message}\n`);
        });
    }

    private async commitBlock(envelopes: readonly Uint8Array[]): Promise<void> {
        await this.lock.exclusive(() => {
            const number = this.store.height;
            const parsed = envelopes.map((bytes) => this.parseTransaction(bytes));
            const { codes } = this.ledger.commitBlock(parsed.map((p) => p.ordered));
            const numeric = codes.map((code, i) => defined(parsed[i]).badPayload ? peerProtos.TxValidationCode.BAD_PAYLOAD : TX_CODE_NUMBERS[code]);
            const block = this.buildBlock(number, envelopes, numeric);
            this.store.append(block);
            this.recordBlock(number, parsed, numeric);
        });
    }

    private recordBlock(number: number, parsed: readonly ParsedTransaction[], codes: readonly number[]): void {
        const events: CommittedEvent[] = [];
        parsed.forEach((tx, i) => {
            const code = defined(codes[i]);
            if (tx.ordered.txId !== '' && !this.statuses.has(tx.ordered.txId)) {
                const status = { code, blockNumber: number };
                this.statuses.set(tx.ordered.txId, status);
                for (const waiter of this.statusWaiters.get(tx.ordered.txId) ?? []) {
                    waiter(status);
                }
                this.statusWaiters.delete(tx.ordered.txId);
            }
            if (code === peerProtos.TxValidationCode.VALID && tx.event !== undefined) {
                events.push({ blockNumber: number, event: tx.event });
            }
        });
        this.events[number] = events;
        for (const listener of this.blockListeners) {
            listener(number);
        }
    }

    private replay(block: Block): void {
        const number = defined(block.getHeader()).getNumber();
        if (number === 0) {
            this.events[0] = [];
            return;
        }
        const envelopes = block.getData()?.getDataList_asU8() ?? [];
        const stored = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array();
        const parsed = envelopes.map((bytes) => this.parseTransaction(bytes));
        // Endorsement checks are not repeated: the stored validation codes say which transactions passed them.
        const ordered = parsed.map((p, i) => ({ ...p.ordered, endorsed: stored[i] !== peerProtos.TxValidationCode.ENDORSEMENT_POLICY_FAILURE && !p.badPayload }));
        const { blockNumber, codes } = this.ledger.commitBlock(ordered);
        const numeric = codes.map((code, i) => defined(parsed[i]).badPayload ? peerProtos.TxValidationCode.BAD_PAYLOAD : TX_CODE_NUMBERS[code]);
        if (blockNumber !== number || numeric.some((code, i) => code !== stored[i])) {
            throw new Error(`replaying block ${number} gave different validation codes than recorded`);
        }
        this.recordBlock(number, parsed, numeric);
    }

    private buildBlock(number: number, envelopes: readonly Uint8Array[], codes: readonly number[] = []): Block {
        const header = new common.BlockHeader();
        header.setNumber(number);
        header.setPreviousHash(this.store.previousHash);
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

    /** The orgs whose peer validly signed `prpBytes` (endorsement signature over payload ‖ endorser). */
    private endorsingOrgs(prpBytes: Uint8Array, endorsements: readonly InstanceType<typeof peerProtos.Endorsement>[]): Set<string> {
        const orgs = new Set<string>();
        for (const e of endorsements) {
            const endorser = e.getEndorser_asU8();
            const org = this.material.orgs.find((o) => Buffer.from(o.peer.serialized).equals(Buffer.from(endorser)));
            if (org !== undefined && this.checkSignature(endorser, Buffer.concat([prpBytes, endorser]), e.getSignature_asU8()) === undefined) {
                orgs.add(org.mspId);
            }
        }
        return orgs;
    }

    /** Decodes an ordered envelope and checks its endorsements against the default (majority) policy. */
    private parseTransaction(bytes: Uint8Array): ParsedTransaction {
        const bad: ParsedTransaction = { ordered: { txId: '', endorsed: false, rwset: { reads: [], writes: [], ranges: [] } }, badPayload: true };
        try {
            const envelope = common.Envelope.deserializeBinary(bytes);
            const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
            const header = payload.getHeader();
            if (header === undefined) {
                return bad;
            }
            const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
            const txId = channelHeader.getTxId();
            const tx = peerProtos.Transaction.deserializeBinary(payload.getData_asU8());
            const action = tx.getActionsList()[0];
            if (action === undefined || channelHeader.getType() !== common.HeaderType.ENDORSER_TRANSACTION) {
                return bad;
            }
            const actionPayload = peerProtos.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
            const endorsed = actionPayload.getAction();
            if (endorsed === undefined) {
                return bad;
            }
            const prpBytes = endorsed.getProposalResponsePayload_asU8();
            const prp = peerProtos.ProposalResponsePayload.deserializeBinary(prpBytes);
            const ccAction = peerProtos.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
            const namespace = ccAction.getChaincodeId()?.getName() ?? '';
            const rwset = decodeRwset(namespace, ccAction.getResults_asU8());
            const event = decodeEvent(ccAction.getEvents_asU8());
            const envelopeOk = this.checkEnvelopeSignature(envelope) === undefined;
            const orgsEndorsing = this.endorsingOrgs(prpBytes, endorsed.getEndorsementsList());
            const status = ccAction.getResponse()?.getStatus() ?? 0;
            const policyMet = envelopeOk && namespace !== '' && orgsEndorsing.size >= this.requiredEndorsements && status >= 200 && status < 400;
            return { ordered: { txId, endorsed: policyMet, rwset }, badPayload: false, ...(event === undefined ? {} : { event }) };
        } catch {
            return bad;
        }
    }
}

interface ParsedTransaction {
    readonly ordered: OrderedTransaction;
    readonly badPayload: boolean;
    readonly event?: ProtoChaincodeEvent;
}

function decodeEvent(bytes: Uint8Array): ProtoChaincodeEvent | undefined {
    return bytes.length === 0 ? undefined : peerProtos.ChaincodeEvent.deserializeBinary(bytes);
}

/** ChaincodeProposalPayload with the transient map removed, as protoutil.GetBytesProposalPayloadForTx. */
function proposalPayloadWithoutTransient(payloadBytes: Uint8Array): Uint8Array {
    const payload = peerProtos.ChaincodeProposalPayload.deserializeBinary(payloadBytes);
    const out = new peerProtos.ChaincodeProposalPayload();
    out.setInput(payload.getInput_asU8());
    return out.serializeBinary();
}

/** protoutil.GetProposalHash1: SHA-256 of channel header ‖ signature header ‖ payload without transient data. */
function proposalHash(up: UnpackedProposal): Uint8Array {
    const proposal = peerProtos.Proposal.deserializeBinary(up.signedProposal.getProposalBytes_asU8());
    const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
    return createHash('sha256')
        .update(header.getChannelHeader_asU8())
        .update(header.getSignatureHeader_asU8())
        .update(proposalPayloadWithoutTransient(proposal.getPayload_asU8()))
        .digest();
}
