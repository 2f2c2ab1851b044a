// SPDX-License-Identifier: Apache-2.0
/**
 * What a devnet block file's transactions are made of: average bytes per transaction of each part of the Fabric
 * envelope (signature headers, endorsements, read/write set, response, event, …), and what the file costs on disk.
 *
 * With `--restore-with <devnet dir>`, the blocks are also stored again as the devnet now stores them (compressed with
 * that devnet's identity dictionary) in a temporary file, to compare an older, uncompressed file with today's format.
 *
 * Run: `npm run block-anatomy -- <dir>/ledger/<channel>.blocks [--restore-with <dir>]`
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { common, ledger, peer } from '@hyperledger/fabric-protos';
import { ensureCryptoMaterial } from '../network/devnet/src';
import { BlockStore } from '../network/devnet/src/blockStore';
import { identityDictionary } from '../network/devnet/src/committer';

const file = process.argv[2];
const restoreFlag = process.argv.indexOf('--restore-with');
const restoreWith = restoreFlag >= 0 ? process.argv[restoreFlag + 1] : undefined;
if (file === undefined) {
    process.stderr.write('usage: block-anatomy <file.blocks> [--restore-with <devnet dir>]\n');
    process.exit(2);
}

const sizes = new Map<string, number>();
const add = (part: string, bytes: number): void => {
    sizes.set(part, (sizes.get(part) ?? 0) + bytes);
};

function measureAction(action: InstanceType<typeof peer.TransactionAction>): void {
    add('transaction action header (signature header again)', action.getHeader_asU8().length);
    const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    add('chaincode proposal payload (function and arguments)', actionPayload.getChaincodeProposalPayload_asU8().length);
    const endorsed = actionPayload.getAction();
    if (endorsed === undefined) {
        return;
    }
    for (const endorsement of endorsed.getEndorsementsList()) {
        add('endorsements: endorser identities (MSP id + PEM certificate)', endorsement.getEndorser_asU8().length);
        add('endorsements: signatures', endorsement.getSignature_asU8().length);
    }
    const prp = peer.ProposalResponsePayload.deserializeBinary(endorsed.getProposalResponsePayload_asU8());
    const chaincodeAction = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
    add('chaincode response payload', chaincodeAction.getResponse()?.getPayload_asU8().length ?? 0);
    add('chaincode event', chaincodeAction.getEvents_asU8().length);
    const rwset = ledger.rwset.TxReadWriteSet.deserializeBinary(chaincodeAction.getResults_asU8());
    for (const ns of rwset.getNsRwsetList()) {
        const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
        add('read set: reads', kv.getReadsList().reduce((total, read) => total + read.serializeBinary().length, 0));
        add('read set: range queries (raw reads)', kv.getRangeQueriesInfoList().reduce((total, info) => total + info.serializeBinary().length, 0));
        add('write set', kv.getWritesList().reduce((total, write) => total + write.serializeBinary().length, 0));
    }
}

const opened = BlockStore.open(file);
opened.store.close();
let transactions = 0;
let blockBytes = 0;
for (const block of opened.blocks) {
    blockBytes += block.serializeBinary().length;
    for (const bytes of block.getData()?.getDataList_asU8() ?? []) {
        transactions++;
        add('envelope (whole transaction)', bytes.length);
        const envelope = common.Envelope.deserializeBinary(bytes);
        add('envelope signature', envelope.getSignature_asU8().length);
        const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
        add('channel header', payload.getHeader()?.getChannelHeader_asU8().length ?? 0);
        add('signature header (creator identity + nonce)', payload.getHeader()?.getSignatureHeader_asU8().length ?? 0);
        try {
            for (const action of peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()) {
                measureAction(action);
            }
        } catch {
            add('not an endorser transaction', payload.getData_asU8().length);
        }
    }
}
const perTx = (bytes: number): string => (transactions === 0 ? '–' : Math.round(bytes / transactions).toLocaleString('en-US'));
const lines = [
    `${opened.blocks.length} blocks, ${transactions} transactions`,
    '',
    '| part | bytes per transaction |',
    '| --- | ---: |',
    ...[...sizes.entries()].map(([part, bytes]) => `| ${part} | ${perTx(bytes)} |`),
    `| blocks as served (serialized common.Block) | ${perTx(blockBytes)} |`,
    `| block file on disk | ${perTx(statSync(file).size)} |`,
];

/** The size of the blocks stored again in today's format, compressed with the devnet's identity dictionary. */
async function restoredSize(devnetDir: string): Promise<number> {
    const scratch = mkdtempSync(path.join(tmpdir(), 'block-anatomy-'));
    try {
        const target = path.join(scratch, 'copy.blocks');
        const orgs = readdirSync(path.join(devnetDir, 'organizations', 'peerOrganizations')).length;
        const material = ensureCryptoMaterial(devnetDir, orgs);
        const { store } = BlockStore.open(target, { dictionary: identityDictionary(material.orgs) });
        for (const block of opened.blocks) {
            await store.append(block, { sync: false });
        }
        store.close();
        return statSync(target).size + statSync(`${target}.dict`).size;
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
}

async function main(): Promise<void> {
    if (restoreWith !== undefined) {
        lines.push(`| block file stored as the devnet now stores it (dictionary included) | ${perTx(await restoredSize(restoreWith))} |`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
});
