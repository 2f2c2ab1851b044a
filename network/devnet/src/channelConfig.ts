// SPDX-License-Identifier: Apache-2.0
/**
 * The channel's configuration as the devnet's genesis block carries it: a CONFIG transaction whose `ConfigEnvelope`
 * holds a `common.Config` laid out as configtxgen lays out test-network's `configtx.yaml` profile —
 *
 * - `/Channel`: HashingAlgorithm SHA256, BlockDataHashingStructure, Capabilities V2_0; policies Readers and Writers
 *   (ImplicitMeta ANY), Admins (ImplicitMeta MAJORITY);
 * - `/Channel/Application`: Capabilities V2_5; policies Readers, Writers (ANY), Admins, Endorsement and
 *   LifecycleEndorsement (MAJORITY Endorsement); one group per org with its `MSP` value (a FabricMSPConfig with the
 *   org's CA as root certificate, the TLS CA, and NodeOUs client/peer/admin/orderer as its identities carry them)
 *   and signature policies Readers (admin, peer, client), Writers (admin, client), Admins (admin), Endorsement (peer);
 * - `/Channel/Orderer`: ConsensusType `solo` (the devnet orders in process), BatchSize and BatchTimeout as
 *   configured, Capabilities V2_0, ChannelRestrictions; policies Readers, Writers (ANY), Admins (MAJORITY),
 *   BlockValidation (ANY Writers). The devnet has no orderer organization of its own: the orderer is served on the
 *   first org's port, so that org is the orderer org, with its MSP and the orderer's `Endpoints`.
 *
 * The readers below are what the Discovery service answers from, as Fabric's discovery/support/config reads the
 * channel's config: the MSPs of every org, the orderer endpoints by orderer org.
 */
import { createHash, randomBytes } from 'node:crypto';
import { common, msp, orderer, peer } from '@hyperledger/fabric-protos';
import type { Org } from './orgs';
import { newTimestamp } from './runtime';

type ConfigGroup = InstanceType<typeof common.ConfigGroup>;

/** A jspb map field (google-protobuf ships no typings for it) as config groups, values and policies use it. */
export interface ProtoMapField<V> {
    get(key: string): V | undefined;
    set(key: string, value: V): ProtoMapField<V>;
    keys(): Iterable<string>;
}

/** Types a jspb map field of a config message. */
export function mapField<V>(map: unknown): ProtoMapField<V> {
    return map as ProtoMapField<V>;
}

/** What the channel configuration is made of. */
export interface ChannelConfigOptions {
    readonly channel: string;
    readonly orgs: readonly Org[];
    /** PEM of the TLS CA every org's TLS certificates chain to. */
    readonly tlsCaCertificatePem: string;
    readonly batchSize: number;
    readonly batchTimeoutMs: number;
    /** `host:port` of the orderer, as clients reach it (configtx.yaml's OrdererEndpoints). */
    readonly ordererEndpoint: string;
}

const ADMINS = 'Admins';
const Rule = common.ImplicitMetaPolicy.Rule;
const Role = msp.MSPRole.MSPRoleType;
type RuleValue = (typeof Rule)[keyof typeof Rule];
type RoleValue = (typeof Role)[keyof typeof Role];

function configValue(value: Uint8Array, modPolicy = ADMINS): InstanceType<typeof common.ConfigValue> {
    const out = new common.ConfigValue();
    out.setValue(value);
    out.setModPolicy(modPolicy);
    return out;
}

function configPolicy(type: number, value: Uint8Array): InstanceType<typeof common.ConfigPolicy> {
    const policy = new common.Policy();
    policy.setType(type);
    policy.setValue(value);
    const out = new common.ConfigPolicy();
    out.setPolicy(policy);
    out.setModPolicy(ADMINS);
    return out;
}

function implicitMeta(subPolicy: string, rule: RuleValue): InstanceType<typeof common.ConfigPolicy> {
    const meta = new common.ImplicitMetaPolicy();
    meta.setSubPolicy(subPolicy);
    meta.setRule(rule);
    return configPolicy(common.Policy.PolicyType.IMPLICIT_META, meta.serializeBinary());
}

