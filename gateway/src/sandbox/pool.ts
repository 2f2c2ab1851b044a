// SPDX-License-Identifier: Apache-2.0
/**
 * SandboxPool: runs task programs (SPEC §9) in a fixed pool of reusable child processes. Each child
 * is forked with an empty environment, stdin/stdout closed, V8 flags that cap wasm memory and the JS
 * heap, and keeps compiled modules by program hash. The parent enforces the wall-clock limit with
 * SIGKILL — the only stop that holds when a guest is stuck in a host call or a `memory.grow` loop
 * (worker `terminate()` took up to 52 s there) — and respawns the child. Every outcome is a value:
 * success, or a typed failure; the pool itself keeps working.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as TypeScript from 'typescript';
import { sha256 } from '@ledgerwork/core';
import { admit } from './admission';
import { validateLimits, validatePoolOptions } from './options';
import type { AdmittedModule, MemoryPolicy, Refusal } from './admission';
import type { ChildMessage, RunMessage } from './protocol';

/** Why a run failed. */
export type FailureKind = 'trap' | 'timeout' | 'queue-timeout' | 'memory' | 'output-limit' | 'exit' | 'rejected' | 'crash';

/** A run that exited with code 0. */
export interface RunSuccess {
    readonly ok: true;
    readonly stdout: Buffer;
    readonly stderr: Buffer;
    readonly exitCode: 0;
    /** Wall time from dispatch to a child until the reply, in ms. */
    readonly wallMs: number;
    /** Time spent waiting for a free child before that, in ms. */
    readonly queuedMs: number;
}

/** A typed task failure (SPEC §9), reported to the ledger by the executor. */
export interface RunFailure {
    readonly ok: false;
    readonly kind: FailureKind;
    readonly detail: string;
    /** Exit code for `exit` (non-zero), else undefined. */
    readonly exitCode?: number;
    /** What the guest wrote before failing (bounded by the caps). */
    readonly stdout: Buffer;
    readonly stderr: Buffer;
    /** Running time in a child (0 when it never reached one), in ms. */
    readonly wallMs: number;
    /** Time spent waiting for a free child, in ms (a `queue-timeout` spent all of it there). */
    readonly queuedMs: number;
}

/** The result of SandboxPool.run. */
export type RunResult = RunSuccess | RunFailure;

/** Per-run limits; every field has a pool-wide default. */
export interface RunLimits {
    /** Wall-clock limit in ms (from dispatch to a child). */
    readonly wallMs?: number;
    /** Cap on stdout bytes; exceeding it fails the run with `output-limit`. */
    readonly maxOutputBytes?: number;
    /** Cap on stderr bytes. */
    readonly maxStderrBytes?: number;
    /** Largest accepted stdin; larger input is `rejected` before running. */
    readonly maxInputBytes?: number;
    /** How long a run may wait for a free child (behind looping programs, say) before it fails with `queue-timeout`. */
    readonly maxQueueMs?: number;
}

/** One run. */
export interface RunRequest {
    /** Hex SHA-256 of `module`, as on the ledger; a mismatch is `rejected`. */
    readonly programHash: string;
    /** The bundle (or plain module) bytes. Its `ledgerwork.key` section is stripped before the child sees it. */
    readonly module: Uint8Array;
    /** `["task"]` or `["merge"]`. */
    readonly argv: readonly string[];
    readonly stdin: Uint8Array;
    /** Seed of `random_get`: the task id (or merge slot id). */
    readonly seed: string | Uint8Array;
    readonly limits?: RunLimits;
}

