// SPDX-License-Identifier: Apache-2.0
import { Contract } from 'fabric-contract-api';
import { ErrorCode, LedgerworkError, toLedgerworkError } from '../core/errors';
import { canonicalJson } from '../core/canonicalJson';
import { LedgerworkContext } from '../ledger/context';
import { checkClockSkew } from '../ledger/peerClock';

/**
 * Shared behaviour of every ledgerwork contract: a per-transaction LedgerworkContext, the clock-skew
 * check, and one error form at the boundary — anything thrown leaves as `CODE: message`
 * (unexpected failures as INTERNAL), so the gateway can re-type it.
 */
export abstract class LedgerworkContract extends Contract {
    override createContext(): LedgerworkContext {
        return new LedgerworkContext();
    }

    override async beforeTransaction(ctx: LedgerworkContext): Promise<void> {
        await Promise.resolve();
        checkClockSkew(ctx.now());
    }

    // The declared types are fabric-contract-api's: `fn` is really the function name and the result passes through.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    override async aroundTransaction(ctx: LedgerworkContext, fn: Function, parameters: unknown): Promise<void> {
        try {
            // eslint-disable-next-line @typescript-eslint/no-confusing-void-expression -- typed void upstream, returns the result
            return await super.aroundTransaction(ctx, fn, parameters);
        } catch (err) {
            throw toLedgerworkError(err);
        }
    }

    override async unknownTransaction(ctx: LedgerworkContext): Promise<void> {
        await Promise.resolve();
        const { fcn } = ctx.stub.getFunctionAndParameters();
        throw new LedgerworkError(ErrorCode.UnknownTransaction, `${fcn} is not a transaction of this chaincode`);
    }
}

/** Every transaction returns canonical JSON, so endorsers' responses are byte-identical. */
export function reply(value: unknown): string {
    return canonicalJson(value);
}
