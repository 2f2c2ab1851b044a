// SPDX-License-Identifier: Apache-2.0
/**
 * A chaincode no one here wrote — fabric-samples' basic asset transfer in plain JavaScript, with its own
 * node_modules — behind the devnet, through an unmodified fabric-gateway client, in both chaincode modes: each org's
 * peer runs its own instance (getMspID answers that org), each chaincode has its own namespace, and the chaincode
 * may load fabric-shim itself.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checkpointers, EndorseError, type Contract } from '@hyperledger/fabric-gateway';
import { common, msp, orderer, peer } from '@hyperledger/fabric-protos';
import { startDevnet, type RunningDevnet } from '../src';
import { mapField } from '../src/channelConfig';
import { defined } from '../src/defined';
import { connectGateway, tempDir, type Connected } from './support/client';
import { endorsingMspIds } from './support/endorsers';

const FOLDER = path.resolve(__dirname, 'fixtures/asset-transfer-basic');
type ConfigGroup = common.ConfigGroup;
const groups = (g: ConfigGroup) => mapField<ConfigGroup>(g.getGroupsMap());
const values = (g: ConfigGroup) => mapField<common.ConfigValue>(g.getValuesMap());
const policies = (g: ConfigGroup) => mapField<common.ConfigPolicy>(g.getPoliciesMap());
const utf8 = new TextDecoder();

describe.each(['in-process', 'service'] as const)('a fabric-samples chaincode run %s', (mode) => {
    let net: RunningDevnet;
    let client: Connected;
    let basic: Contract;
    let other: Contract;

    beforeAll(async () => {
        const dir = tempDir();
        const chaincodes = [{ name: 'basic', folder: FOLDER }, { name: 'other', folder: FOLDER }];
        // The chaincode servers' own logging goes to a file, as on a peer, not into the test run's output.
        const services = chaincodes.map((c) => ({ ...c, logFile: path.join(dir, `${c.name}.server.log`) }));
        net = await startDevnet({ dir, batchTimeoutMs: 20, ...(mode === 'service' ? { services } : { chaincodes }) });
        client = connectGateway(net.connection(1));
        basic = client.gateway.getNetwork('mychannel').getContract('basic');
        other = client.gateway.getNetwork('mychannel').getContract('other');
    }, 180_000);

    afterAll(async () => {
        client.close();
        await net.stop();
    });

    it('runs the asset lifecycle of the sample application', async () => {
        await basic.submitTransaction('InitLedger');
        await basic.submitTransaction('CreateAsset', 'asset7', 'yellow', '5', 'Tom', '1300');
        expect(utf8.decode(await basic.submitTransaction('TransferAsset', 'asset7', 'Saptha'))).toBe('Tom');
        const asset = JSON.parse(utf8.decode(await basic.evaluateTransaction('ReadAsset', 'asset7'))) as { Owner: string };
        expect(asset.Owner).toBe('Saptha');
        const all = JSON.parse(utf8.decode(await basic.evaluateTransaction('GetAllAssets'))) as { ID: string }[];
        expect(all.map((a) => a.ID)).toEqual(['asset1', 'asset2', 'asset3', 'asset7']);
    });

    it('keeps each chaincode in its own namespace', async () => {
        await basic.submitTransaction('CreateAsset', 'mine', 'blue', '1', 'Ann', '10');
        await expect(other.evaluateTransaction('ReadAsset', 'mine')).rejects.toThrow('The asset mine does not exist');
        await other.submitTransaction('CreateAsset', 'mine', 'red', '2', 'Bob', '20');
        expect((JSON.parse(utf8.decode(await basic.evaluateTransaction('ReadAsset', 'mine'))) as { Owner: string }).Owner).toBe('Ann');
        expect((JSON.parse(utf8.decode(await other.evaluateTransaction('GetAllAssets'))) as { ID: string }[]).map((a) => a.ID)).toEqual(['mine']);
        await other.submitTransaction('DeleteAsset', 'mine');
        expect(utf8.decode(await basic.evaluateTransaction('AssetExists', 'mine'))).toBe('true');
    });

    it('answers CouchDB rich queries, paginated with bookmarks, and validates their reads at commit', async () => {
        for (const [id, color, owner] of [['rq1', 'violet', 'Ria'], ['rq2', 'violet', 'Sam'], ['rq3', 'violet', 'Ria'], ['rq4', 'violet', 'Ria']]) {
            await basic.submitAsync('CreateAsset', { arguments: [defined(id), defined(color), '7', defined(owner), '70'] });
        }
        await basic.submitTransaction('CreateAsset', 'rq5', 'violet', '8', 'Ria', '80');
        const byOwner = JSON.stringify({ selector: { Color: 'violet', Owner: 'Ria' }, sort: [{ Size: 'desc' }] });
        const found = JSON.parse(utf8.decode(await basic.evaluateTransaction('QueryAssets', byOwner))) as { ID: string }[];
        expect(found.map((a) => a.ID)).toEqual(['rq5', 'rq4', 'rq3', 'rq1']);

        const violet = JSON.stringify({ selector: { Color: 'violet' } });
        const pages: string[][] = [];
        let bookmark = '';
        for (;;) {
            const page = JSON.parse(utf8.decode(await basic.evaluateTransaction('QueryAssetsWithPagination', violet, '2', bookmark))) as {
                records: { Key: string }[];
                fetchedRecordsCount: number;
                bookmark: string;
            };
            expect(page.fetchedRecordsCount).toBe(page.records.length);
            if (page.records.length === 0) {
                break;
            }
            pages.push(page.records.map((r) => r.Key));
            bookmark = page.bookmark;
        }
        expect(pages).toEqual([['rq1', 'rq2'], ['rq3', 'rq4'], ['rq5']]);
        await expect(basic.evaluateTransaction('QueryAssets', '{"selector":{"Owner":{"$near":"Ria"}}}'))
            .rejects.toThrow('GET_QUERY_RESULT failed: transaction ID: ');

        // A rich query's results are reads: a concurrent update of one of them invalidates the transaction.
        const bySam = JSON.stringify({ selector: { Owner: 'Sam' } });
        const first = await basic.newProposal('TransferAssetsByQuery', { arguments: [bySam, 'Ula'] }).endorse();
        const second = await basic.newProposal('TransferAssetsByQuery', { arguments: [bySam, 'Vic'] }).endorse();
        expect(utf8.decode(first.getResult())).toBe('1');
        expect((await (await first.submit()).getStatus()).code).toBe(peer.TxValidationCode.VALID);
        expect((await (await second.submit()).getStatus()).code).toBe(peer.TxValidationCode.MVCC_READ_CONFLICT);
        expect((JSON.parse(utf8.decode(await basic.evaluateTransaction('ReadAsset', 'rq2'))) as { Owner: string }).Owner).toBe('Ula');
    });

    it('checks key-level endorsement policies at commit (SetStateValidationParameter)', async () => {
        await basic.submitTransaction('CreateAsset', 'sbe1', 'black', '1', 'Kim', '10');
        await basic.submitTransaction('CreateAsset', 'sbe2', 'black', '1', 'Kim', '10');
        expect(utf8.decode(await basic.evaluateTransaction('AssetEndorsers', 'sbe1'))).toBe('[]');
        // Setting the policy of a key that has none needs the chaincode's policy (a majority).
        await basic.submitTransaction('SetAssetEndorsers', 'sbe1', 'Org3MSP');
        expect(JSON.parse(utf8.decode(await basic.evaluateTransaction('AssetEndorsers', 'sbe1')))).toEqual(['Org3MSP']);
        const statusOf = async (args: string[], endorsingOrganizations: string[]): Promise<number> =>
            (await (await basic.submitAsync('UpdateAsset', { arguments: args, endorsingOrganizations })).getStatus()).code;
        // A majority without Org3 no longer suffices for sbe1; Org3 alone does (the key's policy replaces the chaincode's).
        expect(await statusOf(['sbe1', 'white', '2', 'Lou', '20'], ['Org1MSP', 'Org2MSP'])).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
        expect(await statusOf(['sbe1', 'white', '3', 'Mo', '30'], ['Org3MSP'])).toBe(peer.TxValidationCode.VALID);
        expect((JSON.parse(utf8.decode(await basic.evaluateTransaction('ReadAsset', 'sbe1'))) as { Owner: string }).Owner).toBe('Mo');
        // Without endorsing organizations the gateway plans from the key's policy, as the chaincode interest carries it.
        const planned = await basic.submitAsync('UpdateAsset', { arguments: ['sbe1', 'grey', '4', 'Ned', '40'] });
        const plannedStatus = await planned.getStatus();
        expect(plannedStatus.code).toBe(peer.TxValidationCode.VALID);
        expect(await endorsingMspIds(net, plannedStatus.blockNumber, planned.getTransactionId())).toEqual(['Org3MSP']);
        // The policy stays with the key across value updates; other keys keep the chaincode's policy.
        expect(JSON.parse(utf8.decode(await basic.evaluateTransaction('AssetEndorsers', 'sbe1')))).toEqual(['Org3MSP']);
        expect(await statusOf(['sbe2', 'white', '2', 'Lou', '20'], ['Org3MSP'])).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
        expect(await statusOf(['sbe2', 'white', '2', 'Lou', '20'], ['Org1MSP', 'Org2MSP'])).toBe(peer.TxValidationCode.VALID);
    });

    it('runs each org\'s endorsement as that org\'s peer', async () => {
        for (const mspId of ['Org1MSP', 'Org2MSP', 'Org3MSP']) {
            expect(utf8.decode(await basic.evaluate('PeerMspId', { endorsingOrganizations: [mspId] }))).toBe(mspId);
        }
        // Each endorser writes its own MSP id: the responses differ and the error names the org and its endpoint.
        const error = await basic.submit('StampEndorser', { arguments: ['stamp'], endorsingOrganizations: ['Org1MSP', 'Org3MSP'] }).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(EndorseError);
        expect((error as EndorseError).details).toEqual([
            { mspId: 'Org3MSP', address: `peer0.org3.example.com:${net.server.port}`, message: 'ProposalResponsePayloads do not match' },
        ]);
    });

    it('answers GetHistoryForKey with each committed modification, newest first: transaction id, timestamp, delete flag and value', async () => {
        const submit = async (name: string, ...args: string[]): Promise<string> => {
            const proposal = basic.newProposal(name, { arguments: args });
            const commit = await (await proposal.endorse()).submit();
            expect((await commit.getStatus()).code).toBe(peer.TxValidationCode.VALID);
            return proposal.getTransactionId();
        };
        const created = await submit('CreateAsset', 'storied', 'blue', '1', 'Ann', '10');
        const transferred = await submit('TransferAsset', 'storied', 'Bob');
        // A transaction invalidated at commit is not part of the history.
        const first = await basic.newProposal('TransferAsset', { arguments: ['storied', 'Carl'] }).endorse();
        const second = await basic.newProposal('TransferAsset', { arguments: ['storied', 'Dora'] }).endorse();
        expect((await (await first.submit()).getStatus()).code).toBe(peer.TxValidationCode.VALID);
        expect((await (await second.submit()).getStatus()).code).toBe(peer.TxValidationCode.MVCC_READ_CONFLICT);
        const deleted = await submit('DeleteAsset', 'storied');

        const history = JSON.parse(utf8.decode(await basic.evaluateTransaction('GetAssetHistory', 'storied'))) as {
            txId: string;
            timestamp: { seconds: number; nanos: number };
            isDelete: boolean;
            asset: { Owner: string } | null;
        }[];
        expect(history.map((h) => [h.txId, h.isDelete, h.asset?.Owner])).toEqual([
            [deleted, true, undefined],
            [first.getTransactionId(), false, 'Carl'],
            [transferred, false, 'Bob'],
            [created, false, 'Ann'],
        ]);
        const now = Date.now() / 1000;
        for (const { timestamp } of history) {
            expect(timestamp.seconds).toBeGreaterThan(now - 600);
            expect(timestamp.seconds).toBeLessThanOrEqual(now);
        }
        // Another chaincode's key of the same name has its own (empty) history.
        expect(JSON.parse(utf8.decode(await other.evaluateTransaction('GetAssetHistory', 'storied')))).toEqual([]);
    });

    it('names the devnet and the feature in what it does not support', async () => {
        await expect(basic.evaluateTransaction('CallChaincode', 'other', 'GetAllAssets'))
            .rejects.toThrow('chaincode-to-chaincode invocation (InvokeChaincode) is not supported by the ledgerwork devnet');
        // A peer service the devnet does not serve is refused with the feature named.
        const endorser = new grpc.Client(net.connection(1).peerEndpoint, grpc.credentials.createSsl(readFileSync(net.connection(1).tlsCertPath)), {
            'grpc.ssl_target_name_override': net.connection(1).peerHostAlias,
        });
        try {
            const refused = await new Promise<grpc.ServiceError>((resolve, reject) => {
                endorser.makeUnaryRequest('/protos.Snapshot/QueryPendings', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (error) => {
                    if (error === null) {
                        reject(new Error('QueryPendings answered'));
                    } else {
                        resolve(error);
                    }
                });
            });
            expect(refused.code).toBe(grpc.status.UNIMPLEMENTED);
            expect(refused.details).toBe('the ledgerwork devnet does not support ledger snapshots (the peer Snapshot service): /protos.Snapshot/QueryPendings is not implemented');
        } finally {
            endorser.close();
        }
    });

    it('delivers blocks, filtered blocks and blocks with private data, resuming at a checkpoint', async () => {
        const network = client.gateway.getNetwork('mychannel');
        const submitted = await basic.submitAsync('CreateAsset', { arguments: ['delivered', 'green', '3', 'Dee', '30'] });
        const status = await submitted.getStatus();
        expect(status.successful).toBe(true);
        const txId = submitted.getTransactionId();

        const blocks = await network.getBlockEvents({ startBlock: BigInt(0) });
        try {
            const numbers: number[] = [];
            for await (const block of blocks) {
                numbers.push(Number(block.getHeader()?.getNumber()));
                if (Number(block.getHeader()?.getNumber()) === Number(status.blockNumber)) {
                    const txIds = (block.getData()?.getDataList_asU8() ?? []).map((envelope) => {
                        const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelope).getPayload_asU8());
                        return common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array()).getTxId();
                    });
                    expect(txIds).toContain(txId);
                    break;
                }
            }
            expect(numbers).toEqual(Array.from({ length: Number(status.blockNumber) + 1 }, (_, i) => i));
        } finally {
            blocks.close();
        }

        // A checkpoint after the block before the transaction's: filtered events resume at the transaction's block.
        const checkpointer = checkpointers.inMemory();
        await checkpointer.checkpointBlock(status.blockNumber - 1n);
        const filtered = await network.getFilteredBlockEvents({ checkpoint: checkpointer });
        try {
            const first = await filtered[Symbol.asyncIterator]().next();
            expect(first.done).toBe(false);
            const block = first.value as peer.FilteredBlock;
            expect(block.getNumber()).toBe(Number(status.blockNumber));
        } finally {
            filtered.close();
        }
        // Nothing newer yet: the stream waits; a new commit arrives on it.
        const withPrivate = await network.getBlockAndPrivateDataEvents({ startBlock: status.blockNumber });
        try {
            const iterator = withPrivate[Symbol.asyncIterator]();
            const same = await iterator.next();
            expect(Number((same.value as peer.BlockAndPrivateData).getBlock()?.getHeader()?.getNumber())).toBe(Number(status.blockNumber));
            const next = iterator.next();
            const later = await basic.submitAsync('CreateAsset', { arguments: ['later', 'red', '1', 'Lee', '1'] });
            const laterStatus = await later.getStatus();
            expect(Number(((await next).value as peer.BlockAndPrivateData).getBlock()?.getHeader()?.getNumber())).toBeLessThanOrEqual(Number(laterStatus.blockNumber));
        } finally {
            withPrivate.close();
        }

        const filteredAgain = await network.getFilteredBlockEvents({ startBlock: status.blockNumber });
        try {
            const block = (await filteredAgain[Symbol.asyncIterator]().next()).value as peer.FilteredBlock;
            const tx = block.getFilteredTransactionsList().find((t) => t.getTxid() === txId);
            expect(tx?.getTxValidationCode()).toBe(peer.TxValidationCode.VALID);
            expect(tx?.getType()).toBe(common.HeaderType.ENDORSER_TRANSACTION);
        } finally {
            filteredAgain.close();
        }
    });

    it('starts the channel with a configuration block: MSPs, policies and capabilities', async () => {
        const blocks = await client.gateway.getNetwork('mychannel').getBlockEvents({ startBlock: 0n });
        let block: common.Block;
        try {
            block = (await blocks[Symbol.asyncIterator]().next()).value as common.Block;
        } finally {
            blocks.close();
        }
        expect(block.getHeader()?.getNumber()).toBe(0);
        const [envelope] = block.getData()?.getDataList_asU8() ?? [];
        const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(defined(envelope)).getPayload_asU8());
        const header = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array());
        expect(header.getType()).toBe(common.HeaderType.CONFIG);
        expect(header.getChannelId()).toBe('mychannel');
        const root = defined(common.ConfigEnvelope.deserializeBinary(payload.getData_asU8()).getConfig()?.getChannelGroup());
        expect([...groups(root).keys()]).toEqual(['Application', 'Orderer']);
        const application = defined(groups(root).get('Application'));
        expect([...policies(application).keys()]).toEqual(['Admins', 'Endorsement', 'LifecycleEndorsement', 'Readers', 'Writers']);
        const endorsement = common.ImplicitMetaPolicy.deserializeBinary(defined(policies(application).get('Endorsement')?.getPolicy()).getValue_asU8());
        expect([endorsement.getSubPolicy(), endorsement.getRule()]).toEqual(['Endorsement', common.ImplicitMetaPolicy.Rule.MAJORITY]);
        expect([...mapField<common.Capability>(common.Capabilities.deserializeBinary(defined(values(application).get('Capabilities')).getValue_asU8()).getCapabilitiesMap()).keys()])
            .toEqual(['V2_5']);
        const channelWriters = common.ImplicitMetaPolicy.deserializeBinary(defined(policies(root).get('Writers')?.getPolicy()).getValue_asU8());
        expect([channelWriters.getSubPolicy(), channelWriters.getRule()]).toEqual(['Writers', common.ImplicitMetaPolicy.Rule.ANY]);

        expect([...groups(application).keys()]).toEqual(['Org1MSP', 'Org2MSP', 'Org3MSP']);
        for (const org of net.devnet.orgs) {
            const orgGroup = defined(groups(application).get(org.mspId));
            const mspConfig = msp.MSPConfig.deserializeBinary(defined(values(orgGroup).get('MSP')).getValue_asU8());
            const fabricMsp = msp.FabricMSPConfig.deserializeBinary(mspConfig.getConfig_asU8());
            expect(fabricMsp.getName()).toBe(org.mspId);
            // The root certificate in the config is the CA that issued the org's identities; NodeOUs name their roles.
            const root = new X509Certificate(Buffer.from(defined(fabricMsp.getRootCertsList_asU8()[0])));
            expect(new X509Certificate(org.peer.certificatePem).checkIssued(root)).toBe(true);
            expect(fabricMsp.getFabricNodeOus()?.getEnable()).toBe(true);
            expect(fabricMsp.getFabricNodeOus()?.getPeerOuIdentifier()?.getOrganizationalUnitIdentifier()).toBe('peer');
            expect(new X509Certificate(org.peer.certificatePem).subject).toContain('OU=peer');
            const orgEndorsement = common.SignaturePolicyEnvelope.deserializeBinary(defined(policies(orgGroup).get('Endorsement')?.getPolicy()).getValue_asU8());
            const [principal] = orgEndorsement.getIdentitiesList();
            const role = msp.MSPRole.deserializeBinary(defined(principal).getPrincipal_asU8());
            expect([role.getMspIdentifier(), role.getRole()]).toEqual([org.mspId, msp.MSPRole.MSPRoleType.PEER]);
        }
        const ordering = defined(groups(root).get('Orderer'));
        const batchSize = orderer.BatchSize.deserializeBinary(defined(values(ordering).get('BatchSize')).getValue_asU8());
        expect(batchSize.getMaxMessageCount()).toBe(10);
        expect(orderer.BatchTimeout.deserializeBinary(defined(values(ordering).get('BatchTimeout')).getValue_asU8()).getTimeout()).toBe('20ms');
    });

    it('runs a chaincode that loads fabric-shim itself', async () => {
        const policy = Buffer.from(utf8.decode(await basic.evaluateTransaction('EndorsementPolicyFor', 'Org1MSP,Org2MSP')), 'base64');
        expect(policy.includes(Buffer.from('Org1MSP'))).toBe(true);
        expect(policy.includes(Buffer.from('Org2MSP'))).toBe(true);
    });
});
