// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork executor register|list|show|run`. */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutorRecord, JobRecord } from '../../../../chaincode/src/core/model';
import { connectGateway } from '../../client/connection';
import { ChaincodeError, TransportError } from '../../client/errors';
import type { LedgerworkClient } from '../../client/ledgerworkClient';
import { Executor } from '../../executor';
import type { Outcome } from '../../executor';
import { JobFollower, defaultCheckpointFile } from '../../executor/jobFollower';
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
 * The work loop. Finds work by following the chaincode's events from a persisted checkpoint
 * (JobFollower: open jobs with tasks to claim, ranked jobs where its executors hold ranks) and by
 * polling the jobs named with --job and the jobs the events named: claims open tasks at random
 * among the eligible ones (at most --concurrency in flight), and works every rank its executors
 * hold in ranked jobs (ranks mostly wait on siblings, so they are not counted against
 * --concurrency; the sandbox pool of --concurrency children bounds the CPU). A job learned from
 * events is dropped when it ended or has nothing for these executors now; a later event brings it
 * back. On SIGINT/SIGTERM it claims nothing more and lets work in flight finish; waiting ranks stop
 * (their numbers are left to reassignment).
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
    const shards = new Map<string, string>();
    for (const id of ids) {
        shards.set(id, (await ensureRegistered(ctx, client, id, concurrency)).shard);
    }
    const settings = ctx.settings();
    const pool = new SandboxPool({ size: concurrency });
    const untrap = ctx.io.trapSignals();
    const signal = ctx.io.signal;
    const summary: RunSummary = { accepted: 0, filed: 0, failed: 0, rejected: 0, lostRaces: 0, stopped: false };
    const work = new WorkSet(ctx, summary);
    let following: Following | undefined;
    try {
        following = follow ? await startFollowing(ctx, ids) : undefined;
        const follower = following?.follower;
        const binding = { channel: settings.channelName, chaincode: settings.chaincodeName };
        const executors = new Map(ids.map((id) => [id, new Executor({ executorId: id, ledger: client, sandbox: pool, binding, pollMs: Math.min(pollMs, 500), signal, ...optional('waker', follower) })]));
        await pool.ready();
        announce(ctx, ids, jobIds, pollMs, following);
        const state: PollState = { ids, shards, executors, ranksStarted: work.ranksStarted, track: work.track, free: () => concurrency - work.openInFlight, jobs: new Map() };
        while (!signal.aborted) {
            work.rearm();
            const live = await pollAll(ctx, client, state, jobIds, follower);
            if (untilDone && live === 0 && work.inFlight.size === 0) {
                break;
            }
            // Wakes after --poll, at news from the events, or when a run ends (a free slot for the next claim).
            const wait = AbortSignal.any([signal, work.settled]);
            await (follower === undefined ? sleep(pollMs, undefined, { signal: wait }).catch(() => undefined) : follower.changed(pollMs, wait));
        }
        summary.stopped = signal.aborted;
        await Promise.allSettled([...work.inFlight]);
    } finally {
        untrap();
        await following?.close();
        await pool.close();
    }
    ctx.out.result(summary, () => `accepted ${summary.accepted}, filed ranks ${summary.filed}, failed ${summary.failed}, rejected ${summary.rejected}, lost claim races ${summary.lostRaces}${summary.stopped ? ' (stopped)' : ''}`);
}

/** The work in flight: outcomes go to the summary; claim races are counted, not reported as failures. */
class WorkSet {
    readonly inFlight = new Set<Promise<void>>();
    readonly ranksStarted = new Set<string>();
    openInFlight = 0;
    #settled = new AbortController();

    constructor(
        private readonly ctx: CommandContext,
        private readonly summary: RunSummary,
    ) {}

    readonly track = (work: Promise<Outcome>, label: string, open: boolean): void => {
        if (open) {
            this.openInFlight++;
        }
        const done = work
            .then(
                (outcome) => {
                    record(this.ctx, this.summary, label, outcome);
                },
                (err: unknown) => {
                    this.#failed(err, label, open);
                },
            )
            .finally(() => {
                if (open) {
                    this.openInFlight--;
                }
                this.inFlight.delete(done);
                this.#settled.abort();
            });
        this.inFlight.add(done);
    };

    /** Starts a round: `settled` then aborts when a piece of work in flight ends. */
    rearm(): void {
        if (this.#settled.signal.aborted) {
            this.#settled = new AbortController();
        }
    }

