// SPDX-License-Identifier: Apache-2.0
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
// The chaincode runtime first: loading it quiets fabric-shim's loggers before the contracts' decorators log.
import { CHAINCODE_DIR } from '../support/chaincodeRuntime';
import { startDevnet } from '../../network/devnet/src';
import type { ConnectionSettings, RunningDevnet } from '../../network/devnet/src';
import { contracts } from '../../chaincode/src';
import { LedgerworkClient, connectGateway } from '../../gateway/src/client';
import type { GatewayConnection } from '../../gateway/src/client';
import { exampleFile } from '../support/examples';

/**
 * The installed `ledgerwork` command (gateway/bin/ledgerwork.js, as a child process) against a
 * devnet, driven with generated bad arguments, bad files, bad configs and signals at random
 * moments. For every run: the exit code is in the documented set (never 70, never a signal it was
 * not sent), the failure is typed (one JSON document on stderr with --json, no stack trace
 * otherwise), the process ends within its deadline, and no file outside the run's own directory
 * changed (the whole test directory, the repository's sources and ~/.ledgerwork are compared before
 * and after each batch: only the batch's own run directories may differ). At the end the ledger's
 * credits are conserved, computed here from the ledger's records rather than by the code under test:
 * what the runs minted (counted from their own output, and equal to the mint records) equals the sum
 * of every account's credit records plus what the live jobs still hold (the rewards of their
 * unfinished tasks and unfiled real merges, from the job, task and filing records), and no account's
 * records sum to a negative balance.
 *
 * A fixed number of runs (LW_ADVERSARIAL_RUNS, default 24, three at a time) keeps CI time bounded.
 */

const repo = path.resolve(__dirname, '../..');
const bin = path.join(repo, 'gateway/bin/ledgerwork.js');
const RUNS = Number(process.env.LW_ADVERSARIAL_RUNS ?? 24);
const AT_ONCE = 3;
/** A run that takes longer than this has hung. */
const DEADLINE_MS = 45_000;
const DOCUMENTED_EXITS = new Set([0, 1, 2, 3]);

const work = mkdtempSync(path.join(tmpdir(), 'lw-adversarial-'));
const fixtures = path.join(work, 'fixtures');
const runs = path.join(work, 'runs');

type Who = 'admin' | 'user' | 'worker' | 'nobody';

interface Scenario {
    readonly who: Who;
    readonly argv: readonly string[];
    /** Send this signal after `afterMs` (the run may have ended by then). */
    readonly kill?: { readonly signal: 'SIGKILL' | 'SIGINT' | 'SIGTERM'; readonly afterMs: number };
    /** Counted towards the minted total when it succeeds. */
    readonly mints?: boolean;
}

interface Outcome {
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly ms: number;
    readonly sentSignal: boolean;
}

/** Builds the gateway when its compiled CLI is older than any of its sources (the test runs what users run). */
function ensureBuilt(): void {
    const main = path.join(repo, 'gateway/dist/cli/main.js');
    const newest = (dir: string): number =>
        readdirSync(dir, { withFileTypes: true }).reduce((latest, e) => {
            const full = path.join(dir, e.name);
            return Math.max(latest, e.isDirectory() ? newest(full) : statSync(full).mtimeMs);
        }, 0);
    const sources = Math.max(newest(path.join(repo, 'gateway/src')), newest(path.join(repo, 'chaincode/src/core')));
    if (!existsSync(main) || statSync(main).mtimeMs < sources) {
        // The gateway compiles against the chaincode core's declarations (@ledgerwork/core): build those first.
        execFileSync('npm', ['run', 'build', '--prefix', 'chaincode'], { cwd: repo, stdio: 'ignore' });
        execFileSync('npm', ['run', 'build', '--workspace', 'gateway'], { cwd: repo, stdio: 'ignore' });
    }
}

/**
 * Every file below `dir` (absolute path → SHA-256 of its content, or size and mtime with `cheap`),
 * skipping directories named in `skip`. Directories count too (an empty one made is a change).
 */
