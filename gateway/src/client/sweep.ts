// SPDX-License-Identifier: Apache-2.0
/**
 * Enforcing time from the client side. The chaincode never acts on its own: an abandoned claim
 * stays `claimed` after its lease and a job stays `open` after its deadline until somebody sends
 * `tasks:SweepExpired` (or `ranks:Reassign` for a ranked job's overdue rank). Whoever waits on a
 * job — `job watch`, an executor, an operator's `ledgerwork sweep` — settles what holds it up.
 */
import { ChaincodeError } from './errors';
import type { LedgerworkClient } from './ledgerworkClient';

/** The ledger operations a sweep uses (LedgerworkClient provides them). */
export type SweepPort = Pick<LedgerworkClient, 'getJob' | 'listTasksByJob' | 'sweepExpired' | 'getMergeTree' | 'reassignRank'>;

/** What one sweep settled. */
export interface SweepOutcome {
    /** Claims whose lease had ended, now failed attempts (the task claimable again or failed). */
    readonly leasesExpired: number;
    /** Jobs past their deadline, now `expired` with their unfinished tasks refunded. */
    readonly jobsExpired: readonly string[];
    /** Ranks of a ranked job handed to another executor because their holder was overdue. */
    readonly ranksReassigned: readonly number[];
}

const NOTHING: SweepOutcome = { leasesExpired: 0, jobsExpired: [], ranksReassigned: [] };

/** How many expired records one SweepExpired transaction settles at most. */
const SWEEP_LIMIT = 100;
/** At most this many SweepExpired transactions per call, so a sweep always ends. */
const MAX_SWEEP_ROUNDS = 20;
/** Ranks tried per sweep of a ranked job (each try is one endorsement). */
const MAX_REASSIGN_TRIES = 4;

/**
 * Expires whatever is due on the whole channel: up to 100 × 20 claims and jobs. Repeats
 * SweepExpired while a round comes back full.
 */
export async function sweepAll(ledger: Pick<LedgerworkClient, 'sweepExpired'>): Promise<SweepOutcome> {
    let leases = 0;
    const jobs: string[] = [];
    for (let round = 0; round < MAX_SWEEP_ROUNDS; round++) {
        const swept = await ledger.sweepExpired(SWEEP_LIMIT);
        leases += swept.leasesExpired.length;
        jobs.push(...swept.jobsExpired);
        if (swept.leasesExpired.length < SWEEP_LIMIT && swept.jobsExpired.length < SWEEP_LIMIT) {
            break;
        }
    }
    return { leasesExpired: leases, jobsExpired: jobs, ranksReassigned: [] };
}

/**
 * Settles what holds up job `jobId` and has run out of time at `now` (ms, the clock transactions
 * carry): sweeps when the job is past its deadline or one of its claims is past its lease, and —
 * when `stalledMs` (how long the caller has seen no progress) exceeds the job's lease — asks for
 * the ranks of the lowest unfiled merge level to be reassigned. Refusals that only mean "not due
 * yet" are ignored; anything else is thrown. Sends no transaction when nothing is due.
 */
export async function sweepJob(ledger: SweepPort, jobId: string, now: number, stalledMs = 0): Promise<SweepOutcome> {
    const job = await ledger.getJob(jobId);
    if (job.state !== 'open' && job.state !== 'publishing') {
        return NOTHING;
    }
    if (now >= job.deadline || (await hasExpiredLease(ledger, jobId, now))) {
        return sweepAll(ledger);
    }
    if (job.assignment === 'ranked' && stalledMs > job.leaseMs) {
        return { ...NOTHING, ranksReassigned: await reassignOverdueRanks(ledger, jobId) };
    }
    return NOTHING;
}

async function hasExpiredLease(ledger: SweepPort, jobId: string, now: number): Promise<boolean> {
    let bookmark = '';
    do {
        const page = await ledger.listTasksByJob(jobId, 'claimed', 1000, bookmark);
        if (page.items.some((task) => task.claim !== undefined && task.claim.leaseExpiresAt <= now)) {
            return true;
        }
        bookmark = page.bookmark;
    } while (bookmark !== '');
    return false;
}

/** Tries the holders of the lowest missing merge numbers; the chaincode decides which are overdue. */
async function reassignOverdueRanks(ledger: SweepPort, jobId: string): Promise<number[]> {
    const tree = await ledger.getMergeTree(jobId);
    const lowest = Math.min(...tree.missing.map((n) => n.y));
    const ranks = [...new Set(tree.missing.filter((n) => n.y === lowest).map((n) => n.rank))].slice(0, MAX_REASSIGN_TRIES);
    const moved: number[] = [];
    for (const rank of ranks) {
        try {
            await ledger.reassignRank(jobId, rank);
            moved.push(rank);
        } catch (err) {
            // Not overdue yet, or no other executor to take it: nothing to settle now.
            if (!(err instanceof ChaincodeError && (err.code === 'INVALID_STATE' || err.code === 'TOO_FEW_EXECUTORS'))) {
                throw err;
            }
        }
    }
    return moved;
}

/**
 * Calls sweepJob at most every `everyMs` for a caller that polls a job, tracking how long the
 * job has made no progress. `observe(progressKey)` after each poll; `maybeSweep(now)` when idle.
 */
export class JobSweeper {
    #lastSweep = -Infinity;
    #lastKey: string | undefined;
    #lastChange: number;

    constructor(
        private readonly ledger: SweepPort,
        readonly jobId: string,
        private readonly everyMs: number,
        now: number,
    ) {
        this.#lastChange = now;
    }

    /** Records what the caller saw (any text that changes when the job makes progress). */
    observe(progressKey: string, now: number): void {
        if (progressKey !== this.#lastKey) {
            this.#lastKey = progressKey;
            this.#lastChange = now;
        }
    }

    /** Sweeps the job when the last sweep is at least `everyMs` ago; undefined when it did not. */
    async maybeSweep(now: number): Promise<SweepOutcome | undefined> {
        if (now - this.#lastSweep < this.everyMs) {
            return undefined;
        }
        this.#lastSweep = now;
        return sweepJob(this.ledger, this.jobId, now, now - this.#lastChange);
    }
}
