// SPDX-License-Identifier: Apache-2.0
/**
 * A whole Fabric network (N orgs, one channel, one orderer) in one object, composed of its roles:
 * - {@link ChaincodeLifecycle}: chaincodes installed on every org's peer and defined on the channel;
 * - {@link Endorser}: proposals validated and simulated once per endorsing org through the real fabric-shim runtime,
 *   the responses compared and signed by each org's peer identity;
 * - {@link ChannelPolicy}: the channel's MSPs, signature and endorsement-policy checks;
 * - {@link Orderer}: signed transaction envelopes ordered into blocks (size / timeout);
 * - {@link Committer}: blocks validated as Fabric's committer does, appended to a durable block store and only then
 *   reported committed.
 */
import path from 'node:path';
import { common, type peer as peerProtos } from '@hyperledger/fabric-protos';
import { channelConfigEnvelope, configOfBlock, ordererEndpointsOf } from './channelConfig';
import { ChannelPolicy } from './channelPolicy';
import { Committer, identityDictionary, type CheckedTransaction, type CommittedEvent, type TxStatus } from './committer';
import { Code, DevnetError } from './devnetError';
import { identityRole } from './collections';
import { Endorser } from './endorser';
import { endorsementLayouts, type InterestCall } from './endorsementPlan';
import type { ValidEndorser } from './keyPolicy';
import { ChaincodeLifecycle, type ChaincodeDefinition, type ChaincodeServiceDefinition } from './lifecycle';
import { Orderer, type BroadcastOutcome } from './orderer';
import { ensureCryptoMaterial, type CryptoMaterial, type Org } from './orgs';
import { StateLock } from './stateLock';
import { defined } from './defined';

export { Code, DevnetError, type EndorserErrorDetail } from './devnetError';
export { EndorsementPolicyError } from './endorsementPolicy';
export type { ChaincodeDefinition, ChaincodeServiceDefinition } from './lifecycle';
export type { CommittedEvent, TxStatus } from './committer';
export type { BroadcastOutcome } from './orderer';

type Envelope = InstanceType<typeof common.Envelope>;
type ChannelConfig = InstanceType<typeof common.Config>;
type ProtoResponse = InstanceType<typeof peerProtos.Response>;
type ProposalResponse = InstanceType<typeof peerProtos.ProposalResponse>;

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
    /**
     * `host:port` of the orderer as a new channel's configuration (block 0) names it, default
     * `orderer.example.com:7051`; an existing ledger keeps the one its block 0 names.
     */
    readonly ordererEndpoint?: string;
}

/** A whole Fabric network (N orgs, one channel, one orderer) in one process. */
export class Devnet {
    /** Channel name. */
    public readonly channel: string;
    /** The organizations' crypto material. */
    public readonly material: CryptoMaterial;
    /** The channel's configuration, as its config block (block 0) carries it. */
    public readonly channelConfig: ChannelConfig;
    private readonly policy: ChannelPolicy;
    private readonly lifecycle: ChaincodeLifecycle;
    private readonly committer: Committer;
    private readonly endorser: Endorser;
    private readonly orderer: Orderer<CheckedTransaction>;
    private readonly lock: StateLock;
    private closed = false;

    private constructor(options: DevnetOptions, material: CryptoMaterial, policy: ChannelPolicy, lock: StateLock, committer: Committer, config: ChannelConfig) {
        this.channel = policy.channel;
        this.channelConfig = config;
        this.material = material;
        this.policy = policy;
        this.committer = committer;
        this.lock = lock;
        this.lifecycle = new ChaincodeLifecycle(this.material.orgs, options.executeTimeoutMs ?? 30_000);
        this.endorser = new Endorser({
            policy: this.policy,
            orgs: this.material.orgs,
            lifecycle: this.lifecycle,
            ledger: committer.ledger,
            lock,
            privateData: committer.privateData,
            isCommitted: (txId) => this.committer.isCommitted(txId),
        });
        this.orderer = new Orderer(this.policy, options.batchSize ?? 10, options.batchTimeoutMs ?? 200, committer);
    }

