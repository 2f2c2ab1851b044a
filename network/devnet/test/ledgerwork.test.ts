// SPDX-License-Identifier: Apache-2.0
/**
 * The ledgerwork chaincode behind the devnet, through unmodified fabric-gateway clients of several orgs; plus the
 * rejections Fabric applies to nondeterministic chaincode, unknown orgs and forged signatures.
 */
import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GatewayError, signers } from '@hyperledger/fabric-gateway';
import { common, gateway as gatewayProtos, peer } from '@hyperledger/fabric-protos';
// The chaincode runtime first: loading it quiets fabric-shim's loggers before the contracts' decorators log.
import { CHAINCODE_DIR } from '../../../test/support/chaincodeRuntime';
import { startDevnet, type ConnectionSettings, type RunningDevnet } from '../src';
import { defined } from '../src/defined';
import { issueCertificate, subjectKeyId } from '../src/identities';
import { contracts } from '../../../chaincode/src';
import { accountOf, certificateFacts } from '../../../chaincode/src/core/identity';
import { contracts as diceContracts } from './fixtures/nondeterministicContract';
import { connectGateway, tempDir, type Connected } from './support/client';

const utf8 = new TextDecoder();
const HOUR = 3600 * 1000;

function accountFor(settings: ConnectionSettings & { identity: { certificatePem: string } }): string {
    return accountOf(settings.mspId, certificateFacts(settings.identity.certificatePem));
}

