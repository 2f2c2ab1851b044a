// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { encodeEcdsaDer, parseEcdsaDer, P256_ORDER } from '../../chaincode/src/core/der';
import type { ErrorCode } from '../../chaincode/src/core/errors';
import { kindOf, leftChild, numbersHeldBy, rightChild, treeShape } from '../../chaincode/src/core/mergeTree';
import type { MergeNumber, TreeShape } from '../../chaincode/src/core/mergeTree';
import type { ExecutorRecord, FilingRecord, JobRecord, RankRecord, ReplicaRecord, TaskRecord } from '../../chaincode/src/core/model';
import { commitmentOf } from '../../chaincode/src/core/replication';
import type { ReplicatedPolicy } from '../../chaincode/src/core/replication';
import { defaultParameters } from '../../chaincode/src/core/model';
import { splitAcrossShards } from '../../chaincode/src/core/nodeSelection';
import { mergeInputHash, mergeSlotId, sha256 } from '../../chaincode/src/core/signature';
import { BINDING, HOUR, PROGRAM, newTaskKey, sign } from './harness';
import type { Actor, Chain, Json, TaskKey } from './harness';
import type { Snapshot } from './modelState';

/**
 * The abstract actions of the model-based test, their fast-check arbitraries, and the planner that
 * turns one action into concrete transactions against the current committed state. Actions hold
 * small integers ("picks") rather than ids, resolved against the state when the step runs, so any
 * shrunk or reordered sequence still makes sense. Where the outcome follows from the committed state
 * by a rule simple enough to restate here (claimant and lease checks, eligibility, signatures,
 * funds, merge-tree prerequisites), the plan carries the expected outcome as an oracle.
 */

export type Mode = 'separate' | 'combined';
export const MSPS = ['Org1MSP', 'Org2MSP', 'Org3MSP'] as const;
export const LEASE_MS = 10 * 60 * 1000;
const MINUTE = 60 * 1000;

/** Task keys shared by every run (generating P-256 keys per task would dominate the run time). */
const KEY_POOL: readonly TaskKey[] = Array.from({ length: 6 }, () => newTaskKey());

function keyAt(index: number): TaskKey {
    return KEY_POOL[index % KEY_POOL.length]!;
}

// ---------------------------------------------------------------------------------------------
// The cast and the per-run world

/** The identities of a run: ≥ 2 publishers in different orgs, 3 executor owners in 3 orgs, admins, an outsider. */
export interface Cast {
    readonly admin: Actor;
    /** An admin by the `ledgerwork.admin=true` attribute rather than the admin OU. */
    readonly attrAdmin: Actor;
    readonly publishers: readonly Actor[];
    readonly owners: readonly Actor[];
    /** Never registers an executor and is never funded. */
    readonly outsider: Actor;
    readonly everyone: readonly Actor[];
}

export function castOf(chain: Chain): Cast {
    const admin = chain.admin();
    const attrAdmin = chain.actor({ mspId: 'Org2MSP', name: 'operator', attrs: { 'ledgerwork.admin': 'true' } });
    const publishers = [chain.actor({ mspId: 'Org1MSP', name: 'publisher1' }), chain.actor({ mspId: 'Org2MSP', name: 'publisher2' })];
    const owners = MSPS.map((mspId, i) => chain.actor({ mspId, name: `owner${i + 1}` }));
    const outsider = chain.actor({ mspId: 'Org3MSP', name: 'outsider' });
    return { admin, attrAdmin, publishers, owners, outsider, everyone: [admin, attrAdmin, ...publishers, ...owners, outsider] };
}

export interface TaskPlan {
    readonly id: string;
    readonly key: TaskKey;
    readonly input: Buffer;
    readonly reward: string;
}

/** What the test keeps about a job it published: its keys and inputs (the ledger has only public keys). */
export interface JobPlan {
    readonly id: string;
    readonly publisher: Actor;
    readonly mode: Mode;
    readonly ranked: boolean;
    readonly taskCount: number;
    readonly tasks: readonly TaskPlan[];
    readonly mergeKey: TaskKey;
}

/** A run's chain, its cast, the jobs published so far, and the state decoded after the last step. */
export class World {
    readonly jobs = new Map<string, JobPlan>();
    readonly taskPlans = new Map<string, TaskPlan>();
    /** What each replica committed to, by `task:executor`: its result and salt, kept for its reveal. */
    readonly sealed = new Map<string, { readonly result: Buffer; readonly salt: Buffer }>();
    readonly byAccount: ReadonlyMap<string, Actor>;
    #nextJob = 1;

    constructor(
        readonly chain: Chain,
        readonly cast: Cast,
        public snapshot: Snapshot,
    ) {
        this.byAccount = new Map(cast.everyone.map((actor) => [actor.account, actor]));
    }

    /** The timestamp the next transaction gets. */
    get now(): number {
        return this.chain.peer.clock;
    }

    newJobId(): string {
        return `j${this.#nextJob++}`;
    }

    adopt(job: JobPlan): void {
        this.jobs.set(job.id, job);
        for (const task of job.tasks) {
            this.taskPlans.set(task.id, task);
        }
    }

    executorIds(): string[] {
        return [...this.snapshot.executors.keys()].sort();
    }

    ownerOf(executorId: string | undefined): Actor | undefined {
        const executor = executorId === undefined ? undefined : this.snapshot.executors.get(executorId);
        return executor === undefined ? undefined : this.byAccount.get(executor.owner);
    }

    /** Someone other than `actor`, for calls by the wrong identity. */
    other(actor: Actor | undefined, pick: number): Actor {
        const others = [...this.cast.owners, ...this.cast.publishers, this.cast.outsider].filter((a) => a.account !== actor?.account);
        return choose(others, pick) ?? this.cast.outsider;
    }
}

function choose<T>(list: readonly T[], pick: number): T | undefined {
    return list.length === 0 ? undefined : list[pick % list.length];
}

// ---------------------------------------------------------------------------------------------
// Plans and expectations

/** The expected endorsement: a failure with this code, or a success (with the reply's outcome and code). */
export type Expectation = { readonly fails: ErrorCode } | { readonly succeeds: true; readonly outcome?: string; readonly code?: ErrorCode };

/** One concrete transaction. */
export interface TxPlan {
    readonly actor: Actor;
    readonly fn: string;
    readonly args: readonly string[];
    /** Absent when the outcome is not predicted. */
    readonly expect?: Expectation;
    /** Runs when the transaction commits as VALID. */
    readonly onValid?: () => void;
}

/** One step: transactions endorsed on the same committed state and committed together in one block, or a clock move. */
export type Step = { readonly kind: 'txs'; readonly plans: readonly TxPlan[]; readonly claimRace: boolean } | { readonly kind: 'advance'; readonly ms: number };

const OK: Expectation = { succeeds: true };

function outcome(code: ErrorCode | undefined, success: Expectation = OK): Expectation {
    return code === undefined ? success : { fails: code };
}

/** The first failing check, evaluated lazily in the chaincode's order. */
function firstOf(checks: readonly (() => ErrorCode | undefined)[]): ErrorCode | undefined {
    for (const check of checks) {
        const code = check();
        if (code !== undefined) {
            return code;
        }
    }
    return undefined;
}

function when(condition: boolean, code: ErrorCode): ErrorCode | undefined {
    return condition ? code : undefined;
}

function tx(actor: Actor, fn: string, args: readonly string[], expect?: Expectation, onValid?: () => void): TxPlan {
    return { actor, fn, args, ...(expect === undefined ? {} : { expect }), ...(onValid === undefined ? {} : { onValid }) };
}

// ---------------------------------------------------------------------------------------------
// Actions

type Who = 'claimant' | 'other-executor' | 'other-identity';
type SubmitVariant = 'valid' | 'forged-input' | 'forged-result' | 'replay' | 'high-s' | 'malformed' | 'wrong-mode' | 'bad-json';
type FileVariant = 'valid' | 'carry' | 'forged' | 'wrong-holder' | 'again' | 'bad-number';
type PublishVariant = 'ok' | 'insufficient' | 'dup-job' | 'dup-task' | 'bad-key' | 'past-deadline' | 'garbage';

