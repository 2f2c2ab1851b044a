// SPDX-License-Identifier: Apache-2.0
import { defaultParameters } from '../core/model';
import type { CreditCheckpoint, CreditDelta, CreditKind, Parameters, PayoutCheckpoint, ReputationCheckpoint, ReputationDelta, ReputationReason } from '../core/model';
import type { LedgerworkContext } from './context';
import { KeyType, decode, deleteKey, getRecord, liveEntries, pad, putRecord } from './store';
import type { Entry } from './store';

/**
 * Balances and reputation are sums of per-event delta records keyed by (owner, time, txId, seq), as
 * in fabric-samples' high-throughput pattern: concurrent outcomes for different tasks write
 * different keys and never conflict; a read aggregates the owner's range.
 *
 * So that a read does not grow with the owner's history, deltas are folded, as that pattern's
 * pruning does: a transaction that reads an owner's deltas anyway (a claim reading the claimant's
 * reputation, a publish reading the publisher's balance, `credits:Compact…`) and finds more than
 * {@link FOLD_AFTER} of them moves up to {@link MAX_FOLD} to `lw.<kind>.folded` (same attributes,
 * same bytes: the history stays listable) and adds their sum to the owner's checkpoint record. A
 * read is then the checkpoint plus the live deltas. Submissions never read deltas or checkpoints,
 * so they stay conflict-free with each other and with folding.
 */

/** Live deltas of one owner above which a reading transaction folds them. */
export const FOLD_AFTER = 32;
/** Most deltas one transaction folds (bounds its write set). */
export const MAX_FOLD = 500;

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

/** Whether a read may fold what it reads: only in transactions that are submitted (never in queries). */
export type Folding = 'fold' | 'read-only';

export async function balanceOf(ctx: LedgerworkContext, account: string, folding: Folding = 'read-only'): Promise<bigint> {
    return (await creditState(ctx, account, folding)).balance;
}

/** An account's balance with its checkpoint and live deltas (after folding, when allowed and due). */
export async function creditState(ctx: LedgerworkContext, account: string, folding: Folding): Promise<{ balance: bigint; checkpoint: CreditCheckpoint | undefined; live: CreditDelta[] }> {
    let checkpoint = await getRecord<CreditCheckpoint>(ctx, KeyType.CreditCheckpoint, account);
    let entries = await liveEntries(ctx, KeyType.Credit, account);
    if (folding === 'fold' && entries.length > FOLD_AFTER) {
        checkpoint = await foldCredits(ctx, account, checkpoint, entries.slice(0, MAX_FOLD));
        entries = entries.slice(MAX_FOLD);
    }
    const live = entries.map((entry) => decode<CreditDelta>(entry.value));
    const balance = live.reduce((sum, delta) => sum + BigInt(delta.amount), BigInt(checkpoint?.total ?? '0'));
    return { balance, checkpoint, live };
}

/** Folds up to {@link MAX_FOLD} of an account's live credit deltas, whatever their number; returns how many and how many stay live. */
export async function compactCredits(ctx: LedgerworkContext, account: string): Promise<{ balance: bigint; folded: number; live: number }> {
    const checkpoint = await getRecord<CreditCheckpoint>(ctx, KeyType.CreditCheckpoint, account);
    const entries = await liveEntries(ctx, KeyType.Credit, account);
    const folding = entries.slice(0, MAX_FOLD);
    const after = folding.length === 0 ? checkpoint : await foldCredits(ctx, account, checkpoint, folding);
    const rest = entries.slice(MAX_FOLD).reduce((sum, entry) => sum + BigInt(decode<CreditDelta>(entry.value).amount), 0n);
    return { balance: BigInt(after?.total ?? '0') + rest, folded: folding.length, live: entries.length - folding.length };
}

async function foldCredits(ctx: LedgerworkContext, account: string, checkpoint: CreditCheckpoint | undefined, entries: readonly Entry[]): Promise<CreditCheckpoint> {
    let total = BigInt(checkpoint?.total ?? '0');
    const byKind = new Map<CreditKind, bigint>(Object.entries(checkpoint?.byKind ?? {}).map(([kind, sum]) => [kind as CreditKind, BigInt(sum)]));
    for (const entry of entries) {
        const delta = decode<CreditDelta>(entry.value);
        const amount = BigInt(delta.amount);
        total += amount;
        byKind.set(delta.kind, (byKind.get(delta.kind) ?? 0n) + amount);
        await moveEntry(ctx, entry, KeyType.Credit, KeyType.CreditFolded);
    }
    const folded: CreditCheckpoint = {
        account,
        total: total.toString(),
        byKind: Object.fromEntries([...byKind].map(([kind, sum]) => [kind, sum.toString()])),
        folded: (checkpoint?.folded ?? 0) + entries.length,
        at: ctx.now(),
        txId: ctx.txId(),
    };
    await putRecord(ctx, folded, KeyType.CreditCheckpoint, account);
    return folded;
}

