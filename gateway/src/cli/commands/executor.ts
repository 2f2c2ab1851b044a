// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork executor register|list|show|run`. */
import { homedir } from 'node:os';
import path from 'node:path';
import { MAX_CAPACITY } from '@ledgerwork/core';
import type { ExecutorRecord } from '@ledgerwork/core';
import { connectGateway } from '../../client/connection';
import { ChaincodeError, ConfigError } from '../../client/errors';
import type { LedgerworkClient } from '../../client/ledgerworkClient';
import { readFile } from 'node:fs/promises';
import { ContentFetcher, ReplicaJournal, WorkLoop, describeWorkEvent } from '../../executor';
import type { WorkSummary } from '../../executor';
import { JobFollower, defaultCheckpointFile } from '../../executor/jobFollower';
import { SandboxPool } from '../../sandbox';
import { UsageError, idArgument } from '../args';
import { allPages } from '../context';
import type { CommandContext } from '../context';
import { fields, table } from '../output';

/** Dispatches the subcommands. */
export async function run(ctx: CommandContext): Promise<void> {
    const [sub, id, extra] = ctx.flags.positional;
    if (extra !== undefined) {
        throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    }
    switch (sub) {
        case 'register':
            return register(ctx, idArgument(id, ctx.flags, 'executor register'));
        case 'list':
            return list(ctx);
        case 'show':
            return show(ctx, idArgument(id, ctx.flags, 'executor show'));
        case 'run':
            if (id !== undefined) {
                throw new UsageError('executor run takes its executors as --id ID');
            }
            return runExecutors(ctx);
        default:
            throw new UsageError(sub === undefined ? 'executor needs a subcommand' : `unknown subcommand executor ${sub}`);
    }
}

function specOf(ctx: CommandContext, defaultCapacity?: number): { skills?: string[]; mode?: 'active' | 'passive'; capacity?: number } {
    const skills = ctx.flags.all('skills');
    const mode = ctx.flags.oneOf('mode', ['active', 'passive'] as const, undefined);
    const capacity = ctx.flags.optionalInt('capacity', 1) ?? defaultCapacity;
    return { ...(skills.length === 0 ? {} : { skills }), ...(mode === undefined ? {} : { mode }), ...(capacity === undefined ? {} : { capacity }) };
}

async function register(ctx: CommandContext, executorId: string): Promise<void> {
    const record = await ctx.client().registerExecutor(executorId, specOf(ctx));
    ctx.out.result(record, () => `registered executor ${record.id} in ${record.shard} (${record.mode}, capacity ${record.capacity}${record.skills.length === 0 ? '' : `, skills ${record.skills.join(',')}`})`);
}

async function list(ctx: CommandContext): Promise<void> {
    const shard = ctx.flags.string('shard') ?? ctx.settings().mspId;
    const client = ctx.client();
    const executors = await allPages((bookmark) => client.listExecutorsByShard(shard, 1000, bookmark), ctx.flags.int('limit', 100_000, 1));
    ctx.out.result({ shard, executors }, () =>
        table(
            ['EXECUTOR', 'SHARD', 'MODE', 'CAPACITY', 'STATUS', 'SKILLS'],
            executors.map((e: ExecutorRecord) => [e.id, e.shard, e.mode, String(e.capacity), e.status, e.skills.join(',')]),
        ),
    );
}

async function show(ctx: CommandContext, executorId: string): Promise<void> {
    const view = await ctx.client().getExecutor(executorId);
    const e = view.executor;
    ctx.out.result(view, () =>
        fields([
            ['executor', e.id],
            ['shard', e.shard],
            ['owner', e.owner],
            ['mode', e.mode],
            ['capacity', String(e.capacity)],
            ['skills', e.skills.join(',') || '(none)'],
            ['status', view.effectiveStatus === e.status ? e.status : `${view.effectiveStatus} (recorded ${e.status})`],
            ['reputation', String(view.reputation)],
            ['earned', view.earned],
            ...(view.lastCompletedTask === undefined ? [] : [['last task', view.lastCompletedTask] as [string, string]]),
        ]),
    );
}

/**
 * `executor run`: flags → WorkLoop options → notes and a summary. Without --job it follows the
 * chaincode's events from a persisted checkpoint (JobFollower); with --job it polls those jobs.
 * On SIGINT/SIGTERM it claims nothing more and lets work in flight finish.
 */
