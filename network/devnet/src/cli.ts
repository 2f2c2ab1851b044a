#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/**
 * `ledgerwork-devnet`: start, stop and administer a devnet.
 *
 * ```
 * ledgerwork-devnet up [--orgs N] [--port P] [--port-per-org] [--host H] [--dir D] [--chaincode NAME=FOLDER]... [--collections-config NAME=FILE]...
 *                      [--signature-policy NAME=POLICY]... [--channel-config-policy NAME=PATH]... [--service]
 *                      [--batch-size N] [--batch-timeout MS] [--nice N] [--no-tls] [--json] [--detach]
 * ledgerwork-devnet down [--dir D]
 * ledgerwork-devnet env [--dir D] [--org N] [--user NAME] [--json]
 * ledgerwork-devnet user add --name NAME [--org N] [--admin] [--attr KEY=VALUE]... [--dir D]
 * ```
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import path from 'node:path';
import type { ChaincodeDefinition } from './devnet';
import { defined } from './defined';
import { ensureCryptoMaterial, issueUser, startDevnet, testNetworkPorts, type ConnectionSettings } from './index';

interface Args {
    readonly positional: string[];
    readonly flags: Map<string, string[]>;
}

const BOOLEAN_FLAGS = new Set(['json', 'detach', 'no-tls', 'admin', 'help', 'service', 'port-per-org']);

function parseArgs(argv: readonly string[]): Args {
    const positional: string[] = [];
    const flags = new Map<string, string[]>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] ?? '';
        if (!arg.startsWith('--')) {
            positional.push(arg);
            continue;
        }
        const [name = '', inline] = arg.slice(2).split(/=(.*)/s, 2);
        const value = BOOLEAN_FLAGS.has(name) ? 'true' : inline ?? argv[++i];
        if (value === undefined) {
            throw new Error(`--${name} needs a value`);
        }
        flags.set(name, [...(flags.get(name) ?? []), value]);
    }
    return { positional, flags };
}

function flag(args: Args, name: string): string | undefined {
    return args.flags.get(name)?.at(-1);
}

/** The port `up` listens on without --port: LEDGERWORK_DEVNET_PORT, else Fabric's 7051. */
function defaultPort(): number {
    const value = process.env.LEDGERWORK_DEVNET_PORT;
    if (value === undefined || value === '') {
        return 7051;
    }
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`LEDGERWORK_DEVNET_PORT must be a port number (0 for any free port), not ${JSON.stringify(value)}`);
    }
    return port;
}

function intFlag(args: Args, name: string, fallback: number): number {
    const value = flag(args, name);
    if (value === undefined) {
        return fallback;
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) {
        throw new Error(`--${name} must be a non-negative integer`);
    }
    return n;
}

/** Settings as shell exports, named as fabric-samples' gateway applications read them. */
function exportsOf(settings: ConnectionSettings, dir: string, chaincode: string | undefined): string {
    const vars: [string, string][] = [
        ['PEER_ENDPOINT', settings.peerEndpoint],
        ['PEER_HOST_ALIAS', settings.peerHostAlias],
        ['TLS_CERT_PATH', settings.tlsCertPath],
        ['MSP_ID', settings.mspId],
        ['CERT_PATH', settings.certPath],
        ['KEY_PATH', settings.keyPath],
        ['CERT_DIRECTORY_PATH', path.dirname(settings.certPath)],
        ['KEY_DIRECTORY_PATH', path.dirname(settings.keyPath)],
        ['CRYPTO_PATH', path.join(dir, 'organizations', 'peerOrganizations', settings.peerHostAlias.replace(/^peer0\./, ''))],
        ['CHANNEL_NAME', settings.channelName],
        ...(chaincode === undefined ? [] : [['CHAINCODE_NAME', chaincode] as [string, string]]),
    ];
    return vars.map(([k, v]) => `export ${k}=${JSON.stringify(v)}`).join('\n');
}

interface ChaincodeSpec {
    readonly name: string;
    readonly folder: string;
    /** `service`: run as `fabric-chaincode-node server` (CCaaS); `in-process`: in worker threads of the devnet. */
    readonly mode?: 'service' | 'in-process';
    /** Its private data collections: a `collections_config.json` file, read at every start. */
    readonly collectionsConfig?: string;
    /** Its endorsement policy as a signature policy (`--signature-policy`). */
    readonly signaturePolicy?: string;
    /** Its endorsement policy as a channel configuration policy path (`--channel-config-policy`). */
    readonly channelConfigPolicy?: string;
}

