// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork whoami [--account]`: the caller's account, MSP id and whether it is an admin. */
import { UsageError } from '../args';
import type { CommandContext } from '../context';
import { fields } from '../output';

/** Prints the identity the connection settings name, as the chaincode sees it. */
export async function run(ctx: CommandContext): Promise<void> {
    const [extra] = ctx.flags.positional;
    if (extra !== undefined) {
        throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    }
    const identity = await ctx.client().whoAmI();
    if (ctx.flags.bool('account') && !ctx.out.json) {
        ctx.out.result(identity, () => identity.account);
        return;
    }
    ctx.out.result(identity, () =>
        fields([
            ['account', identity.account],
            ['msp', identity.mspId],
            ['admin', identity.isAdmin ? 'yes' : 'no'],
        ]),
    );
}
