// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork program store FILE` and `ledgerwork program show SHA256|ledger://SHA256`: programs on the ledger. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ledgerUri } from '@ledgerwork/core';
import { ChaincodeError } from '../../client/errors';
import type { LedgerworkClient, StoredProgram } from '../../client/ledgerworkClient';
import { UsageError } from '../args';
import type { CommandContext } from '../context';
import { fields } from '../output';

/** Dispatches `store` and `show`. */
export async function run(ctx: CommandContext): Promise<void> {
    const [sub, arg, extra] = ctx.flags.positional;
    if (extra !== undefined || arg === undefined || (sub !== 'store' && sub !== 'show')) {
        throw new UsageError('program store FILE | program show SHA256');
    }
    if (sub === 'store') {
        const stored = await storeProgramFile(ctx.client(), arg);
        ctx.out.result(stored, () => `${stored.alreadyStored ? 'already on the ledger' : `stored (fee ${stored.fee})`}: ${stored.uri}`);
        return;
    }
    const sha256 = arg.startsWith('ledger://') ? arg.slice('ledger://'.length) : arg;
    const found = await ctx.client().getProgram(sha256);
    const record = Object.fromEntries(Object.entries(found).filter(([name]) => name !== 'program')) as StoredProgram;
    ctx.out.result(record, () => describe(record, Buffer.from(found.program, 'base64').length));
}

/**
 * Stores a program file on the ledger, once per hash: a file already stored is not stored (nor
 * paid for) again, its record is returned with `alreadyStored: true`.
 */
export async function storeProgramFile(client: LedgerworkClient, file: string): Promise<StoredProgram & { alreadyStored: boolean }> {
    let bytes: Buffer;
    try {
        bytes = await readFile(file);
    } catch (err) {
        throw new UsageError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    try {
        const found = await client.getProgram(sha256);
        const record = Object.fromEntries(Object.entries(found).filter(([name]) => name !== 'program')) as StoredProgram;
        return { ...record, alreadyStored: true };
    } catch (err) {
        if (!(err instanceof ChaincodeError && err.code === 'NOT_FOUND')) {
            throw err;
        }
    }
    return { ...(await client.storeProgram(bytes)), alreadyStored: false };
}

function describe(record: StoredProgram, size: number): string {
    return fields([
        ['uri', ledgerUri(record.sha256)],
        ['size', `${size} bytes in ${record.chunks} chunk${record.chunks === 1 ? '' : 's'}`],
        ['entry points', record.entryPoints.join(', ')],
        ['stored by', record.storedBy],
        ['fee', record.fee],
        ['stored at', new Date(record.storedAt).toISOString()],
    ]);
}
