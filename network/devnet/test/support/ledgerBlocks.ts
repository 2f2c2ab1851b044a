// SPDX-License-Identifier: Apache-2.0
/** Commits blocks of hand-made transactions to a durable ledger as the committer does, without envelopes. */
import { common } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderHash } from '../../src/blockStore';
import type { OpenedLedger } from '../../src/durableLedger';
import type { OrderedTransaction, TxValidationCode } from '../../src/ledger';
import type { BlockLocation } from '../../src/ledgerDb';

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
    const { location, headerHash } = await appendBlock(opened, validated.blockNumber, txs, codes, true);
    if (!crashBeforeCommit) {
        await opened.ledger.commit(validated, { location, headerHash, codes });
    }
    return codes;
}

/**
 * Validates the next blocks together ({@link DurableLedger.validateBlocks}), appends them with one fsync and commits
 * them one after the other, as the committer commits blocks that queued up. Returns each block's codes.
 */
export async function commitGroup(opened: OpenedLedger, blocks: readonly (readonly OrderedTransaction[])[]): Promise<(readonly number[])[]> {
    const validated = await opened.ledger.validateBlocks(blocks.map((transactions) => ({ transactions })));
    const appended = [];
    for (const [i, block] of validated.entries()) {
        const codes = block.codes.map((code) => CODE_NUMBERS[code]);
        appended.push({ ...(await appendBlock(opened, block.blockNumber, block.transactions, codes, i === validated.length - 1)), codes });
    }
    for (const [i, block] of validated.entries()) {
        await opened.ledger.commit(block, appended[i] ?? { location: { offset: 0, length: 0 }, headerHash: Buffer.alloc(0), codes: [] });
    }
    return appended.map((block) => block.codes);
}

async function appendBlock(opened: OpenedLedger, blockNumber: number, txs: readonly OrderedTransaction[], codes: readonly number[], sync: boolean): Promise<{ location: BlockLocation; headerHash: Buffer }> {
    const data = txs.map((tx) => Buffer.from(tx.txId));
    const header = new common.BlockHeader();
    header.setNumber(blockNumber);
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
    return { location: await opened.store.append(block, { sync }), headerHash: blockHeaderHash(header) };
}

/** Closes the block file and the indexes. */
export async function closeLedger(opened: OpenedLedger): Promise<void> {
    opened.store.close();
    await opened.ledger.close();
}
