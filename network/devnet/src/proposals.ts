// SPDX-License-Identifier: Apache-2.0
/**
 * Signed transaction proposals: building them as a Fabric client does (protoutil
 * CreateChaincodeProposalWithTxIDNonceAndTransient), and unpacking/validating them as an endorsing peer does
 * (core/endorser/msgvalidation.go `UnpackProposal`, `Validate`).
 */
import { createHash, randomBytes, type X509Certificate } from 'node:crypto';
import type { TestIdentity } from './identities';
import { MemberIdentities } from './memberIdentities';

export type { ChannelMsps } from './memberIdentities';
import {
    newTimestamp,
    protos,
    timestampToMillis,
    type ChaincodeInput,
    type ChaincodeProposalPayload,
    type ProposalHeader,
    type ProtoMap,
    type SignedProposal,
    type TimestampMessage,
} from './runtime';

/** protoutil's NonceSize. */
export const NONCE_SIZE = 24;

/** What a client proposes. */
export interface ProposalSpec {
    readonly channel: string;
    readonly chaincode: string;
    /** Transaction name, `[contract:]function`; the first ChaincodeInput argument. */
    readonly fn: string;
    readonly args: readonly (string | Uint8Array)[];
    /** Client timestamp in milliseconds since the epoch (ChannelHeader.timestamp). */
    readonly timestamp: number;
    readonly transient?: Readonly<Record<string, Uint8Array | string>>;
    /** Defaults to 24 random bytes; reuse a nonce to reproduce a transaction id. */
    readonly nonce?: Uint8Array;
}

/** A signed proposal ready to send to a peer. */
export interface BuiltProposal {
    readonly txId: string;
    readonly nonce: Uint8Array;
    /** Serialized peer.SignedProposal. */
    readonly signedProposal: Uint8Array;
}

/** Fabric's transaction id: hex SHA-256 of nonce ‖ serialized creator (protoutil.ComputeTxID). */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
    return createHash('sha256').update(nonce).update(creator).digest('hex');
}

/** Builds and signs an ENDORSER_TRANSACTION proposal for `identity`. */
export function buildSignedProposal(identity: TestIdentity, spec: ProposalSpec): BuiltProposal {
    const nonce = spec.nonce ?? randomBytes(NONCE_SIZE);
    const creator = identity.serializedIdentity;
    const txId = computeTxId(nonce, creator);

    const chaincodeId = new protos.peer.ChaincodeID();
    chaincodeId.setName(spec.chaincode);
    const input = new protos.peer.ChaincodeInput();
    input.setArgsList([spec.fn, ...spec.args].map((arg) => (typeof arg === 'string' ? Buffer.from(arg) : arg)));
    const chaincodeSpec = new protos.peer.ChaincodeSpec();
    chaincodeSpec.setChaincodeId(chaincodeId);
    chaincodeSpec.setInput(input);
    const invocationSpec = new protos.peer.ChaincodeInvocationSpec();
    invocationSpec.setChaincodeSpec(chaincodeSpec);

    const payload = new protos.peer.ChaincodeProposalPayload();
    payload.setInput(invocationSpec.serializeBinary());
    const transientMap = payload.getTransientmapMap() as unknown as ProtoMap<Uint8Array>;
    for (const [key, value] of Object.entries(spec.transient ?? {})) {
        transientMap.set(key, typeof value === 'string' ? Buffer.from(value) : value);
    }

    const extension = new protos.peer.ChaincodeHeaderExtension();
    extension.setChaincodeId(chaincodeId);
    const channelHeader = new protos.common.ChannelHeader();
    channelHeader.setType(protos.common.HeaderType.ENDORSER_TRANSACTION);
    channelHeader.setChannelId(spec.channel);
    channelHeader.setTxId(txId);
    channelHeader.setTimestamp(newTimestamp(spec.timestamp));
    channelHeader.setExtension$(extension.serializeBinary());
    const signatureHeader = new protos.common.SignatureHeader();
    signatureHeader.setCreator(creator);
    signatureHeader.setNonce(nonce);
    const header = new protos.common.Header();
    header.setChannelHeader(channelHeader.serializeBinary());
    header.setSignatureHeader(signatureHeader.serializeBinary());

    const proposal = new protos.peer.Proposal();
    proposal.setHeader(header.serializeBinary());
    proposal.setPayload(payload.serializeBinary());
    const proposalBytes = proposal.serializeBinary();

    const signed = new protos.peer.SignedProposal();
    signed.setProposalBytes(proposalBytes);
    signed.setSignature(identity.sign(proposalBytes));
    return { txId, nonce, signedProposal: signed.serializeBinary() };
}

