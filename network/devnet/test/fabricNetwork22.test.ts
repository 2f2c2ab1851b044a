// SPDX-License-Identifier: Apache-2.0
/**
 * An application written for fabric-network 2.2 — the SDK most deployed Fabric applications still use — runs
 * unchanged against the devnet: it discovers the network (Discovery service) or reads it from the connection profile,
 * endorses on each org's peer (Endorser service, ProcessProposal), orders through the orderer (Broadcast), waits for
 * the commit and listens to contract events on the peers' Deliver service. The SDK, with its own @grpc/grpc-js, is
 * installed in its own fixture folder.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { common, discovery, orderer, peer } from '@hyperledger/fabric-protos';
import { CHAINCODE_DIR } from '../../../test/support/chaincodeRuntime';
import { contracts as assetContracts } from '../../../test/support/fabric/fixtures/assetContract';
import { startDevnet, type ConnectionSettings, type RunningDevnet } from '../src';
import type { TestIdentity } from '../src/identities';
import { buildSignedProposal } from '../src/proposals';
import type { ProtoMap } from '../src/runtime';
import { tempDir } from './support/client';
import type * as FabricNetwork from './fixtures/fabric-network-2.2/node_modules/fabric-network';

const fabricNetwork = createRequire(path.join(__dirname, 'fixtures/fabric-network-2.2/package.json'))('fabric-network') as typeof FabricNetwork;
const utf8 = new TextDecoder();

async function connect(net: RunningDevnet, discoveryEnabled: boolean): Promise<FabricNetwork.Gateway> {
    const settings = net.connection(1);
    const wallet = await fabricNetwork.Wallets.newInMemoryWallet();
    const identity: FabricNetwork.X509Identity = {
        credentials: { certificate: readFileSync(settings.certPath, 'utf8'), privateKey: readFileSync(settings.keyPath, 'utf8') },
        mspId: settings.mspId,
        type: 'X.509',
    };
    await wallet.put('appUser', identity);
    const gateway = new fabricNetwork.Gateway();
    await gateway.connect(net.connectionProfile(1) as unknown as Record<string, unknown>, {
        wallet,
        identity: 'appUser',
        discovery: { enabled: discoveryEnabled, asLocalhost: true },
    });
    return gateway;
}

function rawClient(settings: ConnectionSettings): grpc.Client {
    return new grpc.Client(settings.peerEndpoint, grpc.credentials.createSsl(readFileSync(settings.tlsCertPath)), {
        'grpc.ssl_target_name_override': settings.peerHostAlias,
    });
}

function unary(client: grpc.Client, method: string, request: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        client.makeUnaryRequest(method, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, request, (error, value) => {
            if (error !== null || value === undefined) {
                reject(error ?? new Error('no response'));
            } else {
                resolve(value);
            }
        });
    });
}

/** How many endorsements transaction `txId` of block `blockNumber` carries. */
async function endorsersOf(net: RunningDevnet, blockNumber: number, txId: string): Promise<number> {
    const block = common.Block.deserializeBinary((await net.devnet.blockBytes(blockNumber)) ?? new Uint8Array());
    for (const bytes of block.getData()?.getDataList_asU8() ?? []) {
        const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(bytes).getPayload_asU8());
        if (common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array()).getTxId() === txId) {
            const action = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0];
            return peer.ChaincodeActionPayload.deserializeBinary(action?.getPayload_asU8() ?? new Uint8Array()).getAction()?.getEndorsementsList().length ?? 0;
        }
    }
    throw new Error(`transaction ${txId} is not in block ${blockNumber}`);
}

/** A protobuf map's entries (google-protobuf's Map typings do not resolve here). */
function entries<V>(map: unknown): [string, V][] {
    const out: [string, V][] = [];
    (map as ProtoMap<V> | undefined)?.forEach((value, key) => { out.push([key, value]); });
    return out;
}

