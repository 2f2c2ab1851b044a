// SPDX-License-Identifier: Apache-2.0
/**
 * What a balance or reputation read costs after 10 payouts and after 10,000, side by side in one
 * run, through the chaincode on the peer simulator (fabric-shim's real runtime, in process).
 *
 * Two executors of different organizations are paid for real — claim, then a signed submit — `small`
 * (default 10) and `large` (default 10,000) times. The large one's claims fold its reputation and
 * payout records as they go (docs/chaincode.md, "Balances and reputation"); its owner's account only
 * earns, so its credit deltas stay live until `credits:Compact` folds them. Timed, per variant, as
 * evaluations (a query's whole cost: proposal, chaincode, reply):
 *
 *   GetAccount(small account) · GetAccount(large account, 10,000 live deltas, unfolded)
 *   · GetAccount(large account after credits:Compact) · GetExecutor(small) · GetExecutor(large)
 *   · a claim endorsement by each executor (the in-transaction reputation read, nothing committed).
 *
 * Method as in docs/benchmarks.md: rounds, each variant once per round in a shuffled order, a
 * variant's figure for a round is the median of its `--reads` ops; the table gives the median over
 * rounds and the ratio large ÷ small from the same rounds.
 *
 * Run: `npm run bench:reads` (or `node -r ./scripts/register-ts.js scripts/bench-ledger-reads.ts`);
 * options `--large N` (default 10000), `--small N` (default 10), `--rounds N` (default 9),
 * `--reads N` per variant per round (default 15).
 */
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Chain, HOUR, newTaskKey, openJob, submission, taskSpec } from '../test/chaincode/harness';
import type { Actor, Json, TaskKey } from '../test/chaincode/harness';

interface Options {
    readonly large: number;
    readonly small: number;
    readonly rounds: number;
    readonly reads: number;
}

function parseOptions(argv: readonly string[]): Options {
    const value = (name: string, fallback: number): number => {
        const index = argv.indexOf(`--${name}`);
        const parsed = index < 0 ? fallback : Number(argv[index + 1]);
        if (!Number.isSafeInteger(parsed) || parsed < 1) {
            throw new Error(`--${name} takes a positive integer`);
        }
        return parsed;
    };
    return { large: value('large', 10_000), small: value('small', 10), rounds: value('rounds', 9), reads: value('reads', 15) };
}

/** Tasks published per transaction while setting up. */
const BATCH = 500;

interface Worker {
    readonly executorId: string;
    readonly owner: Actor;
    /** A published task it has not claimed, for timing claim endorsements. */
    readonly spareTask: string;
}

async function payWorker(chain: Chain, publisher: Actor, key: TaskKey, executorId: string, payouts: number, log: (line: string) => void): Promise<Worker> {
    const owner = chain.actor({ mspId: executorId.startsWith('large') ? 'Org2MSP' : 'Org3MSP', name: `${executorId}-owner` });
    await chain.register(owner, executorId, { capacity: 4 });
    const jobId = `${executorId}-job`;
    const total = payouts + 1;
    const spec = (i: number): Json => taskSpec(`${jobId}-t${i}`, key, Buffer.from(`in ${i}`), '1');
    const first = Array.from({ length: Math.min(BATCH, total) }, (_, i) => spec(i + 1));
    await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(openJob(jobId, first, { taskCount: total, mode: 'combined', deadline: chain.peer.clock + 1000 * HOUR }))]);
    for (let start = first.length + 1; start <= total; start += BATCH) {
        const batch = Array.from({ length: Math.min(BATCH, total - start + 1) }, (_, i) => spec(start + i));
        await chain.submit(publisher, 'jobs:AddTasks', [jobId, JSON.stringify(batch)]);
    }
    const started = performance.now();
    for (let i = 1; i <= payouts; i++) {
        // Delta keys sort by time first; one millisecond apart keeps them in the order of events.
        chain.peer.advance(1);
        const taskId = `${jobId}-t${i}`;
        await chain.submit(owner, 'tasks:Claim', [taskId, executorId]);
        await chain.submit(owner, 'tasks:Submit', [taskId, executorId, submission(key, taskId, Buffer.from(`in ${i}`), Buffer.from(`out ${i}`), 'combined')]);
        if (i % 1000 === 0) {
            log(`  ${executorId}: ${i}/${payouts} payouts (${((performance.now() - started) / i).toFixed(2)} ms per claim + submit)`);
        }
    }
    return { executorId, owner, spareTask: `${jobId}-t${total}` };
}

