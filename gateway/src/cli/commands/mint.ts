// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork mint AMOUNT [--account ACCOUNT]`: creates credits (admin identities only). */
import { UsageError, parseAmount } from '../args';
import type { CommandContext } from '../context';

/** Mints AMOUNT to --account or to the caller's own account. */
export async function run(ctx: CommandContext): Promise<void> {
    const [amountText, extra] = ctx.flags.positional;
    if (amountText === undefined || extra !== undefined) {
        throw new UsageError('mint takes one AMOUNT');
    }
    const amount = parseAmount(amountText, 'AMOUNT');
    if (amount === 0n) {
        throw new UsageError('AMOUNT must be positive');
    }
    const client = ctx.client();
    const account = ctx.flags.string('account') ?? (await client.whoAmI()).account;
    const minted = await client.mint(account, amount);
    ctx.out.result(minted, () => `minted ${minted.minted} to ${minted.account}`);
}
