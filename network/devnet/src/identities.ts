// SPDX-License-Identifier: Apache-2.0
/**
 * Test certificate authorities (one per MSP) and X.509 identities with Fabric NodeOUs and Fabric CA attributes,
 * plus ECDSA P-256 signing with Fabric's low-S rule (bccsp/sw/ecdsa.go).
 *
 * Key material is random and cached per module instance (i.e. per jest test file, per process otherwise).
 */
import { createHash, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { KJUR } from 'jsrsasign';
import { protos } from './runtime';
import { signLowS } from './der';
import { defined } from './defined';

/** Fabric NodeOU role of a client identity; the chaincode treats `admin` as administrator. */
export type NodeOu = 'client' | 'admin';

/** OID of the Fabric CA attribute extension read by `ClientIdentity.getAttributeValue`. */
export const FABRIC_ATTRIBUTES_OID = '1.2.3.4.5.6.7.8.1';

/** A test certificate authority, the root of one MSP. */
export interface TestCa {
    readonly mspId: string;
    /** e.g. `org1.example.com` for `Org1MSP`. */
    readonly orgDomain: string;
    readonly certificatePem: string;
    readonly certificate: X509Certificate;
    readonly privateKey: KeyObject;
}

/** What to issue: an identity is cached per distinct combination of these. */
export interface IdentityOptions {
    readonly mspId: string;
    /** Enrollment id; becomes the certificate's CN. */
    readonly name: string;
    /** NodeOU, default `client`. */
    readonly ou?: NodeOu;
    /** Fabric CA attributes embedded in the certificate (extension 1.2.3.4.5.6.7.8.1). */
    readonly attrs?: Readonly<Record<string, string>>;
}

/** A signing identity: certificate, key and the serialized form a proposal carries as its creator. */
export interface TestIdentity {
    readonly mspId: string;
    readonly name: string;
    readonly ou: NodeOu;
    readonly attrs: Readonly<Record<string, string>>;
    readonly certificatePem: string;
    /** The certificate PEM as bytes (fabric-gateway's `Identity.credentials`). */
    readonly credentials: Uint8Array;
    readonly privateKey: KeyObject;
    /** The id fabric-shim's `ClientIdentity.getID()` reports: `x509::<subject>::<issuer>`. */
    readonly clientId: string;
    /** msp.SerializedIdentity{mspid, id_bytes = certificate PEM}: a proposal's creator. */
    readonly serializedIdentity: Uint8Array;
    /** ECDSA-SHA256 signature in DER with low S, as Fabric requires. */
    sign(message: Uint8Array): Uint8Array;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;
const NOT_BEFORE = '200101000000Z';
const NOT_AFTER = '20991231235959Z';

const cas = new Map<string, TestCa>();
const identities = new Map<string, TestIdentity>();

function orgDomainOf(mspId: string): string {
    return `${mspId.replace(/msp$/i, '').toLowerCase()}.example.com`;
}

function caSubject(orgDomain: string): string {
    return `/C=US/ST=North Carolina/L=Durham/O=${orgDomain}/CN=ca.${orgDomain}`;
}

function userSubject(name: string, ou: NodeOu): string {
    return `/C=US/ST=North Carolina/O=Hyperledger/OU=${ou}/CN=${name}`;
}

/** The subject key identifier Fabric tools use: SHA-256 of the uncompressed EC point. */
export function subjectKeyId(publicKey: KeyObject): string {
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki.subarray(spki.length - 65)).digest('hex');
}

/** A positive 16-byte serial in minimal DER: first byte 0x01–0x7f (a leading 0x00 is illegal padding to OpenSSL). */
function serialHex(): string {
    const bytes = randomBytes(16);
    bytes[0] = (defined(bytes[0]) & 0x7f) | 0x01;
    return bytes.toString('hex');
}

/** Issues an X.509 certificate signed (low-S ECDSA-SHA256) by `signingKey`; returns PEM. */
export function issueCertificate(params: {
    readonly issuer: string;
    readonly subject: string;
    readonly publicKey: KeyObject;
    readonly signingKey: KeyObject;
    readonly ext: { extname: string; [field: string]: unknown }[];
}): string {
    const tbs = new KJUR.asn1.x509.TBSCertificate({
        version: 3,
        serial: { hex: serialHex() },
        sigalg: 'SHA256withECDSA',
        issuer: { str: params.issuer },
        notbefore: NOT_BEFORE,
        notafter: NOT_AFTER,
        subject: { str: params.subject },
        sbjpubkey: params.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        ext: params.ext,
    });
    const signature = signLowS(Buffer.from(tbs.getEncodedHex(), 'hex'), params.signingKey);
    const certificate = new KJUR.asn1.x509.Certificate({ tbsobj: tbs, sigalg: 'SHA256withECDSA', sighex: signature.toString('hex') });
    return certificate.getPEM().replace(/\r\n/g, '\n');
}

/** The (cached) test CA of `mspId`. */
export function getTestCa(mspId: string): TestCa {
    const cached = cas.get(mspId);
    if (cached !== undefined) {
        return cached;
    }
    if (!SAFE_NAME.test(mspId)) {
        throw new Error(`unsupported MSP id ${JSON.stringify(mspId)}`);
    }
    const orgDomain = orgDomainOf(mspId);
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const subject = caSubject(orgDomain);
    const certificatePem = issueCertificate({
        issuer: subject,
        subject,
        publicKey,
        signingKey: privateKey,
        ext: [
            { extname: 'basicConstraints', critical: true, cA: true },
            { extname: 'keyUsage', critical: true, names: ['digitalSignature', 'keyCertSign', 'cRLSign'] },
            { extname: 'subjectKeyIdentifier', kid: { hex: subjectKeyId(publicKey) } },
        ],
    });
    const ca: TestCa = { mspId, orgDomain, certificatePem, certificate: new X509Certificate(certificatePem), privateKey };
    cas.set(mspId, ca);
    return ca;
}

/** The (cached) identity for `options`, issued by the test CA of its MSP. */
export function getTestIdentity(options: IdentityOptions): TestIdentity {
    const ou = options.ou ?? 'client';
    const attrs = { ...options.attrs };
    const cacheKey = JSON.stringify([options.mspId, options.name, ou, Object.entries(attrs).sort()]);
    const cached = identities.get(cacheKey);
    if (cached !== undefined) {
        return cached;
    }
    if (!SAFE_NAME.test(options.name)) {
        throw new Error(`unsupported identity name ${JSON.stringify(options.name)}`);
    }
    const ca = getTestCa(options.mspId);
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const subject = userSubject(options.name, ou);
    const issuer = caSubject(ca.orgDomain);
    const ext: { extname: string; [field: string]: unknown }[] = [
        { extname: 'basicConstraints', critical: true, cA: false },
        { extname: 'keyUsage', critical: true, names: ['digitalSignature'] },
        { extname: 'subjectKeyIdentifier', kid: { hex: subjectKeyId(publicKey) } },
        { extname: 'authorityKeyIdentifier', kid: { hex: subjectKeyId(ca.certificate.publicKey) } },
    ];
    if (options.attrs !== undefined) {
        ext.push({ extname: FABRIC_ATTRIBUTES_OID, extn: Buffer.from(JSON.stringify({ attrs })).toString('hex') });
    }
    const certificatePem = issueCertificate({ issuer, subject, publicKey, signingKey: ca.privateKey, ext });
    const serialized = new protos.msp.SerializedIdentity();
    serialized.setMspid(options.mspId);
    serialized.setIdBytes(Buffer.from(certificatePem));
    const identity: TestIdentity = {
        mspId: options.mspId,
        name: options.name,
        ou,
        attrs,
        certificatePem,
        credentials: Buffer.from(certificatePem),
        privateKey,
        clientId: `x509::${subject}::${issuer}`,
        serializedIdentity: serialized.serializeBinary(),
        sign: (message) => signLowS(message, privateKey),
    };
    identities.set(cacheKey, identity);
    return identity;
}
