// SPDX-License-Identifier: Apache-2.0
/**
 * The channel MSPs' memory of identities: the verdicts are those of checking each certificate afresh (issuer, CA
 * signature, NodeOUs), worked out once per distinct identity; signatures are still checked every time.
 */
import { sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ensureCryptoMaterial, issueUser } from '../src';
import { defined } from '../src/defined';
import { toLowS } from '../src/der';
import { MemberIdentities } from '../src/memberIdentities';
import { protos } from '../src/runtime';
import { tempDir } from './support/client';

const material = ensureCryptoMaterial(tempDir(), 2);
const [org1, org2] = [defined(material.orgs[0]), defined(material.orgs[1])];
const user = issueUser(org1, 'alice');
const msps = new Map(material.orgs.map((org) => [org.mspId, org.caCertificate]));

function serialized(mspId: string, certificatePem: string): Uint8Array {
    const identity = new protos.msp.SerializedIdentity();
    identity.setMspid(mspId);
    identity.setIdBytes(Buffer.from(certificatePem));
    return identity.serializeBinary();
}

/** The high-S twin of a low-S P-256 signature (same (r, N − s), equally valid to OpenSSL, refused by Fabric). */
function highS(lowS: Uint8Array): Uint8Array {
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    const der = Buffer.from(lowS);
    const rLength = defined(der[3]);
    const sLength = defined(der[5 + rLength]);
    const s = BigInt(`0x${der.subarray(6 + rLength, 6 + rLength + sLength).toString('hex')}`);
    let hex = (n - s).toString(16).padStart(64, '0');
    if (parseInt(hex.slice(0, 2), 16) >= 0x80) {
        hex = `00${hex}`;
    }
    const sBytes = Buffer.from(hex, 'hex');
    const body = Buffer.concat([der.subarray(2, 4 + rLength), Buffer.from([0x02, sBytes.length]), sBytes]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

describe('MemberIdentities', () => {
    it('resolves a client of a channel MSP as a valid member', () => {
        const resolved = new MemberIdentities(msps).resolve(user.serialized);
        expect(resolved).toMatchObject({ mspId: 'Org1MSP', knownMsp: true, issuedByMsp: true, validMember: true });
    });

    it('refuses what the MSPs refuse: unknown MSP, another org\'s CA, a CA certificate, malformed bytes', () => {
        const members = new MemberIdentities(msps);
        expect(members.resolve(serialized('Org9MSP', user.certificatePem))).toMatchObject({ knownMsp: false, issuedByMsp: false, validMember: false });
        expect(members.resolve(serialized(org2.mspId, user.certificatePem))).toMatchObject({ mspId: 'Org2MSP', knownMsp: true, issuedByMsp: false, validMember: false });
        // Issued by (itself, the CA of) its MSP, but a CA is no member for proposals.
        expect(members.resolve(serialized(org1.mspId, org1.caCertificatePem))).toMatchObject({ issuedByMsp: true, validMember: false });
        expect(members.resolve(serialized(org1.mspId, 'not a certificate'))).toBeUndefined();
        expect(members.resolve(Uint8Array.from([0xff, 0xff, 0xff]))).toBeUndefined();
    });

    it('works an identity out once, and again after it was forgotten for room', () => {
        const members = new MemberIdentities(msps, 2);
        const first = members.resolve(user.serialized);
        expect(members.resolve(Uint8Array.from(user.serialized))).toBe(first);
        members.resolve(org1.peer.serialized);
        members.resolve(org2.peer.serialized);
        const again = members.resolve(user.serialized);
        expect(again).not.toBe(first);
        expect(again).toEqual(first);
    });

    it('checks every signature: right signer, right data, low S', () => {
        const members = new MemberIdentities(msps);
        const identity = defined(members.resolve(user.serialized));
        const data = Buffer.from('proposal bytes');
        const signature = toLowS(nodeSign('sha256', data, user.privateKey));
        expect(MemberIdentities.verifies(identity, data, signature)).toBe(true);
        expect(MemberIdentities.verifies(identity, Buffer.from('other bytes'), signature)).toBe(false);
        // OpenSSL accepts the high-S twin; Fabric, and so the devnet, does not.
        expect(nodeVerify('sha256', data, user.privateKey, highS(signature))).toBe(true);
        expect(MemberIdentities.verifies(identity, data, highS(signature))).toBe(false);
        expect(MemberIdentities.verifies(defined(members.resolve(org1.peer.serialized)), data, signature)).toBe(false);
        expect(MemberIdentities.verifies(identity, data, Uint8Array.from([1, 2, 3]))).toBe(false);
    });

    it('gives the same verdicts off the main thread', async () => {
        const members = new MemberIdentities(msps);
        const identity = defined(members.resolve(user.serialized));
        const data = Buffer.from('envelope payload');
        const signature = toLowS(nodeSign('sha256', data, user.privateKey));
        expect(await Promise.all([
            MemberIdentities.verifiesOffThread(identity, data, signature),
            MemberIdentities.verifiesOffThread(identity, Buffer.from('other bytes'), signature),
            MemberIdentities.verifiesOffThread(identity, data, highS(signature)),
            MemberIdentities.verifiesOffThread(defined(members.resolve(org1.peer.serialized)), data, signature),
            MemberIdentities.verifiesOffThread(identity, data, Uint8Array.from([1, 2, 3])),
        ])).toEqual([true, false, false, false, false]);
    });
});