/** A decoded proposal (msgvalidation.go `UnpackedProposal`). */
export interface UnpackedProposal {
    readonly signedProposal: SignedProposal;
    readonly channelId: string;
    readonly txId: string;
    readonly headerType: number;
    readonly epoch: number;
    readonly timestamp: number;
    readonly nonce: Uint8Array;
    readonly creator: Uint8Array;
    readonly chaincodeName: string;
    readonly input: ChaincodeInput;
    /** The proposal's header, as its transaction carries it. */
    readonly header: ProposalHeader;
    /** The ChaincodeProposalPayload, transient map included. */
    readonly proposalPayload: ChaincodeProposalPayload;
}

/** Decodes a serialized SignedProposal; throws with the endorser's messages when it is malformed. */
export function unpackProposal(signedProposalBytes: Uint8Array): UnpackedProposal {
    const signedProposal = protos.peer.SignedProposal.deserializeBinary(signedProposalBytes);
    const proposal = protos.peer.Proposal.deserializeBinary(signedProposal.getProposalBytes_asU8());
    const header = protos.common.Header.deserializeBinary(proposal.getHeader_asU8());
    const channelHeader = protos.common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    const signatureHeader = protos.common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
    const extension = protos.peer.ChaincodeHeaderExtension.deserializeBinary(channelHeader.getExtension_asU8());
    const chaincodeId = extension.getChaincodeId();
    if (chaincodeId === undefined) {
        throw new Error('ChaincodeHeaderExtension.ChaincodeId is nil');
    }
    if (chaincodeId.getName() === '') {
        throw new Error('ChaincodeHeaderExtension.ChaincodeId.Name is empty');
    }
    const payload = protos.peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
    const invocation = protos.peer.ChaincodeInvocationSpec.deserializeBinary(payload.getInput_asU8());
    const spec = invocation.getChaincodeSpec();
    if (spec === undefined) {
        throw new Error('chaincode invocation spec did not contain chaincode spec');
    }
    const input = spec.getInput();
    if (input === undefined) {
        throw new Error('chaincode input did not contain any input');
    }
    const timestamp = channelHeader.getTimestamp() as TimestampMessage | undefined;
    return {
        signedProposal,
        channelId: channelHeader.getChannelId(),
        txId: channelHeader.getTxId(),
        headerType: channelHeader.getType(),
        epoch: channelHeader.getEpoch(),
        timestamp: timestamp === undefined ? 0 : timestampToMillis(timestamp),
        nonce: signatureHeader.getNonce_asU8(),
        creator: signatureHeader.getCreator_asU8(),
        chaincodeName: chaincodeId.getName(),
        input,
        header,
        proposalPayload: payload,
    };
}

/** Validates a proposal as msgvalidation.go `Validate` does; rejects with the endorser's message on failure. */
export async function validateProposal(up: UnpackedProposal, members: MemberIdentities): Promise<{ readonly mspId: string; readonly certificate: X509Certificate }> {
    if (up.headerType !== protos.common.HeaderType.ENDORSER_TRANSACTION) {
        throw new Error(`invalid header type ${up.headerType}`);
    }
    if (up.epoch !== 0) {
        throw new Error('epoch is non-zero');
    }
    if (up.nonce.length === 0) {
        throw new Error('nonce is empty');
    }
    if (up.creator.length === 0) {
        throw new Error('creator is empty');
    }
    const expectedTxId = computeTxId(up.nonce, up.creator);
    if (up.txId !== expectedTxId) {
        throw new Error(`incorrectly computed txid '${up.txId}' -- expected '${expectedTxId}'`);
    }
    const signature = up.signedProposal.getSignature_asU8();
    if (signature.length === 0) {
        throw new Error('empty signature bytes');
    }
    const creator = members.resolve(up.creator);
    if (creator === undefined || !creator.knownMsp) {
        throw new Error(`access denied: channel [${up.channelId}] creator org unknown, creator is malformed`);
    }
    if (!creator.validMember || !(await MemberIdentities.verifiesOffThread(creator, up.signedProposal.getProposalBytes_asU8(), signature))) {
        throw new Error(`access denied: channel [${up.channelId}] creator org [${creator.mspId}]`);
    }
    return creator;
}