export type Action =
    | { readonly t: 'mint'; readonly by: number; readonly to: number; readonly amount: number; readonly variant: 'ok' | 'zero' | 'negative' | 'bad-account' }
    | { readonly t: 'register'; readonly owner: number; readonly slot: number; readonly variant: 'ok' | 'steal' | 'bad-id' | 'bad-spec'; readonly skills: number; readonly passive: boolean; readonly capacity: number }
    | { readonly t: 'update'; readonly exec: number; readonly byOwner: boolean; readonly patch: number; readonly skills: number; readonly passive: boolean; readonly capacity: number; readonly bad: boolean }
    | { readonly t: 'retire'; readonly exec: number; readonly byOwner: boolean }
    | { readonly t: 'suspend' | 'reinstate'; readonly exec: number; readonly by: number; readonly emptyReason: boolean }
    | {
          readonly t: 'publish';
          readonly by: number;
          readonly ranked: boolean;
          readonly mode: Mode;
          readonly size: number;
          readonly batch: number;
          readonly reward: number;
          readonly jobKey: boolean;
          readonly maxAttempts: number;
          readonly hours: number;
          readonly shards: number;
          readonly skills: boolean;
          readonly variant: PublishVariant;
          /** 0: signature, 1: quorum 2 of 3, 2: credibility 0.9 of 3 (open and ranked jobs). */
          readonly verify: number;
      }
    | { readonly t: 'commit'; readonly task: number; readonly pick: number; readonly variant: 'honest' | 'forged' | 'wrong-owner' | 'garbage' }
    | { readonly t: 'reveal'; readonly task: number; readonly pick: number; readonly variant: 'as-committed' | 'other-salt' | 'unsealed' }
    /** Moves one live replicated task (of a ranked job when `ranked` and there is one) a step on: commits a claimed replica, else claims an open slot, else reveals. */
    | { readonly t: 'replicate'; readonly task: number; readonly pick: number; readonly ranked: boolean; readonly forged: boolean }
    | { readonly t: 'addTasks'; readonly job: number; readonly byPublisher: boolean; readonly count: number; readonly variant: 'ok' | 'too-many' | 'dup-task' }
    | { readonly t: 'claim'; readonly task: number; readonly anyTask: boolean; readonly exec: number; readonly smart: boolean; readonly byOwner: boolean }
    | { readonly t: 'claimRace'; readonly task: number; readonly a: number; readonly b: number }
    | { readonly t: 'release'; readonly task: number; readonly anyTask: boolean; readonly who: Who; readonly pick: number }
    | { readonly t: 'submit'; readonly task: number; readonly anyTask: boolean; readonly who: Who; readonly pick: number; readonly variant: SubmitVariant }
    | { readonly t: 'report'; readonly task: number; readonly anyTask: boolean; readonly who: Who; readonly pick: number; readonly kind: number }
    | { readonly t: 'cancel'; readonly job: number; readonly byPublisher: boolean }
    | { readonly t: 'sweep'; readonly by: number; readonly limit: '1' | '3' | '100' | '0' }
    | { readonly t: 'file'; readonly job: number; readonly anyJob: boolean; readonly rank: number; readonly pick: number; readonly variant: FileVariant }
    | { readonly t: 'reassign'; readonly job: number; readonly anyJob: boolean; readonly rank: number; readonly by: number }
    | { readonly t: 'compact'; readonly by: number; readonly of: number; readonly reputation: boolean }
    | { readonly t: 'advance'; readonly ms: number }
    | { readonly t: 'race'; readonly a: Action; readonly b: Action };

function weighted<T>(entries: readonly (readonly [T, number])[]): fc.Arbitrary<T> {
    return fc.oneof(...entries.map(([value, weight]) => ({ arbitrary: fc.constant(value), weight })));
}

const pick = fc.nat({ max: 255 });
const who = weighted<Who>([['claimant', 6], ['other-executor', 1], ['other-identity', 1]]);

const arbitraries = {
    mint: fc.record({ t: fc.constant('mint' as const), by: weighted([[0, 3], [1, 2], [2, 1], [3, 1]]), to: pick, amount: fc.integer({ min: 1, max: 300 }), variant: weighted([['ok', 8], ['zero', 1], ['negative', 1], ['bad-account', 1]] as const) }),
    register: fc.record({ t: fc.constant('register' as const), owner: pick, slot: fc.nat({ max: 3 }), variant: weighted([['ok', 8], ['steal', 1], ['bad-id', 1], ['bad-spec', 1]] as const), skills: fc.nat({ max: 3 }), passive: weighted([[false, 6], [true, 1]]), capacity: fc.integer({ min: 1, max: 3 }) }),
    update: fc.record({ t: fc.constant('update' as const), exec: pick, byOwner: weighted([[true, 5], [false, 1]]), patch: fc.integer({ min: 1, max: 7 }), skills: fc.nat({ max: 3 }), passive: weighted([[false, 3], [true, 1]]), capacity: fc.integer({ min: 1, max: 3 }), bad: weighted([[false, 8], [true, 1]]) }),
    retire: fc.record({ t: fc.constant('retire' as const), exec: pick, byOwner: weighted([[true, 4], [false, 1]]) }),
    suspend: fc.record({ t: fc.constant('suspend' as const), exec: pick, by: weighted([[0, 3], [1, 2], [2, 1]]), emptyReason: weighted([[false, 8], [true, 1]]) }),
    reinstate: fc.record({ t: fc.constant('reinstate' as const), exec: pick, by: weighted([[0, 3], [1, 2], [2, 1]]), emptyReason: weighted([[false, 8], [true, 1]]) }),
    publish: fc.record({
        t: fc.constant('publish' as const),
        by: weighted([[0, 4], [1, 4], [2, 1]]),
        ranked: weighted([[false, 3], [true, 1]]),
        mode: fc.constantFrom<Mode>('separate', 'combined'),
        size: fc.nat({ max: 3 }),
        batch: fc.nat({ max: 4 }),
        reward: fc.integer({ min: 1, max: 20 }),
        jobKey: fc.boolean(),
        maxAttempts: fc.integer({ min: 1, max: 3 }),
        hours: fc.integer({ min: 1, max: 4 }),
        shards: fc.nat({ max: 7 }),
        skills: weighted([[false, 3], [true, 1]]),
        variant: weighted<PublishVariant>([['ok', 12], ['insufficient', 1], ['dup-job', 1], ['dup-task', 1], ['bad-key', 1], ['past-deadline', 1], ['garbage', 1]]),
        verify: weighted([[0, 3], [1, 2], [2, 1]]),
    }),
    commit: fc.record({ t: fc.constant('commit' as const), task: pick, pick, variant: weighted([['honest', 8], ['forged', 2], ['wrong-owner', 1], ['garbage', 1]] as const) }),
    reveal: fc.record({ t: fc.constant('reveal' as const), task: pick, pick, variant: weighted([['as-committed', 10], ['other-salt', 1], ['unsealed', 1]] as const) }),
    replicate: fc.record({ t: fc.constant('replicate' as const), task: pick, pick, ranked: weighted([[true, 3], [false, 1]]), forged: weighted([[false, 5], [true, 1]]) }),
    addTasks: fc.record({ t: fc.constant('addTasks' as const), job: pick, byPublisher: weighted([[true, 6], [false, 1]]), count: pick, variant: weighted([['ok', 8], ['too-many', 1], ['dup-task', 1]] as const) }),
    claim: fc.record({ t: fc.constant('claim' as const), task: pick, anyTask: weighted([[false, 6], [true, 1]]), exec: pick, smart: weighted([[true, 4], [false, 1]]), byOwner: weighted([[true, 8], [false, 1]]) }),
    claimRace: fc.record({ t: fc.constant('claimRace' as const), task: pick, a: pick, b: pick }),
    release: fc.record({ t: fc.constant('release' as const), task: pick, anyTask: weighted([[false, 6], [true, 1]]), who, pick }),
    submit: fc.record({
        t: fc.constant('submit' as const),
        task: pick,
        anyTask: weighted([[false, 8], [true, 1]]),
        who,
        pick,
        variant: weighted<SubmitVariant>([['valid', 10], ['forged-input', 1], ['forged-result', 1], ['replay', 1], ['high-s', 1], ['malformed', 1], ['wrong-mode', 1], ['bad-json', 1]]),
    }),
    report: fc.record({ t: fc.constant('report' as const), task: pick, anyTask: weighted([[false, 6], [true, 1]]), who, pick, kind: fc.nat({ max: 3 }) }),
    cancel: fc.record({ t: fc.constant('cancel' as const), job: pick, byPublisher: weighted([[true, 5], [false, 1]]) }),
    sweep: fc.record({ t: fc.constant('sweep' as const), by: pick, limit: weighted([['1', 2], ['3', 2], ['100', 4], ['0', 1]] as const) }),
    file: fc.record({ t: fc.constant('file' as const), job: pick, anyJob: weighted([[false, 6], [true, 1]]), rank: pick, pick, variant: weighted<FileVariant>([['valid', 10], ['carry', 4], ['forged', 2], ['wrong-holder', 1], ['again', 1], ['bad-number', 1]]) }),
    reassign: fc.record({ t: fc.constant('reassign' as const), job: pick, anyJob: weighted([[false, 6], [true, 1]]), rank: pick, by: pick }),
    compact: fc.record({ t: fc.constant('compact' as const), by: pick, of: pick, reputation: fc.boolean() }),
    advance: fc.record({ t: fc.constant('advance' as const), ms: weighted([[MINUTE, 3], [LEASE_MS + MINUTE, 3], [HOUR, 2], [5 * HOUR, 1]]) }),
};

type Kind = keyof typeof arbitraries;

/** Action weights: every transaction kind common enough that a benchmark-scale run reaches 10,000 of each. */
const weights: Readonly<Record<Kind, number>> = {
    mint: 5,
    register: 5,
    update: 5,
    retire: 5,
    suspend: 5,
    reinstate: 5,
    publish: 7,
    addTasks: 5,
    claim: 10,
    claimRace: 2,
    release: 5,
    submit: 8,
    report: 5,
    cancel: 5,
    sweep: 5,
    file: 8,
    reassign: 5,
    compact: 3,
    commit: 8,
    reveal: 14,
    replicate: 16,
    advance: 6,
};

const raceable: readonly Kind[] = ['claim', 'commit', 'reveal', 'replicate', 'submit', 'release', 'report', 'cancel', 'sweep', 'file', 'reassign', 'addTasks', 'publish', 'suspend', 'update'];