/** Pool configuration. */
export interface SandboxPoolOptions {
    /** Number of child processes; default `os.availableParallelism()`. */
    readonly size?: number;
    /** Memory cap for every program, in 64 KiB pages (default 256 = 16 MiB). Also passed to V8. */
    readonly maxMemoryPages?: number;
    /** SPEC §9 refuses memories without a maximum or above the cap (default); `clamp` rewrites the maximum. */
    readonly memoryPolicy?: MemoryPolicy;
    /** Largest module in bytes (default 8 MiB). */
    readonly maxModuleBytes?: number;
    /** JS heap of a child in MiB (default 128). */
    readonly childHeapMiB?: number;
    /** Extra V8 flags for children, e.g. `--no-liftoff`. */
    readonly childFlags?: readonly string[];
    /** Default limits for runs. */
    readonly limits?: RunLimits;
    /** Recycle a child after this many runs (default 1000). */
    readonly maxRunsPerChild?: number;
    /**
     * Run children under Node's permission model (default true): they may read only their own code —
     * no other files, no writes, no child processes, no worker threads.
     */
    readonly permissions?: boolean;
    /** Start children under `prlimit` when it is installed (default true): no core dumps, no file writes, few descriptors. */
    readonly osLimits?: boolean;
    /** Run children as this user and group (only when the executor runs as root). */
    readonly user?: { readonly uid: number; readonly gid: number };
}

const DEFAULT_LIMITS: Required<RunLimits> = {
    wallMs: 5000,
    maxQueueMs: 60_000,
    maxOutputBytes: 1 << 20,
    maxStderrBytes: 64 << 10,
    maxInputBytes: 64 << 20,
};
const ADMISSION_CACHE_SIZE = 64;
const CHILD_STDERR_KEEP = 4096;
const MAX_START_FAILURES = 5;
const HEX_HASH = /^[0-9a-f]{64}$/;
const PRLIMIT_PATHS = ['/usr/bin/prlimit', '/bin/prlimit'];
/**
 * OS limits of a child (soft:hard): no core dumps, no file may grow (it writes none), 64 descriptors.
 * Address space and CPU time are left to V8's caps and the parent's wall-clock kill: V8 reserves
 * large virtual regions for wasm memories, and a reused child's CPU time adds up over its runs.
 */
const OS_LIMITS = ['--core=0:0', '--fsize=0:0', '--nofile=64:64'];

interface Job {
    readonly request: RunRequest;
    readonly enqueued: number;
    queueTimer?: NodeJS.Timeout;
    readonly message: Omit<RunMessage, 'id' | 'bytes'>;
    readonly admitted: AdmittedModule;
    readonly limits: Required<RunLimits>;
    readonly resolve: (result: RunResult) => void;
}

interface Child {
    readonly proc: ChildProcess;
    readonly known: Set<string>;
    ready: boolean;
    runs: number;
    job?: { job: Job; id: number; timer: NodeJS.Timeout; started: number; queuedMs: number };
    stderr: string;
}

/** The child's source files (without extension), in this directory. */
const CHILD_SOURCES = ['child', 'wasi', 'webassembly', 'protocol'];

/**
 * Where the child entry lives: compiled JS next to this file (gateway/dist), or — when this module
 * itself runs from TypeScript (tests, scripts) — the child's sources transpiled once into a temporary
 * directory keyed by their hash, so a respawn costs a plain `node` start rather than loading the
 * TypeScript compiler in every child.
 */
function childEntry(): string {
    const js = join(__dirname, 'child.js');
    if (existsSync(js)) {
        return js;
    }
    const sources = CHILD_SOURCES.map((name) => ({ name, text: readFileSync(join(__dirname, `${name}.ts`), 'utf8') }));
    const key = createHash('sha256');
    sources.forEach((s) => key.update(s.text));
    const dir = join(tmpdir(), `ledgerwork-sandbox-${key.digest('hex').slice(0, 16)}`);
    const entry = join(dir, 'child.js');
    if (!existsSync(entry)) {
        // typescript is a devDependency of the repository; this branch only runs from sources.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const ts = require('typescript') as typeof TypeScript;
        const staging = mkdtempSync(join(tmpdir(), 'ledgerwork-sandbox-staging-'));
        for (const s of sources) {
            const { outputText } = ts.transpileModule(s.text, {
                compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
                fileName: `${s.name}.ts`,
            });
            writeFileSync(join(staging, `${s.name}.js`), outputText);
        }
        try {
            renameSync(staging, dir);
        } catch {
            rmSync(staging, { recursive: true, force: true }); // another process won the race
        }
    }
    try {
        // Readable (not writable) by children that run as another user.
        chmodSync(dir, 0o755);
        for (const s of sources) {
            chmodSync(join(dir, `${s.name}.js`), 0o644);
        }
    } catch {
        // not ours to change: children as another user then fail to start, which the pool reports
    }
    return entry;
}