function snapshot(dir: string, skip: ReadonlySet<string> = new Set(), cheap = false): Record<string, string> {
    const files: Record<string, string> = {};
    const walk = (current: string): void => {
        let found;
        try {
            found = readdirSync(current, { withFileTypes: true });
        } catch {
            return; // gone, or not a directory
        }
        for (const entry of found) {
            const full = path.join(current, entry.name);
            if (entry.isDirectory()) {
                if (!skip.has(entry.name) && !skip.has(full)) {
                    files[full] = 'dir';
                    walk(full);
                }
            } else if (entry.isFile()) {
                const stat = statSync(full);
                files[full] = cheap ? `${stat.size}/${stat.mtimeMs}` : createHash('sha256').update(readFileSync(full)).digest('hex');
            } else {
                files[full] = 'other';
            }
        }
    };
    walk(dir);
    return files;
}

/** Paths added, removed or changed between two snapshots. */
function changed(before: Record<string, string>, after: Record<string, string>): string[] {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((file) => before[file] !== after[file]).sort();
}

/** Everything a run could touch outside its own directory: the test directory (but the devnet's own), the repository's sources, ~/.ledgerwork. */
function outside(devnetDir: string): Record<string, string> {
    return {
        ...snapshot(work, new Set([devnetDir])),
        ...snapshot(repo, new Set(['node_modules', '.git', 'dist', 'coverage']), true),
        ...snapshot(path.join(homedir(), '.ledgerwork'), new Set(), true),
    };
}

function envFor(who: Who, identities: Record<Exclude<Who, 'nobody'>, ConnectionSettings>, home: string): NodeJS.ProcessEnv {
    const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, NODE_OPTIONS: '' };
    if (who === 'nobody') {
        return base;
    }
    const s = identities[who];
    return {
        ...base,
        PEER_ENDPOINT: s.peerEndpoint,
        PEER_HOST_ALIAS: s.peerHostAlias,
        TLS_CERT_PATH: s.tlsCertPath,
        MSP_ID: s.mspId,
        CERT_PATH: s.certPath,
        KEY_PATH: s.keyPath,
        CHANNEL_NAME: s.channelName,
        CHAINCODE_NAME: 'ledgerwork',
    };
}

function runCli(scenario: Scenario, env: NodeJS.ProcessEnv, cwd: string): Promise<Outcome> {
    return new Promise((resolve) => {
        const started = Date.now();
        const child = spawn(process.execPath, [bin, ...scenario.argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        let sentSignal = false;
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const timers = [
            setTimeout(() => {
                child.kill('SIGKILL');
            }, DEADLINE_MS),
        ];
        if (scenario.kill !== undefined) {
            const { signal, afterMs } = scenario.kill;
            timers.push(
                setTimeout(() => {
                    sentSignal = child.exitCode === null && child.signalCode === null;
                    child.kill(signal);
                }, afterMs),
            );
        }
        child.on('close', (code, signal) => {
            for (const t of timers) {
                clearTimeout(t);
            }
            resolve({ code, signal, stdout, stderr, ms: Date.now() - started, sentSignal });
        });
    });
}

/** --json, where it applies (help texts and `--version` are text whatever else is asked, as docs/errors.md says). */
function asksForJson(argv: readonly string[]): boolean {
    return argv.includes('--json') && !argv.includes('--help') && !argv.includes('-h') && argv[0] !== 'help' && argv[0] !== '--version';
}

/** What every run must satisfy, whatever it was asked. */
function checkOutcome(scenario: Scenario, outcome: Outcome): void {
    const about = `ledgerwork ${scenario.argv.map((a) => JSON.stringify(a)).join(' ')} (as ${scenario.who}) → ${outcome.code ?? outcome.signal} in ${outcome.ms} ms\n${outcome.stderr.slice(0, 2000)}`;
    expect({ about, ended: outcome.ms < DEADLINE_MS }).toEqual({ about, ended: true });
    if (outcome.signal !== null) {
        // Only a signal this test sent may end a run.
        expect({ about, signal: outcome.signal }).toEqual({ about, signal: outcome.sentSignal ? scenario.kill?.signal : 'none' });
        return;
    }
    expect({ about, documented: DOCUMENTED_EXITS.has(outcome.code ?? -1) }).toEqual({ about, documented: true });
    expect({ about, stack: /\n\s+at .+:\d+:\d+\)?\n/.test(outcome.stderr) }).toEqual({ about, stack: false });
    const json = asksForJson(scenario.argv);
    if (outcome.code !== 0) {
        if (json && !outcome.sentSignal) {
            const parsed = JSON.parse(outcome.stderr.trim()) as { error?: { code?: unknown; message?: unknown } };
            expect({ about, code: typeof parsed.error?.code, message: typeof parsed.error?.message }).toEqual({ about, code: 'string', message: 'string' });
        } else {
            expect({ about, said: /error|usage/i.test(outcome.stderr) }).toEqual({ about, said: true });
        }
    } else if (json && outcome.stdout.trim() !== '') {
        expect(() => JSON.parse(outcome.stdout.trim()) as unknown).not.toThrow();
    }
}

// ---- generators

const jobIds = fc.oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{2,12}$/) },
    fc.constantFrom('a/b', '../escape', '', '.', '-lead', 'x'.repeat(300), 'base-1', 'spaced id'),
    fc.string({ maxLength: 20 }),
);
const programs = fc.oneof({ weight: 6, arbitrary: fc.constant('primes') }, fc.constantFrom('garbage', 'empty', 'missing', '/dev/null', 'directory', 'truncated'));
const ranges = fc.oneof({ weight: 6, arbitrary: fc.constant('0:100') }, fc.constantFrom('0:0', '10:5', '0:3', '5', 'a:b', '-1:10', '0:99999999999999999999999'), fc.string({ maxLength: 12 }));
const taskCounts = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('1', '2', '4', '10') }, fc.constantFrom('0', '-1', '1000000000', '4097', '1.5', 'many'), fc.nat({ max: 50 }).map(String));
const amounts = fc.oneof(fc.constantFrom('1', '0', '-5', '1e3', '12.5', '99999999999999999999', '999999999999999999'), fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String));
const stores = fc.oneof({ weight: 6, arbitrary: fc.constant('store') }, fc.constantFrom('/etc/passwd/x', '/dev/null', '/proc/nope', 'file-as-store'));
const configs = fc.constantFrom('not-json', 'unknown-keys', 'wrong-types', 'missing', 'directory', 'array');
const signals = fc.record({ signal: fc.constantFrom('SIGKILL' as const, 'SIGINT' as const, 'SIGTERM' as const), afterMs: fc.integer({ min: 0, max: 2500 }) });
const json = fc.boolean().map((j) => (j ? ['--json'] : []));

