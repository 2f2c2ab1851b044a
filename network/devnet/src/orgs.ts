// SPDX-License-Identifier: Apache-2.0
/**
 * Crypto material of the devnet's organizations, generated on first start and persisted in `cryptogen`'s layout:
 *
 * ```
 * <dir>/organizations/tlsca/                      the devnet's TLS CA (one gRPC port serves every org)
 * <dir>/organizations/peerOrganizations/org1.example.com/
 *   ca/ca.org1.example.com-cert.pem, ca/priv_sk
 *   msp/cacerts/…, msp/tlscacerts/…, msp/config.yaml (NodeOUs)
 *   tlsca/tlsca.org1.example.com-cert.pem
 *   peers/peer0.org1.example.com/msp/{signcerts,keystore}, tls/{ca.crt,server.crt,server.key}
 *   users/{User1,Admin}@org1.example.com/msp/{signcerts,keystore}, tls/ca.crt
 * ```
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { msp } from '@hyperledger/fabric-protos';
import { signLowS } from './der';
import { FABRIC_ATTRIBUTES_OID, issueCertificate, subjectKeyId } from './identities';

/** A signing identity on disk: certificate, key and where they are. */
export interface OrgIdentity {
    readonly mspId: string;
    readonly name: string;
    readonly certificatePem: string;
    readonly privateKey: KeyObject;
    readonly certPath: string;
    readonly keyPath: string;
    /** msp.SerializedIdentity bytes. */
    readonly serialized: Uint8Array;
    sign(message: Uint8Array): Uint8Array;
}

/** One peer organization. */
export interface Org {
    readonly mspId: string;
    /** e.g. `org1.example.com`. */
    readonly domain: string;
    readonly dir: string;
    readonly caCertificatePem: string;
    readonly caCertificate: X509Certificate;
    readonly caKey: KeyObject;
    /** The endorsing peer's signing identity (NodeOU `peer`). */
    readonly peer: OrgIdentity;
}

/** The devnet's TLS material. */
export interface TlsMaterial {
    readonly caCertPath: string;
    readonly caCertificatePem: string;
    readonly serverCertificatePem: string;
    readonly serverKeyPem: string;
}

/** All crypto material of a devnet. */
export interface CryptoMaterial {
    readonly orgs: readonly Org[];
    readonly tls: TlsMaterial;
}

const NODE_OU_CONFIG = (caFile: string): string => `NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/${caFile}
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/${caFile}
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/${caFile}
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/${caFile}
    OrganizationalUnitIdentifier: orderer
`;

/** Organizations whose `peer0.orgN.example.com` host name the devnet's TLS certificate carries. */
export const MAX_TLS_ORGS = 32;

function write(file: string, content: string, mode = 0o644): void {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content, { mode });
}