const single: fc.Arbitrary<Action> = fc.oneof(...(Object.keys(arbitraries) as Kind[]).map((kind) => ({ arbitrary: arbitraries[kind] as fc.Arbitrary<Action>, weight: weights[kind] })));
const raceArm: fc.Arbitrary<Action> = fc.oneof(...raceable.map((kind) => ({ arbitrary: arbitraries[kind] as fc.Arbitrary<Action>, weight: weights[kind] })));

/** One action: mostly single transactions, sometimes two endorsed on one snapshot and committed in one block. */
export const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
    { arbitrary: single, weight: 12 },
    { arbitrary: fc.record({ t: fc.constant('race' as const), a: raceArm, b: raceArm }), weight: 1 },
);

// ---------------------------------------------------------------------------------------------
// Planning

/**
 * The start of every run, so that short sequences reach claims, submissions and filings: both
 * publishers funded, two executors per owner, an open job in each signature mode and a ranked job
 * of two tasks over the three orgs (M = 2, one node from each of the first two). Each entry plans
 * one transaction on the state left by the previous ones.
 */
export const prologue: readonly ((world: World) => TxPlan)[] = [
    ...[0, 1].map((i) => (world: World) => tx(world.cast.admin, 'credits:Mint', [world.cast.publishers[i]!.account, '1000'], OK)),
    ...[0, 1, 2].flatMap((owner) => [0, 1].map((slot) => (world: World) => planRegister(world, { t: 'register', owner, slot, variant: 'ok', skills: 1, passive: false, capacity: 3 }))),
    ...([
        { by: 0, ranked: false, mode: 'separate', size: 2, shards: 0 },
        { by: 1, ranked: false, mode: 'combined', size: 3, shards: 0 },
        { by: 0, ranked: true, mode: 'separate', size: 0, shards: 7 },
    ] as const).map(
        (job, i) => (world: World) =>
            planPublish(world, { t: 'publish', ...job, batch: 4, reward: 5 + i, jobKey: i === 1, maxAttempts: 3, hours: 4, skills: false, variant: 'ok', verify: 0 }),
    ),
    // A quorum job and a credibility job, so short sequences reach commits and reveals.
    ...[1, 2].map(
        (verify) => (world: World) =>
            planPublish(world, { t: 'publish', by: verify - 1, ranked: false, mode: 'separate', size: 1, shards: 0, batch: 4, reward: 3, jobKey: false, maxAttempts: 3, hours: 4, skills: false, variant: 'ok', verify }),
    ),
    // Ranked jobs under quorum (3 tasks: a merge and a pass-through) and credibility (2 tasks), so short sequences reach merge tasks.
    ...[1, 2].map(
        (verify) => (world: World) =>
            planPublish(world, { t: 'publish', by: verify - 1, ranked: true, mode: 'separate', size: verify === 1 ? 1 : 0, shards: 7, batch: verify === 1 ? 3 : 2, reward: 4, jobKey: false, maxAttempts: 3, hours: 4, skills: false, variant: 'ok', verify }),
    ),
];

/**
 * Carries the first two leaves of the first ranked quorum job through claims, commits and reveals
 * (six steps each), so that every run starts with a merge task published and its sequences reach
 * merges and the root.
 */
export const replicatedPrologue: readonly ((world: World) => TxPlan)[] = [0, 1].flatMap((leaf) =>
    Array.from({ length: 6 }, (_, step) => (world: World) => {
        const job = [...world.snapshot.jobs.values()].find((j) => j.merge !== undefined && j.verify !== 'signature' && j.verify.policy === 'quorum');
        const task = world.snapshot.tasks.get(world.snapshot.jobTasks.get(job?.id ?? '')?.[leaf] ?? '');
        if (task === undefined) {
            throw new Error('the prologue published no ranked quorum job');
        }
        return replicaStep(world, task, { pick: step, forged: false });
    }),
);

/** Turns an action into a step against the world's current snapshot. */
export function planStep(world: World, action: Action): Step {
    switch (action.t) {
        case 'advance':
            return { kind: 'advance', ms: action.ms };
        default:
            return { kind: 'txs', plans: plan(world, action), claimRace: action.t === 'claimRace' };
    }
}

type Planner<A extends Action> = (world: World, action: A) => TxPlan[];

/** The planner of each action kind (races and clock moves are steps of their own, see planStep). */
const planners: { readonly [K in Action['t']]: Planner<Extract<Action, { t: K }>> } = {
    mint: (world, a) => [planMint(world, a)],
    register: (world, a) => [planRegister(world, a)],
    update: (world, a) => [planOwnerChange(world, a)],
    retire: (world, a) => [planOwnerChange(world, a)],
    suspend: (world, a) => [planAdminChange(world, a)],
    reinstate: (world, a) => [planAdminChange(world, a)],
    publish: (world, a) => [planPublish(world, a)],
    addTasks: (world, a) => [planAddTasks(world, a)],
    claim: (world, a) => [planClaim(world, a)],
    claimRace: (world, a) => planClaimRace(world, a),
    release: (world, a) => [planClaimantCall(world, a)],
    submit: (world, a) => [planClaimantCall(world, a)],
    report: (world, a) => [planClaimantCall(world, a)],
    cancel: (world, a) => [planCancel(world, a)],
    sweep: (world, a) => [tx(choose(world.cast.everyone, a.by)!, 'tasks:SweepExpired', [a.limit], a.limit === '0' ? { fails: 'INVALID_ARGUMENT' } : OK)],
    file: (world, a) => [planFile(world, a)],
    reassign: (world, a) => [planReassign(world, a)],
    compact: (world, a) => [planCompact(world, a)],
    commit: (world, a) => [planCommit(world, a)],
    reveal: (world, a) => [planReveal(world, a)],
    replicate: (world, a) => [planReplicate(world, a)],
    advance: () => [],
    race: (world, a) => [...plan(world, a.a), ...plan(world, a.b)],
};

function plan(world: World, action: Action): TxPlan[] {
    // The table is keyed by the action's own tag, so the planner fits the action.
    const planner = planners[action.t] as Planner<Action>;
    return planner(world, action);
}

function planMint(world: World, a: Extract<Action, { t: 'mint' }>): TxPlan {
    const { cast } = world;
    const caller = [cast.admin, cast.attrAdmin, cast.publishers[0]!, cast.outsider][a.by] ?? cast.admin;
    const to = choose(cast.everyone, a.to)!;
    const account = a.variant === 'bad-account' ? 'not-an-account' : to.account;
    const amount = { ok: String(a.amount), zero: '0', negative: `-${a.amount}`, 'bad-account': String(a.amount) }[a.variant];
    const code = firstOf([() => when(caller === cast.publishers[0] || caller === cast.outsider, 'NOT_ADMIN'), () => when(a.variant === 'bad-account', 'INVALID_ID'), () => when(a.variant !== 'ok', 'INVALID_ARGUMENT')]);
    return tx(caller, 'credits:Mint', [account, amount], outcome(code));
}

const SKILL_SETS: readonly (readonly string[])[] = [[], ['wasm'], ['simd'], ['wasm', 'simd']];

function planRegister(world: World, a: Extract<Action, { t: 'register' }>): TxPlan {
    const ownerIndex = a.owner % world.cast.owners.length;
    const owner = world.cast.owners[ownerIndex]!;
    const stolen = choose(world.executorIds(), a.slot + a.owner);
    const executorId = a.variant === 'bad-id' ? 'bad id!' : a.variant === 'steal' && stolen !== undefined ? stolen : `e${ownerIndex}-${a.slot}`;
    const spec = a.variant === 'bad-spec' ? '{"mode":"lazy"}' : JSON.stringify({ skills: SKILL_SETS[a.skills], mode: a.passive ? 'passive' : 'active', capacity: a.capacity });
    const code = firstOf([() => when(a.variant === 'bad-id', 'INVALID_ID'), () => when(a.variant === 'bad-spec', 'INVALID_ARGUMENT'), () => when(world.snapshot.executors.has(executorId), 'ALREADY_EXISTS')]);
    return tx(owner, 'executors:Register', [executorId, spec], outcome(code));
}

/** Update and Retire: owner only, not once retired. */
function planOwnerChange(world: World, a: Extract<Action, { t: 'update' | 'retire' }>): TxPlan {
    const executorId = choose(world.executorIds(), a.exec) ?? 'e9-9';
    const executor = world.snapshot.executors.get(executorId);
    const owner = world.ownerOf(executorId);
    const caller = a.byOwner && owner !== undefined ? owner : world.other(owner, a.exec);
    const bad = a.t === 'update' && a.bad;
    const code = firstOf([
        () => when(executor === undefined, 'NOT_FOUND'),
        () => when(executor?.owner !== caller.account, 'NOT_OWNER'),
        () => when(executor?.status === 'retired', 'INVALID_STATE'),
        () => when(bad, 'INVALID_ARGUMENT'),
    ]);
    if (a.t === 'retire') {
        return tx(caller, 'executors:Retire', [executorId], outcome(code));
    }
    const patch: Json = {
        ...((a.patch & 1) === 0 ? {} : { skills: SKILL_SETS[a.skills] }),
        ...((a.patch & 2) === 0 ? {} : { mode: a.passive ? 'passive' : 'active' }),
        ...((a.patch & 4) === 0 ? {} : { capacity: a.capacity }),
    };
    return tx(caller, 'executors:Update', [executorId, bad ? '{"capacity":0}' : JSON.stringify(patch)], outcome(code));
}

