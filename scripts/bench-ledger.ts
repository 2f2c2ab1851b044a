// SPDX-License-Identifier: Apache-2.0
/**
 * Devnet ledger at large heights: how long `ledgerwork-devnet up` takes to start, and how many bytes each
 * transaction costs on disk, at heights 1k, 10k and 100k blocks.
 *
 * Each ledger is generated directly (not through gRPC, which would take hours at 100k): `--txs-per-block` (default 1)
 * asset-transfer `CreateAsset` transactions per block, each a new live key, built as the devnet builds it — a proposal by an Org1 user, a
 * ProposalResponsePayload with the read/write set, endorsed (signed) by the Org1 and Org2 peers, the envelope signed by
 * the user — validated against the ledger's state, appended to the block file and committed to the ledger indexes by
 * the devnet's own storage code. Blocks are synced to disk once at the end instead of once each.
 *
 * Then `ledgerwork-devnet up` (the built CLI, no chaincode) is started on the ledger, and the time from spawning it to
 * its ready line is measured (median of `--starts` runs), alternating with starts of a fresh devnet (empty ledger,
 * same crypto material) so that both see the same machine load.
 *
 * Run: `npm run bench:ledger -- [--heights 1000,10000,100000] [--txs-per-block 1] [--starts 3]` (needs
 * `npm run build`).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { common, peer as peerProtos } from '@hyperledger/fabric-protos';
import { ensureCryptoMaterial, issueUser, type CryptoMaterial, type OrgIdentity } from '../network/devnet/src';
import { blockHeaderHash } from '../network/devnet/src/blockStore';
import { channelConfigEnvelope } from '../network/devnet/src/channelConfig';
import { identityDictionary, newBlock } from '../network/devnet/src/committer';
import { openLedger } from '../network/devnet/src/durableLedger';
import { encodeRwset } from '../network/devnet/src/rwsetCodec';
import { newTimestamp } from '../network/devnet/src/runtime';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'network/devnet/dist/cli.js');
const CHANNEL = 'mychannel';
const CHAINCODE = 'basic';

interface Options {
    readonly heights: readonly number[];
    readonly txsPerBlock: number;
    readonly starts: number;
}

function parseOptions(argv: readonly string[]): Options {
    const value = (name: string): string | undefined => {
        const i = argv.indexOf(`--${name}`);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const heights = (value('heights') ?? '1000,10000,100000').split(',').map(Number);
    const starts = Number(value('starts') ?? '3');
    const txsPerBlock = Number(value('txs-per-block') ?? '1');
    if (heights.some((h) => !Number.isInteger(h) || h < 2) || ![starts, txsPerBlock].every((n) => Number.isInteger(n) && n >= 1)) {
        throw new Error('--heights takes integers >= 2 separated by commas, --starts and --txs-per-block positive integers');
    }
    return { heights, txsPerBlock, starts };
}

/** One CreateAsset transaction envelope, signed by `client` and endorsed by `endorsers`, as the devnet would order it. */
function createAssetEnvelope(client: OrgIdentity, endorsers: readonly OrgIdentity[], id: string): { readonly bytes: Uint8Array; readonly txId: string; readonly value: Buffer } {
    const nonce = randomBytes(24);
    const txId = createHash('sha256').update(nonce).update(client.serialized).digest('hex');
    const chaincodeId = new peerProtos.ChaincodeID();
    chaincodeId.setName(CHAINCODE);
    const input = new peerProtos.ChaincodeInput();
    input.setArgsList(['CreateAsset', id, 'blue', '5', 'Tomoko', '300'].map((arg) => Buffer.from(arg)));
    const spec = new peerProtos.ChaincodeSpec();
    spec.setChaincodeId(chaincodeId);
    spec.setInput(input);
    const invocation = new peerProtos.ChaincodeInvocationSpec();
    invocation.setChaincodeSpec(spec);
    const proposalPayload = new peerProtos.ChaincodeProposalPayload();
    proposalPayload.setInput(invocation.serializeBinary());

    const extension = new peerProtos.ChaincodeHeaderExtension();
    extension.setChaincodeId(chaincodeId);
    const channelHeader = new common.ChannelHeader();
    channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
    channelHeader.setChannelId(CHANNEL);
    channelHeader.setTxId(txId);
    channelHeader.setTimestamp(newTimestamp(Date.now()));
    channelHeader.setExtension$(extension.serializeBinary());
    const signatureHeader = new common.SignatureHeader();
    signatureHeader.setCreator(client.serialized);
    signatureHeader.setNonce(nonce);
    const header = new common.Header();
    header.setChannelHeader(channelHeader.serializeBinary());
    header.setSignatureHeader(signatureHeader.serializeBinary());

    // What the chaincode did: AssetExists read the absent key, then the asset was written.
    const value = Buffer.from(JSON.stringify({ AppraisedValue: 300, Color: 'blue', ID: id, Owner: 'Tomoko', Size: 5 }));
    const action = new peerProtos.ChaincodeAction();
    action.setResults(encodeRwset(CHAINCODE, { reads: [{ key: id, version: null }], ranges: [], writes: [{ key: id, isDelete: false, value }] }));
    const response = new peerProtos.Response();
    response.setStatus(200);
    response.setPayload(value);
    action.setResponse(response);
    const versioned = new peerProtos.ChaincodeID();
    versioned.setName(CHAINCODE);
    versioned.setVersion('1.0');
    action.setChaincodeId(versioned);
    const prp = new peerProtos.ProposalResponsePayload();
    prp.setProposalHash(createHash('sha256').update(header.getChannelHeader_asU8()).update(header.getSignatureHeader_asU8()).update(proposalPayload.serializeBinary()).digest());
    prp.setExtension$(action.serializeBinary());
    const prpBytes = prp.serializeBinary();

    const endorsed = new peerProtos.ChaincodeEndorsedAction();
    endorsed.setProposalResponsePayload(prpBytes);
    endorsed.setEndorsementsList(endorsers.map((endorser) => {
        const endorsement = new peerProtos.Endorsement();
        endorsement.setEndorser(endorser.serialized);
        endorsement.setSignature(endorser.sign(Buffer.concat([prpBytes, endorser.serialized])));
        return endorsement;
    }));
    const actionPayload = new peerProtos.ChaincodeActionPayload();
    actionPayload.setChaincodeProposalPayload(proposalPayload.serializeBinary());
    actionPayload.setAction(endorsed);
    const txAction = new peerProtos.TransactionAction();
    txAction.setHeader(header.getSignatureHeader_asU8());
    txAction.setPayload(actionPayload.serializeBinary());
    const tx = new peerProtos.Transaction();
    tx.setActionsList([txAction]);
    const payload = new common.Payload();
    payload.setHeader(header);
    payload.setData(tx.serializeBinary());
    const payloadBytes = payload.serializeBinary();
    const envelope = new common.Envelope();
    envelope.setPayload(payloadBytes);
    envelope.setSignature(client.sign(payloadBytes));
    return { bytes: envelope.serializeBinary(), txId, value };
}

