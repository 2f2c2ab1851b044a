// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet's DER and ECDSA P-256 helpers in one place: DER integers, lengths and octet strings, strict
 * parsing of DER signatures, and Fabric's low-S rule (bccsp/sw/ecdsa.go: signers normalise S, verifiers
 * refuse S > N/2).
 */
import { sign as signDigest, type KeyObject } from 'node:crypto';
import { defined } from './defined';
import { signOffThread } from './signatureThread';

/** Order of the P-256 group. */
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

/** Splits a DER ECDSA signature into (r, s); throws on malformed or non-minimal input. */
export function parseDerSignature(der: Uint8Array): { r: bigint; s: bigint } {
    const bytes = Buffer.from(der);
    let pos = 0;
    const expect = (condition: boolean): void => {
        if (!condition) {
            throw new Error('malformed DER ECDSA signature');
        }
    };
    const readInteger = (): bigint => {
        expect(bytes[pos] === 0x02);
        const length = bytes[pos + 1] ?? 0;
        expect(length > 0 && length < 0x80 && pos + 2 + length <= bytes.length);
        const value = bytes.subarray(pos + 2, pos + 2 + length);
        expect((defined(value[0]) & 0x80) === 0 && !(value[0] === 0 && length > 1 && (defined(value[1]) & 0x80) === 0));
        pos += 2 + length;
        return BigInt(`0x${value.toString('hex')}`);
    };
    expect(bytes[0] === 0x30 && bytes[1] === bytes.length - 2 && bytes.length < 0x80);
    pos = 2;
    const r = readInteger();
    const s = readInteger();
    expect(pos === bytes.length);
    return { r, s };
}

/** A DER INTEGER (non-negative, minimal, short-form length). */
export function derInteger(value: bigint): Buffer {
    let hex = value.toString(16);
    if (hex.length % 2 === 1) {
        hex = `0${hex}`;
    }
    let bytes = Buffer.from(hex, 'hex');
    if ((defined(bytes[0]) & 0x80) !== 0) {
        bytes = Buffer.concat([Buffer.from([0]), bytes]);
    }
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** Whether a DER ECDSA P-256 signature has S <= N/2, as Fabric's verifier requires. */
export function isLowS(der: Uint8Array): boolean {
    return parseDerSignature(der).s <= P256_N / 2n;
}

/** Rewrites a DER ECDSA P-256 signature to its low-S twin (S → N − S when S > N/2). */
export function toLowS(der: Uint8Array): Buffer {
    const { r, s } = parseDerSignature(der);
    const lowS = s > P256_N / 2n ? P256_N - s : s;
    const body = Buffer.concat([derInteger(r), derInteger(lowS)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** A DER length: short form below 128, else long form. */
export function derLength(length: number): Buffer {
    if (length < 0x80) {
        return Buffer.from([length]);
    }
    const bytes: number[] = [];
    for (let n = length; n > 0; n = Math.floor(n / 256)) {
        bytes.unshift(n % 256);
    }
    return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A DER OCTET STRING. */
export function derOctets(value: Uint8Array): Buffer {
    return Buffer.concat([Buffer.from([0x04]), derLength(value.length), value]);
}

/** ECDSA-SHA256 over `message` with `privateKey`, DER encoded with low S, as Fabric's signers produce. */
export function signLowS(message: Uint8Array, privateKey: KeyObject): Buffer {
    return toLowS(signDigest('sha256', message, privateKey));
}

/** {@link signLowS} with the ECDSA signing on the devnet's signature thread, off the main thread. */
export async function signLowSOffThread(message: Uint8Array, privateKey: KeyObject): Promise<Buffer> {
    return toLowS(await signOffThread(privateKey, message));
}
