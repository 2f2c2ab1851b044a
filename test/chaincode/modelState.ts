// SPDX-License-Identifier: Apache-2.0
import { realMergeCount, treeShape } from '../../chaincode/src/core/mergeTree';
import type { CreditCheckpoint, CreditDelta, CreditKind, PayoutCheckpoint, ReputationCheckpoint, ExecutorRecord, FilingRecord, JobRecord, RankRecord, ReputationDelta, ReputationReason, TaskRecord, TaskState } from '../../chaincode/src/core/model';
import { defaultParameters } from '../../chaincode/src/core/model';
import type { ReplicaRecord } from '../../chaincode/src/core/model';
import type { BlockRecord, StateView } from '../support/fabric';

/**
 * The committed world state of a ledgerwork channel decoded from its composite keys (docs/chaincode.md,
 * "State"), and the invariants the model-based test checks on it after every step. Nothing here calls
 * the chaincode: the state is read from the peer simulator's committed key-value store.
 */

/**
 * A key split into its object type and attributes: a composite key `\0type\0attr1\0…\0` (fabric-shim's
 * layout), or a time index kept as a simple key `type/time/id` so it can be range-scanned.
 */
export function splitKey(key: string): { type: string; attributes: string[] } | undefined {
    // The id may itself hold '/' (a merge task's `<job>/<y>/<x>`): the time is the second field.
    const timeIndex = /^(lw\.[a-z.]+)\/([0-9]+)\/(.+)$/.exec(key);
    if (timeIndex !== null) {
        return { type: timeIndex[1]!, attributes: [timeIndex[2]!, timeIndex[3]!] };
    }
    if (!key.startsWith('\u0000') || !key.endsWith('\u0000')) {
        return undefined;
    }
    const [type = '', ...attributes] = key.slice(1, -1).split('\u0000');
    return { type, attributes };
}

interface TaskStateEntry {
    readonly jobId: string;
    readonly state: string;
    readonly taskId: string;
}

/** Everything the invariants and the action planner need, decoded once per step. */
export interface Snapshot {
    readonly executors: ReadonlyMap<string, ExecutorRecord>;
    readonly jobs: ReadonlyMap<string, JobRecord>;
    readonly tasks: ReadonlyMap<string, TaskRecord>;
    /** Task ids of each job in publication order (the `lw.job.task` index). */
    readonly jobTasks: ReadonlyMap<string, readonly string[]>;
    readonly ranks: ReadonlyMap<string, readonly RankRecord[]>;
    /** Filings of each ranked job by `y/x`. */
    readonly filings: ReadonlyMap<string, ReadonlyMap<string, FilingRecord>>;
    readonly ranked: ReadonlySet<string>;
    /** Every credit delta, live (`lw.credit`) and folded (`lw.credit.folded`). */
    readonly credits: readonly CreditDelta[];
    readonly foldedCredits: readonly CreditDelta[];
    readonly creditCheckpoints: readonly CreditCheckpoint[];
    /** Every payout record, live (`lw.payout`) and folded. */
    readonly payouts: readonly CreditDelta[];
    readonly foldedPayouts: readonly CreditDelta[];
    readonly payoutCheckpoints: readonly PayoutCheckpoint[];
    readonly mints: readonly CreditDelta[];
    /** Every reputation delta, live and folded. */
    readonly reputation: readonly ReputationDelta[];
    readonly foldedReputation: readonly ReputationDelta[];
    readonly reputationCheckpoints: readonly ReputationCheckpoint[];
    readonly stateIndex: readonly TaskStateEntry[];
    readonly claimIndex: readonly { readonly executorId: string; readonly taskId: string; readonly leaseExpiresAt?: number }[];
    readonly leaseIndex: readonly { readonly expiry: string; readonly taskId: string }[];
    /** Replicas of each replicated task (`lw.replica`). */
    readonly replicas: ReadonlyMap<string, readonly ReplicaRecord[]>;
    /** The replica due index (`lw.replica.due/<time>/<task>:<executor>`). */
    readonly replicaDue: readonly { readonly due: number; readonly taskId: string; readonly executorId: string }[];
    readonly balances: ReadonlyMap<string, bigint>;
    readonly reputationOf: ReadonlyMap<string, number>;
    /** Keys of a type the documented layout does not have. */
    readonly unknownKeys: readonly string[];
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
    const list = map.get(key);
    if (list === undefined) {
        map.set(key, [value]);
    } else {
        list.push(value);
    }
}

function json(value: Buffer): unknown {
    return JSON.parse(value.toString('utf8'));
}

/** The lease expiry an `lw.claim` entry carries, when its value is a record rather than an index byte. */
function leaseOf(value: Buffer): { leaseExpiresAt?: number } {
    if (value.length <= 1) {
        return {};
    }
    const record = json(value) as { leaseExpiresAt?: unknown };
    return typeof record.leaseExpiresAt === 'number' ? { leaseExpiresAt: record.leaseExpiresAt } : {};
}

