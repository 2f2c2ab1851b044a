// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseWireMessage } from '../../chaincode/src/core/errors';
import type { Endorsement } from '../support/fabric';
import { Chain, HOUR, newTaskKey, openJob, taskSpec } from './harness';
import type { Json } from './harness';
import { actionArbitrary, castOf, planStep, prologue, replicatedPrologue, World } from './modelActions';
import type { Action, Expectation, Step, TxPlan } from './modelActions';
import { CommitLog, checkInvariants, readSnapshot } from './modelState';

/**
 * Model-based test: random sequences of transactions from several identities — publishers of two
 * orgs, executor owners of three, two kinds of admin, an outsider — over open jobs in both signature
 * modes, open jobs under quorum and credibility (replica claims, commits, honest, forged and
 * mismatched reveals) and small ranked jobs, valid and invalid calls mixed, some pairs endorsed on one snapshot and
 * committed in one block. After every step the committed state must satisfy the ledger invariants
 * (modelState.ts), every failed endorsement must carry a catalogue code other than INTERNAL, and
 * where the outcome follows from the state by a simple rule it must be that outcome (modelActions.ts).
 *
 * FC_RUNS (default 20) sequences of 1 to 2 × FC_STEPS actions (FC_STEPS, default 30, on average),
 * each on a fresh chain after a short prologue (modelActions.ts). FC_SEED and FC_PATH replay a
 * failure fast-check reported. With FC_RUNS set, the test prints how many transactions of each
 * kind ran and their outcomes (docs/benchmarks.md, "Model-based test").
 */

