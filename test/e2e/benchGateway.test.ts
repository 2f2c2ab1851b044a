// SPDX-License-Identifier: Apache-2.0
/**
 * `bench:devnet --gateway`: the assets workload against a network that is already running, described by the variables
 * fabric-samples' applications read — how a real Fabric network is measured with the same clients as the devnet. Here
 * the running network is a devnet started by the test, reached through Org2's settings.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDevnet, type RunningDevnet } from '@ledgerwork/devnet';

const REPO = path.resolve(__dirname, '../..');
const FIXTURE = path.join(REPO, 'network/devnet/test/fixtures/asset-transfer-basic');
const SETTINGS = ['PEER_ENDPOINT', 'PEER_HOST_ALIAS', 'TLS_CERT_PATH', 'MSP_ID', 'CERT_PATH', 'CERT_DIRECTORY_PATH', 'KEY_PATH', 'KEY_DIRECTORY_PATH', 'CHANNEL_NAME', 'CHAINCODE_NAME'];

interface Run {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs the benchmark with `args`, the runner's environment without any gateway settings, and then `settings`. */
function bench(args: readonly string[], settings: Readonly<Record<string, string>>): Promise<Run> {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTINGS.includes(name)));
    return new Promise((resolve) => {
        execFile(process.execPath, ['-r', './scripts/register-ts.js', 'scripts/bench-devnet.ts', ...args], { cwd: REPO, env: { ...env, ...settings }, timeout: 180_000 },
            (error, stdout, stderr) => {
                resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
            });
    });
}

/** The cells of the result row for `label`. */
function row(output: string, label: string): string[] {
    const line = output.split('\n').find((l) => l.startsWith(`| ${label} |`));
    if (line === undefined) {
        throw new Error(`no row for ${label} in:\n${output}`);
    }
    return line.split('|').slice(1, -1).map((c) => c.trim());
}

describe('bench:devnet --gateway', () => {
    let dir: string;
    let net: RunningDevnet;
    let settings: Record<string, string>;

    beforeAll(async () => {
        dir = mkdtempSync(path.join(tmpdir(), 'bench-gateway-'));
        net = await startDevnet({ dir, batchTimeoutMs: 20, chaincodes: [{ name: 'basic', folder: FIXTURE }] });
        const org2 = net.connection(2);
        settings = {
            PEER_ENDPOINT: org2.peerEndpoint,
            PEER_HOST_ALIAS: org2.peerHostAlias,
            TLS_CERT_PATH: org2.tlsCertPath,
            MSP_ID: org2.mspId,
            CERT_PATH: org2.certPath,
            KEY_PATH: org2.keyPath,
            CHANNEL_NAME: org2.channelName,
        };
    });

    afterAll(async () => {
        await net.stop();
        rmSync(dir, { recursive: true, force: true });
    });

    it('measures the running network with the same closed loop, run after run on the same state', async () => {
        const label = `${settings['PEER_ENDPOINT'] ?? ''} (running)`;
        const heightBefore = net.devnet.height;
        for (let run = 0; run < 2; run++) {
            const result = await bench(['--gateway', '--assets-clients', '4', '--seconds', '2', '--warmup', '1'], settings);
            expect(result).toMatchObject({ code: 0 });
            expect(result.stdout).toContain('chaincode basic on mychannel, every client as Org2MSP');
            const [, clients, txPerSecond, , , invalid, failed, clientCpu, devnetCpu] = row(result.stdout, label);
            expect(clients).toBe('4');
            expect(Number(txPerSecond)).toBeGreaterThan(0);
            // The second run creates assets again on the state the first left: its ids must be new ones.
            expect([invalid, failed]).toEqual(['0', '0']);
            expect(Number(clientCpu)).toBeGreaterThan(0);
            expect(devnetCpu).toBe('–');
        }
        expect(net.devnet.height).toBeGreaterThan(heightBefore);
    }, 240_000);

    it('names the settings it is missing, and takes no devnet options', async () => {
        const missing = await bench(['--gateway'], {});
        expect(missing.code).not.toBe(0);
        expect(missing.stderr).toMatch(/PEER_ENDPOINT/);
        expect(missing.stderr).toMatch(/MSP_ID/);
        const against = await bench(['--gateway', '--against', REPO], settings);
        expect(against.code).not.toBe(0);
        expect(against.stderr).toContain('--gateway runs the assets workload against a running network: it takes neither --workload ledgerwork, --against nor --profile');
    }, 120_000);
});
