// SPDX-License-Identifier: Apache-2.0
/**
 * The peer's Discovery service (`discovery.Discovery/Discover`, after Fabric's discovery/service.go), as pre-2.4
 * SDKs (fabric-network 2.2) and Caliper's `fabric:2.2` binding use it: for each query of a signed request, the
 * channel's configuration (each org's MSP and the orderer endpoints by orderer org), its peers by org (with ledger
 * height and chaincodes), the endorsement plan of a chaincode interest (one group per org, one layout per set of orgs
 * that satisfies the chaincode's endorsement policy and the endorsement policies of the collections named, only
 * members of collections read in plaintext), or the local peers (admins only). The configuration is read from the
 * channel's config block (block 0), as a peer reads it from its channel config, so discovery cannot tell clients
 * anything the channel does not say. The devnet's one process answers as
 * each org's peer, so every org's peer is listed at its own endpoint (`peer0.<domain>:<port>`).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { discovery, gossip, msp, type peer } from '@hyperledger/fabric-protos';
import { mspConfigsOf, ordererEndpointsOf } from './channelConfig';
import { Code, DevnetError, type Devnet } from './devnet';
import { InterestError, type InterestCall } from './endorsementPlan';
import type { Org } from './orgs';
import type { ProtoMap } from './runtime';

type Response = InstanceType<typeof discovery.Response>;
type QueryResult = InstanceType<typeof discovery.QueryResult>;
type Query = InstanceType<typeof discovery.Query>;
type Peers = InstanceType<typeof discovery.Peers>;
type ChaincodeInterest = InstanceType<typeof peer.ChaincodeInterest>;

/** At most this many layouts per endorsement descriptor: each one alone satisfies the policy. */
const MAX_LAYOUTS = 256;

function errorResult(content: string): QueryResult {
    const error = new discovery.Error();
    error.setContent(content);
    const result = new discovery.QueryResult();
    result.setError(error);
    return result;
}

/** Answers one signed discovery request on behalf of the devnet's peers. */
export async function discover(devnet: Devnet, signedRequestBytes: Uint8Array): Promise<Response> {
    let request: InstanceType<typeof discovery.Request>;
    let signed: InstanceType<typeof discovery.SignedRequest>;
    try {
        signed = discovery.SignedRequest.deserializeBinary(signedRequestBytes);
        request = discovery.Request.deserializeBinary(signed.getPayload_asU8());
    } catch (error) {
        throw new DevnetError(Code.INVALID_ARGUMENT, `failed parsing request: ${(error as Error).message}`);
    }
    const authentication = request.getAuthentication();
    if (authentication === undefined) {
        throw new DevnetError(Code.INVALID_ARGUMENT, 'access denied, authentication is nil');
    }
    const identity = authentication.getClientIdentity_asU8();
    const signatureFailure = await devnet.signatureFailure(identity, signed.getPayload_asU8(), signed.getSignature_asU8());
    const response = new discovery.Response();
    response.setResultsList(request.getQueriesList().map((query) => {
        if (query.getQueryCase() === discovery.Query.QueryCase.LOCAL_PEERS) {
            return signatureFailure === undefined && isAdmin(devnet, identity) ? localPeers(devnet) : errorResult('access denied');
        }
        // EligibleForService: a member of the channel that validly signed the request.
        if (signatureFailure !== undefined || query.getChannel() !== devnet.channel) {
            return errorResult('access denied');
        }
        return answer(devnet, query);
    }));
    return response;
}

function answer(devnet: Devnet, query: Query): QueryResult {
    const result = new discovery.QueryResult();
    switch (query.getQueryCase()) {
        case discovery.Query.QueryCase.CONFIG_QUERY:
            result.setConfigResult(configResult(devnet));
            return result;
        case discovery.Query.QueryCase.PEER_QUERY: {
            const members = new discovery.PeerMembershipResult();
            for (const org of devnet.orgs) {
                (members.getPeersByOrgMap() as unknown as ProtoMap<Peers>).set(org.mspId, peersOf(devnet, [org]));
            }
            result.setMembers(members);
            return result;
        }
        case discovery.Query.QueryCase.CC_QUERY: {
            const descriptors = [];
            for (const interest of query.getCcQuery()?.getInterestsList() ?? []) {
                const descriptor = endorsementDescriptor(devnet, interest);
                if (descriptor === undefined) {
                    const names = interest.getChaincodesList().map((call) => `name:${JSON.stringify(call.getName())}`).join(' ');
                    return errorResult(`failed constructing descriptor for [${names}]`);
                }
                descriptors.push(descriptor);
            }
            const ccResult = new discovery.ChaincodeQueryResult();
            ccResult.setContentList(descriptors);
            result.setCcQueryRes(ccResult);
            return result;
        }
        default:
            return errorResult('unknown query type');
    }
}

function configResult(devnet: Devnet): InstanceType<typeof discovery.ConfigResult> {
    const config = new discovery.ConfigResult();
    for (const mspConfig of mspConfigsOf(devnet.channelConfig)) {
        (config.getMspsMap() as unknown as ProtoMap<InstanceType<typeof msp.FabricMSPConfig>>).set(mspConfig.getName(), mspConfig);
    }
    for (const [mspId, addresses] of ordererEndpointsOf(devnet.channelConfig)) {
        const endpoints = new discovery.Endpoints();
        endpoints.setEndpointList(addresses.map(({ host, port }) => {
            const endpoint = new discovery.Endpoint();
            endpoint.setHost(host);
            endpoint.setPort(port);
            return endpoint;
        }));
        (config.getOrderersMap() as unknown as ProtoMap<InstanceType<typeof discovery.Endpoints>>).set(mspId, endpoints);
    }
    return config;
}