/** The endorsement policy fields of a chaincode spec, as a chaincode definition takes them. */
function policyOf(spec: ChaincodeSpec): { readonly signaturePolicy?: string; readonly channelConfigPolicy?: string } {
    return {
        ...(spec.signaturePolicy === undefined ? {} : { signaturePolicy: spec.signaturePolicy }),
        ...(spec.channelConfigPolicy === undefined ? {} : { channelConfigPolicy: spec.channelConfigPolicy }),
    };
}

/** The collections configuration of a chaincode spec, read from its file. */
function collectionsOf(spec: ChaincodeSpec): { readonly collections?: string } {
    if (spec.collectionsConfig === undefined) {
        return {};
    }
    try {
        return { collections: readFileSync(spec.collectionsConfig, 'utf8') };
    } catch (error) {
        throw new Error(`cannot read the collections configuration of chaincode ${spec.name}: ${(error as Error).message}`);
    }
}

/** An in-process chaincode: the folder's package, run by the devnet's workers as `fabric-chaincode-node start` would. */
function loadChaincode(spec: ChaincodeSpec): ChaincodeDefinition {
    const folder = path.resolve(spec.folder);
    const pkg = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { version?: string };
    return { name: spec.name, folder, ...(pkg.version === undefined ? {} : { version: pkg.version }), ...collectionsOf(spec), ...policyOf(spec) };
}

function writeAtomic(file: string, content: string): void {
    writeFileSync(`${file}.tmp`, content);
    renameSync(`${file}.tmp`, file);
}

/**
 * The chaincodes to deploy: those remembered in `dir/chaincodes.json` plus `--chaincode` flags (remembered once the
 * devnet started with them), with their collections and endorsement policies.
 */
function chaincodeSpecs(args: Args, dir: string): Map<string, ChaincodeSpec> {
    // Chaincodes given once are remembered in the directory and redeployed on every start.
    const specsFile = path.join(dir, 'chaincodes.json');
    const specs = new Map<string, ChaincodeSpec>((existsSync(specsFile) ? JSON.parse(readFileSync(specsFile, 'utf8')) as ChaincodeSpec[] : []).map((s) => [s.name, s]));
    for (const value of args.flags.get('chaincode') ?? []) {
        const [name = '', folder] = value.split(/=(.*)/s, 2);
        if (name === '' || folder === undefined) {
            throw new Error('--chaincode takes NAME=FOLDER');
        }
        specs.set(name, { name, folder: path.resolve(folder), mode: flag(args, 'service') === undefined ? 'in-process' : 'service' });
    }
    for (const value of args.flags.get('collections-config') ?? []) {
        const [name = '', file] = value.split(/=(.*)/s, 2);
        const spec = specs.get(name);
        if (name === '' || file === undefined || spec === undefined) {
            throw new Error('--collections-config takes NAME=FILE, NAME a chaincode given with --chaincode');
        }
        specs.set(name, { ...spec, collectionsConfig: path.resolve(file) });
    }
    applyPolicyFlags(args, specs);
    return specs;
}

/** Remembers the chaincodes deployed in `dir/chaincodes.json`, once they are. */
function rememberChaincodes(dir: string, specs: ReadonlyMap<string, ChaincodeSpec>): void {
    writeAtomic(path.join(dir, 'chaincodes.json'), JSON.stringify([...specs.values()], null, 2));
}

/** Sets the endorsement policies `--signature-policy` and `--channel-config-policy` give the chaincodes in `specs`. */
function applyPolicyFlags(args: Args, specs: Map<string, ChaincodeSpec>): void {
    const named = (args.flags.get('chaincode') ?? []).map((value) => value.split('=')[0] ?? '');
    const given = new Set<string>();
    for (const option of ['signature-policy', 'channel-config-policy'] as const) {
        for (const value of args.flags.get(option) ?? []) {
            const { name, policy } = policyFlag(option, value, named, specs);
            if (option === 'channel-config-policy' && given.has(name)) {
                throw new Error(`chaincode ${name}: cannot specify both "--signature-policy" and "--channel-config-policy"`);
            }
            given.add(name);
            const { signaturePolicy: _signature, channelConfigPolicy: _channelConfig, ...rest } = defined(specs.get(name));
            // The newer flag replaces whichever policy the chaincode had, as a new definition does.
            specs.set(name, option === 'signature-policy' ? { ...rest, signaturePolicy: policy } : { ...rest, channelConfigPolicy: policy });
        }
    }
}

/**
 * The chaincode and policy of a `--signature-policy` / `--channel-config-policy` value: `NAME=POLICY` for chaincode
 * NAME, or the policy alone when the command names exactly one chaincode with `--chaincode`.
 */