/** An executor's reputation with its checkpoint and live deltas (after folding, when allowed and due). */
export async function reputationState(ctx: LedgerworkContext, executorId: string, folding: Folding): Promise<{ reputation: number; checkpoint: ReputationCheckpoint | undefined; live: ReputationDelta[] }> {
    let checkpoint = await getRecord<ReputationCheckpoint>(ctx, KeyType.ReputationCheckpoint, executorId);
    let entries = await liveEntries(ctx, KeyType.Reputation, executorId);
    if (folding === 'fold' && entries.length > FOLD_AFTER) {
        checkpoint = await foldReputation(ctx, executorId, checkpoint, entries.slice(0, MAX_FOLD));
        entries = entries.slice(MAX_FOLD);
    }
    const live = entries.map((entry) => decode<ReputationDelta>(entry.value));
    return { reputation: live.reduce((sum, delta) => sum + delta.delta, checkpoint?.total ?? 0), checkpoint, live };
}

export async function reputationOf(ctx: LedgerworkContext, executorId: string, folding: Folding = 'read-only'): Promise<number> {
    return (await reputationState(ctx, executorId, folding)).reputation;
}

/** Folds up to {@link MAX_FOLD} of an executor's live reputation deltas, whatever their number. */
export async function compactReputation(ctx: LedgerworkContext, executorId: string): Promise<{ reputation: number; folded: number; live: number }> {
    const checkpoint = await getRecord<ReputationCheckpoint>(ctx, KeyType.ReputationCheckpoint, executorId);
    const entries = await liveEntries(ctx, KeyType.Reputation, executorId);
    const folding = entries.slice(0, MAX_FOLD);
    const after = folding.length === 0 ? checkpoint : await foldReputation(ctx, executorId, checkpoint, folding);
    const rest = entries.slice(MAX_FOLD).reduce((sum, entry) => sum + decode<ReputationDelta>(entry.value).delta, 0);
    return { reputation: (after?.total ?? 0) + rest, folded: folding.length, live: entries.length - folding.length };
}

async function foldReputation(ctx: LedgerworkContext, executorId: string, checkpoint: ReputationCheckpoint | undefined, entries: readonly Entry[]): Promise<ReputationCheckpoint> {
    let total = checkpoint?.total ?? 0;
    let lastAcceptedTask = checkpoint?.lastAcceptedTask;
    for (const entry of entries) {
        const delta = decode<ReputationDelta>(entry.value);
        total += delta.delta;
        if (delta.reason === 'accepted' && delta.taskId !== undefined) {
            lastAcceptedTask = delta.taskId;
        }
        await moveEntry(ctx, entry, KeyType.Reputation, KeyType.ReputationFolded);
    }
    const folded: ReputationCheckpoint = {
        executorId,
        total,
        folded: (checkpoint?.folded ?? 0) + entries.length,
        ...(lastAcceptedTask === undefined ? {} : { lastAcceptedTask }),
        at: ctx.now(),
        txId: ctx.txId(),
    };
    await putRecord(ctx, folded, KeyType.ReputationCheckpoint, executorId);
    return folded;
}

/** What an executor earned (its payout records: task and merge payouts, cancellation fees), after folding when allowed and due. */
export async function earnedBy(ctx: LedgerworkContext, executorId: string, folding: Folding): Promise<bigint> {
    let checkpoint = await getRecord<PayoutCheckpoint>(ctx, KeyType.PayoutCheckpoint, executorId);
    let entries = await liveEntries(ctx, KeyType.Payout, executorId);
    if (folding === 'fold' && entries.length > FOLD_AFTER) {
        checkpoint = await foldPayouts(ctx, executorId, checkpoint, entries.slice(0, MAX_FOLD));
        entries = entries.slice(MAX_FOLD);
    }
    return entries.reduce((sum, entry) => sum + BigInt(decode<CreditDelta>(entry.value).amount), BigInt(checkpoint?.earned ?? '0'));
}

/** Folds up to {@link MAX_FOLD} of an executor's live payout records, whatever their number. */
export async function compactPayouts(ctx: LedgerworkContext, executorId: string): Promise<{ folded: number; live: number }> {
    const checkpoint = await getRecord<PayoutCheckpoint>(ctx, KeyType.PayoutCheckpoint, executorId);
    const entries = await liveEntries(ctx, KeyType.Payout, executorId);
    const folding = entries.slice(0, MAX_FOLD);
    if (folding.length > 0) {
        await foldPayouts(ctx, executorId, checkpoint, folding);
    }
    return { folded: folding.length, live: entries.length - folding.length };
}

async function foldPayouts(ctx: LedgerworkContext, executorId: string, checkpoint: PayoutCheckpoint | undefined, entries: readonly Entry[]): Promise<PayoutCheckpoint> {
    let earned = BigInt(checkpoint?.earned ?? '0');
    for (const entry of entries) {
        earned += BigInt(decode<CreditDelta>(entry.value).amount);
        await moveEntry(ctx, entry, KeyType.Payout, KeyType.PayoutFolded);
    }
    const folded: PayoutCheckpoint = { executorId, earned: earned.toString(), folded: (checkpoint?.folded ?? 0) + entries.length, at: ctx.now(), txId: ctx.txId() };
    await putRecord(ctx, folded, KeyType.PayoutCheckpoint, executorId);
    return folded;
}

/** Moves a delta record to its folded key type, same attributes, same canonical bytes. */
async function moveEntry(ctx: LedgerworkContext, entry: Entry, from: KeyType, to: KeyType): Promise<void> {
    await putRecord(ctx, decode<unknown>(entry.value), to, ...entry.attributes);
    await deleteKey(ctx, from, ...entry.attributes);
}

export async function parametersOf(ctx: LedgerworkContext): Promise<Parameters> {
    return (await getRecord<Parameters>(ctx, KeyType.Parameters)) ?? defaultParameters;
}
