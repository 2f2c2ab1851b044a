// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from './errors';

/**
 * Programs on the ledger: validators and merge programs stored by a transaction, chunked under
 * their SHA-256, named everywhere a program URI is accepted as `ledger://<sha256>`. Never task
 * bundles (those carry a private key): the runtime's admission refuses a module with a key section.
 */

export const LEDGER_URI_PREFIX = 'ledger://';
/** Bytes per stored chunk (each a separate state value). */
export const PROGRAM_CHUNK_BYTES = 64 * 1024;
/** Credits the storer pays per started KiB of program; they are burned, not paid to anyone. */
export const PROGRAM_FEE_PER_KIB = 1n;

export interface ProgramRecord {
    /** SHA-256 (hex) of the program: its identity, and its URI's tail. */
    readonly sha256: string;
    readonly size: number;
    readonly chunks: number;
    /** The entry points it exports (validate, merge). */
    readonly entryPoints: readonly string[];
    /** Account that stored it and paid the fee. */
    readonly storedBy: string;
    /** The fee paid (decimal string). */
    readonly fee: string;
    readonly storedAt: number;
    readonly txId: string;
}

/** `ledger://<sha256>` for a program's hash. */
export function ledgerUri(sha256: string): string {
    return `${LEDGER_URI_PREFIX}${sha256}`;
}

/** The hash a `ledger://` URI names, or undefined for any other URI. @throws {LedgerworkError} INVALID_ARGUMENT for a malformed ledger URI */
export function ledgerHashOf(uri: string, path: string): string | undefined {
    if (!uri.startsWith(LEDGER_URI_PREFIX)) {
        return undefined;
    }
    const hash = uri.slice(LEDGER_URI_PREFIX.length);
    if (!/^[0-9a-f]{64}$/.test(hash)) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${path} must be ledger://<sha256>, 64 lower-case hex digits`);
    }
    return hash;
}

/** The fee for storing `size` bytes: PROGRAM_FEE_PER_KIB per started KiB. */
export function programFee(size: number): bigint {
    return BigInt(Math.ceil(size / 1024)) * PROGRAM_FEE_PER_KIB;
}