/** State keys under a composite-key prefix: how many records a read of that owner scans. */
function keysUnder(chain: Chain, type: string, owner: string): number {
    const prefix = `\u0000${type}\u0000${owner}\u0000`;
    return chain.peer.state.keys().filter((stateKey) => stateKey.startsWith(prefix)).length;
}

function quantile(values: readonly number[], q: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (sorted.length - 1) * q;
    const low = Math.floor(at);
    const high = Math.ceil(at);
    return (sorted[low] ?? 0) + ((sorted[high] ?? 0) - (sorted[low] ?? 0)) * (at - low);
}

const median = (values: readonly number[]): number => quantile(values, 0.5);

function shuffled<T>(items: readonly T[], seed: number): T[] {
    const out = [...items];
    let state = seed >>> 0;
    for (let i = out.length - 1; i > 0; i--) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        const j = state % (i + 1);
        [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
}

async function timeOps(count: number, op: () => Promise<unknown>): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
        const started = performance.now();
        await op();
        times.push(performance.now() - started);
    }
    return median(times);
}

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    const log = (line: string): void => {
        process.stderr.write(`${line}\n`);
    };
    const chain = await Chain.start();
    try {
        const publisher = chain.actor({ mspId: 'Org1MSP', name: 'reads-publisher' });
        await chain.mint(publisher, BigInt(10 * (options.large + options.small + 10)));
        // Jobs hold up to 4,096 tasks by default; a channel admin raises the limit for this run.
        await chain.submit(chain.admin(), 'credits:SetParameters', [JSON.stringify({ maxTasksPerJob: 65_536 })]);
        const key = newTaskKey();
        const setup = performance.now();
        const small = await payWorker(chain, publisher, key, 'small-w', options.small, log);
        const large = await payWorker(chain, publisher, key, 'large-w', options.large, log);
        log(`setup: ${options.small} + ${options.large} payouts in ${((performance.now() - setup) / 1000).toFixed(1)} s`);
        const anyone = chain.anyone();
        const liveCredits = keysUnder(chain, 'lw.credit', large.owner.account);
        const variants: Record<string, () => Promise<unknown>> = {
            'GetAccount, 10 payouts': () => chain.evaluate(anyone, 'queries:GetAccount', [small.owner.account]),
            'GetAccount, large, unfolded': () => chain.evaluate(anyone, 'queries:GetAccount', [large.owner.account]),
            'GetExecutor, 10 payouts': () => chain.evaluate(anyone, 'queries:GetExecutor', [small.executorId]),
            'GetExecutor, large (folded by its claims)': () => chain.evaluate(anyone, 'queries:GetExecutor', [large.executorId]),
            'Claim endorsement, 10 payouts': () => chain.endorse(small.owner, 'tasks:Claim', [small.spareTask, small.executorId]),
            'Claim endorsement, large': () => chain.endorse(large.owner, 'tasks:Claim', [large.spareTask, large.executorId]),
        };
        const before = await chain.evaluate(anyone, 'queries:GetAccount', [large.owner.account]);
        const rounds: Record<string, number>[] = [];
        const runRounds = async (names: readonly string[], count: number): Promise<void> => {
            for (let round = 0; round < count; round++) {
                const figures: Record<string, number> = {};
                for (const name of shuffled(names, round + 1)) {
                    figures[name] = await timeOps(options.reads, variants[name] as () => Promise<unknown>);
                }
                rounds.push(figures);
            }
        };
        // Warm-up, then the unfolded account is measured before compaction changes it.
        await runRounds(Object.keys(variants), 1);
        rounds.length = 0;
        await runRounds(Object.keys(variants), options.rounds);
        let compactions = 0;
        const compactStarted = performance.now();
        for (;;) {
            const reply = await chain.submit(anyone, 'credits:Compact', [large.owner.account]);
            compactions++;
            if (reply.live === 0) {
                break;
            }
        }
        const compactMs = performance.now() - compactStarted;
        const after = await chain.evaluate(anyone, 'queries:GetAccount', [large.owner.account]);
        if (JSON.stringify(after) !== JSON.stringify(before)) {
            throw new Error(`compaction changed the account: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
        }
        variants['GetAccount, large, after credits:Compact'] = () => chain.evaluate(anyone, 'queries:GetAccount', [large.owner.account]);
        const foldedRounds: Record<string, number>[] = [];
        for (let round = 0; round < options.rounds; round++) {
            const figures: Record<string, number> = {};
            for (const name of shuffled(['GetAccount, 10 payouts', 'GetAccount, large, after credits:Compact'], round + 7)) {
                figures[name] = await timeOps(options.reads, variants[name] as () => Promise<unknown>);
            }
            foldedRounds.push(figures);
        }
        const column = (list: readonly Record<string, number>[], name: string): number[] => list.map((r) => r[name] ?? Number.NaN);
        const ratio = (list: readonly Record<string, number>[], big: string, base: string): number => median(list.map((r) => (r[big] ?? Number.NaN) / (r[base] ?? Number.NaN)));
        const row = (label: string, list: readonly Record<string, number>[], name: string, scanned: string): string =>
            `| ${label} | ${scanned} | ${median(column(list, name)).toFixed(3)} | ${quantile(column(list, name), 0.25).toFixed(3)}–${quantile(column(list, name), 0.75).toFixed(3)} |`;
        const L = options.large.toLocaleString('en-US');
        const lines = [
            `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}. ${options.rounds} rounds × ${options.reads} reads per variant.`,
            '',
            '| read | records the read scans | ms, median of round medians | IQR over rounds |',
            '| --- | ---: | ---: | ---: |',
            row(`GetAccount after ${options.small} payouts`, rounds, 'GetAccount, 10 payouts', String(keysUnder(chain, 'lw.credit', small.owner.account))),
            row(`GetAccount after ${L} payouts, unfolded`, rounds, 'GetAccount, large, unfolded', String(liveCredits)),
            row(`GetAccount after ${L} payouts, after credits:Compact`, foldedRounds, 'GetAccount, large, after credits:Compact', `checkpoint + ${keysUnder(chain, 'lw.credit', large.owner.account)}`),
            row(`GetExecutor after ${options.small} payouts`, rounds, 'GetExecutor, 10 payouts', String(keysUnder(chain, 'lw.reputation', small.executorId) + keysUnder(chain, 'lw.payout', small.executorId))),
            row(`GetExecutor after ${L} payouts (folded by its own claims)`, rounds, 'GetExecutor, large (folded by its claims)', `2 checkpoints + ${keysUnder(chain, 'lw.reputation', large.executorId) + keysUnder(chain, 'lw.payout', large.executorId)}`),
            row(`tasks:Claim endorsement, ${options.small} payouts`, rounds, 'Claim endorsement, 10 payouts', '—'),
            row(`tasks:Claim endorsement, ${L} payouts`, rounds, 'Claim endorsement, large', '—'),
            '',
            '| ratio (same rounds) | median |',
            '| --- | ---: |',
            `| GetAccount ${L} unfolded ÷ ${options.small} | ${ratio(rounds, 'GetAccount, large, unfolded', 'GetAccount, 10 payouts').toFixed(2)}× |`,
            `| GetAccount ${L} folded ÷ ${options.small} | ${ratio(foldedRounds, 'GetAccount, large, after credits:Compact', 'GetAccount, 10 payouts').toFixed(2)}× |`,
            `| GetExecutor ${L} ÷ ${options.small} | ${ratio(rounds, 'GetExecutor, large (folded by its claims)', 'GetExecutor, 10 payouts').toFixed(2)}× |`,
            `| Claim endorsement ${L} ÷ ${options.small} | ${ratio(rounds, 'Claim endorsement, large', 'Claim endorsement, 10 payouts').toFixed(2)}× |`,
            '',
            `Folding the ${L} live credit deltas took ${compactions} credits:Compact transactions (at most 500 each), ${(compactMs / 1000).toFixed(2)} s; balance and summary unchanged.`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
    } finally {
        await chain.stop();
    }
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
});
