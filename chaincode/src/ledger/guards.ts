// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';
import type { ExecutorRecord } from '../core/model';
import type { LedgerworkContext } from './context';

/**
 * Admin-only transactions: the caller needs the admin OU or the attribute ledgerwork.admin=true.
 * @throws {LedgerworkError} NOT_ADMIN, naming `what` was attempted
 */
export function requireAdmin(ctx: LedgerworkContext, what: string): void {
    if (!ctx.caller().isAdmin) {
        throw new LedgerworkError(ErrorCode.NotAdmin, `${what} needs an admin identity (admin OU or ledgerwork.admin=true)`);
    }
}

/**
 * Acting for an executor: only the identity that registered it may.
 * @throws {LedgerworkError} NOT_OWNER
 */
export function requireOwner(ctx: LedgerworkContext, executor: ExecutorRecord): void {
    if (executor.owner !== ctx.caller().account) {
        throw new LedgerworkError(ErrorCode.NotOwner, `executor ${executor.id} belongs to another identity`);
    }
}