/**
 * The endorsement plan of a chaincode interest: one group per org whose peer appears in a layout, one layout per
 * minimal set of orgs that satisfies the chaincode policies and collection endorsement policies the interest needs
 * (peers restricted to the members of collections read in plaintext). Undefined when the interest names a chaincode
 * or collection the channel does not define, or no set of peers can satisfy it.
 */
function endorsementDescriptor(devnet: Devnet, interest: ChaincodeInterest): InstanceType<typeof discovery.EndorsementDescriptor> | undefined {
    const calls: InterestCall[] = interest.getChaincodesList().map((call) => ({
        chaincode: call.getName(),
        collections: call.getCollectionNamesList(),
        noPrivateReads: call.getNoPrivateReads(),
        keyPolicies: call.getKeyPoliciesList().map((policy) => policy.serializeBinary()),
        disregardNamespacePolicy: call.getDisregardNamespacePolicy(),
    }));
    const first = calls[0];
    if (first === undefined) {
        return undefined;
    }
    let layouts: string[][];
    try {
        layouts = devnet.endorsementLayouts(calls, MAX_LAYOUTS);
    } catch (error) {
        if (error instanceof InterestError) {
            return undefined;
        }
        throw error;
    }
    if (layouts.length === 0) {
        return undefined;
    }
    const descriptor = new discovery.EndorsementDescriptor();
    descriptor.setChaincode(first.chaincode);
    const groupOf = (mspId: string): string => `G${devnet.orgs.findIndex((org) => org.mspId === mspId)}`;
    for (const org of devnet.orgs.filter((o) => layouts.some((set) => set.includes(o.mspId)))) {
        (descriptor.getEndorsersByGroupsMap() as unknown as ProtoMap<Peers>).set(groupOf(org.mspId), peersOf(devnet, [org]));
    }
    descriptor.setLayoutsList(layouts.map((set) => {
        const layout = new discovery.Layout();
        for (const mspId of set) {
            (layout.getQuantitiesByGroupMap() as unknown as ProtoMap<number>).set(groupOf(mspId), 1);
        }
        return layout;
    }));
    return descriptor;
}

/** Each org's peer as gossip describes it: alive message with its endpoint, state info with height and chaincodes. */
function peersOf(devnet: Devnet, orgs: readonly Org[]): Peers {
    const peers = new discovery.Peers();
    peers.setPeersList(orgs.map((org) => {
        const pkiId = createHash('sha256').update(org.peer.serialized).digest();
        const member = new gossip.Member();
        member.setEndpoint(devnet.endpointOf(org));
        member.setPkiId(pkiId);
        const time = new gossip.PeerTime();
        time.setIncNum(Date.now());
        time.setSeqNum(1);
        const alive = new gossip.AliveMessage();
        alive.setMembership(member);
        alive.setTimestamp(time);
        const aliveMessage = new gossip.GossipMessage();
        aliveMessage.setTag(gossip.GossipMessage.Tag.EMPTY);
        aliveMessage.setAliveMsg(alive);

        const properties = new gossip.Properties();
        properties.setLedgerHeight(devnet.height);
        properties.setChaincodesList(devnet.chaincodeDefinitions().map((definition) => {
            const chaincode = new gossip.Chaincode();
            chaincode.setName(definition.name);
            chaincode.setVersion(definition.version);
            return chaincode;
        }));
        const state = new gossip.StateInfo();
        state.setTimestamp(time);
        state.setPkiId(pkiId);
        state.setProperties(properties);
        const stateMessage = new gossip.GossipMessage();
        stateMessage.setTag(gossip.GossipMessage.Tag.CHAN_OR_ORG);
        stateMessage.setChannel(Buffer.from(devnet.channel));
        stateMessage.setStateInfo(state);

        const out = new discovery.Peer();
        out.setIdentity(org.peer.serialized);
        out.setMembershipInfo(signedGossip(org, aliveMessage));
        out.setStateInfo(signedGossip(org, stateMessage));
        return out;
    }));
    return peers;
}

function signedGossip(org: Org, message: InstanceType<typeof gossip.GossipMessage>): InstanceType<typeof gossip.Envelope> {
    const payload = message.serializeBinary();
    const envelope = new gossip.Envelope();
    envelope.setPayload(payload);
    envelope.setSignature(org.peer.sign(payload));
    return envelope;
}

function localPeers(devnet: Devnet): QueryResult {
    const members = new discovery.PeerMembershipResult();
    for (const org of devnet.orgs) {
        (members.getPeersByOrgMap() as unknown as ProtoMap<Peers>).set(org.mspId, peersOf(devnet, [org]));
    }
    const result = new discovery.QueryResult();
    result.setMembers(members);
    return result;
}

/** Whether the serialized identity is an admin (NodeOU `admin`) of one of the channel's orgs. */
function isAdmin(devnet: Devnet, identityBytes: Uint8Array): boolean {
    try {
        const identity = msp.SerializedIdentity.deserializeBinary(identityBytes);
        const org = devnet.orgs.find((o) => o.mspId === identity.getMspid());
        const certificate = new X509Certificate(Buffer.from(identity.getIdBytes_asU8()));
        return org !== undefined && certificate.checkIssued(org.caCertificate) && /(^|\n)OU=admin(\n|$)/.test(certificate.subject);
    } catch {
        return false;
    }
}
