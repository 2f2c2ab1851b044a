// SPDX-License-Identifier: Apache-2.0
/**
 * Devnet throughput, with a devnet running as a child process (the CLI, 3 orgs, TLS, majority endorsement) and
 * unmodified fabric-gateway clients in this process, client and devnet sharing the machine. Two workloads:
 *
 * - `assets`: the closed-loop workload real Fabric is measured with: K clients (each its own user identity, spread
 *   over the 3 orgs) each submit asset-transfer `CreateAsset` (a fresh asset id each time) and wait for its commit
 *   status, over and over, for a fixed time; node:crypto signer. The chaincode is the Fabric-agnostic fixture
 *   `network/devnet/test/fixtures/asset-transfer-basic` (fabric-samples' basic contract, in worker threads of the
 *   devnet as `fabric-chaincode-node start` would run it). With `--against ROOT` (repeatable) the same workload runs,
 *   interleaved, against the devnet sources of other checkouts too (e.g. a copy of an earlier commit), so before and
 *   after are measured side by side under the same machine load. With `--gateway` it runs against a network that is
 *   already running instead, described by the variables fabric-samples' applications read (PEER_ENDPOINT,
 *   PEER_HOST_ALIAS, TLS_CERT_PATH, MSP_ID, CERT_PATH or CERT_DIRECTORY_PATH, KEY_PATH or KEY_DIRECTORY_PATH,
 *   CHANNEL_NAME, and CHAINCODE_NAME, default `basic`): a real Fabric network measured with the very same clients.
 * - `ledgerwork`: K clients (each its own executor identity) run ledgerwork claim + submit pairs (real task
 *   signatures, real client signatures), once with fabric-gateway's default signer (`signers.newPrivateKeySigner`)
 *   and once with a node:crypto signer (`hash.none` + `crypto.sign('sha256', …)` + low-S), each on a fresh devnet.
 *
 * Both report committed transactions per second, p50/p99 commit latency (submitAsync → commit status), invalidated
 * transactions and the CPU split: the client process, and the devnet process (/proc/<pid>/stat) with its main thread
 * apart from its other threads (chaincode workers, thread pool). `assets` gives CPU per transaction (committed or
 * invalidated in the measured window): on a shared machine, the throughput follows the share of the cores the
 * run gets, while the CPU a transaction costs is what decides the throughput of an otherwise idle machine.
 *
 * Run: `node -r ./scripts/register-ts.js scripts/bench-devnet.ts [--workload assets|ledgerwork|all]
 *   [--batch-size B] [--batch-timeout MS]
 *   assets:     [--assets-clients 32,128] [--seconds S] [--warmup S] [--against ROOT]... [--profile DIR] | [--gateway]
 *   ledgerwork: [--clients K] [--pairs N]`
 * (defaults: all workloads; batch 50 / 50 ms; assets K = 32 and 128, 20 s measured after 30 s warm-up, by when V8 has
 * stopped optimizing the devnet's and the client's code (docs/benchmarks.md); ledgerwork
 * 8 clients × 20 pairs). `--profile DIR` writes V8 CPU profiles of the devnet processes (`node --cpu-prof`) to DIR, one directory per run and one profile per thread.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, signers, type Contract, type Gateway } from '@hyperledger/fabric-gateway';
import { accountOf, certificateFacts } from '../chaincode/src/core/identity';
import { inputPayload, resultPayload, sha256, signPayload } from '../chaincode/src/core/signature';
import { resolveSettings, type ConnectionSettings as NetworkSettings } from '../gateway/src/client/settings';
import { ensureCryptoMaterial, issueUser, type ConnectionSettings } from '../network/devnet/src';
import { defined } from '../network/devnet/src/defined';
import { toLowS } from '../network/devnet/src/der';

const ROOT = path.resolve(__dirname, '..');
const HOUR = 3600 * 1000;
const BINDING = { channel: 'mychannel', chaincode: 'ledgerwork' };
const ASSET_CHAINCODE = path.join(ROOT, 'network/devnet/test/fixtures/asset-transfer-basic');

interface Options {
    readonly workloads: readonly ('assets' | 'ledgerwork')[];
    readonly clients: number;
    readonly pairs: number;
    readonly batchSize: number;
    readonly batchTimeoutMs: number;
    readonly assetClients: readonly number[];
    readonly seconds: number;
    readonly warmupSeconds: number;
    /** The assets workload runs against the running network the environment describes, not a devnet of its own. */
    readonly gateway: boolean;
    /** Repository roots whose devnet CLI the assets workload runs against, in order. */
    readonly roots: readonly string[];
    readonly profileDir: string | undefined;
}

