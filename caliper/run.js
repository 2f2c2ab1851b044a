#!/usr/bin/env node
'use strict';
/*
 * Runs Hyperledger Caliper 0.6 against the devnet, or against a real Fabric network described by environment
 * variables, and prints each round's figures. CALIPER_BINDING picks Caliper's Fabric binding: `fabric:2.2` (default;
 * fabric-network 2.2: the peer's Endorser, Discovery and Deliver services, the orderer's Broadcast) or `fabric-gateway`
 * (@hyperledger/fabric-gateway 1.5.0 on @grpc/grpc-js 1.10.3, as `caliper bind --caliper-bind-sut fabric:fabric-gateway`
 * installs them: the peer's Gateway service).
 *
 *   npm run bench:caliper [-- asset-transfer|ledgerwork|all]      (default all)
 *
 * Installs the binding's dependencies (about 600 packages, from this folder's lockfile, or gateway/'s) into CALIPER_HOME
 * (default ~/.cache/ledgerwork-caliper, or ~/.cache/ledgerwork-caliper-gateway) on first use. Without CALIPER_CONNECTION_PROFILE it
 * starts a devnet in a temporary directory (3 orgs, one port per org, chaincodes `basic` = asset-transfer-basic
 * and `ledgerwork` = ./chaincode) and stops it afterwards. For a real network set:
 *   CALIPER_CONNECTION_PROFILE  connection profile of the client's org (JSON or YAML)
 *   CALIPER_MSP_ID              the client's MSP id (default Org1MSP)
 *   CALIPER_CERT_PATH, CALIPER_KEY_PATH              the client's certificate and private key (PEM)
 *   CALIPER_CHANNEL (mychannel), CALIPER_DISCOVER (true), CALIPER_ASSET_CONTRACT (basic)
 *   CALIPER_IDENTITIES_DIR      for the ledgerwork benchmark: a folder of the client org's users in cryptogen's layout
 *                               (<name>/msp/signcerts/*.pem, <name>/msp/keystore/<key>), one account each, at least
 *                               CALIPER_LEDGERWORK_LOAD of them; and CALIPER_ADMIN_CERT_PATH, CALIPER_ADMIN_KEY_PATH
 *                               (an admin of the chaincode, who mints the accounts' credits)
 * CALIPER_WORKERS: Caliper worker processes for asset-transfer (default 1; ledgerwork runs one worker: a ranked job's
 * node, chosen at publish, must be one of the filing worker's executors). One worker of the fabric-gateway binding signs in JavaScript
 * (elliptic) three times per submitted transaction and can itself be what limits the round; see docs/benchmarks.md.
 * Round sizes: CALIPER_TX (transactions per asset-transfer submitting round, default 1000), CALIPER_LOAD (in flight,
 * default 64); CALIPER_LEDGERWORK_TX (per ledgerwork round, default 200), CALIPER_LEDGERWORK_LOAD (in flight and
 * accounts, default 8). The ledgerwork rounds run under workloads/inFlightLimit.js (a hard bound on transactions in
 * flight); CALIPER_LEDGERWORK_RATE_CONTROL names another controller (e.g. fixed-load).
 * CALIPER_NODE_ARGS: Node flags for Caliper's manager process, which its worker processes inherit (Caliper forks them
 * with the manager's flags), e.g. `--cpu-prof --cpu-prof-dir=/tmp/caliper-prof` to profile the worker.
 * Outputs (configs, caliper.log, report-*.html, the devnet's devnet.log) go to caliper/out/<run>/. After each benchmark
 * the script prints the load average and the CPU time the devnet spent on it; the log's "round probe" lines give each
 * round's transactions really in flight, the worker's event-loop delay and its CPU per transaction.
 */