function planAdminChange(world: World, a: Extract<Action, { t: 'suspend' | 'reinstate' }>): TxPlan {
    const { cast } = world;
    const caller = [cast.admin, cast.attrAdmin, cast.owners[0]!][a.by] ?? cast.admin;
    const executorId = choose(world.executorIds(), a.exec) ?? 'e9-9';
    const executor = world.snapshot.executors.get(executorId);
    const code = firstOf([
        () => when(caller === cast.owners[0], 'NOT_ADMIN'),
        () => when(a.emptyReason, 'INVALID_ARGUMENT'),
        () => when(executor === undefined, 'NOT_FOUND'),
        () => when(executor?.status === 'retired', 'INVALID_STATE'),
    ]);
    const fn = a.t === 'suspend' ? 'executors:Suspend' : 'executors:Reinstate';
    return tx(caller, fn, [executorId, a.emptyReason ? '' : `${a.t} by the model test`], outcome(code));
}

// ----- jobs

function shardsOf(mask: number, ranked: boolean): string[] {
    const shards = MSPS.filter((_, i) => (mask & (1 << i)) !== 0);
    if (ranked && shards.length < 2) {
        return mask === 4 ? ['Org3MSP', 'Org1MSP'] : ['Org1MSP', 'Org2MSP'];
    }
    return shards;
}

type PublishAction = Extract<Action, { t: 'publish' }>;

/** Ids of existing tasks a publisher could have chosen (not merge tasks: `<job>/<y>/<x>` is no valid task id, INVALID_ID). */
function publishableIds(world: World): string[] {
    return [...world.snapshot.tasks.keys()].filter((id) => !id.includes('/'));
}

/** The tasks a publish action plans (all taskCount of them; the first batch goes in the Publish), with its variant applied. */
function taskPlansFor(world: World, a: PublishAction, id: string, taskCount: number): TaskPlan[] {
    const tasks: TaskPlan[] = Array.from({ length: taskCount }, (_, i) => ({
        id: `${id}-t${i + 1}`,
        key: keyAt(a.jobKey ? a.reward : a.reward + i),
        input: Buffer.from(`input ${id} ${i + 1}`),
        reward: String(1 + ((a.reward + i) % 20)),
    }));
    const existingTask = choose(publishableIds(world), a.reward);
    if (a.variant === 'dup-task' && existingTask !== undefined) {
        tasks[0] = { ...tasks[0]!, id: existingTask };
    }
    if (a.variant === 'insufficient') {
        tasks[0] = { ...tasks[0]!, reward: '900000000000' };
    }
    return tasks;
}

/** The replicated policy a publish action asks for (open and ranked jobs alike). */
function policyOf(a: PublishAction): ReplicatedPolicy | undefined {
    return a.verify === 1 ? { policy: 'quorum', k: 2, maxReplicas: 3 } : a.verify === 2 ? { policy: 'credibility', trust: '0.9', maxReplicas: 3 } : undefined;
}

/** Organizations with an executor that could take a replica now (jobs.availableShards, restated). */
function availableShards(world: World, shards: readonly string[], skills: readonly string[]): number {
    const pool = [...world.snapshot.executors.values()].filter((e) => (shards.length === 0 || shards.includes(e.shard)) && isWorking(world, e) && hasSkills(e, skills));
    return new Set(pool.map((e) => e.shard)).size;
}

function jobSpecOf(world: World, a: PublishAction, job: JobPlan, batch: number, shards: readonly string[]): Json {
    const policy = policyOf(a);
    return {
        id: job.id,
        ...(policy === undefined ? {} : { verify: policy }),
        program: PROGRAM,
        mode: a.mode,
        taskCount: job.taskCount,
        deadline: a.variant === 'past-deadline' ? world.now - 1 : world.now + a.hours * HOUR,
        leaseMs: LEASE_MS,
        maxAttempts: a.maxAttempts,
        ...(shards.length === 0 ? {} : { shards }),
        ...(a.skills ? { requirements: { skills: ['wasm'] } } : {}),
        ...(a.ranked ? { assignment: 'ranked', merge: { program: PROGRAM, publicKey: job.mergeKey.publicKeyPem, reward: '2' } } : {}),
        tasks: job.tasks.slice(0, batch).map((t, i) => ({
            id: t.id,
            publicKey: a.variant === 'bad-key' && i === 0 ? 'not a public key' : t.key.publicKeyPem,
            input: { inline: t.input.toString('base64') },
            reward: t.reward,
        })),
    };
}

function planPublish(world: World, a: PublishAction): TxPlan {
    const { cast, snapshot } = world;
    const publisher = [cast.publishers[0]!, cast.publishers[1]!, cast.outsider][a.by] ?? cast.outsider;
    const existingJob = choose([...world.jobs.keys()], a.reward);
    const id = a.variant === 'dup-job' && existingJob !== undefined ? existingJob : world.newJobId();
    const taskCount = a.ranked ? 2 + (a.size % 2) : 1 + a.size;
    const needsTask = a.variant === 'insufficient' || a.variant === 'dup-task' || a.variant === 'bad-key';
    const batch = Math.max(a.batch % (taskCount + 1), needsTask ? 1 : 0);
    const tasks = taskPlansFor(world, a, id, taskCount);
    const shards = shardsOf(a.shards, a.ranked);
    const job: JobPlan = { id, publisher, mode: a.mode, ranked: a.ranked, taskCount, tasks, mergeKey: keyAt(a.reward + 3) };
    const spec = jobSpecOf(world, a, job, batch, shards);
    const policy = policyOf(a);
    const replicas = BigInt(policy?.maxReplicas ?? 1);
    // Merges: N − 1 real ones for N = 2 or 3, each × maxReplicas under a replicated policy.
    const escrow = tasks.slice(0, batch).reduce((sum, t) => sum + BigInt(t.reward) * replicas, 0n) + (a.ranked ? 2n * BigInt(taskCount - 1) * replicas : 0n);
    const duplicateTask = a.variant === 'dup-task' && snapshot.tasks.has(tasks[0]!.id);
    const code = firstOf([
        () => when(a.variant === 'garbage', 'INVALID_ARGUMENT'),
        () => when(snapshot.jobs.has(id), 'ALREADY_EXISTS'),
        () => when(a.variant === 'past-deadline', 'INVALID_ARGUMENT'),
        () => when(policy?.policy === 'quorum' && availableShards(world, shards, a.skills ? ['wasm'] : []) < policy.k, 'TOO_FEW_SHARDS'),
        () => when(!a.ranked && shards.some((shard) => ![...world.snapshot.executors.values()].some((e) => e.shard === shard)), 'UNKNOWN_SHARD'),
        // A ranked job under a replicated policy has no rank holders to select.
        () => when(a.ranked && policy === undefined && !enoughForRanks(world, shards, taskCount, a.skills ? ['wasm'] : []), 'TOO_FEW_EXECUTORS'),
        () => when(duplicateTask, 'ALREADY_EXISTS'),
        () => when(a.variant === 'bad-key', 'INVALID_PUBLIC_KEY'),
        () => when((snapshot.balances.get(publisher.account) ?? 0n) < escrow, 'INSUFFICIENT_FUNDS'),
    ]);
    const argument = a.variant === 'garbage' ? JSON.stringify({ ...spec, taskCount: 'many' }) : JSON.stringify(spec);
    return tx(publisher, 'jobs:Publish', [argument], outcome(code), () => {
        world.adopt(job);
    });
}

/** The reputation floor that applies to an executor (rules.effectiveFloor, restated). */
function floorOf(executor: ExecutorRecord): number {
    const floor = defaultParameters.reputationFloor;
    return executor.reinstatedAtReputation === undefined ? floor : Math.min(floor, executor.reinstatedAtReputation);
}

/** Not retired, not suspended by an admin, not below its floor. */
function isWorking(world: World, executor: ExecutorRecord): boolean {
    return executor.status === 'active' && (world.snapshot.reputationOf.get(executor.id) ?? 0) >= floorOf(executor);
}

function hasSkills(executor: ExecutorRecord, skills: readonly string[]): boolean {
    return skills.every((skill) => executor.skills.includes(skill));
}

/** Whether every shard has enough eligible capacity for its share of the M nodes (SPEC §6.2). */
function enoughForRanks(world: World, shards: readonly string[], taskCount: number, skills: readonly string[]): boolean {
    const counts = splitAcrossShards(treeShape(taskCount).nodeCount, shards.length);
    return shards.every((shard, i) => {
        const eligible = [...world.snapshot.executors.values()].filter((e) => e.shard === shard && isWorking(world, e) && hasSkills(e, skills));
        // A node is a rank: each eligible executor may hold up to its capacity of the shard's share.
        return eligible.reduce((sum, e) => sum + e.capacity, 0) >= (counts[i] ?? 0);
    });
}

function jobsIn(world: World, states: readonly JobRecord['state'][]): JobPlan[] {
    return [...world.jobs.values()].filter((job) => states.includes(world.snapshot.jobs.get(job.id)?.state ?? 'cancelled'));
}