interface Generated {
    readonly dir: string;
    readonly transactions: number;
    /** Serialized blocks, as clients receive them. */
    readonly blockBytes: number;
    readonly generateMs: number;
}

/** A devnet directory whose ledger has `height` blocks: the genesis block, then `txsPerBlock` CreateAssets per block. */
async function generate(material: CryptoMaterial, dir: string, height: number, txsPerBlock: number): Promise<Generated> {
    const started = performance.now();
    const [org1, org2] = material.orgs;
    if (org1 === undefined || org2 === undefined) {
        throw new Error('needs two orgs');
    }
    const client = issueUser(org1, 'bench-ledger');
    const genesis = channelConfigEnvelope({ channel: CHANNEL, orgs: material.orgs, tlsCaCertificatePem: material.tls.caCertificatePem, batchSize: 10, batchTimeoutMs: 200, ordererEndpoint: 'orderer.example.com:7051' });
    const opened = await openLedger(path.join(dir, 'ledger'), CHANNEL, identityDictionary(material.orgs));
    const { store, ledger } = opened;
    let blockBytes = 0;
    try {
        for (let number = store.height; number < height; number++) {
            const ids = number === 0 ? [] : Array.from({ length: txsPerBlock }, (_, i) => `asset${(number - 1) * txsPerBlock + i + 1}`);
            const txs = ids.map((id) => ({ id, ...createAssetEnvelope(client, [org1.peer, org2.peer], id) }));
            const timestamp = { seconds: Math.floor(Date.now() / 1000), nanos: 0 };
            const ordered = txs.map((tx) => ({ txId: tx.txId, endorsed: true, timestamp, rwsets: [{ namespace: CHAINCODE, rwset: { reads: [{ key: tx.id, version: null }], ranges: [], writes: [{ key: tx.id, isDelete: false, value: tx.value }] } }] }));
            const validated = await ledger.validate(ordered);
            if (validated.codes.some((code) => code !== 'VALID')) {
                throw new Error(`block ${number}: ${validated.codes.join(', ')}`);
            }
            const codes = ordered.map(() => peerProtos.TxValidationCode.VALID);
            // Block 0 is the channel's genesis block, as `devnet up` writes it (the devnet reads its configuration).
            const envelopes = number === 0 ? [genesis] : txs.map((tx) => tx.bytes);
            const block = newBlock(number, store.previousHash, envelopes, number === 0 ? [peerProtos.TxValidationCode.VALID] : codes);
            blockBytes += block.serializeBinary().length;
            const location = await store.append(block, { sync: false });
            await ledger.commit(validated, { location, headerHash: blockHeaderHash(block.getHeader() ?? new common.BlockHeader()), codes });
            if (number % 10_000 === 0 && number > 0) {
                process.stderr.write(`  ${number} blocks\n`);
            }
        }
        store.sync();
    } finally {
        store.close();
        await ledger.close();
    }
    return { dir, transactions: (height - 1) * txsPerBlock, blockBytes, generateMs: performance.now() - started };
}

