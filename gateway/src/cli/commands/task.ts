// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork task list|show`: the tasks of a job, and one task. */
import { taskStates } from '@ledgerwork/core';
import type { TaskRecord } from '@ledgerwork/core';
import { UsageError } from '../args';
import { allPages } from '../context';
import type { CommandContext } from '../context';
import { fields, table } from '../output';
import { describeReplication } from './replicas';
import type { ReplicationView } from '../../client/ledgerworkClient';

/** Dispatches `list` and `show`. */
export async function run(ctx: CommandContext): Promise<void> {
    const [sub, id, extra] = ctx.flags.positional;
    if (extra !== undefined) {
        throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    }
    if (sub === 'list') {
        await list(ctx, id);
    } else if (sub === 'show' && id !== undefined) {
        await show(ctx, id);
    } else {
        throw new UsageError(sub === 'show' ? 'task show needs a TASK id' : 'task list|show');
    }
}

async function list(ctx: CommandContext, positionalJob: string | undefined): Promise<void> {
    const jobId = positionalJob ?? ctx.flags.required('job');
    const state = ctx.flags.oneOf('state', taskStates, undefined) ?? '';
    const client = ctx.client();
    const tasks = await allPages((bookmark) => client.listTasksByJob(jobId, state, 1000, bookmark), ctx.flags.int('limit', 100_000, 1));
    ctx.out.result({ jobId, tasks }, () =>
        table(
            ['TASK', '#', 'STATE', 'EXECUTOR', 'ATTEMPTS', 'REWARD'],
            tasks.map((t) => [t.id, String(t.index), t.state, t.claim?.executorId ?? '', String(t.attempts), t.reward]),
        ),
    );
}

async function show(ctx: CommandContext, taskId: string): Promise<void> {
    const task = await ctx.client().getTask(taskId);
    if (task.verify === undefined) {
        ctx.out.result(task, () => describeTask(task));
        return;
    }
    const replication = await ctx.client().getReplication(taskId);
    ctx.out.result({ ...task, replication }, () => describeTask(task, replication));
}

function describeTask(task: TaskRecord, replication?: ReplicationView): string {
    const entries: [string, string][] = [
        ['task', task.id],
        ['job', `${task.jobId} (#${task.index}, ${task.assignment}, ${task.mode})`],
        ['state', task.state],
        ['reward', task.reward],
        ['attempts', `${task.attempts} of ${task.maxAttempts}`],
        ['program', `${task.program.uri} sha256 ${task.program.sha256}`],
        ['input', task.input.inline !== undefined ? `inline, ${Buffer.from(task.input.inline, 'base64').length} bytes` : `${task.input.uri ?? ''} (${task.input.size} bytes)`],
        ['deadline', new Date(task.deadline).toISOString()],
    ];
    const replicas = replication === undefined ? undefined : describeReplication(replication);
    entries.push(...(replicas?.entries ?? []));
    if (task.claim !== undefined) {
        entries.push(['claimed by', `${task.claim.executorId} (${task.claim.shard}) at ${new Date(task.claim.claimedAt).toISOString()}`]);
    }
    if (task.lastFailure !== undefined) {
        entries.push(['last failure', `${task.lastFailure.kind}: ${task.lastFailure.detail}`]);
    }
    if (task.result !== undefined) {
        entries.push(['result', printable(Buffer.from(task.result.inline, 'base64'))]);
    }
    if (task.validator !== undefined) {
        entries.push(['validator', `${task.validator.program} (fuel ${task.validator.fuel})`]);
    }
    if (task.validation !== undefined) {
        const v = task.validation;
        entries.push(['verdict', `${v.accepted ? 'accepted' : `rejected ${v.code ?? ''}`}${v.reason === undefined ? '' : `: ${v.reason}`}, fuel used ${v.fuelUsed} of ${v.fuel}`]);
    }
    return replicas === undefined ? fields(entries) : `${fields(entries)}\n\n${replicas.replicas}`;
}

/** Result bytes as text when they are printable UTF-8, else as base64. */
export function printable(bytes: Buffer): string {
    const text = bytes.toString('utf8');
    return /^[\t\n\r\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes('\ufffd') ? text.trimEnd() : `base64:${bytes.toString('base64')}`;
}
