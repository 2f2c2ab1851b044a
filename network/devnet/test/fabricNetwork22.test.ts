// SPDX-License-Identifier: Apache-2.0
/**
 * An application written for fabric-network 2.2 — the SDK most deployed Fabric applications still use — runs
 * unchanged against the devnet: it discovers the network (Discovery service) or reads it from the connection profile,
 * endorses on each org's peer (Endorser service, ProcessProposal), orders through the orderer (Broadcast), waits for
 * the commit and listens to contract events on the peers' Deliver service. The SDK, with its own @grpc/grpc-js, is
 * installed in its own fixture folder. The orderer's Deliver (`peer channel fetch`, block listeners reading from the
 * orderer) is read with fabric-protos' own AtomicBroadcast client.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { common, discovery, msp, orderer, peer } from '@hyperledger/fabric-protos';
import { AtomicBroadcastClient } from '@hyperledger/fabric-protos/lib/orderer/ab_grpc_pb';
import { CHAINCODE_DIR } from '../../../test/support/chaincodeRuntime';
import { contracts as assetContracts } from '../../../test/support/fabric/fixtures/assetContract';
import { blockHeaderHash, startDevnet, type ConnectionSettings, type OrgIdentity, type RunningDevnet } from '../src';
import { defined } from '../src/defined';
import type { TestIdentity } from '../src/identities';
import { buildSignedProposal } from '../src/proposals';
import { newTimestamp, type ProtoMap } from '../src/runtime';
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

type SeekPosition = InstanceType<typeof orderer.SeekPosition>;

function seek(kind: 'oldest' | 'newest' | number): SeekPosition {
    const position = new orderer.SeekPosition();
    if (kind === 'oldest') {
        position.setOldest(new orderer.SeekOldest());
    } else if (kind === 'newest') {
        position.setNewest(new orderer.SeekNewest());
    } else {
        const specified = new orderer.SeekSpecified();
        specified.setNumber(kind);
        position.setSpecified(specified);
    }
    return position;
}

/** A signed DELIVER_SEEK_INFO envelope, as `peer channel fetch` sends it (signed by `signer`, the creator by default). */
function seekEnvelope(creator: OrgIdentity, seekInfo: { start?: SeekPosition; stop?: SeekPosition; failIfNotReady?: boolean }, channel = 'mychannel', signer: OrgIdentity = creator): InstanceType<typeof common.Envelope> {
    const info = new orderer.SeekInfo();
    if (seekInfo.start !== undefined) {
        info.setStart(seekInfo.start);
    }
    if (seekInfo.stop !== undefined) {
        info.setStop(seekInfo.stop);
    }
    info.setBehavior(seekInfo.failIfNotReady === true ? orderer.SeekInfo.SeekBehavior.FAIL_IF_NOT_READY : orderer.SeekInfo.SeekBehavior.BLOCK_UNTIL_READY);
    const channelHeader = new common.ChannelHeader();
    channelHeader.setType(common.HeaderType.DELIVER_SEEK_INFO);
    channelHeader.setChannelId(channel);
    channelHeader.setTimestamp(newTimestamp(Date.now()));
    const signatureHeader = new common.SignatureHeader();
    signatureHeader.setCreator(creator.serialized);
    signatureHeader.setNonce(Buffer.from('0123456789abcdef0123456789abcdef'));
    const header = new common.Header();
    header.setChannelHeader(channelHeader.serializeBinary());
    header.setSignatureHeader(signatureHeader.serializeBinary());
    const payload = new common.Payload();
    payload.setHeader(header);
    payload.setData(info.serializeBinary());
    const envelope = new common.Envelope();
    envelope.setPayload(payload.serializeBinary());
    envelope.setSignature(signer.sign(payload.serializeBinary()));
    return envelope;
}

/** What the orderer's Deliver answers one request: the blocks, then the status that ends the request. */
function ordererDeliver(client: AtomicBroadcastClient, envelope: InstanceType<typeof common.Envelope>, sent?: () => void): Promise<{ blocks: Block[]; status: number }> {
    return new Promise((resolve, reject) => {
        const stream = client.deliver();
        const blocks: Block[] = [];
        stream.on('data', (response: InstanceType<typeof orderer.DeliverResponse>) => {
            const block = response.getBlock();
            if (block !== undefined) {
                blocks.push(block);
                return;
            }
            stream.end();
            resolve({ blocks, status: response.getStatus() });
        });
        stream.on('error', reject);
        stream.write(envelope, () => { sent?.(); });
    });
}

type Block = InstanceType<typeof common.Block>;

function numbersOf(blocks: readonly Block[]): number[] {
    return blocks.map((block) => block.getHeader()?.getNumber() ?? -1);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
    return Buffer.from(a).equals(Buffer.from(b));
}

/** The block's TRANSACTIONS_FILTER metadata: each transaction's validation code, set by the committing peer. */
function filterOf(block: Block): Uint8Array {
    return defined(block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER]);
}