/** Milliseconds from spawning `ledgerwork-devnet up` on `dir` to its ready line; checks the height it reports. */
async function timeStart(dir: string, expectedHeight: number): Promise<number> {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, 'up', '--dir', dir, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    try {
        const line = await new Promise<string>((resolve, reject) => {
            let out = '';
            child.stdout.on('data', (chunk: Buffer) => {
                out += chunk.toString();
                const newline = out.indexOf('\n');
                if (newline >= 0) {
                    resolve(out.slice(0, newline));
                }
            });
            child.once('exit', (code) => { reject(new Error(`devnet exited with ${code}: ${stderr}`)); });
        });
        const elapsed = performance.now() - started;
        const { height } = JSON.parse(line) as { height: number };
        if (height !== expectedHeight) {
            throw new Error(`devnet reports height ${height}, expected ${expectedHeight}`);
        }
        return elapsed;
    } finally {
        const exited = new Promise((resolve) => { child.once('exit', resolve); });
        child.kill('SIGTERM');
        await exited;
    }
}

function sizeOf(at: string): number {
    const stat = statSync(at);
    if (!stat.isDirectory()) {
        return stat.size;
    }
    return readdirSync(at).reduce((total, name) => total + sizeOf(path.join(at, name)), 0);
}

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    const rows: string[] = [];
    for (const height of options.heights) {
        const dir = mkdtempSync(path.join(tmpdir(), 'lw-bench-ledger-'));
        const fresh = mkdtempSync(path.join(tmpdir(), 'lw-bench-ledger-fresh-'));
        try {
            const material = ensureCryptoMaterial(dir, 3);
            ensureCryptoMaterial(fresh, 3);
            process.stderr.write(`height ${height}: generating\n`);
            const generated = await generate(material, dir, height, options.txsPerBlock);
            const blockFile = sizeOf(path.join(dir, 'ledger', `${CHANNEL}.blocks`));
            const indexes = sizeOf(path.join(dir, 'ledger', `${CHANNEL}.db`));
            const starts: number[] = [];
            const freshStarts: number[] = [];
            const load = loadavg()[0] ?? Number.NaN;
            for (let i = 0; i < options.starts; i++) {
                rmSync(path.join(fresh, 'ledger'), { recursive: true, force: true });
                freshStarts.push(await timeStart(fresh, 1));
                starts.push(await timeStart(dir, height));
            }
            const perTx = (bytes: number): string => Math.round(bytes / generated.transactions).toLocaleString('en-US');
            const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
            rows.push(`| ${height.toLocaleString('en-US')} | ${generated.transactions.toLocaleString('en-US')} | ${perTx(generated.blockBytes)} | ${perTx(blockFile)} | ${perTx(indexes)} | ${(generated.generateMs / 1000).toFixed(0)} s | ${seconds(median(starts))} | ${seconds(median(freshStarts))} | ${load.toFixed(1)} |`);
            process.stderr.write(`height ${height}: ${rows.at(-1) ?? ''} (starts ${starts.map((ms) => ms.toFixed(0)).join(', ')} ms; fresh ${freshStarts.map((ms) => ms.toFixed(0)).join(', ')} ms)\n`);
        } finally {
            rmSync(dir, { recursive: true, force: true });
            rmSync(fresh, { recursive: true, force: true });
        }
    }
    process.stdout.write([
        '| height (blocks) | live keys | block bytes per tx (as served) | block file bytes per tx | ledger indexes (LevelDB) bytes per tx | generated in | `devnet up` start (median) | fresh devnet start, same run (median) | load average (1 min) before the starts |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        ...rows,
    ].join('\n') + '\n');
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
});
