// SPDX-License-Identifier: Apache-2.0
/**
 * The peer's ChaincodeMessages as they go to a chaincode, encoded by hand (protoWriter.ts): every simulation sends
 * several, and google-protobuf's generic writer cost more than the rest of the hand-over.
 */
import { ProtoMessage } from './protoWriter';
import type { ChaincodeMessage, TimestampMessage } from './runtime';

/** The bytes google-protobuf's `serializeBinary` writes for `message`. */
export function encodeChaincodeMessage(message: ChaincodeMessage): Buffer {
    // peer.ChaincodeMessage: type (1), timestamp (2: seconds, nanos), payload (3), txid (4), proposal (5: proposal_bytes,
    // signature), chaincode_event (6: chaincode_id, tx_id, event_name, payload), channel_id (7).
    const out = new ProtoMessage().varint(1, message.getType());
    // google-protobuf's well-known types have no typings here (runtime.ts).
    const timestamp = message.getTimestamp() as TimestampMessage | undefined;
    if (timestamp !== undefined) {
        out.message(2, new ProtoMessage().varint(1, timestamp.getSeconds()).varint(2, timestamp.getNanos()));
    }
    out.bytes(3, message.getPayload_asU8()).string(4, message.getTxid());
    const proposal = message.getProposal();
    if (proposal !== undefined) {
        out.message(5, new ProtoMessage().bytes(1, proposal.getProposalBytes_asU8()).bytes(2, proposal.getSignature_asU8()));
    }
    const event = message.getChaincodeEvent();
    if (event !== undefined) {
        out.message(6, new ProtoMessage().string(1, event.getChaincodeId()).string(2, event.getTxId()).string(3, event.getEventName()).bytes(4, event.getPayload_asU8()));
    }
    return out.string(7, message.getChannelId()).encode();
}
