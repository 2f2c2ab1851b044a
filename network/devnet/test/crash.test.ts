// SPDX-License-Identifier: Apache-2.0
/**
 * Durability: the devnet runs as a child process (the CLI) serving the ledgerwork chaincode deployed from its
 * folder; it is SIGKILLed in the middle of a stream of submissions and restarted on the same directory. Every
 * transaction whose commit the client saw is still there, none twice, and the block hash chain is intact.
 */
import { appendFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { common } from '@hyperledger/fabric-protos';
import { BlockStore, type ConnectionSettings } from '../src';
import { connectGateway, tempDir } from './support/client';
import { firstLine, spawnCli } from './support/spawn';
import type { ChildProcess } from 'node:child_process';

interface Started {
    readonly child: ChildProcess;
    readonly settings: ConnectionSettings;
}

async function start(dir: string, extra: readonly string[] = []): Promise<Started> {
    const child = spawnCli(['up', '--dir', dir, '--port', '0', '--json', '--batch-timeout', '10', ...extra]);
    const line = await firstLine(child);
    const parsed = JSON.parse(line) as { orgs: ConnectionSettings[] };
    const settings = parsed.orgs[0];
    if (settings === undefined) {
        throw new Error(`no org settings in ${line}`);
    }
    return { child, settings };
}

function exited(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
        } else {
            child.once('exit', () => {
                resolve();
            });
        }
    });
}

function txIdsOf(blocks: readonly InstanceType<typeof common.Block>[]): string[] {
    return blocks.flatMap((block) => (block.getData()?.getDataList_asU8() ?? []).map((envelope) => {
        const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelope).getPayload_asU8());
        return common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array()).getTxId();
    }));
}

describe('devnet durability', () => {
    const children: ChildProcess[] = [];
    afterAll(() => {
        for (const child of children) {
            child.kill('SIGKILL');
        }
    });

    it('loses no committed transaction across SIGKILL and restart, and keeps the hash chain', async () => {
        const dir = tempDir('devnet-crash-');
        const chaincode = path.resolve(__dirname, '../../../chaincode');
        const first = await start(dir, ['--chaincode', `ledgerwork=${chaincode}`]);
        children.push(first.child);
        const client = connectGateway(first.settings);
        const contract = client.gateway.getNetwork('mychannel').getContract('ledgerwork');
        const committed: { txId: string; executorId: string }[] = [];
        let stop = false;
        let sequence = 0;
        const worker = async (): Promise<void> => {
            while (!stop) {
                const executorId = `crash-${sequence++}`;
                try {
                    const submitted = await contract.submitAsync('executors:Register', { arguments: [executorId, '{}'] });
                    const status = await submitted.getStatus();
                    if (status.successful) {
                        committed.push({ txId: submitted.getTransactionId(), executorId });
                    }
                } catch {
                    return;
                }
            }
        };
        const workers = [worker(), worker(), worker(), worker()];
        while (committed.length < 30) {
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
        first.child.kill('SIGKILL');
        stop = true;
        await exited(first.child);
        await Promise.all(workers);
        client.close();
        expect(committed.length).toBeGreaterThanOrEqual(30);

        // A torn append (a crash mid-write) at the end of the block file is discarded on restart.
        const blockFile = path.join(dir, 'ledger', 'mychannel.blocks');
        const sizeBefore = statSync(blockFile).size;
        appendFileSync(blockFile, Buffer.from([0, 0, 1, 0, 9, 9, 9]));

        const second = await start(dir);
        children.push(second.child);
        expect(statSync(blockFile).size).toBe(sizeBefore);
        const client2 = connectGateway(second.settings);
        const contract2 = client2.gateway.getNetwork('mychannel').getContract('ledgerwork');
        for (const { executorId } of committed) {
            const reply = JSON.parse(new TextDecoder().decode(await contract2.evaluateTransaction('queries:GetExecutor', executorId))) as { executor: { id: string } };
            expect(reply.executor.id).toBe(executorId);
        }
        // The restarted devnet keeps serving: a new transaction commits after the recovered blocks.
        await contract2.submitTransaction('executors:Register', 'after-restart', '{}');
        client2.close();
        second.child.kill('SIGTERM');
        await exited(second.child);

        const { blocks, discardedBytes } = BlockStore.open(blockFile);
        expect(discardedBytes).toBe(0);
        const txIds = txIdsOf(blocks);
        expect(new Set(txIds).size).toBe(txIds.length);
        for (const { txId } of committed) {
            expect(txIds).toContain(txId);
        }
    });
});