const publish: fc.Arbitrary<Scenario> = fc
    .record({
        id: jobIds,
        program: programs,
        merge: fc.option(programs, { nil: undefined, freq: 3 }),
        range: ranges,
        tasks: taskCounts,
        reward: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('1', '2') }, amounts),
        store: stores,
        extra: fc.subarray([['--batch', '1'], ['--shards', 'NobodyMSP'], ['--skills', ',,'], ['--ranked'], ['--deadline', '0'], ['--lease', '1s'], ['--key-scope', 'job'], ['--mode', 'combined'], ['--bogus']], { maxLength: 2 }),
        json,
        kill: fc.option(signals, { nil: undefined, freq: 3 }),
        who: fc.constantFrom<Who>('user', 'user', 'worker', 'admin'),
    })
    .map(({ id, program, merge, range, tasks, reward, store, extra, json: j, kill, who }) => ({
        who,
        argv: ['job', 'publish', '--id', id, '--program', program, ...(merge === undefined ? [] : ['--merge', merge]), '--range', range, '--tasks', tasks, '--reward', reward, '--store', store, ...extra.flat(), ...j],
        ...(kill === undefined ? {} : { kill }),
    }));

const reads: fc.Arbitrary<Scenario> = fc
    .record({
        argv: fc.oneof(
            jobIds.map((id) => ['job', 'status', id]),
            jobIds.map((id) => ['job', 'list', '--publisher', id]),
            fc.tuple(jobIds, fc.constantFrom('out.txt', '/etc/passwd/x', '.', '/dev/full')).map(([id, out]) => ['job', 'result', id, '--out', out]),
            jobIds.map((id) => ['task', 'show', `${id}-1`]),
            fc.tuple(jobIds, fc.string({ maxLength: 10 })).map(([id, state]) => ['task', 'list', '--job', id, '--state', state]),
            fc.oneof(fc.constant([] as string[]), fc.string({ maxLength: 70 }).map((a) => [a])).map((a) => ['balance', ...a]),
            jobIds.map((id) => ['executor', 'show', id]),
            jobIds.map((id) => ['rewards', id, '--limit', '3']),
            fc.constant(['whoami']),
            fc.constant(['sweep']),
            jobIds.map((id) => ['sweep', '--job', id]),
        ),
        json,
        who: fc.constantFrom<Who>('user', 'worker', 'admin', 'nobody'),
    })
    .map(({ argv, json: j, who }) => ({ who, argv: [...argv, ...j] }));

