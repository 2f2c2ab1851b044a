// SPDX-License-Identifier: Apache-2.0
import { canonicalBytes } from '../core/canonicalJson';
import type { EventName } from '../core/events';
import { defaultParameters } from '../core/model';
import type { CreditDelta, CreditKind, Parameters, ReputationDelta, ReputationReason } from '../core/model';
import type { LedgerworkContext } from './context';
import { KeyType, decode, entries, getRecord, pad, putRecord } from './store';

/**
 * Balances and reputation are sums of per-event delta records keyed by (owner, time, txId, seq), as
 * in fabric-samples' high-throughput pattern: concurrent outcomes for different tasks write
 * different keys and never conflict; a read aggregates the owner's range.
 */

/** Writes the credit and reputation delta records of one transaction. */
export class DeltaWriter {
    constructor(private readonly ctx: LedgerworkContext) {}

    async credit(account: string, amount: bigint, kind: CreditKind, about: { jobId?: string; taskId?: string; executorId?: string }): Promise<void> {
        if (amount === 0n) {
            return;
        }
        const ctx = this.ctx;
        const seq = pad(ctx.nextDeltaSequence(), 4);
        const delta: CreditDelta = { account, amount: amount.toString(), kind, ...about, at: ctx.now(), txId: ctx.txId() };
        await putRecord(ctx, delta, KeyType.Credit, account, pad(ctx.now()), ctx.txId(), seq);
        if ((kind === 'payout' || kind === 'merge-payout' || kind === 'cancel-fee') && about.executorId !== undefined) {
            await putRecord(ctx, delta, KeyType.Payout, about.executorId, pad(ctx.now()), ctx.txId(), seq);
        }
        if (kind === 'mint') {
            await putRecord(ctx, delta, KeyType.Mint, pad(ctx.now()), ctx.txId(), seq);
        }
    }

    async reputation(executorId: string, delta: number, reason: ReputationReason, about: { jobId: string; taskId?: string }): Promise<void> {
        if (delta === 0) {
            return;
        }
        const ctx = this.ctx;
        const record: ReputationDelta = { executorId, delta, reason, ...about, at: ctx.now(), txId: ctx.txId() };
        await putRecord(ctx, record, KeyType.Reputation, executorId, pad(ctx.now()), ctx.txId(), pad(ctx.nextDeltaSequence(), 4));
    }
}

export async function balanceOf(ctx: LedgerworkContext, account: string): Promise<bigint> {
    let total = 0n;
    for (const entry of await entries(ctx, KeyType.Credit, account)) {
        total += BigInt(decode<CreditDelta>(entry.value).amount);
    }
    return total;
}

export async function reputationHistory(ctx: LedgerworkContext, executorId: string): Promise<ReputationDelta[]> {
    return (await entries(ctx, KeyType.Reputation, executorId)).map((entry) => decode<ReputationDelta>(entry.value));
}

export async function reputationOf(ctx: LedgerworkContext, executorId: string): Promise<number> {
    return (await reputationHistory(ctx, executorId)).reduce((sum, delta) => sum + delta.delta, 0);
}

export async function parametersOf(ctx: LedgerworkContext): Promise<Parameters> {
    return (await getRecord<Parameters>(ctx, KeyType.Parameters)) ?? defaultParameters;
}

export function emit(ctx: LedgerworkContext, name: EventName, payload: unknown): void {
    ctx.stub.setEvent(name, canonicalBytes(payload));
}