class SnapshotBuilder {
    readonly executors = new Map<string, ExecutorRecord>();
    readonly jobs = new Map<string, JobRecord>();
    readonly tasks = new Map<string, TaskRecord>();
    readonly jobTasks = new Map<string, string[]>();
    readonly ranks = new Map<string, RankRecord[]>();
    readonly filingLists = new Map<string, FilingRecord[]>();
    readonly ranked = new Set<string>();
    readonly credits: CreditDelta[] = [];
    readonly foldedCredits: CreditDelta[] = [];
    readonly creditCheckpoints: CreditCheckpoint[] = [];
    readonly payouts: CreditDelta[] = [];
    readonly foldedPayouts: CreditDelta[] = [];
    readonly payoutCheckpoints: PayoutCheckpoint[] = [];
    readonly mints: CreditDelta[] = [];
    readonly reputation: ReputationDelta[] = [];
    readonly foldedReputation: ReputationDelta[] = [];
    readonly reputationCheckpoints: ReputationCheckpoint[] = [];
    readonly stateIndex: TaskStateEntry[] = [];
    readonly claimIndex: { executorId: string; taskId: string; leaseExpiresAt?: number }[] = [];
    readonly leaseIndex: { expiry: string; taskId: string }[] = [];
    readonly replicas = new Map<string, ReplicaRecord[]>();
    readonly replicaDue: { due: number; taskId: string; executorId: string }[] = [];
    readonly unknownKeys: string[] = [];

    private readonly handlers: Readonly<Record<string, (attributes: readonly string[], value: Buffer) => void>> = {
        'lw.parameters': () => undefined,
        'lw.executor': (a, v) => this.executors.set(a[0] ?? '', (json(v) as ExecutorRecord)),
        'lw.executor.shard': () => undefined,
        'lw.job': (a, v) => this.jobs.set(a[0] ?? '', (json(v) as JobRecord)),
        'lw.job.publisher': () => undefined,
        'lw.job.deadline': () => undefined,
        'lw.job.tree': (a) => this.ranked.add(a[0] ?? ''),
        // A replicated ranked job's merge task of (y, x), by number; the task itself is an lw.task.
        'lw.job.merge.task': () => undefined,
        'lw.task': (a, v) => this.tasks.set(a[0] ?? '', (json(v) as TaskRecord)),
        // Keys sort by position, so pushing in key order keeps publication order.
        'lw.job.task': (a, v) => {
            push(this.jobTasks, a[0] ?? '', (json(v) as { taskId: string }).taskId);
        },
        'lw.job.task.state': (a) => this.stateIndex.push({ jobId: a[0] ?? '', state: a[1] ?? '', taskId: a[2] ?? '' }),
        'lw.executor.task': () => undefined,
        'lw.claim': (a, v) => this.claimIndex.push({ executorId: a[0] ?? '', taskId: a[1] ?? '', ...leaseOf(v) }),
        'lw.lease': (a) => this.leaseIndex.push({ expiry: a[0] ?? '', taskId: a[1] ?? '' }),
        'lw.replica': (a, v) => {
            push(this.replicas, a[0] ?? '', json(v) as ReplicaRecord);
        },
        'lw.replica.due': (a) => {
            const [taskId = '', executorId = ''] = (a[1] ?? '').split(':');
            this.replicaDue.push({ due: Number(a[0]), taskId, executorId });
        },
        'lw.rank': (a, v) => {
            push(this.ranks, a[0] ?? '', (json(v) as RankRecord));
        },
        'lw.filing': (a, v) => {
            push(this.filingLists, a[0] ?? '', (json(v) as FilingRecord));
        },
        'lw.credit': (_a, v) => this.credits.push((json(v) as CreditDelta)),
        'lw.credit.folded': (_a, v) => {
            this.credits.push(json(v) as CreditDelta);
            this.foldedCredits.push(json(v) as CreditDelta);
        },
        'lw.credit.checkpoint': (_a, v) => this.creditCheckpoints.push(json(v) as CreditCheckpoint),
        'lw.payout': (_a, v) => this.payouts.push((json(v) as CreditDelta)),
        'lw.payout.folded': (_a, v) => {
            this.payouts.push(json(v) as CreditDelta);
            this.foldedPayouts.push(json(v) as CreditDelta);
        },
        'lw.payout.checkpoint': (_a, v) => this.payoutCheckpoints.push(json(v) as PayoutCheckpoint),
        'lw.mint': (_a, v) => this.mints.push((json(v) as CreditDelta)),
        'lw.reputation': (_a, v) => this.reputation.push((json(v) as ReputationDelta)),
        'lw.reputation.folded': (_a, v) => {
            this.reputation.push(json(v) as ReputationDelta);
            this.foldedReputation.push(json(v) as ReputationDelta);
        },
        'lw.reputation.checkpoint': (_a, v) => this.reputationCheckpoints.push(json(v) as ReputationCheckpoint),
    };

    add(key: string, value: Buffer): void {
        const split = splitKey(key);
        const handler = split === undefined ? undefined : this.handlers[split.type];
        if (split === undefined || handler === undefined) {
            this.unknownKeys.push(JSON.stringify(key));
            return;
        }
        handler(split.attributes, value);
    }

    build(): Snapshot {
        const balances = new Map<string, bigint>();
        for (const delta of this.credits) {
            balances.set(delta.account, (balances.get(delta.account) ?? 0n) + BigInt(delta.amount));
        }
        const reputationOf = new Map<string, number>();
        for (const delta of this.reputation) {
            reputationOf.set(delta.executorId, (reputationOf.get(delta.executorId) ?? 0) + delta.delta);
        }
        const filings = new Map<string, Map<string, FilingRecord>>();
        for (const [jobId, list] of this.filingLists) {
            filings.set(jobId, new Map(list.map((f) => [`${f.y}/${f.x}`, f])));
        }
        const { executors, jobs, tasks, jobTasks, ranks, ranked, credits, foldedCredits, creditCheckpoints, payouts, foldedPayouts, payoutCheckpoints, mints, reputation, foldedReputation, reputationCheckpoints, stateIndex, claimIndex, leaseIndex, replicas, replicaDue, unknownKeys } = this;
        return { executors, jobs, tasks, jobTasks, ranks, filings, ranked, credits, foldedCredits, creditCheckpoints, payouts, foldedPayouts, payoutCheckpoints, mints, reputation, foldedReputation, reputationCheckpoints, stateIndex, claimIndex, leaseIndex, replicas, replicaDue, balances, reputationOf, unknownKeys };
    }
}