async function runExecutors(ctx: CommandContext): Promise<void> {
    const ids = ctx.flags.all('id');
    const jobIds = ctx.flags.all('job');
    if (ids.length === 0) {
        throw new UsageError('executor run needs --id');
    }
    const follow = followsEvents(ctx, jobIds);
    if (!follow && jobIds.length === 0) {
        throw new UsageError('executor run --no-follow needs --job');
    }
    const concurrency = ctx.flags.int('concurrency', 1, 1);
    const pollMs = ctx.flags.duration('poll', 1000);
    const untilDone = ctx.flags.bool('until-done');
    const client = ctx.client();
    for (const id of ids) {
        await ensureRegistered(ctx, client, id, concurrency);
    }
    const settings = ctx.settings();
    const caFile = ctx.flags.string('content-ca');
    let ca: Buffer | undefined;
    if (caFile !== undefined) {
        try {
            ca = await readFile(caFile);
        } catch (err) {
            throw new UsageError(`--content-ca ${caFile}: ${err instanceof Error ? err.message : String(err)}`);
        }
    }
    const pool = new SandboxPool({ size: concurrency });
    const untrap = ctx.io.trapSignals();
    let following: Following | undefined;
    let summary: WorkSummary;
    try {
        following = follow ? await startFollowing(ctx, ids) : undefined;
        await pool.ready();
        announce(ctx, ids, jobIds, pollMs, following);
        const loop = new WorkLoop({
            executorIds: ids,
            ledger: client,
            sandbox: pool,
            concurrency,
            binding: { channel: settings.channelName, chaincode: settings.chaincodeName },
            jobIds,
            untilDone,
            pollMs,
            signal: ctx.io.signal,
            // Replicas of quorum/credibility jobs are sealed here before they commit, and revealed from here after a restart.
            journal: new ReplicaJournal(path.join(ctx.flags.string('state-dir') ?? path.join(homedir(), '.ledgerwork'), 'replicas')),
            ...optional('source', following?.follower),
            ...optional('fetcher', ca === undefined ? undefined : new ContentFetcher({ ca })),
            onEvent: (event) => {
                ctx.out.note(describeWorkEvent(event));
            },
        });
        summary = await loop.run();
    } finally {
        untrap();
        await following?.close();
        await pool.close();
    }
    ctx.out.result(summary, () => `accepted ${summary.accepted}, filed ranks ${summary.filed}, failed ${summary.failed}, rejected ${summary.rejected}, lost claim races ${summary.lostRaces}${summary.skipped === 0 ? '' : `, skipped ${summary.skipped}`}${summary.revealed === 0 ? '' : `, replicas revealed ${summary.revealed}`}${summary.resumed === 0 ? '' : `, resumed ${summary.resumed}`}${summary.conflicts === 0 ? '' : `, conflicts re-tried ${summary.conflicts}`}${summary.retried === 0 ? '' : `, unanswered calls re-tried ${summary.retried}`}${summary.queueTimeouts === 0 ? '' : `, not run (sandbox queue full, claims released) ${summary.queueTimeouts}`}${summary.stopped ? ' (stopped)' : ''}`);
}

/** Without --job: events. With --job and no checkpoint named: polling only, as before. --no-follow: never events. */
function followsEvents(ctx: CommandContext, jobIds: readonly string[]): boolean {
    const named = ctx.flags.string('checkpoint') !== undefined || ctx.flags.string('state-dir') !== undefined;
    return !ctx.flags.bool('no-follow') && (jobIds.length === 0 || named);
}

function announce(ctx: CommandContext, ids: readonly string[], jobIds: readonly string[], pollMs: number, following: Following | undefined): void {
    const where = [...(jobIds.length === 0 ? [] : [`polling ${jobIds.join(', ')} every ${pollMs} ms`]), ...(following === undefined ? [] : [following.description])];
    ctx.out.note(`executor${ids.length > 1 ? 's' : ''} ${ids.join(', ')} ${where.join('; ')} (Ctrl-C stops)`);
}

interface Following {
    readonly follower: JobFollower;
    readonly description: string;
    close(): Promise<void>;
}

/** Starts the JobFollower on its own connection (a long-lived stream next to the client's calls). */
async function startFollowing(ctx: CommandContext, ids: readonly string[]): Promise<Following> {
    const settings = ctx.settings();
    const fromBlock = ctx.flags.optionalInt('from-block', 0);
    const checkpointFile = ctx.flags.string('checkpoint') ?? defaultCheckpointFile({ ...optional('stateDir', ctx.flags.string('state-dir')), channel: settings.channelName, chaincode: settings.chaincodeName, executorIds: ids });
    const connection = connectGateway(settings);
    try {
        const follower = await JobFollower.start({
            network: connection.network,
            chaincodeName: settings.chaincodeName,
            executorIds: ids,
            checkpointFile,
            ...optional('startBlock', fromBlock === undefined ? undefined : BigInt(fromBlock)),
            onNote: (text) => {
                ctx.out.note(text);
            },
        });
        const known = follower.jobs().size;
        return {
            follower,
            description: `following events from ${describePosition(follower.position)} (checkpoint ${checkpointFile}${known === 0 ? '' : `, ${known} known jobs`})`,
            close: async () => {
                await follower.close();
                connection.close();
            },
        };
    } catch (err) {
        connection.close();
        // A checkpoint path that is a directory, unreadable, or not JSON is a setting to fix, not a bug.
        if (typeof (err as NodeJS.ErrnoException).code === 'string' || err instanceof SyntaxError) {
            throw new ConfigError(`the checkpoint ${checkpointFile} cannot be used: ${(err as Error).message}`, { cause: err });
        }
        throw err;
    }
}

function describePosition(position: { block?: bigint; transactionId?: string }): string {
    return position.block === undefined ? 'the next block' : `block ${position.block}${position.transactionId === undefined ? '' : ` after ${position.transactionId.slice(0, 12)}…`}`;
}

/** `{ [key]: value }`, or nothing when the value is undefined (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
    return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The executor's record, registering it first when --register asks to and it does not exist. */
async function ensureRegistered(ctx: CommandContext, client: LedgerworkClient, id: string, concurrency: number): Promise<ExecutorRecord> {
    try {
        return (await client.getExecutor(id)).executor;
    } catch (err) {
        if (!(err instanceof ChaincodeError && err.code === 'NOT_FOUND' && ctx.flags.bool('register'))) {
            throw err;
        }
    }
    // Twice the runs at once: one task runs while the next is claimed and the last submitted.
    const record = await client.registerExecutor(id, specOf(ctx, Math.min(2 * concurrency, MAX_CAPACITY)));
    ctx.out.note(`registered executor ${record.id} in ${record.shard}`);
    return record;
}