function planAddTasks(world: World, a: Extract<Action, { t: 'addTasks' }>): TxPlan {
    const job = choose(jobsIn(world, ['publishing']), a.job) ?? choose([...world.jobs.values()], a.job);
    if (job === undefined) {
        return tx(world.cast.publishers[0]!, 'jobs:AddTasks', ['no-such-job', '[]'], { fails: 'NOT_FOUND' });
    }
    const record = world.snapshot.jobs.get(job.id)!;
    const caller = a.byPublisher ? job.publisher : world.other(job.publisher, a.job);
    const remaining = job.taskCount - record.publishedCount;
    const count = a.variant === 'too-many' ? remaining + 1 : 1 + (a.count % Math.max(remaining, 1));
    const specs = job.tasks.slice(record.publishedCount, record.publishedCount + count).map((t) => ({ id: t.id, publicKey: t.key.publicKeyPem, input: { inline: t.input.toString('base64') }, reward: t.reward }));
    while (specs.length < count) {
        specs.push({ ...specs[0] ?? { publicKey: keyAt(0).publicKeyPem, input: { inline: 'AA==' }, reward: '1' }, id: `${job.id}-extra${specs.length}` });
    }
    const duplicate = choose(publishableIds(world), a.count);
    if (a.variant === 'dup-task' && duplicate !== undefined && specs[0] !== undefined) {
        specs[0] = { ...specs[0], id: duplicate };
    }
    const escrow = specs.reduce((sum, t) => sum + BigInt(t.reward) * BigInt(record.verify === 'signature' ? 1 : record.verify.maxReplicas), 0n);
    const code = firstOf([
        () => when(caller.account !== job.publisher.account, 'NOT_PUBLISHER'),
        () => when(record.state !== 'publishing', 'INVALID_STATE'),
        () => when(world.now >= record.deadline, 'DEADLINE_PASSED'),
        () => when(a.variant === 'too-many', 'INVALID_ARGUMENT'),
        () => when(a.variant === 'dup-task' && duplicate !== undefined, 'ALREADY_EXISTS'),
        () => when((world.snapshot.balances.get(job.publisher.account) ?? 0n) < escrow, 'INSUFFICIENT_FUNDS'),
    ]);
    return tx(caller, 'jobs:AddTasks', [job.id, JSON.stringify(specs)], outcome(code));
}

function planCancel(world: World, a: Extract<Action, { t: 'cancel' }>): TxPlan {
    const job = choose(jobsIn(world, ['publishing', 'open']), a.job) ?? choose([...world.jobs.values()], a.job);
    if (job === undefined) {
        return tx(world.cast.publishers[0]!, 'jobs:Cancel', ['no-such-job'], { fails: 'NOT_FOUND' });
    }
    const state = world.snapshot.jobs.get(job.id)?.state;
    const caller = a.byPublisher ? job.publisher : world.other(job.publisher, a.job);
    const code = firstOf([() => when(caller.account !== job.publisher.account, 'NOT_PUBLISHER'), () => when(state !== 'publishing' && state !== 'open', 'INVALID_STATE')]);
    return tx(caller, 'jobs:Cancel', [job.id], outcome(code));
}

// ----- claims

function tasksWhere(world: World, accept: (task: TaskRecord) => boolean): TaskRecord[] {
    return [...world.snapshot.tasks.values()].filter(accept).sort((x, y) => (x.id < y.id ? -1 : 1));
}

function claimable(world: World, task: TaskRecord): boolean {
    return task.assignment === 'open' && (task.state === 'published' || (task.state === 'claimed' && task.claim !== undefined && world.now >= task.claim.leaseExpiresAt));
}

/** Why `executor` may not claim `task` now (tasks:Claim and rules.requireClaimable, restated), or undefined. */
function claimFailure(world: World, executor: ExecutorRecord, task: TaskRecord): ErrorCode | undefined {
    const now = world.now;
    const reputation = world.snapshot.reputationOf.get(executor.id) ?? 0;
    const claim = task.claim;
    // Only claims whose lease still runs hold capacity; expired ones wait for a sweep or a takeover.
    // Replica slots count too (their lw.claim entry carries the reveal deadline).
    const activeClaims = world.snapshot.claimIndex.filter((c) => c.executorId === executor.id && (c.leaseExpiresAt ?? world.snapshot.tasks.get(c.taskId)?.claim?.leaseExpiresAt ?? 0) > now).length;
    return firstOf([
        () => when(task.state === 'claimed' && claim !== undefined && now < claim.leaseExpiresAt, 'ALREADY_CLAIMED'),
        () => when(task.state === 'claimed' && task.attempts + 1 >= task.maxAttempts, 'INVALID_STATE'),
        () => when(task.state !== 'claimed' && task.state !== 'published', 'INVALID_STATE'),
        () => when(!isWorking(world, executor), 'EXECUTOR_INACTIVE'),
        () => when(task.assignment === 'ranked', 'INVALID_STATE'),
        () => when(executor.mode === 'passive', 'REQUIREMENT_UNMET'),
        () => when(now >= task.deadline, 'DEADLINE_PASSED'),
        () => when(task.shards.length > 0 && !task.shards.includes(executor.shard), 'WRONG_SHARD'),
        () => when(!hasSkills(executor, task.requirements.skills), 'REQUIREMENT_UNMET'),
        () => when(reputation < task.requirements.minReputation, 'REQUIREMENT_UNMET'),
        () => when(activeClaims >= executor.capacity, 'REQUIREMENT_UNMET'),
    ]);
}

function claimPlan(world: World, task: TaskRecord | undefined, executorId: string, caller: Actor): TxPlan {
    const taskId = task?.id ?? 'no-such-task';
    if (task?.verify !== undefined) {
        // Replica slots depend on the settlement rule; the invariants judge the outcome.
        return tx(caller, 'tasks:Claim', [taskId, executorId]);
    }
    const executor = world.snapshot.executors.get(executorId);
    const code = firstOf([
        () => when(executor === undefined, 'NOT_FOUND'),
        () => when(executor?.owner !== caller.account, 'NOT_OWNER'),
        () => when(task === undefined, 'NOT_FOUND'),
        () => (executor === undefined || task === undefined ? undefined : claimFailure(world, executor, task)),
    ]);
    return tx(caller, 'tasks:Claim', [taskId, executorId], outcome(code));
}

function eligibleFor(world: World, task: TaskRecord | undefined): string[] {
    if (task?.verify !== undefined) {
        const taken = new Set((world.snapshot.replicas.get(task.id) ?? []).flatMap((r) => (r.state === 'claimed' || r.state === 'committed' || r.state === 'revealed' ? [r.shard] : [])));
        return world.executorIds().filter((id) => !taken.has(world.snapshot.executors.get(id)?.shard ?? ''));
    }
    return world.executorIds().filter((id) => task !== undefined && claimFailure(world, world.snapshot.executors.get(id)!, task) === undefined);
}

function claimTarget(world: World, taskPick: number, anyTask: boolean): TaskRecord | undefined {
    const all = tasksWhere(world, () => true);
    return anyTask ? choose(all, taskPick) : (choose(tasksWhere(world, (t) => claimable(world, t)), taskPick) ?? choose(all, taskPick));
}

function planClaim(world: World, a: Extract<Action, { t: 'claim' }>): TxPlan {
    const task = claimTarget(world, a.task, a.anyTask);
    const executorId = (a.smart ? choose(eligibleFor(world, task), a.exec) : undefined) ?? choose(world.executorIds(), a.exec) ?? 'e9-9';
    const owner = world.ownerOf(executorId);
    const caller = a.byOwner && owner !== undefined ? owner : world.other(owner, a.exec);
    return claimPlan(world, task, executorId, caller);
}

/** Two owners claim one task on the same snapshot; both go into one block. */
function planClaimRace(world: World, a: Extract<Action, { t: 'claimRace' }>): TxPlan[] {
    const task = claimTarget(world, a.task, false);
    const eligible = eligibleFor(world, task);
    const first = choose(eligible, a.a) ?? choose(world.executorIds(), a.a) ?? 'e9-9';
    const rivals = eligible.filter((id) => id !== first);
    const second = choose(rivals, a.b) ?? choose(world.executorIds(), a.b) ?? 'e9-9';
    return [first, second].map((executorId) => claimPlan(world, task, executorId, world.ownerOf(executorId) ?? world.cast.outsider));
}

/** The executor and identity a claimant call is made as. */
function claimantCall(world: World, task: TaskRecord | undefined, who: Who, pickValue: number): { executorId: string; caller: Actor } {
    const claimant = task?.claim?.executorId ?? choose(world.executorIds(), pickValue) ?? 'e9-9';
    const owner = world.ownerOf(claimant) ?? (task?.claim === undefined ? undefined : world.byAccount.get(task.claim.account));
    if (who === 'other-executor') {
        const other = choose(world.executorIds().filter((id) => id !== claimant), pickValue) ?? claimant;
        return { executorId: other, caller: world.ownerOf(other) ?? world.cast.outsider };
    }
    if (who === 'other-identity') {
        return { executorId: claimant, caller: world.other(owner, pickValue) };
    }
    return { executorId: claimant, caller: owner ?? world.cast.outsider };
}