/** A signature policy: any one of the org's identities in the given roles (configtxgen's `OR('Org1MSP.admin', …)`). */
function signedByAnyRole(mspId: string, roles: readonly RoleValue[]): InstanceType<typeof common.ConfigPolicy> {
    const envelope = new common.SignaturePolicyEnvelope();
    envelope.setVersion(0);
    envelope.setIdentitiesList(roles.map((role) => {
        const mspRole = new msp.MSPRole();
        mspRole.setMspIdentifier(mspId);
        mspRole.setRole(role);
        const principal = new msp.MSPPrincipal();
        principal.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
        principal.setPrincipal(mspRole.serializeBinary());
        return principal;
    }));
    const nOutOf = new common.SignaturePolicy.NOutOf();
    nOutOf.setN(1);
    nOutOf.setRulesList(roles.map((_, index) => {
        const rule = new common.SignaturePolicy();
        rule.setSignedBy(index);
        return rule;
    }));
    const rule = new common.SignaturePolicy();
    rule.setNOutOf(nOutOf);
    envelope.setRule(rule);
    return configPolicy(common.Policy.PolicyType.SIGNATURE, envelope.serializeBinary());
}

function capabilities(...names: readonly string[]): Uint8Array {
    const out = new common.Capabilities();
    for (const name of names) {
        mapField<InstanceType<typeof common.Capability>>(out.getCapabilitiesMap()).set(name, new common.Capability());
    }
    return out.serializeBinary();
}

function group(values: Record<string, Uint8Array>, policies: Record<string, InstanceType<typeof common.ConfigPolicy>>, groups: Record<string, ConfigGroup> = {}): ConfigGroup {
    const out = new common.ConfigGroup();
    out.setModPolicy(ADMINS);
    for (const [name, value] of Object.entries(values)) {
        mapField<InstanceType<typeof common.ConfigValue>>(out.getValuesMap()).set(name, configValue(value));
    }
    for (const [name, policy] of Object.entries(policies)) {
        mapField<InstanceType<typeof common.ConfigPolicy>>(out.getPoliciesMap()).set(name, policy);
    }
    for (const [name, child] of Object.entries(groups)) {
        mapField<ConfigGroup>(out.getGroupsMap()).set(name, child);
    }
    return out;
}

/** The org's FabricMSPConfig, as configtxgen reads it from the org's `msp` folder (NodeOUs enabled, no admincerts). */
export function fabricMspConfig(org: Org, tlsCaCertificatePem: string): InstanceType<typeof msp.MSPConfig> {
    const ca = Buffer.from(org.caCertificatePem);
    const ou = (name: string): InstanceType<typeof msp.FabricOUIdentifier> => {
        const identifier = new msp.FabricOUIdentifier();
        identifier.setCertificate(ca);
        identifier.setOrganizationalUnitIdentifier(name);
        return identifier;
    };
    const nodeOus = new msp.FabricNodeOUs();
    nodeOus.setEnable(true);
    nodeOus.setClientOuIdentifier(ou('client'));
    nodeOus.setPeerOuIdentifier(ou('peer'));
    nodeOus.setAdminOuIdentifier(ou('admin'));
    nodeOus.setOrdererOuIdentifier(ou('orderer'));
    const crypto = new msp.FabricCryptoConfig();
    crypto.setSignatureHashFamily('SHA2');
    crypto.setIdentityIdentifierHashFunction('SHA256');
    const config = new msp.FabricMSPConfig();
    config.setName(org.mspId);
    config.setRootCertsList([ca]);
    config.setTlsRootCertsList([Buffer.from(tlsCaCertificatePem)]);
    config.setCryptoConfig(crypto);
    config.setFabricNodeOus(nodeOus);
    const mspConfig = new msp.MSPConfig();
    mspConfig.setType(0); // FABRIC
    mspConfig.setConfig(config.serializeBinary());
    return mspConfig;
}

function orgGroup(org: Org, tlsCaCertificatePem: string): ConfigGroup {
    const anchor = new peer.AnchorPeer();
    anchor.setHost(`peer0.${org.domain}`);
    anchor.setPort(7051);
    const anchors = new peer.AnchorPeers();
    anchors.setAnchorPeersList([anchor]);
    return group(
        { MSP: fabricMspConfig(org, tlsCaCertificatePem).serializeBinary(), AnchorPeers: anchors.serializeBinary() },
        {
            Readers: signedByAnyRole(org.mspId, [Role.ADMIN, Role.PEER, Role.CLIENT]),
            Writers: signedByAnyRole(org.mspId, [Role.ADMIN, Role.CLIENT]),
            Admins: signedByAnyRole(org.mspId, [Role.ADMIN]),
            Endorsement: signedByAnyRole(org.mspId, [Role.PEER]),
        },
    );
}