const waits: fc.Arbitrary<Scenario> = fc
    .record({
        argv: fc.oneof(
            jobIds.map((id) => ['job', 'watch', id, '--poll', '100ms']),
            jobIds.map((id) => ['job', 'result', id, '--wait', '--poll', '100ms']),
            fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{2,8}$/), jobIds).map(([executor, job]) => ['executor', 'run', '--id', executor, '--job', job, '--register', '--poll', '100ms']),
            fc
                .tuple(fc.stringMatching(/^[a-z][a-z0-9]{2,8}$/), fc.constantFrom('--checkpoint', '--state-dir'), fc.constantFrom('/proc/nope/x', '/etc', '/etc/passwd', '/etc/passwd/x', 'state'))
                .map(([executor, flag, where]) => ['executor', 'run', '--id', executor, '--register', flag, where, '--poll', '100ms']),
        ),
        json,
        kill: signals.map((s) => ({ ...s, afterMs: 500 + s.afterMs })),
        who: fc.constantFrom<Who>('user', 'worker'),
    })
    .map(({ argv, json: j, kill, who }) => ({ who, argv: [...argv, ...j], kill }));

const mints: fc.Arbitrary<Scenario> = fc
    .record({ amount: amounts, to: fc.constantFrom('self', 'user', 'bad'), json, who: fc.constantFrom<Who>('admin', 'admin', 'user') })
    .map(({ amount, to, json: j, who }) => ({ who, argv: ['mint', amount, ...(to === 'self' ? [] : ['--account', to === 'bad' ? 'not-an-account' : '@user']), ...j], mints: true }));

const garbage: fc.Arbitrary<Scenario> = fc
    .record({
        command: fc.constantFrom('job', 'executor', 'task', 'balance', 'mint', 'rewards', 'sweep', 'whoami', 'frobnicate', 'help', '--version', ''),
        args: fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('--json', '--help', '--', '-h', '--id', '--id=', '--poll', '--poll=0', '--limit', '-1', '--config')), { maxLength: 6 }),
        who: fc.constantFrom<Who>('user', 'nobody'),
    })
    // Only commands that end by themselves: a bare `executor run` or `job watch` waits by design.
    .filter(({ args }) => !args.includes('run') && !args.includes('watch') && !args.includes('--wait'))
    .map(({ command, args, who }) => ({ who, argv: command === '' ? args : [command, ...args] }));

const badConfigs: fc.Arbitrary<Scenario> = fc
    .record({ config: configs, command: fc.constantFrom(['balance'], ['whoami'], ['job', 'list'], ['sweep']), json })
    .map(({ config, command, json: j }) => ({ who: 'nobody' as const, argv: [...command, '--config', config, ...j] }));

const scenarios = fc.oneof(
    { weight: 4, arbitrary: publish },
    { weight: 3, arbitrary: reads },
    { weight: 2, arbitrary: waits },
    { weight: 2, arbitrary: mints },
    { weight: 2, arbitrary: garbage },
    { weight: 1, arbitrary: badConfigs },
);

/** Replaces placeholders with the run's files: programs and configs from the fixtures, stores in the run's own directory. */
function resolveArgv(argv: readonly string[], runDir: string, userAccount: string): string[] {
    const programFiles: Record<string, string> = {
        primes: path.join(fixtures, 'primes.wasm'),
        garbage: path.join(fixtures, 'garbage.wasm'),
        empty: path.join(fixtures, 'empty.wasm'),
        truncated: path.join(fixtures, 'truncated.wasm'),
        missing: path.join(fixtures, 'missing.wasm'),
        directory: fixtures,
    };
    const configFiles: Record<string, string> = {
        'not-json': path.join(fixtures, 'not-json.json'),
        'unknown-keys': path.join(fixtures, 'unknown-keys.json'),
        'wrong-types': path.join(fixtures, 'wrong-types.json'),
        array: path.join(fixtures, 'array.json'),
        missing: path.join(fixtures, 'missing.json'),
        directory: fixtures,
    };
    return argv.map((arg, i) => {
        const flag = argv[i - 1];
        if ((flag === '--program' || flag === '--merge') && programFiles[arg] !== undefined) {
            return programFiles[arg];
        }
        if (flag === '--config' && configFiles[arg] !== undefined) {
            return configFiles[arg];
        }
        if (flag === '--store' && (arg === 'store' || arg === 'file-as-store')) {
            return path.join(runDir, arg);
        }
        return arg === '@user' ? userAccount : arg;
    });
}