    /** Aborted once work has ended since the last `rearm`. */
    get settled(): AbortSignal {
        return this.#settled.signal;
    }

    #failed(err: unknown, label: string, open: boolean): void {
        if (err instanceof ChaincodeError && CLAIM_MISSES.has(err.code)) {
            this.summary.lostRaces++;
            if (err.code !== 'ALREADY_CLAIMED') {
                this.ctx.out.note(`skipped ${label}: ${err.code} ${err.detail}`);
            }
            return;
        }
        this.summary.failed++;
        this.ctx.out.note(`${label}: ${err instanceof Error ? err.message : String(err)}`);
        if (!open) {
            this.ranksStarted.delete(label); // asked again next round; ALREADY_FILED makes a repeat harmless
        }
    }
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
        throw err;
    }
}

/**
 * Polls the jobs named with --job (to their end) and the jobs the follower knows (until they end
 * or have nothing for these executors now: a later event brings them back); returns how many are live.
 */
async function pollAll(ctx: CommandContext, client: LedgerworkClient, state: PollState, jobIds: readonly string[], follower: JobFollower | undefined): Promise<number> {
    let live = 0;
    const targets = new Map<string, number | undefined>([...(follower?.jobs() ?? []), ...jobIds.map((id): [string, undefined] => [id, undefined])]);
    for (const [jobId, generation] of targets) {
        try {
            const status = await poll(client, jobId, state);
            live += status === 'ended' ? 0 : 1;
            if (generation !== undefined && status !== 'live') {
                follower?.forget(jobId, generation);
            }
        } catch (err) {
            if (!(err instanceof TransportError)) {
                throw err;
            }
            live++;
            ctx.out.note(`${jobId}: ${err.message} (trying again)`);
        }
    }
    return live;
}

function describePosition(position: { block?: bigint; transactionId?: string }): string {
    return position.block === undefined ? 'the next block' : `block ${position.block}${position.transactionId === undefined ? '' : ` after ${position.transactionId.slice(0, 12)}…`}`;
}

/** `{ [key]: value }`, or nothing when the value is undefined (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
    return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
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

/**
 * One look at a job: starts what there is to do. `ended`: the job is over; `idle`: live, but
 * nothing for these executors now (no rank held, nothing published to claim, not eligible);
 * `live`: work started or in flight.
 */
async function poll(client: LedgerworkClient, jobId: string, state: PollState): Promise<'ended' | 'idle' | 'live'> {
    // An open job has no completion event or state: it is done when its progress says finished.
    const progress = await client.getJobProgress(jobId);
    if (!LIVE_STATES.includes(progress.state) || progress.finished) {
        return 'ended';
    }
    const job = state.jobs.get(jobId) ?? (await client.getJob(jobId));
    state.jobs.set(jobId, job);
    if (job.assignment === 'ranked') {
        return pollRanked(client, jobId, state);
    }
    if (state.free() <= 0) {
        return 'live';
    }
    const eligible = state.ids.filter((id) => job.shards.length === 0 || job.shards.includes(state.shards.get(id) ?? ''));
    if (eligible.length === 0) {
        return 'idle';
    }
    const open = shuffled((await client.listTasksByJob(jobId, 'published', 1000)).items);
    if (open.length === 0) {
        return 'idle';
    }
    for (const task of open.slice(0, state.free())) {
        const executorId = eligible[randomInt(eligible.length)] ?? '';
        const executor = state.executors.get(executorId);
        if (executor !== undefined) {
            state.track(executor.claimAndRun(task.id), `${task.id} (${executorId})`, true);
        }
    }
    return 'live';
}

/** Starts the ranks these executors hold that are not running yet; `idle` when they hold none. */
async function pollRanked(client: LedgerworkClient, jobId: string, state: PollState): Promise<'idle' | 'live'> {
    const tree = await client.getMergeTree(jobId);
    let held = false;
    for (const holder of tree.holders) {
        const executor = state.executors.get(holder.executorId);
        const label = `${jobId}/rank ${holder.rank}`;
        held ||= executor !== undefined;
        if (executor !== undefined && !state.ranksStarted.has(label)) {
            state.ranksStarted.add(label);
            state.track(executor.runRank(jobId, holder.rank), label, false);
        }
    }
    return held ? 'live' : 'idle';
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