/** The orderer org's group under `/Channel/Orderer`: its MSP, its orderer endpoints and the standard org policies. */
function ordererOrgGroup(org: Org, options: ChannelConfigOptions): ConfigGroup {
    const endpoints = new common.OrdererAddresses();
    endpoints.setAddressesList([options.ordererEndpoint]);
    return group(
        { MSP: fabricMspConfig(org, options.tlsCaCertificatePem).serializeBinary(), Endpoints: endpoints.serializeBinary() },
        {
            Readers: signedByAnyRole(org.mspId, [Role.MEMBER]),
            Writers: signedByAnyRole(org.mspId, [Role.MEMBER]),
            Admins: signedByAnyRole(org.mspId, [Role.ADMIN]),
        },
    );
}

/** The channel's `common.Config` (sequence 0). */
export function channelConfig(options: ChannelConfigOptions): InstanceType<typeof common.Config> {
    const hashing = new common.HashingAlgorithm();
    hashing.setName('SHA256');
    const dataHashing = new common.BlockDataHashingStructure();
    dataHashing.setWidth(0xffffffff);
    const consensus = new orderer.ConsensusType();
    consensus.setType('solo');
    consensus.setState(orderer.ConsensusType.State.STATE_NORMAL);
    const batchSize = new orderer.BatchSize();
    batchSize.setMaxMessageCount(options.batchSize);
    batchSize.setAbsoluteMaxBytes(99 * 1024 * 1024);
    batchSize.setPreferredMaxBytes(512 * 1024);
    const batchTimeout = new orderer.BatchTimeout();
    batchTimeout.setTimeout(`${options.batchTimeoutMs}ms`);
    const restrictions = new orderer.ChannelRestrictions();
    restrictions.setMaxCount(0);
    const standard = {
        Readers: implicitMeta('Readers', Rule.ANY),
        Writers: implicitMeta('Writers', Rule.ANY),
        Admins: implicitMeta('Admins', Rule.MAJORITY),
    };
    const application = group(
        { Capabilities: capabilities('V2_5') },
        { ...standard, Endorsement: implicitMeta('Endorsement', Rule.MAJORITY), LifecycleEndorsement: implicitMeta('Endorsement', Rule.MAJORITY) },
        Object.fromEntries(options.orgs.map((org) => [org.mspId, orgGroup(org, options.tlsCaCertificatePem)])),
    );
    const ordering = group(
        {
            ConsensusType: consensus.serializeBinary(),
            BatchSize: batchSize.serializeBinary(),
            BatchTimeout: batchTimeout.serializeBinary(),
            ChannelRestrictions: restrictions.serializeBinary(),
            Capabilities: capabilities('V2_0'),
        },
        { ...standard, BlockValidation: implicitMeta('Writers', Rule.ANY) },
        options.orgs[0] === undefined ? {} : { [options.orgs[0].mspId]: ordererOrgGroup(options.orgs[0], options) },
    );
    const root = group(
        { HashingAlgorithm: hashing.serializeBinary(), BlockDataHashingStructure: dataHashing.serializeBinary(), Capabilities: capabilities('V2_0') },
        standard,
        { Application: application, Orderer: ordering },
    );
    const config = new common.Config();
    config.setSequence(0);
    config.setChannelGroup(root);
    return config;
}

/** The genesis block's only envelope: a CONFIG transaction carrying the channel configuration, unsigned as configtxgen's. */
export function channelConfigEnvelope(options: ChannelConfigOptions, now: Date = new Date()): Uint8Array {
    const nonce = randomBytes(24);
    const channelHeader = new common.ChannelHeader();
    channelHeader.setType(common.HeaderType.CONFIG);
    channelHeader.setVersion(1);
    channelHeader.setChannelId(options.channel);
    channelHeader.setEpoch(0);
    // protoutil.ComputeTxID: SHA-256 of nonce ‖ creator (no creator here).
    channelHeader.setTxId(createHash('sha256').update(nonce).digest('hex'));
    channelHeader.setTimestamp(newTimestamp(now.getTime()));
    const signatureHeader = new common.SignatureHeader();
    signatureHeader.setNonce(nonce);
    const header = new common.Header();
    header.setChannelHeader(channelHeader.serializeBinary());
    header.setSignatureHeader(signatureHeader.serializeBinary());
    const configEnvelope = new common.ConfigEnvelope();
    configEnvelope.setConfig(channelConfig(options));
    const payload = new common.Payload();
    payload.setHeader(header);
    payload.setData(configEnvelope.serializeBinary());
    const envelope = new common.Envelope();
    envelope.setPayload(payload.serializeBinary());
    return envelope.serializeBinary();
}

