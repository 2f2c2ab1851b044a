// SPDX-License-Identifier: Apache-2.0
/**
 * Private data collection definitions, as a chaincode definition carries them: the JSON of a
 * `collections_config.json` (what `peer lifecycle chaincode approveformyorg --collections-config` reads,
 * internal/peer/chaincode/common.go) checked as the lifecycle checks it (core/chaincode/lifecycle/scc.go
 * `validateCollectionConfigs`), plus each org's implicit collection `_implicit_org_<MSPID>`
 * (deployedcc_infoprovider.go `GenerateImplicitCollectionForOrg`).
 */
import type { X509Certificate } from 'node:crypto';
import { keyPolicySatisfied, type ValidEndorser } from './keyPolicy';
import { parseSignaturePolicy, PolicySyntaxError, type SignaturePolicy } from './policyDsl';

/** The prefix of an org's implicit collection name (implicitcollection.NameForOrg). */
export const IMPLICIT_COLLECTION_PREFIX = '_implicit_org_';

/** A collection definition (peer.StaticCollectionConfig). */
export interface CollectionConfig {
    readonly name: string;
    /** Who may hold the collection's data (an OR of principals). */
    readonly memberPolicy: SignaturePolicy;
    readonly requiredPeerCount: number;
    readonly maxPeerCount: number;
    /** Blocks the data lives after the block that committed it (0: forever). */
    readonly blockToLive: number;
    readonly memberOnlyRead: boolean;
    readonly memberOnlyWrite: boolean;
    /** The collection's own endorsement policy, replacing the chaincode's for writes to it. */
    readonly endorsementPolicy?: SignaturePolicy;
}

/** A collection configuration that is not valid; the message says what, in the peer's words where it has them. */
export class CollectionConfigError extends Error {
    public override readonly name = 'CollectionConfigError';
}

const NAME = /^[A-Za-z0-9-]+([A-Za-z0-9_-]+)*$/;
const FIELDS = ['name', 'policy', 'requiredPeerCount', 'maxPeerCount', 'blockToLive', 'memberOnlyRead', 'memberOnlyWrite', 'endorsementPolicy'] as const;
type Field = (typeof FIELDS)[number];

function parseError(message: string): CollectionConfigError {
    return new CollectionConfigError(`could not parse the collection configuration: ${message}`);
}

function policyOf(text: string, what: string): SignaturePolicy {
    try {
        return parseSignaturePolicy(text);
    } catch (error) {
        if (error instanceof PolicySyntaxError) {
            throw new CollectionConfigError(`${what} ${text}: ${error.message}`);
        }
        throw error;
    }
}

/** The fields of one collection entry; names match case-insensitively, as Go's encoding/json matches them. */
function fieldsOf(entry: unknown, index: number): Partial<Record<Field, unknown>> {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        throw parseError(`entry ${index} is not an object`);
    }
    const out: Partial<Record<Field, unknown>> = {};
    for (const [key, value] of Object.entries(entry)) {
        const field = FIELDS.find((f) => f.toLowerCase() === key.toLowerCase());
        if (field === undefined) {
            throw parseError(`entry ${index} has an unknown field "${key}" (known: ${FIELDS.join(', ')})`);
        }
        out[field] = value;
    }
    return out;
}

function integer(value: unknown, field: string, index: number, fallback: number, min: number): number {
    if (value === undefined || value === null) {
        return fallback;
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
        throw parseError(`entry ${index}: "${field}" must be ${min === 0 ? 'a non-negative' : 'an'} integer, got ${JSON.stringify(value)}`);
    }
    return value;
}

function flag(value: unknown, field: string, index: number): boolean {
    if (value === undefined || value === null) {
        return false;
    }
    if (typeof value !== 'boolean') {
        throw parseError(`entry ${index}: "${field}" must be true or false, got ${JSON.stringify(value)}`);
    }
    return value;
}

/** The `signaturePolicy` and `channelConfigPolicy` of an `endorsementPolicy` object (names case-insensitive). */
function endorsementPolicyFields(value: object, index: number): { readonly signaturePolicy: string; readonly channelConfigPolicy: string } {
    const fields = { signaturePolicy: '', channelConfigPolicy: '' };
    for (const [key, field] of Object.entries(value) as [string, unknown][]) {
        const name = (['signaturePolicy', 'channelConfigPolicy'] as const).find((n) => n.toLowerCase() === key.toLowerCase());
        if (name === undefined) {
            throw parseError(`entry ${index}: "endorsementPolicy" has an unknown field "${key}"`);
        }
        if (field !== undefined && field !== null && typeof field !== 'string') {
            throw parseError(`entry ${index}: "endorsementPolicy" fields must be strings`);
        }
        fields[name] = typeof field === 'string' ? field : '';
    }
    return fields;
}

function endorsementPolicyOf(value: unknown, index: number): SignaturePolicy | undefined {
    if (value === undefined || value === null) {
        return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
        throw parseError(`entry ${index}: "endorsementPolicy" must be an object with "signaturePolicy" or "channelConfigPolicy"`);
    }
    const { signaturePolicy, channelConfigPolicy } = endorsementPolicyFields(value, index);
    if (signaturePolicy !== '' && channelConfigPolicy !== '') {
        throw new CollectionConfigError('cannot specify both "--signature-policy" and "--channel-config-policy"');
    }
    if (channelConfigPolicy !== '') {
        throw new CollectionConfigError(`collection endorsement policy channelConfigPolicy "${channelConfigPolicy}": channel config policy references are not supported by the ledgerwork devnet (give a signaturePolicy)`);
    }
    return signaturePolicy === '' ? undefined : policyOf(signaturePolicy, 'invalid endorsement policy');
}

