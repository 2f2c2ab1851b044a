// SPDX-License-Identifier: Apache-2.0
/**
 * The Gateway service's requests as the devnet reads them: straight from the bytes received, with the signed proposal
 * or envelope they carry kept as the bytes that came. grpc-js would otherwise decode each request into
 * google-protobuf objects, the devnet encode the proposal or envelope again, and decode it once more.
 *
 * A request that is not well-formed protobuf fails to decode, as it does with the generated decoders (grpc-js then
 * answers INTERNAL 'Error deserializing request'); so does one whose proposal or envelope is not.
 */
import type * as grpc from '@grpc/grpc-js';
import { GatewayService } from '@hyperledger/fabric-protos/lib/gateway/gateway_grpc_pb';
import { readValue, readVarint } from './protoReader';
import { ProtoMessage } from './protoWriter';

/** The fields of a protobuf message: number → values of its length-delimited occurrences, in order. */
type Fields = Map<number, Uint8Array[]>;

/** Walks a message's wire format: every field must be well formed; the length-delimited ones are returned. */
export function wireFields(bytes: Uint8Array): Fields {
    const fields: Fields = new Map();
    let at = 0;
    while (at < bytes.length) {
        const tag = readVarint(bytes, at);
        const key = Number(tag.value);
        const field = Math.floor(key / 8);
        if (field === 0) {
            throw new Error('invalid field number 0');
        }
        const read = readValue(bytes, tag.next, field, key % 8);
        if (read.value instanceof Uint8Array) {
            const values = fields.get(field) ?? [];
            values.push(read.value);
            fields.set(field, values);
        }
        at = read.next;
    }
    return fields;
}

/** The last occurrence of a length-delimited field (protobuf: the last one wins), undefined if absent. */
function last(fields: Fields, field: number): Uint8Array | undefined {
    return fields.get(field)?.at(-1);
}

function strings(fields: Fields, field: number): string[] {
    return (fields.get(field) ?? []).map((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** A nested message, checked well formed, as its bytes. */
function message(fields: Fields, field: number): Uint8Array | undefined {
    const bytes = last(fields, field);
    if (bytes !== undefined) {
        wireFields(bytes);
    }
    return bytes;
}

/** gateway.EvaluateRequest / gateway.EndorseRequest: the signed proposal (field 3) and the organizations (field 4). */
export interface ProposalRequest {
    /** The serialized peer.SignedProposal, undefined if absent. */
    readonly signedProposal: Uint8Array | undefined;
    /** Whether the signed proposal carries non-empty proposal bytes. */
    readonly hasProposalBytes: boolean;
    readonly organizations: readonly string[];
}

/** gateway.SubmitRequest: the prepared transaction (field 3). */
export interface SubmitRequest {
    /** The serialized common.Envelope, undefined if absent. */
    readonly envelope: Uint8Array | undefined;
}

/** gateway.SignedCommitStatusRequest: request (field 1) and signature (field 2). */
export interface SignedRequest {
    readonly request: Uint8Array;
    readonly signature: Uint8Array;
}

export function decodeProposalRequest(bytes: Buffer): ProposalRequest {
    const fields = wireFields(bytes);
    const signedProposal = last(fields, 3);
    // Walking the signed proposal's fields also checks it well formed.
    const proposalBytes = signedProposal === undefined ? undefined : last(wireFields(signedProposal), 1);
    return { signedProposal, hasProposalBytes: (proposalBytes?.length ?? 0) > 0, organizations: strings(fields, 4) };
}

export function decodeSubmitRequest(bytes: Buffer): SubmitRequest {
    return { envelope: message(wireFields(bytes), 3) };
}

export function decodeSignedRequest(bytes: Buffer): SignedRequest {
    const fields = wireFields(bytes);
    return { request: last(fields, 1) ?? new Uint8Array(), signature: last(fields, 2) ?? new Uint8Array() };
}

/** gateway.EndorseResponse: the prepared transaction (field 1), a serialized common.Envelope sent as it is. */
export interface EndorseResult {
    readonly preparedTransaction: Uint8Array;
}

export function encodeEndorseResponse(response: EndorseResult): Buffer {
    return new ProtoMessage().encodedMessage(1, response.preparedTransaction).encode();
}

/**
 * The Gateway service definition with the requests of Evaluate, Endorse, Submit and CommitStatus read as above, and
 * Endorse's response written from the envelope's bytes.
 */
export const RAW_GATEWAY_SERVICE: grpc.ServiceDefinition = {
    ...GatewayService,
    evaluate: { ...GatewayService.evaluate, requestDeserialize: decodeProposalRequest },
    endorse: { ...GatewayService.endorse, requestDeserialize: decodeProposalRequest, responseSerialize: encodeEndorseResponse },
    submit: { ...GatewayService.submit, requestDeserialize: decodeSubmitRequest },
    commitStatus: { ...GatewayService.commitStatus, requestDeserialize: decodeSignedRequest },
};