/** The channel configuration a config block carries (its only envelope's `ConfigEnvelope`). */
export function configOfBlock(blockBytes: Uint8Array): InstanceType<typeof common.Config> {
    const block = common.Block.deserializeBinary(blockBytes);
    const [envelope] = block.getData()?.getDataList_asU8() ?? [];
    if (envelope === undefined) {
        throw new Error(`block ${block.getHeader()?.getNumber() ?? '?'} has no transaction`);
    }
    const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelope).getPayload_asU8());
    const header = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array());
    const config = header.getType() === common.HeaderType.CONFIG ? common.ConfigEnvelope.deserializeBinary(payload.getData_asU8()).getConfig() : undefined;
    if (config?.getChannelGroup() === undefined) {
        throw new Error(`block ${block.getHeader()?.getNumber() ?? '?'} is not a configuration block`);
    }
    return config;
}

function childGroups(config: InstanceType<typeof common.Config>, name: 'Application' | 'Orderer'): [string, ConfigGroup][] {
    const parent = mapField<ConfigGroup>(config.getChannelGroup()?.getGroupsMap()).get(name);
    if (parent === undefined) {
        return [];
    }
    const groups = mapField<ConfigGroup>(parent.getGroupsMap());
    return [...groups.keys()].sort().map((key) => [key, groups.get(key) as ConfigGroup]);
}

function fabricMspOf(orgGroup: ConfigGroup): InstanceType<typeof msp.FabricMSPConfig> | undefined {
    const value = mapField<InstanceType<typeof common.ConfigValue>>(orgGroup.getValuesMap()).get('MSP');
    const mspConfig = msp.MSPConfig.deserializeBinary(value?.getValue_asU8() ?? new Uint8Array());
    // As discovery does, only FABRIC (type 0) MSPs are described.
    return value === undefined || mspConfig.getType() !== 0 ? undefined : msp.FabricMSPConfig.deserializeBinary(mspConfig.getConfig_asU8());
}

/** Every org's FabricMSPConfig, orderer orgs first, each MSP once (discovery's appendMSPConfigs). */
export function mspConfigsOf(config: InstanceType<typeof common.Config>): InstanceType<typeof msp.FabricMSPConfig>[] {
    const found = new Map<string, InstanceType<typeof msp.FabricMSPConfig>>();
    for (const [, orgGroup] of [...childGroups(config, 'Orderer'), ...childGroups(config, 'Application')]) {
        const fabricMsp = fabricMspOf(orgGroup);
        if (fabricMsp !== undefined && !found.has(fabricMsp.getName())) {
            found.set(fabricMsp.getName(), fabricMsp);
        }
    }
    return [...found.values()];
}

/** An orderer endpoint of the configuration. */
export interface OrdererEndpoint {
    readonly host: string;
    readonly port: number;
}

function addressesOf(value: InstanceType<typeof common.ConfigValue> | undefined): string[] | undefined {
    return value === undefined ? undefined : common.OrdererAddresses.deserializeBinary(value.getValue_asU8()).getAddressesList();
}

function parseEndpoint(address: string): OrdererEndpoint | undefined {
    const match = /^(.+):([0-9]{1,5})$/.exec(address);
    return match === null ? undefined : { host: match[1] ?? '', port: Number(match[2]) };
}

/**
 * The orderer endpoints by orderer org MSP id: each org's `Endpoints`, or, when no orderer org has any, the channel's
 * global `OrdererAddresses` for every orderer org (discovery's computeOrdererEndpoints).
 */
export function ordererEndpointsOf(config: InstanceType<typeof common.Config>): Map<string, OrdererEndpoint[]> {
    const perOrg = new Map<string, string[] | undefined>();
    for (const [, orgGroup] of childGroups(config, 'Orderer')) {
        const fabricMsp = fabricMspOf(orgGroup);
        if (fabricMsp !== undefined) {
            perOrg.set(fabricMsp.getName(), addressesOf(mapField<InstanceType<typeof common.ConfigValue>>(orgGroup.getValuesMap()).get('Endpoints')));
        }
    }
    const anyPerOrg = [...perOrg.values()].some((addresses) => (addresses ?? []).length > 0);
    const global = addressesOf(mapField<InstanceType<typeof common.ConfigValue>>(config.getChannelGroup()?.getValuesMap()).get('OrdererAddresses')) ?? [];
    return new Map([...perOrg].map(([mspId, addresses]) => [mspId, (anyPerOrg ? addresses ?? [] : global).flatMap((a) => parseEndpoint(a) ?? [])]));
}
