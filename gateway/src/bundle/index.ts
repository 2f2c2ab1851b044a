// SPDX-License-Identifier: Apache-2.0
/**
 * The program bundle (SPEC §4): a WebAssembly module with a custom section named `ledgerwork.key`
 * that holds the task's (or job's) ECDSA P-256 private key as PKCS#8 DER. The ledger's program hash
 * is SHA-256 of the whole bundle. The executor's runtime reads the key, strips the section before the
 * module goes anywhere near the sandbox (the guest never sees it; WASI exposes no custom sections
 * anyway), runs the module and signs input and result with the chaincode core's payload functions.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { combinedPayload, inputPayload, mergeInputHash, mergeSlotId, resultPayload, sha256, signPayload } from '@ledgerwork/core';
import type { Binding, SignatureMode } from '@ledgerwork/core';
import { encodeCustomSection, listSections } from './wasm';

export { WasmFormatError } from './wasm';

/** Name of the custom section that carries the private key. */
export const BUNDLE_KEY_SECTION = 'ledgerwork.key';

/** Upper bound on the key section's contents; a P-256 PKCS#8 DER is 138 bytes (67 without the public key). */
const MAX_KEY_DER = 1024;

/** Thrown when a bundle has no key, several keys, or a key that is not a P-256 private key. */
export class BundleError extends Error {
    override readonly name = 'BundleError';
}

/** A freshly generated task (or job) key pair, in the forms the publisher needs. */
export interface TaskKeyPair {
    /** The private key, for signing in tests and for building bundles. */
    readonly privateKey: KeyObject;
    /** PKCS#8 DER of the private key: the contents of the `ledgerwork.key` section. */
    readonly pkcs8Der: Buffer;
    /** SPKI PEM of the public key, as published on the ledger with the task. */
    readonly publicKeyPem: string;
}

/** Generates an ECDSA P-256 key pair for one task (or one job with `keyScope: "job"`). */
export function generateTaskKey(): TaskKeyPair {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    return {
        privateKey,
        pkcs8Der: privateKey.export({ type: 'pkcs8', format: 'der' }),
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString().trimEnd(),
    };
}

/**
 * Builds a bundle: `module` with every existing `ledgerwork.key` section removed and one new section
 * holding `key` (a P-256 private KeyObject or its PKCS#8 DER) appended at the end.
 * @throws {WasmFormatError} when `module` is not a WebAssembly module; {BundleError} for a bad key
 */
export function buildBundle(module: Uint8Array, key: KeyObject | Uint8Array): Buffer {
    const der = key instanceof KeyObject ? key.export({ type: 'pkcs8', format: 'der' }) : Buffer.from(key);
    checkPrivateKey(der);
    return Buffer.concat([stripBundleKey(module), encodeCustomSection(BUNDLE_KEY_SECTION, der)]);
}

/**
 * Returns the module without any `ledgerwork.key` section (a copy; other custom sections are kept).
 * @throws {WasmFormatError} when `bundle` is not a WebAssembly module
 */
export function stripBundleKey(bundle: Uint8Array): Buffer {
    const parts: Uint8Array[] = [bundle.subarray(0, 8)];
    for (const section of listSections(bundle)) {
        if (section.name !== BUNDLE_KEY_SECTION) {
            parts.push(bundle.subarray(section.start, section.end));
        }
    }
    return Buffer.concat(parts);
}

/**
 * Reads the private key from a bundle. Exactly one `ledgerwork.key` section must be present and hold
 * the PKCS#8 DER of an ECDSA P-256 private key.
 * @throws {WasmFormatError} when `bundle` is not a WebAssembly module; {BundleError} otherwise
 */
export function readBundleKey(bundle: Uint8Array): KeyObject {
    const found = listSections(bundle).filter((s) => s.name === BUNDLE_KEY_SECTION);
    const section = found[0];
    if (section === undefined || section.contentStart === undefined) {
        throw new BundleError(`the bundle has no ${BUNDLE_KEY_SECTION} section`);
    }
    if (found.length > 1) {
        throw new BundleError(`the bundle has ${found.length} ${BUNDLE_KEY_SECTION} sections; exactly one is allowed`);
    }
    return checkPrivateKey(Buffer.from(bundle.subarray(section.contentStart, section.end)));
}

/** The program hash recorded on the ledger: SHA-256 of the whole bundle, key section included. */
export function programHash(bundle: Uint8Array): Buffer {
    return sha256(bundle);
}

