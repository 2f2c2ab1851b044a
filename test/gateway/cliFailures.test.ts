// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// The devnet first: loading it quiets fabric-shim's loggers before the contracts' decorators log.
import { startDevnet } from '../../network/devnet/src';
import type { ConnectionSettings, RunningDevnet } from '../../network/devnet/src';
import { contracts } from '../../chaincode/src';
import { LedgerworkClient, connectGateway } from '../../gateway/src/client';
import type { GatewayConnection } from '../../gateway/src/client';
import { main } from '../../gateway/src/cli/main';
import type { CliIo } from '../../gateway/src/cli/output';
import { exampleFile } from '../support/examples';

/**
 * Failures a user meets, through the CLI in process against a devnet: configuration mistakes
 * answered with Fabric's codes and reported as exit 2 naming the setting; `whoami` for minting to
 * another identity; time enforced by `sweep` and by `job watch` (which ends on an abandoned job).
 */

const work = mkdtempSync(path.join(tmpdir(), 'lw-cli-failures-'));

interface Run {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

function envOf(settings: ConnectionSettings): Record<string, string> {
    return {
        PEER_ENDPOINT: settings.peerEndpoint,
        PEER_HOST_ALIAS: settings.peerHostAlias,
        TLS_CERT_PATH: settings.tlsCertPath,
        MSP_ID: settings.mspId,
        CERT_PATH: settings.certPath,
        KEY_PATH: settings.keyPath,
        CHANNEL_NAME: settings.channelName,
        CHAINCODE_NAME: 'ledgerwork',
    };
}

async function cli(argv: string[], settings: ConnectionSettings, env: Record<string, string> = {}): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
        stdout: (text) => (stdout += text),
        stderr: (text) => (stderr += text),
        stderrIsTTY: false,
        env: { ...envOf(settings), ...env },
        signal: new AbortController().signal,
        now: () => Date.now(),
        trapSignals: () => () => undefined,
    };
    const code = await main(argv, io);
    return { code, stdout, stderr };
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed view of the command's JSON output
function json<T>(text: string): T {
    return JSON.parse(text) as T;
}

describe('ledgerwork CLI: failures a user meets', () => {
    let net: RunningDevnet;
    let admin: ConnectionSettings;
    let user: ConnectionSettings;
    let other: ConnectionSettings;
    const connections: GatewayConnection[] = [];

    beforeAll(async () => {
        net = await startDevnet({ dir: path.join(work, 'devnet'), orgs: 2, batchTimeoutMs: 50, chaincodes: [{ name: 'ledgerwork', contracts }] });
        admin = net.connection(1, 'Admin');
        user = net.addUser(1, 'failures-user');
        other = net.addUser(2, 'failures-other');
    });
    afterAll(async () => {
        for (const c of connections) {
            c.close();
        }
        await net.stop();
        rmSync(work, { recursive: true, force: true });
    });

    it('reports configuration mistakes as exit 2 naming the setting to check, with Fabric\'s codes', async () => {
        const channel = await cli(['balance', '--json'], user, { CHANNEL_NAME: 'nochannel' });
        expect(channel.code).toBe(2);
        expect(json<{ error: { code: string; message: string } }>(channel.stderr).error).toMatchObject({ code: 'CONFIG', message: expect.stringContaining('CHANNEL_NAME') });
        const chaincode = await cli(['balance'], user, { CHAINCODE_NAME: 'basic' });
        expect(chaincode.code).toBe(2);
        expect(chaincode.stderr).toContain('no chaincode "basic" is defined on channel mychannel: check CHAINCODE_NAME');
        const msp = await cli(['balance'], user, { MSP_ID: 'NobodyMSP' });
        expect(msp.code).toBe(2);
        expect(msp.stderr).toContain('check MSP_ID');
        // Org1's certificate with Org2's key: the signature does not match the certificate.
        const key = await cli(['balance'], user, { KEY_PATH: other.keyPath });
        expect(key.code).toBe(2);
        expect(key.stderr).toContain('check that KEY_PATH holds the private key of the certificate in CERT_PATH');
    });

    it('the devnet answers those mistakes as a Fabric peer does', async () => {
        const codes: string[] = [];
        for (const settings of [{ ...user, channelName: 'nochannel' }, user]) {
            const connection = connectGateway({ ...settings, chaincodeName: 'ledgerwork' });
            connections.push(connection);
            try {
                await connection.network.getContract(settings === user ? 'basic' : 'ledgerwork', 'queries').evaluate('WhoAmI');
            } catch (err) {
                codes.push((err as Error).message);
            }
        }
        expect(codes).toEqual([
            '14 UNAVAILABLE: failed to get config for channel [nochannel]: could not get last config for channel nochannel',
            '9 FAILED_PRECONDITION: no peers available to evaluate chaincode basic in channel mychannel',
        ]);
    });

    it('whoami prints the account an admin mints to', async () => {
        const account = await cli(['whoami', '--account'], user);
        expect(account.code).toBe(0);
        expect(account.stdout).toMatch(/^[0-9a-f]{64}\n$/);
        const full = await cli(['whoami', '--json'], user);
        expect(json<{ account: string; mspId: string; isAdmin: boolean }>(full.stdout)).toEqual({ account: account.stdout.trim(), mspId: 'Org1MSP', isAdmin: false });
        const minted = await cli(['mint', '500', '--account', account.stdout.trim()], admin);
        expect(minted.code).toBe(0);
        expect(json<{ balance: string }>((await cli(['balance', '--json'], user)).stdout).balance).toBe('500');
        expect((await cli(['whoami'], admin)).stdout).toMatch(/^admin: +yes$/m);
    });

    it('sweeps an abandoned claim after its lease, and `job watch` ends an abandoned job at its deadline', async () => {
        const store = path.join(work, 'store');
        const published = await cli(['job', 'publish', '--id', 'abandoned', '--program', exampleFile('primes'), '--range', '0:100', '--tasks', '2', '--reward', '1', '--lease', '1s', '--deadline', '6s', '--store', store], user);
        expect(published.code).toBe(0);
        const connection = connectGateway({ ...other, chaincodeName: 'ledgerwork' });
        connections.push(connection);
        const worker = new LedgerworkClient(connection.network);
        await worker.registerExecutor('abandoner', { skills: [] });
        const claimed = await worker.claimTask('abandoned-1', 'abandoner');
        expect(claimed.state).toBe('claimed');
        await new Promise((resolve) => setTimeout(resolve, 1500));
        // Nobody but the sweep moves an expired claim.
        expect((await worker.getTask('abandoned-1')).state).toBe('claimed');
        const swept = await cli(['sweep', '--job', 'abandoned', '--json'], user);
        expect(swept.code).toBe(0);
        expect(json<{ leasesExpired: number }>(swept.stdout).leasesExpired).toBe(1);
        const task = await worker.getTask('abandoned-1');
        expect(task.state === 'published' || task.state === 'failed').toBe(true);
        expect(task.claim).toBeUndefined();

        const watched = await cli(['job', 'watch', 'abandoned', '--poll', '200ms', '--json'], user);
        expect(watched.code).toBe(1);
        expect(json<{ error: { code: string } }>(watched.stderr).error.code).toBe('JOB_EXPIRED');
        const nothing = await cli(['sweep'], user);
        expect(nothing).toMatchObject({ code: 0, stdout: '0 expired claims settled, 0 jobs expired\n' });
    }, 60_000);
});