    /**
     * Opens (or creates) the devnet in `options.dir`: its ledger starts from the durable state and indexes, reading
     * only the blocks they do not hold yet.
     */
    public static async open(options: DevnetOptions): Promise<Devnet> {
        const channel = options.channel ?? 'mychannel';
        const material = ensureCryptoMaterial(options.dir, options.orgs ?? 3);
        const policy = new ChannelPolicy(channel, material.orgs);
        const lock = new StateLock();
        const genesis = (): Uint8Array => channelConfigEnvelope({
            channel,
            orgs: material.orgs,
            tlsCaCertificatePem: material.tls.caCertificatePem,
            batchSize: options.batchSize ?? 10,
            batchTimeoutMs: options.batchTimeoutMs ?? 200,
            ordererEndpoint: options.ordererEndpoint ?? 'orderer.example.com:7051',
        });
        const committer = await Committer.open(path.join(options.dir, 'ledger'), channel, lock, policy, genesis, identityDictionary(material.orgs));
        let config: ChannelConfig;
        try {
            config = configOfBlock(defined(await committer.blockBytes(0), 'block 0'));
            policy.useConfig(config);
        } catch (error) {
            await committer.close();
            throw error;
        }
        return new Devnet(options, material, policy, lock, committer, config);
    }

    /** Simulations run again under the commit lock because a block's commit overlapped them. */
    public get simulationsRunAgain(): number {
        return this.lock.rerunCount;
    }

    /** Ledger height (number of blocks, genesis included). */
    public get height(): number {
        return this.committer.height;
    }

    /** Organizations, in order. */
    public get orgs(): readonly Org[] {
        return this.material.orgs;
    }

    /**
     * The endorsement policy chaincode `name` is defined with: its signature policy, or the path of a channel
     * configuration policy (`/Channel/Application/Endorsement` by default, also for a chaincode not defined).
     */
    public endorsementPolicyOf(name: string): string {
        return this.policy.chaincodePolicy(name).description;
    }

    /**
     * Starts a chaincode in process, one instance per org (each answering `getMspID()` with its org), and defines
     * it on the channel with its endorsement policy and collections. A bad endorsement policy
     * ({@link EndorsementPolicyError}) or collections configuration is refused before anything is deployed.
     */
    public async deploy(definition: ChaincodeDefinition): Promise<void> {
        const policy = this.policy.resolveChaincodePolicy(definition);
        await this.committer.privateData.define(definition.name, definition.collections);
        await this.lifecycle.deploy(definition);
        this.policy.setChaincodePolicy(definition.name, policy);
    }

    /**
     * Runs a chaincode folder as a service, one server per org as each peer has its own chaincode: starts
     * `fabric-chaincode-node server` there on a free local port (with CORE_PEER_LOCALMSPID of the org), dials it as a
     * peer does with CCaaS and waits for the chaincode to register. Its definition as with {@link deploy}.
     */
    public async deployService(definition: ChaincodeServiceDefinition): Promise<void> {
        const policy = this.policy.resolveChaincodePolicy(definition);
        await this.committer.privateData.define(definition.name, definition.collections);
        await this.lifecycle.deployService(definition);
        this.policy.setChaincodePolicy(definition.name, policy);
    }

    /**
     * The private write sets of block `blockNumber` that `identity` may receive (DeliverWithPrivateData), by
     * transaction number: the collections whose member policy it satisfies.
     */
    public blockPrivateData(blockNumber: number, identity: ValidEndorser): Promise<Map<number, Uint8Array>> {
        return this.committer.privateData.blockPrivateData(blockNumber, identity);
    }

    /** Evaluates a proposal on one org's peer (the first of `targetOrgs`, default Org1). */
    public evaluate(signedProposal: Uint8Array, targetOrgs: readonly string[], localMspId?: string): Promise<ProtoResponse> {
        return this.endorser.evaluate(signedProposal, targetOrgs, localMspId);
    }

    /**
     * Endorses a proposal on a majority of orgs (or `endorsingOrgs`), compares their responses and returns the
     * prepared (unsigned) transaction envelope, as the gateway's Endorse does.
     */
    public async endorse(signedProposal: Uint8Array, endorsingOrgs: readonly string[], localMspId?: string): Promise<Envelope> {
        return common.Envelope.deserializeBinary(await this.preparedTransaction(signedProposal, endorsingOrgs, localMspId));
    }

    /** {@link endorse}'s envelope as the serialized common.Envelope, which the Gateway server sends as it is. */
    public preparedTransaction(signedProposal: Uint8Array, endorsingOrgs: readonly string[], localMspId?: string): Promise<Uint8Array> {
        return this.endorser.endorse(signedProposal, endorsingOrgs, localMspId);
    }

