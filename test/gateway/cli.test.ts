// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
// The chaincode runtime first: loading it quiets fabric-shim's loggers before the contracts' decorators log.
import { CHAINCODE_DIR } from '../support/chaincodeRuntime';
import { startDevnet } from '../../network/devnet/src';
import type { ConnectionSettings, RunningDevnet } from '../../network/devnet/src';
import { contracts } from '../../chaincode/src';
import { main } from '../../gateway/src/cli/main';
import { Progress } from '../../gateway/src/cli/output';
import type { CliIo } from '../../gateway/src/cli/output';
import { exampleFile } from '../support/examples';

/**
 * The `ledgerwork` CLI run in process (`main(argv)` with captured output) against a devnet over
 * gRPC/TLS: help and usage errors, credits, executors, a ranked primes job published, worked by
 * `executor run` in two orgs, and read back; exit codes 0/1/2/3.
 */

const work = mkdtempSync(path.join(tmpdir(), 'lw-cli-'));


interface Run {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

function envOf(settings: ConnectionSettings | undefined): Record<string, string> {
    if (settings === undefined) {
        return {};
    }
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

async function cli(argv: string[], settings?: ConnectionSettings, options: { signal?: AbortSignal; tty?: boolean } = {}): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
        stdout: (text) => (stdout += text),
        stderr: (text) => (stderr += text),
        stderrIsTTY: options.tty ?? false,
        env: envOf(settings),
        signal: options.signal ?? new AbortController().signal,
        now: () => Date.now(),
        trapSignals: () => () => undefined,
    };
    const code = await main(argv, io);
    return { code, stdout, stderr };
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed view of the command's JSON output
function json<T>(run: Run): T {
    return JSON.parse(run.stdout) as T;
}

describe('ledgerwork CLI: help, usage and progress (no network)', () => {
    it('prints the overview and per-command help with examples', async () => {
        const bare = await cli([]);
        expect(bare.code).toBe(2);
        expect(bare.stderr).toContain('usage: ledgerwork <command>');
        const overview = await cli(['--help']);
        expect(overview.code).toBe(0);
        expect(overview.stdout).toMatch(/executor\s+register, inspect and run executors/);
        const job = await cli(['help', 'job']);
        expect(job.code).toBe(0);
        expect(job.stdout).toContain('ledgerwork job publish --program FILE.wasm');
        expect(job.stdout).toContain('examples:');
        expect((await cli(['mint', '--help'])).stdout).toContain('ledgerwork mint AMOUNT');
    });

    it('exits 2 with the usage line on usage and configuration errors', async () => {
        const unknown = await cli(['frobnicate']);
        expect(unknown).toMatchObject({ code: 2, stdout: '' });
        expect(unknown.stderr).toContain('unknown command "frobnicate"');
        const badFlag = await cli(['job', 'status', 'j1', '--bogus', '1']);
        expect(badFlag.code).toBe(2);
        expect(badFlag.stderr).toMatch(/^error: unknown option --bogus\nusage:\n {2}ledgerwork job publish/);
        const missingValue = await cli(['task', 'list', '--job']);
        expect(missingValue.stderr).toContain('--job needs a value');
        const badAmount = await cli(['mint', '12.5'], undefined);
        expect(badAmount.code).toBe(2);
        const noSettings = await cli(['balance']);
        expect(noSettings.code).toBe(2);
        expect(noSettings.stderr).toContain('missing connection settings: CERT_PATH or CERT_DIRECTORY_PATH');
        const asJson = await cli(['job', 'publish', '--json', '--reward', '1', '--program', path.join(work, 'missing.wasm')]);
        expect(asJson.code).toBe(2);
        expect(asJson.stdout).toBe('');
        expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { code: 'USAGE', stage: 'usage' } });
        expect((await cli(['job', 'publish', '--reward', '1', '--program', exampleFile('primes'), '--range', '0:10'])).stderr).toContain('--range needs --tasks N');
    });

