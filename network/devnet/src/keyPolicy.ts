// SPDX-License-Identifier: Apache-2.0
/**
 * Key-level (state-based) endorsement: a key's `VALIDATION_PARAMETER` metadata is a serialized
 * `common.SignaturePolicyEnvelope` (what fabric-shim's `KeyEndorsementPolicy.getPolicy()` builds) that a transaction
 * writing the key must satisfy instead of the chaincode's policy (core/common/validation/statebased). Evaluated as
 * Fabric's cauthdsl does, by the same evaluator as chaincode and collection signature policies (endorsementPolicy.ts).
 */
import { compileSignaturePolicy } from './endorsementPolicy';

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

/** Whether the endorsements satisfy the serialized SignaturePolicyEnvelope `policy`; a malformed policy is not met. */
export function keyPolicySatisfied(policy: Uint8Array, endorsers: readonly ValidEndorser[]): boolean {
    return compileSignaturePolicy(policy)(endorsers);
}
