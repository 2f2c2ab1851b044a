// SPDX-License-Identifier: Apache-2.0
/**
 * Durability: the devnet runs as a child process (the CLI) serving the ledgerwork chaincode deployed from its
 * folder; it is SIGKILLed in the middle of a stream of submissions and restarted on the same directory. Every
 * transaction whose commit the client saw is still there, none twice, and the block hash chain is intact.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { common } from '@hyperledger/fabric-protos';
import { BlockStore, type ConnectionSettings } from '../src';
import { defined } from '../src/defined';
import { connectGateway, tempDir } from './support/client';
import { exited, firstLine, spawnCli } from './support/spawn';
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

/** Runs the CLI to completion. */
function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawnCli(args);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    return new Promise((resolve) => {
        child.once('exit', (code) => { resolve({ code, stdout, stderr }); });
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

        // The killed devnet left its pid and connection files: `down` recognises them as stale and removes them.
        expect(existsSync(path.join(dir, 'devnet.pid'))).toBe(true);
        const down = await runCli(['down', '--dir', dir]);
        expect(down.stdout).toContain('no devnet running');
        expect(existsSync(path.join(dir, 'devnet.pid'))).toBe(false);
        expect(existsSync(path.join(dir, 'connection.json'))).toBe(false);

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
        // Two devnet starts (each org's chaincode instance loading) and a stream of commits: generous under load.
    }, 240_000);

    it('never signals a process that reused a dead devnet\'s pid', async () => {
        const dir = tempDir('devnet-stale-');
        mkdirSync(dir, { recursive: true });
        const innocent = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 600_000)'], { stdio: 'ignore' });
        children.push(innocent);
        const innocentPid = defined(innocent.pid);
        // The record a devnet that started at another time left behind, its pid now taken by an unrelated process.
        writeFileSync(path.join(dir, 'devnet.pid'), JSON.stringify({ pid: innocentPid, started: 'stat:1' }));
        writeFileSync(path.join(dir, 'connection.json'), '{}');
        const down = await runCli(['down', '--dir', dir]);
        expect(down.code).toBe(0);
        expect(down.stdout).toContain('no devnet running');
        expect(innocent.exitCode).toBeNull();
        expect(innocent.signalCode).toBeNull();
        expect(() => process.kill(innocentPid, 0)).not.toThrow();
        expect(existsSync(path.join(dir, 'devnet.pid'))).toBe(false);
        expect(existsSync(path.join(dir, 'connection.json'))).toBe(false);
        const env = await runCli(['env', '--dir', dir]);
        expect(env.code).toBe(1);
        expect(env.stderr).toContain('no devnet running');
        // A legacy or unreadable pid file is not trusted either.
        writeFileSync(path.join(dir, 'devnet.pid'), String(innocentPid));
        expect((await runCli(['down', '--dir', dir])).stdout).toContain('no devnet running');
        expect(() => process.kill(innocentPid, 0)).not.toThrow();
    }, 180_000);
});
