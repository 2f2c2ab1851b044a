// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork executor register|list|show|run`. */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutorRecord, JobRecord } from '../../../../chaincode/src/core/model';
import { ChaincodeError, TransportError } from '../../client/errors';
import type { LedgerworkClient } from '../../client/ledgerworkClient';
import { Executor } from '../../executor';
import type { Outcome } from '../../executor';
import { SandboxPool } from '../../sandbox';
import { UsageError } from '../args';
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
            return register(ctx, id ?? ctx.flags.required('id'));
        case 'list':
            return list(ctx);
        case 'show':
            return show(ctx, id ?? ctx.flags.required('id'));
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

/** What `executor run` did, printed at the end. */
interface RunSummary {
    accepted: number;
    filed: number;
    failed: number;
    rejected: number;
    lostRaces: number;
    stopped: boolean;
}

const LIVE_STATES: readonly JobRecord['state'][] = ['publishing', 'open'];
/** Chaincode answers to a claim that only mean "someone else got it" or "not for us now". */
const CLAIM_MISSES = new Set(['ALREADY_CLAIMED', 'INVALID_STATE', 'REQUIREMENT_UNMET', 'DEADLINE_PASSED', 'WRONG_SHARD']);

/**
 * The work loop. Polls the jobs named with --job: claims open tasks at random among the
 * eligible ones (at most --concurrency in flight), and works every rank its executors hold in
 * ranked jobs (ranks mostly wait on siblings, so they are not counted against --concurrency; the
 * sandbox pool of --concurrency children bounds the CPU). On SIGINT/SIGTERM it claims nothing
 * more and lets work in flight finish; waiting ranks stop (their numbers are left to reassignment).
 */
async function runExecutors(ctx: CommandContext): Promise<void> {
    const ids = ctx.flags.all('id');
    const jobIds = ctx.flags.all('job');
    if (ids.length === 0 || jobIds.length === 0) {
        throw new UsageError('executor run needs --id and --job (there is no cross-job query for open work yet)');
    }
    const concurrency = ctx.flags.int('concurrency', 1, 1);
    const pollMs = ctx.flags.duration('poll', 1000);
    const untilDone = ctx.flags.bool('until-done');
    const client = ctx.client();
    const shards = new Map<string, string>();
    for (const id of ids) {
        shards.set(id, (await ensureRegistered(ctx, client, id, concurrency)).shard);
    }
    const settings = ctx.settings();
    const pool = new SandboxPool({ size: concurrency });
    const untrap = ctx.io.trapSignals();
    const signal = ctx.io.signal;
    const summary: RunSummary = { accepted: 0, filed: 0, failed: 0, rejected: 0, lostRaces: 0, stopped: false };
    const executors = new Map(
        ids.map((id) => [id, new Executor({ executorId: id, ledger: client, sandbox: pool, binding: { channel: settings.channelName, chaincode: settings.chaincodeName }, pollMs: Math.min(pollMs, 500), signal })]),
    );
    const inFlight = new Set<Promise<void>>();
    let openInFlight = 0;
    const ranksStarted = new Set<string>();
    const jobs = new Map<string, JobRecord>();
    const track = (work: Promise<Outcome>, label: string, open: boolean): void => {
        if (open) {
            openInFlight++;
        }
        const done = work.then(
            (outcome) => {
                record(ctx, summary, label, outcome);
            },
            (err: unknown) => {
                if (err instanceof ChaincodeError && CLAIM_MISSES.has(err.code)) {
                    summary.lostRaces++;
                    if (err.code !== 'ALREADY_CLAIMED') {
                        ctx.out.note(`skipped ${label}: ${err.code} ${err.detail}`);
                    }
                    return;
                }
                summary.failed++;
                ctx.out.note(`${label}: ${err instanceof Error ? err.message : String(err)}`);
                if (!open) {
                    ranksStarted.delete(label); // asked again next round; ALREADY_FILED makes a repeat harmless
                }
            },
        ).finally(() => {
            if (open) {
                openInFlight--;
            }
            inFlight.delete(done);
        });
        inFlight.add(done);
    };
    try {
        await pool.ready();
        ctx.out.note(`executor${ids.length > 1 ? 's' : ''} ${ids.join(', ')} polling ${jobIds.join(', ')} every ${pollMs} ms (Ctrl-C stops)`);
        while (!signal.aborted) {
            let live = 0;
            for (const jobId of jobIds) {
                try {
                    live += await poll(client, jobId, { ids, shards, executors, ranksStarted, track, free: () => concurrency - openInFlight, jobs });
                } catch (err) {
                    if (!(err instanceof TransportError)) {
                        throw err;
                    }
                    live++;
                    ctx.out.note(`${jobId}: ${err.message} (trying again)`);
                }
            }
            if (untilDone && live === 0 && inFlight.size === 0) {
                break;
            }
            await sleep(pollMs, undefined, { signal }).catch(() => undefined);
        }
        summary.stopped = signal.aborted;
        await Promise.allSettled([...inFlight]);
    } finally {
        untrap();
        await pool.close();
    }
    ctx.out.result(summary, () => `accepted ${summary.accepted}, filed ranks ${summary.filed}, failed ${summary.failed}, rejected ${summary.rejected}, lost claim races ${summary.lostRaces}${summary.stopped ? ' (stopped)' : ''}`);
}

