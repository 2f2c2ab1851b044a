// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';
import { leftChild } from '../core/mergeTree';
import type { MergeNumber } from '../core/mergeTree';
import type { FilingRecord, JobTreeRecord, TaskRecord } from '../core/model';
import type { NumberResult } from '../core/specs';
import { runProgram } from '../wasm/runtime';
import type { LedgerworkContext } from './context';
import { ledgerProgram } from './programs';
import { getFiling } from './ranks';
import { KeyType, requireRecord } from './store';

/**
 * Merge re-execution: for a ranked job whose merge program is on the ledger and whose
 * `merge.verify` is "reexecute", the endorsers run the program's `merge` on the two filed children
 * (left through read_input, right through read_result) and accept a filing only if it equals the
 * output. Such filings carry no merge signature: the endorsement itself is the proof.
 */

/** The bytes a filing stands for: a leaf's task result, a merge's own bytes, a pass-through's left child's. */
export async function filingBytes(ctx: LedgerworkContext, tree: JobTreeRecord, filing: FilingRecord): Promise<Buffer> {
    let current = filing;
    for (;;) {
        if (current.kind === 'merge') {
            return Buffer.from(current.inline ?? '', 'base64');
        }
        if (current.kind === 'leaf') {
            const task = await requireRecord<TaskRecord>(ctx, 'task', KeyType.Task, current.taskId ?? '');
            return Buffer.from(task.result?.inline ?? '', 'base64');
        }
        if (current.kind === 'zero') {
            throw new LedgerworkError(ErrorCode.Internal, `(${current.y}, ${current.x}) is ZERO and has no bytes`);
        }
        const next = leftChild({ y: current.y, x: current.x });
        const child = await getFiling(ctx, tree.jobId, next.y, next.x);
        if (child === undefined) {
            throw new LedgerworkError(ErrorCode.Internal, `the left child (${next.y}, ${next.x}) of a pass-through is not filed`);
        }
        current = child;
    }
}

/**
 * Re-runs the merge of (left, right) and compares it with the filed `result`.
 * @returns undefined when they are equal, else the rejection (MERGE_MISMATCH, or how the run ended)
 * @throws {LedgerworkError} INVALID_ARGUMENT when the filing carries signatures
 */
export async function reexecuteMerge(
    ctx: LedgerworkContext,
    tree: JobTreeRecord,
    number: MergeNumber,
    given: NumberResult,
    left: FilingRecord,
    right: FilingRecord,
    result: Buffer,
): Promise<LedgerworkError | undefined> {
    const verify = tree.mergeVerify;
    if (verify === undefined) {
        throw new LedgerworkError(ErrorCode.Internal, `job ${tree.jobId} does not re-execute its merges`);
    }
    if (given.signatures !== undefined) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `(${number.y}, ${number.x}): job ${tree.jobId} re-executes its merges; file them without signatures`);
    }
    const program = await ledgerProgram(ctx, tree.mergeProgram.uri, 'merge.program.uri');
    const input = await filingBytes(ctx, tree, left);
    const other = await filingBytes(ctx, tree, right);
    const outcome = runProgram(program, { entry: 'merge', input, result: other, fuel: verify.fuel, maxOutputBytes: tree.maxResultBytes });
    const at = `(${number.y}, ${number.x}) of job ${tree.jobId}`;
    if (outcome.kind === 'failed') {
        return new LedgerworkError(outcome.code, `re-executing the merge at ${at} did not finish (${outcome.fuelUsed} of ${verify.fuel} fuel): ${outcome.detail}`);
    }
    if (outcome.value !== 0) {
        return new LedgerworkError(ErrorCode.MergeMismatch, `the merge program refused the children of ${at} (it returned ${outcome.value})`);
    }
    if (!outcome.output.equals(result)) {
        return new LedgerworkError(ErrorCode.MergeMismatch, `the filed value at ${at} is not the merge of its children (re-executed with ${outcome.fuelUsed} fuel)`);
    }
    return undefined;
}