const { spawnSync } = require('node:child_process');
const { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const HERE = __dirname;
const ROOT = path.resolve(HERE, '..');
// Caliper's binding: fabric:2.2 (fabric-network 2.2: the peer's Endorser, Discovery and Deliver, the orderer's
// Broadcast) or fabric-gateway (@hyperledger/fabric-gateway 1.5.0 with @grpc/grpc-js 1.10.3: the peer's Gateway service),
// each installed from its own lockfile into its own folder — Caliper refuses to run with two Fabric bindings.
const BINDINGS = {
    'fabric:2.2': { source: HERE, folder: 'ledgerwork-caliper', label: 'Caliper 0.6.0 and fabric-network 2.2.20' },
    'fabric-gateway': { source: path.join(HERE, 'gateway'), folder: 'ledgerwork-caliper-gateway', label: 'Caliper 0.6.0, @hyperledger/fabric-gateway 1.5.0 and @grpc/grpc-js 1.10.3' },
};
const BINDING_NAME = process.env.CALIPER_BINDING ?? 'fabric:2.2';
const BINDING = BINDINGS[BINDING_NAME];
// Caliper is installed outside the repository: inside it, Node would also find the root's @hyperledger/fabric-gateway
// and Caliper refuses to run with two Fabric bindings.
const HOME = path.resolve(process.env.CALIPER_HOME ?? path.join(os.homedir(), '.cache', BINDING?.folder ?? 'ledgerwork-caliper'));
const DEVNET_CLI = path.join(ROOT, 'network', 'devnet', 'dist', 'cli.js');
const env = process.env;

function run(command, args, options = {}) {
    const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, ...options });
    if (result.status !== 0) {
        throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout ?? ''}${result.stderr ?? ''}`);
    }
    return result.stdout;
}

function install() {
    mkdirSync(HOME, { recursive: true });
    const lock = readFileSync(path.join(BINDING.source, 'package-lock.json'), 'utf8');
    const installedLock = path.join(HOME, 'node_modules', '.ledgerwork-lock.json');
    if (!existsSync(installedLock) || readFileSync(installedLock, 'utf8') !== lock) {
        process.stdout.write(`installing ${BINDING.label} into ${HOME} (first run only)\n`);
        copyFileSync(path.join(BINDING.source, 'package.json'), path.join(HOME, 'package.json'));
        writeFileSync(path.join(HOME, 'package-lock.json'), lock);
        run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: HOME, stdio: 'inherit' });
        writeFileSync(installedLock, lock);
    }
    cpSync(path.join(HERE, 'workloads'), path.join(HOME, 'workloads'), { recursive: true });
}

/** Starts a devnet; returns what the network config needs and how to stop it. */
function startDevnet() {
    if (!existsSync(DEVNET_CLI)) {
        throw new Error(`${DEVNET_CLI} is missing: run npm install at the repository root first`);
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ledgerwork-caliper-'));
    const out = run(process.execPath, [DEVNET_CLI, 'up', '--dir', dir, '--port', '0', '--port-per-org', '--detach', '--json',
        '--chaincode', `basic=${path.join(ROOT, 'network', 'devnet', 'test', 'fixtures', 'asset-transfer-basic')}`,
        '--chaincode', `ledgerwork=${path.join(ROOT, 'chaincode')}`]);
    const org1 = JSON.parse(out).orgs[0];
    // The ledgerwork benchmark's accounts: Org1 users issued by the devnet's CA, as `ledgerwork-devnet user add` does.
    const devnet = require(path.join(ROOT, 'network', 'devnet', 'dist', 'index.js'));
    const org = devnet.ensureCryptoMaterial(dir, 1).orgs[0];
    const identities = Array.from({ length: ledgerworkLoad() }, (_, i) => devnet.issueUser(org, `Caliper${i + 1}`))
        .map((user) => ({ name: user.name, certPath: user.certPath, keyPath: user.keyPath }));
    return {
        identities,
        profile: path.join(dir, 'connection-org1.json'),
        mspId: org1.mspId,
        certPath: org1.certPath,
        keyPath: org1.keyPath,
        adminCertPath: org1.certPath.replace(/User1/g, 'Admin'),
        adminKeyPath: org1.keyPath.replace(/User1/g, 'Admin'),
        channel: org1.channelName,
        discover: true,
        pid: JSON.parse(readFileSync(path.join(dir, 'devnet.pid'), 'utf8')).pid,
        stop: (outDir) => {
            spawnSync(process.execPath, [DEVNET_CLI, 'down', '--dir', dir], { stdio: 'inherit' });
            if (existsSync(path.join(dir, 'devnet.log'))) {
                copyFileSync(path.join(dir, 'devnet.log'), path.join(outDir, 'devnet.log'));
            }
            rmSync(dir, { recursive: true, force: true });
        },
    };
}

function realNetwork() {
    const need = (name) => {
        if (!env[name]) {
            throw new Error(`${name} is required with CALIPER_CONNECTION_PROFILE`);
        }
        return path.resolve(env[name]);
    };
    return {
        profile: need('CALIPER_CONNECTION_PROFILE'),
        mspId: env.CALIPER_MSP_ID ?? 'Org1MSP',
        certPath: need('CALIPER_CERT_PATH'),
        keyPath: need('CALIPER_KEY_PATH'),
        adminCertPath: env.CALIPER_ADMIN_CERT_PATH ? path.resolve(env.CALIPER_ADMIN_CERT_PATH) : undefined,
        adminKeyPath: env.CALIPER_ADMIN_KEY_PATH ? path.resolve(env.CALIPER_ADMIN_KEY_PATH) : undefined,
        channel: env.CALIPER_CHANNEL ?? 'mychannel',
        discover: (env.CALIPER_DISCOVER ?? 'true') !== 'false',
        identities: env.CALIPER_IDENTITIES_DIR ? identitiesIn(path.resolve(env.CALIPER_IDENTITIES_DIR)) : [],
        stop: () => undefined,
    };
}

/** The users of a cryptogen-layout `users` folder: `<name>/msp/signcerts/*.pem` and the one file of `<name>/msp/keystore`. */
function identitiesIn(dir) {
    return readdirSync(dir).sort().flatMap((name) => {
        const msp = path.join(dir, name, 'msp');
        if (!existsSync(path.join(msp, 'signcerts'))) {
            return [];
        }
        const cert = readdirSync(path.join(msp, 'signcerts')).find((f) => f.endsWith('.pem'));
        const keys = existsSync(path.join(msp, 'keystore')) ? readdirSync(path.join(msp, 'keystore')) : [];
        if (cert === undefined || keys.length !== 1) {
            throw new Error(`${msp} needs one signcerts/*.pem and exactly one keystore file`);
        }
        return [{ name, certPath: path.join(msp, 'signcerts', cert), keyPath: path.join(msp, 'keystore', keys[0]) }];
    });
}

