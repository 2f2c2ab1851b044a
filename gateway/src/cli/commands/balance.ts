// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork balance [ACCOUNT]`: an account's credits; the caller's own by default. */
import { UsageError } from '../args';
import type { CommandContext } from '../context';
import { fields } from '../output';

/** Prints the account view (balance, what its live jobs hold in escrow now, and the totals: escrowed, refunded, spent, earned). */
export async function run(ctx: CommandContext): Promise<void> {
    const [given, extra] = ctx.flags.positional;
    if (extra !== undefined) {
        throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    }
    const client = ctx.client();
    const account = given ?? (await client.whoAmI()).account;
    const [view, escrow] = await Promise.all([client.getAccount(account), client.getEscrow(account)]);
    ctx.out.result({ ...view, locked: escrow.locked, lockedByJob: escrow.jobs }, () =>
        fields([
            ['account', view.account],
            ['balance', view.balance],
            ['locked in escrow now', `${escrow.locked}${escrow.jobs.length === 0 ? '' : ` (${escrow.jobs.map((j) => `${j.jobId} ${j.locked}`).join(', ')})`}`],
            // Totals over the account's history, not what is locked now (`job list` shows each job's escrow).
            ['escrowed (total)', view.escrowed],
            ['refunded (total)', view.refunded],
            ['spent (net)', view.spent],
            ['earned (total)', view.earned],
        ]),
    );
}