function positiveInteger(text: string | undefined, fallback: number): number {
    const value = Number(text);
    return text !== undefined && Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

const RUNS = positiveInteger(process.env.FC_RUNS, 20);
const STEPS = positiveInteger(process.env.FC_STEPS, 30);
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const PATH = process.env.FC_PATH;
const REPORT = process.env.FC_RUNS !== undefined;

/** Transactions executed per function and outcome label. */
class Tally {
    readonly counts = new Map<string, Map<string, number>>();

    add(fn: string, label: string): void {
        let labels = this.counts.get(fn);
        if (labels === undefined) {
            labels = new Map();
            this.counts.set(fn, labels);
        }
        labels.set(label, (labels.get(label) ?? 0) + 1);
    }

    executed(fn: string): number {
        return [...(this.counts.get(fn)?.values() ?? [])].reduce((sum, n) => sum + n, 0);
    }

    committed(fn: string): number {
        return [...(this.counts.get(fn)?.entries() ?? [])].filter(([label]) => isCommitted(label)).reduce((sum, [, n]) => sum + n, 0);
    }

    total(): number {
        return [...this.counts.keys()].reduce((sum, fn) => sum + this.executed(fn), 0);
    }
}

/** Labels of committed transactions: a success or a recorded rejection (lower case), as opposed to error and validation codes. */
function isCommitted(label: string): boolean {
    return /^[a-z]/.test(label);
}

const stats = { runs: 0, actions: 0, advances: 0, races: 0, claimRaces: 0, prologue: new Tally(), random: new Tally(), events: new Map<string, number>() };

function short(arg: string): string {
    return arg.length > 60 ? `${arg.slice(0, 57)}...` : arg;
}

/** Checks one endorsement against the error catalogue and the plan's expectation; returns its outcome label. */
function judge(plan: TxPlan, endorsement: Endorsement): string {
    const call = `${plan.fn}(${plan.args.map(short).join(', ')}) as ${plan.actor.mspId}`;
    return endorsement.status >= 400 ? judgeFailure(call, plan.expect, endorsement.message) : judgeReply(call, plan.expect, endorsement.payload);
}

function judgeFailure(call: string, expected: Expectation | undefined, message: string): string {
    const parsed = parseWireMessage(message);
    if (parsed === undefined || parsed.code === 'INTERNAL') {
        throw new Error(`${call}: an error without a catalogue code, or INTERNAL, escaped: ${message}`);
    }
    if (expected !== undefined && !('fails' in expected && expected.fails === parsed.code)) {
        throw new Error(`${call}: expected ${JSON.stringify(expected)}, got ${message}`);
    }
    return parsed.code;
}

function judgeReply(call: string, expected: Expectation | undefined, payload: Buffer): string {
    const reply = JSON.parse(payload.toString('utf8')) as Json;
    const got = typeof reply.outcome === 'string' ? reply.outcome : 'ok';
    const code = typeof reply.code === 'string' ? reply.code : undefined;
    const matches = expected === undefined || (!('fails' in expected) && (expected.outcome ?? got) === got && (expected.code ?? code) === code);
    if (!matches) {
        throw new Error(`${call}: expected ${JSON.stringify(expected)}, got ${got}${code === undefined ? '' : ` ${code}`}`);
    }
    return code === undefined ? got : `${got}:${code}`;
}

/** Runs one step: endorses its transactions on the committed state, commits the endorsed ones in one block, checks the invariants. */
async function runStep(world: World, log: CommitLog, step: Step, tally: Tally): Promise<void> {
    if (step.kind === 'advance') {
        world.chain.peer.advance(step.ms);
        stats.advances++;
        return;
    }
    const endorsements: Endorsement[] = [];
    for (const plan of step.plans) {
        endorsements.push(await world.chain.endorse(plan.actor, plan.fn, plan.args));
    }
    const labels = step.plans.map((plan, i) => judge(plan, endorsements[i]!));
    const endorsed = endorsements.flatMap((e, i) => (e.status < 400 ? [i] : []));
    const codes = endorsed.length === 0 ? [] : await world.chain.peer.commit(endorsed.map((i) => endorsements[i]!));
    endorsed.forEach((i, k) => {
        const code = codes[k];
        if (code === 'VALID') {
            step.plans[i]!.onValid?.();
        } else {
            labels[i] = code ?? 'NOT_COMMITTED';
        }
    });
    step.plans.forEach((plan, i) => {
        tally.add(plan.fn, labels[i]!);
    });
    if (step.claimRace && endorsed.length > 0) {
        // Exactly one claim wins; the other is refused at endorsement or invalidated at commit.
        expect(codes.filter((code) => code === 'VALID')).toHaveLength(1);
    }
    world.snapshot = readSnapshot(world.chain.peer.state);
    log.update(world.chain.peer.blocks);
    checkInvariants(world.snapshot, log);
}

async function runSequence(actions: readonly Action[]): Promise<void> {
    const chain = await Chain.start();
    try {
        const world = new World(chain, castOf(chain), readSnapshot(chain.peer.state));
        const log = new CommitLog();
        for (const planOf of [...prologue, ...replicatedPrologue]) {
            await runStep(world, log, { kind: 'txs', plans: [planOf(world)], claimRace: false }, stats.prologue);
        }
        for (const action of actions) {
            const step = planStep(world, action);
            stats.actions++;
            stats.races += action.t === 'race' ? 1 : 0;
            stats.claimRaces += action.t === 'claimRace' ? 1 : 0;
            await runStep(world, log, step, stats.random);
        }
        stats.runs++;
        for (const [name, n] of log.events) {
            stats.events.set(name, (stats.events.get(name) ?? 0) + n);
        }
    } finally {
        await chain.stop();
    }
}

function report(seconds: number): string {
    const fns = [...new Set([...stats.random.counts.keys(), ...stats.prologue.counts.keys()])].sort();
    const rows = fns.map((fn) => {
        const labels = [...(stats.random.counts.get(fn)?.entries() ?? [])].sort((a, b) => b[1] - a[1]);
        const outcomes = labels.map(([label, n]) => `${label} ${n}`).join(', ');
        return `| \`${fn}\` | ${stats.random.executed(fn)} | ${stats.random.committed(fn)} | ${stats.prologue.executed(fn)} | ${outcomes} |`;
    });
    return [
        `model-based test: ${stats.runs} sequences, ${stats.actions} actions (${stats.advances} clock moves, ${stats.races} two-transaction races, ${stats.claimRaces} claim races), ` +
            `${stats.random.total()} random + ${stats.prologue.total()} prologue transactions in ${seconds.toFixed(1)} s`,
        '',
        '| transaction | executed | committed | prologue | outcomes of the random ones |',
        '| --- | ---: | ---: | ---: | --- |',
        ...rows,
        '',
        `events of the committed transactions (prologue included): ${[...stats.events.entries()].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${n}`).join(', ')}`,
        '',
    ].join('\n');
}

describe('model-based: random transaction sequences', () => {
    it(
        'keep credits, task states, claims, payouts, reputation and events consistent',
        async () => {
            const started = performance.now();
            await fc.assert(
                fc.asyncProperty(fc.array(actionArbitrary, { minLength: 1, maxLength: 2 * STEPS, size: 'max' }), runSequence),
                { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), ...(PATH === undefined ? {} : { path: PATH }) },
            );
            if (REPORT) {
                process.stdout.write(`${report((performance.now() - started) / 1000)}\n`);
            }
            expect(stats.runs).toBeGreaterThanOrEqual(RUNS);
        },
        // Generous: on a shared, loaded machine a transaction of the simulator can take 100+ ms.
        Math.max(120_000, RUNS * STEPS * 200),
    );
});

describe('model-based: sequences it found', () => {
    // A forged replica leaves a ranked job's number without agreement once the reveal window closes; the sweep fails
    // the job there, refunding the merges never published, and then met the same job in its deadline scan (a range
    // read does not see the transaction's own delete) and refunded them a second time: 6 credits from nowhere.
    it('SweepExpired that fails a replicated ranked job refunds its unpublished merges once', async () => {
        await runSequence([
            { t: 'replicate', task: 0, pick: 0, ranked: true, forged: true },
            { t: 'replicate', task: 137, pick: 0, ranked: false, forged: false },
            { t: 'replicate', task: 0, pick: 0, ranked: true, forged: true },
            { t: 'advance', ms: 18_000_000 },
            { t: 'sweep', by: 0, limit: '100' },
            { t: 'sweep', by: 0, limit: '1' },
        ]);
    }, 120_000);

    // Claim a task, let the job's deadline pass, sweep: the task is due in both the lease scan and the
    // deadline scan of one SweepExpired, and must be settled once — one state, one penalty, one refund.
    it.each([1, 3])('SweepExpired settles a task whose lease and job deadline both passed once (maxAttempts %i)', async (maxAttempts) => {
        const chain = await Chain.start();
        try {
            const publisher = chain.actor({ mspId: 'Org1MSP', name: 'publisher1' });
            const owner = chain.actor({ mspId: 'Org2MSP', name: 'owner2' });
            await chain.mint(publisher, 100n);
            await chain.register(owner, 'e1-0');
            const job = openJob('j1', [taskSpec('j1-t1', newTaskKey(), Buffer.from('input'))], { maxAttempts });
            await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(job)]);
            await chain.submit(owner, 'tasks:Claim', ['j1-t1', 'e1-0']);
            chain.peer.advance(25 * HOUR);
            await chain.submit(chain.anyone(), 'tasks:SweepExpired', ['100']);

            const snapshot = readSnapshot(chain.peer.state);
            expect(snapshot.tasks.get('j1-t1')?.state).toBe('failed');
            expect(snapshot.stateIndex.filter((e) => e.taskId === 'j1-t1').map((e) => e.state)).toEqual(['failed']);
            expect(snapshot.reputation.map((d) => [d.reason, d.delta])).toEqual([['lease-expired', -30]]);
            expect(await chain.balance(publisher)).toBe(100n);
            const log = new CommitLog();
            log.update(chain.peer.blocks);
            checkInvariants(snapshot, log);
        } finally {
            await chain.stop();
        }
    });
});
