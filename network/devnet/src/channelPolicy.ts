// SPDX-License-Identifier: Apache-2.0
/**
 * The channel's MSPs and policies as the devnet applies them: who is a member (a certificate issued by an org's CA),
 * whether a signature by a member is valid (low-S ECDSA over SHA-256), and which orgs validly endorsed a response
 * payload, and the endorsement policy of each chaincode defined on the channel (by default the channel's
 * `/Channel/Application/Endorsement`, a majority of its orgs).
 */
import { createHash } from 'node:crypto';
import { common } from '@hyperledger/fabric-protos';
import { makeRoom } from './bounded';
import { channelConfigEndorsementPolicy, DEFAULT_ENDORSEMENT_POLICY, defineEndorsementPolicy, type EndorsementPolicy, type EndorsementPolicyDefinition } from './endorsementPolicy';
import { MemberIdentities } from './memberIdentities';
import type { Org } from './orgs';

type Envelope = InstanceType<typeof common.Envelope>;
/** peer.Endorsement: the endorser's serialized identity and its signature over response payload ‖ endorser. */
export interface Endorsement {
    readonly endorser: Uint8Array;
    readonly signature: Uint8Array;
}

/** Endorsement signatures the devnet's peers made and have not yet seen again at commit; beyond that the oldest are forgotten. */
const OWN_SIGNATURES_CAPACITY = 16_384;

function digestOf(message: Uint8Array): string {
    return createHash('sha256').update(message).digest('base64');
}

/** The MSP and policy checks of one channel. */
export class ChannelPolicy {
    /** Each org's CA certificate, by MSP id, with what they make of the identities seen so far. */
    public readonly members: MemberIdentities;
    /**
     * Signatures the channel's own peers made as endorsements (signature → SHA-256 of what was signed). At commit, an
     * endorsement carrying one of these over the very same bytes is known to be valid without verifying the ECDSA
     * signature again: the devnet made it with the peer's key moments ago. Anything else is verified in full.
     */
    private readonly ownSignatures = new Map<string, string>();
    /** The endorsement policy of each chaincode defined on the channel. */
    private readonly chaincodePolicies = new Map<string, EndorsementPolicy>();
    /** The channel configuration's default endorsement policy, once the configuration is known. */
    private defaultPolicy?: EndorsementPolicy;
    private config?: InstanceType<typeof common.Config>;

    public constructor(
        public readonly channel: string,
        private readonly orgs: readonly Org[],
    ) {
        this.members = new MemberIdentities(new Map(orgs.map((org) => [org.mspId, org.caCertificate])));
    }

    /** Takes the channel's policies from its configuration (the config block's). */
    public useConfig(config: InstanceType<typeof common.Config>): void {
        this.config = config;
        this.defaultPolicy = channelConfigEndorsementPolicy(DEFAULT_ENDORSEMENT_POLICY, config);
    }

    /**
     * A chaincode definition's endorsement policy, checked against the channel (see {@link defineEndorsementPolicy});
     * throws {@link EndorsementPolicyError}. It applies once {@link setChaincodePolicy} says so.
     */
    public resolveChaincodePolicy(definition: EndorsementPolicyDefinition): EndorsementPolicy {
        if (this.config === undefined) {
            throw new Error('the channel configuration is not loaded yet');
        }
        return defineEndorsementPolicy(definition, this.config, this.orgs.map((org) => org.mspId));
    }

    /** Makes `policy` chaincode `name`'s endorsement policy, for transactions validated from now on. */
    public setChaincodePolicy(name: string, policy: EndorsementPolicy): void {
        this.chaincodePolicies.set(name, policy);
    }

    /** The endorsement policy of chaincode `name` (the channel's default for a chaincode not defined). */
    public chaincodePolicy(name: string): EndorsementPolicy {
        const policy = this.chaincodePolicies.get(name) ?? this.defaultPolicy;
        if (policy === undefined) {
            throw new Error('the channel configuration is not loaded yet');
        }
        return policy;
    }

    /** Why `signature` by the serialized identity over `data` does not satisfy the channel's Writers policy, if it does not. */
    public async checkSignature(identityBytes: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<string | undefined> {
        const identity = this.members.resolve(identityBytes);
        if (identity === undefined) {
            return `failed evaluating policy on signed data during check policy on channel [${this.channel}]: identity is malformed`;
        }
        if (!identity.issuedByMsp || !(await MemberIdentities.verifiesOffThread(identity, data, signature))) {
            return `failed evaluating policy on signed data during check policy on channel [${this.channel}] with policy [/Channel/Application/Writers]: [implicit policy evaluation failed - 0 sub-policies were satisfied]`;
        }
        return undefined;
    }

    /** Why the envelope's signature by its creator is not acceptable, if it is not. */
    public async checkEnvelopeSignature(envelope: Envelope): Promise<string | undefined> {
        let creator: Uint8Array;
        try {
            const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
            creator = common.SignatureHeader.deserializeBinary(payload.getHeader()?.getSignatureHeader_asU8() ?? new Uint8Array()).getCreator_asU8();
        } catch (error) {
            return `bad envelope: ${(error as Error).message}`;
        }
        return this.checkSignature(creator, envelope.getPayload_asU8(), envelope.getSignature_asU8());
    }

    /** The orgs whose peer validly signed `prpBytes` (endorsement signature over payload ‖ endorser). */
    public async endorsingOrgs(prpBytes: Uint8Array, endorsements: readonly Endorsement[]): Promise<Set<string>> {
        const verdicts = await Promise.all(endorsements.map(async (e) => {
            const endorser = e.endorser;
            const org = this.orgs.find((o) => Buffer.from(o.peer.serialized).equals(Buffer.from(endorser)));
            if (org === undefined) {
                return undefined;
            }
            const message = Buffer.concat([prpBytes, endorser]);
            const signature = e.signature;
            return this.isOwnSignature(message, signature) || (await this.checkSignature(endorser, message, signature)) === undefined ? org.mspId : undefined;
        }));
        return new Set(verdicts.filter((mspId): mspId is string => mspId !== undefined));
    }

    /** Records an endorsement signature one of the channel's peers made over `message` (see {@link endorsingOrgs}). */
    public rememberOwnSignature(message: Uint8Array, signature: Uint8Array): void {
        makeRoom(this.ownSignatures, OWN_SIGNATURES_CAPACITY);
        this.ownSignatures.set(Buffer.from(signature).toString('latin1'), digestOf(message));
    }

    /** Whether `signature` is one a peer of the channel made over exactly `message` (each is recognised once). */
    private isOwnSignature(message: Uint8Array, signature: Uint8Array): boolean {
        const key = Buffer.from(signature).toString('latin1');
        const digest = this.ownSignatures.get(key);
        if (digest === undefined || digest !== digestOf(message)) {
            return false;
        }
        this.ownSignatures.delete(key);
        return true;
    }
}