/**
 * Parses and checks a collections configuration (the JSON array of `collections_config.json`, as text or already
 * parsed) against the channel's MSPs. Throws {@link CollectionConfigError}.
 */
export function parseCollectionsConfig(config: unknown, channelMspIds: readonly string[]): CollectionConfig[] {
    let entries = config;
    if (typeof config === 'string') {
        try {
            entries = JSON.parse(config) as unknown;
        } catch (error) {
            throw parseError((error as Error).message);
        }
    }
    if (!Array.isArray(entries)) {
        throw parseError('expected a JSON array of collection definitions');
    }
    const collections = entries.map((entry, index): CollectionConfig => {
        const fields = fieldsOf(entry, index);
        if (typeof fields.name !== 'string') {
            throw parseError(`entry ${index}: "name" must be a string`);
        }
        if (typeof fields.policy !== 'string') {
            throw parseError(`entry ${index}: "policy" must be a string, e.g. "OR('Org1MSP.member','Org2MSP.member')"`);
        }
        const memberPolicy = policyOf(fields.policy, 'invalid policy');
        const endorsementPolicy = endorsementPolicyOf(fields.endorsementPolicy, index);
        return {
            name: fields.name,
            memberPolicy,
            requiredPeerCount: integer(fields.requiredPeerCount, 'requiredPeerCount', index, 0, Number.MIN_SAFE_INTEGER),
            maxPeerCount: integer(fields.maxPeerCount, 'maxPeerCount', index, 1, Number.MIN_SAFE_INTEGER),
            blockToLive: integer(fields.blockToLive, 'blockToLive', index, 0, 0),
            memberOnlyRead: flag(fields.memberOnlyRead, 'memberOnlyRead', index),
            memberOnlyWrite: flag(fields.memberOnlyWrite, 'memberOnlyWrite', index),
            ...(endorsementPolicy === undefined ? {} : { endorsementPolicy }),
        };
    });
    const names = new Set<string>();
    for (const c of collections) {
        if (!NAME.test(c.name)) {
            throw new CollectionConfigError(`invalid collection name '${c.name}'. Names can only consist of alphanumerics, '_', and '-' and cannot begin with '_'`);
        }
        if (names.has(c.name)) {
            throw new CollectionConfigError(`collection-name: ${c.name} -- found duplicate in collection configuration`);
        }
        names.add(c.name);
        if (c.maxPeerCount < c.requiredPeerCount) {
            throw new CollectionConfigError(`collection-name: ${c.name} -- maximum peer count (${c.maxPeerCount}) cannot be less than the required peer count (${c.requiredPeerCount})`);
        }
        if (c.requiredPeerCount < 0) {
            throw new CollectionConfigError(`collection-name: ${c.name} -- requiredPeerCount (${c.requiredPeerCount}) cannot be less than zero`);
        }
        if (!c.memberPolicy.orOnly) {
            throw new CollectionConfigError(`collection-name: ${c.name} -- error in member org policy: signature policy is not an OR concatenation`);
        }
        for (const principal of [...c.memberPolicy.principals, ...(c.endorsementPolicy?.principals ?? [])]) {
            if (!channelMspIds.includes(principal.mspId)) {
                throw new CollectionConfigError(`collection-name: ${c.name} -- collection member '${principal.mspId}' is not part of the channel`);
            }
        }
    }
    return collections;
}

/**
 * An org's implicit collection: its org only, never purged, readable and writable by any client; writes to it need the
 * org's Endorsement policy (its peers), as `ImplicitCollectionEndorsementPolicyAsBytes` gives.
 */
export function implicitCollection(mspId: string): CollectionConfig {
    return {
        endorsementPolicy: parseSignaturePolicy(`OR('${mspId}.peer')`),
        name: `${IMPLICIT_COLLECTION_PREFIX}${mspId}`,
        memberPolicy: parseSignaturePolicy(`OR('${mspId}.member')`),
        requiredPeerCount: 0,
        maxPeerCount: 0,
        blockToLive: 0,
        memberOnlyRead: false,
        memberOnlyWrite: false,
    };
}

/** The collections of one chaincode: its explicit ones and every channel org's implicit one. */
export class ChaincodeCollections {
    private readonly byName = new Map<string, CollectionConfig>();

    public constructor(
        public readonly namespace: string,
        explicit: readonly CollectionConfig[],
        channelMspIds: readonly string[],
    ) {
        for (const collection of [...explicit, ...channelMspIds.map(implicitCollection)]) {
            this.byName.set(collection.name, collection);
        }
    }

    /** The collection named `name`, if the chaincode has it. */
    public get(name: string): CollectionConfig | undefined {
        return this.byName.get(name);
    }

    /** Whether the holder of `identity` (an MSP and its role) satisfies the collection's member policy. */
    public static isMember(collection: CollectionConfig, identity: ValidEndorser): boolean {
        return keyPolicySatisfied(collection.memberPolicy.envelope, [identity]);
    }

    /** Whether `mspId`'s peers hold the collection's data. */
    public static peerIsMember(collection: CollectionConfig, mspId: string): boolean {
        return ChaincodeCollections.isMember(collection, { mspId, role: 'peer' });
    }
}

/** The NodeOU role of an identity's certificate (OU admin, peer, orderer or client; client if none is named). */
export function identityRole(certificate: Pick<X509Certificate, 'subject'>): ValidEndorser['role'] {
    const units = certificate.subject.split('\n').filter((line) => line.startsWith('OU=')).map((line) => line.slice(3).toLowerCase());
    for (const role of ['admin', 'peer', 'orderer'] as const) {
        if (units.includes(role)) {
            return role;
        }
    }
    return 'client';
}
