// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet's peer, endorsers and orderer in one object: proposals are validated and simulated once per endorsing
 * organization through the real fabric-shim runtime; the responses are compared and signed by each org's peer
 * identity; signed transaction envelopes are ordered into blocks (size / timeout), validated as Fabric's committer
 * does, appended to a durable block store and only then reported committed.
 */
import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { common, msp, peer as peerProtos } from '@hyperledger/fabric-protos';
import { blockDataHash, BlockStore } from './blockStore';
import { ChaincodeHandler, type ChaincodeHandlerOptions } from './chaincodeHandler';
import { startChaincodeWorker } from './chaincodeWorker';
import { freePort, GrpcChatStream, launchChaincodeServer } from './chaincodeService';
import { InProcessChatStream } from './chatStream';
import { isLowS } from './der';
import { Ledger, type OrderedTransaction, type TxValidationCode } from './ledger';
import { ensureCryptoMaterial, type CryptoMaterial, type Org } from './orgs';
import { unpackProposal, validateProposal, type ChannelMsps, type UnpackedProposal } from './proposals';
import { ShimRuntime, type ContractClass, type SerializerConfig } from './shimRuntime';
import { decodeRwsets, encodeRwset } from './rwsetCodec';
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

/**
 * A chaincode to run in process, from its package folder (the folder that deploys to a real peer). Without
 * `contracts`, each org's chaincode runs in its own worker thread on the package's own dependencies, loaded as
 * `fabric-chaincode-node start` loads them. With `contracts` (classes already loaded in this process, e.g. by a test),
 * those classes run in this thread on the folder's fabric-shim.
 */
export interface ChaincodeDefinition {
    /** Chaincode name on the channel. */
    readonly name: string;
    /** The chaincode package (package.json `main` exporting `contracts`, fabric-shim in its node_modules). */
    readonly folder: string;
    readonly contracts?: readonly ContractClass[];
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
        public readonly details: readonly EndorserErrorDetail[] = [],
    ) {
        super(message);
        this.name = 'DevnetError';
    }
}

/** What one endorsing peer answered (gateway.ErrorDetail). */
export interface EndorserErrorDetail {
    readonly mspId: string;
    /** The endpoint of the org's peer that answered (`peer0.org2.example.com:9051`). */
    readonly address?: string;
    readonly message: string;
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
    /** Each org's peer's connection to its own instance of the chaincode. */
    readonly handlers: ReadonlyMap<string, ChaincodeHandler>;
    /** Stops every instance. */
    stop(): void;
}

/** A chaincode instance being started for one org: the peer's handler of its stream, and how to stop it. */
interface StartedInstance {
    readonly handler: ChaincodeHandler;
    /** Why the instance stopped, if it did. */
    failure(): string | undefined;
    stop(): void;
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
    private endpointPorts = new Map<string, number>();
    /** Every committed block, serialized, for the Deliver service. */
    private readonly blocks: Uint8Array[] = [];

