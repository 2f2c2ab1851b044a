// SPDX-License-Identifier: Apache-2.0
import { verify, X509Certificate } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { getTestCa, getTestIdentity, isLowS, toLowS } from '../support/fabric';
import { protos } from '../../network/devnet/src/runtime';

function extensionValue(pem: string, oidDer: string): string | undefined {
    // The attribute extension's OCTET STRING holds raw JSON: find it after the DER-encoded OID.
    const der = new X509Certificate(pem).raw;
    const at = der.indexOf(Buffer.from(oidDer, 'hex'));
    if (at < 0) {
        return undefined;
    }
    const octets = at + oidDer.length / 2;
    return der.subarray(octets + 2, octets + 2 + der[octets + 1]!).toString('utf8');
}

/** DER encoding of the OID 1.2.3.4.5.6.7.8.1. */
const ATTRS_OID_DER = '06082a03040506070801';

describe('test identities', () => {
    it('issues P-256 certificates chained to a per-MSP CA, with NodeOU and Fabric CA attributes', () => {
        const ca = getTestCa('Org1MSP');
        expect(ca.certificate.ca).toBe(true);
        expect(ca.certificate.verify(ca.certificate.publicKey)).toBe(true);
        expect(ca.certificate.subject).toContain('CN=ca.org1.example.com');

        const admin = getTestIdentity({ mspId: 'Org1MSP', name: 'root', ou: 'admin', attrs: { 'ledgerwork.admin': 'true' } });
        const cert = new X509Certificate(admin.certificatePem);
        expect(cert.checkIssued(ca.certificate)).toBe(true);
        expect(cert.verify(ca.certificate.publicKey)).toBe(true);
        expect(cert.ca).toBe(false);
        expect(cert.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
        expect(cert.subject.split('\n')).toEqual(['C=US', 'ST=North Carolina', 'O=Hyperledger', 'OU=admin', 'CN=root']);
        expect(extensionValue(admin.certificatePem, ATTRS_OID_DER)).toBe('{"attrs":{"ledgerwork.admin":"true"}}');

        const plain = getTestIdentity({ mspId: 'Org1MSP', name: 'alice' });
        expect(plain.ou).toBe('client');
        expect(extensionValue(plain.certificatePem, ATTRS_OID_DER)).toBeUndefined();

        const creator = protos.msp.SerializedIdentity.deserializeBinary(plain.serializedIdentity);
        expect(creator.getMspid()).toBe('Org1MSP');
        expect(Buffer.from(creator.getIdBytes_asU8()).toString()).toBe(plain.certificatePem);
    });

    it('issues certificates OpenSSL parses, serial numbers in minimal DER included', () => {
        // A random serial starting with 0x00 once made about one certificate in 400 unparseable ("illegal padding").
        for (let i = 0; i < 1500; i++) {
            const identity = getTestIdentity({ mspId: 'Org2MSP', name: `serial-${i}` });
            const serial = new X509Certificate(identity.certificatePem).serialNumber;
            expect(serial).toMatch(/^[0-7][0-9A-F]{31}$/);
            expect(serial.startsWith('00')).toBe(false);
        }
    });

    it('caches identities per MSP, name, OU and attributes', () => {
        const a = getTestIdentity({ mspId: 'Org2MSP', name: 'bob', attrs: { x: '1', y: '2' } });
        expect(getTestIdentity({ mspId: 'Org2MSP', name: 'bob', attrs: { y: '2', x: '1' } })).toBe(a);
        const reissued = getTestIdentity({ mspId: 'Org2MSP', name: 'bob' });
        expect(reissued).not.toBe(a);
        expect(reissued.clientId).toBe(a.clientId);
        expect(() => getTestIdentity({ mspId: 'Org2MSP', name: 'bad/name' })).toThrow('unsupported identity name');
    });

    it('signs with low S only, and the signatures verify', () => {
        const identity = getTestIdentity({ mspId: 'Org3MSP', name: 'signer' });
        const publicKey = new X509Certificate(identity.certificatePem).publicKey;
        fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (message) => {
            const signature = identity.sign(message);
            expect(isLowS(signature)).toBe(true);
            expect(verify('sha256', message, publicKey, signature)).toBe(true);
            expect(toLowS(signature)).toEqual(Buffer.from(signature));
        }), { numRuns: 100 });
    });
});
