// SPDX-License-Identifier: Apache-2.0
import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, signers } from '@hyperledger/fabric-gateway';
import type { Gateway, Network } from '@hyperledger/fabric-gateway';
import { ConfigError } from './errors';
import type { ConnectionSettings } from './settings';
import { newNodeCryptoSigner } from './signer';

/** Per-call deadlines, as fabric-samples' event application sets them. */
export interface Deadlines {
    readonly evaluateMs: number;
    readonly endorseMs: number;
    readonly submitMs: number;
    readonly commitStatusMs: number;
}

export const defaultDeadlines: Deadlines = { evaluateMs: 5_000, endorseMs: 15_000, submitMs: 5_000, commitStatusMs: 60_000 };

/** An open connection: close it when done (it owns the gRPC client). */
export interface GatewayConnection {
    readonly gateway: Gateway;
    readonly network: Network;
    readonly settings: ConnectionSettings;
    close(): void;
}

/**
 * Connects to a Fabric gateway peer — a real one or the devnet; nothing here knows which.
 * @param options.signer `node-crypto` (default; low-S, `hash: hash.none`) or fabric-gateway's own ECDSA signer
 * @throws {ConfigError} when a file cannot be read
 */
export function connectGateway(settings: ConnectionSettings, options: { signer?: 'node-crypto' | 'fabric-gateway'; deadlines?: Partial<Deadlines> } = {}): GatewayConnection {
    const tlsRootCert = readSetting(settings.tlsCertPath, 'TLS_CERT_PATH');
    const credentials = readSetting(settings.certPath, 'CERT_PATH');
    const privateKeyPem = readSetting(settings.keyPath, 'KEY_PATH').toString('utf8');
    const client = new grpc.Client(settings.peerEndpoint, grpc.credentials.createSsl(tlsRootCert), {
        ...(settings.peerHostAlias === undefined ? {} : { 'grpc.ssl_target_name_override': settings.peerHostAlias }),
        // Peers disconnect clients that ping more often than every 60 s.
        'grpc.keepalive_time_ms': 120_000,
    });
    const deadlines = { ...defaultDeadlines, ...options.deadlines };
    const useNodeCrypto = (options.signer ?? 'node-crypto') === 'node-crypto';
    const gateway = connect({
        client,
        identity: { mspId: settings.mspId, credentials },
        ...(useNodeCrypto
            ? { signer: newNodeCryptoSigner(privateKeyPem), hash: hash.none }
            : { signer: signers.newPrivateKeySigner(privateKeyFrom(privateKeyPem)), hash: hash.sha256 }),
        // Deadlines are absolute times; fabric-gateway asks for them per call.
        evaluateOptions: () => ({ deadline: Date.now() + deadlines.evaluateMs }),
        endorseOptions: () => ({ deadline: Date.now() + deadlines.endorseMs }),
        submitOptions: () => ({ deadline: Date.now() + deadlines.submitMs }),
        commitStatusOptions: () => ({ deadline: Date.now() + deadlines.commitStatusMs }),
    });
    return {
        gateway,
        network: gateway.getNetwork(settings.channelName),
        settings,
        close: () => {
            gateway.close();
            client.close();
        },
    };
}

function readSetting(file: string, name: string): Buffer {
    try {
        return readFileSync(file);
    } catch (err) {
        throw new ConfigError(`${name} ${file} cannot be read`, { cause: err });
    }
}

function privateKeyFrom(pem: string): KeyObject {
    try {
        return createPrivateKey(pem);
    } catch (err) {
        throw new ConfigError('the private key cannot be read (PKCS#8 PEM expected)', { cause: err });
    }
}
