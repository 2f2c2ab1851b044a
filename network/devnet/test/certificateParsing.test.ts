// SPDX-License-Identifier: Apache-2.0
/**
 * The chaincode worker keeps the parse of the creator certificates fabric-shim's ClientIdentity reads on every
 * transaction: the same text gives the same parse without parsing again, anything else is parsed each time, and the
 * identity a contract sees is the one it saw without the memo.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { runInThisContext } from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import { MEMOIZE_CERTIFICATE_PARSING } from '../src/chaincodeWorker';
import { getTestIdentity } from '../src/identities';

const FOLDER = path.resolve(__dirname, 'fixtures/asset-transfer-basic');

interface CertificateClass {
    fromPEM(data: unknown): unknown;
}

const memoize = runInThisContext(`(${MEMOIZE_CERTIFICATE_PARSING})`) as (certificate: CertificateClass, capacity: number) => void;

/** A certificate class whose parse counts its calls and returns a new object each time. */
function countingClass(): { readonly certificates: CertificateClass; readonly parsed: unknown[] } {
    const parsed: unknown[] = [];
    const certificates: CertificateClass = {
        fromPEM(data: unknown): unknown {
            if (data === 'not a certificate') {
                throw new Error('Could not convert certificate from PEM');
            }
            const certificate = { data, calledOn: this };
            parsed.push(data);
            return certificate;
        },
    };
    return { certificates, parsed };
}

describe('the worker\'s memo of certificate parsing', () => {
    it('parses a text once and gives the same parse for it again', () => {
        const { certificates, parsed } = countingClass();
        memoize(certificates, 8);
        const first = certificates.fromPEM('pem a');
        expect(certificates.fromPEM('pem a')).toBe(first);
        expect(first).toEqual({ data: 'pem a', calledOn: certificates });
        const other = certificates.fromPEM('pem b');
        expect(other).not.toBe(first);
        expect(parsed).toEqual(['pem a', 'pem b']);
    });

    it('parses a Buffer each time, and keeps no failed parse', () => {
        const { certificates, parsed } = countingClass();
        memoize(certificates, 8);
        const bytes = Buffer.from('pem a');
        expect(certificates.fromPEM(bytes)).not.toBe(certificates.fromPEM(bytes));
        expect(() => certificates.fromPEM('not a certificate')).toThrow('Could not convert certificate from PEM');
        expect(() => certificates.fromPEM('not a certificate')).toThrow('Could not convert certificate from PEM');
        expect(parsed).toEqual([bytes, bytes]);
    });

    it('keeps the latest texts only, up to its capacity', () => {
        const { certificates, parsed } = countingClass();
        memoize(certificates, 2);
        certificates.fromPEM('pem a');
        certificates.fromPEM('pem b');
        certificates.fromPEM('pem c');
        certificates.fromPEM('pem c');
        certificates.fromPEM('pem b');
        certificates.fromPEM('pem a');
        expect(parsed).toEqual(['pem a', 'pem b', 'pem c', 'pem a']);
    });

    it('leaves the identity fabric-shim\'s ClientIdentity gives a contract unchanged', () => {
        const shimRequire = createRequire(createRequire(path.join(FOLDER, 'package.json')).resolve('fabric-shim'));
        const { ClientIdentity } = shimRequire('./lib/chaincode.js') as { ClientIdentity: new (stub: unknown) => Record<string, (name?: string) => unknown> };
        const { Certificate } = shimRequire('@fidm/x509') as { Certificate: CertificateClass };
        const creators = [
            getTestIdentity({ mspId: 'Org1MSP', name: 'alice' }),
            getTestIdentity({ mspId: 'Org2MSP', name: 'bob', attrs: { role: 'auditor' } }),
            getTestIdentity({ mspId: 'Org1MSP', name: 'carol', attrs: { role: 'clerk' } }),
        ].map((identity) => ({ mspid: identity.mspId, idBytes: Buffer.from(identity.certificatePem) }));
        const seen = (): unknown[] => [...creators, ...creators].map((creator) => {
            const identity = new ClientIdentity({ getChannelID: () => 'mychannel', getTxID: () => 'tx', getCreator: () => creator });
            return [identity.getMSPID?.(), identity.getID?.(), identity.getAttributeValue?.('role')];
        });
        const unmemoized = seen();
        expect(unmemoized.slice(0, 3)).toEqual([
            ['Org1MSP', expect.stringMatching(/^x509::.*CN=alice.*::.*CN=ca\.org1/), null],
            ['Org2MSP', expect.stringMatching(/^x509::.*CN=bob.*::.*CN=ca\.org2/), 'auditor'],
            ['Org1MSP', expect.stringMatching(/^x509::.*CN=carol.*::.*CN=ca\.org1/), 'clerk'],
        ]);
        const parse = Certificate.fromPEM.bind(Certificate);
        let parses = 0;
        Certificate.fromPEM = (data: unknown): unknown => {
            parses++;
            return parse(data);
        };
        memoize(Certificate, 8);
        expect(seen()).toEqual(unmemoized);
        expect(parses).toBe(3);
    });
});