    it('delegates `devnet` to the devnet\'s own CLI', async () => {
        const help = await cli(['devnet']);
        expect(help.code).toBe(2);
        expect(help.stdout).toContain('ledgerwork devnet up');
        const written: string[] = [];
        const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
            written.push(String(chunk));
            return true;
        });
        try {
            const down = await cli(['devnet', 'down', '--dir', path.join(work, 'no-devnet')]);
            expect(down.code).toBe(0);
        } finally {
            spy.mockRestore();
        }
        expect(written.join('')).toBe(`no devnet running in ${path.join(work, 'no-devnet')}\n`);
    });

    it('draws progress in place on a terminal and as throttled lines otherwise', () => {
        let tty = '';
        let now = 0;
        const io = { stdout: () => undefined, stderrIsTTY: true, env: {}, signal: new AbortController().signal, now: () => now, trapSignals: () => () => undefined };
        const bar = new Progress({ ...io, stderr: (t) => (tty += t) }, 'job', () => now);
        bar.update(1, 4);
        bar.update(2, 4, 'merge level 1/2');
        bar.finish();
        expect(tty).toBe(`\rjob [${'#'.repeat(6)}${'.'.repeat(18)}] 1/4\x1b[K\rjob [${'#'.repeat(12)}${'.'.repeat(12)}] 2/4 merge level 1/2\x1b[K\n`);
        let plain = '';
        const lines = new Progress({ ...io, stderrIsTTY: false, stderr: (t) => (plain += t) }, 'job', () => now);
        lines.update(1, 4);
        now = 1000;
        lines.update(2, 4); // within 5 s of the last line: skipped
        now = 6000;
        lines.update(3, 4);
        lines.update(4, 4); // the final count always shows
        expect(plain.split('\n').filter(Boolean).map((l) => l.replace(/ \[.*\]/, ''))).toEqual(['job 1/4', 'job 3/4', 'job 4/4']);
    });
});