/** rules.requireClaimant, restated. */
function claimantFailure(task: TaskRecord | undefined, executorId: string, caller: Actor): ErrorCode | undefined {
    return firstOf([
        () => when(task === undefined, 'NOT_FOUND'),
        () => when(task?.state !== 'claimed' && task?.state !== 'assigned', 'INVALID_STATE'),
        () => when(task?.claim?.executorId !== executorId || task.claim.account !== caller.account, 'NOT_CLAIMANT'),
    ]);
}

const FAILURE_KINDS = ['run-failed', 'program-hash-mismatch', 'fetch-failed'];

function planClaimantCall(world: World, a: Extract<Action, { t: 'release' | 'submit' | 'report' }>): TxPlan {
    const held = tasksWhere(world, (t) => t.state === 'claimed' || (a.t === 'report' && t.state === 'assigned'));
    const task = a.anyTask ? choose(tasksWhere(world, () => true), a.task) : (choose(held, a.task) ?? choose(tasksWhere(world, () => true), a.task));
    const taskId = task?.id ?? 'no-such-task';
    if (task?.verify !== undefined) {
        return planReplicaCall(world, task, a);
    }
    const { executorId, caller } = claimantCall(world, task, a.who, a.pick);
    const failure = claimantFailure(task, executorId, caller);
    // An expired claim is the sweep's to settle: its claimant can neither release it nor report on it.
    const leaseGone = (): ErrorCode | undefined => when(task?.state === 'claimed' && world.now >= (task.claim?.leaseExpiresAt ?? 0), 'LEASE_EXPIRED');
    if (a.t === 'release') {
        return tx(caller, 'tasks:Release', [taskId, executorId], outcome(failure ?? firstOf([() => when(task?.assignment === 'ranked', 'INVALID_STATE'), leaseGone])));
    }
    if (a.t === 'report') {
        const kind = FAILURE_KINDS[a.kind] ?? 'gave-up';
        const early = failure ?? firstOf([leaseGone, () => when(!FAILURE_KINDS.includes(kind), 'INVALID_ARGUMENT')]);
        return tx(caller, 'tasks:ReportFailure', [taskId, executorId, JSON.stringify({ kind, detail: 'model test' })], outcome(early));
    }
    const early = failure ?? firstOf([() => when(task?.assignment === 'ranked', 'INVALID_STATE'), () => when(world.now >= (task?.claim?.leaseExpiresAt ?? 0), 'LEASE_EXPIRED')]);
    const { argument, expect } = submissionFor(world, task, a.variant, a.pick);
    return tx(caller, 'tasks:Submit', [taskId, executorId, argument], outcome(early, expect));
}

/** A P-256 DER signature with S replaced by n − S (the high-S twin of a low-S signature). */
function highS(signature: string): string {
    const { r, s } = parseEcdsaDer(Buffer.from(signature, 'base64'));
    return encodeEcdsaDer(r, P256_ORDER - s).toString('base64');
}