/** Caliper worker processes for asset-transfer (CALIPER_WORKERS, default 1); each sends its share of the transactions in flight. */
function workers() {
    const count = Number(env.CALIPER_WORKERS ?? 1);
    if (!Number.isInteger(count) || count < 1) {
        throw new Error(`CALIPER_WORKERS must be a positive integer, not ${env.CALIPER_WORKERS}`);
    }
    return count;
}

function ledgerworkLoad() {
    return Number(env.CALIPER_LEDGERWORK_LOAD ?? 8);
}

function networkConfig(network, contracts, identities = []) {
    const identity = (name, cert, key) => ({ name, clientPrivateKey: { path: key }, clientSignedCert: { path: cert } });
    const certificates = [identity('User1', network.certPath, network.keyPath)];
    if (network.adminCertPath && network.adminKeyPath) {
        certificates.push(identity('Admin', network.adminCertPath, network.adminKeyPath));
    }
    certificates.push(...identities.map((user) => identity(user.name, user.certPath, user.keyPath)));
    return {
        name: 'ledgerwork',
        version: '2.0.0',
        caliper: { blockchain: 'fabric' },
        channels: [{ channelName: network.channel, contracts: contracts.map((id) => ({ id })) }],
        organizations: [{ mspid: network.mspId, identities: { certificates }, connectionProfile: { path: network.profile, discover: network.discover } }],
    };
}

