// SPDX-License-Identifier: Apache-2.0
/** `ledgerwork job publish|cancel|status|watch|result|list`. */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { treeShape } from '@ledgerwork/core';
import type { JobRecord } from '@ledgerwork/core';
import { GatewayCode } from '../../client/codes';
import { ChaincodeError } from '../../client/errors';
import { JobSweeper } from '../../client/sweep';
import type { JobProgress, LedgerworkClient } from '../../client/ledgerworkClient';
import { ID_PATTERN } from '@ledgerwork/core';
import { ContentServer, ContentServerError, DirectoryStore, JobSpecError, checkTaskCount, collectResults, inputsFromDirectory, inputsFromJsonLines, jobEscrow, parseRange, publishJob, splitRange, waitForTarget } from '../../publisher';
import type { JobPlanOptions, StoreRecovery, VerifyPolicy } from '../../publisher';
import { VerifyPolicyError, parseVerifyPolicy } from '../../publisher/verifyPolicy';
import { storeProgramFile } from './program';
import { DEFAULT_ADMISSION_LIMITS } from '../../sandbox/admission';
import { JobFailedError, UsageError, idArgument } from '../args';
import { allPages } from '../context';
import type { CommandContext } from '../context';
import { fields, table } from '../output';
import type { Output } from '../output';
import { printable } from './task';
import { describeReplicaSummary, replicatedPolicyOf, summarizeReplicas } from './replicas';

/** The code of a job that ended without its result. */
const JOB_ENDED_CODE = { cancelled: GatewayCode.JOB_CANCELLED, expired: GatewayCode.JOB_EXPIRED, failed: GatewayCode.JOB_FAILED } as const;

/** Dispatches the subcommands. */
export async function run(ctx: CommandContext): Promise<void> {
    const [sub, jobId, extra] = ctx.flags.positional;
    if (extra !== undefined) {
        throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    }
    const id = (): string => idArgument(jobId, ctx.flags, `job ${sub ?? ''}`);
    switch (sub) {
        case 'publish':
            return publish(ctx, jobId ?? ctx.flags.string('id') ?? `job-${ctx.io.now().toString(36)}`);
        case 'cancel': {
            const record = await ctx.client().cancelJob(id());
            ctx.out.result(record, () => `cancelled job ${record.id}; unfinished rewards refunded`);
            return;
        }
        case 'status':
            return status(ctx, id());
        case 'watch':
            return watch(ctx, id());
        case 'result':
            return result(ctx, id());
        case 'list':
            return list(ctx);
        default:
            throw new UsageError(sub === undefined ? 'job needs a subcommand' : `unknown subcommand job ${sub}`);
    }
}