/** Raw r‖s (IEEE P1363) instead of DER. */
function rawRs(signature: string): string {
    const { r, s } = parseEcdsaDer(Buffer.from(signature, 'base64'));
    return Buffer.from(r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0'), 'hex').toString('base64');
}

function firstSignature(signatures: Json, mode: Mode): 'input' | 'combined' {
    return mode === 'separate' && typeof signatures.input === 'string' ? 'input' : 'combined';
}

/** The Submit argument for a variant, and what verification must say about it. */
function submissionFor(world: World, task: TaskRecord | undefined, variant: SubmitVariant, pickValue: number): { argument: string; expect: Expectation } {
    const taskId = task?.id ?? 'no-such-task';
    const plan = world.taskPlans.get(taskId);
    const mode: Mode = task?.mode ?? 'separate';
    const key = plan?.key ?? keyAt(0);
    const inputHash = sha256(plan?.input ?? Buffer.alloc(0));
    const result = Buffer.from(`result of ${taskId} #${pickValue}`);
    const invalid: ErrorCode = mode === 'separate' ? 'INPUT_SIGNATURE_INVALID' : 'SIGNATURE_INVALID';
    const rejected = (code: ErrorCode): Expectation => ({ succeeds: true, outcome: 'rejected', code });
    const valid = sign(key, taskId, inputHash, result, mode);
    const slot = firstSignature(valid, mode);
    const cases: Record<SubmitVariant, () => { signatures: Json; expect: Expectation }> = {
        valid: () => ({ signatures: valid, expect: { succeeds: true, outcome: 'accepted' } }),
        'forged-input': () => ({ signatures: sign(keyAt(KEY_POOL.indexOf(key) + 1), taskId, inputHash, result, mode), expect: rejected(invalid) }),
        'forged-result': () => ({
            signatures: sign(key, taskId, inputHash, Buffer.concat([result, Buffer.from('!')]), mode),
            expect: rejected(mode === 'separate' ? 'RESULT_SIGNATURE_INVALID' : 'SIGNATURE_INVALID'),
        }),
        replay: () => ({ signatures: sign(key, `${taskId}-other`, inputHash, result, mode), expect: rejected(invalid) }),
        'high-s': () => ({ signatures: { ...valid, [slot]: highS(valid[slot] as string) }, expect: rejected('HIGH_S') }),
        malformed: () => ({ signatures: { ...valid, [slot]: rawRs(valid[slot] as string) }, expect: rejected('SIGNATURE_MALFORMED') }),
        'wrong-mode': () => ({ signatures: sign(key, taskId, inputHash, result, mode === 'separate' ? 'combined' : 'separate'), expect: { fails: 'INVALID_ARGUMENT' } }),
        'bad-json': () => ({ signatures: {}, expect: { fails: 'INVALID_ARGUMENT' } }),
    };
    const { signatures, expect } = cases[variant]();
    const argument = variant === 'bad-json' ? '{"result":5}' : JSON.stringify({ result: result.toString('base64'), signatures });
    return { argument, expect };
}

// ----- ranked jobs

const numberKey = (n: MergeNumber): string => `${n.y}/${n.x}`;

interface RankedView {
    readonly job: JobPlan;
    readonly record: JobRecord;
    readonly shape: TreeShape;
    readonly filings: ReadonlyMap<string, FilingRecord>;
    readonly ranks: readonly RankRecord[];
}

/** A ranked job: one still running unless `anyJob` (or none is), picked by `jobPick`. */
function rankedView(world: World, jobPick: number, anyJob: boolean): RankedView | undefined {
    const ranked = [...world.jobs.values()].filter((job) => job.ranked && world.snapshot.ranked.has(job.id));
    const running = ranked.filter((job) => ['publishing', 'open'].includes(world.snapshot.jobs.get(job.id)?.state ?? ''));
    const job = (anyJob ? undefined : choose(running, jobPick)) ?? choose(ranked, jobPick);
    const record = job === undefined ? undefined : world.snapshot.jobs.get(job.id);
    if (job === undefined || record === undefined) {
        return undefined;
    }
    return { job, record, shape: treeShape(job.taskCount), filings: world.snapshot.filings.get(job.id) ?? new Map(), ranks: world.snapshot.ranks.get(job.id) ?? [] };
}

/** The bytes filed at a number (a leaf's are its task's result; a pass-through's its left child's); undefined for ZERO. */
function filedBytes(world: World, view: RankedView, filing: FilingRecord | undefined): Buffer | undefined {
    switch (filing?.kind) {
        case 'leaf': {
            const inline = world.snapshot.tasks.get(filing.taskId ?? '')?.result?.inline;
            return inline === undefined ? undefined : Buffer.from(inline, 'base64');
        }
        case 'merge':
            return Buffer.from(filing.inline ?? '', 'base64');
        case 'pass-through':
            return filedBytes(world, view, view.filings.get(numberKey(leftChild(filing))));
        default:
            return undefined;
    }
}

interface Content {
    readonly spec: Json;
    readonly sha256?: string;
    /** Set when the filing must fail before anything is written. */
    readonly error?: ErrorCode;
    /** Set when verification must turn it down. */
    readonly rejected?: boolean;
}

/** A leaf (1, x): the rank's task result signed with its task key, or ZERO beyond N. */
function leafContent(world: World, view: RankedView, x: number, holder: RankRecord | undefined, forged: boolean): Content {
    if (kindOf(view.shape, { y: 1, x }) === 'zero') {
        return { spec: { result: null } };
    }
    const plan = view.job.tasks[x - 1]!;
    const result = Buffer.from(`leaf ${plan.id}`);
    const signatures = sign(forged ? keyAt(KEY_POOL.indexOf(plan.key) + 1) : plan.key, plan.id, sha256(plan.input), result, view.job.mode);
    const task = world.snapshot.tasks.get(plan.id);
    const error = firstOf([
        () => when(task === undefined, 'INVALID_STATE'),
        () => when(task?.state !== 'assigned', 'INVALID_STATE'),
        () => when(task?.claim?.executorId !== holder?.executorId || task?.claim?.account !== holder?.account, 'NOT_CLAIMANT'),
    ]);
    return { spec: { result: result.toString('base64'), signatures }, sha256: sha256(result).toString('hex'), ...(error === undefined ? {} : { error }), ...(forged ? { rejected: true } : {}) };
}

/** A number y ≥ 2: ZERO, a pass-through of its left child, or a real merge signed with the merge key. */
function mergeContent(world: World, view: RankedView, n: MergeNumber, rightHash: string | undefined, forged: boolean): Content {
    const kind = kindOf(view.shape, n);
    const left = view.filings.get(numberKey(leftChild(n)));
    if (kind === 'zero') {
        return { spec: { result: null } };
    }
    if (kind === 'pass-through') {
        const bytes = filedBytes(world, view, left) ?? Buffer.alloc(0);
        return { spec: { result: bytes.toString('base64') } };
    }
    const leftHash = left?.sha256 ?? '00'.repeat(32);
    const right = rightHash ?? '00'.repeat(32);
    const merged = Buffer.from(`merge ${leftHash.slice(0, 8)} ${right.slice(0, 8)}`);
    const key = forged ? keyAt(KEY_POOL.indexOf(view.job.mergeKey) + 1) : view.job.mergeKey;
    const signatures = sign(key, mergeSlotId(view.job.id, n.y, n.x), mergeInputHash(Buffer.from(leftHash, 'hex'), Buffer.from(right, 'hex')), merged, view.job.mode);
    return { spec: { result: merged.toString('base64'), signatures }, ...(forged ? { rejected: true } : {}) };
}

/** The filing argument for number `n` (carrying the right leaf when asked) and its expected outcome. */
function filingFor(world: World, view: RankedView, n: MergeNumber, holder: RankRecord | undefined, carry: boolean, forged: boolean): { spec: Json; expect: Expectation | undefined } {
    if (n.y === 1) {
        const leaf = leafContent(world, view, n.x, holder, forged);
        return { spec: { y: 1, x: n.x, ...leaf.spec }, expect: contentOutcome([leaf]) };
    }
    const rightNumber = rightChild(n);
    const rightFiled = view.filings.get(numberKey(rightNumber));
    const carried = carry && rightFiled === undefined ? leafContent(world, view, rightNumber.x, holder, false) : undefined;
    const merge = mergeContent(world, view, n, rightFiled?.sha256 ?? carried?.sha256, forged);
    const missing = firstOf([() => when(!view.filings.has(numberKey(leftChild(n))), 'CHILD_MISSING'), () => when(rightFiled === undefined && carried === undefined, 'CHILD_MISSING')]);
    const spec = { y: n.y, x: n.x, ...merge.spec, ...(carried === undefined ? {} : { carry: carried.spec }) };
    return { spec, expect: missing === undefined ? contentOutcome(carried === undefined ? [merge] : [carried, merge]) : { fails: missing } };
}

function contentOutcome(parts: readonly Content[]): Expectation {
    for (const part of parts) {
        if (part.error !== undefined) {
            return { fails: part.error };
        }
        if (part.rejected === true) {
            return { succeeds: true, outcome: 'rejected' };
        }
    }
    return { succeeds: true, outcome: 'filed' };
}

/** Whether a rank's next number can be worked on now: its leaf's task published and assigned (or ZERO) and, for an even leaf, its sibling filed; or its left child filed. */
function isReady(world: World, view: RankedView, rankNo: number): boolean {
    const next = numbersHeldBy(view.shape, rankNo).find((n) => !view.filings.has(numberKey(n)));
    if (next === undefined) {
        return false;
    }
    if (next.y > 1) {
        return view.filings.has(numberKey(leftChild(next)));
    }
    const plan = view.job.tasks[next.x - 1];
    const siblingFiled = next.x % 2 === 1 || view.filings.has(numberKey({ y: 1, x: next.x - 1 }));
    return siblingFiled && (kindOf(view.shape, next) === 'zero' || (plan !== undefined && world.snapshot.tasks.get(plan.id)?.state === 'assigned'));
}

/** A rank with work to do unless `anyRank` (or none has), picked by `rankPick`. */
function rankOf(world: World, view: RankedView, rankPick: number, anyRank: boolean): number {
    const ready = Array.from({ length: view.shape.nodeCount }, (_, i) => i + 1).filter((r) => isReady(world, view, r));
    return (anyRank ? undefined : choose(ready, rankPick)) ?? 1 + (rankPick % view.shape.nodeCount);
}

/**
 * The number a rank files for a variant: its next unfiled one; with `carry` and an even leaf next, the
 * merge above it carrying the leaf; with `again` its last filed one; with `bad-number` one above the target.
 */
function numberToFile(view: RankedView, rankNo: number, variant: FileVariant): { number: MergeNumber; carry: boolean } {
    const held = numbersHeldBy(view.shape, rankNo);
    const next = held.find((n) => !view.filings.has(numberKey(n))) ?? held.at(-1)!;
    switch (variant) {
        case 'again':
            return { number: held.filter((n) => view.filings.has(numberKey(n))).at(-1) ?? next, carry: false };
        case 'carry':
            return next.y === 1 && next.x % 2 === 0 ? { number: { y: 2, x: next.x / 2 }, carry: true } : { number: next, carry: false };
        case 'bad-number':
            return { number: { y: view.shape.height + 1, x: 1 }, carry: false };
        default:
            return { number: next, carry: false };
    }
}

function planFile(world: World, a: Extract<Action, { t: 'file' }>): TxPlan {
    const view = rankedView(world, a.job, a.anyJob);
    if (view === undefined) {
        const open = choose([...world.jobs.keys()], a.job) ?? 'no-such-job';
        return tx(world.cast.owners[0]!, 'ranks:File', [open, 'e0-0', JSON.stringify({ y: 1, x: 1, result: null })], { fails: 'NOT_FOUND' });
    }
    if (view.record.verify !== 'signature') {
        // Its numbers are filed by the transactions that accept them, never through ranks.
        const executorId = choose(world.executorIds(), a.pick) ?? 'e9-9';
        return tx(world.ownerOf(executorId) ?? world.cast.outsider, 'ranks:File', [view.job.id, executorId, JSON.stringify({ y: 1, x: 1, result: null })], { fails: 'INVALID_STATE' });
    }
    const rankNo = rankOf(world, view, a.rank, a.anyJob);
    const holder = view.ranks.find((r) => r.rank === rankNo);
    const { number, carry } = numberToFile(view, rankNo, a.variant);
    const wrong = a.variant === 'wrong-holder' ? choose(world.executorIds().filter((id) => id !== holder?.executorId), a.pick) : undefined;
    const executorId = wrong ?? holder?.executorId ?? 'e9-9';
    const caller = world.ownerOf(executorId) ?? (holder === undefined ? world.cast.outsider : (world.byAccount.get(holder.account) ?? world.cast.outsider));
    const { spec, expect } = a.variant === 'bad-number' ? { spec: { y: number.y, x: 1, result: null }, expect: undefined } : filingFor(world, view, number, holder, carry, a.variant === 'forged');
    const code = firstOf([
        () => when(a.variant === 'bad-number', 'MERGE_NUMBER_INVALID'),
        () => when(holder?.cancelled === true, 'INVALID_STATE'),
        () => when(holder?.executorId !== executorId || holder.account !== caller.account, 'NOT_CLAIMANT'),
        () => when(world.now >= view.record.deadline, 'DEADLINE_PASSED'),
        () => when(view.filings.has(numberKey(number)), 'ALREADY_FILED'),
    ]);
    return tx(caller, 'ranks:File', [view.job.id, executorId, JSON.stringify(spec)], code === undefined ? expect : { fails: code });
}

/** Folding a balance or a reputation changes neither (checked by the invariants on every snapshot). */
function planCompact(world: World, a: Extract<Action, { t: 'compact' }>): TxPlan {
    const caller = choose(world.cast.everyone, a.by)!;
    if (a.reputation) {
        const executorId = choose([...world.snapshot.executors.keys()], a.of) ?? 'no-such-executor';
        return tx(caller, 'credits:CompactReputation', [executorId], OK);
    }
    return tx(caller, 'credits:Compact', [choose(world.cast.everyone, a.of)!.account], OK);
}

function planReassign(world: World, a: Extract<Action, { t: 'reassign' }>): TxPlan {
    const caller = choose(world.cast.everyone, a.by)!;
    const view = rankedView(world, a.job, a.anyJob);
    if (view === undefined) {
        return tx(caller, 'ranks:Reassign', [choose([...world.jobs.keys()], a.job) ?? 'no-such-job', '1'], { fails: 'NOT_FOUND' });
    }
    if (view.record.verify !== 'signature') {
        return tx(caller, 'ranks:Reassign', [view.job.id, '1'], { fails: 'INVALID_STATE' });
    }
    const rankNo = rankOf(world, view, a.rank, a.anyJob);
    const holder = view.ranks.find((r) => r.rank === rankNo);
    return tx(caller, 'ranks:Reassign', [view.job.id, String(rankNo)], holder?.cancelled === true ? { fails: 'INVALID_STATE' } : undefined);
}

// ----- replicas (quorum and credibility)

/** The replicated tasks, and one replica of one of them in the wanted states (or any replica). */
function replicaTarget(world: World, taskPick: number, pickValue: number, states: readonly ReplicaRecord['state'][]): { task: TaskRecord; replica: ReplicaRecord | undefined } | undefined {
    const replicated = tasksWhere(world, (t) => t.verify !== undefined);
    const withReplicas = replicated.filter((t) => (world.snapshot.replicas.get(t.id) ?? []).some((r) => states.includes(r.state)));
    const task = choose(withReplicas, taskPick) ?? choose(replicated, taskPick);
    if (task === undefined) {
        return undefined;
    }
    const replicas = world.snapshot.replicas.get(task.id) ?? [];
    return { task, replica: choose(replicas.filter((r) => states.includes(r.state)), pickValue) ?? choose(replicas, pickValue) };
}

/** An honest replica computes the same bytes as every other honest one; a forger's differ. */
function replicaResult(taskId: string, forged: boolean, executorId: string): Buffer {
    return Buffer.from(forged ? `forged by ${executorId}` : `result of ${taskId}`);
}

function planCommit(world: World, a: Extract<Action, { t: 'commit' }>): TxPlan {
    const target = replicaTarget(world, a.task, a.pick, ['claimed']);
    if (target === undefined) {
        return tx(world.cast.outsider, 'tasks:Commit', ['no-such-task', 'e9-9', '0'.repeat(64)], { fails: 'NOT_CLAIMANT' });
    }
    if (target.replica?.state !== 'claimed' && a.variant !== 'wrong-owner') {
        // Nothing to commit yet: move the flow on by claiming a slot of an open replicated task.
        const open = choose(tasksWhere(world, (t) => t.verify !== undefined && t.state === 'published'), a.task) ?? target.task;
        const executorId = choose(eligibleFor(world, open), a.pick) ?? choose(world.executorIds(), a.pick) ?? 'e9-9';
        return claimPlan(world, open, executorId, world.ownerOf(executorId) ?? world.cast.outsider);
    }
    const { task } = target;
    const replica = target.replica;
    if (replica === undefined) {
        return tx(world.cast.outsider, 'tasks:Commit', [task.id, 'e9-9', '0'.repeat(64)], { fails: 'NOT_CLAIMANT' });
    }
    const owner = world.byAccount.get(replica.account) ?? world.cast.outsider;
    const caller = a.variant === 'wrong-owner' ? world.other(owner, a.pick) : owner;
    const result = replicaResult(task.id, a.variant === 'forged', replica.executorId);
    const salt = Buffer.alloc(16 + (a.pick % 8), a.pick);
    const commitment = a.variant === 'garbage' ? 'not-hex' : commitmentOf(BINDING, task.id, replica.executorId, sha256(result), salt).toString('hex');
    const code = firstOf([
        () => when(a.variant === 'garbage', 'INVALID_ARGUMENT'),
        () => when(caller.account !== replica.account, 'NOT_CLAIMANT'),
        () => when(replica.state !== 'claimed', 'INVALID_STATE'),
        () => when(world.now >= replica.commitBy, 'LEASE_EXPIRED'),
    ]);
    return tx(caller, 'tasks:Commit', [task.id, replica.executorId, commitment], outcome(code), () => {
        world.sealed.set(`${task.id}:${replica.executorId}`, { result, salt });
    });
}

function planReveal(world: World, a: Extract<Action, { t: 'reveal' }>): TxPlan {
    const target = replicaTarget(world, a.task, a.pick, ['committed']);
    if (target === undefined) {
        return tx(world.cast.outsider, 'tasks:Reveal', ['no-such-task', 'e9-9', '{}'], { fails: 'NOT_FOUND' });
    }
    if (target.replica?.state !== 'committed' && a.variant === 'as-committed') {
        // Nothing to reveal yet: commit (or claim) first.
        return planCommit(world, { t: 'commit', task: a.task, pick: a.pick, variant: 'honest' });
    }
    const { task } = target;
    const replica = target.replica;
    if (replica === undefined) {
        return tx(world.cast.outsider, 'tasks:Reveal', [task.id, 'e9-9', '{}'], { fails: terminal(task) ? 'INVALID_STATE' : 'NOT_CLAIMANT' });
    }
    const owner = world.byAccount.get(replica.account) ?? world.cast.outsider;
    const argument = revealArgument(world, task, replica.executorId, a.variant);
    // Whether the window is open depends on the other replicas; only the plain refusals are predicted.
    const early = firstOf([
        () => when(terminal(task), 'INVALID_STATE'),
        () => when(replica.state === 'claimed', 'NOT_COMMITTED'),
        () => when(replica.state !== 'committed', 'INVALID_STATE'),
        () => when(world.now >= replica.revealBy, 'LEASE_EXPIRED'),
    ]);
    return tx(owner, 'tasks:Reveal', [task.id, replica.executorId, argument], early === undefined ? undefined : { fails: early });
}

/** A live replicated task (of a ranked job when asked and there is one), mostly one already under way so that short sequences reach agreements, merges and roots. */
function replicateTarget(world: World, a: Extract<Action, { t: 'replicate' }>): TaskRecord | undefined {
    const live = tasksWhere(world, (t) => t.verify !== undefined && !terminal(t));
    const ranked = live.filter((t) => t.assignment === 'ranked');
    const pool = a.ranked && ranked.length > 0 ? ranked : live;
    const started = pool.filter((t) => (world.snapshot.replicas.get(t.id) ?? []).some((r) => r.state === 'claimed' || r.state === 'committed'));
    return (a.task % 4 !== 0 ? started[0] : undefined) ?? choose(pool, a.task);
}

function planReplicate(world: World, a: Extract<Action, { t: 'replicate' }>): TxPlan {
    const task = replicateTarget(world, a);
    if (task === undefined) {
        return planCommit(world, { t: 'commit', task: a.task, pick: a.pick, variant: 'honest' });
    }
    return replicaStep(world, task, a);
}

/** The next step of the replica protocol on `task`: commit a claimed replica, else claim an open slot, else reveal. */
function replicaStep(world: World, task: TaskRecord, a: { readonly pick: number; readonly forged: boolean }): TxPlan {
    const replicas = world.snapshot.replicas.get(task.id) ?? [];
    const claimed = choose(replicas.filter((r) => r.state === 'claimed'), a.pick);
    if (claimed !== undefined) {
        const owner = world.byAccount.get(claimed.account) ?? world.cast.outsider;
        const result = replicaResult(task.id, a.forged, claimed.executorId);
        const salt = Buffer.alloc(16 + (a.pick % 8), a.pick);
        const commitment = commitmentOf(BINDING, task.id, claimed.executorId, sha256(result), salt).toString('hex');
        const expired = when(world.now >= claimed.commitBy, 'LEASE_EXPIRED');
        return tx(owner, 'tasks:Commit', [task.id, claimed.executorId, commitment], outcome(expired), () => {
            world.sealed.set(`${task.id}:${claimed.executorId}`, { result, salt });
        });
    }
    const committed = choose(replicas.filter((r) => r.state === 'committed'), a.pick);
    if (task.state === 'published' || committed === undefined) {
        const executorId = choose(eligibleFor(world, task), a.pick) ?? choose(world.executorIds(), a.pick) ?? 'e9-9';
        return claimPlan(world, task, executorId, world.ownerOf(executorId) ?? world.cast.outsider);
    }
    const owner = world.byAccount.get(committed.account) ?? world.cast.outsider;
    return tx(owner, 'tasks:Reveal', [task.id, committed.executorId, revealArgument(world, task, committed.executorId, 'as-committed')], world.now >= committed.revealBy ? { fails: 'LEASE_EXPIRED' } : undefined);
}

/** The reveal a replica sends: what it committed to, or (variants) another salt or a result it never committed. */
function revealArgument(world: World, task: TaskRecord, executorId: string, variant: Extract<Action, { t: 'reveal' }>['variant']): string {
    const sealed = world.sealed.get(`${task.id}:${executorId}`);
    // A merge task of a ranked job is signed with the job's merge key over its input (the children's hashes).
    const key = task.mergeAt === undefined ? world.taskPlans.get(task.id)?.key : world.jobs.get(task.jobId)?.mergeKey;
    const result = variant === 'unsealed' || sealed === undefined ? replicaResult(task.id, false, executorId) : sealed.result;
    const salt = variant === 'other-salt' || sealed === undefined ? Buffer.alloc(16, 0xee) : sealed.salt;
    const signatures = sign(key ?? keyAt(0), task.id, Buffer.from(task.input.sha256, 'hex'), result, task.mode);
    return JSON.stringify({ result: result.toString('base64'), salt: salt.toString('base64'), signatures });
}

function terminal(task: TaskRecord): boolean {
    return task.state === 'completed' || task.state === 'failed' || task.state === 'cancelled';
}

/** Release, Submit and ReportFailure on a replicated task: Submit is always refused; the others act on the caller's replica. */
function planReplicaCall(world: World, task: TaskRecord, a: Extract<Action, { t: 'release' | 'submit' | 'report' }>): TxPlan {
    const replica = choose(world.snapshot.replicas.get(task.id) ?? [], a.pick);
    const executorId = replica?.executorId ?? choose(world.executorIds(), a.pick) ?? 'e9-9';
    const owner = world.ownerOf(executorId) ?? world.cast.outsider;
    const caller = a.who === 'other-identity' ? world.other(owner, a.pick) : owner;
    if (a.t === 'submit') {
        return tx(caller, 'tasks:Submit', [task.id, executorId, '{}'], { fails: 'INVALID_STATE' });
    }
    if (a.t === 'release') {
        return tx(caller, 'tasks:Release', [task.id, executorId]);
    }
    const kind = FAILURE_KINDS[a.kind] ?? 'run-failed';
    return tx(caller, 'tasks:ReportFailure', [task.id, executorId, JSON.stringify({ kind, detail: 'model test' })]);
}