describe('devnet with the ledgerwork chaincode', () => {
    let net: RunningDevnet;
    const clients: Connected[] = [];
    const open = (settings: ConnectionSettings): Connected => {
        const connected = connectGateway(settings);
        clients.push(connected);
        return connected;
    };

    beforeAll(async () => {
        net = await startDevnet({
            dir: tempDir(),
            batchTimeoutMs: 300,
            chaincodes: [
                { name: 'ledgerwork', folder: CHAINCODE_DIR, contracts },
                { name: 'dice', folder: CHAINCODE_DIR, contracts: diceContracts },
            ],
        });
    });

    afterAll(async () => {
        for (const client of clients) {
            client.close();
        }
        await net.stop();
    });

    it('lets exactly one of two concurrent claims of a task commit (VALID, MVCC_READ_CONFLICT)', async () => {
        const publisherSettings = net.addUser(1, 'publisher');
        const aliceSettings = net.addUser(1, 'alice');
        const bobSettings = net.addUser(2, 'bob');
        const admin = open(net.connection(1, 'Admin')).gateway.getNetwork('mychannel').getContract('ledgerwork');
        const publisher = open(publisherSettings).gateway.getNetwork('mychannel').getContract('ledgerwork');
        const alice = open(aliceSettings).gateway.getNetwork('mychannel').getContract('ledgerwork');
        const bob = open(bobSettings).gateway.getNetwork('mychannel').getContract('ledgerwork');

        await admin.submitTransaction('credits:Mint', accountFor(publisherSettings), '1000');
        await alice.submitTransaction('executors:Register', 'alice-1', JSON.stringify({ skills: ['wasm'], capacity: 4 }));
        await bob.submitTransaction('executors:Register', 'bob-1', JSON.stringify({ skills: ['wasm'], capacity: 4 }));
        const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const job = {
            id: 'job1',
            program: { uri: 'https://org1.example.com/programs/count.wasm', sha256: 'a'.repeat(64) },
            taskCount: 1,
            deadline: Date.now() + 24 * HOUR,
            leaseMs: HOUR,
            tasks: [{ id: 'job1-t1', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), input: { inline: Buffer.from('in').toString('base64') }, reward: '10' }],
        };
        await publisher.submitTransaction('jobs:Publish', JSON.stringify(job));

        const [a, b] = await Promise.all([
            alice.submitAsync('tasks:Claim', { arguments: ['job1-t1', 'alice-1'] }),
            bob.submitAsync('tasks:Claim', { arguments: ['job1-t1', 'bob-1'] }),
        ]);
        const [sa, sb] = await Promise.all([a.getStatus(), b.getStatus()]);
        expect([sa.code, sb.code].sort()).toEqual([0, 11]);
        expect(sa.blockNumber).toBe(sb.blockNumber);
        const winner = sa.code === 0 ? 'alice-1' : 'bob-1';
        const task = JSON.parse(utf8.decode(await bob.evaluateTransaction('queries:GetTask', 'job1-t1'))) as { claim: { executorId: string } };
        expect(task.claim.executorId).toBe(winner);
    });

    it('issues users whose Fabric CA attributes the chaincode reads (ledgerwork.admin=true)', async () => {
        const ops = open(net.addUser(3, 'ops', { attrs: { 'ledgerwork.admin': 'true' } })).gateway.getNetwork('mychannel').getContract('ledgerwork');
        const plain = open(net.addUser(3, 'plain')).gateway.getNetwork('mychannel').getContract('ledgerwork');
        const target = net.addUser(3, 'target');
        await ops.submitTransaction('credits:Mint', accountFor(target), '5');
        const denied = await plain.submitTransaction('credits:Mint', accountFor(target), '5').catch((e: unknown) => e);
        expect((denied as GatewayError).details[0]?.message).toContain('NOT_ADMIN');
    });

    it('fails endorsement of a nondeterministic chaincode (responses differ between orgs)', async () => {
        const dice = open(net.connection(1)).gateway.getNetwork('mychannel').getContract('dice');
        const error = await dice.submitTransaction('Roll').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(GatewayError);
        expect((error as GatewayError).code).toBe(10);
        expect((error as GatewayError).details[0]?.message).toBe('ProposalResponsePayloads do not match');
    });

    it('rejects a client of an unknown CA claiming a member MSP id', async () => {
        const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const subject = '/C=US/O=evil.example.com/OU=client/CN=mallory';
        const pem = issueCertificate({
            issuer: subject,
            subject,
            publicKey,
            signingKey: privateKey,
            ext: [{ extname: 'subjectKeyIdentifier', kid: { hex: subjectKeyId(publicKey) } }],
        });
        const dir = tempDir('mallory-');
        writeFileSync(path.join(dir, 'cert.pem'), pem);
        writeFileSync(path.join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
        const mallory = open({ ...net.connection(1), certPath: path.join(dir, 'cert.pem'), keyPath: path.join(dir, 'key.pem') });
        const contract = mallory.gateway.getNetwork('mychannel').getContract('ledgerwork');
        const error = await contract.evaluateTransaction('queries:GetTask', 'job1-t1').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(GatewayError);
        expect((error as GatewayError).code).toBe(10);
        expect((error as GatewayError).details[0]?.message).toContain('access denied: channel [mychannel] creator org [Org1MSP]');
        const unknownOrg = open({ ...net.connection(1), mspId: 'Org9MSP' }).gateway.getNetwork('mychannel').getContract('ledgerwork');
        const error2 = await unknownOrg.submitTransaction('executors:Register', 'x-1', '{}').catch((e: unknown) => e);
        expect((error2 as GatewayError).details[0]?.message).toContain('creator org unknown');
    });

    it('rejects a proposal signed with another key, and a transaction envelope with a forged signature', async () => {
        const settings = net.connection(2);
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const forger = connectGateway(settings);
        clients.push(forger);
        const forgedSigner = signers.newPrivateKeySigner(privateKey);

        const honest = forger.gateway.getNetwork('mychannel').getContract('ledgerwork');
        const proposal = honest.newProposal('executors:Register', { arguments: ['forged-1', '{}'] });
        const forgedProposal = forger.gateway.newSignedProposal(proposal.getBytes(), await forgedSigner(proposal.getDigest()));
        const e1 = await forgedProposal.endorse().catch((e: unknown) => e);
        expect((e1 as GatewayError).code).toBe(10);
        expect((e1 as GatewayError).details[0]?.message).toContain('access denied');

        const transaction = await proposal.endorse();
        const forgedTx = forger.gateway.newSignedTransaction(transaction.getBytes(), await forgedSigner(transaction.getDigest()));
        const e2 = await forgedTx.submit().catch((e: unknown) => e);
        expect(e2).toBeInstanceOf(GatewayError);
        expect((e2 as GatewayError).code).toBe(10);
        expect((e2 as GatewayError).message).toContain('status=FORBIDDEN');
        // The honest signature of the same transaction is accepted.
        const committed = await transaction.submit();
        expect((await committed.getStatus()).successful).toBe(true);
    });

    it('invalidates a transaction whose endorsed write set the client altered (ENDORSEMENT_POLICY_FAILURE)', async () => {
        const settings = net.connection(3);
        const client = open(settings);
        const contract = client.gateway.getNetwork('mychannel').getContract('ledgerwork');
        const transaction = await contract.newProposal('executors:Register', { arguments: ['tampered-1', '{}'] }).endorse();

        // Rewrite every written value in the endorsed read/write set, then sign the envelope as its creator.
        const prepared = gatewayProtos.PreparedTransaction.deserializeBinary(transaction.getBytes());
        const envelope = defined(prepared.getEnvelope());
        const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
        const tx = peer.Transaction.deserializeBinary(payload.getData_asU8());
        const action = defined(tx.getActionsList()[0]);
        const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
        const endorsed = defined(actionPayload.getAction());
        const prp = peer.ProposalResponsePayload.deserializeBinary(endorsed.getProposalResponsePayload_asU8());
        const ccAction = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
        const results = Buffer.from(ccAction.getResults_asU8());
        const marker = Buffer.from('tampered-1');
        const at = results.lastIndexOf(marker);
        expect(at).toBeGreaterThan(0);
        results.set(Buffer.from('tampered-2'), at);
        ccAction.setResults(results);
        prp.setExtension$(ccAction.serializeBinary());
        endorsed.setProposalResponsePayload(prp.serializeBinary());
        actionPayload.setAction(endorsed);
        action.setPayload(actionPayload.serializeBinary());
        tx.setActionsList([action]);
        payload.setData(tx.serializeBinary());
        envelope.setPayload(payload.serializeBinary());
        prepared.setEnvelope(envelope);
        const digest = createHash('sha256').update(envelope.getPayload_asU8()).digest();
        const signature = await signers.newPrivateKeySigner(createPrivateKey(readFileSync(settings.keyPath)))(digest);
        const signed = client.gateway.newSignedTransaction(prepared.serializeBinary(), signature);
        const submitted = await signed.submit();
        const status = await submitted.getStatus();
        expect(status.code).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
        const missing = await contract.evaluateTransaction('queries:GetExecutor', 'tampered-1').catch((e: unknown) => e);
        expect(missing).toBeInstanceOf(GatewayError);
    });

    it('invalidates a transaction whose endorsers\' signatures were swapped (ENDORSEMENT_POLICY_FAILURE)', async () => {
        // Each signature is a valid one the devnet's peers made for this very payload, but each now claims the other
        // org: remembering its own signatures must not let the commit skip checking what each one signed.
        const settings = net.connection(1);
        const client = open(settings);
        const contract = client.gateway.getNetwork('mychannel').getContract('ledgerwork');
        const transaction = await contract.newProposal('executors:Register', { arguments: ['swapped-1', '{}'] }).endorse();
        const prepared = gatewayProtos.PreparedTransaction.deserializeBinary(transaction.getBytes());
        const envelope = defined(prepared.getEnvelope());
        const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
        const tx = peer.Transaction.deserializeBinary(payload.getData_asU8());
        const action = defined(tx.getActionsList()[0]);
        const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
        const endorsed = defined(actionPayload.getAction());
        const [first, second] = endorsed.getEndorsementsList();
        const firstSignature = defined(first).getSignature_asU8();
        defined(first).setSignature(defined(second).getSignature_asU8());
        defined(second).setSignature(firstSignature);
        endorsed.setEndorsementsList([defined(first), defined(second)]);
        actionPayload.setAction(endorsed);
        action.setPayload(actionPayload.serializeBinary());
        tx.setActionsList([action]);
        payload.setData(tx.serializeBinary());
        envelope.setPayload(payload.serializeBinary());
        prepared.setEnvelope(envelope);
        const digest = createHash('sha256').update(envelope.getPayload_asU8()).digest();
        const signature = await signers.newPrivateKeySigner(createPrivateKey(readFileSync(settings.keyPath)))(digest);
        const submitted = await client.gateway.newSignedTransaction(prepared.serializeBinary(), signature).submit();
        expect((await submitted.getStatus()).code).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
        const missing = await contract.evaluateTransaction('queries:GetExecutor', 'swapped-1').catch((e: unknown) => e);
        expect(missing).toBeInstanceOf(GatewayError);
        // An untouched transaction commits.
        const honest = await contract.newProposal('executors:Register', { arguments: ['swapped-2', '{}'] }).endorse();
        expect((await (await honest.submit()).getStatus()).successful).toBe(true);
    });
});