/** Decodes the committed state. */
export function readSnapshot(state: StateView): Snapshot {
    const builder = new SnapshotBuilder();
    for (const { key, value } of state.entries()) {
        builder.add(key, value);
    }
    return builder.build();
}

/** An invariant that does not hold, with what was seen. */
export class InvariantViolation extends Error {
    constructor(invariant: string, detail: string) {
        super(`invariant "${invariant}" violated: ${detail}`);
        this.name = 'InvariantViolation';
    }
}

function ensure(condition: boolean, invariant: string, detail: () => string): void {
    if (!condition) {
        throw new InvariantViolation(invariant, detail());
    }
}

const terminal: readonly TaskState[] = ['completed', 'failed', 'cancelled'];

/** The transactions that may emit each event (docs/chaincode.md, "Events"). */
const eventsOf: Readonly<Record<string, readonly string[]>> = {
    'credits:Mint': ['CreditsMinted'],
    'credits:Compact': ['BalanceCompacted'],
    'credits:CompactReputation': ['ReputationCompacted'],
    'credits:SetParameters': ['ParametersSet'],
    'executors:Register': ['ExecutorRegistered'],
    'executors:Update': ['ExecutorUpdated'],
    'executors:Retire': ['ExecutorRetired'],
    'executors:Suspend': ['ExecutorSuspended'],
    'executors:Reinstate': ['ExecutorReinstated'],
    'jobs:Publish': ['JobPublished'],
    'jobs:AddTasks': ['TasksPublished'],
    'jobs:Cancel': ['JobCancelled'],
    'tasks:Claim': ['TaskClaimed', 'ReplicaClaimed'],
    'tasks:Commit': ['ReplicaCommitted'],
    'tasks:Reveal': ['ReplicaRevealed', 'ResultAccepted', 'ResultRejected', 'ReplicationFailed', 'JobCompleted'],
    'tasks:Release': ['TaskReleased'],
    'tasks:Submit': ['ResultAccepted', 'ResultRejected'],
    'tasks:ReportFailure': ['RunFailed'],
    'tasks:SweepExpired': ['LeaseExpired', 'JobExpired', 'NothingExpired'],
    'ranks:File': ['MergeFiled', 'JobCompleted', 'ResultRejected'],
    'ranks:Reassign': ['RankReassigned'],
};

/** The transactions that may write each kind of reputation delta: outcomes only (SPEC §7). */
const reputationWriters: Readonly<Record<ReputationReason, readonly string[]>> = {
    accepted: ['tasks:Submit', 'tasks:Reveal', 'ranks:File'],
    'merge-accepted': ['ranks:File'],
    rejected: ['tasks:Submit', 'tasks:Reveal', 'ranks:File'],
    'lease-expired': ['tasks:SweepExpired', 'tasks:Claim', 'tasks:Reveal', 'ranks:Reassign'],
    'cancel-compensation': ['jobs:Cancel'],
};

/** The transactions that may write each kind of credit delta. */
const creditWriters: Readonly<Record<CreditKind, readonly string[]>> = {
    mint: ['credits:Mint'],
    escrow: ['jobs:Publish', 'jobs:AddTasks'],
    payout: ['tasks:Submit', 'tasks:Reveal', 'ranks:File'],
    'merge-payout': ['ranks:File'],
    'cancel-fee': ['jobs:Cancel'],
    refund: ['jobs:Cancel', 'tasks:SweepExpired', 'tasks:Submit', 'tasks:Reveal', 'tasks:ReportFailure', 'ranks:File'],
    'storage-fee': ['programs:Store'],
};

/**
 * The committed transactions seen so far (valid ones by transaction id), read block by block from the
 * simulator. Checks as it goes that every valid transaction carries exactly the one event its
 * function may emit.
 */
export class CommitLog {
    readonly valid = new Map<string, string>();
    /** How many committed transactions emitted each event. */
    readonly events = new Map<string, number>();
    #blocks = 0;