function policyFlag(option: string, value: string, named: readonly string[], specs: ReadonlyMap<string, ChaincodeSpec>): { readonly name: string; readonly policy: string } {
    const [prefix = '', rest] = value.split(/=(.*)/s, 2);
    if (rest !== undefined && specs.has(prefix)) {
        return { name: prefix, policy: rest };
    }
    const only = named.length === 1 ? named[0] : undefined;
    if (only !== undefined && specs.has(only)) {
        return { name: only, policy: value };
    }
    throw new Error(`--${option} takes NAME=POLICY, NAME a chaincode given with --chaincode (or the policy alone with exactly one --chaincode)`);
}

/**
 * What distinguishes a process from a later one that reuses its pid: its start time (Linux `/proc/PID/stat` field 22,
 * else `ps -o lstart=`). Undefined if no such process.
 */
function processStartMark(pid: number): string | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Fields after the parenthesised command name, which may itself contain spaces; starttime is field 22.
        const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
        if (startTime !== undefined) {
            return `stat:${startTime}`;
        }
    } catch {
        // no /proc, or no such process
    }
    try {
        const started = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        return started === '' ? undefined : `ps:${started}`;
    } catch {
        return undefined;
    }
}

/** The devnet.pid record: the devnet's pid and its start mark. */
interface PidRecord {
    readonly pid: number;
    readonly started: string;
}

function readPidRecord(pidFile: string): PidRecord | undefined {
    try {
        const parsed = JSON.parse(readFileSync(pidFile, 'utf8')) as Partial<PidRecord>;
        return Number.isSafeInteger(parsed.pid) && typeof parsed.started === 'string' ? { pid: parsed.pid as number, started: parsed.started } : undefined;
    } catch {
        return undefined;
    }
}

/**
 * The pid of the devnet running in the directory of `pidFile`, if one is: the recorded process must still exist and
 * have the recorded start mark. A pid file or connection.json left by a devnet that is gone (`kill -9`, crash, reboot)
 * is removed, so that nothing ever signals a process that merely reused the pid.
 */
function runningDevnet(pidFile: string): number | undefined {
    if (!existsSync(pidFile)) {
        return undefined;
    }
    const record = readPidRecord(pidFile);
    if (record !== undefined && processStartMark(record.pid) === record.started) {
        return record.pid;
    }
    rmSync(pidFile, { force: true });
    rmSync(path.join(path.dirname(pidFile), 'connection.json'), { force: true });
    return undefined;
}

/**
 * The detached devnet runs this CLI's own compiled entry, never process.argv: called in-process (from the
 * ledgerwork CLI, a test runner or an application) process.argv would re-run the host program instead.
 */
function compiledEntry(): string {
    return __filename.endsWith('.ts') ? path.join(__dirname, '..', 'dist', 'cli.js') : __filename;
}

/**
 * The nice value a devnet runs at unless `--nice` says otherwise. A Fabric peer has its machine to itself; a devnet
 * shares it with the applications it serves. There, an application's event loop is one thread that every one of its
 * transactions passes through, while the devnet's work spreads over several threads: when the devnet's threads and
 * the application's all want a CPU, letting the application's go first keeps both busy (docs/benchmarks.md).
 */
const DEFAULT_NICE = 10;

function niceFlag(args: Args): number {
    const nice = intFlag(args, 'nice', DEFAULT_NICE);
    if (nice > 19) {
        throw new Error('--nice must be an integer from 0 to 19');
    }
    return nice;
}

/**
 * Lowers the CPU priority of the calling thread, and so of every thread the devnet starts after it (a thread inherits
 * its creator's nice value), to `nice`; never raises it. A failure only costs speed, so it is reported and ignored.
 */
function lowerCpuPriority(nice: number): void {
    try {
        if (getPriority() < nice) {
            setPriority(nice);
        }
    } catch (error) {
        process.stderr.write(`ledgerwork-devnet: running at the current CPU priority, as it could not be lowered to nice ${nice}: ${error instanceof Error ? error.message : String(error)}\n`);
    }
}