function round(label, txNumber, load, workload, args, rateControlType = 'fixed-load') {
    return { label, txNumber, rateControl: { type: rateControlType, opts: { transactionLoad: load } }, workload: { module: path.join(HOME, 'workloads', workload), arguments: { ...args, load } } };
}

/** ledgerwork's rounds: each account has at most one publish or claim in flight (see workloads/ledgerwork.js). */
function ledgerworkRounds(network, runId, contractId) {
    const tx = Number(env.CALIPER_LEDGERWORK_TX ?? 200);
    const load = ledgerworkLoad();
    if (network.identities.length < load) {
        throw new Error(`the ledgerwork benchmark needs at least CALIPER_LEDGERWORK_LOAD=${load} identities (CALIPER_IDENTITIES_DIR), found ${network.identities.length}`);
    }
    if (!network.adminCertPath) {
        throw new Error('the ledgerwork benchmark needs an admin of the chaincode to mint credits: set CALIPER_ADMIN_CERT_PATH and CALIPER_ADMIN_KEY_PATH');
    }
    const identities = network.identities.slice(0, load).map((user) => ({ name: user.name, certificatePem: readFileSync(user.certPath, 'utf8') }));
    const args = (step) => ({ contractId, run: runId, channel: network.channel, mspId: network.mspId, adminIdentity: 'Admin', identities, step });
    // CALIPER_LEDGERWORK_RATE_CONTROL=fixed-load shows why the default is a hard bound: Caliper's fixed-load lets more
    // transactions than accounts into flight, and an account's overlapping publishes or claims conflict at commit.
    const rateControl = env.CALIPER_LEDGERWORK_RATE_CONTROL ?? path.join(HOME, 'workloads', 'inFlightLimit.js');
    return ['publish', 'claim', 'submit', 'publish-ranked', 'file'].map((step) => round(step, tx, load, 'ledgerwork.js', args(step), rateControl));
}

function benchmarks(network, runId) {
    const tx = Number(env.CALIPER_TX ?? 1000);
    const load = Number(env.CALIPER_LOAD ?? 64);
    const asset = env.CALIPER_ASSET_CONTRACT ?? 'basic';
    const ledgerwork = env.CALIPER_LEDGERWORK_CONTRACT ?? 'ledgerwork';
    return {
        'asset-transfer': {
            contracts: [asset],
            test: { name: 'asset-transfer', description: 'asset-transfer-basic CreateAsset (committed), then ReadAsset', workers: { number: workers() }, rounds: [
                round('CreateAsset', tx, load, 'createAsset.js', { contractId: asset, prefix: runId }),
                round('ReadAsset', 2 * tx, load, 'readAsset.js', { contractId: asset, prefix: runId, created: tx }),
            ] },
        },
        ledgerwork: {
            contracts: [ledgerwork],
            identities: () => network.identities.slice(0, ledgerworkLoad()),
            test: () => ({ name: 'ledgerwork', description: 'ledgerwork: publish one-task jobs, claim and submit their tasks; publish one-task ranked jobs and file their results', workers: { number: 1 }, rounds: ledgerworkRounds(network, runId, ledgerwork) }),
        },
    };
}

/** CPU seconds (user + system) process `pid` has used, all its threads; undefined where /proc has no such process. */
function cpuSeconds(pid) {
    try {
        // The fields after the command name (which may hold spaces): utime and stime are the 14th and 15th.
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
        return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
    } catch {
        return undefined;
    }
}