    update(blocks: readonly BlockRecord[]): void {
        for (; this.#blocks < blocks.length; this.#blocks++) {
            for (const tx of blocks[this.#blocks]?.transactions ?? []) {
                if (tx.validationCode !== 'VALID') {
                    continue;
                }
                const event = tx.event;
                ensure(event !== undefined, 'one event per committed transaction', () => `${tx.fn} ${tx.txId} committed without an event`);
                const allowed = eventsOf[tx.fn] ?? [];
                ensure(allowed.includes(event?.name ?? ''), 'one event per committed transaction', () => `${tx.fn} emitted ${event?.name ?? '-'}; expected one of ${allowed.join(', ')}`);
                this.valid.set(tx.txId, tx.fn);
                this.events.set(event?.name ?? '', (this.events.get(event?.name ?? '') ?? 0) + 1);
            }
        }
    }
}

/** Checks every invariant on a snapshot; throws {@link InvariantViolation} on the first that fails. */
export function checkInvariants(snapshot: Snapshot, log: CommitLog): void {
    ensure(snapshot.unknownKeys.length === 0, 'only documented keys', () => snapshot.unknownKeys.slice(0, 3).join(', '));
    checkConservation(snapshot);
    checkCheckpoints(snapshot);
    checkTaskStates(snapshot);
    checkClaims(snapshot);
    checkPayouts(snapshot);
    checkReplicatedTrees(snapshot);
    checkReputation(snapshot, log);
    checkCreditOrigins(snapshot, log);
}

/** Escrow: rewards of unfinished tasks plus merge rewards not yet paid of ranked jobs still running. */
export function escrowOf(snapshot: Snapshot): bigint {
    let escrow = 0n;
    for (const task of snapshot.tasks.values()) {
        if (!terminal.includes(task.state)) {
            escrow += BigInt(task.reward) * BigInt(task.verify?.maxReplicas ?? 1);
        }
    }
    for (const job of snapshot.jobs.values()) {
        if (job.merge === undefined || (job.state !== 'publishing' && job.state !== 'open')) {
            continue;
        }
        if (job.verify === 'signature') {
            const paid = [...(snapshot.filings.get(job.id)?.values() ?? [])].filter((f) => f.kind === 'merge').length;
            escrow += BigInt(job.merge.reward) * BigInt(realMergeCount(treeShape(job.taskCount)) - paid);
        } else {
            // Under a replicated policy a merge is escrowed × maxReplicas; once its merge task is published the task holds it (counted above).
            const published = [...snapshot.tasks.values()].filter((t) => t.jobId === job.id && t.mergeAt !== undefined).length;
            escrow += BigInt(job.merge.reward) * BigInt(job.verify.maxReplicas) * BigInt(realMergeCount(treeShape(job.taskCount)) - published);
        }
    }
    return escrow;
}

function checkConservation(snapshot: Snapshot): void {
    const minted = snapshot.mints.reduce((sum, d) => sum + BigInt(d.amount), 0n);
    const mintCredits = snapshot.credits.filter((d) => d.kind === 'mint').reduce((sum, d) => sum + BigInt(d.amount), 0n);
    ensure(minted === mintCredits, 'credits conserved', () => `lw.mint records sum to ${minted} but mint credits to ${mintCredits}`);
    const balances = [...snapshot.balances.values()].reduce((sum, b) => sum + b, 0n);
    const escrow = escrowOf(snapshot);
    ensure(minted === balances + escrow, 'credits conserved', () => `minted ${minted} != balances ${balances} + escrow ${escrow} (off by ${minted - balances - escrow})`);
    for (const [account, balance] of snapshot.balances) {
        ensure(balance >= 0n, 'credits conserved', () => `account ${account.slice(0, 12)} has a negative balance ${balance}`);
    }
}

/** A checkpoint is exactly the sum (and count, and per-kind sums) of its owner's folded deltas or payouts; no folded record is without one. */
function checkCheckpoints(snapshot: Snapshot): void {
    const credit = new Map(snapshot.creditCheckpoints.map((c) => [c.account, c]));
    const creditOwners = new Set([...credit.keys(), ...snapshot.foldedCredits.map((d) => d.account)]);
    for (const account of creditOwners) {
        const folded = snapshot.foldedCredits.filter((d) => d.account === account);
        const checkpoint = credit.get(account);
        const byKind: Record<string, string> = {};
        for (const delta of folded) {
            byKind[delta.kind] = (BigInt(byKind[delta.kind] ?? '0') + BigInt(delta.amount)).toString();
        }
        const total = folded.reduce((sum, d) => sum + BigInt(d.amount), 0n);
        ensure(
            checkpoint !== undefined && checkpoint.total === total.toString() && checkpoint.folded === folded.length && JSON.stringify(Object.entries(checkpoint.byKind).sort()) === JSON.stringify(Object.entries(byKind).sort()),
            'credits conserved',
            () => `account ${account.slice(0, 12)}: checkpoint ${JSON.stringify(checkpoint)} but ${folded.length} folded deltas sum to ${total}`,
        );
    }
    const payout = new Map(snapshot.payoutCheckpoints.map((c) => [c.executorId, c]));
    for (const executorId of new Set([...payout.keys(), ...snapshot.foldedPayouts.map((d) => d.executorId ?? '')])) {
        const folded = snapshot.foldedPayouts.filter((d) => d.executorId === executorId);
        const checkpoint = payout.get(executorId);
        const earned = folded.reduce((sum, d) => sum + BigInt(d.amount), 0n);
        ensure(checkpoint !== undefined && checkpoint.earned === earned.toString() && checkpoint.folded === folded.length, 'no task paid twice', () => `executor ${executorId}: payout checkpoint ${JSON.stringify(checkpoint)} but ${folded.length} folded payouts sum to ${earned}`);
    }
    const reputation = new Map(snapshot.reputationCheckpoints.map((c) => [c.executorId, c]));
    for (const executorId of new Set([...reputation.keys(), ...snapshot.foldedReputation.map((d) => d.executorId)])) {
        const folded = snapshot.foldedReputation.filter((d) => d.executorId === executorId);
        const checkpoint = reputation.get(executorId);
        const total = folded.reduce((sum, d) => sum + d.delta, 0);
        ensure(checkpoint !== undefined && checkpoint.total === total && checkpoint.folded === folded.length, 'reputation only through outcomes', () => `executor ${executorId}: checkpoint ${JSON.stringify(checkpoint)} but ${folded.length} folded deltas sum to ${total}`);
    }
}

function checkTaskStates(snapshot: Snapshot): void {
    const byTask = new Map<string, TaskStateEntry[]>();
    for (const entry of snapshot.stateIndex) {
        push(byTask, entry.taskId, entry);
    }
    for (const [taskId, task] of snapshot.tasks) {
        const entries = byTask.get(taskId) ?? [];
        ensure(
            entries.length === 1 && entries[0]?.state === task.state && entries[0].jobId === task.jobId,
            'each task in exactly one state',
            () => `task ${taskId} is ${task.state} but its state index holds ${JSON.stringify(entries.map((e) => e.state))}`,
        );
    }
    for (const taskId of byTask.keys()) {
        ensure(snapshot.tasks.has(taskId), 'each task in exactly one state', () => `state index entry for missing task ${taskId}`);
    }
    for (const [jobId, taskIds] of snapshot.jobTasks) {
        const job = snapshot.jobs.get(jobId);
        ensure(job !== undefined && job.publishedCount === taskIds.length, 'each task in exactly one state', () => `job ${jobId} counts ${job?.publishedCount ?? '-'} published tasks, its index ${taskIds.length}`);
    }
}

function checkClaims(snapshot: Snapshot): void {
    const claimsOf = new Map<string, string[]>();
    for (const { executorId, taskId, leaseExpiresAt } of snapshot.claimIndex) {
        push(claimsOf, taskId, executorId);
        const task = snapshot.tasks.get(taskId);
        const claim = task?.claim;
        ensure(task?.verify !== undefined || leaseExpiresAt === undefined || leaseExpiresAt === claim?.leaseExpiresAt, 'one claimant per claimed task', () => `lw.claim of ${executorId} on ${taskId} says the lease ends at ${leaseExpiresAt}, the task ${claim?.leaseExpiresAt ?? '-'}`);
    }
    const leasesOf = new Map<string, string[]>();
    for (const { expiry, taskId } of snapshot.leaseIndex) {
        push(leasesOf, taskId, expiry);
    }
    for (const [taskId, task] of snapshot.tasks) {
        if (task.verify === undefined) {
            checkClaim(task, claimsOf.get(taskId) ?? [], leasesOf.get(taskId) ?? []);
        } else {
            checkReplicaClaims(snapshot, task, leasesOf.get(taskId) ?? []);
        }
    }
    for (const taskId of [...claimsOf.keys(), ...leasesOf.keys()]) {
        ensure(snapshot.tasks.has(taskId), 'one claimant per claimed task', () => `claim or lease index entry for missing task ${taskId}`);
    }
}

/**
 * A replicated task has no single claim and no lease entry; its replicas in flight (claimed or
 * committed) each hold one lw.claim entry (lease = reveal deadline) and one due-index entry (commit
 * deadline while claimed, reveal deadline once committed); other replicas hold neither. Counted
 * replicas (claimed, committed, revealed) come from distinct organizations; the replicas never
 * outnumber maxReplicas.
 */
function checkReplicaClaims(snapshot: Snapshot, task: TaskRecord, leases: readonly string[]): void {
    const replicas = snapshot.replicas.get(task.id) ?? [];
    const flying = replicas.filter((r) => r.state === 'claimed' || r.state === 'committed');
    const claims = snapshot.claimIndex.filter((c) => c.taskId === task.id);
    const due = snapshot.replicaDue.filter((d) => d.taskId === task.id);
    const show = (list: readonly unknown[]): string => JSON.stringify(list);
    ensure(task.claim === undefined && leases.length === 0, 'one claimant per claimed task', () => `replicated task ${task.id} has a claim or lease entry`);
    ensure(
        JSON.stringify(claims.map((c) => [c.executorId, c.leaseExpiresAt]).sort()) === JSON.stringify(flying.map((r) => [r.executorId, r.revealBy]).sort()),
        'one claimant per claimed task',
        () => `task ${task.id}: replicas in flight ${show(flying.map((r) => r.executorId))}, lw.claim ${show(claims)}`,
    );
    ensure(
        JSON.stringify(due.map((d) => [d.executorId, d.due]).sort()) === JSON.stringify(flying.map((r) => [r.executorId, r.state === 'claimed' ? r.commitBy : r.revealBy]).sort()),
        'one claimant per claimed task',
        () => `task ${task.id}: replicas in flight ${show(flying.map((r) => r.executorId))}, due index ${show(due)}`,
    );
    const counted = replicas.filter((r) => r.state === 'claimed' || r.state === 'committed' || r.state === 'revealed');
    ensure(new Set(counted.map((r) => r.shard)).size === counted.length, 'replicas from distinct organizations', () => `task ${task.id}: counted replicas ${show(counted.map((r) => [r.executorId, r.shard]))}`);
    ensure(replicas.length <= (task.verify?.maxReplicas ?? 0), 'replicas within maxReplicas', () => `task ${task.id} has ${replicas.length} replicas`);
    ensure(!terminal.includes(task.state) || flying.length === 0, 'one claimant per claimed task', () => `task ${task.id} is ${task.state} with replicas in flight ${show(flying.map((r) => r.executorId))}`);
}

/** A claimed task has exactly its claimant's lw.claim entry and one lease entry; other tasks none; assigned tasks a holder, published ones none. */
function checkClaim(task: TaskRecord, claimants: readonly string[], leases: readonly string[]): void {
    const claim = task.claim;
    if (task.state === 'claimed') {
        ensure(claim !== undefined && claimants.length === 1 && claimants[0] === claim.executorId, 'one claimant per claimed task', () => `task ${task.id} claimed by ${claim?.executorId ?? '-'}; lw.claim entries ${JSON.stringify(claimants)}`);
        ensure(leases.length === 1 && Number(leases[0]) === claim?.leaseExpiresAt, 'one claimant per claimed task', () => `task ${task.id} lease ${claim?.leaseExpiresAt ?? '-'}; lw.lease entries ${JSON.stringify(leases)}`);
        return;
    }
    ensure(claimants.length === 0 && leases.length === 0, 'one claimant per claimed task', () => `task ${task.id} is ${task.state} but has lw.claim ${JSON.stringify(claimants)} / lw.lease ${JSON.stringify(leases)}`);
    if (task.state === 'assigned' || task.state === 'published') {
        ensure((task.state === 'assigned') === (claim !== undefined), 'one claimant per claimed task', () => `task ${task.id} is ${task.state} with claim ${JSON.stringify(claim)}`);
    }
}

function checkPayouts(snapshot: Snapshot): void {
    const paid = new Map<string, CreditDelta[]>();
    const fees = new Map<string, CreditDelta[]>();
    for (const delta of snapshot.credits) {
        if (delta.kind === 'payout') {
            push(paid, delta.taskId ?? '', delta);
        } else if (delta.kind === 'cancel-fee') {
            push(fees, delta.taskId ?? '', delta);
        }
    }
    for (const [taskId, task] of snapshot.tasks) {
        if (task.verify === undefined) {
            checkTaskPayout(task, paid.get(taskId) ?? []);
        } else {
            checkReplicaPayouts(task, snapshot.replicas.get(taskId) ?? [], paid.get(taskId) ?? []);
        }
        const taskFees = fees.get(taskId) ?? [];
        const feesAllowed = cancellationFeesAllowed(snapshot, task);
        ensure(taskFees.length <= feesAllowed, 'no task paid twice', () => `task ${taskId} is ${task.state} and has ${taskFees.length} cancellation fees`);
        ensure(new Set(taskFees.map((f) => f.executorId)).size === taskFees.length, 'no task paid twice', () => `task ${taskId} pays one executor two cancellation fees`);
    }
    for (const taskId of paid.keys()) {
        ensure(snapshot.tasks.has(taskId), 'no task paid twice', () => `payout for unknown task ${taskId}`);
    }
    checkMergePayouts(snapshot);
    checkPayoutMirror(snapshot);
}

/** A completed task has exactly one payout — its reward, to the claimant whose result was accepted, in that transaction — and other tasks none. */
function checkTaskPayout(task: TaskRecord, payouts: readonly CreditDelta[]): void {
    const want = task.state === 'completed' ? 1 : 0;
    ensure(payouts.length === want, 'no task paid twice', () => `task ${task.id} is ${task.state} and has ${payouts.length} payouts`);
    const payout = payouts[0];
    if (payout === undefined) {
        return;
    }
    const result = task.result;
    const claim = task.claim;
    ensure(
        payout.amount === task.reward && result !== undefined && payout.executorId === result.executorId && payout.txId === result.txId && (claim === undefined || payout.account === claim.account),
        'no task paid twice',
        () =>
            `task ${task.id} (reward ${task.reward}, accepted from ${result?.executorId ?? '-'} in ${result?.txId ?? '-'}, claimant account ${claim?.account.slice(0, 12) ?? '-'}) ` +
            `paid ${payout.amount} to ${payout.executorId ?? '-'} / account ${payout.account.slice(0, 12)} in ${payout.txId}`,
    );
}

/** A cancelled task pays one fee to its claimant, or one to each replica that was in flight; other tasks none. */
function cancellationFeesAllowed(snapshot: Snapshot, task: TaskRecord): number {
    if (task.state !== 'cancelled') {
        return 0;
    }
    return task.verify === undefined ? 1 : (snapshot.replicas.get(task.id) ?? []).filter((r) => r.state === 'superseded').length;
}

/**
 * A replicated task is paid only once it is completed: exactly its agreeing replicas, each once, the
 * reward, in the accepting transaction. They revealed the accepted value, and they are enough for the
 * policy: k distinct organizations under quorum, the trust level under credibility.
 */
function checkReplicaPayouts(task: TaskRecord, replicas: readonly ReplicaRecord[], payouts: readonly CreditDelta[]): void {
    const agreeing = replicas.filter((r) => r.verdict === 'agreed');
    const show = (list: readonly unknown[]): string => JSON.stringify(list);
    if (task.state !== 'completed') {
        ensure(payouts.length === 0 && agreeing.length === 0, 'no task paid twice', () => `task ${task.id} is ${task.state} with payouts ${show(payouts.map((p) => p.executorId))}`);
        return;
    }
    const result = task.result;
    const perReplica = new Map<string, number>();
    for (const payout of payouts) {
        perReplica.set(payout.executorId ?? '', (perReplica.get(payout.executorId ?? '') ?? 0) + 1);
    }
    ensure([...perReplica.values()].every((n) => n === 1), 'each replica paid at most once', () => `task ${task.id}: payouts per replica ${show([...perReplica.entries()])}`);
    // The replicas that agree are those that revealed the accepted value — read from their records, not from the verdicts the chaincode wrote.
    const agreed = replicas.filter((r) => r.state === 'revealed' && r.resultSha256 !== undefined && r.resultSha256 === result?.sha256);
    ensure(
        JSON.stringify(payouts.map((p) => [p.executorId, p.amount, p.account, p.txId]).sort()) === JSON.stringify(agreed.map((r) => [r.executorId, task.reward, r.account, result?.txId]).sort()),
        'each replica paid at most once',
        () => `task ${task.id}: replicas that revealed the accepted value ${show(agreed.map((r) => r.executorId))}, payouts ${show(payouts.map((p) => [p.executorId, p.amount]))}`,
    );
    ensure(JSON.stringify(agreeing.map((r) => r.executorId).sort()) === JSON.stringify(agreed.map((r) => r.executorId).sort()), 'no value accepted without agreement', () => `task ${task.id}: verdict "agreed" on ${show(agreeing.map((r) => r.executorId))}, revealed the value ${show(agreed.map((r) => r.executorId))}`);
    ensure(agreementReached(task, replicas), 'no value accepted without agreement', () => `task ${task.id} accepted ${result?.sha256.slice(0, 12) ?? '-'} from ${show(agreed.map((r) => [r.executorId, r.shard, r.reputation]))} under ${JSON.stringify(task.verify)}`);
}

/**
 * Whether the task's accepted value has the agreement its policy needs, computed here from the
 * replica records: quorum k — revealed by replicas of k distinct organizations; credibility — the
 * value's credibility (Sarmenta's rule over every revealed replica, each erring with 10 / (50 + r),
 * 1/2 for a negative reputation; docs/chaincode.md) reaches the trust level, in exact integers.
 */
function agreementReached(task: TaskRecord, replicas: readonly ReplicaRecord[]): boolean {
    const value = task.result?.sha256;
    const revealed = replicas.filter((r) => r.state === 'revealed' && r.resultSha256 !== undefined);
    const policy = task.verify;
    if (value === undefined || policy === undefined) {
        return false;
    }
    if (policy.policy === 'quorum') {
        return new Set(revealed.filter((r) => r.resultSha256 === value).map((r) => r.shard)).size >= policy.k;
    }
    const error = (reputation: number): [bigint, bigint] => (reputation < 0 ? [1n, 2n] : [10n, 50n + BigInt(reputation)]);
    const likelihood = (of: string | undefined): bigint =>
        revealed.reduce((product, r) => {
            const [numerator, denominator] = error(r.reputation);
            return product * (r.resultSha256 === of ? denominator - numerator : numerator);
        }, 1n);
    const values = [...new Set(revealed.map((r) => r.resultSha256))];
    const total = values.reduce((sum, v) => sum + likelihood(v), likelihood(undefined));
    const digits = policy.trust.slice(2);
    return likelihood(value) * 10n ** BigInt(digits.length) >= BigInt(digits) * total;
}

/**
 * Ranked jobs under a replicated policy, from their filings, tasks and replicas: every number filed
 * as a leaf or a merge is the accepted value of the task computing it — the job's task at that
 * position, or the merge task `<job>/<y>/<x>` — accepted with the agreement the policy needs; a
 * pass-through carries its left child's value; every merge task (accepted or not) was published only
 * once both its children were filed, and its input is exactly their filed values' hashes, so a merge
 * uses only accepted children; a completed task of such a job has its number filed; a completed job
 * has its root filed. Nothing is filed through ranks (no rank records).
 */
function checkReplicatedTrees(snapshot: Snapshot): void {
    for (const job of snapshot.jobs.values()) {
        if (job.merge === undefined || job.verify === 'signature') {
            continue;
        }
        const filings = snapshot.filings.get(job.id) ?? new Map<string, FilingRecord>();
        const taskIds = snapshot.jobTasks.get(job.id) ?? [];
        ensure((snapshot.ranks.get(job.id) ?? []).length === 0, 'no value accepted without agreement', () => `replicated ranked job ${job.id} has rank holders`);
        for (const filing of filings.values()) {
            checkReplicatedFiling(snapshot, job, filing, filings, taskIds);
        }
        for (const task of snapshot.tasks.values()) {
            if (task.jobId === job.id) {
                checkReplicatedTreeTask(task, filings);
            }
        }
        if (job.state === 'completed') {
            const height = treeShape(job.taskCount).height;
            ensure(filings.has(`${height}/1`), 'no value accepted without agreement', () => `job ${job.id} is completed without its root (${height}, 1) filed`);
        }
    }
}

/** A merge task's input is its children's filed hashes; a completed task of the tree has its number filed from it. */
function checkReplicatedTreeTask(task: TaskRecord, filings: ReadonlyMap<string, FilingRecord>): void {
    const at = task.mergeAt ?? { y: 1, x: task.index };
    if (task.mergeAt !== undefined) {
        const left = filings.get(`${at.y - 1}/${2 * at.x - 1}`);
        const right = filings.get(`${at.y - 1}/${2 * at.x}`);
        const expected = left?.sha256 !== undefined && right?.sha256 !== undefined ? Buffer.from(left.sha256 + right.sha256, 'hex').toString('base64') : undefined;
        ensure(expected !== undefined && task.input.inline === expected, 'a merge uses only accepted children', () => `merge task ${task.id} has input ${task.input.inline ?? '-'}; its children are filed as ${left?.sha256 ?? '-'} and ${right?.sha256 ?? '-'}`);
    }
    if (task.state === 'completed') {
        ensure(filings.get(`${at.y}/${at.x}`)?.taskId === task.id, 'no value accepted without agreement', () => `task ${task.id} of ${task.jobId} is completed but (${at.y}, ${at.x}) is not filed from it`);
    }
}

function checkReplicatedFiling(snapshot: Snapshot, job: JobRecord, filing: FilingRecord, filings: ReadonlyMap<string, FilingRecord>, taskIds: readonly string[]): void {
    const at = `(${filing.y}, ${filing.x}) of ${job.id}`;
    if (filing.kind === 'pass-through') {
        const left = filings.get(`${filing.y - 1}/${2 * filing.x - 1}`);
        ensure(left !== undefined && left.sha256 === filing.sha256 && !filings.has(`${filing.y - 1}/${2 * filing.x}`), 'a merge uses only accepted children', () => `pass-through ${at} carries ${filing.sha256 ?? '-'}, its left child ${left?.sha256 ?? 'unfiled'}`);
        return;
    }
    ensure(filing.kind === 'leaf' || filing.kind === 'merge', 'no value accepted without agreement', () => `${at} is filed as ${filing.kind}`);
    const expectedTask = filing.kind === 'leaf' ? taskIds[filing.x - 1] : `${job.id}/${filing.y}/${filing.x}`;
    const task = snapshot.tasks.get(filing.taskId ?? '');
    ensure(
        filing.taskId === expectedTask && task?.state === 'completed' && task.result?.sha256 === filing.sha256 && task.verify !== undefined,
        'no value accepted without agreement',
        () => `${at} is filed from task ${filing.taskId ?? '-'} (${task?.state ?? 'missing'}, value ${task?.result?.sha256.slice(0, 12) ?? '-'}); expected the accepted value of ${expectedTask ?? '-'}`,
    );
    ensure(task !== undefined && agreementReached(task, snapshot.replicas.get(task.id) ?? []), 'no value accepted without agreement', () => `${at} is filed without the agreement ${JSON.stringify(job.verify)} needs`);
}

function checkMergePayouts(snapshot: Snapshot): void {
    const perJob = new Map<string, number>();
    for (const delta of snapshot.credits) {
        if (delta.kind === 'merge-payout') {
            perJob.set(delta.jobId ?? '', (perJob.get(delta.jobId ?? '') ?? 0) + 1);
        }
    }
    for (const jobId of new Set([...perJob.keys(), ...snapshot.filings.keys()])) {
        if (snapshot.jobs.get(jobId)?.verify !== 'signature') {
            // Under a replicated policy merges are tasks, paid to their agreeing replicas (checkReplicaPayouts).
            ensure(!perJob.has(jobId), 'no task paid twice', () => `job ${jobId} is verified by replicas but has merge payouts`);
            continue;
        }
        const merges = [...(snapshot.filings.get(jobId)?.values() ?? [])].filter((f) => f.kind === 'merge').length;
        ensure((perJob.get(jobId) ?? 0) === merges, 'no task paid twice', () => `job ${jobId} has ${merges} merge filings and ${perJob.get(jobId) ?? 0} merge payouts`);
    }
}

/** Every payout, merge payout and cancellation fee is listed under its executor (`lw.payout`), and nothing else is. */
function checkPayoutMirror(snapshot: Snapshot): void {
    const expected = snapshot.credits
        .filter((d) => (d.kind === 'payout' || d.kind === 'merge-payout' || d.kind === 'cancel-fee') && d.executorId !== undefined)
        .map((d) => JSON.stringify(d))
        .sort();
    const listed = snapshot.payouts.map((d) => JSON.stringify(d)).sort();
    ensure(JSON.stringify(expected) === JSON.stringify(listed), 'no task paid twice', () => `lw.payout holds ${listed.length} records, the credit deltas call for ${expected.length}`);
}

function checkReputation(snapshot: Snapshot, log: CommitLog): void {
    const gain = defaultParameters.reputationGain;
    const magnitude: Readonly<Record<ReputationReason, number>> = {
        accepted: gain,
        'merge-accepted': gain,
        'cancel-compensation': gain,
        rejected: -gain * defaultParameters.penaltyMultiplier,
        'lease-expired': -gain * defaultParameters.penaltyMultiplier,
    };
    for (const delta of snapshot.reputation) {
        const writers = reputationWriters[delta.reason] as readonly string[] | undefined;
        const fn = log.valid.get(delta.txId);
        ensure(writers !== undefined, 'reputation only through outcomes', () => `delta with reason ${JSON.stringify(delta.reason)}`);
        ensure(fn !== undefined && (writers ?? []).includes(fn), 'reputation only through outcomes', () => `${delta.reason} delta for ${delta.executorId} written by ${fn ?? 'no committed transaction'} (${delta.txId})`);
        ensure(delta.delta === magnitude[delta.reason], 'reputation only through outcomes', () => `${delta.reason} delta of ${delta.delta} for ${delta.executorId}`);
        ensure(snapshot.executors.has(delta.executorId), 'reputation only through outcomes', () => `delta for unregistered executor ${delta.executorId}`);
    }
}

function checkCreditOrigins(snapshot: Snapshot, log: CommitLog): void {
    for (const delta of snapshot.credits) {
        const writers = creditWriters[delta.kind] as readonly string[] | undefined;
        const fn = log.valid.get(delta.txId);
        ensure(fn !== undefined && (writers ?? []).includes(fn), 'credits move only through the right transactions', () => `${delta.kind} of ${delta.amount} written by ${fn ?? 'no committed transaction'}`);
        const positive = delta.kind !== 'escrow';
        ensure(positive === (BigInt(delta.amount) > 0n), 'credits move only through the right transactions', () => `${delta.kind} of ${delta.amount}`);
    }
}