    private constructor(private readonly options: DevnetOptions) {
        this.channel = options.channel ?? 'mychannel';
        this.material = ensureCryptoMaterial(options.dir, options.orgs ?? 3);
        this.msps = new Map(this.material.orgs.map((org) => [org.mspId, org.caCertificate]));
        this.batchSize = options.batchSize ?? 10;
        this.batchTimeoutMs = options.batchTimeoutMs ?? 200;
        const opened = BlockStore.open(path.join(options.dir, 'ledger', `${this.channel}.blocks`));
        this.store = opened.store;
        if (opened.blocks.length === 0) {
            const genesis = this.buildBlock(0, []);
            this.store.append(genesis);
            this.blocks.push(genesis.serializeBinary());
            this.events.push([]);
        }
        for (const block of opened.blocks) {
            this.replay(block);
            this.blocks.push(block.serializeBinary());
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

    /**
     * Starts a chaincode in process, one instance per org (each answering `getMspID()` with its org), and defines
     * it on the channel.
     */
    public async deploy(definition: ChaincodeDefinition): Promise<void> {
        const version = definition.version ?? '1.0';
        const ccid = `${definition.name}:${version}`;
        const contracts = definition.contracts;
        if (contracts === undefined) {
            await this.install(definition.name, version, async (org) => {
                const stream = startChaincodeWorker(definition.folder, ccid, org.mspId);
                const handler = new ChaincodeHandler(stream, this.handlerOptions());
                return Promise.resolve({ handler, failure: () => stream.failure, stop: () => { handler.close(); } });
            });
            return;
        }
        const runtime = ShimRuntime.of(definition.folder);
        await this.install(definition.name, version, async (org) => {
            const stream = new InProcessChatStream((bytes) => runtime.parseMessage(bytes));
            const chaincode = runtime.createContractChaincode({
                contracts,
                mspId: org.mspId,
                ...(definition.serializers === undefined ? {} : { serializers: definition.serializers }),
                ...(definition.metadata === undefined ? {} : { metadata: definition.metadata }),
                title: definition.name,
                version,
            });
            const handler = new ChaincodeHandler(stream, this.handlerOptions());
            runtime.startHandler(stream.chaincodeSide, chaincode, ccid);
            return Promise.resolve({ handler, failure: () => undefined, stop: () => { handler.close(); } });
        });
    }

    /**
     * Runs a chaincode folder as a service, one server per org as each peer has its own chaincode: starts
     * `fabric-chaincode-node server` there on a free local port (with CORE_PEER_LOCALMSPID of the org), dials it as a
     * peer does with CCaaS and waits for the chaincode to register.
     */
    public async deployService(definition: ChaincodeServiceDefinition): Promise<void> {
        const version = definition.version ?? '1.0';
        await this.install(definition.name, version, async (org) => {
            const address = `127.0.0.1:${await freePort()}`;
            const child = launchChaincodeServer(path.resolve(definition.folder), address, `${definition.name}:${version}`, org.mspId, definition.logFile);
            let exited: string | undefined;
            child.once('exit', (code, signal) => {
                exited = `chaincode server ${definition.name} for ${org.mspId} exited with ${signal ?? `code ${code ?? 0}`}`;
            });
            const deadline = Date.now() + 30_000;
            for (;;) {
                if (exited !== undefined) {
                    throw new Error(exited);
                }
                const handler = new ChaincodeHandler(new GrpcChatStream(address), this.handlerOptions());
                try {
                    await handler.ready();
                    return { handler, failure: () => exited, stop: () => { handler.close(); child.kill(); } };
                } catch (error) {
                    handler.close();
                    if (Date.now() > deadline) {
                        child.kill();
                        throw new Error(`chaincode server ${definition.name} for ${org.mspId} did not register: ${(error as Error).message}`);
                    }
                    await new Promise((resolve) => setTimeout(resolve, 200));
                }
            }
        });
    }

    private handlerOptions(): ChaincodeHandlerOptions {
        return { maxResultLimit: 100, totalQueryLimit: 100_000, executeTimeoutMs: this.options.executeTimeoutMs ?? 30_000 };
    }

    /** Starts one instance of a chaincode per org, waits until each registered, and (re)defines it on the channel. */
    private async install(name: string, version: string, start: (org: Org) => Promise<StartedInstance>): Promise<void> {
        const instances: StartedInstance[] = [];
        const handlers = new Map<string, ChaincodeHandler>();
        const stop = (): void => {
            for (const instance of instances) {
                instance.stop();
            }
        };
        // The orgs' instances start side by side, as peers start their chaincodes independently.
        const started = await Promise.allSettled(this.material.orgs.map(async (org) => {
            const instance = await start(org);
            instances.push(instance);
            handlers.set(org.mspId, instance.handler);
            try {
                await instance.handler.ready();
            } catch (error) {
                throw new Error(`chaincode ${name} did not start for ${org.mspId}: ${instance.failure() ?? (error as Error).message}`);
            }
        }));
        const failed = started.find((outcome) => outcome.status === 'rejected');
        if (failed !== undefined) {
            stop();
            throw failed.reason;
        }
        this.chaincodes.get(name)?.stop();
        this.chaincodes.set(name, { version, handlers, stop });
    }

    /** Evaluates a proposal on one org's peer (the first of `targetOrgs`, default Org1). */
    public async evaluate(signedProposal: Uint8Array, targetOrgs: readonly string[], localMspId?: string): Promise<ProtoResponse> {
        const org = defined(this.pickOrgs(targetOrgs, 1, localMspId)[0]);
        const up = this.checkProposal(signedProposal, 'evaluate', org);
        const sim = await this.lock.shared(() => this.simulate(up, org));
        const status = sim.response.getStatus();
        if (status >= 400 || status < 200) {
            if (sim.payload === undefined) {
                throw new DevnetError(Code.ABORTED, 'failed to evaluate transaction, see attached details for more info', [this.detail(org, sim.response.getMessage())]);
            }
            throw new DevnetError(Code.UNKNOWN, `evaluate call to endorser returned error: chaincode response ${status}, ${sim.response.getMessage()}`, [
                this.detail(org, `chaincode response ${status}, ${sim.response.getMessage()}`),
            ]);
        }
        return sim.response;
    }

    /**
     * Endorses a proposal on a majority of orgs (or `endorsingOrgs`), compares their responses and returns the
     * prepared (unsigned) transaction envelope, as the gateway's Endorse does.
     */
    public async endorse(signedProposal: Uint8Array, endorsingOrgs: readonly string[], localMspId?: string): Promise<Envelope> {
        const orgs = this.pickOrgs(endorsingOrgs, this.requiredEndorsements, localMspId);
        const firstOrg = defined(orgs[0]);
        const up = this.checkProposal(signedProposal, 'endorse', firstOrg);
        const failure = (sim: Simulation, org: Org): EndorserErrorDetail | undefined => {
            const status = sim.response.getStatus();
            if (status >= 200 && status < 400) {
                return undefined;
            }
            return this.detail(org, sim.payload === undefined ? sim.response.getMessage() : `chaincode response ${status}, ${sim.response.getMessage()}`);
        };
        const first = await this.lock.shared(async () => {
            // api.go planFromFirstEndorser: the first (local org's) endorser alone decides whether to go on.
            const firstSim = await this.simulate(up, firstOrg);
            const firstFailure = failure(firstSim, firstOrg);
            if (firstFailure !== undefined) {
                throw new DevnetError(Code.ABORTED, 'failed to endorse transaction, see attached details for more info', [firstFailure]);
            }
            const payload = defined(firstSim.payload);
            // Then the other endorsing peers, in parallel, each running its own instance of the chaincode: a
            // nondeterministic chaincode yields differing responses.
            const others = await Promise.all(orgs.slice(1).map(async (org) => ({ org, sim: await this.simulate(up, org) })));
            const errors = others.flatMap(({ org, sim }) => {
                const error = failure(sim, org)
                    ?? (Buffer.from(defined(sim.payload)).equals(Buffer.from(payload)) ? undefined : this.detail(org, 'ProposalResponsePayloads do not match'));
                return error === undefined ? [] : [error];
            });
            if (errors.length > 0) {
                throw new DevnetError(Code.ABORTED, 'failed to collect enough transaction endorsements, see attached details for more info', errors);
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
    /** The committed block `blockNumber`, serialized (undefined beyond the height). */
    public blockBytes(blockNumber: number): Uint8Array | undefined {
        return this.blocks[blockNumber];
    }

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
        for (const deployed of this.chaincodes.values()) {
            deployed.stop();
        }
        this.store.close();
    }

    /**
     * The endorsing orgs: those requested, else `count` orgs starting with the gateway peer's own (`localMspId`,
     * default the first org), as Fabric's gateway plans with its local org first.
     */
    private pickOrgs(requested: readonly string[], count: number, localMspId?: string): Org[] {
        if (requested.length === 0) {
            const local = this.material.orgs.find((o) => o.mspId === localMspId);
            const ordered = local === undefined ? this.material.orgs : [local, ...this.material.orgs.filter((o) => o !== local)];
            return ordered.slice(0, count);
        }
        return requested.map((mspId) => {
            const org = this.material.orgs.find((o) => o.mspId === mspId);
            if (org === undefined) {
                throw new DevnetError(Code.UNAVAILABLE, `no endorsers found for organization ${mspId} on channel ${this.channel}`);
            }
            return org;
        });
    }

    /** The endpoint of `org`'s peer, as its endorsement errors name it. */
    public endpointOf(org: Org): string {
        return `peer0.${org.domain}:${this.endpointPorts.get(org.mspId) ?? 7051}`;
    }

    /** Records the port each org's peer is served on (for the endpoints named in error details). */
    public setEndpointPorts(ports: ReadonlyMap<string, number>): void {
        this.endpointPorts = new Map(ports);
    }

    private detail(org: Org, message: string): EndorserErrorDetail {
        return { mspId: org.mspId, address: this.endpointOf(org), message };
    }

    private checkProposal(signedProposal: Uint8Array, what: 'evaluate' | 'endorse', org: Org): UnpackedProposal & { readonly creatorMspId: string } {
        const reject = (message: string): never => {
            throw new DevnetError(Code.ABORTED, `failed to ${what} transaction, see attached details for more info`, [this.detail(org, message)]);
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

    private async simulate(up: UnpackedProposal, org: Org): Promise<Simulation> {
        const deployed = defined(this.chaincodes.get(up.chaincodeName));
        const outcome = await simulateProposal(defined(deployed.handlers.get(org.mspId)), up.chaincodeName, up, this.ledger.stateOf(up.chaincodeName), 'couchdb');
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
            const identity = msp.SerializedIdentity.deserializeBinary(identityBytes);
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
            this.blocks.push(block.serializeBinary());
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
        const bad: ParsedTransaction = { ordered: { txId: '', endorsed: false, rwsets: [] }, badPayload: true };
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
            const rwsets = decodeRwsets(ccAction.getResults_asU8());
            const event = decodeEvent(ccAction.getEvents_asU8());
            const envelopeOk = this.checkEnvelopeSignature(envelope) === undefined;
            const orgsEndorsing = this.endorsingOrgs(prpBytes, endorsed.getEndorsementsList());
            const status = ccAction.getResponse()?.getStatus() ?? 0;
            const policyMet = envelopeOk && namespace !== '' && orgsEndorsing.size >= this.requiredEndorsements && status >= 200 && status < 400;
            return { ordered: { txId, endorsed: policyMet, rwsets }, badPayload: false, ...(event === undefined ? {} : { event }) };
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
