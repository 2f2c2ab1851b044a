// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// The chaincode runtime first: loading it quiets fabric-shim's loggers before the contracts' decorators log.
import { CHAINCODE_DIR } from '../support/chaincodeRuntime';
import { startDevnet } from '../../network/devnet/src';
import type { ConnectionSettings, RunningDevnet } from '../../network/devnet/src';
import { contracts } from '../../chaincode/src';
import { LedgerworkClient, connectGateway } from '../../gateway/src/client';
import type { GatewayConnection } from '../../gateway/src/client';
import { main } from '../../gateway/src/cli/main';
import type { CliIo } from '../../gateway/src/cli/output';
import { exampleFile } from '../support/examples';
import { Executor } from '../../gateway/src/executor';
import { SandboxPool } from '../../gateway/src/sandbox';

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

/** Every file of a directory (none when it does not exist) with its content's length and first bytes. */
function snapshot(directory: string): Record<string, string> {
    if (!existsSync(directory)) {
        return {};
    }
    return Object.fromEntries(readdirSync(directory).map((name) => [name, readFileSync(path.join(directory, name)).toString('base64')]));
}

describe('ledgerwork CLI: failures a user meets', () => {
    let net: RunningDevnet;
    let admin: ConnectionSettings;
    let user: ConnectionSettings;
    let other: ConnectionSettings;
    const connections: GatewayConnection[] = [];

    beforeAll(async () => {
        net = await startDevnet({ dir: path.join(work, 'devnet'), orgs: 2, batchTimeoutMs: 50, chaincodes: [{ name: 'ledgerwork', folder: CHAINCODE_DIR, contracts }] });
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

    it('a refused publish leaves the live job and its files untouched and writes nothing (13.1)', async () => {
        const store = path.join(work, 'store-refused');
        const args = ['job', 'publish', '--id', 'base-1', '--program', exampleFile('primes'), '--range', '0:100', '--tasks', '4', '--reward', '1', '--store', store];
        expect((await cli(args, user)).code).toBe(0);
        const before = snapshot(store);
        expect(Object.keys(before)).toHaveLength(4);
        const again = await cli(args, user);
        expect(again.code).toBe(1);
        expect(again.stderr).toMatch(/^error ALREADY_EXISTS: job base-1 exists and is open: choose another --id/);
        expect(snapshot(store)).toEqual(before);
        // Refused by the chaincode (no funds for 5 more): its bundles are removed again.
        const poor = await cli(['job', 'publish', '--id', 'base-2', '--program', exampleFile('primes'), '--range', '0:100', '--tasks', '5', '--reward', '1000', '--store', store], user);
        expect(poor.code).toBe(1);
        expect(poor.stderr).toMatch(/^error INSUFFICIENT_FUNDS: /);
        expect(snapshot(store)).toEqual(before);
    });

    it('an interrupted publish is resumed by the same command (13.2)', async () => {
        const store = path.join(work, 'store-resume');
        const account = (await cli(['whoami', '--account'], other)).stdout.trim();
        expect((await cli(['mint', '3', '--account', account], admin)).code).toBe(0);
        const args = ['job', 'publish', '--id', 'resumable', '--program', exampleFile('primes'), '--range', '0:100', '--tasks', '5', '--reward', '1', '--batch', '2', '--store', store, '--json'];
        const stopped = await cli(args, other);
        expect(stopped.code).toBe(1);
        const error = json<{ error: { code: string; message: string } }>(stopped.stderr).error;
        expect(error.code).toBe('INSUFFICIENT_FUNDS');
        expect(error.message).toContain('job resumable has 2 of 5 tasks on the ledger; run the same publish command again (with --id resumable)');
        // Only the accepted batch's bundles are there.
        expect(Object.keys(snapshot(store))).toHaveLength(2);
        expect((await cli(['mint', '10', '--account', account], admin)).code).toBe(0);
        const resumed = await cli(args.filter((a) => a !== '--json'), other);
        expect(resumed.code).toBe(0);
        expect(resumed.stderr).toContain('resumed job resumable: 2 of 5 tasks were already on the ledger');
        const status = json<{ state: string; published: number }>((await cli(['job', 'status', 'resumable', '--json'], other)).stdout);
        expect(status).toMatchObject({ state: 'open', published: 5 });
        expect(Object.keys(snapshot(store))).toHaveLength(5);
        // Other inputs under the same id are not a resume.
        const different = await cli(['job', 'publish', '--id', 'resumable', '--program', exampleFile('primes'), '--range', '0:90', '--tasks', '5', '--reward', '1', '--store', store], other);
        expect(different.code).toBe(1);
        expect(different.stderr).toContain('ALREADY_EXISTS');
    });

    it('checks limits, programs, ids, stores, shards and ranges before any work (13.7–13.11)', async () => {
        const store = path.join(work, 'store-checks');
        const base = ['job', 'publish', '--reward', '1', '--store', store, '--json'];
        const primes = exampleFile('primes');
        const garbage = path.join(work, 'garbage.wasm');
        const empty = path.join(work, 'empty.wasm');
        writeFileSync(garbage, randomBytes(4096));
        writeFileSync(empty, '');
        const cases: [string[], number, string][] = [
            [['--id', 'huge', '--program', primes, '--range', '0:2000000000', '--tasks', '1000000000'], 1, 'LIMIT_EXCEEDED'],
            [['--id', 'garbage', '--program', garbage, '--range', '0:10', '--tasks', '2'], 2, 'INVALID_INPUT'],
            [['--id', 'empty', '--program', empty, '--range', '0:10', '--tasks', '2'], 2, 'INVALID_INPUT'],
            [['--id', 'x'.repeat(10_000), '--program', primes, '--range', '0:10', '--tasks', '2'], 2, 'USAGE'],
            [['--id', 'a/b', '--program', primes, '--range', '0:10', '--tasks', '2'], 2, 'USAGE'],
            [['--id', 'nobody', '--program', primes, '--range', '0:10', '--tasks', '2', '--shards', 'NobodyMSP'], 2, 'INVALID_INPUT'],
            [['--id', 'r00', '--program', primes, '--range', '0:0', '--tasks', '1'], 2, 'USAGE'],
            [['--id', 'r03', '--program', primes, '--range', '0:3', '--tasks', '10'], 2, 'USAGE'],
            [['--id', 'skills', '--program', primes, '--range', '0:10', '--tasks', '2', '--skills', ',,'], 2, 'USAGE'],
        ];
        for (const [args, exit, code] of cases) {
            const started = Date.now();
            const run = await cli([...base, ...args], user);
            expect({ args: args.slice(0, 2), exit: run.code, code: json<{ error: { code: string } }>(run.stderr).error.code }).toEqual({ args: args.slice(0, 2), exit, code });
            expect(Date.now() - started).toBeLessThan(20_000);
        }
        for (const bad of ['/etc/passwd/x', '/dev/null', '/proc/nope']) {
            const run = await cli(['job', 'publish', '--id', 'stores', '--program', primes, '--range', '0:10', '--tasks', '2', '--reward', '1', '--store', bad, '--json'], user);
            expect({ bad, exit: run.code, code: json<{ error: { code: string } }>(run.stderr).error.code }).toEqual({ bad, exit: 2, code: 'STORE' });
        }
        const out = await cli(['job', 'result', 'base-1', '--out', '/etc/passwd/x'], user);
        expect(out.code).toBe(2);
        expect(out.stderr).toContain('--out /etc/passwd/x cannot be written');
        expect(snapshot(store)).toEqual({});
    });

    it('refuses `devnet up` on a directory whose devnet runs, before touching its files', async () => {
        const dir = path.join(work, 'busy-devnet');
        mkdirSync(dir);
        // The record a running devnet leaves: its pid and its start time (this test's own process stands in for it).
        const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
        const started = `stat:${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''}`;
        const files = { 'devnet.pid': JSON.stringify({ pid: process.pid, started }), 'connection.json': '{"orgs":[]}', 'chaincodes.json': '[]', 'devnet.log': 'log\n' };
        for (const [name, content] of Object.entries(files)) {
            writeFileSync(path.join(dir, name), content);
        }
        const run = await cli(['devnet', 'up', '--dir', dir, '--chaincode', 'other=./chaincode', '--detach'], user);
        expect(run.code).toBe(2);
        expect(run.stderr).toContain(`a devnet (pid ${process.pid}) is already running in ${dir}`);
        expect(snapshot(dir)).toEqual(Object.fromEntries(Object.entries(files).map(([name, content]) => [name, Buffer.from(content).toString('base64')])));
    });

    it('names the positional ID a subcommand needs', async () => {
        const register = await cli(['executor', 'register'], user);
        expect(register.code).toBe(2);
        expect(register.stderr).toMatch(/^error: executor register needs an ID: ledgerwork executor register ID\n/);
        expect((await cli(['job', 'status'], user)).stderr).toMatch(/^error: job status needs an ID: ledgerwork job status ID\n/);
    });

    it('refuses checkpoint and state paths it cannot use with exit 2, without spinning (13.10)', async () => {
        for (const [flag, where] of [['--checkpoint', '/proc/nope/x'], ['--state-dir', '/etc/passwd/x'], ['--checkpoint', '/etc']]) {
            const run = await cli(['executor', 'run', '--id', 'paths-1', '--register', flag ?? '', where ?? '', '--json'], user);
            expect({ where, exit: run.code, code: json<{ error: { code: string } }>(run.stderr).error.code }).toEqual({ where, exit: 2, code: 'CONFIG' });
        }
    });

    it('`job watch` on a ranked job keeps waiting while every leaf is filed but the target (h, 1) is not, then ends 0 with the result there', async () => {
        const connection = connectGateway({ ...other, chaincodeName: 'ledgerwork' });
        connections.push(connection);
        const worker = new LedgerworkClient(connection.network);
        // One passive executor holds all four ranks (3 tasks: M = 4, rank 4 is beyond N and holds ZERO).
        await worker.registerExecutor('watch-ranks', { skills: ['watch-only'], mode: 'passive', capacity: 4 });
        const account = (await cli(['whoami', '--account'], user)).stdout.trim();
        expect((await cli(['mint', '100', '--account', account], admin)).code).toBe(0);
        const published = await cli(
            ['job', 'publish', '--id', 'watch-target', '--program', exampleFile('primes'), '--merge', exampleFile('primes'), '--range', '0:300', '--tasks', '3', '--reward', '1', '--merge-reward', '1', '--shards', 'Org2MSP', '--skills', 'watch-only', '--key-scope', 'job', '--store', path.join(work, 'store')],
            user,
        );
        expect(published.code).toBe(0);
        const pool = new SandboxPool({ size: 1 });
        try {
            const executor = new Executor({ executorId: 'watch-ranks', ledger: worker, sandbox: pool, binding: { channel: other.channelName, chaincode: 'ledgerwork' }, pollMs: 100 });
            // Ranks 1 and 3 file leaves (1, 1) and (1, 3); rank 2 files (2, 1) with its leaf (1, 2): every leaf is filed.
            for (const rank of [1, 3, 2]) {
                expect((await executor.runRank('watch-target', rank)).kind).toBe('filed');
            }
            const tree = await worker.getMergeTree('watch-target');
            expect(tree.filed.filter((f) => f.y === 1 && f.kind === 'leaf').map((f) => f.x).sort()).toEqual([1, 2, 3]);
            expect(tree.missing.map((n) => `${n.y},${n.x}`).sort()).toEqual(['1,4', '2,2', '3,1']);

            let ended = false;
            const watching = cli(['job', 'watch', 'watch-target', '--poll', '100ms', '--json'], user).finally(() => (ended = true));
            await new Promise((resolve) => setTimeout(resolve, 2000));
            expect(ended).toBe(false); // leaves done is not done: (3, 1) is not filed
            // Rank 4: ZERO leaf, pass-through (2, 2), then the target (3, 1).
            expect(await executor.runRank('watch-target', 4)).toMatchObject({ kind: 'filed', last: { y: 3, x: 1 } });
            const watched = await watching;
            expect(watched.code).toBe(0);
            expect(json<{ state: string; merge: { filed: number; numbers: number } }>(watched.stdout)).toMatchObject({ state: 'completed', merge: { filed: 7, numbers: 7 } });
            // `job watch X && job result X` holds: the result is there the moment watch returns.
            const result = await cli(['job', 'result', 'watch-target', '--json'], user);
            expect(result.code).toBe(0);
        } finally {
            await pool.close();
        }
    });
});
