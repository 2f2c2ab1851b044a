// SPDX-License-Identifier: Apache-2.0
/**
 * The Gateway requests the devnet reads from their bytes give what the generated decoders give, keep the signed
 * proposal or envelope byte for byte, and refuse what the generated decoders refuse.
 */
import { describe, expect, it } from '@jest/globals';
import { common, gateway, peer } from '@hyperledger/fabric-protos';
import { decodeProposalRequest, decodeSignedRequest, decodeSubmitRequest, wireFields } from '../src/gatewayWire';

function signedProposal(proposalBytes: Uint8Array): InstanceType<typeof peer.SignedProposal> {
    const signed = new peer.SignedProposal();
    signed.setProposalBytes(proposalBytes);
    signed.setSignature(Buffer.from('signature'));
    return signed;
}

describe('Gateway requests read from their bytes', () => {
    it('reads Endorse and Evaluate requests as the generated decoders do', () => {
        const signed = signedProposal(Buffer.alloc(3000, 7));
        const endorse = new gateway.EndorseRequest();
        endorse.setTransactionId('a'.repeat(64));
        endorse.setChannelId('mychannel');
        endorse.setProposedTransaction(signed);
        endorse.setEndorsingOrganizationsList(['Org2MSP', 'Org3MSP']);
        const read = decodeProposalRequest(Buffer.from(endorse.serializeBinary()));
        expect(Buffer.from(read.signedProposal ?? [])).toEqual(Buffer.from(signed.serializeBinary()));
        expect(read.hasProposalBytes).toBe(true);
        expect(read.organizations).toEqual(['Org2MSP', 'Org3MSP']);

        const evaluate = new gateway.EvaluateRequest();
        evaluate.setChannelId('mychannel');
        evaluate.setProposedTransaction(signedProposal(new Uint8Array()));
        const readEvaluate = decodeProposalRequest(Buffer.from(evaluate.serializeBinary()));
        expect(readEvaluate.hasProposalBytes).toBe(false);
        expect(readEvaluate.organizations).toEqual([]);
        expect(decodeProposalRequest(Buffer.alloc(0))).toEqual({ signedProposal: undefined, hasProposalBytes: false, organizations: [] });
    });

    it('keeps a Submit request\'s envelope and a commit status request\'s bytes as they came', () => {
        const envelope = new common.Envelope();
        envelope.setPayload(Buffer.alloc(6000, 1));
        envelope.setSignature(Buffer.from('signature'));
        const submit = new gateway.SubmitRequest();
        submit.setTransactionId('b'.repeat(64));
        submit.setChannelId('mychannel');
        submit.setPreparedTransaction(envelope);
        expect(Buffer.from(decodeSubmitRequest(Buffer.from(submit.serializeBinary())).envelope ?? [])).toEqual(Buffer.from(envelope.serializeBinary()));
        expect(decodeSubmitRequest(Buffer.alloc(0)).envelope).toBeUndefined();

        const signed = new gateway.SignedCommitStatusRequest();
        signed.setRequest(Buffer.from('request'));
        signed.setSignature(Buffer.from('sig'));
        const read = decodeSignedRequest(Buffer.from(signed.serializeBinary()));
        expect(Buffer.from(read.request).toString()).toBe('request');
        expect(Buffer.from(read.signature).toString()).toBe('sig');
    });

    it('refuses bytes that are not protobuf, in the request or in the proposal or envelope it carries', () => {
        const endorse = new gateway.EndorseRequest();
        endorse.setProposedTransaction(signedProposal(Buffer.alloc(100, 7)));
        const bytes = Buffer.from(endorse.serializeBinary());
        // Cut short: the proposal's length runs past the end.
        expect(() => decodeProposalRequest(bytes.subarray(0, bytes.length - 1))).toThrow(/runs past the end/);
        expect(() => gateway.EndorseRequest.deserializeBinary(bytes.subarray(0, bytes.length - 1))).toThrow();
        // A well-formed request carrying a proposal that is not: field 1 of the SignedProposal claims 100 bytes, has 2.
        const badInner = Buffer.from([0x1a, 0x04, 0x0a, 0x64, 0x01, 0x02]);
        expect(() => decodeProposalRequest(badInner)).toThrow(/runs past the end/);
        expect(() => gateway.EndorseRequest.deserializeBinary(badInner)).toThrow();
        expect(() => decodeSubmitRequest(badInner)).toThrow(/runs past the end/);
        // Wire types 3, 4 (groups), 6 and 7; an unterminated varint.
        for (const tag of [0x0b, 0x0c, 0x0e, 0x0f]) {
            expect(() => wireFields(Buffer.from([tag, 0x00]))).toThrow(/unsupported wire type/);
        }
        expect(() => decodeSignedRequest(Buffer.from([0x08, 0x80]))).toThrow(/varint/);
        expect(() => wireFields(Buffer.from([0x00, 0x01]))).toThrow(/field number 0/);
    });
});
