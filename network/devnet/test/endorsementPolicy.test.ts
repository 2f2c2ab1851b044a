// SPDX-License-Identifier: Apache-2.0
/**
 * Chaincode endorsement policies as a chaincode definition gives them (a signature policy, or a channel configuration
 * policy by path, by default /Channel/Application/Endorsement): evaluated on endorsements as Fabric's validator does,
 * the endorsing org sets worked out from them (discovery's layouts, with collection endorsement policies and member
 * filters), bad definitions refused, and on a devnet: transactions whose endorsements do not satisfy the chaincode's
 * policy invalid with ENDORSEMENT_POLICY_FAILURE and nothing written, the gateway planning endorsers from the policy.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GatewayError, type Contract } from '@hyperledger/fabric-gateway';
import { discovery, msp, peer } from '@hyperledger/fabric-protos';
import { CHAINCODE_DIR } from '../../../test/support/chaincodeRuntime';
import { contracts as assetContracts } from '../../../test/support/fabric/fixtures/assetContract';
import { EndorsementPolicyError, ensureCryptoMaterial, startDevnet, type RunningDevnet } from '../src';
import { channelConfig } from '../src/channelConfig';
import { parseCollectionsConfig, type CollectionConfig } from '../src/collections';
import { defined } from '../src/defined';
import { discover } from '../src/discoveryService';
import { endorsementLayouts, interestOf, type DefinitionSource } from '../src/endorsementPlan';
import { channelConfigEndorsementPolicy, defineEndorsementPolicy, endorsingOrgSets, type EndorsementPolicy } from '../src/endorsementPolicy';
import type { ValidEndorser } from '../src/keyPolicy';
import { connectGateway, tempDir, type Connected } from './support/client';
import { endorsingMspIds } from './support/endorsers';

const MSPS = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
const PRIVATE_DATA_FOLDER = path.resolve(__dirname, 'fixtures/asset-transfer-private-data');
const peers = (...mspIds: string[]): ValidEndorser[] => mspIds.map((mspId) => ({ mspId, role: 'peer' }));
const utf8 = new TextDecoder();

describe('chaincode endorsement policies', () => {
    const material = ensureCryptoMaterial(tempDir('devnet-policy-'), 3);
    const config = channelConfig({ channel: 'mychannel', orgs: material.orgs, tlsCaCertificatePem: material.tls.caCertificatePem, batchSize: 10, batchTimeoutMs: 200, ordererEndpoint: 'orderer.example.com:7050' });
    const define = (definition: { signaturePolicy?: string; channelConfigPolicy?: string }): EndorsementPolicy => defineEndorsementPolicy(definition, config, MSPS);

    it('evaluates signature policies as cauthdsl does: roles, thresholds, one endorsement per principal', () => {
        const or = define({ signaturePolicy: "OR('Org1MSP.peer','Org2MSP.peer')" });
        expect(or.isSatisfiedBy(peers('Org1MSP'))).toBe(true);
        expect(or.isSatisfiedBy(peers('Org3MSP'))).toBe(false);
        expect(or.isSatisfiedBy([{ mspId: 'Org1MSP', role: 'client' }])).toBe(false);
        const and = define({ signaturePolicy: "AND('Org1MSP.member','Org2MSP.peer')" });
        expect(and.isSatisfiedBy(peers('Org1MSP'))).toBe(false);
        expect(and.isSatisfiedBy(peers('Org1MSP', 'Org2MSP'))).toBe(true);
        const twoOfThree = define({ signaturePolicy: "OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer')" });
        expect(twoOfThree.isSatisfiedBy(peers('Org3MSP'))).toBe(false);
        expect(twoOfThree.isSatisfiedBy(peers('Org3MSP', 'Org1MSP'))).toBe(true);
        // Two principals of one org need two endorsements of that org.
        expect(define({ signaturePolicy: "OR('Org2MSP.peer', AND('Org1MSP.peer','Org1MSP.member'))" }).isSatisfiedBy(peers('Org1MSP'))).toBe(false);
    });

    it('evaluates channel configuration policies by path: implicit meta over the orgs\' policies', () => {
        const majority = define({});
        expect(majority.description).toBe('/Channel/Application/Endorsement');
        expect(majority.isSatisfiedBy(peers('Org2MSP'))).toBe(false);
        expect(majority.isSatisfiedBy(peers('Org2MSP', 'Org3MSP'))).toBe(true);
        // ANY of the orgs' Readers (admin, peer or client): one peer; relative to /Channel as the policy manager reads it.
        expect(channelConfigEndorsementPolicy('Application/Readers', config).isSatisfiedBy(peers('Org3MSP'))).toBe(true);
        // The orgs' Writers are admins and clients: no set of peers satisfies them.
        expect(() => define({ channelConfigPolicy: '/Channel/Application/Writers' })).toThrow(EndorsementPolicyError);
        expect(() => define({ channelConfigPolicy: '/Channel/Application/Nothing' }))
            .toThrow('channel config policy /Channel/Application/Nothing does not exist in the channel configuration');
    });

    it('refuses bad definitions with a typed error', () => {
        expect(() => define({ signaturePolicy: "OR('Org1MSP.peer'", channelConfigPolicy: '/Channel/Application/Endorsement' }))
            .toThrow('cannot specify both "--signature-policy" and "--channel-config-policy"');
        expect(() => define({ signaturePolicy: "OR('Org1MSP.peer'" })).toThrow(/^invalid signature policy: OR\('Org1MSP.peer': /);
        expect(() => define({ signaturePolicy: "OR('Org9MSP.peer')" })).toThrow("'Org9MSP' is not an organization of the channel");
        expect(() => define({ signaturePolicy: "AND('Org1MSP.admin')" })).toThrow(EndorsementPolicyError);
        expect(() => define({ signaturePolicy: "AND('Org1MSP.admin')" })).toThrow('cannot be satisfied by the peers of the channel\'s organizations');
    });

    it('works out the minimal endorsing org sets, smallest first, in the order of preference', () => {
        expect(endorsingOrgSets([define({})], MSPS)).toEqual([['Org1MSP', 'Org2MSP'], ['Org1MSP', 'Org3MSP'], ['Org2MSP', 'Org3MSP']]);
        expect(endorsingOrgSets([define({ signaturePolicy: "OR('Org2MSP.peer', AND('Org1MSP.peer','Org3MSP.peer'))" })], ['Org3MSP', 'Org1MSP', 'Org2MSP']))
            .toEqual([['Org2MSP'], ['Org3MSP', 'Org1MSP']]);
    });

    it('plans with collection endorsement policies and members, as discovery does with a chaincode interest', () => {
        const collections = parseCollectionsConfig([
            { name: 'shared', policy: "OR('Org1MSP.member','Org2MSP.member')", requiredPeerCount: 0, maxPeerCount: 1 },
            { name: 'org1Only', policy: "OR('Org1MSP.member')", requiredPeerCount: 0, maxPeerCount: 1, endorsementPolicy: { signaturePolicy: "OR('Org1MSP.member')" } },
        ], MSPS);
        const source = (policy: EndorsementPolicy): DefinitionSource => ({
            chaincodePolicy: (chaincode) => (chaincode === 'cc' ? policy : undefined),
            collection: (chaincode, name): CollectionConfig | undefined => (chaincode === 'cc' ? collections.find((c) => c.name === name) : undefined),
        });
        const anyOfTwo = source(define({ signaturePolicy: "OR('Org1MSP.peer','Org2MSP.peer')" }));
        // Public writes: the chaincode's policy alone.
        expect(endorsementLayouts(interestOf({ chaincode: 'cc', publicWrites: true, writtenCollections: [], privateReads: [] }), anyOfTwo, MSPS)).toEqual([['Org1MSP'], ['Org2MSP']]);
        // A write to org1Only only: its own policy replaces the chaincode's.
        const org1Write = interestOf({ chaincode: 'cc', publicWrites: false, writtenCollections: ['org1Only'], privateReads: [] });
        expect(endorsementLayouts(org1Write, anyOfTwo, MSPS)).toEqual([['Org1MSP']]);
        expect(endorsementLayouts(org1Write, source(define({})), ['Org2MSP', 'Org3MSP', 'Org1MSP'])).toEqual([['Org1MSP']]);
        // Writes to both collections, shared read in plaintext: members of shared only, both policies.
        const both = interestOf({ chaincode: 'cc', publicWrites: false, writtenCollections: ['org1Only', 'shared'], privateReads: ['shared'] });
        expect(both).toEqual([
            { chaincode: 'cc', collections: ['org1Only'], noPrivateReads: true },
            { chaincode: 'cc', collections: ['shared'], noPrivateReads: false },
        ]);
        expect(endorsementLayouts(both, anyOfTwo, MSPS)).toEqual([['Org1MSP']]);
        // A majority of the three orgs: Org1 with Org2, shared's other member.
        expect(endorsementLayouts(both, source(define({})), MSPS)).toEqual([['Org1MSP', 'Org2MSP']]);
        // All three would need Org3, which does not hold shared: no layout.
        expect(endorsementLayouts(both, source(define({ signaturePolicy: "AND('Org1MSP.peer','Org2MSP.peer','Org3MSP.peer')" })), MSPS)).toEqual([]);
        expect(() => endorsementLayouts([{ chaincode: 'cc', collections: ['nope'], noPrivateReads: true }], anyOfTwo, MSPS))
            .toThrow("collection nope doesn't exist in collection config for chaincode cc");
        expect(() => endorsementLayouts([{ chaincode: 'other', collections: [], noPrivateReads: true }], anyOfTwo, MSPS)).toThrow('No metadata was found for chaincode other');
    });
});

describe('chaincode endorsement policies on a devnet', () => {
    let net: RunningDevnet;
    let org1: Connected;
    const contract = (chaincode: string): Contract => org1.gateway.getNetwork('mychannel').getContract(chaincode, 'assets');
    const deployed = (name: string, policy: { signaturePolicy?: string; channelConfigPolicy?: string }) => ({ name, folder: CHAINCODE_DIR, contracts: assetContracts, ...policy });

    beforeAll(async () => {
        net = await startDevnet({
            dir: tempDir('devnet-policy-'),
            batchTimeoutMs: 20,
            chaincodes: [
                deployed('both', { signaturePolicy: "AND('Org1MSP.peer','Org2MSP.peer')" }),
                deployed('org2', { signaturePolicy: "OR('Org2MSP.peer')" }),
                deployed('readers', { channelConfigPolicy: '/Channel/Application/Readers' }),
                deployed('majority', {}),
                // fabric-samples' private data chaincode under the channel's default policy instead of the sample's.
                { name: 'pdc', folder: PRIVATE_DATA_FOLDER, collections: readFileSync(path.join(PRIVATE_DATA_FOLDER, 'collections_config.json'), 'utf8') },
            ],
        });
        org1 = connectGateway(net.connection(1));
    }, 120_000);

    afterAll(async () => {
        org1.close();
        await net.stop();
    });

    it('invalidates a transaction whose endorsements do not satisfy the chaincode policy, writing nothing', async () => {
        const short = await contract('both').submitAsync('CreateAsset', { arguments: ['p1', 'one org'], endorsingOrganizations: ['Org1MSP'] });
        expect((await short.getStatus()).code).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
        await expect(contract('both').evaluateTransaction('ReadAsset', 'p1')).rejects.toThrow(GatewayError);
        const enough = await contract('both').submitAsync('CreateAsset', { arguments: ['p1', 'two orgs'], endorsingOrganizations: ['Org1MSP', 'Org2MSP'] });
        expect((await enough.getStatus()).code).toBe(peer.TxValidationCode.VALID);
        expect(JSON.parse(utf8.decode(await contract('both').evaluateTransaction('ReadAsset', 'p1')))).toMatchObject({ value: 'two orgs' });
        // Org3's endorsement satisfies the channel's majority with Org1, not this chaincode's policy.
        const wrongOrgs = await contract('both').submitAsync('UpdateAsset', { arguments: ['p1', 'wrong orgs'], endorsingOrganizations: ['Org1MSP', 'Org3MSP'] });
        expect((await wrongOrgs.getStatus()).code).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
        expect(JSON.parse(utf8.decode(await contract('both').evaluateTransaction('ReadAsset', 'p1')))).toMatchObject({ value: 'two orgs' });
    });

    it('plans the endorsers from the chaincode policy when the client names none', async () => {
        const endorsers = async (chaincode: string, id: string): Promise<string[]> => {
            const commit = await contract(chaincode).submitAsync('CreateAsset', { arguments: [id, chaincode] });
            const status = await commit.getStatus();
            expect(status.code).toBe(peer.TxValidationCode.VALID);
            return endorsingMspIds(net, status.blockNumber, commit.getTransactionId());
        };
        expect(await endorsers('both', 'q1')).toEqual(['Org1MSP', 'Org2MSP']);
        // Org1's gateway peer runs the proposal first; Org2's endorsement alone satisfies the policy.
        expect(await endorsers('org2', 'q2')).toEqual(['Org2MSP']);
        expect(await endorsers('readers', 'q3')).toEqual(['Org1MSP']);
        expect(await endorsers('majority', 'q4')).toEqual(['Org1MSP', 'Org2MSP']);
        expect(net.devnet.endorsementPolicyOf('org2')).toBe("OR('Org2MSP.peer')");
        expect(net.devnet.endorsementPolicyOf('majority')).toBe('/Channel/Application/Endorsement');
        expect(net.devnet.endorsementLayouts([{ chaincode: 'org2', collections: [], noPrivateReads: true }], 256)).toEqual([['Org2MSP']]);
    });

    it('refuses to take transient data to orgs outside a collection written, as Fabric\'s gateway does', async () => {
        // CreateAsset writes Org1MSPPrivateCollection: only Org1 holds it, and Org1 alone is not a majority.
        const properties = { objectType: 'asset', assetID: 'r1', color: 'red', size: 1, appraisedValue: 1 };
        const pdc = org1.gateway.getNetwork('mychannel').getContract('pdc');
        await expect(pdc.submit('CreateAsset', { transientData: { asset_properties: JSON.stringify(properties) } }))
            .rejects.toThrow('requires endorsement from organisation(s) that are not in the distribution policy of the private data collection(s): [Org1MSPPrivateCollection]; retry specifying trusted endorsing organizations to protect transient data');
        // Nothing was written.
        await expect(pdc.evaluateTransaction('ReadAsset', 'r1')).resolves.toHaveLength(0);
    });

    it('answers Discovery with the layouts of the chaincode policy and the collection policies of the interest', async () => {
        const user = net.addUser(1, 'discoverer').identity;
        const layoutsOf = async (calls: readonly { readonly name: string; readonly collections?: string[] }[]): Promise<string[][] | string> => {
            const interest = new peer.ChaincodeInterest();
            interest.setChaincodesList(calls.map((c) => {
                const call = new peer.ChaincodeCall();
                call.setName(c.name);
                call.setCollectionNamesList(c.collections ?? []);
                return call;
            }));
            const ccQuery = new discovery.ChaincodeQuery();
            ccQuery.setInterestsList([interest]);
            const query = new discovery.Query();
            query.setChannel('mychannel');
            query.setCcQuery(ccQuery);
            const auth = new discovery.AuthInfo();
            auth.setClientIdentity(user.serialized);
            const request = new discovery.Request();
            request.setAuthentication(auth);
            request.setQueriesList([query]);
            const signed = new discovery.SignedRequest();
            signed.setPayload(request.serializeBinary());
            signed.setSignature(user.sign(request.serializeBinary()));
            const result = defined((await discover(net.devnet, signed.serializeBinary())).getResultsList()[0]);
            const descriptor = result.getCcQueryRes()?.getContentList()[0];
            if (descriptor === undefined) {
                return result.getError()?.getContent() ?? '';
            }
            const groups = descriptor.getEndorsersByGroupsMap() as unknown as { get(name: string): InstanceType<typeof discovery.Peers> | undefined };
            const mspOf = (group: string): string => msp.SerializedIdentity.deserializeBinary(defined(groups.get(group)?.getPeersList()[0]).getIdentity_asU8()).getMspid();
            return descriptor.getLayoutsList().map((layout) => [...(layout.getQuantitiesByGroupMap() as unknown as { keys(): Iterable<string> }).keys()].map(mspOf).sort());
        };
        expect(await layoutsOf([{ name: 'org2' }])).toEqual([['Org2MSP']]);
        expect(await layoutsOf([{ name: 'majority' }])).toEqual([['Org1MSP', 'Org2MSP'], ['Org1MSP', 'Org3MSP'], ['Org2MSP', 'Org3MSP']]);
        // A collection named with private reads: its members only, under its own policy if it has one.
        expect(await layoutsOf([{ name: 'pdc', collections: ['Org1MSPPrivateCollection'] }])).toEqual([['Org1MSP']]);
        expect(await layoutsOf([{ name: 'pdc', collections: ['assetCollection'] }])).toEqual([['Org1MSP', 'Org2MSP']]);
        expect(await layoutsOf([{ name: 'pdc', collections: ['nope'] }])).toBe('failed constructing descriptor for [name:"pdc"]');
    });

    it('deploys nothing for a bad policy', async () => {
        await expect(net.devnet.deploy(deployed('bad', { signaturePolicy: "OR('Org1MSP.peer',)" }))).rejects.toThrow(EndorsementPolicyError);
        expect(net.devnet.chaincodeDefinitions().map((d) => d.name)).not.toContain('bad');
        await expect(contract('bad').evaluateTransaction('ReadAsset', 'p1')).rejects.toThrow('no peers available to evaluate chaincode bad in channel mychannel');
    });
});
