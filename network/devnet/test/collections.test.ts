// SPDX-License-Identifier: Apache-2.0
/**
 * Collection configurations as `peer lifecycle chaincode approveformyorg --collections-config` reads them and the
 * lifecycle checks them, and Fabric's signature policy language.
 */
import { describe, expect, it } from '@jest/globals';
import { common, msp } from '@hyperledger/fabric-protos';
import { ChaincodeCollections, CollectionConfigError, identityRole, parseCollectionsConfig } from '../src/collections';
import { keyPolicySatisfied } from '../src/keyPolicy';
import { parseSignaturePolicy } from '../src/policyDsl';
import { startDevnet } from '../src';
import { defined } from '../src/defined';
import { tempDir } from './support/client';

const MSPS = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
const collection = (fields: object): object => ({ name: 'c1', policy: "OR('Org1MSP.member','Org2MSP.member')", ...fields });
const entry = (fields: object): string => JSON.stringify([collection(fields)]);
const refusal = (config: unknown): string => {
    try {
        parseCollectionsConfig(config, MSPS);
    } catch (error) {
        expect(error).toBeInstanceOf(CollectionConfigError);
        return (error as Error).message;
    }
    throw new Error('accepted');
};

describe('signature policies', () => {
    it('compile to SignaturePolicyEnvelopes that evaluate as cauthdsl does', () => {
        const policy = parseSignaturePolicy("OutOf(2, 'Org1MSP.peer', AND('Org2MSP.member', 'Org3MSP.admin'), \"Org1MSP.peer\")");
        expect(policy.principals).toEqual([{ mspId: 'Org1MSP', role: 'peer' }, { mspId: 'Org2MSP', role: 'member' }, { mspId: 'Org3MSP', role: 'admin' }]);
        expect(policy.orOnly).toBe(false);
        const envelope = common.SignaturePolicyEnvelope.deserializeBinary(policy.envelope);
        expect(envelope.getRule()?.getNOutOf()?.getN()).toBe(2);
        expect(msp.MSPRole.deserializeBinary(defined(envelope.getIdentitiesList()[2]).getPrincipal_asU8()).getRole()).toBe(msp.MSPRole.MSPRoleType.ADMIN);
        expect(keyPolicySatisfied(policy.envelope, [{ mspId: 'Org2MSP', role: 'client' }, { mspId: 'Org3MSP', role: 'admin' }])).toBe(false);
        expect(keyPolicySatisfied(policy.envelope, [{ mspId: 'Org1MSP', role: 'peer' }, { mspId: 'Org2MSP', role: 'client' }, { mspId: 'Org3MSP', role: 'admin' }])).toBe(true);
        expect(parseSignaturePolicy("OR('Org1MSP.member', 'Org2MSP.member')").orOnly).toBe(true);
        for (const [text, message] of [
            ["OR('Org1MSP.boss')", 'error parsing principal Org1MSP.boss'],
            ["XOR('Org1MSP.member')", "unrecognized token 'XOR' in policy string"],
            ["OutOf(3, 'Org1MSP.member', 'Org2MSP.member')", 'invalid t-out-of-n predicate, t 3, n 2'],
            ["OR('Org1MSP.member'", "expected ')'"],
            ["OR('Org1MSP.member') x", "unexpected 'x'"],
        ] as const) {
            expect(() => parseSignaturePolicy(text)).toThrow(message);
        }
    });
});