function newKey(): { publicKey: KeyObject; privateKey: KeyObject } {
    return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function keyPem(key: KeyObject): string {
    return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function caCert(subject: string, key: { publicKey: KeyObject; privateKey: KeyObject }): string {
    return issueCertificate({
        issuer: subject,
        subject,
        publicKey: key.publicKey,
        signingKey: key.privateKey,
        ext: [
            { extname: 'basicConstraints', critical: true, cA: true },
            { extname: 'keyUsage', critical: true, names: ['digitalSignature', 'keyCertSign', 'cRLSign'] },
            { extname: 'subjectKeyIdentifier', kid: { hex: subjectKeyId(key.publicKey) } },
        ],
    });
}

function caSubject(prefix: string, domain: string): string {
    return `/C=US/ST=North Carolina/L=San Francisco/O=${domain}/CN=${prefix}.${domain}`;
}

/** Options of a user certificate. */
export interface IssueOptions {
    /** NodeOU, default `client`. */
    readonly ou?: 'client' | 'admin' | 'peer';
    /** Fabric CA attributes (certificate extension 1.2.3.4.5.6.7.8.1), e.g. `{ 'ledgerwork.admin': 'true' }`. */
    readonly attrs?: Readonly<Record<string, string>>;
}

function userCert(org: { domain: string; caCertificate: X509Certificate; caKey: KeyObject }, name: string, publicKey: KeyObject, options: IssueOptions): string {
    const ext: { extname: string; [field: string]: unknown }[] = [
        { extname: 'basicConstraints', critical: true, cA: false },
        { extname: 'keyUsage', critical: true, names: ['digitalSignature'] },
        { extname: 'subjectKeyIdentifier', kid: { hex: subjectKeyId(publicKey) } },
        { extname: 'authorityKeyIdentifier', kid: { hex: subjectKeyId(org.caCertificate.publicKey) } },
    ];
    if (options.attrs !== undefined) {
        ext.push({ extname: FABRIC_ATTRIBUTES_OID, extn: Buffer.from(JSON.stringify({ attrs: options.attrs })).toString('hex') });
    }
    return issueCertificate({
        issuer: caSubject('ca', org.domain),
        subject: `/C=US/ST=North Carolina/L=San Francisco/OU=${options.ou ?? 'client'}/CN=${name}`,
        publicKey,
        signingKey: org.caKey,
        ext,
    });
}

function loadIdentity(mspId: string, name: string, mspDir: string): OrgIdentity {
    const signcerts = path.join(mspDir, 'signcerts');
    const certFile = readdirSync(signcerts).find((f) => f.endsWith('.pem'));
    if (certFile === undefined) {
        throw new Error(`no certificate in ${signcerts}`);
    }
    const certPath = path.join(signcerts, certFile);
    const keyPath = path.join(mspDir, 'keystore', 'priv_sk');
    const certificatePem = readFileSync(certPath, 'utf8');
    const privateKey = createPrivateKey(readFileSync(keyPath));
    const serialized = new msp.SerializedIdentity();
    serialized.setMspid(mspId);
    serialized.setIdBytes(Buffer.from(certificatePem));
    return {
        mspId,
        name,
        certificatePem,
        privateKey,
        certPath,
        keyPath,
        serialized: serialized.serializeBinary(),
        sign: (message) => signLowS(message, privateKey),
    };
}

function orgDomain(index: number): string {
    return `org${index}.example.com`;
}

function orgDir(root: string, domain: string): string {
    return path.join(root, 'organizations', 'peerOrganizations', domain);
}

/** Issues a new identity of `org` and writes it under `users/<name>@<domain>/msp`; returns it. */
export function issueUser(org: Org, name: string, options: IssueOptions = {}): OrgIdentity {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
        throw new Error(`invalid user name ${JSON.stringify(name)}`);
    }
    const fullName = `${name}@${org.domain}`;
    const mspDir = path.join(org.dir, 'users', fullName, 'msp');
    const key = newKey();
    write(path.join(mspDir, 'signcerts', `${fullName}-cert.pem`), userCert(org, fullName, key.publicKey, options));
    write(path.join(mspDir, 'keystore', 'priv_sk'), keyPem(key.privateKey), 0o600);
    write(path.join(mspDir, 'cacerts', `ca.${org.domain}-cert.pem`), org.caCertificatePem);
    write(path.join(mspDir, 'config.yaml'), NODE_OU_CONFIG(`ca.${org.domain}-cert.pem`));
    const tlsCa = readFileSync(path.join(org.dir, 'tlsca', `tlsca.${org.domain}-cert.pem`), 'utf8');
    write(path.join(org.dir, 'users', fullName, 'tls', 'ca.crt'), tlsCa);
    return loadIdentity(org.mspId, fullName, mspDir);
}

/** Loads an identity previously issued with {@link issueUser} (or generated: `User1`, `Admin`). */
export function loadUser(org: Org, name: string): OrgIdentity {
    const fullName = `${name}@${org.domain}`;
    return loadIdentity(org.mspId, fullName, path.join(org.dir, 'users', fullName, 'msp'));
}

function generateTls(root: string): void {
    const dir = path.join(root, 'organizations', 'tlsca');
    const caKey = newKey();
    const subject = caSubject('tlsca', 'example.com');
    const caPem = caCert(subject, caKey);
    const serverKey = newKey();
    const serverPem = issueCertificate({
        issuer: subject,
        subject: '/C=US/ST=North Carolina/L=San Francisco/CN=peer0.devnet.example.com',
        publicKey: serverKey.publicKey,
        signingKey: caKey.privateKey,
        ext: [
            { extname: 'basicConstraints', critical: true, cA: false },
            { extname: 'keyUsage', critical: true, names: ['digitalSignature', 'keyEncipherment'] },
            { extname: 'extKeyUsage', array: [{ name: 'serverAuth' }, { name: 'clientAuth' }] },
            // One gRPC port serves every org: the certificate names each org's conventional peer host.
            {
                extname: 'subjectAltName',
                array: [
                    { dns: 'localhost' },
                    { dns: '*.example.com' },
                    ...Array.from({ length: MAX_TLS_ORGS }, (_, i) => ({ dns: `peer0.${orgDomain(i + 1)}` })),
                    { ip: '127.0.0.1' },
                    { ip: '::1' },
                ],
            },
        ],
    });
    write(path.join(dir, 'tlsca.example.com-cert.pem'), caPem);
    write(path.join(dir, 'priv_sk'), keyPem(caKey.privateKey), 0o600);
    write(path.join(dir, 'server.crt'), serverPem);
    write(path.join(dir, 'server.key'), keyPem(serverKey.privateKey), 0o600);
}

function generateOrg(root: string, index: number, tlsCaPem: string): void {
    const domain = orgDomain(index);
    const dir = orgDir(root, domain);
    const caKey = newKey();
    const caPem = caCert(caSubject('ca', domain), caKey);
    const caFile = `ca.${domain}-cert.pem`;
    write(path.join(dir, 'ca', caFile), caPem);
    write(path.join(dir, 'ca', 'priv_sk'), keyPem(caKey.privateKey), 0o600);
    write(path.join(dir, 'msp', 'cacerts', caFile), caPem);
    write(path.join(dir, 'msp', 'tlscacerts', `tlsca.${domain}-cert.pem`), tlsCaPem);
    write(path.join(dir, 'msp', 'config.yaml'), NODE_OU_CONFIG(caFile));
    write(path.join(dir, 'tlsca', `tlsca.${domain}-cert.pem`), tlsCaPem);
    const partial = { domain, caCertificate: new X509Certificate(caPem), caKey: caKey.privateKey };
    const peerName = `peer0.${domain}`;
    const peerKey = newKey();
    const peerMsp = path.join(dir, 'peers', peerName, 'msp');
    write(path.join(peerMsp, 'signcerts', `${peerName}-cert.pem`), userCert(partial, peerName, peerKey.publicKey, { ou: 'peer' }));
    write(path.join(peerMsp, 'keystore', 'priv_sk'), keyPem(peerKey.privateKey), 0o600);
    write(path.join(peerMsp, 'cacerts', caFile), caPem);
    write(path.join(peerMsp, 'config.yaml'), NODE_OU_CONFIG(caFile));
    write(path.join(dir, 'peers', peerName, 'tls', 'ca.crt'), tlsCaPem);
    const org = loadOrg(root, index);
    issueUser(org, 'User1');
    issueUser(org, 'Admin', { ou: 'admin' });
}

/** MSP id of the `index`-th (1-based) organization. */
export function mspIdOf(index: number): string {
    return `Org${index}MSP`;
}

function loadOrg(root: string, index: number): Org {
    const domain = orgDomain(index);
    const dir = orgDir(root, domain);
    const caCertificatePem = readFileSync(path.join(dir, 'ca', `ca.${domain}-cert.pem`), 'utf8');
    const mspId = mspIdOf(index);
    return {
        mspId,
        domain,
        dir,
        caCertificatePem,
        caCertificate: new X509Certificate(caCertificatePem),
        caKey: createPrivateKey(readFileSync(path.join(dir, 'ca', 'priv_sk'))),
        peer: loadIdentity(mspId, `peer0.${domain}`, path.join(dir, 'peers', `peer0.${domain}`, 'msp')),
    };
}

/** Loads the material of `orgs` organizations under `root`, generating whatever is missing. */
export function ensureCryptoMaterial(root: string, orgs: number): CryptoMaterial {
    const tlsDir = path.join(root, 'organizations', 'tlsca');
    if (!existsSync(path.join(tlsDir, 'server.key'))) {
        generateTls(root);
    }
    const caCertPath = path.join(tlsDir, 'tlsca.example.com-cert.pem');
    const tls: TlsMaterial = {
        caCertPath,
        caCertificatePem: readFileSync(caCertPath, 'utf8'),
        serverCertificatePem: readFileSync(path.join(tlsDir, 'server.crt'), 'utf8'),
        serverKeyPem: readFileSync(path.join(tlsDir, 'server.key'), 'utf8'),
    };
    const loaded: Org[] = [];
    for (let i = 1; i <= orgs; i++) {
        if (!existsSync(path.join(orgDir(root, orgDomain(i)), 'users', `Admin@${orgDomain(i)}`, 'msp', 'keystore', 'priv_sk'))) {
            generateOrg(root, i, tls.caCertificatePem);
        }
        loaded.push(loadOrg(root, i));
    }
    // Sanity: the TLS server key matches its certificate.
    if (createPublicKey(tls.serverKeyPem).export({ format: 'pem', type: 'spki' }) !== new X509Certificate(tls.serverCertificatePem).publicKey.export({ format: 'pem', type: 'spki' })) {
        throw new Error(`TLS server key and certificate in ${tlsDir} do not match`);
    }
    return { orgs: loaded, tls };
}