function parseOptions(argv: readonly string[]): Options {
    const values = (name: string): string[] => argv.flatMap((arg, i) => (arg === `--${name}` && argv[i + 1] !== undefined ? [argv[i + 1] ?? ''] : []));
    const number = (name: string, fallback: number): number => {
        const value = values(name).at(-1);
        if (value === undefined) {
            return fallback;
        }
        const parsed = Number(value);
        if (!Number.isFinite(parsed) || parsed < 0) {
            throw new Error(`--${name} takes a non-negative number, not ${JSON.stringify(value)}`);
        }
        return parsed;
    };
    const gateway = argv.includes('--gateway');
    const workload = values('workload').at(-1) ?? (gateway ? 'assets' : 'all');
    if (!['all', 'assets', 'ledgerwork'].includes(workload)) {
        throw new Error(`--workload takes assets, ledgerwork or all, not ${JSON.stringify(workload)}`);
    }
    if (gateway && (workload !== 'assets' || values('against').length > 0 || values('profile').length > 0)) {
        throw new Error('--gateway runs the assets workload against a running network: it takes neither --workload ledgerwork, --against nor --profile');
    }
    const assetClients = (values('assets-clients').at(-1) ?? '32,128').split(',').map(Number);
    if (assetClients.some((k) => !Number.isInteger(k) || k < 1)) {
        throw new Error('--assets-clients takes a comma-separated list of positive integers');
    }
    const against = values('against').map((root) => path.resolve(root));
    for (const root of against) {
        if (!existsSync(path.join(root, 'network/devnet/src/cli.ts'))) {
            throw new Error(`--against ${root}: no network/devnet/src/cli.ts there`);
        }
    }
    return {
        workloads: workload === 'all' ? ['assets', 'ledgerwork'] : [workload as 'assets' | 'ledgerwork'],
        gateway,
        clients: number('clients', 8),
        pairs: number('pairs', 20),
        batchSize: number('batch-size', 50),
        batchTimeoutMs: number('batch-timeout', 50),
        assetClients,
        seconds: number('seconds', 20),
        warmupSeconds: number('warmup', 30),
        roots: [ROOT, ...against],
        profileDir: values('profile').at(-1),
    };
}

type SignerKind = 'default' | 'node:crypto';

interface Client {
    readonly gateway: Gateway;
    readonly contract: Contract;
}

let signingNs = 0n;

function nodeCryptoSigner(key: KeyObject): (message: Uint8Array) => Promise<Uint8Array> {
    return (message) => Promise.resolve(toLowS(nodeSign('sha256', message, key)));
}

/** Where a gateway client connects and as whom: a devnet's settings, or a running network's. */
type ClientSettings = Pick<ConnectionSettings, 'peerEndpoint' | 'tlsCertPath' | 'mspId' | 'certPath' | 'keyPath'> & { readonly peerHostAlias?: string };

function newGrpcClient(settings: ClientSettings): grpc.Client {
    return new grpc.Client(settings.peerEndpoint, grpc.credentials.createSsl(readFileSync(settings.tlsCertPath)),
        settings.peerHostAlias === undefined ? {} : { 'grpc.ssl_target_name_override': settings.peerHostAlias });
}