describe('collection configurations', () => {
    it('read fabric-samples\' collections_config.json shape with Fabric\'s defaults', () => {
        const [c] = parseCollectionsConfig(entry({}), MSPS);
        expect(c).toMatchObject({ name: 'c1', requiredPeerCount: 0, maxPeerCount: 1, blockToLive: 0, memberOnlyRead: false, memberOnlyWrite: false });
        const [d] = parseCollectionsConfig(entry({ RequiredPeerCount: 1, maxpeercount: 2, blockToLive: 5, memberOnlyRead: true, endorsementPolicy: { signaturePolicy: "OR('Org1MSP.member')" } }), MSPS);
        expect(d).toMatchObject({ requiredPeerCount: 1, maxPeerCount: 2, blockToLive: 5, memberOnlyRead: true });
        expect(d?.endorsementPolicy?.principals).toEqual([{ mspId: 'Org1MSP', role: 'member' }]);
        const collections = new ChaincodeCollections('cc', [defined(d)], MSPS);
        expect(ChaincodeCollections.peerIsMember(defined(collections.get('c1')), 'Org2MSP')).toBe(true);
        expect(ChaincodeCollections.peerIsMember(defined(collections.get('c1')), 'Org3MSP')).toBe(false);
        const implicit = defined(collections.get('_implicit_org_Org3MSP'));
        expect(implicit).toMatchObject({ blockToLive: 0, memberOnlyRead: false, memberOnlyWrite: false });
        expect(ChaincodeCollections.peerIsMember(implicit, 'Org3MSP')).toBe(true);
        expect(collections.get('_implicit_org_Org9MSP')).toBeUndefined();
    });

    it('refuse what the peer CLI and the lifecycle refuse, with their messages', () => {
        expect(refusal('[{')).toMatch(/^could not parse the collection configuration: /);
        expect(refusal('{}')).toBe('could not parse the collection configuration: expected a JSON array of collection definitions');
        expect(refusal(entry({ blocktolive: -1 }))).toContain('"blockToLive" must be a non-negative integer');
        expect(refusal(entry({ memberOnlyRead: 'yes' }))).toContain('"memberOnlyRead" must be true or false');
        expect(refusal(entry({ blockToLife: 3 }))).toContain('unknown field "blockToLife"');
        expect(refusal(entry({ policy: "OR('Org1MSP.member'" }))).toContain("invalid policy OR('Org1MSP.member': expected ')'");
        expect(refusal(entry({ name: '_c1' }))).toBe("invalid collection name '_c1'. Names can only consist of alphanumerics, '_', and '-' and cannot begin with '_'");
        expect(refusal(JSON.stringify([collection({}), collection({})]))).toBe('collection-name: c1 -- found duplicate in collection configuration');
        expect(refusal(entry({ requiredPeerCount: 2, maxPeerCount: 1 }))).toBe('collection-name: c1 -- maximum peer count (1) cannot be less than the required peer count (2)');
        expect(refusal(entry({ requiredPeerCount: -1, maxPeerCount: -1 }))).toBe('collection-name: c1 -- requiredPeerCount (-1) cannot be less than zero');
        expect(refusal(entry({ policy: "AND('Org1MSP.member','Org2MSP.member')" }))).toBe('collection-name: c1 -- error in member org policy: signature policy is not an OR concatenation');
        expect(refusal(entry({ policy: "OR('Org9MSP.member')" }))).toBe("collection-name: c1 -- collection member 'Org9MSP' is not part of the channel");
        expect(refusal(entry({ endorsementPolicy: { channelConfigPolicy: '/Channel/Application/Endorsement' } }))).toContain('not supported by the ledgerwork devnet');
    });

    it('are refused at deploy before any chaincode starts', async () => {
        const net = await startDevnet({ dir: tempDir('devnet-collections-') });
        try {
            await expect(net.devnet.deploy({ name: 'x', folder: '/nonexistent', collections: entry({ maxPeerCount: -1 }) }))
                .rejects.toThrow('collection-name: c1 -- maximum peer count (-1) cannot be less than the required peer count (0)');
        } finally {
            await net.stop();
        }
    });

    it('name an identity\'s NodeOU role', () => {
        expect(identityRole({ subject: 'C=US\nOU=admin\nCN=Admin@org1.example.com' })).toBe('admin');
        expect(identityRole({ subject: 'OU=org1\nOU=client\nCN=User1' })).toBe('client');
        expect(identityRole({ subject: 'CN=peer0\nOU=peer' })).toBe('peer');
    });
});
