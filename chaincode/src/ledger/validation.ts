// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';
import type { TaskRecord } from '../core/model';
import { ledgerHashOf } from '../core/programs';
import type { Validation } from '../core/programs';
import type { EntryPoint } from '../wasm/admission';
import { MAX_VERDICT_BYTES, runProgram } from '../wasm/runtime';
import type { LedgerworkContext } from './context';
import { ledgerProgram, readProgram } from './programs';

/**
 * Validator predicates: a program on the ledger that the endorsing peers run on a task's (input,
 * result) at every submission. `validate` returns 1 to accept and anything else to reject; what it
 * writes with write_output (at most 256 bytes) is its reason. Every way a run can end is a verdict,
 * the same on every peer, and a rejection is committed like a bad signature.
 */

/**
 * Checks at publish that a program a job names is on the ledger and exports the entry point it will
 * be run through. @throws {LedgerworkError} NOT_FOUND, PROGRAM_REFUSED, INVALID_ARGUMENT
 */
export async function requireLedgerProgram(ctx: LedgerworkContext, uri: string, entry: EntryPoint, path: string): Promise<void> {
    const sha256 = ledgerHashOf(uri, path);
    if (sha256 === undefined) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${path} must be a ledger:// URI`);
    }
    const { record } = await readProgram(ctx, sha256);
    if (!record.entryPoints.includes(entry)) {
        throw new LedgerworkError(ErrorCode.ProgramRefused, `${path} ${uri} exports no ${entry} entry point (it has ${record.entryPoints.join(', ') || 'none'})`);
    }
}

/** Runs the task's validator on its input and `result`. @returns the verdict, and the rejection when it is not an acceptance */
export async function validateResult(ctx: LedgerworkContext, task: TaskRecord, result: Buffer): Promise<{ validation: Validation; rejection?: LedgerworkError }> {
    const validator = task.validator;
    if (validator === undefined) {
        throw new LedgerworkError(ErrorCode.Internal, `task ${task.id} has no validator`);
    }
    const program = await ledgerProgram(ctx, validator.program, 'validator.program');
    const input = Buffer.from(task.input.inline ?? '', 'base64');
    const outcome = runProgram(program, { entry: 'validate', input, result, fuel: validator.fuel, maxOutputBytes: MAX_VERDICT_BYTES });
    const base = { program: validator.program, fuel: validator.fuel, fuelUsed: outcome.fuelUsed };
    if (outcome.kind === 'failed') {
        const validation: Validation = { ...base, accepted: false, code: outcome.code, reason: outcome.detail };
        return { validation, rejection: new LedgerworkError(outcome.code, `the validator of task ${task.id} did not finish: ${outcome.detail}`) };
    }
    const reason = outcome.output.toString('utf8');
    if (outcome.value === 1) {
        return { validation: { ...base, accepted: true, ...(reason === '' ? {} : { reason }) } };
    }
    const validation: Validation = { ...base, accepted: false, code: ErrorCode.ValidatorRejected, reason: reason === '' ? `validate returned ${outcome.value}` : reason };
    return { validation, rejection: new LedgerworkError(ErrorCode.ValidatorRejected, `the validator of task ${task.id} turned the result down: ${validation.reason ?? ''}`) };
}
