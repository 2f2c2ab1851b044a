// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet's endorsing peers, one per org, and the gateway's planning over them: a proposal is validated and
 * simulated once per endorsing org on that org's own chaincode instance, the responses are compared and each is
 * signed by its org's peer identity, and the endorsements are assembled into a transaction envelope.
 */
import { createHash } from 'node:crypto';
import { peer as peerProtos } from '@hyperledger/fabric-protos';
import type { ChannelPolicy, Endorsement } from './channelPolicy';
import { ChaincodeCollections, identityRole } from './collections';
import { endorsementLayouts, interestOf, InterestError, type DefinitionSource, type InterestCall, type SimulatedAccess } from './endorsementPlan';
import type { EndorsementPolicy } from './endorsementPolicy';
import { defined } from './defined';
import { signLowSOffThread } from './der';
import { Code, DevnetError, type EndorserErrorDetail } from './devnetError';
import type { NamespacedStateReader } from './ledger';
import type { HistoryReader, KeyModification } from './ledgerDb';
import type { ChaincodeLifecycle } from './lifecycle';
import { VALIDATION_PARAMETER, type ValidEndorser } from './keyPolicy';
import type { Org } from './orgs';
import type { PrivateDataLedger } from './privateLedger';
import type { ChaincodeProposalPayload, ProposalHeader, ProtoMap } from './runtime';
import type { CollectionHashedRwset, CollectionPrivateWrites } from './privateRwset';
import { unpackProposal, validateProposal, type UnpackedProposal } from './proposals';
import { ProtoMessage } from './protoWriter';
import { encodeRwset } from './rwsetCodec';
import { simulateProposal, type SimulationOutcome } from './simulation';
import type { ReadFootprint, StateLock } from './stateLock';
import type { StateReader, VersionedKV, VersionedValue } from './worldState';

type ProtoResponse = InstanceType<typeof peerProtos.Response>;
type ProposalResponse = InstanceType<typeof peerProtos.ProposalResponse>;

/** Interests whose endorsement plan is kept per chaincode definition; beyond that the plans are worked out again. */
const PLAN_CACHE_CAPACITY = 1024;

interface Simulation {
    readonly response: ProtoResponse;
    /** Serialized ProposalResponsePayload, undefined when the peer generated the failure (no payload). */
    readonly payload?: Uint8Array;
    /** The private writes to keep in the transient store until commit. */
    readonly privateWrites?: readonly CollectionPrivateWrites[];
    /** What the simulation wrote and read in plaintext, which decides its chaincode interest. */
    readonly access?: SimulatedAccess;
    /** The public keys it wrote (values or metadata), whose key-level policies the interest carries. */
    readonly publicKeysWritten?: readonly string[];
    /** Its collections' hashed sets, whose written private keys' key-level policies the interest carries. */
    readonly collectionsWritten?: readonly CollectionHashedRwset[];
    /** The committed state it read, undefined when that cannot be listed (history, private data, a failed run). */
    readonly reads?: ReadFootprint;
}

/** The state a simulation read, or undefined if any of it cannot be listed. */
function footprintsOf(simulations: readonly Simulation[]): ReadFootprint[] | undefined {
    const reads = simulations.map((sim) => sim.reads);
    return reads.every((read): read is ReadFootprint => read !== undefined) ? reads : undefined;
}

/** A proposal that passed the peer's checks, with its creator. */
type CheckedProposal = UnpackedProposal & { readonly creatorMspId: string; readonly creatorIdentity: ValidEndorser };

/** What the endorsers need to know of the rest of the devnet. */
export interface EndorserContext {
    readonly policy: ChannelPolicy;
    readonly orgs: readonly Org[];
    readonly lifecycle: ChaincodeLifecycle;
    /** Committed state per namespace and the history database. */
    readonly ledger: NamespacedStateReader & HistoryReader;
    readonly lock: StateLock;
    /** The private data of the peers (collections, hashed and private state, transient store). */
    readonly privateData: PrivateDataLedger;
    /** Whether a transaction id was already committed (a proposal reusing it is a duplicate). */
    isCommitted(txId: string): Promise<boolean>;
}

function response(status: number, message: string, payload: Uint8Array = new Uint8Array()): ProtoResponse {
    const r = new peerProtos.Response();
    r.setStatus(status);
    r.setMessage(message);
    r.setPayload(payload);
    return r;
}