/**
 * A fixed pool of sandbox child processes. Call `close()` when done: children are killed and pending
 * runs fail with `crash`.
 */
export class SandboxPool {
    private readonly children = new Set<Child>();
    /** Children killed on purpose that have not been reaped yet. */
    private readonly dying = new Set<Child>();
    private readonly queue: Job[] = [];
    private readonly admitted = new Map<string, AdmittedModule | Refusal>();
    private readonly size: number;
    private readonly maxMemoryPages: number;
    private readonly memoryPolicy: MemoryPolicy;
    private readonly maxModuleBytes: number;
    private readonly execArgv: string[];
    /** The program that starts a child: node itself, or prlimit in front of it. */
    private readonly execPath: string;
    private readonly user: { readonly uid: number; readonly gid: number } | undefined;
    private readonly entry: string;
    private readonly defaults: Required<RunLimits>;
    private readonly maxRunsPerChild: number;
    private nextId = 1;
    private closed = false;
    private startFailures = 0;
    /** Set when children keep failing to start: why. */
    private broken: string | undefined;

    /** Starts `size` children. */
    /** @throws {SandboxOptionError} for any option the sandbox does not accept */
    constructor(options: SandboxPoolOptions = {}) {
        validatePoolOptions(options);
        this.size = Math.max(1, options.size ?? availableParallelism());
        this.maxMemoryPages = options.maxMemoryPages ?? 256;
        this.memoryPolicy = options.memoryPolicy ?? 'refuse';
        this.maxModuleBytes = options.maxModuleBytes ?? 8 << 20;
        this.maxRunsPerChild = options.maxRunsPerChild ?? 1000;
        this.defaults = { ...DEFAULT_LIMITS, ...stripUndefined(options.limits ?? {}) };
        this.entry = childEntry();
        const nodeFlags = [
            `--wasm-max-mem-pages=${this.maxMemoryPages}`,
            `--max-old-space-size=${options.childHeapMiB ?? 128}`,
            ...(options.childFlags ?? []),
            ...(options.permissions === false ? [] : ['--experimental-permission', `--allow-fs-read=${dirname(this.entry)}`, '--disable-warning=ExperimentalWarning']),
        ];
        const prlimit = options.osLimits === false ? undefined : PRLIMIT_PATHS.find((candidate) => existsSync(candidate));
        this.execPath = prlimit ?? process.execPath;
        this.execArgv = prlimit === undefined ? nodeFlags : [...OS_LIMITS, process.execPath, ...nodeFlags];
        this.user = options.user;
        for (let i = 0; i < this.size; i++) {
            this.spawn();
        }
    }

    /** Number of live child processes (for tests: it must stay at `size`). */
    get liveChildren(): number {
        return this.children.size;
    }

    /** How a child is started: the program and its arguments (node flags, or prlimit's limits then node and its flags), entry last. */
    get childCommand(): { readonly execPath: string; readonly args: readonly string[] } {
        return { execPath: this.execPath, args: [...this.execArgv, this.entry] };
    }

    /** Process ids of the live children (for tests). */
    get childPids(): number[] {
        return [...this.children].map((c) => c.proc.pid ?? -1);
    }

    /**
     * Resolves once every child has reported ready.
     * @throws {Error} when children keep failing to start (the pool then answers every run with `crash`)
     */
    async ready(): Promise<void> {
        while (![...this.children].every((c) => c.ready) || this.children.size < this.size) {
            if (this.closed) {
                return;
            }
            if (this.broken !== undefined) {
                throw new Error(this.broken);
            }
            await new Promise((r) => setTimeout(r, 5));
        }
    }

