// SPDX-License-Identifier: Apache-2.0
import { expect } from '@jest/globals';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ErrorCode, LedgerworkError } from '../../chaincode/src/core/errors';
import { parsePublicKey } from '../../chaincode/src/core/signature';
import type { Binding } from '../../chaincode/src/core/signature';

/** A P-256 key pair as the chaincode sees it (public key parsed from its PEM) and as a signer holds it. */
export interface TestKey {
    readonly privateKey: KeyObject;
    readonly publicKey: KeyObject;
    readonly pem: string;
}

/** Makes a fresh P-256 key pair; the public key goes through parsePublicKey like a ledger record would. */
export function newP256Key(): TestKey {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    return { privateKey: pair.privateKey, publicKey: parsePublicKey(pem), pem };
}

/** Public key PEM of a fresh key pair of another type or curve. */
export function foreignPublicPem(kind: 'secp256k1' | 'secp384r1' | 'rsa' | 'ed25519'): string {
    const pair =
        kind === 'rsa'
            ? generateKeyPairSync('rsa', { modulusLength: 2048 })
            : kind === 'ed25519'
              ? generateKeyPairSync('ed25519')
              : generateKeyPairSync('ec', { namedCurve: kind });
    return pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

/** node:crypto's own DER signature, high-S about half of the time. */
export function rawSign(privateKey: KeyObject, payload: Uint8Array): Buffer {
    return sign('sha256', payload, { key: privateKey, dsaEncoding: 'der' });
}

export const binding: Binding = { channel: 'mychannel', chaincode: 'ledgerwork' };

/** SHA-256-sized test hashes that differ in one byte. */
export function hash32(fill: number): Buffer {
    return Buffer.alloc(32, fill);
}

/** Runs `action` and returns the LedgerworkError it throws, failing the test if it throws anything else or nothing. */
export function caught(action: () => unknown): LedgerworkError {
    let thrown: unknown;
    try {
        action();
    } catch (err) {
        thrown = err;
    }
    expect(thrown).toBeInstanceOf(LedgerworkError);
    return thrown as LedgerworkError;
}

/** Expects `action` to throw a LedgerworkError with exactly `code`; returns it for further checks. */
export function expectCode(action: () => unknown, code: ErrorCode): LedgerworkError {
    const err = caught(action);
    expect(err.code).toBe(code);
    return err;
}

/** DER INTEGER for a non-negative bigint, minimal unless `pad` leading zero bytes are asked for. */
export function derInteger(value: bigint, pad = 0): Buffer {
    let hex = value.toString(16);
    if (hex.length % 2 === 1) {
        hex = `0${hex}`;
    }
    let body = Buffer.from(hex, 'hex');
    if ((body[0] ?? 0) >= 0x80) {
        body = Buffer.concat([Buffer.from([0]), body]);
    }
    body = Buffer.concat([Buffer.alloc(pad), body]);
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
}

/** DER SEQUENCE of the given pieces (short form length). */
export function derSequence(...parts: Buffer[]): Buffer {
    const body = Buffer.concat(parts);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** Reads r and s from DER that is known to be well formed (test-side parser, independent of der.ts). */
export function splitDer(der: Uint8Array): { r: bigint; s: bigint } {
    const rLength = der[3]!;
    const r = BigInt(`0x${Buffer.from(der.subarray(4, 4 + rLength)).toString('hex')}`);
    const sLength = der[5 + rLength]!;
    const s = BigInt(`0x${Buffer.from(der.subarray(6 + rLength, 6 + rLength + sLength)).toString('hex')}`);
    return { r, s };
}

/** The P-256 group order, written out independently of der.ts. */
export const N = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');

/** The codes a hostile signature string may legitimately produce. */
export const signatureCodes: readonly ErrorCode[] = [ErrorCode.SignatureMalformed, ErrorCode.HighS];