    /** The peer Endorser service's ProcessProposal on the peer of `mspId` (default: the first org's). */
    public processProposal(signedProposal: Uint8Array, mspId?: string): Promise<ProposalResponse> {
        const org = this.material.orgs.find((o) => o.mspId === mspId) ?? this.material.orgs[0];
        if (org === undefined) {
            throw new DevnetError(Code.UNAVAILABLE, 'the devnet has no organizations');
        }
        return this.endorser.processProposal(signedProposal, org);
    }

    /** The orderer AtomicBroadcast service's Broadcast of one envelope: its status and info. */
    public broadcast(envelopeBytes: Uint8Array): Promise<BroadcastOutcome> {
        return this.orderer.broadcast(envelopeBytes);
    }

    /** Name and version of each chaincode defined on the channel. */
    public chaincodeDefinitions(): { readonly name: string; readonly version: string }[] {
        return this.lifecycle.definitions();
    }

    /** Why `signature` by the serialized identity over `data` is not a channel member's valid signature, if it is not. */
    public signatureFailure(identity: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<string | undefined> {
        return this.policy.checkSignature(identity, data, signature);
    }

    /** The port of the orderer endpoint block 0 names, if it names one (ledgers made before it did name none). */
    public get configuredOrdererPort(): number | undefined {
        return [...ordererEndpointsOf(this.channelConfig).values()].flat()[0]?.port;
    }

    /** Accepts a signed transaction envelope for ordering (the gateway's Submit). */
    public submit(envelopeBytes: Uint8Array): Promise<void> {
        return this.orderer.submit(envelopeBytes);
    }

    /** The MSP and role of a serialized identity of a channel member, undefined if it is not one. */
    public identityOf(identityBytes: Uint8Array): ValidEndorser | undefined {
        const identity = this.policy.members.resolve(identityBytes);
        return identity === undefined || !identity.validMember ? undefined : { mspId: identity.mspId, role: identityRole(identity.certificate) };
    }

    /** Verifies a signature by a channel member over `data` (the gateway's ACL check on signed requests). */
    public async checkSignedRequest(identity: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<void> {
        const failure = await this.policy.checkSignature(identity, data, signature);
        if (failure !== undefined) {
            throw new DevnetError(Code.PERMISSION_DENIED, failure);
        }
    }

    /** The status of a committed transaction, waiting for its commit if needed. */
    public commitStatus(txId: string): Promise<TxStatus> {
        return this.committer.commitStatus(txId);
    }

    /** The committed block `blockNumber`, serialized (undefined beyond the height). */
    public blockBytes(blockNumber: number): Promise<Uint8Array | undefined> {
        return this.committer.blockBytes(blockNumber);
    }

    /** Committed chaincode events of block `blockNumber` (empty if none or not yet committed). */
    public eventsOf(blockNumber: number): Promise<readonly CommittedEvent[]> {
        return this.committer.eventsOf(blockNumber);
    }

    /** The block number of a committed transaction id, if any. */
    public blockOf(txId: string): Promise<number | undefined> {
        return this.committer.blockOf(txId);
    }

    /** Calls `listener` with each newly committed block number; returns an unsubscribe function. */
    public onBlock(listener: (blockNumber: number) => void): () => void {
        return this.committer.onBlock(listener);
    }

    /** Orders and commits the pending transactions now; resolves when every cut block is committed. */
    public flush(): Promise<void> {
        return this.orderer.flush();
    }

    /** Commits what is pending, stops the chaincodes and closes the block store. */
    public async close(): Promise<void> {
        if (this.closed) {
            return;
        }
        await this.orderer.close();
        this.closed = true;
        this.lifecycle.stopAll();
        await this.committer.close();
    }

    /**
     * Discovery's layouts for a chaincode interest: the minimal sets of orgs whose peers can endorse it, at most
     * `limit`. Throws {@link InterestError} for a chaincode or collection the channel does not define.
     */
    public endorsementLayouts(calls: readonly InterestCall[], limit: number): string[][] {
        return endorsementLayouts(calls, this.endorser.definitions, this.material.orgs.map((org) => org.mspId), limit);
    }

    /** The endpoint of `org`'s peer, as its endorsement errors name it. */
    public endpointOf(org: Org): string {
        return this.endorser.endpointOf(org);
    }

    /** Records the port each org's peer is served on (for the endpoints named in error details). */
    public setEndpointPorts(ports: ReadonlyMap<string, number>): void {
        this.endorser.setEndpointPorts(ports);
    }
}