/** Every org's endorsing peer. */
export class Endorser {
    private endpointPorts = new Map<string, number>();
    /** The endorsing orgs planned per chaincode definition (its policy) for each interest and first org. */
    private readonly plans = new WeakMap<EndorsementPolicy, Map<string, Org[]>>();
    /** The chaincode definitions as endorsement planning reads them. */
    public readonly definitions: DefinitionSource;
    /** The endorsing orgs last planned per chaincode, first org and function: who is likely to endorse next time. */
    private readonly lastPlans = new Map<string, readonly Org[]>();

    public constructor(private readonly context: EndorserContext) {
        this.definitions = {
            chaincodePolicy: (chaincode) => (context.lifecycle.get(chaincode) === undefined ? undefined : context.policy.chaincodePolicy(chaincode)),
            collection: (chaincode, name) => context.privateData.collection(chaincode, name),
        };
    }

    private get channel(): string {
        return this.context.policy.channel;
    }

    /** Evaluates a proposal on one org's peer (the first of `targetOrgs`, default Org1). */
    public async evaluate(signedProposal: Uint8Array, targetOrgs: readonly string[], localMspId?: string): Promise<ProtoResponse> {
        const org = defined(this.pickOrgs(targetOrgs, 1, localMspId)[0]);
        const up = await this.checkProposal(signedProposal, 'evaluate', org);
        const sim = await this.context.lock.optimistic(() => this.simulate(up, org, up.creatorIdentity, transactionParts(up).proposalHash), (done) => footprintsOf([done]));
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
     * Endorses a proposal on `endorsingOrgs`, else on the orgs the gateway plans from the first endorsement (the local
     * org's) and the chaincode's endorsement policies, compares their responses and returns the prepared (unsigned)
     * transaction envelope, as the gateway's Endorse does.
     */
    public async endorse(signedProposal: Uint8Array, endorsingOrgs: readonly string[], localMspId?: string): Promise<Uint8Array> {
        const requested = this.pickOrgs(endorsingOrgs, 1, localMspId);
        const firstOrg = defined(requested[0]);
        const up = await this.checkProposal(signedProposal, 'endorse', firstOrg);
        const parts = transactionParts(up);
        const failure = (sim: Simulation, org: Org): EndorserErrorDetail | undefined => {
            const status = sim.response.getStatus();
            if (status >= 200 && status < 400) {
                return undefined;
            }
            return this.detail(org, sim.payload === undefined ? sim.response.getMessage() : `chaincode response ${status}, ${sim.response.getMessage()}`);
        };
        // Transient data goes to no peer before the plan says it may (a collection's members alone).
        const planKey = endorsingOrgs.length > 0 || parts.transient ? undefined : `${up.chaincodeName}\u0000${firstOrg.mspId}\u0000${functionOf(up)}`;
        // The other endorsers run alongside the first when they are known beforehand: the orgs asked for, or the orgs
        // the last plan for this function chose. Their results count only once the first endorser's says to go on,
        // so what the client sees is what endorsing one after the other gives.
        const simulateAll = async (): Promise<{ firstSim: Simulation; orgs: Org[]; others: { org: Org; sim: Simulation }[] }> => {
            const expected = planKey === undefined ? requested : this.lastPlans.get(planKey) ?? [];
            const early = new Map(expected.filter((org) => org !== firstOrg).map((org) => [org, this.simulate(up, org, up.creatorIdentity, parts.proposalHash)] as const));
            try {
                // api.go planFromFirstEndorser: the first (local org's) endorser alone decides whether to go on.
                const firstSim = await this.simulate(up, firstOrg, up.creatorIdentity, parts.proposalHash);
                const firstFailure = failure(firstSim, firstOrg);
                if (firstFailure !== undefined) {
                    throw new DevnetError(Code.ABORTED, 'failed to endorse transaction, see attached details for more info', [firstFailure]);
                }
                const orgs = endorsingOrgs.length > 0
                    ? requested
                    : this.plan(up.chaincodeName, parts.transient, firstOrg, await this.withKeyPolicies(up.chaincodeName, defined(firstSim.access), firstSim.publicKeysWritten ?? [], firstSim.collectionsWritten ?? []));
                if (planKey !== undefined) {
                    rememberBounded(this.lastPlans, planKey, orgs);
                }
                // Each other endorsing peer runs its own instance of the chaincode: a nondeterministic chaincode yields
                // differing responses. One that ran early but is not in the plan is not used.
                const others = await Promise.all(orgs.filter((org) => org !== firstOrg).map(async (org) => ({ org, sim: await (early.get(org) ?? this.simulate(up, org, up.creatorIdentity, parts.proposalHash)) })));
                return { firstSim, orgs, others };
            } finally {
                // No simulation outlives the attempt, whose reads the lock checks.
                await Promise.allSettled(early.values());
            }
        };
        // Reads committed state only; a commit that wrote what it read makes it run again (StateLock.optimistic).
        const simulated = await this.context.lock.optimistic(async () => {
            const { firstSim, orgs, others } = await simulateAll();
            const payload = defined(firstSim.payload);
            const errors = others.flatMap(({ org, sim }) => {
                const error = failure(sim, org)
                    ?? (Buffer.from(defined(sim.payload)).equals(Buffer.from(payload)) ? undefined : this.detail(org, 'ProposalResponsePayloads do not match'));
                return error === undefined ? [] : [error];
            });
            if (errors.length > 0) {
                throw new DevnetError(Code.ABORTED, 'failed to collect enough transaction endorsements, see attached details for more info', errors);
            }
            // Planning read the key-level policies of the keys written.
            const written: ReadFootprint = { namespace: up.chaincodeName, keys: new Set(firstSim.publicKeysWritten ?? []), ranges: [] };
            const reads = footprintsOf([firstSim, ...others.map(({ sim }) => sim)]);
            return { payload, orgs, privateWrites: firstSim.privateWrites ?? [], reads: reads === undefined ? undefined : [...reads, written] };
        }, (done) => done.reads);
        await this.context.privateData.keepTransient(up.txId, simulated.privateWrites);
        const endorsements = await Promise.all(simulated.orgs.map((org) => this.endorsement(simulated.payload, org)));
        return prepareTransaction(parts, simulated.payload, endorsements);
    }

    /**
     * The peer Endorser service's ProcessProposal on `org`'s peer (core/endorser/endorser.go), as pre-2.4 SDKs call it
     * on each endorsing peer: a proposal the peer cannot unpack fails the call; a refused proposal or a failed
     * simulation is a response with status 500 and no endorsement; a chaincode error response (status >= 400) is
     * returned unendorsed; otherwise the response is endorsed by the org's peer.
     */
    public async processProposal(signedProposal: Uint8Array, org: Org): Promise<ProposalResponse> {
        let up: UnpackedProposal;
        try {
            up = unpackProposal(signedProposal);
        } catch (error) {
            throw new DevnetError(Code.UNKNOWN, (error as Error).message);
        }
        const refused = (message: string): ProposalResponse => proposalResponse(response(500, message));
        if (up.channelId !== this.channel) {
            return refused(`channel '${up.channelId}' not found`);
        }
        let creatorIdentity: ValidEndorser;
        try {
            const creator = await validateProposal(up, this.context.policy.members);
            creatorIdentity = { mspId: creator.mspId, role: identityRole(creator.certificate) };
        } catch (error) {
            return refused(`error validating proposal: ${(error as Error).message}`);
        }
        if (await this.context.isCommitted(up.txId)) {
            return refused(`duplicate transaction found [${up.txId}]. Creator [${Buffer.from(up.creator).toString('hex')}]`);
        }
        if (this.context.lifecycle.get(up.chaincodeName) === undefined) {
            return refused(`make sure the chaincode ${up.chaincodeName} has been successfully defined on channel ${this.channel} and try again: chaincode ${up.chaincodeName} not found`);
        }
        const sim = await this.context.lock.optimistic(() => this.simulate(up, org, creatorIdentity, transactionParts(up).proposalHash), (done) => footprintsOf([done]));
        const status = sim.response.getStatus();
        if (sim.payload === undefined || status >= 400) {
            // endorser.go: an error status (>= 500) carries the payload, a chaincode "client error" (400-499) does not.
            return proposalResponse(sim.response, status >= 500 ? sim.payload : undefined);
        }
        await this.context.privateData.keepTransient(up.txId, sim.privateWrites ?? []);
        return proposalResponse(sim.response, sim.payload, await this.endorsement(sim.payload, org));
    }

    /** The endpoint of `org`'s peer, as its endorsement errors name it. */
    public endpointOf(org: Org): string {
        return `peer0.${org.domain}:${this.portOf(org)}`;
    }

    /** The port `org`'s peer is served on (7051 until told otherwise). */
    public portOf(org: Org): number {
        return this.endpointPorts.get(org.mspId) ?? 7051;
    }

    /** Records the port each org's peer is served on (for the endpoints named in error details). */
    public setEndpointPorts(ports: ReadonlyMap<string, number>): void {
        this.endpointPorts = new Map(ports);
    }

    /**
     * The endorsing orgs: those requested, else `count` orgs starting with the gateway peer's own (`localMspId`,
     * default the first org), as Fabric's gateway plans with its local org first.
     */
    private pickOrgs(requested: readonly string[], count: number, localMspId?: string): Org[] {
        const all = this.context.orgs;
        if (requested.length === 0) {
            const local = all.find((o) => o.mspId === localMspId);
            const ordered = local === undefined ? all : [local, ...all.filter((o) => o !== local)];
            return ordered.slice(0, count);
        }
        return requested.map((mspId) => {
            const org = all.find((o) => o.mspId === mspId);
            if (org === undefined) {
                throw new DevnetError(Code.UNAVAILABLE, `no endorsers found for organization ${mspId} on channel ${this.channel}`);
            }
            return org;
        });
    }

    private detail(org: Org, message: string): EndorserErrorDetail {
        return { mspId: org.mspId, address: this.endpointOf(org), message };
    }

    private async checkProposal(signedProposal: Uint8Array, what: 'evaluate' | 'endorse', org: Org): Promise<CheckedProposal> {
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
        if (this.context.lifecycle.get(up.chaincodeName) === undefined) {
            throw new DevnetError(Code.FAILED_PRECONDITION, `no peers available to ${what} chaincode ${up.chaincodeName} in channel ${this.channel}`);
        }
        // The duplicate-id look-up runs while the signature is checked (both on the thread pool); a bad signature
        // is still the answer when both fail.
        const committed = this.context.isCommitted(up.txId);
        committed.catch(() => undefined);
        let creatorIdentity: ValidEndorser = { mspId: '', role: 'client' };
        try {
            const creator = await validateProposal(up, this.context.policy.members);
            creatorIdentity = { mspId: creator.mspId, role: identityRole(creator.certificate) };
        } catch (error) {
            reject(`error validating proposal: ${(error as Error).message}`);
        }
        if (await committed) {
            reject(`duplicate transaction found [${up.txId}]. Creator [${Buffer.from(up.creator).toString('hex')}]`);
        }
        return { ...up, creatorMspId: creatorIdentity.mspId, creatorIdentity };
    }

    /** `org`'s peer's endorsement of a response payload: its signature over payload ‖ its serialized identity. */
    private async endorsement(payload: Uint8Array, org: Org): Promise<Endorsement> {
        const message = Buffer.concat([payload, org.peer.serialized]);
        const signature = await signLowSOffThread(message, org.peer.privateKey);
        this.context.policy.rememberOwnSignature(message, signature);
        return { endorser: org.peer.serialized, signature };
    }

    /**
     * The simulation's access with the committed key-level policies of the public and private keys it wrote, as Fabric's
     * simulator reads each written key's metadata for the chaincode interest.
     */
    private async withKeyPolicies(chaincode: string, access: SimulatedAccess, keys: readonly string[], collections: readonly CollectionHashedRwset[]): Promise<SimulatedAccess> {
        if (keys.length === 0 && collections.length === 0) {
            return access;
        }
        const state = this.context.ledger.stateOf(chaincode);
        const parameters = await Promise.all(keys.map(async (key) => (await state.get(key))?.metadata?.get(VALIDATION_PARAMETER)));
        const keyPolicies = parameters.filter((parameter): parameter is Buffer => parameter !== undefined && parameter.length > 0);
        // Private keys with a key-level policy ask for it; a collection whose written keys all have one is no call.
        const written = collections.filter((c) => c.writes.length > 0 || (c.metadataWrites ?? []).length > 0);
        const privateKeys = written.length === 0 ? undefined : await this.context.privateData.writtenKeyPolicies(chaincode, written);
        if (privateKeys === undefined || privateKeys.keyPolicies.length === 0) {
            return keyPolicies.length === 0 ? access : { ...access, keyPolicies, publicWritesWithoutKeyPolicy: keyPolicies.length < keys.length };
        }
        return {
            ...access,
            keyPolicies: [...keyPolicies, ...privateKeys.keyPolicies],
            publicWritesWithoutKeyPolicy: keyPolicies.length < keys.length,
            writtenCollections: privateKeys.collectionsWithoutKeyPolicy,
        };
    }

    /**
     * The endorsing orgs once the first endorsement is known, as the gateway plans (api.go `planFromFirstEndorser`):
     * the first endorser's chaincode interest asks for the orgs that satisfy the chaincode's endorsement policy and
     * the endorsement policies of the collections it wrote, preferring a set with the first endorser's org. With
     * transient data every collection the interest names must be held by the endorsers, so that private data reaches
     * only its members' peers.
     */
    private plan(chaincode: string, transient: boolean, firstOrg: Org, access: SimulatedAccess): Org[] {
        const interest = interestOf(access);
        // Transient data only changes the plan of an interest naming collections (whose members alone may endorse).
        const protectTransient = interest.some((call) => call.collections.length > 0) && transient;
        const protectedCollections = protectTransient ? interest.filter((call) => call.noPrivateReads).flatMap((call) => call.collections) : [];
        const cacheKey = `${firstOrg.mspId}\u0000${protectTransient ? 'T' : ''}\u0000${interestKey(interest)}`;
        const policy = this.context.policy.chaincodePolicy(chaincode);
        let plans = this.plans.get(policy);
        if (plans === undefined) {
            plans = new Map();
            this.plans.set(policy, plans);
        }
        const known = plans.get(cacheKey);
        if (known !== undefined) {
            return known;
        }
        const mspIds = [firstOrg, ...this.context.orgs.filter((o) => o !== firstOrg)].map((o) => o.mspId);
        const layouts = this.layouts(protectTransient ? interest.map((call) => ({ ...call, noPrivateReads: false })) : interest, mspIds);
        if (layouts.length === 0) {
            if (protectedCollections.length > 0 && this.layouts(interest, mspIds).length > 0) {
                throw new DevnetError(Code.FAILED_PRECONDITION, `requires endorsement from organisation(s) that are not in the distribution policy of the private data collection(s): [${protectedCollections.join(' ')}]; retry specifying trusted endorsing organizations to protect transient data`);
            }
            throw new DevnetError(Code.FAILED_PRECONDITION, 'no combination of peers can be derived which satisfy the endorsement policy: no peer combination can satisfy the endorsement policy');
        }
        const chosen = layouts.find((set) => set.includes(firstOrg.mspId)) ?? defined(layouts[0]);
        const orgs = mspIds.filter((mspId) => chosen.includes(mspId)).map((mspId) => defined(this.context.orgs.find((o) => o.mspId === mspId)));
        rememberBounded(plans, cacheKey, orgs);
        return orgs;
    }

    /** Discovery's layouts for a chaincode interest, over the channel's orgs in the order `mspIds`. */
    private layouts(interest: readonly InterestCall[], mspIds: readonly string[]): string[][] {
        try {
            return endorsementLayouts(interest, this.definitions, mspIds);
        } catch (error) {
            if (error instanceof InterestError) {
                throw new DevnetError(Code.FAILED_PRECONDITION, `no combination of peers can be derived which satisfy the endorsement policy: ${error.message}`);
            }
            throw error;
        }
    }

    private async simulate(up: UnpackedProposal, org: Org, creator: ValidEndorser, hash: Uint8Array): Promise<Simulation> {
        const deployed = defined(this.context.lifecycle.get(up.chaincodeName));
        const state = new RecordingReader(this.context.ledger.stateOf(up.chaincodeName));
        const history = (key: string): Promise<readonly KeyModification[]> => {
            state.historyRead = true;
            return this.context.ledger.history(up.chaincodeName, key);
        };
        const privateContext = { collections: this.context.privateData.collectionsOf(up.chaincodeName), peerMspId: org.mspId, creator, store: this.context.privateData.privateStore };
        const outcome = await simulateProposal(defined(deployed.handlers.get(org.mspId)), up.chaincodeName, up, state, 'couchdb', history, privateContext);
        if (!outcome.ok) {
            return { response: response(500, outcome.message) };
        }
        // gossip's distributor: each collection written must reach requiredPeerCount member peers besides this one.
        if (outcome.status < 400) {
            for (const { collection } of outcome.privateWrites) {
                const config = privateContext.collections.get(collection);
                const eligible = this.context.orgs.filter((o) => o !== org && config !== undefined && ChaincodeCollections.peerIsMember(config, o.mspId)).length;
                if (config !== undefined && eligible < config.requiredPeerCount) {
                    return { response: response(500, `error in simulation: failed to distribute private collection, txID ${up.txId}, channel ${up.channelId}: could not build private data dissemination plan for chaincode ${up.chaincodeName} and collection ${collection}: required to disseminate to at least ${config.requiredPeerCount} peers, but know of only ${eligible} eligible peers`) };
                }
            }
        }
        const result = response(outcome.status, outcome.message, outcome.payload);
        // peer.ChaincodeAction: results (1), events (2), response (3: status, message, payload), chaincode_id (4: name 2, version 3).
        const action = new ProtoMessage().bytes(1, encodeRwset(up.chaincodeName, outcome.rwset));
        if (outcome.event !== undefined) {
            // peer.ChaincodeEvent: chaincode_id (1), tx_id (2), event_name (3), payload (4).
            action.bytesOf(2, new ProtoMessage().string(1, up.chaincodeName).string(2, up.txId).string(3, outcome.event.name).bytes(4, outcome.event.payload));
        }
        action.message(3, new ProtoMessage().varint(1, outcome.status).string(2, outcome.message).bytes(3, outcome.payload));
        action.message(4, new ProtoMessage().string(2, up.chaincodeName).string(3, deployed.version));
        // peer.ProposalResponsePayload: proposal_hash (1), extension (2).
        const prp = new ProtoMessage().bytes(1, hash).bytesOf(2, action);
        return {
            response: result,
            payload: prp.encode(),
            privateWrites: outcome.status < 400 ? outcome.privateWrites : [],
            publicKeysWritten: [...new Set([...outcome.rwset.writes.map((w) => w.key), ...(outcome.rwset.metadataWrites ?? []).map((w) => w.key)])],
            collectionsWritten: outcome.rwset.collections ?? [],
            ...(state.listable(outcome) ? { reads: { namespace: up.chaincodeName, keys: state.keys, ranges: state.ranges } } : {}),
            access: {
                chaincode: up.chaincodeName,
                publicWrites: outcome.rwset.writes.length > 0 || (outcome.rwset.metadataWrites ?? []).length > 0,
                writtenCollections: (outcome.rwset.collections ?? []).filter((c) => c.writes.length > 0 || (c.metadataWrites ?? []).length > 0).map((c) => c.collection),
                privateReads: outcome.privateReads,
            },
        };
    }
}

/** A namespace's committed state that notes the keys read and the ranges scanned (the read footprint). */
class RecordingReader implements StateReader {
    public readonly keys = new Set<string>();
    public readonly ranges: [string, string][] = [];
    /** Whether the simulation also read key history, which the footprint does not list. */
    public historyRead = false;

    public constructor(private readonly state: StateReader) {}

    public get(key: string): Promise<VersionedValue | undefined> {
        this.keys.add(key);
        return this.state.get(key);
    }

    public range(startKey: string, endKey: string): AsyncGenerator<VersionedKV, void, undefined> {
        this.ranges.push([startKey, endKey]);
        return this.state.range(startKey, endKey);
    }

    /** Whether the keys and ranges are all `outcome` read: it read no history and no private or hashed state. */
    public listable(outcome: SimulationOutcome & { readonly ok: true }): boolean {
        return !this.historyRead && !outcome.privateStateRead && outcome.privateWrites.length === 0 && (outcome.rwset.collections ?? []).length === 0;
    }
}

/** Sets `key` in a plan memory; a memory already holding {@link PLAN_CACHE_CAPACITY} other plans starts over. */
function rememberBounded<V>(memory: Map<string, V>, key: string, value: V): void {
    if (!memory.has(key) && memory.size >= PLAN_CACHE_CAPACITY) {
        memory.clear();
    }
    memory.set(key, value);
}

/** A chaincode interest as the key of its endorsement plan. */
function interestKey(interest: readonly InterestCall[]): string {
    return interest.map((call) => [
        call.chaincode,
        call.collections.join(','),
        call.noPrivateReads ? 'n' : 'r',
        call.disregardNamespacePolicy === true ? 'd' : '',
        (call.keyPolicies ?? []).map((policy) => Buffer.from(policy).toString('base64')).join(','),
    ].join('\u0001')).join('\u0002');
}

function proposalResponse(result: ProtoResponse, payload?: Uint8Array, endorsement?: Endorsement): ProposalResponse {
    const out = new peerProtos.ProposalResponse();
    out.setVersion(1);
    out.setResponse(result);
    if (payload !== undefined) {
        out.setPayload(payload);
    }
    if (endorsement !== undefined) {
        const e = new peerProtos.Endorsement();
        e.setEndorser(endorsement.endorser);
        e.setSignature(endorsement.signature);
        out.setEndorsement(e);
    }
    return out;
}

/** What a proposal contributes to its transaction, worked out once whatever the number of endorsing orgs. */
interface TransactionParts {
    readonly header: ProposalHeader;
    /** The ChaincodeProposalPayload without its transient map (protoutil.GetBytesProposalPayloadForTx). */
    readonly payloadForTx: Uint8Array;
    /** protoutil.GetProposalHash1: SHA-256 of channel header ‖ signature header ‖ payload without transient data. */
    readonly proposalHash: Uint8Array;
    /** Whether the proposal carried transient data (ChaincodeProposalPayload.TransientMap). */
    readonly transient: boolean;
}

function transactionParts(up: UnpackedProposal): TransactionParts {
    const { header, proposalPayload } = up;
    const payloadForTx = proposalPayloadWithoutTransient(proposalPayload);
    const proposalHash = createHash('sha256').update(header.getChannelHeader_asU8()).update(header.getSignatureHeader_asU8()).update(payloadForTx).digest();
    return { header, payloadForTx, proposalHash, transient: (proposalPayload.getTransientmapMap() as unknown as ProtoMap<Uint8Array>).getLength() > 0 };
}

/** The prepared transaction's serialized common.Envelope (no signature yet), as the gateway returns it. */
function prepareTransaction({ header, payloadForTx }: TransactionParts, responsePayload: Uint8Array, endorsements: readonly Endorsement[]): Buffer {
    // peer.ChaincodeEndorsedAction: proposal_response_payload (1), endorsements (2: endorser, signature).
    const endorsed = new ProtoMessage().bytes(1, responsePayload);
    for (const { endorser, signature } of endorsements) {
        endorsed.message(2, new ProtoMessage().bytes(1, endorser).bytes(2, signature));
    }
    // peer.ChaincodeActionPayload: chaincode_proposal_payload (1), action (2).
    const actionPayload = new ProtoMessage().bytes(1, payloadForTx).message(2, endorsed);
    // peer.Transaction: actions (1: TransactionAction of header 1 and payload 2).
    const tx = new ProtoMessage().message(1, new ProtoMessage().bytes(1, header.getSignatureHeader_asU8()).bytesOf(2, actionPayload));
    // common.Payload: header (1: channel_header, signature_header), data (2).
    const payload = new ProtoMessage()
        .message(1, new ProtoMessage().bytes(1, header.getChannelHeader_asU8()).bytes(2, header.getSignatureHeader_asU8()))
        .bytesOf(2, tx);
    // common.Envelope: payload (1); the signature (2) is the client's to add.
    return new ProtoMessage().bytesOf(1, payload).encode();
}

/** The function a proposal calls (its first argument), as text. */
function functionOf(up: UnpackedProposal): string {
    const first = up.input.getArgsList_asU8()[0];
    return first === undefined ? '' : Buffer.from(first).toString('latin1');
}

/** ChaincodeProposalPayload with the transient map removed, as protoutil.GetBytesProposalPayloadForTx. */
function proposalPayloadWithoutTransient(payload: ChaincodeProposalPayload): Uint8Array {
    // peer.ChaincodeProposalPayload: input (1); TransientMap (2) left out.
    return new ProtoMessage().bytes(1, payload.getInput_asU8()).encode();
}
