// SPDX-License-Identifier: Apache-2.0
/**
 * A chaincode's endorsement policy as its definition carries it: a signature policy (`peer lifecycle chaincode
 * approveformyorg --signature-policy "OR('Org1MSP.peer','Org2MSP.peer')"`) or a reference to a policy of the channel
 * configuration (`--channel-config-policy /Channel/Application/Endorsement`, the default). Both are evaluated the way
 * Fabric's validator evaluates them against a transaction's valid endorsements (common/cauthdsl for signature
 * policies: each signed-by rule consumes one endorsement whose identity satisfies its principal, an n-out-of rule needs
 * n of its sub-rules; common/policies/implicitmeta for ANY / ALL / MAJORITY over the child groups' sub-policies,
 * each evaluated on all endorsements).
 *
 * {@link endorsingOrgSets} works out, from the policies a transaction needs, the sets of orgs whose peers' endorsements
 * satisfy them all — the layouts of Fabric's discovery, for a network whose orgs have one peer each.
 */
import { common, msp } from '@hyperledger/fabric-protos';
import { mapField } from './channelConfig';
import type { ValidEndorser } from './keyPolicy';
import { parseSignaturePolicy, PolicySyntaxError } from './policyDsl';

/** The channel configuration policy a chaincode is endorsed under when its definition names none (Fabric's default). */
export const DEFAULT_ENDORSEMENT_POLICY = '/Channel/Application/Endorsement';

/** A chaincode endorsement policy that cannot be defined; the message says why. */
export class EndorsementPolicyError extends Error {
    public override readonly name = 'EndorsementPolicyError';
}

/** The endorsement policy fields of a chaincode definition (at most one of them). */
export interface EndorsementPolicyDefinition {
    /** A signature policy, e.g. `OR('Org1MSP.peer','Org2MSP.peer')`. */
    readonly signaturePolicy?: string;
    /** A policy of the channel configuration by path, e.g. `/Channel/Application/Endorsement`. */
    readonly channelConfigPolicy?: string;
}

/** An endorsement policy ready to evaluate. */
export interface EndorsementPolicy {
    /** The policy as the definition gives it: the signature policy text or the channel config policy path. */
    readonly description: string;
    /** Whether endorsements by these identities (each used at most once per principal) satisfy the policy. */
    isSatisfiedBy(endorsers: readonly ValidEndorser[]): boolean;
}

type Evaluator = (endorsers: readonly ValidEndorser[], used: boolean[]) => boolean;
type Rule = InstanceType<typeof common.SignaturePolicy>;
type ConfigGroup = InstanceType<typeof common.ConfigGroup>;

const ROLES = new Map<number, ValidEndorser['role'] | 'member'>([
    [msp.MSPRole.MSPRoleType.MEMBER, 'member'],
    [msp.MSPRole.MSPRoleType.PEER, 'peer'],
    [msp.MSPRole.MSPRoleType.CLIENT, 'client'],
    [msp.MSPRole.MSPRoleType.ADMIN, 'admin'],
    [msp.MSPRole.MSPRoleType.ORDERER, 'orderer'],
]);

/** An MSP role principal as a test on an endorser; other principal kinds are satisfied by no endorser here. */
function principalTest(principal: InstanceType<typeof msp.MSPPrincipal>): (endorser: ValidEndorser) => boolean {
    if (principal.getPrincipalClassification() !== msp.MSPPrincipal.Classification.ROLE) {
        return () => false;
    }
    const role = msp.MSPRole.deserializeBinary(principal.getPrincipal_asU8());
    const mspId = role.getMspIdentifier();
    const wanted = ROLES.get(role.getRole());
    return (endorser) => endorser.mspId === mspId && (wanted === 'member' || wanted === endorser.role);
}