/** A gateway connection as `settings`' identity over `grpcClient` (shared by every client, as Fabric advises). */
function connectAs(grpcClient: grpc.Client, settings: ClientSettings, kind: SignerKind, chaincode: string, channel = 'mychannel'): Client {
    const key = createPrivateKey(readFileSync(settings.keyPath));
    const timed = (signer: (bytes: Uint8Array) => Promise<Uint8Array>) => async (bytes: Uint8Array): Promise<Uint8Array> => {
        const start = process.hrtime.bigint();
        const signature = await signer(bytes);
        signingNs += process.hrtime.bigint() - start;
        return signature;
    };
    const gateway = connect({
        client: grpcClient,
        identity: { mspId: settings.mspId, credentials: readFileSync(settings.certPath) },
        signer: timed(kind === 'default' ? signers.newPrivateKeySigner(key) : nodeCryptoSigner(key)),
        ...(kind === 'default' ? {} : { hash: hash.none }),
    });
    return { gateway, contract: gateway.getNetwork(channel).getContract(chaincode) };
}

interface RunningChild {
    readonly child: ChildProcess;
    readonly settings: ConnectionSettings[];
}

function startDevnet(root: string, dir: string, options: Options, chaincode: string, profile: string | undefined): Promise<RunningChild> {
    // No --cpu-prof-name: worker threads inherit the flags, and would overwrite one another's file and the main thread's.
    const profiling = profile === undefined || options.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.join(options.profileDir, profile)];
    const child = spawn(process.execPath, [...profiling, '-r', path.join(root, 'scripts/register-ts.js'), path.join(root, 'network/devnet/src/cli.ts'), 'up',
        '--dir', dir, '--port', '0', '--json', '--batch-size', String(options.batchSize), '--batch-timeout', String(options.batchTimeoutMs),
        '--chaincode', chaincode], { stdio: ['ignore', 'pipe', 'inherit'] });
    return new Promise((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            const newline = out.indexOf('\n');
            if (newline >= 0) {
                resolve({ child, settings: (JSON.parse(out.slice(0, newline)) as { orgs: ConnectionSettings[] }).orgs });
            }
        });
        child.once('exit', (code) => {
            reject(new Error(`devnet exited with ${code}`));
        });
    });
}

async function stopDevnet(child: ChildProcess): Promise<void> {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
}