function txIdsOf(block: Block): string[] {
    return (block.getData()?.getDataList_asU8() ?? []).map((bytes) => {
        const header = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(bytes).getPayload_asU8()).getHeader();
        return common.ChannelHeader.deserializeBinary(defined(header).getChannelHeader_asU8()).getTxId();
    });
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

    it('answers the config query with what the channel\'s config block says: its MSPs and the orderer where it is served', async () => {
        const org2 = net.addUser(2, 'config-reader');
        const query = new discovery.Query();
        query.setChannel('mychannel');
        query.setConfigQuery(new discovery.ConfigQuery());
        const auth = new discovery.AuthInfo();
        auth.setClientIdentity(org2.identity.serialized);
        const request = new discovery.Request();
        request.setAuthentication(auth);
        request.setQueriesList([query]);
        const signed = new discovery.SignedRequest();
        signed.setPayload(request.serializeBinary());
        signed.setSignature(org2.identity.sign(request.serializeBinary()));
        const client = rawClient(net.connection(2));
        let answer: InstanceType<typeof discovery.ConfigResult>;
        try {
            const response = discovery.Response.deserializeBinary(await unary(client, '/discovery.Discovery/Discover', signed.serializeBinary()));
            answer = defined(response.getResultsList()[0]?.getConfigResult());
        } finally {
            client.close();
        }
        // Block 0, decoded here with fabric-protos alone.
        const block = common.Block.deserializeBinary(defined(await net.devnet.blockBytes(0)));
        const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(defined(block.getData()?.getDataList_asU8()[0])).getPayload_asU8());
        const root = defined(common.ConfigEnvelope.deserializeBinary(payload.getData_asU8()).getConfig()?.getChannelGroup());
        const groupsOf = (group: InstanceType<typeof common.ConfigGroup>): [string, InstanceType<typeof common.ConfigGroup>][] => entries(group.getGroupsMap());
        const valueOf = (group: InstanceType<typeof common.ConfigGroup>, name: string): Uint8Array =>
            defined(entries<InstanceType<typeof common.ConfigValue>>(group.getValuesMap()).find(([key]) => key === name)?.[1]).getValue_asU8();
        const [, application] = defined(groupsOf(root).find(([name]) => name === 'Application'));
        const [, ordering] = defined(groupsOf(root).find(([name]) => name === 'Orderer'));
        const configured = new Map<string, Uint8Array>();
        for (const [, orgGroup] of [...groupsOf(application), ...groupsOf(ordering)]) {
            const fabricMsp = msp.FabricMSPConfig.deserializeBinary(msp.MSPConfig.deserializeBinary(valueOf(orgGroup, 'MSP')).getConfig_asU8());
            configured.set(fabricMsp.getName(), fabricMsp.serializeBinary());
        }
        const answered = entries<InstanceType<typeof msp.FabricMSPConfig>>(answer.getMspsMap());
        expect(answered.map(([mspId]) => mspId).sort()).toEqual([...configured.keys()].sort());
        for (const [mspId, fabricMsp] of answered) {
            // Byte for byte the config block's MSP: root and TLS root certificates, NodeOUs, crypto config.
            expect(sameBytes(fabricMsp.serializeBinary(), defined(configured.get(mspId)))).toBe(true);
        }
        // The orderer endpoints: each orderer org's Endpoints in block 0 — and that is where the orderer is served.
        const ordererOrgs = groupsOf(ordering).map(([name, orgGroup]) => [name, common.OrdererAddresses.deserializeBinary(valueOf(orgGroup, 'Endpoints')).getAddressesList()] as const);
        const answeredOrderers = entries<InstanceType<typeof discovery.Endpoints>>(answer.getOrderersMap())
            .map(([mspId, endpoints]) => [mspId, endpoints.getEndpointList().map((e) => `${e.getHost()}:${e.getPort()}`)] as const);
        expect(answeredOrderers).toEqual(ordererOrgs);
        expect(answeredOrderers).toEqual([['Org1MSP', [`orderer.example.com:${net.servers[0]?.port ?? 0}`]]]);
    });

    describe('the orderer\'s Deliver, read with fabric-protos\' AtomicBroadcast client', () => {
        const { Status } = common;
        let client: AtomicBroadcastClient;
        let fetcher: OrgIdentity;

        beforeAll(() => {
            const settings = net.connection(1);
            fetcher = net.addUser(1, 'fetcher').identity;
            client = new AtomicBroadcastClient(settings.peerEndpoint, grpc.credentials.createSsl(readFileSync(settings.tlsCertPath)), {
                'grpc.ssl_target_name_override': 'orderer.example.com',
            });
        });

        afterAll(() => {
            client.close();
        });

        it('sends blocks as the orderer cut them, from seek positions as deliver.go reads them', async () => {
            // `peer channel fetch 0`: the configuration block, as ordered (no validation codes), then SUCCESS.
            const genesis = await ordererDeliver(client, seekEnvelope(fetcher, { start: seek(0), stop: seek(0) }));
            expect([numbersOf(genesis.blocks), genesis.status]).toEqual([[0], Status.SUCCESS]);
            const committed = common.Block.deserializeBinary(defined(await net.devnet.blockBytes(0)));
            const cut = defined(genesis.blocks[0]);
            expect(sameBytes(defined(cut.getHeader()).serializeBinary(), defined(committed.getHeader()).serializeBinary())).toBe(true);
            expect(sameBytes(defined(cut.getData()).serializeBinary(), defined(committed.getData()).serializeBinary())).toBe(true);
            expect(Array.from(filterOf(committed))).toEqual([peer.TxValidationCode.VALID]);
            expect(Array.from(filterOf(cut))).toEqual([]);

            // Oldest to newest: every block, hash-chained; newest alone: the last one.
            const height = net.devnet.height;
            const all = await ordererDeliver(client, seekEnvelope(fetcher, { start: seek('oldest'), stop: seek('newest') }));
            expect([numbersOf(all.blocks), all.status]).toEqual([Array.from({ length: height }, (_, i) => i), Status.SUCCESS]);
            for (const [i, block] of all.blocks.entries()) {
                if (i > 0) {
                    expect(sameBytes(defined(block.getHeader()).getPreviousHash_asU8(), blockHeaderHash(defined(all.blocks[i - 1]?.getHeader())))).toBe(true);
                }
            }
            const newest = await ordererDeliver(client, seekEnvelope(fetcher, { start: seek('newest'), stop: seek('newest') }));
            expect(numbersOf(newest.blocks)).toEqual([height - 1]);
            // A stop at "oldest" is the start block alone.
            const one = await ordererDeliver(client, seekEnvelope(fetcher, { start: seek(1), stop: seek('oldest') }));
            expect([numbersOf(one.blocks), one.status]).toEqual([[1], Status.SUCCESS]);
        });

        it('waits for a block not cut yet (NOT_FOUND with FAIL_IF_NOT_READY) and refuses bad requests with a status alone', async () => {
            const height = net.devnet.height;
            const notYet = await ordererDeliver(client, seekEnvelope(fetcher, { start: seek(height + 5), stop: seek(height + 5), failIfNotReady: true }));
            expect([notYet.blocks.length, notYet.status]).toEqual([0, Status.NOT_FOUND]);
            const gateway = await connect(net, true);
            try {
                const transaction = (await gateway.getNetwork('mychannel')).getContract('assets', 'assets').createTransaction('CreateAsset');
                let submitted: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
                const next = await ordererDeliver(client, seekEnvelope(fetcher, { start: seek(height), stop: seek(height) }), () => {
                    submitted = transaction.submit('from-orderer-deliver', 'cut');
                });
                await submitted;
                expect([numbersOf(next.blocks), next.status]).toEqual([[height], Status.SUCCESS]);
                expect(txIdsOf(defined(next.blocks[0]))).toContain(transaction.getTransactionId());
                expect(Array.from(filterOf(defined(next.blocks[0])))).toEqual([]);
            } finally {
                gateway.disconnect();
            }
            // No stop, no start, a stop before the start, an unknown channel, a request not signed by its creator.
            const refusals = [
                seekEnvelope(fetcher, { start: seek(0) }),
                seekEnvelope(fetcher, { stop: seek(0) }),
                seekEnvelope(fetcher, { start: seek(2), stop: seek(1) }),
                seekEnvelope(fetcher, { start: seek(0), stop: seek(0) }, 'nochannel'),
                seekEnvelope(fetcher, { start: seek(0), stop: seek(0) }, 'mychannel', net.addUser(2, 'impostor').identity),
            ];
            const answers = await Promise.all(refusals.map((envelope) => ordererDeliver(client, envelope)));
            expect(answers.map((a) => [a.blocks.length, a.status])).toEqual([
                [0, Status.BAD_REQUEST],
                [0, Status.BAD_REQUEST],
                [0, Status.BAD_REQUEST],
                [0, Status.NOT_FOUND],
                [0, Status.FORBIDDEN],
            ]);
        }, 60_000);
    });

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

describe('the orderer endpoint in a devnet\'s config block', () => {
    it('is where the devnet serves the orderer: a restart comes back there, and another port is refused', async () => {
        const dir = tempDir();
        const first = await startDevnet({ dir, orgPorts: [0, 0], orgs: 2 });
        const port = defined(first.servers[0]).port;
        expect(first.devnet.configuredOrdererPort).toBe(port);
        await first.stop();
        const again = await startDevnet({ dir, orgPorts: [0, 0], orgs: 2 });
        try {
            expect(defined(again.servers[0]).port).toBe(port);
            expect(again.devnet.configuredOrdererPort).toBe(port);
        } finally {
            await again.stop();
        }
        const elsewhere = port === 65_535 ? port - 1 : port + 1;
        await expect(startDevnet({ dir, orgPorts: [elsewhere, 0], orgs: 2 })).rejects.toThrow(`the channel configuration (block 0 in ${dir}) names the orderer at port ${port}: start this devnet on port ${port} (or 0 for that port), or in a new directory`);
    }, 60_000);
});
