// SPDX-License-Identifier: Apache-2.0
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { CommitError, EndorseError, GatewayError } from '@hyperledger/fabric-gateway';
import { parseEcdsaDer, P256_HALF_ORDER } from '../../chaincode/src/core/der';
import { ChaincodeError, CommitFailedError, ConfigError, TransportError, newNodeCryptoSigner, resolveSettings, retype } from '../../gateway/src/client';

const dir = mkdtempSync(path.join(tmpdir(), 'lw-client-'));
afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
});

function serviceError(code: GrpcStatus, details: string): ServiceError {
    return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: undefined as never });
}

describe('resolveSettings', () => {
    const env = {
        PEER_ENDPOINT: 'localhost:7051',
        PEER_HOST_ALIAS: 'peer0.org1.example.com',
        TLS_CERT_PATH: '/tls/ca.crt',
        MSP_ID: 'Org1MSP',
        CERT_PATH: '/msp/cert.pem',
        KEY_PATH: '/msp/key.pem',
    };

    it('reads the fabric-samples variables with default channel and chaincode names', () => {
        expect(resolveSettings({ env })).toEqual({
            peerEndpoint: 'localhost:7051',
            peerHostAlias: 'peer0.org1.example.com',
            tlsCertPath: '/tls/ca.crt',
            mspId: 'Org1MSP',
            certPath: '/msp/cert.pem',
            keyPath: '/msp/key.pem',
            channelName: 'mychannel',
            chaincodeName: 'ledgerwork',
        });
    });

    it('lets flags win over the environment, and the environment over a config file (paths relative to the file)', () => {
        const file = path.join(dir, 'gateway.json');
        writeFileSync(file, JSON.stringify({ peerEndpoint: 'file:1', mspId: 'FileMSP', tlsCertPath: 'tls.pem', certPath: 'c.pem', keyPath: 'k.pem', channelName: 'filechannel' }));
        const settings = resolveSettings({ configFile: file, env: { MSP_ID: 'EnvMSP' }, explicit: { peerEndpoint: 'flag:2' } });
        expect(settings).toMatchObject({ peerEndpoint: 'flag:2', mspId: 'EnvMSP', tlsCertPath: path.join(dir, 'tls.pem'), channelName: 'filechannel' });
    });

    it('reports a config file that is not JSON at its line and column, and refuses unknown settings', () => {
        const broken = path.join(dir, 'broken.json');
        writeFileSync(broken, '{"peerEndpoint": "h:1",\n  oops }');
        expect(() => resolveSettings({ configFile: broken })).toThrow(/is not JSON: .* at line 2, column 3$/);
        const typo = path.join(dir, 'typo.json');
        writeFileSync(typo, JSON.stringify({ peerEndpiont: 'h:1' }));
        expect(() => resolveSettings({ configFile: typo })).toThrow(/^unknown setting "peerEndpiont" in .*typo\.json; the settings are peerEndpoint, /);
        expect(() => resolveSettings({ configFile: path.join(dir, 'none.json') })).toThrow(/^cannot read the config file .*none\.json: ENOENT/);
    });

    it('takes the only file of CERT_DIRECTORY_PATH and KEY_DIRECTORY_PATH, and refuses ambiguous directories', () => {
        const certs = path.join(dir, 'signcerts');
        const keys = path.join(dir, 'keystore');
        mkdirSync(certs);
        mkdirSync(keys);
        writeFileSync(path.join(certs, 'cert.pem'), 'x');
        writeFileSync(path.join(keys, 'a_sk'), 'x');
        const base = { PEER_ENDPOINT: 'h:1', TLS_CERT_PATH: 't', MSP_ID: 'M' };
        expect(resolveSettings({ env: { ...base, CERT_DIRECTORY_PATH: certs, KEY_DIRECTORY_PATH: keys } })).toMatchObject({ certPath: path.join(certs, 'cert.pem'), keyPath: path.join(keys, 'a_sk') });
        writeFileSync(path.join(keys, 'b_sk'), 'x');
        expect(() => resolveSettings({ env: { ...base, CERT_DIRECTORY_PATH: certs, KEY_DIRECTORY_PATH: keys } })).toThrow(/exactly one file, not 2/);
    });

    it('names every missing setting in one ConfigError', () => {
        let error: unknown;
        try {
            resolveSettings({ env: { MSP_ID: 'Org1MSP' } });
        } catch (err) {
            error = err;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toContain('PEER_ENDPOINT');
        expect((error as Error).message).toContain('TLS_CERT_PATH');
        expect((error as Error).message).toContain('CERT_PATH or CERT_DIRECTORY_PATH');
    });
});

describe('newNodeCryptoSigner', () => {
    it('signs the whole message with SHA-256 and always low S', async () => {
        const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const signer = newNodeCryptoSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
        for (let i = 0; i < 64; i++) {
            const message = Buffer.from(`proposal ${i}`);
            const signature = await signer(message);
            expect(verify('sha256', message, publicKey, signature)).toBe(true);
            expect(parseEcdsaDer(signature).s <= P256_HALF_ORDER).toBe(true);
        }
    });

    it('refuses keys that are not ECDSA', () => {
        const { privateKey } = generateKeyPairSync('ed25519');
        expect(() => newNodeCryptoSigner(privateKey)).toThrow(ConfigError);
        expect(() => newNodeCryptoSigner('not a key')).toThrow(ConfigError);
    });
});

describe('retype', () => {
    it('re-types a chaincode error found in the endorsement details by its code', () => {
        const error = new EndorseError({
            code: GrpcStatus.ABORTED,
            details: [{ address: 'peer0:7051', mspId: 'Org1MSP', message: 'chaincode response 500, ALREADY_CLAIMED: task t1 is claimed by executor e2 until 5' }],
            cause: serviceError(GrpcStatus.ABORTED, 'failed to endorse transaction'),
            transactionId: 'tx1',
        });
        const typed = retype(error);
        expect(typed).toBeInstanceOf(ChaincodeError);
        expect(typed).toMatchObject({ code: 'ALREADY_CLAIMED', detail: 'task t1 is claimed by executor e2 until 5', transactionId: 'tx1', committed: false, stage: 'chaincode' });
    });

    it('keeps fabric-contract-api text without a code as a RUNTIME chaincode error', () => {
        const error = new GatewayError({ code: GrpcStatus.ABORTED, details: [{ address: 'p', mspId: 'M', message: 'chaincode response 500, Contract name is not known: nosuch' }], cause: serviceError(GrpcStatus.ABORTED, 'x') });
        expect(retype(error)).toMatchObject({ code: 'RUNTIME', stage: 'chaincode' });
    });

    it('names the validation code of an invalidated commit and marks conflicts', () => {
        const mvcc = retype(new CommitError({ code: 11, transactionId: 'tx2', message: 'invalid' }));
        expect(mvcc).toBeInstanceOf(CommitFailedError);
        expect(mvcc).toMatchObject({ validationCode: 'MVCC_READ_CONFLICT', transactionId: 'tx2', conflict: true });
        expect(retype(new CommitError({ code: 10, transactionId: 'tx3', message: 'invalid' }))).toMatchObject({ validationCode: 'ENDORSEMENT_POLICY_FAILURE', conflict: false });
    });

    it('marks a deadline after submission as ambiguous and one before it as not', () => {
        const unavailable = retype(new GatewayError({ code: GrpcStatus.UNAVAILABLE, details: [], cause: serviceError(GrpcStatus.UNAVAILABLE, 'no connection') }));
        expect(unavailable).toBeInstanceOf(TransportError);
        expect(unavailable).toMatchObject({ grpcCode: GrpcStatus.UNAVAILABLE, ambiguous: false });
        const endorse = retype(new EndorseError({ code: GrpcStatus.DEADLINE_EXCEEDED, details: [], cause: serviceError(GrpcStatus.DEADLINE_EXCEEDED, 'x'), transactionId: 'tx4' }));
        expect(endorse).toMatchObject({ ambiguous: false });
        const submitted = Object.assign(new GatewayError({ code: GrpcStatus.DEADLINE_EXCEEDED, details: [], cause: serviceError(GrpcStatus.DEADLINE_EXCEEDED, 'x') }), { transactionId: 'tx5' });
        expect(retype(submitted)).toMatchObject({ ambiguous: true, transactionId: 'tx5' });
    });
});
