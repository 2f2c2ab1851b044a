// SPDX-License-Identifier: Apache-2.0
/**
 * The channel's MSPs and policies as the devnet applies them: who is a member (a certificate issued by an org's CA),
 * whether a signature by a member is valid (low-S ECDSA over SHA-256), and which orgs validly endorsed a response
 * payload, against the default endorsement policy (a majority of the channel's orgs).
 */
import { common, type peer as peerProtos } from '@hyperledger/fabric-protos';
import { MemberIdentities } from './memberIdentities';
import type { Org } from './orgs';

type Envelope = InstanceType<typeof common.Envelope>;
type Endorsement = InstanceType<typeof peerProtos.Endorsement>;

/** The MSP and policy checks of one channel. */
export class ChannelPolicy {
    /** Each org's CA certificate, by MSP id, with what they make of the identities seen so far. */
    public readonly members: MemberIdentities;

    public constructor(
        public readonly channel: string,
        private readonly orgs: readonly Org[],
    ) {
        this.members = new MemberIdentities(new Map(orgs.map((org) => [org.mspId, org.caCertificate])));
    }

    /** Endorsements required by the default policy: a majority of the channel's orgs. */
    public get requiredEndorsements(): number {
        return Math.floor(this.orgs.length / 2) + 1;
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
            const endorser = e.getEndorser_asU8();
            const org = this.orgs.find((o) => Buffer.from(o.peer.serialized).equals(Buffer.from(endorser)));
            return org !== undefined && (await this.checkSignature(endorser, Buffer.concat([prpBytes, endorser]), e.getSignature_asU8())) === undefined ? org.mspId : undefined;
        }));
        return new Set(verdicts.filter((mspId): mspId is string => mspId !== undefined));
    }
}