/** A program file: a regular file no larger than executors accept (so /dev/zero or a huge file is not read). */
async function readProgram(file: string, flag: string): Promise<Buffer> {
    try {
        const info = await stat(file);
        if (!info.isFile()) {
            throw new Error('not a regular file');
        }
        const cap = DEFAULT_ADMISSION_LIMITS.maxModuleBytes;
        if (info.size > cap + 4096) {
            throw new JobSpecError(`${flag} ${file} is ${info.size} bytes; executors accept programs up to ${cap} bytes`);
        }
        return await readFile(file);
    } catch (err) {
        if (err instanceof JobSpecError) {
            throw err;
        }
        throw new UsageError(`${flag} ${file} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
}

/** The task inputs from exactly one of --range/--tasks, --inputs DIR, --jsonl FILE; a count is checked against the channel's limit before any input is made. */
async function taskInputs(ctx: CommandContext, ranked: boolean): Promise<Buffer[]> {
    const sources = ['range', 'inputs', 'jsonl'].filter((f) => ctx.flags.has(f));
    if (sources.length !== 1) {
        throw new UsageError('give the inputs with exactly one of --range lo:hi --tasks N, --inputs DIR, --jsonl FILE');
    }
    if (ctx.flags.has('range')) {
        const { lo, hi } = parseRange(ctx.flags.required('range'));
        const tasks = ctx.flags.optionalInt('tasks', 1);
        if (tasks === undefined) {
            throw new UsageError('--range needs --tasks N');
        }
        if (hi <= lo) {
            throw new UsageError(`--range ${lo}:${hi} is empty: lo:hi needs lo < hi`);
        }
        if (BigInt(tasks) > hi - lo) {
            throw new UsageError(`--tasks ${tasks} is more than the ${hi - lo} numbers of --range ${lo}:${hi}`);
        }
        await checkTaskCount(ctx.client(), tasks, ranked);
        return splitRange(lo, hi, tasks).map((text) => Buffer.from(text));
    }
    if (ctx.flags.has('tasks')) {
        throw new UsageError('--tasks goes with --range; with --inputs or --jsonl there is one task per file or line');
    }
    return ctx.flags.has('inputs') ? inputsFromDirectory(ctx.flags.required('inputs')) : inputsFromJsonLines(ctx.flags.required('jsonl'));
}

/** The optional fields of a plan from the flags. */
function optionalPlanFields(ctx: CommandContext): Partial<JobPlanOptions> {
    const { flags } = ctx;
    const shards = flags.all('shards');
    const skills = flags.all('skills');
    const minReputation = flags.optionalInt('min-reputation');
    const leaseMs = flags.duration('lease', undefined);
    const maxAttempts = flags.optionalInt('max-attempts', 1);
    const mergeReward = flags.amount('merge-reward');
    const description = flags.string('description');
    const requirements = { ...(skills.length === 0 ? {} : { skills }), ...(minReputation === undefined ? {} : { minReputation }) };
    return {
        ...(mergeReward === undefined ? {} : { mergeReward }),
        ...(shards.length === 0 ? {} : { shards }),
        ...(leaseMs === undefined ? {} : { leaseMs }),
        ...(maxAttempts === undefined ? {} : { maxAttempts }),
        ...(description === undefined ? {} : { description }),
        ...(Object.keys(requirements).length === 0 ? {} : { requirements }),
    };
}

/** --program and --merge, read; a job with a merge program is ranked. */
async function programs(ctx: CommandContext): Promise<{ program: Buffer; mergeProgram?: Buffer; ranked: boolean }> {
    const program = await readProgram(ctx.flags.required('program'), '--program');
    const mergeFile = ctx.flags.string('merge');
    if (mergeFile === undefined) {
        if (ctx.flags.bool('ranked')) {
            throw new UsageError('a ranked job needs a --merge program');
        }
        return { program, ranked: false };
    }
    return { program, mergeProgram: await readProgram(mergeFile, '--merge'), ranked: true };
}

/**
 * Checks everything local first (id, flags, files, store), then the ledger (limits, shards, an
 * existing job to resume), then publishes batch by batch; bundles are kept only for batches the
 * ledger accepted.
 */
async function publish(ctx: CommandContext, jobId: string): Promise<void> {
    const { flags } = ctx;
    if (!ID_PATTERN.test(jobId)) {
        throw new UsageError(`the job id ${JSON.stringify(jobId.slice(0, 80))}${jobId.length > 80 ? '…' : ''} is not 1–64 letters, digits, '.', '_' or '-' starting with a letter or digit`);
    }
    const reward = flags.amount('reward');
    if (reward === undefined) {
        throw new UsageError('--reward N is required (credits per task)');
    }
    const { program, mergeProgram: givenMerge, ranked } = await programs(ctx);
    const onLedger = ledgerVerification(ctx, givenMerge !== undefined);
    const mergeProgram = onLedger.reexecute ? undefined : givenMerge;
    const optional = optionalPlanFields(ctx);
    const verify = verifyOf(ctx);
    const deadline = ctx.io.now() + flags.duration('deadline', 2 * 3_600_000);
    const mode = flags.oneOf('mode', ['separate', 'combined'] as const, 'separate');
    const keyScope = flags.oneOf('key-scope', ['task', 'job'] as const, 'task');
    const batchSize = flags.int('batch', 256, 1);
    const store = flags.bool('serve') ? undefined : new DirectoryStore(path.resolve(flags.string('store') ?? '.ledgerwork/store'));
    await store?.ready();
    const inputs = await taskInputs(ctx, ranked);
    const client = ctx.client();
    const stored = await onLedger.store(client);
    const server = store === undefined ? await startContentServer(ctx) : undefined;
    const bar = ctx.out.progress(`publishing ${jobId}`);
    try {
        const { record, resumedFrom, recovered } = await publishJob(
            client,
            {
                jobId,
                program,
                inputs,
                reward,
                store: server ?? (store as DirectoryStore),
                deadline,
                mode,
                ...verify,
                keyScope,
                assignment: ranked ? 'ranked' : 'open',
                ...(mergeProgram === undefined ? {} : { mergeProgram }),
                ...stored,
                ...optional,
            },
            {
                batchSize,
                onBatch: (published, total) => {
                    if (total > batchSize) {
                        bar.update(published, total, 'tasks');
                    }
                },
            },
        );
        bar.finish();
        notePublished(ctx, record, resumedFrom, recovered);
        ctx.out.result(record, () =>
            `published job ${record.id}: ${record.taskCount} tasks, ${record.assignment}${record.shards.length === 0 ? '' : ` over ${record.shards.join(',')}`}, escrow ${jobEscrow(record)}, deadline ${new Date(record.deadline).toISOString()}`,
        );
        if (server !== undefined) {
            await serveUntilDone(ctx, client, jobId, server);
        }
    } finally {
        bar.finish();
        await server?.close();
    }
}

/**
 * `--validator FILE --fuel N` and `--merge-verify reexecute [--merge-fuel N]`: checked now, the
 * programs stored on the ledger (once per hash) by `store` when the job is about to be published.
 */
function ledgerVerification(ctx: CommandContext, hasMerge: boolean): { reexecute: boolean; store: (client: LedgerworkClient) => Promise<Pick<JobPlanOptions, 'validator' | 'ledgerMerge'>> } {
    const { flags } = ctx;
    const reexecute = flags.oneOf('merge-verify', ['signature', 'reexecute'] as const, 'signature') === 'reexecute';
    if (reexecute && !hasMerge) {
        throw new UsageError('--merge-verify reexecute needs a --merge program (one exporting `merge`, stored on the ledger)');
    }
    const mergeFuel = flags.optionalInt('merge-fuel', 1);
    if (!reexecute && mergeFuel !== undefined) {
        throw new UsageError('--merge-fuel applies with --merge-verify reexecute');
    }
    const validatorFile = flags.string('validator');
    const fuel = flags.optionalInt('fuel', 1);
    if ((validatorFile === undefined) !== (fuel === undefined)) {
        throw new UsageError('--validator FILE and --fuel N go together');
    }
    const mergeFile = reexecute ? flags.required('merge') : undefined;
    return {
        reexecute,
        store: async (client) => {
            const validator = validatorFile === undefined || fuel === undefined ? undefined : { program: (await storeProgramFile(client, validatorFile)).uri, fuel };
            const merge = mergeFile === undefined ? undefined : await storeProgramFile(client, mergeFile);
            return {
                ...(validator === undefined ? {} : { validator }),
                ...(merge === undefined ? {} : { ledgerMerge: { uri: merge.uri, sha256: merge.sha256, ...(mergeFuel === undefined ? {} : { fuel: mergeFuel }) } }),
            };
        },
    };
}

/** `--verify signature|quorum:K|credibility:T` with `--max-replicas N` → the job's verify field (absent: signature). */
function verifyOf(ctx: CommandContext): { verify?: VerifyPolicy } {
    const text = ctx.flags.string('verify');
    const maxReplicas = ctx.flags.optionalInt('max-replicas', 1);
    if (text === undefined) {
        if (maxReplicas !== undefined) {
            throw new UsageError('--max-replicas needs --verify quorum:K or --verify credibility:T');
        }
        return {};
    }
    try {
        return { verify: parseVerifyPolicy(text, maxReplicas) };
    } catch (err) {
        if (err instanceof VerifyPolicyError) {
            throw new UsageError(`--verify: ${err.message}`);
        }
        throw err;
    }
}

async function serveUntilDone(ctx: CommandContext, client: LedgerworkClient, jobId: string, server: ContentServer): Promise<void> {
    ctx.out.note(`serving bundles at ${server.url} until the job ends (Ctrl-C stops serving)`);
    const untrap = ctx.io.trapSignals();
    try {
        await follow(client, jobId, ctx.out, ctx.flags.duration('poll', 1000), ctx.io);
    } finally {
        untrap();
    }
}

function progressLines(p: JobProgress): [string, string][] {
    const counts = Object.entries(p.tasks).filter(([, n]) => n > 0).map(([state, n]) => `${n} ${state}`).join(', ');
    return [
        ['job', p.jobId],
        ['state', p.state + (p.finished ? ' (finished)' : '')],
        ['tasks', `${p.tasks.completed}/${p.taskCount} completed${p.published < p.taskCount ? `, ${p.published} published` : ''}${counts === '' ? '' : ` (${counts})`}`],
        ...(p.merge === undefined ? [] : [['merge', `${p.merge.filed}/${p.merge.numbers} numbers filed, level ${p.merge.levelReached} of ${p.merge.height}`] as [string, string]]),
    ];
}

async function status(ctx: CommandContext, jobId: string): Promise<void> {
    const client = ctx.client();
    const progress = await client.getJobProgress(jobId);
    const job = await client.getJob(jobId);
    const policy = replicatedPolicyOf(job);
    if (policy === undefined) {
        ctx.out.result(progress, () => fields(progressLines(progress)));
        return;
    }
    const replicas = await summarizeReplicas(client, job, policy);
    ctx.out.result({ ...progress, replicas }, () =>
        fields([...progressLines(progress), ['verify', policy], ['replicas', describeReplicaSummary(replicas)]]),
    );
}

/** How often a watcher settles what holds up its job (expired claims, deadline, overdue ranks). */
const SWEEP_EVERY_MS = 2_000;

/**
 * Polls the progress with a bar until the job ends, sweeping what holds it up; throws
 * JobFailedError when it ends badly. A ranked job is done when its target (h, 1) is filed (the
 * chaincode then marks it completed), an open job when every task is completed.
 */
async function follow(client: LedgerworkClient, jobId: string, out: Output, pollMs: number, io: CommandContext['io']): Promise<JobProgress> {
    const bar = out.progress(jobId);
    const sweeper = new JobSweeper(client, jobId, Math.max(SWEEP_EVERY_MS, pollMs), io.now());
    try {
        for (;;) {
            const p = await client.getJobProgress(jobId);
            if (p.merge === undefined) {
                bar.update(p.tasks.completed, p.taskCount, p.tasks.failed > 0 ? `(${p.tasks.failed} failed)` : '');
            } else {
                bar.update(p.merge.filed, p.merge.numbers, `numbers, merge level ${p.merge.levelReached}/${p.merge.height}`);
            }
            const endedCode = JOB_ENDED_CODE[p.state as keyof typeof JOB_ENDED_CODE] as GatewayCode | undefined;
            if (endedCode !== undefined) {
                throw new JobFailedError(`job ${jobId} is ${p.state}`, endedCode);
            }
            if (p.state === 'completed' || (p.merge === undefined && p.finished)) {
                if (p.merge === undefined && p.tasks.failed > 0) {
                    throw new JobFailedError(`job ${jobId} finished with ${p.tasks.failed} failed tasks`, GatewayCode.TASKS_FAILED);
                }
                return p;
            }
            if (io.signal.aborted) {
                throw new JobFailedError(`stopped watching job ${jobId} (it goes on)`, GatewayCode.INTERRUPTED);
            }
            sweeper.observe(JSON.stringify([p.tasks, p.merge?.filed]), io.now());
            const swept = await sweeper.maybeSweep(io.now());
            if (swept !== undefined && swept.leasesExpired + swept.jobsExpired.length + swept.ranksReassigned.length > 0) {
                continue;
            }
            await sleep(pollMs, undefined, { signal: io.signal }).catch(() => undefined);
        }
    } finally {
        bar.finish();
    }
}

async function watch(ctx: CommandContext, jobId: string): Promise<void> {
    const untrap = ctx.io.trapSignals();
    try {
        const p = await follow(ctx.client(), jobId, ctx.out, ctx.flags.duration('poll', 1000), ctx.io);
        ctx.out.result(p, () => fields(progressLines(p)));
    } finally {
        untrap();
    }
}

async function result(ctx: CommandContext, jobId: string): Promise<void> {
    const client = ctx.client();
    const job = await client.getJob(jobId);
    const outFile = ctx.flags.string('out');
    if (job.assignment === 'ranked') {
        const bytes = await rankedResult(ctx, client, job);
        if (outFile !== undefined) {
            await writeOut(outFile, bytes);
        }
        ctx.out.result({ jobId, result: bytes.toString('base64'), ...(outFile === undefined ? {} : { out: outFile }) }, () =>
            outFile === undefined ? printable(bytes) : `wrote ${bytes.length} bytes to ${outFile}`,
        );
        return;
    }
    const results = [...(await collectResults(client, jobId))].map(([taskId, bytes]) => ({ taskId, result: bytes.toString('base64'), bytes }));
    if (outFile !== undefined) {
        await writeOut(outFile, results.map((r) => `${JSON.stringify({ taskId: r.taskId, result: r.result })}\n`).join(''));
    }
    ctx.out.result({ jobId, taskCount: job.taskCount, results: results.map(({ taskId, result: r }) => ({ taskId, result: r })) }, () =>
        outFile === undefined
            ? [table(['TASK', 'RESULT'], results.map((r) => [r.taskId, printable(r.bytes).replace(/\n/g, '\\n')])), `${results.length} of ${job.taskCount} tasks have a result`].join('\n')
            : `wrote ${results.length} results of ${job.taskCount} tasks to ${outFile} (JSON lines: taskId, base64 result)`,
    );
}

/** Writes --out FILE; a UsageError naming the file when it cannot be written. */
async function writeOut(file: string, content: string | Uint8Array): Promise<void> {
    try {
        await writeFile(file, content);
    } catch (err) {
        throw new UsageError(`--out ${file} cannot be written: ${err instanceof Error ? err.message : String(err)}`);
    }
}

async function rankedResult(ctx: CommandContext, client: LedgerworkClient, job: JobRecord): Promise<Buffer> {
    if (ctx.flags.bool('wait')) {
        const untrap = ctx.io.trapSignals();
        try {
            return await waitForTarget(client, job.id, job.taskCount, { signal: ctx.io.signal, pollMs: ctx.flags.duration('poll', 1000) });
        } catch (err) {
            if (ctx.io.signal.aborted) {
                throw new JobFailedError(`stopped waiting for job ${job.id} (it goes on)`, GatewayCode.INTERRUPTED);
            }
            throw err;
        } finally {
            untrap();
        }
    }
    const { height } = treeShape(job.taskCount);
    try {
        const { result: bytes } = await client.getFiling(job.id, height, 1);
        if (bytes === null) {
            throw new JobFailedError(`job ${job.id} filed ZERO at its target`, GatewayCode.NO_RESULT);
        }
        return Buffer.from(bytes, 'base64');
    } catch (err) {
        if (err instanceof ChaincodeError && err.code === 'NOT_FOUND') {
            throw new JobFailedError(`job ${job.id} has no result yet (it is ${job.state}); --wait waits for it`, GatewayCode.NOT_FINISHED);
        }
        throw err;
    }
}

async function list(ctx: CommandContext): Promise<void> {
    const client = ctx.client();
    const publisher = ctx.flags.string('publisher') ?? (await client.whoAmI()).account;
    const jobs = await allPages((bookmark) => client.listJobsByPublisher(publisher, 1000, bookmark));
    // ESCROW (and `escrow` in JSON) is what the job locked: task rewards plus, for a ranked job, its merge rewards.
    ctx.out.result({ publisher, jobs: jobs.map((j) => ({ ...j, escrow: jobEscrow(j).toString() })) }, () =>
        table(
            ['JOB', 'STATE', 'ASSIGNMENT', 'TASKS', 'ESCROW', 'DEADLINE'],
            jobs.map((j) => [j.id, j.state, j.assignment, j.publishedCount < j.taskCount ? `${j.publishedCount}/${j.taskCount}` : String(j.taskCount), String(jobEscrow(j)), new Date(j.deadline).toISOString()]),
        ),
    );
}

/** Notes on what a publish found: content an interrupted publish left behind, tasks already on the ledger. */
function notePublished(ctx: CommandContext, record: JobRecord, resumedFrom: number, recovered: StoreRecovery): void {
    if (recovered.removed > 0) {
        ctx.out.note(`removed ${recovered.removed} file${recovered.removed === 1 ? '' : 's'} an interrupted publish left in the store (a batch the ledger never took)`);
    }
    if (resumedFrom > 0) {
        ctx.out.note(`resumed job ${record.id}: ${resumedFrom} of ${record.taskCount} tasks were already on the ledger`);
    }
}

/** `--serve` with `--serve-host`, `--serve-port`, `--serve-url` and `--serve-cert`/`--serve-key` (HTTPS) for executors on other hosts. */
async function startContentServer(ctx: CommandContext): Promise<ContentServer> {
    const flags = ctx.flags;
    const certFile = flags.string('serve-cert');
    const keyFile = flags.string('serve-key');
    if ((certFile === undefined) !== (keyFile === undefined)) {
        throw new UsageError('--serve-cert and --serve-key go together');
    }
    const readPem = async (file: string, flag: string): Promise<Buffer> => {
        try {
            return await readFile(file);
        } catch (err) {
            throw new UsageError(`--${flag} ${file}: ${err instanceof Error ? err.message : String(err)}`);
        }
    };
    const host = flags.string('serve-host');
    const port = flags.optionalInt('serve-port', 0);
    const advertiseUrl = flags.string('serve-url');
    try {
        return await ContentServer.start({
            ...(host === undefined ? {} : { host }),
            ...(port === undefined ? {} : { port }),
            ...(advertiseUrl === undefined ? {} : { advertiseUrl }),
            ...(certFile === undefined || keyFile === undefined ? {} : { tls: { cert: await readPem(certFile, 'serve-cert'), key: await readPem(keyFile, 'serve-key') } }),
        });
    } catch (err) {
        if (err instanceof ContentServerError || (err instanceof Error && 'code' in err && (err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES'))) {
            throw new UsageError(`the content server cannot start: ${err.message}`);
        }
        throw err;
    }
}
