// SPDX-License-Identifier: Apache-2.0
/** Commits blocks of hand-made transactions to a durable ledger as the committer does, without envelopes. */
import { common } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderHash } from '../../src/blockStore';
import type { OpenedLedger } from '../../src/durableLedger';
import type { OrderedTransaction, TxValidationCode } from '../../src/ledger';

const CODE_NUMBERS: Readonly<Record<TxValidationCode, number>> = {
    VALID: 0,
    DUPLICATE_TXID: 2,
    ENDORSEMENT_POLICY_FAILURE: 10,
    MVCC_READ_CONFLICT: 11,
    PHANTOM_READ_CONFLICT: 12,
};

/**
 * Validates the next block, appends it (its data: the transaction ids) to the block file and, unless
 * `crashBeforeCommit`, commits it. Returns the peer.TxValidationCode numbers.
 */
export async function commitNext(opened: OpenedLedger, txs: readonly OrderedTransaction[], crashBeforeCommit = false): Promise<readonly number[]> {
    const validated = await opened.ledger.validate(txs);
    const codes = validated.codes.map((code) => CODE_NUMBERS[code]);
    const data = txs.map((tx) => Buffer.from(tx.txId));
    const header = new common.BlockHeader();
    header.setNumber(validated.blockNumber);
    header.setPreviousHash(opened.store.previousHash);
    header.setDataHash(blockDataHash(data));
    const body = new common.BlockData();
    body.setDataList(data);
    const metadata = new common.BlockMetadata();
    metadata.setMetadataList([new Uint8Array(), new Uint8Array(), Uint8Array.from(codes), new Uint8Array(), new Uint8Array()]);
    const block = new common.Block();
    block.setHeader(header);
    block.setData(body);
    block.setMetadata(metadata);
    const location = await opened.store.append(block);
    if (!crashBeforeCommit) {
        await opened.ledger.commit(validated, { location, headerHash: blockHeaderHash(header), codes });
    }
    return codes;
}

/** Closes the block file and the indexes. */
export async function closeLedger(opened: OpenedLedger): Promise<void> {
    opened.store.close();
    await opened.ledger.close();
}