describe('a fabric-network 2.2 application against the devnet', () => {
    let net: RunningDevnet;

    beforeAll(async () => {
        net = await startDevnet({
            dir: tempDir(),
            batchTimeoutMs: 20,
            orgPorts: [0, 0, 0],
            chaincodes: [{ name: 'assets', folder: CHAINCODE_DIR, contracts: assetContracts }],
        });
    }, 120_000);

    afterAll(async () => {
        await net.stop();
    });

    describe.each([true, false])('with discovery %s', (discoveryEnabled) => {
        let gateway: FabricNetwork.Gateway;
        let contract: FabricNetwork.Contract;

        beforeAll(async () => {
            gateway = await connect(net, discoveryEnabled);
            contract = (await gateway.getNetwork('mychannel')).getContract('assets', 'assets');
        }, 60_000);

        afterAll(() => {
            gateway.disconnect();
        });

        it('submits on a majority of the orgs\' peers, waits for the commit and evaluates the committed state', async () => {
            const id = `a-${String(discoveryEnabled)}`;
            const transaction = contract.createTransaction('CreateAsset');
            await transaction.submit(id, 'hello');
            // submit resolves once the org's peers report the transaction committed: it is, and valid.
            const txId = transaction.getTransactionId();
            const blockNumber = await net.devnet.blockOf(txId);
            expect(blockNumber).toBeDefined();
            expect((await net.devnet.commitStatus(txId)).code).toBe(peer.TxValidationCode.VALID);
            // With discovery the SDK follows the plan (two of three orgs); without, it asks every peer of the profile.
            expect(await endorsersOf(net, blockNumber ?? 0, txId)).toEqual(discoveryEnabled ? 2 : 3);
            expect(JSON.parse(utf8.decode(await contract.evaluateTransaction('ReadAsset', id)))).toEqual({ id, value: 'hello', ownerMspId: 'Org1MSP' });
            await contract.submitTransaction('UpdateAsset', id, 'again');
            expect(JSON.parse(utf8.decode(await contract.evaluateTransaction('ReadAsset', id)))).toEqual({ id, value: 'again', ownerMspId: 'Org1MSP' });
        });

        it('reports a chaincode error of an evaluation and of an endorsement', async () => {
            await expect(contract.evaluateTransaction('ReadAsset', 'nothing-here')).rejects.toThrow('nothing-here');
            await expect(contract.submitTransaction('UpdateAsset', 'nothing-here', 'x')).rejects.toThrow('nothing-here');
        });

        it('delivers contract events of committed transactions', async () => {
            const id = `e-${String(discoveryEnabled)}`;
            const received = new Promise<FabricNetwork.ContractEvent>((resolve) => {
                const listener = (event: FabricNetwork.ContractEvent): Promise<void> => {
                    if (event.eventName === 'AssetCreated' && utf8.decode(event.payload).includes(id)) {
                        contract.removeContractListener(listener);
                        resolve(event);
                    }
                    return Promise.resolve();
                };
                void contract.addContractListener(listener);
            });
            const transaction = contract.createTransaction('CreateAsset');
            await transaction.submit(id, 'evented');
            const event = await received;
            expect(event.getTransactionEvent().transactionId).toBe(transaction.getTransactionId());
            expect(JSON.parse(utf8.decode(event.payload))).toEqual({ id, value: 'evented', ownerMspId: 'Org1MSP' });
            expect(event.getTransactionEvent().isValid).toBe(true);
        });
    });

    it('answers discovery with the channel\'s MSPs, its peers by org and a majority endorsement plan', async () => {
        const gateway = await connect(net, true);
        try {
            const network = await gateway.getNetwork('mychannel');
            const channel = network.getChannel();
            const endorsers = channel.getEndorsers().map((e) => e.name).sort();
            expect(endorsers).toEqual(expect.arrayContaining(['peer0.org1.example.com', 'peer0.org2.example.com', 'peer0.org3.example.com']));
            expect(channel.getMspids().sort()).toEqual(expect.arrayContaining(['Org1MSP', 'Org2MSP', 'Org3MSP']));
        } finally {
            gateway.disconnect();
        }
        // The raw answer: the chaincode's plan has one group per org and each layout asks two of the three orgs.
        const org1 = net.addUser(1, 'discoverer');
        const query = new discovery.Query();
        query.setChannel('mychannel');
        const ccQuery = new discovery.ChaincodeQuery();
        const interest = new peer.ChaincodeInterest();
        const call = new peer.ChaincodeCall();
        call.setName('assets');
        interest.setChaincodesList([call]);
        ccQuery.setInterestsList([interest]);
        query.setCcQuery(ccQuery);
        const missing = new discovery.Query();
        missing.setChannel('mychannel');
        const missingQuery = new discovery.ChaincodeQuery();
        const missingInterest = new peer.ChaincodeInterest();
        const missingCall = new peer.ChaincodeCall();
        missingCall.setName('nope');
        missingInterest.setChaincodesList([missingCall]);
        missingQuery.setInterestsList([missingInterest]);
        missing.setCcQuery(missingQuery);
        const otherChannel = new discovery.Query();
        otherChannel.setChannel('otherchannel');
        otherChannel.setConfigQuery(new discovery.ConfigQuery());
        const local = new discovery.Query();
        local.setLocalPeers(new discovery.LocalPeerQuery());
        const auth = new discovery.AuthInfo();
        auth.setClientIdentity(org1.identity.serialized);
        const request = new discovery.Request();
        request.setAuthentication(auth);
        request.setQueriesList([query, missing, otherChannel, local]);
        const signed = new discovery.SignedRequest();
        signed.setPayload(request.serializeBinary());
        signed.setSignature(org1.identity.sign(request.serializeBinary()));
        const client = rawClient(net.connection(1));
        try {
            const response = discovery.Response.deserializeBinary(await unary(client, '/discovery.Discovery/Discover', signed.serializeBinary()));
            const [plan, notDefined, denied, notAdmin] = response.getResultsList();
            const descriptor = plan?.getCcQueryRes()?.getContentList()[0];
            expect(descriptor?.getChaincode()).toBe('assets');
            expect(entries<unknown>(descriptor?.getEndorsersByGroupsMap()).map(([group]) => group).sort()).toEqual(['G0', 'G1', 'G2']);
            const layouts = descriptor?.getLayoutsList().map((layout) => entries<number>(layout.getQuantitiesByGroupMap()).sort()) ?? [];
            expect(layouts).toEqual([[['G0', 1], ['G1', 1]], [['G0', 1], ['G2', 1]], [['G1', 1], ['G2', 1]]]);
            expect(notDefined?.getError()?.getContent()).toBe('failed constructing descriptor for [name:"nope"]');
            expect(denied?.getError()?.getContent()).toBe('access denied');
            expect(notAdmin?.getError()?.getContent()).toBe('access denied');
        } finally {
            client.close();
        }
    }, 60_000);

    it('refuses as a peer and an orderer do: unknown channel, bad signature', async () => {
        const user = net.addUser(2, 'direct');
        const client = rawClient(net.connection(2));
        try {
            // ProcessProposal: a proposal for a channel the peer has not joined is a response with status 500.
            // buildSignedProposal needs only the creator bytes and the signer.
            const identity = { serializedIdentity: user.identity.serialized, sign: (message: Uint8Array) => user.identity.sign(message) } as unknown as TestIdentity;
            const proposal = buildSignedProposal(identity, { channel: 'nochannel', chaincode: 'assets', fn: 'ReadAsset', args: ['x'], timestamp: Date.now() });
            const refused = peer.ProposalResponse.deserializeBinary(await unary(client, '/protos.Endorser/ProcessProposal', proposal.signedProposal));
            expect(refused.getResponse()?.getStatus()).toBe(500);
            expect(refused.getResponse()?.getMessage()).toBe('channel \'nochannel\' not found');
            expect(refused.hasEndorsement()).toBe(false);
            // A proposal not signed by its creator is refused, unendorsed.
            const stranger = net.addUser(3, 'stranger').identity;
            const forgedIdentity = { serializedIdentity: user.identity.serialized, sign: (message: Uint8Array) => stranger.sign(message) } as unknown as TestIdentity;
            const forgedProposal = buildSignedProposal(forgedIdentity, { channel: 'mychannel', chaincode: 'assets', fn: 'Put', args: ['k', 'forged'], timestamp: Date.now() });
            const forgedResponse = peer.ProposalResponse.deserializeBinary(await unary(client, '/protos.Endorser/ProcessProposal', forgedProposal.signedProposal));
            expect(forgedResponse.getResponse()?.getStatus()).toBe(500);
            expect(forgedResponse.getResponse()?.getMessage()).toMatch(/^error validating proposal: /);
            expect(forgedResponse.hasEndorsement()).toBe(false);
            // An endorsement by the org whose peer was called.
            const good = buildSignedProposal(identity, { channel: 'mychannel', chaincode: 'assets', fn: 'Put', args: ['k', 'v'], timestamp: Date.now() });
            const endorsed = peer.ProposalResponse.deserializeBinary(await unary(client, '/protos.Endorser/ProcessProposal', good.signedProposal));
            expect(endorsed.getResponse()?.getStatus()).toBe(200);
            expect(Buffer.from(endorsed.getEndorsement()?.getEndorser_asU8() ?? []).equals(Buffer.from(net.devnet.orgs[1]?.peer.serialized ?? []))).toBe(true);

            // Broadcast: an envelope signed by someone else is FORBIDDEN, one for another channel a BAD_REQUEST.
            const payload = new common.Payload();
            const header = new common.Header();
            const channelHeader = new common.ChannelHeader();
            channelHeader.setChannelId('mychannel');
            channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
            const signatureHeader = new common.SignatureHeader();
            signatureHeader.setCreator(user.identity.serialized);
            header.setChannelHeader(channelHeader.serializeBinary());
            header.setSignatureHeader(signatureHeader.serializeBinary());
            payload.setHeader(header);
            const forged = new common.Envelope();
            forged.setPayload(payload.serializeBinary());
            forged.setSignature(net.addUser(3, 'someone-else').identity.sign(payload.serializeBinary()));
            channelHeader.setChannelId('otherchannel');
            header.setChannelHeader(channelHeader.serializeBinary());
            payload.setHeader(header);
            const elsewhere = new common.Envelope();
            elsewhere.setPayload(payload.serializeBinary());
            elsewhere.setSignature(user.identity.sign(payload.serializeBinary()));
            const stream = client.makeBidiStreamRequest('/orderer.AtomicBroadcast/Broadcast', (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b);
            const responses: InstanceType<typeof orderer.BroadcastResponse>[] = [];
            const done = new Promise<void>((resolve, reject) => {
                stream.on('data', (bytes: Buffer) => { responses.push(orderer.BroadcastResponse.deserializeBinary(bytes)); });
                stream.on('end', () => { resolve(); });
                stream.on('error', reject);
            });
            stream.write(forged.serializeBinary());
            stream.write(elsewhere.serializeBinary());
            stream.end();
            await done;
            expect(responses.map((r) => r.getStatus())).toEqual([common.Status.FORBIDDEN, common.Status.BAD_REQUEST]);
            expect(responses[0]?.getInfo()).toContain('implicit policy evaluation failed');
            expect(responses[1]?.getInfo()).toBe('channel creation request not allowed because the orderer system channel is not defined');
        } finally {
            client.close();
        }
    }, 60_000);
});
