// SPDX-License-Identifier: Apache-2.0
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { EventName } from '../core/events';
import { ACCOUNT_PATTERN, requireId } from '../core/ids';
import { parseAmount, parseParameters } from '../core/specs';
import { DeltaWriter, compactCredits, compactPayouts, compactReputation, parametersOf } from '../ledger/accounts';
import { emit } from '../ledger/events';
import { requireAdmin } from '../ledger/guards';
import { LedgerworkContext } from '../ledger/context';
import { KeyType, putRecord } from '../ledger/store';
import { LedgerworkContract, reply } from './base';

/** Compute credits and channel-wide parameters (admin only), and compaction of balances and reputation (anyone). */
@Info({ title: 'CreditContract', description: 'Mint compute credits and set channel-wide parameters (admins)' })
export class CreditContract extends LedgerworkContract {
    constructor() {
        super('credits');
    }

    /** Mints credits into an account (see queries:WhoAmI for one's account). Admin only (NOT_ADMIN). */
    @Transaction()
    @Returns('string')
    async Mint(ctx: LedgerworkContext, account: string, amount: string): Promise<string> {
        requireAdmin(ctx, 'minting credits');
        requireId(account, 'account', ACCOUNT_PATTERN);
        const credits = parseAmount(amount, 'amount');
        await new DeltaWriter(ctx).credit(account, credits, 'mint', {});
        emit(ctx, EventName.CreditsMinted, { account, amount: credits.toString() });
        return reply({ account, minted: credits.toString() });
    }

    /**
     * Folds up to 500 of an account's credit deltas into its checkpoint, so balance reads stay short
     * (transactions that read a balance fold on their own past 32 live deltas; an account that only
     * earns is folded by this). Anyone may call; the balance does not change. Reply and
     * BalanceCompacted event: `{account, balance, folded, live}` (live: deltas still unfolded).
     */
    @Transaction()
    @Returns('string')
    async Compact(ctx: LedgerworkContext, account: string): Promise<string> {
        requireId(account, 'account', ACCOUNT_PATTERN);
        const { balance, folded, live } = await compactCredits(ctx, account);
        const outcome = { account, balance: balance.toString(), folded, live };
        emit(ctx, EventName.BalanceCompacted, outcome);
        return reply(outcome);
    }

    /**
     * Folds up to 500 of an executor's reputation deltas, and up to 500 of its payout records, into
     * their checkpoints (claims fold on their own past 32). Anyone may call; nothing read changes.
     * Reply and ReputationCompacted event: `{executorId, reputation, folded, live, payouts: {folded, live}}`.
     */
    @Transaction()
    @Returns('string')
    async CompactReputation(ctx: LedgerworkContext, executorId: string): Promise<string> {
        requireId(executorId, 'executorId');
        const { reputation, folded, live } = await compactReputation(ctx, executorId);
        const payouts = await compactPayouts(ctx, executorId);
        const outcome = { executorId, reputation, folded, live, payouts };
        emit(ctx, EventName.ReputationCompacted, outcome);
        return reply(outcome);
    }

    /** Sets channel-wide parameters (reputation floor, gains, penalties, limits). Jobs keep the rules they were published under. Admin only. */
    @Transaction()
    @Returns('string')
    async SetParameters(ctx: LedgerworkContext, parametersJson: string): Promise<string> {
        requireAdmin(ctx, 'setting parameters');
        const parameters = parseParameters(parametersJson, await parametersOf(ctx));
        await putRecord(ctx, parameters, KeyType.Parameters);
        emit(ctx, EventName.ParametersSet, parameters);
        return reply(parameters);
    }
}