describe('ledgerwork CLI on the devnet', () => {
    let net: RunningDevnet;
    let admin: ConnectionSettings;
    let publisher: ConnectionSettings;
    const workers = new Map<number, ConnectionSettings>();

    beforeAll(async () => {
        net = await startDevnet({ dir: path.join(work, 'devnet'), batchTimeoutMs: 50, chaincodes: [{ name: 'ledgerwork', folder: CHAINCODE_DIR, contracts }] });
        admin = net.connection(1, 'Admin');
        publisher = net.addUser(1, 'cli-publisher');
        workers.set(1, net.addUser(1, 'cli-worker-1'));
        workers.set(2, net.addUser(2, 'cli-worker-2'));
    });
    afterAll(async () => {
        await net.stop();
        rmSync(work, { recursive: true, force: true });
    });

    it('mints as admin, refuses a non-admin with exit 1, and shows balances', async () => {
        const me = await cli(['balance', '--json'], publisher);
        expect(me.code).toBe(0);
        const { account, balance } = json<{ account: string; balance: string }>(me);
        expect(account).toMatch(/^[0-9a-f]{64}$/);
        expect(balance).toBe('0');
        const minted = await cli(['mint', '10000', '--account', account], admin);
        expect(minted).toMatchObject({ code: 0, stdout: `minted 10000 to ${account}\n` });
        const refused = await cli(['mint', '5'], publisher);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/^error NOT_ADMIN: /);
        const refusedJson = await cli(['mint', '5', '--json'], publisher);
        expect(JSON.parse(refusedJson.stderr)).toMatchObject({ error: { code: 'NOT_ADMIN', stage: 'chaincode' } });
        const human = await cli(['balance', account], admin);
        expect(human.stdout).toMatch(/^balance: +10000$/m);
    });

    it('registers executors and lists them as a table and as JSON', async () => {
        for (const org of [1, 2]) {
            for (const n of ['a', 'b']) {
                const run = await cli(['executor', 'register', `cli-o${org}-${n}`, '--skills', 'wasm,primes', '--capacity', '2'], workers.get(org));
                expect(run).toMatchObject({ code: 0, stderr: '' });
                expect(run.stdout).toContain(`registered executor cli-o${org}-${n} in Org${org}MSP`);
            }
        }
        const listed = await cli(['executor', 'list', '--json'], workers.get(1));
        expect(listed.code).toBe(0);
        expect(json<{ executors: { id: string }[] }>(listed).executors.map((e) => e.id).sort()).toEqual(['cli-o1-a', 'cli-o1-b']);
        const table = await cli(['executor', 'list', '--shard', 'Org2MSP'], workers.get(1));
        expect(table.stdout.split('\n')[0]).toMatch(/^EXECUTOR\s+SHARD\s+MODE\s+CAPACITY\s+STATUS\s+SKILLS$/);
        expect(table.stdout).toMatch(/^cli-o2-a\s+Org2MSP\s+active\s+2\s+active\s+primes,wasm$/m);
        const again = await cli(['executor', 'register', 'cli-o1-a'], workers.get(1));
        expect(again.code).toBe(1);
        expect(again.stderr).toMatch(/^error ALREADY_EXISTS: /);
    });

    it('publishes a ranked primes job, runs it with `executor run` in two orgs, and reads the count', async () => {
        const program = exampleFile('primes');
        const published = await cli(
            ['job', 'publish', '--id', 'cli-primes', '--program', program, '--merge', program, '--range', '0:20000', '--tasks', '4', '--reward', '3', '--merge-reward', '1',
                '--ranked', '--shards', 'Org1MSP,Org2MSP', '--deadline', '1h', '--store', path.join(work, 'store'), '--json'],
            publisher,
        );
        expect(published.stderr).toBe('');
        expect(published.code).toBe(0);
        expect(json<{ id: string; assignment: string; taskCount: number }>(published)).toMatchObject({ id: 'cli-primes', assignment: 'ranked', taskCount: 4 });

        const before = await cli(['job', 'result', 'cli-primes'], publisher);
        expect(before.code).toBe(1);
        expect(before.stderr).toMatch(/^error NOT_FINISHED: /);

        const runs = await Promise.all(
            [1, 2].map((org) => cli(['executor', 'run', '--id', `cli-o${org}-a`, '--id', `cli-o${org}-b`, '--job', 'cli-primes', '--poll', '100ms', '--until-done', '--json'], workers.get(org))),
        );
        for (const run of runs) {
            expect(run.code).toBe(0);
            expect(json<{ filed: number; failed: number }>(run)).toMatchObject({ filed: 2, failed: 0 });
        }

        const status = await cli(['job', 'status', 'cli-primes', '--json'], publisher);
        expect(json<{ state: string; merge: { levelReached: number; height: number } }>(status)).toMatchObject({ state: 'completed', merge: { levelReached: 3, height: 3 } });
        const human = await cli(['job', 'status', 'cli-primes'], publisher);
        expect(human.stdout).toMatch(/^state: +completed/m);
        expect(human.stdout).toMatch(/^merge: +7\/7 numbers filed, level 3 of 3$/m);

        const result = await cli(['job', 'result', 'cli-primes'], publisher);
        expect(result).toMatchObject({ code: 0, stdout: '2262\n' });
        const out = path.join(work, 'count.txt');
        expect((await cli(['job', 'result', 'cli-primes', '--out', out], publisher)).code).toBe(0);
        expect(readFileSync(out, 'utf8')).toBe('2262\n');

        const watched = await cli(['job', 'watch', 'cli-primes'], publisher);
        expect(watched.code).toBe(0);
        expect(watched.stderr).toContain('cli-primes [########################] 7/7');

        const tasks = await cli(['task', 'list', '--job', 'cli-primes', '--json'], publisher);
        expect(json<{ tasks: { id: string; index: number }[] }>(tasks).tasks.map((t) => t.index).sort()).toEqual([1, 2, 3, 4]);
        const jobs = await cli(['job', 'list'], publisher);
        expect(jobs.stdout).toMatch(/^cli-primes\s+completed\s+ranked\s+4\s/m);
        // Org1 holds ranks 1 and 3 (two leaves at 3), Org2 ranks 2 and 4 (two leaves at 3 and the three merges
        // at 1); which executor of an org holds which rank follows from the publishing transaction's id.
        const earned = async (org: number): Promise<bigint> => {
            let total = 0n;
            for (const n of ['a', 'b']) {
                const rewards = await cli(['rewards', `cli-o${org}-${n}`, '--json'], workers.get(org));
                expect(rewards.code).toBe(0);
                total += BigInt(json<{ total: string }>(rewards).total);
            }
            return total;
        };
        expect(await earned(1)).toBe(2n * 3n);
        expect(await earned(2)).toBe(2n * 3n + 3n * 1n);
        const balance = await cli(['balance', '--json'], publisher);
        expect(json<{ balance: string }>(balance).balance).toBe(String(10_000 - 4 * 3 - 3 * 1));
    });

    it('runs an open job with `executor run` claiming at random, and collects every result', async () => {
        const program = exampleFile('primes');
        const published = await cli(['job', 'publish', '--id', 'cli-open', '--program', program, '--range', '0:1000', '--tasks', '3', '--reward', '2', '--key-scope', 'job', '--batch', '1', '--store', path.join(work, 'store')], publisher);
        expect(published.code).toBe(0);
        expect(published.stdout).toContain('published job cli-open: 3 tasks, open');
        expect(published.stderr).toMatch(/^publishing cli-open \[#{8}\.{16}\] 1\/3 tasks\npublishing cli-open \[#{24}\] 3\/3 tasks\n$/);
        // What the job holds now, not a running total: 3 tasks × 2 until they are paid.
        const locked = await cli(['balance', '--json'], publisher);
        expect(json<{ locked: string; lockedByJob: unknown[] }>(locked)).toMatchObject({ locked: '6', lockedByJob: [{ jobId: 'cli-open', state: 'open', locked: '6' }] });
        expect((await cli(['balance'], publisher)).stdout).toMatch(/^locked in escrow now: +6 \(cli-open 6\)$/m);
        const run = await cli(['executor', 'run', '--id', 'cli-o2-a', '--id', 'cli-o2-b', '--job', 'cli-open', '--concurrency', '2', '--poll', '100ms', '--until-done', '--json'], workers.get(2));
        expect(run.code).toBe(0);
        expect(json<{ accepted: number }>(run).accepted).toBe(3);
        expect(json<{ locked: string; escrowed: string }>(await cli(['balance', '--json'], publisher))).toMatchObject({ locked: '0' });
        const result = await cli(['job', 'result', 'cli-open', '--json'], publisher);
        const counts = json<{ results: { result: string }[] }>(result).results.map((r) => Number(Buffer.from(r.result, 'base64').toString()));
        expect(counts.reduce((a, b) => a + b, 0)).toBe(168);
        const open = await cli(['task', 'list', '--job', 'cli-open', '--state', 'published', '--json'], publisher);
        expect(json<{ tasks: unknown[] }>(open).tasks).toEqual([]);
    });

    it('serves bundles over HTTPS (--serve-host/--serve-port/--serve-url/--serve-cert/--serve-key) to an executor trusting the CA (--content-ca)', async () => {
        // A CA of its own, and a server certificate it issues for 127.0.0.1 (openssl, as an operator would).
        const dir = mkdtempSync(path.join(work, 'tls-'));
        const file = (name: string): string => path.join(dir, name);
        const openssl = (args: string[]): void => {
            const made = spawnSync('openssl', args, { encoding: 'utf8' });
            expect({ args, status: made.status, stderr: made.status === 0 ? '' : made.stderr }).toEqual({ args, status: 0, stderr: '' });
        };
        openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=ledgerwork test CA', '-keyout', file('ca.key'), '-out', file('ca.pem')]);
        openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=bundles.org1', '-keyout', file('server.key'), '-out', file('server.csr')]);
        writeFileSync(file('san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
        openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', file('san.cnf'), '-out', file('server.pem')]);
        const port = await new Promise<number>((resolve) => {
            const probe = createServer().listen(0, '127.0.0.1', () => {
                const { port: free } = probe.address() as AddressInfo;
                probe.close(() => { resolve(free); });
            });
        });
        const url = `https://127.0.0.1:${port}`;
        const serving = cli(
            ['job', 'publish', '--id', 'cli-tls', '--program', exampleFile('primes'), '--range', '0:200', '--tasks', '2', '--reward', '1', '--shards', 'Org2MSP', '--serve', '--serve-host', '127.0.0.1', '--serve-port', String(port), '--serve-url', url, '--serve-cert', file('server.pem'), '--serve-key', file('server.key')],
            publisher,
        );
        for (let i = 0; i < 200 && (await cli(['job', 'status', 'cli-tls'], publisher)).code !== 0; i++) {
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const badCa = await cli(['executor', 'run', '--id', 'cli-o2-a', '--job', 'cli-tls', '--content-ca', file('missing.pem'), '--until-done'], workers.get(2));
        expect(badCa.code).toBe(2);
        expect(badCa.stderr).toContain('--content-ca');
        const run = await cli(['executor', 'run', '--id', 'cli-o2-a', '--job', 'cli-tls', '--content-ca', file('ca.pem'), '--poll', '100ms', '--until-done', '--json'], workers.get(2));
        expect(run.code).toBe(0);
        expect(json<{ accepted: number; failed: number }>(run)).toMatchObject({ accepted: 2, failed: 0 });
        const published = await serving; // serves until the job ended
        expect(published.code).toBe(0);
        expect(published.stderr).toContain(`serving bundles at ${url} until the job ends`);
        const task = await cli(['task', 'show', 'cli-tls-1', '--json'], publisher);
        expect(json<{ program: { uri: string } }>(task).program.uri.startsWith(`${url}/`)).toBe(true);
    });

    it('stops `executor run` on a signal, cancels a job, and `job watch` then exits 1', async () => {
        const program = exampleFile('primes');
        const published = await cli(['job', 'publish', '--id', 'cli-cancel', '--program', program, '--range', '0:100', '--tasks', '2', '--reward', '1', '--shards', 'Org2MSP', '--store', path.join(work, 'store')], publisher);
        expect(published.code).toBe(0);
        const controller = new AbortController();
        // An Org1 executor is not eligible for an Org2-only job: it polls idly until the signal.
        const running = cli(['executor', 'run', '--id', 'cli-o1-a', '--job', 'cli-cancel', '--poll', '50ms', '--json'], workers.get(1), { signal: controller.signal });
        setTimeout(() => {
            controller.abort();
        }, 300);
        const run = await running;
        expect(run.code).toBe(0);
        expect(json<{ stopped: boolean; accepted: number }>(run)).toMatchObject({ stopped: true, accepted: 0 });

        const notYours = await cli(['job', 'cancel', 'cli-cancel'], workers.get(1));
        expect(notYours.code).toBe(1);
        expect(notYours.stderr).toMatch(/^error NOT_PUBLISHER: /);
        expect((await cli(['job', 'cancel', 'cli-cancel'], publisher)).code).toBe(0);
        const watched = await cli(['job', 'watch', 'cli-cancel', '--json'], publisher);
        expect(watched.code).toBe(1);
        expect(JSON.parse(watched.stderr)).toMatchObject({ error: { code: 'JOB_CANCELLED', stage: 'job' } });
        const task = await cli(['task', 'show', 'cli-cancel-1'], publisher);
        expect(task.stdout).toMatch(/^state: +cancelled$/m);
        const shown = await cli(['executor', 'show', 'cli-o1-a', '--json'], workers.get(1));
        expect(json<{ executor: { id: string }; reputation: number }>(shown)).toMatchObject({ executor: { id: 'cli-o1-a' } });
        const missing = await cli(['task', 'show', 'no-such-task'], publisher);
        expect(missing.code).toBe(1);
        expect(missing.stderr).toMatch(/^error NOT_FOUND: /);
    });

    it('exits 3 when the network cannot be reached', async () => {
        const closed = await new Promise<number>((resolve) => {
            const server = createServer();
            server.listen(0, '127.0.0.1', () => {
                const { port } = server.address() as AddressInfo;
                server.close(() => {
                    resolve(port);
                });
            });
        });
        const run = await cli(['balance'], { ...publisher, peerEndpoint: `127.0.0.1:${closed}` });
        expect(run.code).toBe(3);
        expect(run.stderr).toMatch(/^error UNAVAILABLE: /);
        const asJson = await cli(['job', 'status', 'x', '--json'], { ...publisher, peerEndpoint: `127.0.0.1:${closed}` });
        expect(asJson.code).toBe(3);
        expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { code: 'UNAVAILABLE', stage: 'transport' } });
    });
});
