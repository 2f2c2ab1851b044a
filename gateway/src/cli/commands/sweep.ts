// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork sweep [--job JOB]`: settles expired claims, jobs past their deadline and overdue ranks. */
import { sweepAll, sweepJob } from '../../client/sweep';
import { UsageError } from '../args';
import type { CommandContext } from '../context';

/** Sweeps the channel, or just what holds up one job (--job), and says what it settled. */
export async function run(ctx: CommandContext): Promise<void> {
    const [extra] = ctx.flags.positional;
    if (extra !== undefined) {
        throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    }
    const jobId = ctx.flags.string('job');
    const client = ctx.client();
    // An operator asking about one job wants overdue ranks tried too: treat it as stalled.
    const outcome = jobId === undefined ? await sweepAll(client) : await sweepJob(client, jobId, ctx.io.now(), Infinity);
    ctx.out.result(outcome, () => {
        const parts = [
            `${outcome.leasesExpired} expired claim${outcome.leasesExpired === 1 ? '' : 's'} settled`,
            `${outcome.jobsExpired.length} job${outcome.jobsExpired.length === 1 ? '' : 's'} expired${outcome.jobsExpired.length === 0 ? '' : ` (${outcome.jobsExpired.join(', ')})`}`,
            ...(jobId === undefined ? [] : [`${outcome.ranksReassigned.length} rank${outcome.ranksReassigned.length === 1 ? '' : 's'} reassigned${outcome.ranksReassigned.length === 0 ? '' : ` (${outcome.ranksReassigned.join(', ')})`}`]),
        ];
        return parts.join(', ');
    });
}