    /** Runs one program. Never rejects: every outcome is a RunResult. */
    run(request: RunRequest): Promise<RunResult> {
        const early = (detail: string, kind: FailureKind = 'rejected'): Promise<RunResult> => Promise.resolve(failure(kind, detail, 0));
        try {
            validateLimits(request.limits);
        } catch (err) {
            return early(err instanceof Error ? err.message : String(err));
        }
        const limits: Required<RunLimits> = { ...this.defaults, ...stripUndefined(request.limits ?? {}) };
        if (this.closed || this.broken !== undefined) {
            return early(this.broken ?? 'the sandbox pool is closed', 'crash');
        }
        if (request.stdin.length > limits.maxInputBytes) {
            return early(`input of ${request.stdin.length} bytes exceeds the cap of ${limits.maxInputBytes}`);
        }
        let hash: string;
        try {
            hash = sha256(request.module).toString('hex');
        } catch (err) {
            return early(`module is not bytes: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (!HEX_HASH.test(request.programHash) || request.programHash !== hash) {
            return early(`program hash mismatch: expected ${request.programHash.slice(0, 64)}, module hashes to ${hash}`);
        }
        const admitted = this.admission(hash, request.module);
        if (!admitted.ok) {
            return early(admitted.detail);
        }
        return new Promise<RunResult>((resolvePromise) => {
            const job: Job = {
                request,
                enqueued: performance.now(),
                admitted,
                limits,
                resolve: resolvePromise,
                message: {
                    type: 'run',
                    hash,
                    argv: [...request.argv],
                    stdin: request.stdin,
                    seed: request.seed,
                    maxStdout: limits.maxOutputBytes,
                    maxStderr: limits.maxStderrBytes,
                    memoryPages: admitted.memoryMaxPages,
                },
            };
            job.queueTimer = setTimeout(() => {
                const at = this.queue.indexOf(job);
                if (at >= 0) {
                    this.queue.splice(at, 1);
                    job.resolve(failure('queue-timeout', `no free sandbox child within ${limits.maxQueueMs} ms (all busy with other runs); never started`, 0, performance.now() - job.enqueued));
                }
            }, limits.maxQueueMs);
            this.queue.push(job);
            this.pump();
        });
    }

    /** Kills every child; queued and running jobs fail with `crash`. Resolves when the children have exited. */
    async close(): Promise<void> {
        this.closed = true;
        for (const job of this.queue.splice(0)) {
            clearTimeout(job.queueTimer);
            job.resolve(failure('crash', 'the sandbox pool was closed', 0, performance.now() - job.enqueued));
        }
        const exits = [...this.children, ...this.dying].map(
            (c) =>
                new Promise<void>((done) => {
                    if (c.proc.exitCode !== null || c.proc.signalCode !== null) {
                        done();
                        return;
                    }
                    c.proc.once('exit', () => {
                        done();
                    });
                    c.proc.kill('SIGKILL');
                }),
        );
        await Promise.all(exits);
    }

    private admission(hash: string, bytes: Uint8Array): AdmittedModule | Refusal {
        const hit = this.admitted.get(hash);
        if (hit !== undefined) {
            return hit;
        }
        const result = admit(bytes, {
            maxModuleBytes: this.maxModuleBytes,
            maxMemoryPages: this.maxMemoryPages,
            memoryPolicy: this.memoryPolicy,
            maxTableElements: 100_000,
        });
        if (this.admitted.size >= ADMISSION_CACHE_SIZE) {
            const oldest = this.admitted.keys().next();
            if (oldest.done !== true) {
                this.admitted.delete(oldest.value);
            }
        }
        this.admitted.set(hash, result);
        return result;
    }

    private spawn(): void {
        if (this.closed) {
            return;
        }
        const proc = fork(this.entry, [], {
            execPath: this.execPath,
            execArgv: this.execArgv,
            env: {},
            ...(this.user === undefined ? {} : { uid: this.user.uid, gid: this.user.gid }),
            stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
            serialization: 'advanced',
        });
        const child: Child = { proc, known: new Set(), ready: false, runs: 0, stderr: '' };
        this.children.add(child);
        proc.stderr?.setEncoding('utf8');
        proc.stderr?.on('data', (chunk: string) => {
            child.stderr = (child.stderr + chunk).slice(-CHILD_STDERR_KEEP);
        });
        proc.on('message', (msg: ChildMessage) => {
            this.onMessage(child, msg);
        });
        proc.on('exit', (code, signal) => {
            this.onExit(child, code, signal);
        });
        proc.on('error', () => {
            // 'exit' follows (or the process never started); nothing else to do here.
        });
    }

    private onMessage(child: Child, msg: ChildMessage): void {
        if (msg.type === 'ready') {
            child.ready = true;
            this.startFailures = 0;
            this.pump();
            return;
        }
        const current = child.job;
        if (current === undefined || current.id !== msg.id) {
            return;
        }
        if (msg.type === 'need-module') {
            child.known.delete(current.job.message.hash);
            this.send(child, current.job, current.id);
            return;
        }
        clearTimeout(current.timer);
        delete child.job;
        child.runs++;
        const wallMs = performance.now() - current.started;
        const stdout = Buffer.from(msg.stdout);
        const stderr = Buffer.from(msg.stderr);
        const queuedMs = current.queuedMs;
        if (msg.outcome === 'exit' && msg.exitCode === 0) {
            current.job.resolve({ ok: true, stdout, stderr, exitCode: 0, wallMs, queuedMs });
        } else if (msg.outcome === 'exit') {
            current.job.resolve({ ok: false, kind: 'exit', detail: `exit code ${msg.exitCode}`, exitCode: msg.exitCode, stdout, stderr, wallMs, queuedMs });
        } else {
            current.job.resolve({ ok: false, kind: msg.outcome, detail: msg.detail, stdout, stderr, wallMs, queuedMs });
        }
        // A child whose guest ran out of memory may keep that memory reserved: start a fresh one.
        if (child.runs >= this.maxRunsPerChild || msg.outcome === 'memory') {
            this.retire(child);
        }
        this.pump();
    }

    private onExit(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
        this.dying.delete(child);
        if (!this.children.delete(child)) {
            return; // retired on purpose (deadline, recycling); its replacement is already starting
        }
        const current = child.job;
        if (current !== undefined) {
            clearTimeout(current.timer);
            delete child.job;
            const detail = `sandbox child exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})${child.stderr === '' ? '' : `: ${child.stderr.trim().slice(-500)}`}`;
            current.job.resolve(failure('crash', detail, performance.now() - current.started, current.queuedMs));
        }
        if (!child.ready) {
            this.startFailures++;
        }
        if (this.closed) {
            return;
        }
        if (this.startFailures >= MAX_START_FAILURES) {
            this.broken = `sandbox children fail to start: ${child.stderr.trim().slice(-500)}`;
            for (const job of this.queue.splice(0)) {
                clearTimeout(job.queueTimer);
                job.resolve(failure('crash', this.broken, 0, performance.now() - job.enqueued));
            }
            return;
        }
        this.spawn();
    }

    private retire(child: Child): void {
        this.children.delete(child);
        this.dying.add(child);
        child.proc.kill('SIGKILL');
        this.spawn();
    }

    private pump(): void {
        for (const child of this.children) {
            if (this.queue.length === 0) {
                return;
            }
            if (!child.ready || child.job !== undefined || !child.proc.connected) {
                continue;
            }
            const job = this.queue.shift();
            if (job === undefined) {
                return;
            }
            clearTimeout(job.queueTimer);
            const id = this.nextId++;
            const timer = setTimeout(() => {
                this.onDeadline(child, id);
            }, job.limits.wallMs);
            const started = performance.now();
            child.job = { job, id, timer, started, queuedMs: started - job.enqueued };
            this.send(child, job, id);
        }
    }

    private send(child: Child, job: Job, id: number): void {
        const hash = job.message.hash;
        const message: RunMessage = child.known.has(hash) ? { ...job.message, id } : { ...job.message, id, bytes: job.admitted.bytes };
        child.known.add(hash);
        child.proc.send(message);
    }

    private onDeadline(child: Child, id: number): void {
        const current = child.job;
        if (current?.id !== id) {
            return;
        }
        delete child.job;
        this.retire(child);
        current.job.resolve(failure('timeout', `wall-clock limit of ${current.job.limits.wallMs} ms exceeded after ${Math.round(current.queuedMs)} ms queued; child killed`, performance.now() - current.started, current.queuedMs));
    }
}

function failure(kind: FailureKind, detail: string, wallMs: number, queuedMs = 0): RunFailure {
    return { ok: false, kind, detail, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), wallMs, queuedMs };
}

function stripUndefined(limits: RunLimits): Partial<Required<RunLimits>> {
    return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}