/** The summary table Caliper prints after the rounds. */
function summaryOf(log) {
    const lines = log.split('\n');
    const start = lines.findIndex((line) => line.includes('Test Summary') || line.includes('| Name'));
    const table = lines.slice(Math.max(0, start)).filter((line) => /^\s*[|+]/.test(line.replace(/^.*?(\||\+)/, '$1')));
    return table.map((line) => line.slice(line.search(/[|+]/))).join('\n');
}

function main() {
    const which = process.argv[2] ?? 'all';
    if (!['all', 'asset-transfer', 'ledgerwork'].includes(which)) {
        throw new Error(`usage: node caliper/run.js [asset-transfer|ledgerwork|all], not ${which}`);
    }
    if (BINDING === undefined) {
        throw new Error(`CALIPER_BINDING must be one of ${Object.keys(BINDINGS).join(', ')}, not ${BINDING_NAME}`);
    }
    install();
    const runId = `r${Date.now().toString(36)}`;
    const outDir = path.join(HERE, 'out', runId);
    mkdirSync(outDir, { recursive: true });
    const network = env.CALIPER_CONNECTION_PROFILE ? realNetwork() : startDevnet();
    try {
        const all = benchmarks(network, runId);
        for (const name of which === 'all' ? Object.keys(all) : [which]) {
            const { contracts, identities } = all[name];
            const test = typeof all[name].test === 'function' ? all[name].test() : all[name].test;
            const networkFile = path.join(outDir, `network-${name}.json`);
            const benchFile = path.join(outDir, `bench-${name}.json`);
            writeFileSync(networkFile, JSON.stringify(networkConfig(network, contracts, identities ? identities() : []), null, 2));
            writeFileSync(benchFile, JSON.stringify({ test }, null, 2));
            process.stdout.write(`caliper (${BINDING_NAME} binding): ${name} (${test.rounds.map((r) => `${r.label} ${r.txNumber} tx`).join(', ')}; ${test.rounds[0].rateControl.opts.transactionLoad} in flight)\n`);
            const loadBefore = os.loadavg()[0];
            const devnetCpuBefore = network.pid === undefined ? undefined : cpuSeconds(network.pid);
            const nodeArgs = (env.CALIPER_NODE_ARGS ?? '').split(/\s+/).filter((arg) => arg !== '');
            const result = spawnSync(process.execPath, [...nodeArgs, path.join(HOME, 'node_modules', '@hyperledger', 'caliper-cli', 'caliper.js'), 'launch', 'manager',
                '--caliper-workspace', HOME,
                '--caliper-networkconfig', networkFile,
                '--caliper-benchconfig', benchFile,
                '--caliper-flow-only-test',
                '--caliper-report-path', path.join(outDir, `report-${name}.html`)], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, env: { ...env, LEDGERWORK_ROOT: ROOT } });
            const log = `${result.stdout}${result.stderr}`;
            writeFileSync(path.join(outDir, `caliper-${name}.log`), log);
            process.stdout.write(`${summaryOf(log)}\n(log: ${path.relative(ROOT, path.join(outDir, `caliper-${name}.log`))})\n`);
            const devnetCpu = network.pid === undefined ? undefined : cpuSeconds(network.pid);
            const seconds = (value) => (value === undefined ? 'n/a' : `${value.toFixed(1)} s`);
            // What each round's workers measured themselves (workloads/roundProbe.js), and transactions named as slow.
            const probes = log.split('\n').filter((line) => /round probe:|ledgerwork workload: slow/.test(line)).map((line) => line.replace(/^.*?(round probe:|ledgerwork workload: slow)/, '$1'));
            process.stdout.write(probes.map((line) => `${line}\n`).join(''));
            process.stdout.write(`load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after; devnet CPU ${seconds(devnetCpu === undefined || devnetCpuBefore === undefined ? undefined : devnetCpu - devnetCpuBefore)}\n`);
            if (result.status !== 0) {
                throw new Error(`caliper exited with ${result.status ?? result.signal}; see the log`);
            }
        }
    } finally {
        network.stop(outDir);
    }
}

try {
    main();
} catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
}
