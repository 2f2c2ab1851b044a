// SPDX-License-Identifier: Apache-2.0
/** Who endorsed a committed transaction, read from its block. */
import { common, msp, peer } from '@hyperledger/fabric-protos';
import type { RunningDevnet } from '../../src';

/** The MSP ids of the endorsers of transaction `txId` in block `blockNumber`, sorted. */
export async function endorsingMspIds(net: RunningDevnet, blockNumber: bigint | number, txId: string): Promise<string[]> {
    const block = common.Block.deserializeBinary((await net.devnet.blockBytes(Number(blockNumber))) ?? new Uint8Array());
    for (const bytes of block.getData()?.getDataList_asU8() ?? []) {
        const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(bytes).getPayload_asU8());
        if (common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array()).getTxId() !== txId) {
            continue;
        }
        const action = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0];
        const endorsed = peer.ChaincodeActionPayload.deserializeBinary(action?.getPayload_asU8() ?? new Uint8Array()).getAction();
        return (endorsed?.getEndorsementsList() ?? []).map((e) => msp.SerializedIdentity.deserializeBinary(e.getEndorser_asU8()).getMspid()).sort();
    }
    throw new Error(`transaction ${txId} is not in block ${blockNumber}`);
}