function compileRule(rule: Rule, principals: readonly ((endorser: ValidEndorser) => boolean)[]): Evaluator {
    if (rule.hasSignedBy()) {
        const satisfies = principals[rule.getSignedBy()];
        if (satisfies === undefined) {
            return () => false;
        }
        return (endorsers, used) => {
            const index = endorsers.findIndex((endorser, i) => used[i] !== true && satisfies(endorser));
            if (index < 0) {
                return false;
            }
            used[index] = true;
            return true;
        };
    }
    const nOutOf = rule.getNOutOf();
    if (nOutOf === undefined) {
        return () => false;
    }
    const n = nOutOf.getN();
    const rules = nOutOf.getRulesList().map((sub) => compileRule(sub, principals));
    return (endorsers, used) => {
        let met = 0;
        for (const sub of rules) {
            const attempt = [...used];
            if (sub(endorsers, attempt)) {
                attempt.forEach((value, i) => {
                    used[i] = value;
                });
                met++;
            }
        }
        return met >= n;
    };
}

/** A serialized common.SignaturePolicyEnvelope as a test on a set of endorsements; a malformed one is never met. */
export function compileSignaturePolicy(envelopeBytes: Uint8Array): (endorsers: readonly ValidEndorser[]) => boolean {
    let envelope: InstanceType<typeof common.SignaturePolicyEnvelope>;
    try {
        envelope = common.SignaturePolicyEnvelope.deserializeBinary(envelopeBytes);
    } catch {
        return () => false;
    }
    const rule = envelope.getRule();
    if (rule === undefined) {
        return () => false;
    }
    const evaluate = compileRule(rule, envelope.getIdentitiesList().map(principalTest));
    return (endorsers) => evaluate(endorsers, endorsers.map(() => false));
}

/** A signature policy given by its text and envelope (e.g. a collection's endorsement policy). */
export function signatureEndorsementPolicy(text: string, envelope: Uint8Array): EndorsementPolicy {
    const satisfied = compileSignaturePolicy(envelope);
    return { description: text, isSatisfiedBy: satisfied };
}

/** A policy of a config group by name, compiled; undefined if the group has no such policy (Fabric rejects then). */
function compileConfigPolicy(group: ConfigGroup, name: string): ((endorsers: readonly ValidEndorser[]) => boolean) | undefined {
    const policy = mapField<InstanceType<typeof common.ConfigPolicy>>(group.getPoliciesMap()).get(name)?.getPolicy();
    if (policy === undefined) {
        return undefined;
    }
    if (policy.getType() === common.Policy.PolicyType.SIGNATURE) {
        return compileSignaturePolicy(policy.getValue_asU8());
    }
    if (policy.getType() !== common.Policy.PolicyType.IMPLICIT_META) {
        return () => false;
    }
    const meta = common.ImplicitMetaPolicy.deserializeBinary(policy.getValue_asU8());
    const children = mapField<ConfigGroup>(group.getGroupsMap());
    const subPolicies = [...children.keys()].sort().map((key) => compileConfigPolicy(children.get(key) as ConfigGroup, meta.getSubPolicy()) ?? (() => false));
    const threshold = meta.getRule() === common.ImplicitMetaPolicy.Rule.ANY ? 1
        : meta.getRule() === common.ImplicitMetaPolicy.Rule.ALL ? subPolicies.length
            : Math.floor(subPolicies.length / 2) + 1;
    return (endorsers) => {
        let met = 0;
        for (const subPolicy of subPolicies) {
            if (subPolicy(endorsers)) {
                met++;
            }
        }
        return met >= threshold;
    };
}

/**
 * The channel configuration's policy at `reference`: an absolute path (`/Channel/Application/Endorsement`) or one
 * relative to `/Channel` (`Application/Endorsement`), as the channel's policy manager resolves it.
 */
export function channelConfigEndorsementPolicy(reference: string, config: InstanceType<typeof common.Config>): EndorsementPolicy {
    const segments = reference.startsWith('/') ? reference.slice(1).split('/') : ['Channel', ...reference.split('/')];
    const name = segments.at(-1) ?? '';
    let group = segments[0] === 'Channel' && segments.length >= 2 ? config.getChannelGroup() : undefined;
    for (const segment of segments.slice(1, -1)) {
        group = group === undefined ? undefined : mapField<ConfigGroup>(group.getGroupsMap()).get(segment);
    }
    const satisfied = group === undefined || name === '' ? undefined : compileConfigPolicy(group, name);
    if (satisfied === undefined) {
        throw new EndorsementPolicyError(`channel config policy ${reference} does not exist in the channel configuration (e.g. ${DEFAULT_ENDORSEMENT_POLICY})`);
    }
    return { description: reference, isSatisfiedBy: satisfied };
}