/** CPU seconds (user + system) of `/proc/<path>/stat` (a process, or one of its threads: `pid/task/tid`). */
function cpuSeconds(procPath: string): number {
    const stat = readFileSync(`/proc/${procPath}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of a process so far: all threads, and its main thread alone. */
function processCpu(pid: number): { readonly total: number; readonly main: number } {
    return { total: cpuSeconds(String(pid)), main: cpuSeconds(`${pid}/task/${pid}`) };
}

function percentile(sorted: readonly number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function cell(value: number, digits = 1): string {
    return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

/** A short name of the devnet sources at `root`: its git commit (with `+` when its tree has changes). */
function describeRoot(root: string): string {
    try {
        const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'network/devnet/src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
        return `${commit}${dirty ? '+' : ''}`;
    } catch {
        return path.basename(root);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// assets: closed-loop asset-transfer CreateAsset

interface AssetResult {
    readonly committed: number;
    readonly invalid: number;
    readonly failed: number;
    readonly seconds: number;
    readonly p50: number;
    readonly p99: number;
    readonly clientCpu: number;
    readonly devnetCpu: number;
    readonly devnetMainCpu: number;
}

/**
 * K clients in a closed loop for the warm-up and the measured window: each submits `CreateAsset` (a fresh asset id,
 * `idPrefix` first) and waits for its commit status, over and over. `devnetPid`: the devnet whose CPU is measured.
 */
async function closedLoop(contracts: readonly Contract[], options: Options, devnetPid: number | undefined, idPrefix: string): Promise<AssetResult> {
    const started = performance.now();
    const measureFrom = started + options.warmupSeconds * 1000;
    const measureTo = measureFrom + options.seconds * 1000;
    const latencies: number[] = [];
    let committed = 0;
    let invalid = 0;
    let failed = 0;
    const devnetCpu = (): { total: number; main: number } => (devnetPid === undefined ? { total: NaN, main: NaN } : processCpu(devnetPid));
    let cpuAtStart: { client: NodeJS.CpuUsage; devnet: { total: number; main: number } } | undefined;
    const warmupDone = setTimeout(() => { cpuAtStart = { client: process.cpuUsage(), devnet: devnetCpu() }; }, measureFrom - started);
    let cpuAtEnd: { client: NodeJS.CpuUsage; devnet: { total: number; main: number } } | undefined;
    const measureDone = setTimeout(() => { cpuAtEnd = { client: process.cpuUsage(), devnet: devnetCpu() }; }, measureTo - started);
    await Promise.all(contracts.map(async (contract, i) => {
        for (let n = 0; performance.now() < measureTo; n++) {
            const start = performance.now();
            let successful = false;
            try {
                const submitted = await contract.submitAsync('CreateAsset', { arguments: [`${idPrefix}asset-${i}-${n}`, 'blue', '5', 'Tomoko', '300'] });
                successful = (await submitted.getStatus()).successful;
            } catch (error) {
                if (failed === 0) {
                    process.stderr.write(`first failure: ${(error as Error).message}\n`);
                }
                failed++;
                continue;
            }
            const end = performance.now();
            if (start >= measureFrom && end <= measureTo) {
                latencies.push(end - start);
            }
            if (end >= measureFrom && end <= measureTo) {
                if (successful) {
                    committed++;
                } else {
                    invalid++;
                }
            }
        }
    }));
    clearTimeout(warmupDone);
    clearTimeout(measureDone);
    latencies.sort((a, b) => a - b);
    const from = defined(cpuAtStart);
    const to = defined(cpuAtEnd);
    return {
        committed,
        invalid,
        failed,
        seconds: options.seconds,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        clientCpu: (to.client.user + to.client.system - from.client.user - from.client.system) / 1e6,
        devnetCpu: to.devnet.total - from.devnet.total,
        devnetMainCpu: to.devnet.main - from.devnet.main,
    };
}

/** The workload on a devnet started from `root`'s sources, its K clients spread over its orgs, each its own user. */
async function runAssets(root: string, label: string, clients: number, options: Options): Promise<AssetResult> {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-devnet-assets-'));
    try {
        const { child, settings } = await startDevnet(root, dir, options, `basic=${ASSET_CHAINCODE}`, `devnet-${label}-k${clients}`);
        const material = ensureCryptoMaterial(dir, settings.length);
        const grpcClient = newGrpcClient(defined(settings[0]));
        const gateways = Array.from({ length: clients }, (_, i) => {
            const org = i % settings.length;
            const identity = issueUser(defined(material.orgs[org]), `client${i}`);
            return connectAs(grpcClient, { ...defined(settings[org]), certPath: identity.certPath, keyPath: identity.keyPath }, 'node:crypto', 'basic');
        });
        const result = await closedLoop(gateways.map(({ contract }) => contract), options, child.pid, '');
        for (const { gateway } of gateways) {
            gateway.close();
        }
        grpcClient.close();
        await stopDevnet(child);
        return result;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** The running network the environment describes, with CHAINCODE_NAME defaulting to `basic`. */
function gatewaySettings(): NetworkSettings {
    return resolveSettings({ env: process.env, explicit: { chaincodeName: process.env['CHAINCODE_NAME'] || 'basic' } });
}

/**
 * The workload on the running network the environment describes: its K clients all use that one identity (a network
 * of fabric-samples has one user per org), and asset ids start with this run's time, as the network keeps its state.
 */
async function runAssetsOnGateway(settings: NetworkSettings, clients: number, options: Options): Promise<AssetResult> {
    const grpcClient = newGrpcClient(settings);
    const gateways = Array.from({ length: clients }, () => connectAs(grpcClient, settings, 'node:crypto', settings.chaincodeName, settings.channelName));
    try {
        return await closedLoop(gateways.map(({ contract }) => contract), options, undefined, `${Date.now().toString(36)}-`);
    } finally {
        for (const { gateway } of gateways) {
            gateway.close();
        }
        grpcClient.close();
    }
}

async function assetsWorkload(options: Options): Promise<void> {
    const network = options.gateway ? gatewaySettings() : undefined;
    const labels = network === undefined ? options.roots.map(describeRoot) : [`${network.peerEndpoint} (running)`];
    process.stdout.write(`\nasset-transfer CreateAsset, closed loop: K clients each submit and wait for the commit status; node:crypto signer; `
        + (network === undefined
            ? `3 orgs, majority endorsement; batch ${options.batchSize} / ${options.batchTimeoutMs} ms`
            : `the running network at ${network.peerEndpoint} (its own orgs, endorsement policy and batch settings), chaincode ${network.chaincodeName} on ${network.channelName}, every client as ${network.mspId}'s ${path.basename(network.certPath)}`)
        + `; ${options.seconds} s measured after ${options.warmupSeconds} s warm-up\n\n`);
    process.stdout.write('| devnet | K | committed tx/s | p50 commit ms | p99 commit ms | invalid | failed | client CPU ms/tx | devnet CPU ms/tx | of which main thread ms/tx | load avg (1 min) at start |\n'
        + '|---|---|---|---|---|---|---|---|---|---|---|\n');
    for (const clients of options.assetClients) {
        for (const [index, label] of labels.entries()) {
            const load = defined(loadavg()[0]);
            const r = network === undefined ? await runAssets(defined(options.roots[index]), `${index}-${label}`, clients, options) : await runAssetsOnGateway(network, clients, options);
            const perTx = (cpuSeconds: number): string => cell((1000 * cpuSeconds) / (r.committed + r.invalid), 2);
            process.stdout.write(`| ${label} | ${clients} | ${cell(r.committed / r.seconds)} | ${cell(r.p50, 0)} | ${cell(r.p99, 0)} | ${r.invalid} | ${r.failed} `
                + `| ${perTx(r.clientCpu)} | ${perTx(r.devnetCpu)} | ${perTx(r.devnetMainCpu)} | ${load.toFixed(2)} |\n`);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// ledgerwork: claim + submit pairs

interface LedgerworkResult {
    readonly kind: SignerKind;
    readonly committed: number;
    readonly invalid: number;
    readonly seconds: number;
    readonly p50: number;
    readonly p99: number;
    readonly clientCpu: number;
    readonly signingCpu: number;
    readonly devnetCpu: number;
}

async function runLedgerwork(kind: SignerKind, options: Options): Promise<LedgerworkResult> {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-devnet-'));
    const { child, settings } = await startDevnet(ROOT, dir, options, `ledgerwork=${path.join(ROOT, 'chaincode')}`, undefined);
    const pid = child.pid ?? 0;
    const material = ensureCryptoMaterial(dir, 3);
    const org1 = defined(settings[0]);
    const grpcClient = newGrpcClient(org1);
    const withUser = (org: number, name: string): ConnectionSettings & { account: string } => {
        const identity = issueUser(defined(material.orgs[org]), name);
        return {
            ...defined(settings[org]),
            certPath: identity.certPath,
            keyPath: identity.keyPath,
            account: accountOf(identity.mspId, certificateFacts(identity.certificatePem)),
        };
    };
    const admin = connectAs(grpcClient, { ...org1, certPath: org1.certPath.replace(/User1/g, 'Admin'), keyPath: org1.keyPath.replace(/User1/g, 'Admin') }, kind, 'ledgerwork');
    const publisherSettings = withUser(0, 'publisher');
    const publisher = connectAs(grpcClient, publisherSettings, kind, 'ledgerwork');
    await admin.contract.submitTransaction('credits:Mint', publisherSettings.account, '100000000');

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const executors = await Promise.all(Array.from({ length: options.clients }, async (_, i) => {
        const client = connectAs(grpcClient, withUser(i % 3, `exec${i}`), kind, 'ledgerwork');
        await client.contract.submitTransaction('executors:Register', `exec-${i}`, JSON.stringify({ capacity: options.pairs + 1 }));
        return client;
    }));
    const input = Buffer.from('benchmark input');
    const tasksOf: string[][] = executors.map(() => []);
    for (let i = 0; i < options.clients; i++) {
        const jobId = `bench-${i}`;
        const tasks = Array.from({ length: options.pairs }, (_, t) => ({ id: `${jobId}-t${t}`, publicKey: publicKeyPem, input: { inline: input.toString('base64') }, reward: '1' }));
        tasksOf[i] = tasks.map((t) => t.id);
        await publisher.contract.submitTransaction('jobs:Publish', JSON.stringify({
            id: jobId,
            program: { uri: 'https://org1.example.com/programs/count.wasm', sha256: 'a'.repeat(64) },
            taskCount: tasks.length,
            deadline: Date.now() + 24 * HOUR,
            leaseMs: HOUR,
            tasks,
        }));
    }

    const latencies: number[] = [];
    let committed = 0;
    let invalid = 0;
    const submitTimed = async (contract: Contract, fn: string, args: string[]): Promise<boolean> => {
        const start = performance.now();
        const submitted = await contract.submitAsync(fn, { arguments: args });
        const status = await submitted.getStatus();
        latencies.push(performance.now() - start);
        if (status.successful) {
            committed++;
        } else {
            invalid++;
        }
        return status.successful;
    };
    signingNs = 0n;
    const clientCpu0 = process.cpuUsage();
    const devnetCpu0 = processCpu(pid).total;
    const t0 = performance.now();
    await Promise.all(executors.map(async (client, i) => {
        for (const taskId of tasksOf[i] ?? []) {
            if (!(await submitTimed(client.contract, 'tasks:Claim', [taskId, `exec-${i}`]))) {
                continue;
            }
            const result = Buffer.from(`result of ${taskId}`);
            const signatures = {
                input: signPayload(privateKey, inputPayload(BINDING, taskId, sha256(input))),
                result: signPayload(privateKey, resultPayload(BINDING, taskId, sha256(result))),
            };
            await submitTimed(client.contract, 'tasks:Submit', [taskId, `exec-${i}`, JSON.stringify({ result: result.toString('base64'), signatures })]);
        }
    }));
    const seconds = (performance.now() - t0) / 1000;
    const clientCpu = process.cpuUsage(clientCpu0);
    const devnetCpu = processCpu(pid).total - devnetCpu0;
    for (const client of [admin, publisher, ...executors]) {
        client.gateway.close();
    }
    grpcClient.close();
    await stopDevnet(child);
    rmSync(dir, { recursive: true, force: true });
    latencies.sort((a, b) => a - b);
    return {
        kind,
        committed,
        invalid,
        seconds,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        clientCpu: (clientCpu.user + clientCpu.system) / 1e6,
        signingCpu: Number(signingNs) / 1e9,
        devnetCpu,
    };
}

async function ledgerworkWorkload(options: Options): Promise<void> {
    process.stdout.write(`\nledgerwork claim + submit: ${options.clients} clients × ${options.pairs} pairs, batch ${options.batchSize} / ${options.batchTimeoutMs} ms\n\n`);
    process.stdout.write('| signer | committed tx | invalid | seconds | committed tx/s | p50 commit ms | p99 commit ms | client CPU s | of which signing s | devnet CPU s |\n|---|---|---|---|---|---|---|---|---|---|\n');
    for (const kind of ['default', 'node:crypto'] as const) {
        const r = await runLedgerwork(kind, options);
        process.stdout.write(`| ${r.kind} | ${r.committed} | ${r.invalid} | ${r.seconds.toFixed(2)} | ${(r.committed / r.seconds).toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.clientCpu.toFixed(2)} | ${r.signingCpu.toFixed(2)} | ${r.devnetCpu.toFixed(2)} |\n`);
    }
}

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    process.stdout.write(`devnet throughput: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    if (options.workloads.includes('assets')) {
        await assetsWorkload(options);
    }
    if (options.workloads.includes('ledgerwork')) {
        await ledgerworkWorkload(options);
    }
    if (options.profileDir !== undefined) {
        const profiles = readdirSync(options.profileDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.cpuprofile'));
        process.stdout.write(`\ndevnet CPU profiles, one per thread (the main thread's has thread id 0, after the process id): ${profiles.map((f) => path.join(options.profileDir ?? '', f)).join(', ')}\n`);
    }
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
});
