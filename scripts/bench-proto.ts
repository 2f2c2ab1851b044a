// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet's hand-written protobuf encodings (network/devnet/src/protoWriter.ts) against google-protobuf's generated
 * classes, for the messages a CreateAsset transaction makes: its read/write set, a TRANSACTION ChaincodeMessage
 * carrying a 3 KB signed proposal, and the prepared transaction envelope with two endorsements. Both ways produce the
 * same bytes (checked before timing); the two are timed in alternating rounds in one process.
 *
 *     node -r ./scripts/register-ts.js scripts/bench-proto.ts [--rounds 10] [--iterations 20000]
 */
import { parseArgs } from 'node:util';
import { common, ledger, peer } from '@hyperledger/fabric-protos';
import { encodeChaincodeMessage } from '../network/devnet/src/chaincodeMessageCodec';
import { ProtoMessage } from '../network/devnet/src/protoWriter';
import { encodeRwsets } from '../network/devnet/src/rwsetCodec';
import type { ReadWriteSet } from '../network/devnet/src/txSimulator';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, iterations: { type: 'string', default: '20000' } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);

const asset = Buffer.from(JSON.stringify({ AppraisedValue: 300, Color: 'blue', ID: 'asset-17-2048', Owner: 'Tomoko', Size: 5 }));
const rwset: ReadWriteSet = { reads: [{ key: 'asset-17-2048', version: null }], writes: [{ key: 'asset-17-2048', isDelete: false, value: asset }], ranges: [] };
const signedProposalBytes = Buffer.alloc(3000, 0x5a);
const signature = Buffer.alloc(71, 0x30);
const endorser = Buffer.alloc(900, 0x2d);
const responsePayload = Buffer.alloc(420, 0x11);
const channelHeader = Buffer.alloc(110, 0x0a);
const signatureHeader = Buffer.alloc(930, 0x12);
const proposalPayload = Buffer.alloc(90, 0x22);

function rwsetGenerated(): Uint8Array {
    const kv = new ledger.rwset.kvrwset.KVRWSet();
    const read = new ledger.rwset.kvrwset.KVRead();
    read.setKey('asset-17-2048');
    kv.setReadsList([read]);
    const write = new ledger.rwset.kvrwset.KVWrite();
    write.setKey('asset-17-2048');
    write.setValue(asset);
    kv.setWritesList([write]);
    const ns = new ledger.rwset.NsReadWriteSet();
    ns.setNamespace('basic');
    ns.setRwset(kv.serializeBinary());
    const tx = new ledger.rwset.TxReadWriteSet();
    tx.setNsRwsetList([ns]);
    return tx.serializeBinary();
}

function rwsetByHand(): Uint8Array {
    return encodeRwsets([{ namespace: 'basic', rwset }]);
}

function transactionMessage(): InstanceType<typeof peer.ChaincodeMessage> {
    const message = new peer.ChaincodeMessage();
    message.setType(peer.ChaincodeMessage.Type.TRANSACTION);
    message.setChannelId('mychannel');
    message.setTxid('a3f1c2d4e5b6a7980112233445566778899aabbccddeeff00112233445566778');
    message.setPayload(proposalPayload);
    const signed = new peer.SignedProposal();
    signed.setProposalBytes(signedProposalBytes);
    signed.setSignature(signature);
    message.setProposal(signed);
    return message;
}

function envelopeGenerated(): Uint8Array {
    const endorsements = [0, 1].map(() => {
        const e = new peer.Endorsement();
        e.setEndorser(endorser);
        e.setSignature(signature);
        return e;
    });
    const endorsed = new peer.ChaincodeEndorsedAction();
    endorsed.setProposalResponsePayload(responsePayload);
    endorsed.setEndorsementsList(endorsements);
    const actionPayload = new peer.ChaincodeActionPayload();
    actionPayload.setChaincodeProposalPayload(proposalPayload);
    actionPayload.setAction(endorsed);
    const txAction = new peer.TransactionAction();
    txAction.setHeader(signatureHeader);
    txAction.setPayload(actionPayload.serializeBinary());
    const tx = new peer.Transaction();
    tx.setActionsList([txAction]);
    const header = new common.Header();
    header.setChannelHeader(channelHeader);
    header.setSignatureHeader(signatureHeader);
    const payload = new common.Payload();
    payload.setHeader(header);
    payload.setData(tx.serializeBinary());
    const envelope = new common.Envelope();
    envelope.setPayload(payload.serializeBinary());
    return envelope.serializeBinary();
}

function envelopeByHand(): Uint8Array {
    const endorsed = new ProtoMessage().bytes(1, responsePayload);
    for (let i = 0; i < 2; i++) {
        endorsed.message(2, new ProtoMessage().bytes(1, endorser).bytes(2, signature));
    }
    const actionPayload = new ProtoMessage().bytes(1, proposalPayload).message(2, endorsed);
    const tx = new ProtoMessage().message(1, new ProtoMessage().bytes(1, signatureHeader).bytesOf(2, actionPayload));
    const payload = new ProtoMessage().message(1, new ProtoMessage().bytes(1, channelHeader).bytes(2, signatureHeader)).bytesOf(2, tx);
    return new ProtoMessage().bytesOf(1, payload).encode();
}

const message = transactionMessage();
const cases: { name: string; generated: () => Uint8Array; byHand: () => Uint8Array }[] = [
    { name: 'read/write set (1 read, 1 write)', generated: rwsetGenerated, byHand: rwsetByHand },
    { name: 'TRANSACTION ChaincodeMessage', generated: () => message.serializeBinary(), byHand: () => encodeChaincodeMessage(message) },
    { name: 'prepared transaction envelope', generated: envelopeGenerated, byHand: envelopeByHand },
];

function time(run: () => Uint8Array): number {
    const start = process.hrtime.bigint();
    let bytes = 0;
    for (let i = 0; i < iterations; i++) {
        bytes += run().length;
    }
    const elapsed = Number(process.hrtime.bigint() - start) / iterations;
    if (bytes === 0) {
        throw new Error('nothing encoded');
    }
    return elapsed;
}

process.stdout.write(`protobuf encoding, ${rounds} alternating rounds of ${iterations} each; Node ${process.version}\n\n`);
process.stdout.write('| message | bytes | google-protobuf µs (median) | by hand µs (median) | ratio |\n|---|---|---|---|---|\n');
for (const { name, generated, byHand } of cases) {
    const expected = Buffer.from(generated()).toString('hex');
    if (Buffer.from(byHand()).toString('hex') !== expected) {
        throw new Error(`${name}: the two encodings differ`);
    }
    const generatedTimes: number[] = [];
    const byHandTimes: number[] = [];
    for (let round = 0; round < rounds; round++) {
        generatedTimes.push(time(generated));
        byHandTimes.push(time(byHand));
    }
    const median = (times: number[]): number => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? NaN;
    const [g, h] = [median(generatedTimes) / 1000, median(byHandTimes) / 1000];
    process.stdout.write(`| ${name} | ${expected.length / 2} | ${g.toFixed(2)} | ${h.toFixed(2)} | ${(g / h).toFixed(2)} |\n`);
}
