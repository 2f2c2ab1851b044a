// SPDX-License-Identifier: Apache-2.0
/**
 * Key-level (state-based) endorsement: a key's `VALIDATION_PARAMETER` metadata is a serialized
 * `common.SignaturePolicyEnvelope` (what fabric-shim's `KeyEndorsementPolicy.getPolicy()` builds) that a transaction
 * writing the key must satisfy instead of the chaincode's policy (core/common/validation/statebased). Evaluated as
 * Fabric's cauthdsl does: each signed-by rule consumes one endorsement whose identity matches the principal, an
 * n-out-of rule needs n of its sub-rules.
 */
import { common, msp } from '@hyperledger/fabric-protos';

/** The metadata name of a key's endorsement policy (statebased.pb `VALIDATION_PARAMETER`). */
export const VALIDATION_PARAMETER = 'VALIDATION_PARAMETER';

/**
 * A key's validation parameter from its metadata; an empty one is none (statebased validator: `len(vp) == 0`, the
 * collection's or the chaincode's policy applies).
 */
export function validationParameterOf(metadata: ReadonlyMap<string, Buffer> | undefined): Buffer | undefined {
    const parameter = metadata?.get(VALIDATION_PARAMETER);
    return parameter === undefined || parameter.length === 0 ? undefined : parameter;
}

/** An endorsement that passed signature checks: the endorser's MSP and its role (NodeOU) in it. */
export interface ValidEndorser {
    readonly mspId: string;
    readonly role: 'peer' | 'client' | 'admin' | 'orderer';
}

type Principal = InstanceType<typeof msp.MSPPrincipal>;
type Rule = InstanceType<typeof common.SignaturePolicy>;

function satisfies(endorser: ValidEndorser, principal: Principal): boolean {
    if (principal.getPrincipalClassification() !== msp.MSPPrincipal.Classification.ROLE) {
        return false;
    }
    const role = msp.MSPRole.deserializeBinary(principal.getPrincipal_asU8());
    if (role.getMspIdentifier() !== endorser.mspId) {
        return false;
    }
    switch (role.getRole()) {
        case msp.MSPRole.MSPRoleType.MEMBER:
            return true;
        case msp.MSPRole.MSPRoleType.PEER:
            return endorser.role === 'peer';
        case msp.MSPRole.MSPRoleType.CLIENT:
            return endorser.role === 'client';
        case msp.MSPRole.MSPRoleType.ADMIN:
            return endorser.role === 'admin';
        case msp.MSPRole.MSPRoleType.ORDERER:
            return endorser.role === 'orderer';
        default:
            return false;
    }
}

/** cauthdsl.compile: whether `rule` is met by the endorsements not yet `used` (marking those it consumes). */
function evaluate(rule: Rule, principals: readonly Principal[], endorsers: readonly ValidEndorser[], used: boolean[]): boolean {
    if (rule.hasSignedBy()) {
        const principal = principals[rule.getSignedBy()];
        if (principal === undefined) {
            return false;
        }
        const index = endorsers.findIndex((endorser, i) => used[i] !== true && satisfies(endorser, principal));
        if (index < 0) {
            return false;
        }
        used[index] = true;
        return true;
    }
    const nOutOf = rule.getNOutOf();
    if (nOutOf === undefined) {
        return false;
    }
    let met = 0;
    for (const sub of nOutOf.getRulesList()) {
        const attempt = [...used];
        if (evaluate(sub, principals, endorsers, attempt)) {
            attempt.forEach((value, i) => {
                used[i] = value;
            });
            met++;
        }
    }
    return met >= nOutOf.getN();
}

/** Whether the endorsements satisfy the serialized SignaturePolicyEnvelope `policy`; a malformed policy is not met. */
export function keyPolicySatisfied(policy: Uint8Array, endorsers: readonly ValidEndorser[]): boolean {
    let envelope: InstanceType<typeof common.SignaturePolicyEnvelope>;
    try {
        envelope = common.SignaturePolicyEnvelope.deserializeBinary(policy);
    } catch {
        return false;
    }
    const rule = envelope.getRule();
    return rule !== undefined && evaluate(rule, envelope.getIdentitiesList(), endorsers, endorsers.map(() => false));
}
