// SPDX-License-Identifier: Apache-2.0
/**
 * Devnet throughput: K concurrent fabric-gateway clients (each its own executor identity) run ledgerwork
 * claim + submit pairs (real task signatures, real client signatures) against a devnet running as a child process
 * (the CLI, ledgerwork chaincode deployed from `chaincode/`).
 *
 * Reports committed transactions per second, p50/p99 commit latency (submitAsync → commit status), invalidated
 * transactions, and the CPU split: client signing (time inside the signer), the whole client process, and the
 * devnet process (/proc/<pid>/stat). Runs once with fabric-gateway's default signer (`signers.newPrivateKeySigner`)
 * and once with a node:crypto signer (`hash.none` + `crypto.sign('sha256', …)` + low-S), each on a fresh devnet.
 *
 * Run: `node -r ./scripts/register-ts.js scripts/bench-devnet.ts [--clients K] [--pairs N] [--batch-size B]
 * [--batch-timeout MS]` (defaults 8 clients, 20 pairs each, batch 50, 50 ms).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, signers, type Contract, type Gateway } from '@hyperledger/fabric-gateway';
import { accountOf, certificateFacts } from '../chaincode/src/core/identity';
import { inputPayload, resultPayload, sha256, signPayload } from '../chaincode/src/core/signature';
import { ensureCryptoMaterial, issueUser, type ConnectionSettings } from '../network/devnet/src';
import { toLowS } from '../network/devnet/src/der';

const ROOT = path.resolve(__dirname, '..');
const HOUR = 3600 * 1000;
const BINDING = { channel: 'mychannel', chaincode: 'ledgerwork' };

interface Options {
    readonly clients: number;
    readonly pairs: number;
    readonly batchSize: number;
    readonly batchTimeoutMs: number;
}

function parseOptions(argv: readonly string[]): Options {
    const get = (name: string, fallback: number): number => {
        const i = argv.indexOf(`--${name}`);
        return i >= 0 ? Number(argv[i + 1]) : fallback;
    };
    return { clients: get('clients', 8), pairs: get('pairs', 20), batchSize: get('batch-size', 50), batchTimeoutMs: get('batch-timeout', 50) };
}

type SignerKind = 'default' | 'node:crypto';

interface Client {
    readonly gateway: Gateway;
    readonly contract: Contract;
    readonly grpcClient: grpc.Client;
}

let signingNs = 0n;

function connectAs(settings: ConnectionSettings, kind: SignerKind): Client {
    const grpcClient = new grpc.Client(settings.peerEndpoint, grpc.credentials.createSsl(readFileSync(settings.tlsCertPath)), {
        'grpc.ssl_target_name_override': settings.peerHostAlias,
    });
    const key = createPrivateKey(readFileSync(settings.keyPath));
    const timed = (signer: (bytes: Uint8Array) => Promise<Uint8Array>) => async (bytes: Uint8Array): Promise<Uint8Array> => {
        const start = process.hrtime.bigint();
        const signature = await signer(bytes);
        signingNs += process.hrtime.bigint() - start;
        return signature;
    };
    const signer = kind === 'default'
        ? timed(signers.newPrivateKeySigner(key))
        : timed((message) => Promise.resolve(toLowS(nodeSign('sha256', message, key))));
    const gateway = connect({
        client: grpcClient,
        identity: { mspId: settings.mspId, credentials: readFileSync(settings.certPath) },
        signer,
        ...(kind === 'default' ? {} : { hash: hash.none }),
    });
    return { gateway, grpcClient, contract: gateway.getNetwork('mychannel').getContract('ledgerwork') };
}

function startDevnet(dir: string, options: Options): Promise<{ child: ChildProcess; settings: ConnectionSettings[] }> {
    const child = spawn(process.execPath, ['-r', path.join(ROOT, 'scripts/register-ts.js'), path.join(ROOT, 'network/devnet/src/cli.ts'), 'up',
        '--dir', dir, '--port', '0', '--json', '--batch-size', String(options.batchSize), '--batch-timeout', String(options.batchTimeoutMs),
        '--chaincode', `ledgerwork=${path.join(ROOT, 'chaincode')}`], { stdio: ['ignore', 'pipe', 'inherit'] });
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

/** CPU seconds (user + system) of process `pid` so far. */
function processCpu(pid: number): number {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: readonly number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Result {
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

async function run(kind: SignerKind, options: Options): Promise<Result> {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-devnet-'));
    const { child, settings } = await startDevnet(dir, options);
    const pid = child.pid ?? 0;
    const material = ensureCryptoMaterial(dir, 3);
    const org1 = settings[0]!;
    const withUser = (org: number, name: string): ConnectionSettings & { account: string } => {
        const identity = issueUser(material.orgs[org]!, name);
        return {
            ...settings[org]!,
            certPath: identity.certPath,
            keyPath: identity.keyPath,
            account: accountOf(identity.mspId, certificateFacts(identity.certificatePem)),
        };
    };
    const admin = connectAs({ ...org1, certPath: org1.certPath.replace(/User1/g, 'Admin'), keyPath: org1.keyPath.replace(/User1/g, 'Admin') }, kind);
    const publisherSettings = withUser(0, 'publisher');
    const publisher = connectAs(publisherSettings, kind);
    await admin.contract.submitTransaction('credits:Mint', publisherSettings.account, '100000000');

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const executors = await Promise.all(Array.from({ length: options.clients }, async (_, i) => {
        const client = connectAs(withUser(i % 3, `exec${i}`), kind);
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
    const devnetCpu0 = processCpu(pid);
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
    const devnetCpu = processCpu(pid) - devnetCpu0;
    for (const client of [admin, publisher, ...executors]) {
        client.gateway.close();
        client.grpcClient.close();
    }
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
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

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    process.stdout.write(`devnet throughput: ${options.clients} clients × ${options.pairs} claim+submit pairs, batch ${options.batchSize} / ${options.batchTimeoutMs} ms, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}\n\n`);
    process.stdout.write('| signer | committed tx | invalid | seconds | committed tx/s | p50 commit ms | p99 commit ms | client CPU s | of which signing s | devnet CPU s |\n|---|---|---|---|---|---|---|---|---|---|\n');
    for (const kind of ['default', 'node:crypto'] as const) {
        const r = await run(kind, options);
        process.stdout.write(`| ${r.kind} | ${r.committed} | ${r.invalid} | ${r.seconds.toFixed(2)} | ${(r.committed / r.seconds).toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.clientCpu.toFixed(2)} | ${r.signingCpu.toFixed(2)} | ${r.devnetCpu.toFixed(2)} |\n`);
    }
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
});