/**
 * A chaincode definition's endorsement policy, checked as `peer lifecycle chaincode approveformyorg` checks it, and
 * also refused when it names an MSP that is not one of the channel's orgs or when no set of the channel's peers can
 * satisfy it (on Fabric such a chaincode could never commit a transaction). Throws {@link EndorsementPolicyError}.
 */
export function defineEndorsementPolicy(
    definition: EndorsementPolicyDefinition,
    config: InstanceType<typeof common.Config>,
    channelMspIds: readonly string[],
): EndorsementPolicy {
    const signaturePolicy = definition.signaturePolicy ?? '';
    const channelConfigPolicy = definition.channelConfigPolicy ?? '';
    if (typeof signaturePolicy !== 'string' || typeof channelConfigPolicy !== 'string') {
        throw new EndorsementPolicyError('the signature policy and the channel config policy of a chaincode definition must be strings');
    }
    if (signaturePolicy !== '' && channelConfigPolicy !== '') {
        throw new EndorsementPolicyError('cannot specify both "--signature-policy" and "--channel-config-policy"');
    }
    let policy: EndorsementPolicy;
    if (signaturePolicy === '') {
        policy = channelConfigEndorsementPolicy(channelConfigPolicy === '' ? DEFAULT_ENDORSEMENT_POLICY : channelConfigPolicy, config);
    } else {
        let parsed;
        try {
            parsed = parseSignaturePolicy(signaturePolicy);
        } catch (error) {
            if (error instanceof PolicySyntaxError) {
                throw new EndorsementPolicyError(`invalid signature policy: ${signaturePolicy}: ${error.message}`);
            }
            throw error;
        }
        const stranger = parsed.principals.find((principal) => !channelMspIds.includes(principal.mspId));
        if (stranger !== undefined) {
            throw new EndorsementPolicyError(`signature policy ${signaturePolicy}: '${stranger.mspId}' is not an organization of the channel (${channelMspIds.join(', ')})`);
        }
        policy = signatureEndorsementPolicy(signaturePolicy, parsed.envelope);
    }
    if (endorsingOrgSets([policy], channelMspIds, 1).length === 0) {
        throw new EndorsementPolicyError(`endorsement policy ${policy.description} cannot be satisfied by the peers of the channel's organizations (${channelMspIds.join(', ')})`);
    }
    return policy;
}

function* combinations<T>(items: readonly T[], size: number, start = 0, prefix: readonly T[] = []): Generator<readonly T[]> {
    if (prefix.length === size) {
        yield prefix;
        return;
    }
    for (let i = start; i <= items.length - (size - prefix.length); i++) {
        yield* combinations(items, size, i + 1, [...prefix, items[i] as T]);
    }
}

/**
 * The minimal sets of `candidates` (MSP ids, one peer each) whose peers' endorsements satisfy every one of `policies`:
 * smallest first, and among sets of one size in the order of `candidates`; at most `limit` of them.
 */
export function endorsingOrgSets(policies: readonly EndorsementPolicy[], candidates: readonly string[], limit = 256): string[][] {
    const found: string[][] = [];
    for (let size = 1; size <= candidates.length; size++) {
        for (const set of combinations(candidates, size)) {
            if (found.some((smaller) => smaller.every((mspId) => set.includes(mspId)))) {
                continue;
            }
            const endorsers = set.map((mspId): ValidEndorser => ({ mspId, role: 'peer' }));
            if (policies.every((policy) => policy.isSatisfiedBy(endorsers))) {
                found.push([...set]);
                if (found.length >= limit) {
                    return found;
                }
            }
        }
    }
    return found;
}