async function up(args: Args, argv: readonly string[]): Promise<void> {
    const dir = path.resolve(flag(args, 'dir') ?? '.devnet');
    const nice = niceFlag(args);
    const pidFile = path.join(dir, 'devnet.pid');
    // Refuse before touching anything: its connection.json, log and chaincodes.json belong to the running devnet.
    const running = runningDevnet(pidFile);
    if (running !== undefined) {
        throw new Error(`a devnet (pid ${running}) is already running in ${dir}: use it, stop it with \`ledgerwork devnet down --dir ${dir}\`, or give another --dir`);
    }
    mkdirSync(dir, { recursive: true });
    const connectionFile = path.join(dir, 'connection.json');
    if (flag(args, 'detach') !== undefined) {
        rmSync(connectionFile, { force: true });
        const log = openSync(path.join(dir, 'devnet.log'), 'a');
        const childArgs = argv.filter((a) => a !== '--detach');
        const child = spawn(process.execPath, [compiledEntry(), ...childArgs], { detached: true, stdio: ['ignore', log, log] });
        child.unref();
        const deadline = Date.now() + 60_000;
        while (!existsSync(connectionFile)) {
            if (Date.now() > deadline || child.exitCode !== null) {
                throw new Error(`the devnet did not start; see ${path.join(dir, 'devnet.log')}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const connection = readFileSync(connectionFile, 'utf8');
        const parsed = JSON.parse(connection) as { orgs: ConnectionSettings[]; chaincodes: string[] };
        const first = parsed.orgs[0];
        process.stdout.write(flag(args, 'json') !== undefined || first === undefined ? `${connection}\n` : `${exportsOf(first, dir, parsed.chaincodes[0])}\n`);
        return;
    }
    const specs = chaincodeSpecs(args, dir);
    // Before any worker or thread-pool thread starts, so that they run at it too.
    lowerCpuPriority(nice);
    const net = await startDevnet({
        dir,
        orgs: intFlag(args, 'orgs', 3),
        // LEDGERWORK_DEVNET_PORT changes the default, e.g. to 0 (any free port) where 7051 may be taken.
        port: intFlag(args, 'port', defaultPort()),
        // test-network's layout: Org1 on P, Org2 on P+2000, Org3 on P+4000 (7051, 9051, 11051); port 0: any free ports.
        ...(flag(args, 'port-per-org') === undefined ? {} : {
            orgPorts: intFlag(args, 'port', defaultPort()) === 0 ? new Array<number>(intFlag(args, 'orgs', 3)).fill(0) : testNetworkPorts(intFlag(args, 'orgs', 3), intFlag(args, 'port', defaultPort())),
        }),
        host: flag(args, 'host') ?? '127.0.0.1',
        tls: flag(args, 'no-tls') === undefined,
        batchSize: intFlag(args, 'batch-size', 10),
        batchTimeoutMs: intFlag(args, 'batch-timeout', 200),
        chaincodes: [...specs.values()].filter((s) => s.mode !== 'service').map(loadChaincode),
        services: [...specs.values()].filter((s) => s.mode === 'service').map((s) => ({ name: s.name, folder: s.folder, ...collectionsOf(s), ...policyOf(s) })),
    });
    rememberChaincodes(dir, specs);
    const chaincode = [...specs.keys()][0];
    const orgs = net.devnet.orgs.map((_, i) => net.connection(i + 1));
    const json = JSON.stringify({ pid: process.pid, dir, height: net.devnet.height, chaincodes: [...specs.keys()], orgs }, null, 2);
    writeAtomic(pidFile, JSON.stringify({ pid: process.pid, started: processStartMark(process.pid) ?? '' } satisfies PidRecord));
    // test-network's connection profiles, for fabric-network 2.2 applications and Caliper (before connection.json,
    // whose appearance tells a detaching parent that the devnet is up).
    const profiles = net.devnet.orgs.map((_, i) => path.join(dir, `connection-org${i + 1}.json`));
    profiles.forEach((file, i) => { writeAtomic(file, `${JSON.stringify(net.connectionProfile(i + 1), null, 2)}\n`); });
    writeAtomic(connectionFile, json);
    const first = orgs[0];
    if (flag(args, 'json') !== undefined || first === undefined) {
        process.stdout.write(`${JSON.stringify({ pid: process.pid, dir, height: net.devnet.height, chaincodes: [...specs.keys()], orgs })}\n`);
    } else {
        process.stdout.write(`# ledgerwork devnet: ${orgs.length} orgs, channel ${first.channelName}, height ${net.devnet.height}; Ctrl-C stops it\n${exportsOf(first, dir, chaincode)}\n`);
    }
    const stop = (): void => {
        rmSync(pidFile, { force: true });
        rmSync(connectionFile, { force: true });
        for (const file of profiles) {
            rmSync(file, { force: true });
        }
        net.stop().then(() => process.exit(0), (error: unknown) => {
            process.stderr.write(`${String(error)}\n`);
            process.exit(1);
        });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
}

async function down(args: Args): Promise<void> {
    const dir = path.resolve(flag(args, 'dir') ?? '.devnet');
    const pidFile = path.join(dir, 'devnet.pid');
    const stale = existsSync(pidFile);
    const pid = runningDevnet(pidFile);
    if (pid === undefined) {
        process.stdout.write(stale ? `no devnet running in ${dir} (removed the files of one that is gone)\n` : `no devnet running in ${dir}\n`);
        return;
    }
    try {
        process.kill(pid, 'SIGTERM');
    } catch (error) {
        throw new Error(`cannot stop devnet ${pid}: ${(error as Error).message}`);
    }
    const deadline = Date.now() + 30_000;
    while (existsSync(pidFile) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (existsSync(pidFile)) {
        throw new Error(`devnet ${pid} did not stop within 30 s; see ${path.join(dir, 'devnet.log')}`);
    }
    process.stdout.write(`devnet ${pid} stopped\n`);
}

function env(args: Args): void {
    const dir = path.resolve(flag(args, 'dir') ?? '.devnet');
    if (runningDevnet(path.join(dir, 'devnet.pid')) === undefined) {
        throw new Error(`no devnet running in ${dir}: start one with \`ledgerwork-devnet up --dir ${dir}\``);
    }
    const connection = JSON.parse(readFileSync(path.join(dir, 'connection.json'), 'utf8')) as { orgs: ConnectionSettings[]; chaincodes: string[] };
    const org = connection.orgs[intFlag(args, 'org', 1) - 1];
    if (org === undefined) {
        throw new Error('no such org');
    }
    const user = flag(args, 'user');
    const settings = user === undefined ? org : (() => {
        const domain = org.peerHostAlias.replace(/^peer0\./, '');
        const mspDir = path.join(dir, 'organizations', 'peerOrganizations', domain, 'users', `${user}@${domain}`, 'msp');
        return { ...org, certPath: path.join(mspDir, 'signcerts', `${user}@${domain}-cert.pem`), keyPath: path.join(mspDir, 'keystore', 'priv_sk') };
    })();
    process.stdout.write(flag(args, 'json') !== undefined ? `${JSON.stringify(settings)}\n` : `${exportsOf(settings, dir, connection.chaincodes[0])}\n`);
}

function userAdd(args: Args): void {
    const dir = path.resolve(flag(args, 'dir') ?? '.devnet');
    const name = flag(args, 'name');
    if (name === undefined) {
        throw new Error('--name is required');
    }
    const orgIndex = intFlag(args, 'org', 1);
    const material = ensureCryptoMaterial(dir, Math.max(orgIndex, 1));
    const org = material.orgs[orgIndex - 1];
    if (org === undefined) {
        throw new Error(`no org ${orgIndex}`);
    }
    const attrs = Object.fromEntries((args.flags.get('attr') ?? []).map((kv) => {
        const [k = '', v = ''] = kv.split(/=(.*)/s, 2);
        return [k, v];
    }));
    const identity = issueUser(org, name, { ou: flag(args, 'admin') === undefined ? 'client' : 'admin', ...(Object.keys(attrs).length === 0 ? {} : { attrs }) });
    process.stdout.write(`${JSON.stringify({ mspId: identity.mspId, name: identity.name, certPath: identity.certPath, keyPath: identity.keyPath })}\n`);
}

const USAGE = `usage:
  ledgerwork-devnet up [--orgs N] [--port P] [--host H] [--dir D] [--chaincode NAME=FOLDER]... [--collections-config NAME=FILE]... [--signature-policy NAME=POLICY]... [--channel-config-policy NAME=PATH]... [--service] [--port-per-org] [--batch-size N] [--batch-timeout MS] [--nice N] [--no-tls] [--json] [--detach]
  ledgerwork-devnet down [--dir D]
  ledgerwork-devnet env [--dir D] [--org N] [--user NAME] [--json]
  ledgerwork-devnet user add --name NAME [--org N] [--admin] [--attr KEY=VALUE]... [--dir D]
`;

/** Runs the CLI with `argv` (without node and script). */
export async function main(argv: readonly string[]): Promise<void> {
    const args = parseArgs(argv);
    const [command, sub] = args.positional;
    if (command === 'up') {
        await up(args, argv);
    } else if (command === 'down') {
        await down(args);
    } else if (command === 'env') {
        env(args);
    } else if (command === 'user' && sub === 'add') {
        userAdd(args);
    } else {
        process.stdout.write(USAGE);
        if (flag(args, 'help') === undefined) {
            process.exitCode = 2;
        }
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((error: unknown) => {
        process.stderr.write(`ledgerwork-devnet: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
    });
}
