#!/usr/bin/env node
'use strict';
/*
 * Runs Hyperledger Caliper 0.6 (fabric-network 2.2 binding: the peer's Endorser and Discovery services, the
 * orderer's Broadcast, the peer's Deliver) against the devnet, or against a real Fabric network described by
 * environment variables, and prints each round's figures.
 *
 *   npm run bench:caliper [-- asset-transfer|all]      (default all)
 *
 * Installs this folder's dependencies (about 600 packages, from its lockfile) into CALIPER_HOME (default
 * ~/.cache/ledgerwork-caliper) on first use. Without CALIPER_CONNECTION_PROFILE it
 * starts a devnet in a temporary directory (3 orgs, one port per org, chaincodes `basic` = asset-transfer-basic
 * and `ledgerwork` = ./chaincode) and stops it afterwards. For a real network set:
 *   CALIPER_CONNECTION_PROFILE  connection profile of the client's org (JSON or YAML)
 *   CALIPER_MSP_ID              the client's MSP id (default Org1MSP)
 *   CALIPER_CERT_PATH, CALIPER_KEY_PATH              the client's certificate and private key (PEM)
 *   CALIPER_CHANNEL (mychannel), CALIPER_DISCOVER (true), CALIPER_ASSET_CONTRACT (basic)
 * Round sizes: CALIPER_TX (transactions per submitting round, default 1000), CALIPER_LOAD (in flight, default 64).
 * Outputs (configs, caliper.log, report-*.html) go to caliper/out/<run>/.
 */
const { spawnSync } = require('node:child_process');
const { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const HERE = __dirname;
const ROOT = path.resolve(HERE, '..');
// Caliper is installed outside the repository: inside it, Node would also find the root's @hyperledger/fabric-gateway
// and Caliper refuses to run with two Fabric bindings.
const HOME = path.resolve(process.env.CALIPER_HOME ?? path.join(os.homedir(), '.cache', 'ledgerwork-caliper'));
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
    const lock = readFileSync(path.join(HERE, 'package-lock.json'), 'utf8');
    const installedLock = path.join(HOME, 'node_modules', '.ledgerwork-lock.json');
    if (!existsSync(installedLock) || readFileSync(installedLock, 'utf8') !== lock) {
        process.stdout.write(`installing Caliper 0.6.0 and fabric-network 2.2.20 into ${HOME} (first run only)\n`);
        copyFileSync(path.join(HERE, 'package.json'), path.join(HOME, 'package.json'));
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
    return {
        profile: path.join(dir, 'connection-org1.json'),
        mspId: org1.mspId,
        certPath: org1.certPath,
        keyPath: org1.keyPath,
        adminCertPath: org1.certPath.replace(/User1/g, 'Admin'),
        adminKeyPath: org1.keyPath.replace(/User1/g, 'Admin'),
        channel: org1.channelName,
        discover: true,
        stop: () => {
            spawnSync(process.execPath, [DEVNET_CLI, 'down', '--dir', dir], { stdio: 'inherit' });
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
        stop: () => undefined,
    };
}

function networkConfig(network, contracts) {
    const identity = (name, cert, key) => ({ name, clientPrivateKey: { path: key }, clientSignedCert: { path: cert } });
    const certificates = [identity('User1', network.certPath, network.keyPath)];
    if (network.adminCertPath && network.adminKeyPath) {
        certificates.push(identity('Admin', network.adminCertPath, network.adminKeyPath));
    }
    return {
        name: 'ledgerwork',
        version: '2.0.0',
        caliper: { blockchain: 'fabric' },
        channels: [{ channelName: network.channel, contracts: contracts.map((id) => ({ id })) }],
        organizations: [{ mspid: network.mspId, identities: { certificates }, connectionProfile: { path: network.profile, discover: network.discover } }],
    };
}

function round(label, txNumber, load, workload, args) {
    return { label, txNumber, rateControl: { type: 'fixed-load', opts: { transactionLoad: load } }, workload: { module: path.join(HOME, 'workloads', workload), arguments: args } };
}

function benchmarks(network, runId) {
    const tx = Number(env.CALIPER_TX ?? 1000);
    const load = Number(env.CALIPER_LOAD ?? 64);
    const asset = env.CALIPER_ASSET_CONTRACT ?? 'basic';
    return {
        'asset-transfer': {
            contracts: [asset],
            test: { name: 'asset-transfer', description: 'asset-transfer-basic CreateAsset (committed), then ReadAsset', workers: { number: 1 }, rounds: [
                round('CreateAsset', tx, load, 'createAsset.js', { contractId: asset, prefix: runId }),
                round('ReadAsset', 2 * tx, load, 'readAsset.js', { contractId: asset, prefix: runId, created: tx }),
            ] },
        },
    };
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
    if (!['all', 'asset-transfer'].includes(which)) {
        throw new Error(`usage: node caliper/run.js [asset-transfer|all], not ${which}`);
    }
    install();
    const runId = `r${Date.now().toString(36)}`;
    const outDir = path.join(HERE, 'out', runId);
    mkdirSync(outDir, { recursive: true });
    const network = env.CALIPER_CONNECTION_PROFILE ? realNetwork() : startDevnet();
    try {
        const all = benchmarks(network, runId);
        for (const name of which === 'all' ? Object.keys(all) : [which]) {
            const { contracts, test } = all[name];
            const networkFile = path.join(outDir, `network-${name}.json`);
            const benchFile = path.join(outDir, `bench-${name}.json`);
            writeFileSync(networkFile, JSON.stringify(networkConfig(network, contracts), null, 2));
            writeFileSync(benchFile, JSON.stringify({ test }, null, 2));
            process.stdout.write(`caliper: ${name} (${test.rounds.map((r) => `${r.label} ${r.txNumber} tx`).join(', ')}; ${test.rounds[0].rateControl.opts.transactionLoad} in flight)\n`);
            const result = spawnSync(path.join(HOME, 'node_modules', '.bin', 'caliper'), ['launch', 'manager',
                '--caliper-workspace', HOME,
                '--caliper-networkconfig', networkFile,
                '--caliper-benchconfig', benchFile,
                '--caliper-flow-only-test',
                '--caliper-report-path', path.join(outDir, `report-${name}.html`)], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, env: { ...env, LEDGERWORK_ROOT: ROOT } });
            const log = `${result.stdout}${result.stderr}`;
            writeFileSync(path.join(outDir, `caliper-${name}.log`), log);
            process.stdout.write(`${summaryOf(log)}\n(log: ${path.relative(ROOT, path.join(outDir, `caliper-${name}.log`))})\n`);
            if (result.status !== 0) {
                throw new Error(`caliper exited with ${result.status ?? result.signal}; see the log`);
            }
        }
    } finally {
        network.stop();
    }
}

try {
    main();
} catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
}
