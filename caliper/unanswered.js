#!/usr/bin/env node
'use strict';
/*
 * Counts calls a devnet leaves unanswered, as Caliper's fabric-gateway binding makes them: `CALLS` CreateAssets of
 * asset-transfer-basic through @hyperledger/fabric-gateway with 64 in flight, each call with a 20 s deadline, over TLS,
 * against a devnet of its own (a separate process, as `npm run bench:caliper` starts it). The gRPC client is
 * @grpc/grpc-js 1.10.3 (what Caliper's binding installs; from network/devnet/test/fixtures) or, with GRPC_JS=root,
 * the repository's own. Every call a Fabric peer would answer must end `ok`: a DEADLINE_EXCEEDED is a call the devnet
 * left unanswered (see "The tails and the lost transactions" in docs/benchmarks.md).
 *
 *   node caliper/unanswered.js [CALLS]        (default 3000; needs npm install at the root)
 *
 * DEVNET_CLI=network/devnet/dist-old/cli.js runs another build of the devnet (a copy of dist beside it, so that it
 * finds its packages), to compare two builds side by side.
 */
const { spawnSync } = require('node:child_process');
const { createPrivateKey } = require('node:crypto');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { createRequire } = require('node:module');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DEVNET_CLI = process.env.DEVNET_CLI ?? path.join(ROOT, 'network', 'devnet', 'dist', 'cli.js');
const IN_FLIGHT = 64;
const DEADLINE_MS = 20_000;

const requireGrpc = process.env.GRPC_JS === 'root'
    ? createRequire(path.join(ROOT, 'package.json'))
    : createRequire(path.join(ROOT, 'network', 'devnet', 'test', 'fixtures', 'grpc-js-1.10.3', 'package.json'));
const grpc = requireGrpc('@grpc/grpc-js');
const GRPC_VERSION = requireGrpc('@grpc/grpc-js/package.json').version;
const { connect, signers } = require(path.join(ROOT, 'node_modules', '@hyperledger', 'fabric-gateway'));

async function main() {
    const calls = Number(process.argv[2] ?? 3000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ledgerwork-unanswered-'));
    const up = spawnSync(process.execPath, [DEVNET_CLI, 'up', '--dir', dir, '--port', '0', '--detach', '--json',
        '--chaincode', `basic=${path.join(ROOT, 'network', 'devnet', 'test', 'fixtures', 'asset-transfer-basic')}`], { encoding: 'utf8' });
    if (up.status !== 0) {
        throw new Error(`devnet up failed: ${up.stdout}${up.stderr}`);
    }
    const org = JSON.parse(up.stdout).orgs[0];
    const client = new grpc.Client(org.peerEndpoint, grpc.credentials.createSsl(readFileSync(org.tlsCertPath)), { 'grpc.ssl_target_name_override': org.peerHostAlias });
    const deadline = () => ({ deadline: Date.now() + DEADLINE_MS });
    const gateway = connect({
        client,
        identity: { mspId: org.mspId, credentials: readFileSync(org.certPath) },
        signer: signers.newPrivateKeySigner(createPrivateKey(readFileSync(org.keyPath))),
        evaluateOptions: deadline, endorseOptions: deadline, submitOptions: deadline, commitStatusOptions: deadline,
    });
    const contract = gateway.getNetwork(org.channelName).getContract('basic');
    const outcomes = new Map();
    let sent = 0;
    const started = Date.now();
    try {
        await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
            while (sent < calls) {
                const id = `unanswered-${++sent}`;
                let outcome = 'ok';
                try {
                    await contract.submitTransaction('CreateAsset', id, 'blue', '5', 'Tom', '1300');
                } catch (error) {
                    outcome = `${error.constructor.name}: ${String(error.message).split(/ after |,/)[0]}`;
                }
                outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
            }
        }));
    } finally {
        gateway.close();
        client.close();
        spawnSync(process.execPath, [DEVNET_CLI, 'down', '--dir', dir], { stdio: 'inherit' });
        rmSync(dir, { recursive: true, force: true });
    }
    process.stdout.write(`@grpc/grpc-js ${GRPC_VERSION}: ${calls} CreateAssets, ${IN_FLIGHT} in flight, ${((Date.now() - started) / 1000).toFixed(1)} s, load average ${os.loadavg()[0].toFixed(2)}:\n`);
    for (const [outcome, count] of outcomes) {
        process.stdout.write(`  ${count}  ${outcome}\n`);
    }
}

main().catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
});
