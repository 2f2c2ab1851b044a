// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork rewards EXECUTOR`: what an executor has been paid, entry by entry. */
import { UsageError } from '../args';
import { allPages } from '../context';
import type { CommandContext } from '../context';
import { table } from '../output';

/** Lists the payouts of an executor and their total. */
export async function run(ctx: CommandContext): Promise<void> {
    const [executorId, extra] = ctx.flags.positional;
    if (executorId === undefined || extra !== undefined) {
        throw new UsageError('rewards takes one EXECUTOR id');
    }
    const client = ctx.client();
    const payouts = await allPages((bookmark) => client.listPayouts(executorId, 1000, bookmark), ctx.flags.int('limit', 10_000, 1));
    const total = payouts.reduce((sum, p) => sum + BigInt(p.amount), 0n);
    ctx.out.result({ executorId, total: total.toString(), payouts }, () =>
        [
            table(
                ['WHEN', 'KIND', 'AMOUNT', 'JOB', 'TASK'],
                payouts.map((p) => [new Date(p.at).toISOString(), p.kind, p.amount, p.jobId ?? '', p.taskId ?? '']),
            ),
            `total ${total} to ${executorId} (${payouts.length} payouts)`,
        ].join('\n'),
    );
}
