// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork balance [ACCOUNT]`: an account's credits; the caller's own by default. */
import { UsageError } from '../args';
import type { CommandContext } from '../context';
import { fields } from '../output';

/** Prints the account view (balance, escrowed, refunded, spent, earned). */
export async function run(ctx: CommandContext): Promise<void> {
    const [given, extra] = ctx.flags.positional;
    if (extra !== undefined) {
        throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    }
    const client = ctx.client();
    const account = given ?? (await client.whoAmI()).account;
    const view = await client.getAccount(account);
    ctx.out.result(view, () =>
        fields([
            ['account', view.account],
            ['balance', view.balance],
            // Totals over the account's history, not what is locked now (`job list` shows each job's escrow).
            ['escrowed (total)', view.escrowed],
            ['refunded (total)', view.refunded],
            ['spent (net)', view.spent],
            ['earned (total)', view.earned],
        ]),
    );
}
