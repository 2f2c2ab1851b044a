// SPDX-License-Identifier: Apache-2.0
/**
 * A devnet restarted on its ledger directory answers from its durable state and history, and rebuilds its ledger
 * indexes from the block file when they are lost or name blocks the file no longer holds (the block file is the
 * source of truth).
 */
import { rmSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { startDevnet } from '../src';
import { openLedger } from '../src/durableLedger';
import { connectGateway, tempDir } from './support/client';

const FOLDER = path.resolve(__dirname, 'fixtures/asset-transfer-basic');
const utf8 = new TextDecoder();

interface Seen {
    readonly height: number;
    readonly owner: string;
    readonly history: readonly string[];
}

interface Status {
    readonly txId: string;
    readonly code: number;
    readonly blockNumber: number;
}

/**
 * Starts the devnet on `dir`, optionally submits transactions (their statuses are added to `statuses`), and reports
 * what it answers. Without transactions to submit, it checks that the devnet answers each of `statuses` as it was.
 */
async function session(dir: string, submit: readonly (readonly string[])[] = [], statuses: Status[] = []): Promise<Seen> {
    const net = await startDevnet({ dir, batchTimeoutMs: 20, chaincodes: [{ name: 'basic', folder: FOLDER }] });
    const client = connectGateway(net.connection(1));
    try {
        const basic = client.gateway.getNetwork('mychannel').getContract('basic');
        for (const [name, ...args] of submit) {
            const transaction = await basic.submitAsync(name ?? '', { arguments: args });
            const status = await transaction.getStatus();
            statuses.push({ txId: transaction.getTransactionId(), code: status.code, blockNumber: Number(status.blockNumber) });
        }
        // Statuses of transactions an earlier run committed come from the transaction index.
        for (const earlier of submit.length === 0 ? statuses : []) {
            expect({ txId: earlier.txId, ...(await net.devnet.commitStatus(earlier.txId)) }).toEqual(earlier);
        }
        const asset = JSON.parse(utf8.decode(await basic.evaluateTransaction('ReadAsset', 'car'))) as { Owner: string };
        const history = JSON.parse(utf8.decode(await basic.evaluateTransaction('GetAssetHistory', 'car'))) as { asset: { Owner: string } }[];
        return { height: net.devnet.height, owner: asset.Owner, history: history.map((h) => h.asset.Owner) };
    } finally {
        client.close();
        await net.stop();
    }
}

describe('devnet restart', () => {
    it('answers from its durable state, and rebuilds lost or inconsistent indexes from the block file', async () => {
        const dir = tempDir();
        const submitted: Status[] = [];
        const first = await session(dir, [['CreateAsset', 'car', 'red', '1', 'Ann', '10'], ['TransferAsset', 'car', 'Bob'], ['TransferAsset', 'car', 'Cy']], submitted);
        expect(submitted.map((s) => s.code)).toEqual([0, 0, 0]);
        expect(first.owner).toBe('Cy');
        expect(first.history).toEqual(['Cy', 'Bob', 'Ann']);

        // Restarted: nothing to catch up, same answers.
        const ledgerDir = path.join(dir, 'ledger');
        const peek = await openLedger(ledgerDir, 'mychannel');
        expect(peek.pending).toHaveLength(0);
        expect(peek.ledger.height).toBe(first.height);
        const lastBlock = await peek.ledger.blockLocation(first.height - 1);
        peek.store.close();
        await peek.ledger.close();
        expect(await session(dir, [], submitted)).toEqual(first);

        // The indexes lost: rebuilt from the blocks.
        rmSync(path.join(ledgerDir, 'mychannel.db'), { recursive: true });
        expect(await session(dir)).toEqual(first);

        // The block file lost its last block (the transfer to Cy): indexes ahead of it are dropped and rebuilt.
        truncateSync(path.join(ledgerDir, 'mychannel.blocks'), lastBlock?.offset ?? 0);
        expect(await session(dir)).toEqual({ height: first.height - 1, owner: 'Bob', history: ['Bob', 'Ann'] });
    }, 180_000);
});