/** Hex form of programHash, as used for cache keys and on the ledger. */
export function programHashHex(bundle: Uint8Array): string {
    return programHash(bundle).toString('hex');
}

/** Signatures over one task's (or merge slot's) input and result, in the job's signature mode. */
export type OutputSignatures =
    | { readonly mode: 'separate'; readonly inputSignature: string; readonly resultSignature: string }
    | { readonly mode: 'combined'; readonly signature: string };

/** What signTaskOutput needs besides the key. */
export interface TaskOutput {
    readonly binding: Binding;
    readonly taskId: string;
    /** The task input exactly as published (it is hashed here). */
    readonly input: Uint8Array;
    /** The program's stdout (it is hashed here). */
    readonly result: Uint8Array;
    readonly mode: SignatureMode;
}

/**
 * Signs a task's input and result (SPEC §5) with the key from the bundle (or a key read earlier).
 * @throws {BundleError} when the bundle's key is missing or invalid; LedgerworkError for bad fields
 */
export function signTaskOutput(keySource: KeyObject | Uint8Array, output: TaskOutput): OutputSignatures {
    const key = keySource instanceof KeyObject ? keySource : readBundleKey(keySource);
    return signHashes(key, output.binding, output.taskId, sha256(output.input), sha256(output.result), output.mode);
}

/** What signMergeOutput needs besides the key. */
export interface MergeOutput {
    readonly binding: Binding;
    readonly jobId: string;
    /** Merge level (1 = merges of task results). */
    readonly y: number;
    /** Position within the level. */
    readonly x: number;
    /** SHA-256 of the left child's result. */
    readonly leftResultHash: Uint8Array;
    /** SHA-256 of the right child's result. */
    readonly rightResultHash: Uint8Array;
    /** The merge program's stdout. */
    readonly result: Uint8Array;
    readonly mode: SignatureMode;
}

/**
 * Signs a merge slot's result (SPEC §5/§6): the subject is `<jobId>/<y>/<x>` and the "input" hash is
 * SHA-256(left result hash ‖ right result hash).
 * @throws {BundleError} when the bundle's key is missing or invalid; LedgerworkError for bad fields
 */
export function signMergeOutput(keySource: KeyObject | Uint8Array, output: MergeOutput): OutputSignatures {
    const key = keySource instanceof KeyObject ? keySource : readBundleKey(keySource);
    const slot = mergeSlotId(output.jobId, output.y, output.x);
    const inputHash = mergeInputHash(output.leftResultHash, output.rightResultHash);
    return signHashes(key, output.binding, slot, inputHash, sha256(output.result), output.mode);
}

/**
 * The stdin of a merge run (SPEC §9): each partial result as a 4-byte big-endian length followed by
 * its bytes, left then right.
 */
export function frameMergeInput(left: Uint8Array, right: Uint8Array): Buffer {
    const out = Buffer.alloc(8 + left.length + right.length);
    out.writeUInt32BE(left.length, 0);
    out.set(left, 4);
    out.writeUInt32BE(right.length, 4 + left.length);
    out.set(right, 8 + left.length);
    return out;
}

function signHashes(key: KeyObject, binding: Binding, subject: string, inputHash: Buffer, resultHash: Buffer, mode: SignatureMode): OutputSignatures {
    if (mode === 'combined') {
        return { mode, signature: signPayload(key, combinedPayload(binding, subject, inputHash, resultHash)) };
    }
    return {
        mode,
        inputSignature: signPayload(key, inputPayload(binding, subject, inputHash)),
        resultSignature: signPayload(key, resultPayload(binding, subject, resultHash)),
    };
}

function checkPrivateKey(der: Buffer): KeyObject {
    if (der.length === 0 || der.length > MAX_KEY_DER) {
        throw new BundleError(`the ${BUNDLE_KEY_SECTION} section must hold 1..${MAX_KEY_DER} bytes of PKCS#8 DER`);
    }
    let key: KeyObject;
    try {
        key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch (err) {
        throw new BundleError(`the ${BUNDLE_KEY_SECTION} section is not PKCS#8 DER: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        throw new BundleError(`the ${BUNDLE_KEY_SECTION} key must be ECDSA P-256`);
    }
    return key;
}

/** SPKI PEM of the public half of a bundle's key (what the ledger must hold for the task). */
export function bundlePublicKeyPem(bundle: Uint8Array): string {
    return createPublicKey(readBundleKey(bundle)).export({ type: 'spki', format: 'pem' }).toString().trimEnd();
}
