// SPDX-License-Identifier: Apache-2.0
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { EventName } from '../core/events';
import { base64At, sha256HexAt } from '../core/fields';
import { ledgerUri } from '../core/programs';
import { MAX_PROGRAM_BYTES } from '../wasm/admission';
import { emit } from '../ledger/events';
import { LedgerworkContext } from '../ledger/context';
import { readProgram, storeProgram } from '../ledger/programs';
import { LedgerworkContract, reply } from './base';

/** Programs on the ledger: validators and merge programs the chaincode itself runs. */
@Info({ title: 'ProgramContract', description: 'Store validators and merge programs on the ledger; read them back' })
export class ProgramContract extends LedgerworkContract {
    constructor() {
        super('programs');
    }

    /**
     * Stores a program (base64 of the WebAssembly module) under its SHA-256, once per hash, after
     * admission (integer-only, no start function, only the offered imports, a memory maximum, no key
     * section). The caller pays a fee of 1 credit per started KiB. Returns the record with its
     * `uri`, `ledger://<sha256>`. Throws PROGRAM_REFUSED, LIMIT_EXCEEDED, ALREADY_EXISTS,
     * INSUFFICIENT_FUNDS, INVALID_ARGUMENT.
     */
    @Transaction()
    @Returns('string')
    async Store(ctx: LedgerworkContext, programBase64: string): Promise<string> {
        const bytes = base64At(programBase64, 'program', MAX_PROGRAM_BYTES);
        const record = await storeProgram(ctx, bytes);
        const uri = ledgerUri(record.sha256);
        emit(ctx, EventName.ProgramStored, { uri, sha256: record.sha256, size: record.size, storedBy: record.storedBy, fee: record.fee });
        return reply({ uri, ...record });
    }

    /** A stored program's record, its `uri` and its bytes (`program`, base64). Throws NOT_FOUND. */
    @Transaction(false)
    @Returns('string')
    async Get(ctx: LedgerworkContext, sha256: string): Promise<string> {
        const hash = sha256HexAt(sha256, 'sha256');
        const { record, bytes } = await readProgram(ctx, hash);
        return reply({ uri: ledgerUri(hash), ...record, program: bytes.toString('base64') });
    }
}
