// SPDX-License-Identifier: Apache-2.0
import { createPrivateKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Signer } from '@hyperledger/fabric-gateway';
import { normalizeLowS } from '@ledgerwork/core';
import { ConfigError } from './errors';

/**
 * A fabric-gateway Signer over node:crypto, for use with `hash: hash.none`: the gateway hands over
 * the whole message, which is hashed and signed here with SHA-256 and ECDSA, then normalised to low
 * S (Fabric rejects high-S signatures; OpenSSL produces them about half the time). On this machine
 * node:crypto signs 13–30× faster than the pure-JS default (docs/benchmarks.md, "Reference").
 */
export function newNodeCryptoSigner(privateKeyPem: string | KeyObject): Signer {
    let key: KeyObject;
    try {
        key = typeof privateKeyPem === 'string' ? createPrivateKey(privateKeyPem) : privateKeyPem;
    } catch (err) {
        throw new ConfigError('the private key cannot be read (PKCS#8 PEM expected)', { cause: err });
    }
    if (key.asymmetricKeyType !== 'ec') {
        throw new ConfigError(`the private key is ${key.asymmetricKeyType ?? 'not asymmetric'}; Fabric identities use ECDSA`);
    }
    return (message: Uint8Array): Promise<Uint8Array> => Promise.resolve(normalizeLowS(sign('sha256', message, key)));
}
