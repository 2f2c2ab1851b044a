// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from './errors';
import { integerAt, objectAt, uriAt } from './fields';

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

/** Most fuel a validator or merge run may be given. */
export const MAX_FUEL = 1_000_000_000;

/** Fuel a re-executed merge gets when the job does not say (merge.fuel). */
export const DEFAULT_MERGE_FUEL = 1_000_000;

/** How a ranked job's merges are verified beyond the filing shape: re-executed by the endorsers. */
export interface MergeVerify {
    readonly policy: 'reexecute';
    readonly fuel: number;
}

/** A job's validator: a program on the ledger run on (input, result) at every submission, with its fuel. */
export interface ValidatorPolicy {
    /** `ledger://<sha256>` */
    readonly program: string;
    readonly fuel: number;
}

/** What a validator said about one result; kept on the task with its result or its last rejection. */
export interface Validation {
    readonly program: string;
    readonly accepted: boolean;
    /** Why not: VALIDATOR_REJECTED, or how the run ended (FUEL_EXHAUSTED, PROGRAM_TRAPPED, …). */
    readonly code?: string;
    /** The validator's own reason (its output), or the runtime's. */
    readonly reason?: string;
    readonly fuel: number;
    readonly fuelUsed: number;
}

function validatorAt(value: unknown, path: string): ValidatorPolicy {
    const o = objectAt(value, path, ['program', 'fuel']);
    const program = uriAt(o.program, `${path}.program`);
    if (ledgerHashOf(program, `${path}.program`) === undefined) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${path}.program must be a ledger:// URI: the endorsing peers run the validator`);
    }
    return { program, fuel: integerAt(o.fuel, `${path}.fuel`, 1, MAX_FUEL) };
}

/**
 * Separates a job's validator from its `verify` field: `{"policy":"validator","program":"ledger://…","fuel":N}`
 * (the validator alone, over the signature check), or a replicated policy with a `validator` member
 * (`{"policy":"quorum","k":2,"validator":{"program":…,"fuel":…}}`: each reveal is validated first).
 * @returns the policy left for parseVerify, and the validator if there is one
 */
export function splitValidator(value: unknown, path = 'job.verify'): { policy: unknown; validator?: ValidatorPolicy } {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return { policy: value };
    }
    const { validator, ...rest } = value as Record<string, unknown>;
    if (rest.policy === 'validator') {
        const o = objectAt(value, path, ['policy', 'program', 'fuel']);
        return { policy: 'signature', validator: validatorAt({ program: o.program, fuel: o.fuel }, path) };
    }
    if (validator === undefined) {
        return { policy: value };
    }
    return { policy: rest, validator: validatorAt(validator, `${path}.validator`) };
}
