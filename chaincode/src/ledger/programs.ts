// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';
import { PROGRAM_CHUNK_BYTES, ledgerHashOf, ledgerUri, programFee } from '../core/programs';
import type { ProgramRecord } from '../core/programs';
import { compileProgram, sha256Hex } from '../wasm/runtime';
import type { CompiledProgram } from '../wasm/runtime';
import { prepareProgram } from '../wasm/runtime';
import { wasm } from '../wasm/webAssembly';
import { DeltaWriter, balanceOf } from './accounts';
import type { LedgerworkContext } from './context';
import { KeyType, getRecord, key, pad, putRecord } from './store';

/**
 * Programs in world state: a record under `lw.program/<sha256>` and the bytes in chunks under
 * `lw.program.chunk/<sha256>/<index>`. Reading a program always reads the record and every chunk,
 * whether or not this peer has it compiled already, so every endorser's read set is the same.
 */

/** Stores a program once per hash; the caller pays the fee. @throws {LedgerworkError} ALREADY_EXISTS, PROGRAM_REFUSED, LIMIT_EXCEEDED, INSUFFICIENT_FUNDS */
export async function storeProgram(ctx: LedgerworkContext, bytes: Buffer): Promise<ProgramRecord> {
    const { admitted, instrumented } = prepareProgram(bytes);
    const sha256 = sha256Hex(bytes);
    if ((await getRecord<ProgramRecord>(ctx, KeyType.Program, sha256)) !== undefined) {
        throw new LedgerworkError(ErrorCode.AlreadyExists, `program ${ledgerUri(sha256)} is already on the ledger`);
    }
    try {
        new wasm.Module(instrumented);
    } catch (err) {
        throw new LedgerworkError(ErrorCode.ProgramRefused, `the module does not validate: ${err instanceof Error ? err.message : String(err)}`);
    }
    const account = ctx.caller().account;
    const fee = programFee(bytes.length);
    const balance = await balanceOf(ctx, account, 'fold');
    if (balance < fee) {
        throw new LedgerworkError(ErrorCode.InsufficientFunds, `storing ${bytes.length} bytes costs ${fee} credits; the balance is ${balance}`);
    }
    await new DeltaWriter(ctx).credit(account, -fee, 'storage-fee', {});
    const chunks = Math.ceil(bytes.length / PROGRAM_CHUNK_BYTES);
    for (let i = 0; i < chunks; i++) {
        const chunk = bytes.subarray(i * PROGRAM_CHUNK_BYTES, (i + 1) * PROGRAM_CHUNK_BYTES);
        await ctx.stub.putState(key(ctx, KeyType.ProgramChunk, sha256, pad(i, 4)), chunk);
    }
    const record: ProgramRecord = { sha256, size: bytes.length, chunks, entryPoints: [...admitted.entryPoints], storedBy: account, fee: fee.toString(), storedAt: ctx.now(), txId: ctx.txId() };
    await putRecord(ctx, record, KeyType.Program, sha256);
    return record;
}

/** A stored program's record and bytes. @throws {LedgerworkError} NOT_FOUND */
export async function readProgram(ctx: LedgerworkContext, sha256: string): Promise<{ record: ProgramRecord; bytes: Buffer }> {
    const record = await getRecord<ProgramRecord>(ctx, KeyType.Program, sha256);
    if (record === undefined) {
        throw new LedgerworkError(ErrorCode.NotFound, `program ${ledgerUri(sha256)} is not on the ledger`);
    }
    const chunks: Buffer[] = [];
    for (let i = 0; i < record.chunks; i++) {
        chunks.push(Buffer.from(await ctx.stub.getState(key(ctx, KeyType.ProgramChunk, sha256, pad(i, 4)))));
    }
    const bytes = Buffer.concat(chunks);
    if (bytes.length !== record.size || sha256Hex(bytes) !== sha256) {
        throw new LedgerworkError(ErrorCode.Internal, `the stored chunks of program ${sha256} do not hash to it`);
    }
    return { record, bytes };
}

/** The compiled program a `ledger://` URI names (from this process's cache when compiled before). */
export async function ledgerProgram(ctx: LedgerworkContext, uri: string, path: string): Promise<CompiledProgram> {
    const sha256 = ledgerHashOf(uri, path);
    if (sha256 === undefined) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${path} must be a ledger:// URI: only programs on the ledger run inside the chaincode`);
    }
    const { bytes } = await readProgram(ctx, sha256);
    return compileProgram(sha256, bytes);
}
