// SPDX-License-Identifier: Apache-2.0
/**
 * Which orgs' peers must endorse a transaction, as Fabric 2.5 works it out from a chaincode interest (peer.ChaincodeCall
 * entries): the endorser derives the interest from its simulation (core/endorser/endorser.go `buildChaincodeInterest`),
 * the gateway (internal/pkg/gateway `planFromFirstEndorser`) or an SDK asks discovery for the peers that satisfy it
 * (discovery/endorsement/endorsement.go, discovery/support/chaincode `PoliciesByChaincode`):
 *
 * - a call without collections needs the chaincode's endorsement policy (unless it disregards it for its key policies);
 * - a call naming collections needs, per collection, the collection's own endorsement policy, else the chaincode's;
 * - key-level policies of the call are needed too;
 * - a call whose collections are read in plaintext (`noPrivateReads` false) only admits peers that are members of them.
 */
import type { CollectionConfig } from './collections';
import { ChaincodeCollections } from './collections';
import { compileSignaturePolicy, endorsingOrgSets, signatureEndorsementPolicy, type EndorsementPolicy } from './endorsementPolicy';

/** One chaincode call of a chaincode interest (peer.ChaincodeCall). */
export interface InterestCall {
    readonly chaincode: string;
    /** Private data collections the call concerns (none: its public state). */
    readonly collections: readonly string[];
    /** Whether those collections are not read in plaintext (then their non-member peers may endorse). */
    readonly noPrivateReads: boolean;
    /** Serialized SignaturePolicyEnvelopes of key-level policies the endorsements must satisfy too. */
    readonly keyPolicies?: readonly Uint8Array[];
    /** Whether the chaincode's own policy is not needed (its writes all have key-level policies). */
    readonly disregardNamespacePolicy?: boolean;
}

/** What planning reads of the channel's chaincode definitions. */
export interface DefinitionSource {
    /** The endorsement policy of a chaincode defined on the channel, undefined if it is not. */
    chaincodePolicy(chaincode: string): EndorsementPolicy | undefined;
    /** A collection of a chaincode, undefined if it has none of that name. */
    collection(chaincode: string, name: string): CollectionConfig | undefined;
}

/** An interest that names something the channel does not define; the message is discovery's. */
export class InterestError extends Error {
    public override readonly name = 'InterestError';
}

/** The simulation facts that decide a transaction's chaincode interest. */
export interface SimulatedAccess {
    readonly chaincode: string;
    /** Whether it wrote public keys (values or metadata). */
    readonly publicWrites: boolean;
    /**
     * The key-level endorsement policies (serialized SignaturePolicyEnvelopes) of the keys it wrote that have one,
     * public or private, as committed; none by default.
     */
    readonly keyPolicies?: readonly Uint8Array[];
    /** Whether some public key it wrote has no key-level policy (then the chaincode's is needed); default: it wrote any. */
    readonly publicWritesWithoutKeyPolicy?: boolean;
    /** Collections it wrote (values or metadata), except those whose written keys all have a key-level policy. */
    readonly writtenCollections: readonly string[];
    /** Collections it read in plaintext. */
    readonly privateReads: readonly string[];
}

/**
 * The chaincode interest of a simulated transaction, as Fabric's endorser builds it: its public state needs the
 * chaincode's policy if it wrote a public key without a key-level policy or wrote nothing at all, and the key-level
 * policies of the public keys written that have one; every collection written or read in plaintext is a call of its
 * own, `noPrivateReads` unless read in plaintext.
 */
export function interestOf(access: SimulatedAccess): InterestCall[] {
    const calls: InterestCall[] = [];
    const keyPolicies = access.keyPolicies ?? [];
    const chaincodePolicyNeeded = access.publicWrites ? access.publicWritesWithoutKeyPolicy ?? true : access.writtenCollections.length === 0 && keyPolicies.length === 0;
    if (keyPolicies.length > 0) {
        calls.push({ chaincode: access.chaincode, collections: [], noPrivateReads: true, keyPolicies, disregardNamespacePolicy: !chaincodePolicyNeeded });
    } else if (chaincodePolicyNeeded) {
        calls.push({ chaincode: access.chaincode, collections: [], noPrivateReads: true });
    }
    const collections = [...new Set([...access.writtenCollections, ...access.privateReads])].sort();
    for (const collection of collections) {
        calls.push({ chaincode: access.chaincode, collections: [collection], noPrivateReads: !access.privateReads.includes(collection) });
    }
    return calls;
}

const collectionPolicies = new WeakMap<CollectionConfig, EndorsementPolicy>();

function collectionPolicy(collection: CollectionConfig): EndorsementPolicy | undefined {
    const signature = collection.endorsementPolicy;
    if (signature === undefined) {
        return undefined;
    }
    let policy = collectionPolicies.get(collection);
    if (policy === undefined) {
        policy = signatureEndorsementPolicy(signature.text, signature.envelope);
        collectionPolicies.set(collection, policy);
    }
    return policy;
}

/** The policies an interest needs satisfied and the orgs admitted to endorse it; throws {@link InterestError}. */
function requirements(calls: readonly InterestCall[], source: DefinitionSource, orgs: readonly string[]): { readonly policies: EndorsementPolicy[]; readonly admitted: string[] } {
    const policies: EndorsementPolicy[] = [];
    let admitted = [...orgs];
    for (const call of calls) {
        const chaincodePolicy = source.chaincodePolicy(call.chaincode);
        if (chaincodePolicy === undefined) {
            throw new InterestError(`No metadata was found for chaincode ${call.chaincode}`);
        }
        const collections = call.collections.map((name) => {
            const collection = source.collection(call.chaincode, name);
            if (collection === undefined) {
                throw new InterestError(`collection ${name} doesn't exist in collection config for chaincode ${call.chaincode}`);
            }
            return collection;
        });
        if (collections.length === 0) {
            if (call.disregardNamespacePolicy !== true) {
                policies.push(chaincodePolicy);
            } else if ((call.keyPolicies ?? []).length === 0) {
                throw new InterestError(`requested to disregard chaincode ${call.chaincode}'s policy but key and collection policies are missing, either disable DisregardNamespacePolicy or specify at least one key policy or at least one collection policy`);
            }
        }
        for (const collection of collections) {
            policies.push(collectionPolicy(collection) ?? chaincodePolicy);
            if (!call.noPrivateReads) {
                admitted = admitted.filter((mspId) => ChaincodeCollections.peerIsMember(collection, mspId));
            }
        }
        for (const keyPolicy of call.keyPolicies ?? []) {
            policies.push({ description: 'key-level endorsement policy', isSatisfiedBy: compileSignaturePolicy(keyPolicy) });
        }
    }
    return { policies: [...new Set(policies)], admitted };
}

/**
 * The minimal sets of `orgs` (in that order of preference) whose peers can endorse a transaction with chaincode
 * interest `calls` (discovery's layouts); empty if none can. Throws {@link InterestError}.
 */
export function endorsementLayouts(calls: readonly InterestCall[], source: DefinitionSource, orgs: readonly string[], limit = 256): string[][] {
    const { policies, admitted } = requirements(calls, source, orgs);
    return endorsingOrgSets(policies, admitted, limit);
}