describe('ledgerwork CLI under adversarial use (child processes against a devnet)', () => {
    let net: RunningDevnet | undefined;
    const devnetDir = path.join(work, 'devnet');
    let identities: Record<Exclude<Who, 'nobody'>, ConnectionSettings>;
    let connection: GatewayConnection | undefined;
    let ledger: LedgerworkClient;
    let userAccount = '';
    let minted = 0n;
    const accounts = new Set<string>();

    beforeAll(async () => {
        ensureBuilt();
        mkdirSync(fixtures, { recursive: true });
        mkdirSync(runs, { recursive: true });
        const primes = readFileSync(exampleFile('primes'));
        copyFileSync(exampleFile('primes'), path.join(fixtures, 'primes.wasm'));
        writeFileSync(path.join(fixtures, 'garbage.wasm'), createHash('sha512').update('garbage').digest());
        writeFileSync(path.join(fixtures, 'empty.wasm'), '');
        writeFileSync(path.join(fixtures, 'truncated.wasm'), primes.subarray(0, Math.floor(primes.length / 2)));
        writeFileSync(path.join(fixtures, 'not-json.json'), '{"PEER_ENDPOINT": "localhost:1",\n  oops }');
        writeFileSync(path.join(fixtures, 'unknown-keys.json'), JSON.stringify({ peerEndpoint: 'localhost:1', peerEndpiont: 'typo' }));
        writeFileSync(path.join(fixtures, 'wrong-types.json'), JSON.stringify({ peerEndpoint: 7051, mspId: ['Org1MSP'] }));
        writeFileSync(path.join(fixtures, 'array.json'), '[]');
        net = await startDevnet({ dir: devnetDir, orgs: 2, batchTimeoutMs: 50, chaincodes: [{ name: 'ledgerwork', folder: CHAINCODE_DIR, contracts }] });
        identities = { admin: net.connection(1, 'Admin'), user: net.addUser(1, 'adversary-user'), worker: net.addUser(2, 'adversary-worker') };
        connection = connectGateway({ ...identities.admin, chaincodeName: 'ledgerwork' });
        ledger = new LedgerworkClient(connection.network);
        for (const who of ['admin', 'user', 'worker'] as const) {
            const c = connectGateway({ ...identities[who], chaincodeName: 'ledgerwork' });
            try {
                accounts.add((await new LedgerworkClient(c.network).whoAmI()).account);
                if (who === 'user') {
                    userAccount = [...accounts].at(-1) ?? '';
                }
            } finally {
                c.close();
            }
        }
        // Something to publish with, and a live job for the reads and waits to find.
        await ledger.mint(userAccount, 1000n);
        minted += 1000n;
        const seeded = await runCli({ who: 'user', argv: ['job', 'publish', '--id', 'base-1', '--program', path.join(fixtures, 'primes.wasm'), '--range', '0:100', '--tasks', '4', '--reward', '1', '--store', path.join(runs, 'seed')] }, envFor('user', identities, runs), runs);
        expect(seeded.code).toBe(0);
    }, 120_000);

    afterAll(async () => {
        connection?.close();
        await net?.stop();
        rmSync(work, { recursive: true, force: true });
    });

    it('every run ends in time with a documented exit code and a typed message, touching only its own directory; credits are conserved', async () => {
        let counter = 0;
        await fc.assert(
            fc.asyncProperty(fc.array(scenarios, { minLength: AT_ONCE, maxLength: AT_ONCE }), async (batch) => {
                const before = outside(devnetDir);
                const own: string[] = [];
                const outcomes = await Promise.all(
                    batch.map((scenario) => {
                        const runDir = path.join(runs, `run-${++counter}`);
                        own.push(runDir);
                        mkdirSync(runDir);
                        writeFileSync(path.join(runDir, 'file-as-store'), 'a file, not a directory');
                        const resolved = { ...scenario, argv: resolveArgv(scenario.argv, runDir, userAccount) };
                        return runCli(resolved, envFor(scenario.who, identities, runDir), runDir).then((outcome) => ({ scenario: resolved, outcome }));
                    }),
                );
                for (const { scenario, outcome } of outcomes) {
                    if (process.env.LW_ADVERSARIAL_LOG !== undefined) {
                        process.stderr.write(`${scenario.argv.join(' ').slice(0, 160)} [${scenario.who}] → ${outcome.code ?? outcome.signal} ${outcome.ms} ms ${outcome.stderr.split('\n')[0]?.slice(0, 160) ?? ''}\n`);
                    }
                    checkOutcome(scenario, outcome);
                    if (scenario.mints === true && outcome.code === 0) {
                        const match = /minted (\d+) to|"minted":"(\d+)"/.exec(outcome.stdout);
                        minted += BigInt(match?.[1] ?? match?.[2] ?? 'NaN');
                    }
                }
                // Nothing outside the batch's own run directories changed (its directories themselves are new).
                const elsewhere = changed(before, outside(devnetDir)).filter((file) => !own.some((dir) => file === dir || file.startsWith(`${dir}${path.sep}`)));
                expect({ batch: batch.map((s) => s.argv.join(' ').slice(0, 120)), elsewhere }).toEqual({ batch: batch.map((s) => s.argv.join(' ').slice(0, 120)), elsewhere: [] });
            }),
            // LW_ADVERSARIAL_SEED replays the seed a failure printed.
            { numRuns: Math.max(1, Math.ceil(RUNS / AT_ONCE)), endOnFailure: true, ...(process.env.LW_ADVERSARIAL_SEED === undefined ? {} : { seed: Number(process.env.LW_ADVERSARIAL_SEED) }) },
        );
        // Conservation, computed here from the ledger's records (not by GetAccount's or GetEscrow's arithmetic):
        // minted = Σ every credit record of every account + what the live jobs' records say they still hold.
        let balances = 0n;
        let mintRecords = 0n;
        let locked = 0n;
        const allPages = async <T>(list: (bookmark: string) => Promise<{ items: T[]; bookmark: string }>): Promise<T[]> => {
            const items: T[] = [];
            let bookmark = '';
            do {
                const page = await list(bookmark);
                items.push(...page.items);
                bookmark = page.bookmark;
            } while (bookmark !== '');
            return items;
        };
        for (const account of accounts) {
            const deltas = await allPages((b) => ledger.listCredits(account, 1000, b));
            const balance = deltas.reduce((sum, d) => sum + BigInt(d.amount), 0n);
            mintRecords += deltas.filter((d) => d.kind === 'mint').reduce((sum, d) => sum + BigInt(d.amount), 0n);
            expect({ account, balance: balance >= 0n }).toEqual({ account, balance: true });
            balances += balance;
            for (const job of await allPages((b) => ledger.listJobsByPublisher(account, 1000, b))) {
                if (job.state !== 'publishing' && job.state !== 'open') {
                    continue; // ending a job paid or refunded everything it held
                }
                for (const task of await allPages((b) => ledger.listTasksByJob(job.id, '', 1000, b))) {
                    if (task.state === 'published' || task.state === 'claimed' || task.state === 'assigned') {
                        locked += BigInt(task.reward) * BigInt(task.verify?.maxReplicas ?? 1);
                    }
                }
                if (job.merge !== undefined) {
                    // N tasks merge in N − 1 real merges, each paid once when filed.
                    const merges = (await ledger.getMergeTree(job.id)).filed.filter((f) => f.kind === 'merge').length;
                    locked += BigInt(job.merge.reward) * BigInt(job.taskCount - 1 - merges);
                }
            }
        }
        expect({ mintRecords }).toEqual({ mintRecords: minted });
        expect({ minted, accounted: balances + locked }).toEqual({ minted, accounted: minted });
    }, 600_000);

    it('a publish killed (SIGKILL) in the middle of a batch leaves no orphan in its store once the same command runs again', async () => {
        await ledger.mint(userAccount, 200n);
        const primes = path.join(fixtures, 'primes.wasm');
        let interrupted = 0;
        for (let attempt = 1; attempt <= 4 && interrupted === 0; attempt++) {
            const runDir = path.join(runs, `killed-${attempt}`);
            mkdirSync(runDir);
            const store = path.join(runDir, 'store');
            const jobId = `killed-${attempt}`;
            const argv = ['job', 'publish', '--id', jobId, '--program', primes, '--range', '0:400', '--tasks', '8', '--reward', '1', '--batch', '1', '--store', store];
            const env = envFor('user', identities, runDir);
            // Killed once the first batch is on the ledger and the second batch's journal is in the store: that batch's
            // bundle is being written or its transaction is in flight.
            await new Promise<void>((resolve) => {
                const child = spawn(process.execPath, [bin, ...argv], { cwd: runDir, env, stdio: ['ignore', 'ignore', 'pipe'] });
                let stderr = '';
                let watching: NodeJS.Timeout | undefined;
                child.stderr.on('data', (chunk: Buffer) => {
                    stderr += chunk.toString();
                    if (stderr.includes(' 1/8 tasks') && watching === undefined) {
                        watching = setInterval(() => {
                            if (existsSync(store) && readdirSync(store).some((name) => name.startsWith('.batch.'))) {
                                child.kill('SIGKILL');
                            }
                        }, 1);
                    }
                });
                child.on('close', () => {
                    clearInterval(watching);
                    resolve();
                });
            });
            const named = async (): Promise<Set<string>> => {
                const uris = new Set<string>();
                let bookmark = '';
                do {
                    const page = await ledger.listTasksByJob(jobId, '', 1000, bookmark);
                    page.items.forEach((task) => uris.add(task.program.uri));
                    bookmark = page.bookmark;
                } while (bookmark !== '');
                return uris;
            };
            const files = (): string[] => readdirSync(store);
            const leftover = files().filter((name) => name.startsWith('.'));
            const orphans = files().filter((name) => !name.startsWith('.'));
            const namedBefore = await named();
            const unnamed = orphans.filter((name) => !namedBefore.has(pathToFileURL(path.join(store, name)).href));
            if (leftover.length === 0 && unnamed.length === 0) {
                continue; // killed between batches: nothing to settle, try again
            }
            interrupted++;
            const resumed = await runCli({ who: 'user', argv }, env, runDir);
            expect({ code: resumed.code, stderr: resumed.stderr }).toEqual({ code: 0, stderr: expect.stringContaining(`resumed job ${jobId}`) as unknown });
            if (unnamed.length > 0) {
                expect(resumed.stderr).toContain(`removed ${unnamed.length} file${unnamed.length === 1 ? '' : 's'} an interrupted publish left in the store`);
            }
            // Exactly the bundles the ledger names, no journal, no half-written file.
            const namedAfter = await named();
            expect(files().sort()).toEqual([...namedAfter].map((uri) => path.basename(fileURLToPath(uri))).sort());
            expect(namedAfter.size).toBe(8);
        }
        expect(interrupted).toBe(1);
    }, 300_000);

    it('ends with exit 3 when the peer accepts TCP and never answers', async () => {
        const silent = createServer(() => undefined);
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        const { port } = silent.address() as AddressInfo;
        try {
            const runDir = path.join(runs, 'silent-peer');
            mkdirSync(runDir);
            const env = { ...envFor('user', identities, runDir), PEER_ENDPOINT: `127.0.0.1:${port}` };
            const outcomes = await Promise.all(
                [['balance'], ['job', 'status', 'base-1', '--json'], ['executor', 'run', '--id', 'silent', '--job', 'base-1', '--poll', '100ms']].map((argv) => runCli({ who: 'user', argv }, env, runDir).then((outcome) => ({ argv, outcome }))),
            );
            for (const { argv, outcome } of outcomes) {
                expect({ argv, code: outcome.code, signal: outcome.signal }).toEqual({ argv, code: 3, signal: null });
            }
            expect(JSON.parse(outcomes[1]?.outcome.stderr ?? '')).toMatchObject({ error: { code: 'UNAVAILABLE', stage: 'transport' } });
        } finally {
            silent.close();
        }
    }, 120_000);
});