interface PollState {
    readonly ids: readonly string[];
    readonly shards: ReadonlyMap<string, string>;
    readonly executors: ReadonlyMap<string, Executor>;
    readonly ranksStarted: Set<string>;
    readonly track: (work: Promise<Outcome>, label: string, open: boolean) => void;
    readonly free: () => number;
    /** Jobs already read (what poll uses of them — assignment, shards — never changes). */
    readonly jobs: Map<string, JobRecord>;
}

/** One look at a job: starts what there is to do; returns 1 while the job is live, else 0. */
async function poll(client: LedgerworkClient, jobId: string, state: PollState): Promise<number> {
    // An open job has no completion event or state: it is done when its progress says finished.
    const progress = await client.getJobProgress(jobId);
    if (!LIVE_STATES.includes(progress.state) || progress.finished) {
        return 0;
    }
    const job = state.jobs.get(jobId) ?? (await client.getJob(jobId));
    state.jobs.set(jobId, job);
    if (job.assignment === 'ranked') {
        const tree = await client.getMergeTree(jobId);
        for (const holder of tree.holders) {
            const executor = state.executors.get(holder.executorId);
            const label = `${jobId}/rank ${holder.rank}`;
            if (executor !== undefined && !state.ranksStarted.has(label)) {
                state.ranksStarted.add(label);
                state.track(executor.runRank(jobId, holder.rank), label, false);
            }
        }
        return 1;
    }
    if (state.free() <= 0) {
        return 1;
    }
    const eligible = state.ids.filter((id) => job.shards.length === 0 || job.shards.includes(state.shards.get(id) ?? ''));
    if (eligible.length === 0) {
        return 1;
    }
    const open = shuffled((await client.listTasksByJob(jobId, 'published', 1000)).items);
    for (const task of open.slice(0, state.free())) {
        const executorId = eligible[randomInt(eligible.length)] ?? '';
        const executor = state.executors.get(executorId);
        if (executor !== undefined) {
            state.track(executor.claimAndRun(task.id), `${task.id} (${executorId})`, true);
        }
    }
    return 1;
}

/** A random permutation: competing executors spread over the open tasks instead of all racing for the first. */
function shuffled<T>(items: readonly T[]): T[] {
    const keyed = items.map((item) => ({ item, key: randomInt(2 ** 47) }));
    return keyed.sort((a, b) => a.key - b.key).map((k) => k.item);
}

function record(ctx: CommandContext, summary: RunSummary, label: string, outcome: Outcome): void {
    switch (outcome.kind) {
        case 'accepted':
            summary.accepted++;
            ctx.out.note(`accepted ${label}`);
            return;
        case 'filed':
            summary.filed++;
            ctx.out.note(`filed ${label} up to (${outcome.last.y}, ${outcome.last.x})`);
            return;
        case 'rejected':
            summary.rejected++;
            ctx.out.note(`rejected ${label}: ${outcome.code} ${outcome.detail}`);
            return;
        case 'stopped':
            ctx.out.note(`stopped ${label}: ${outcome.detail}`);
            return;
        default:
            summary.failed++;
            ctx.out.note(`${outcome.kind} ${label}: ${outcome.detail}`);
    }
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
    const record = await client.registerExecutor(id, specOf(ctx, concurrency));
    ctx.out.note(`registered executor ${record.id} in ${record.shard}`);
    return record;
}
