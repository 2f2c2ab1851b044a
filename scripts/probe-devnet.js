// SPDX-License-Identifier: Apache-2.0
'use strict';

/**
 * Where the time goes while `bench:devnet` runs, without changing the devnet: preload it into the benchmark and the
 * devnet it starts, e.g.
 *
 *   NODE_OPTIONS="-r ./scripts/probe-devnet.js" npm run bench:devnet -- --workload assets --assets-clients 128
 *
 * Every 5 s it writes to stderr, for the devnet process: its main thread's event-loop utilization, each worker
 * thread's (chaincode workers and the signature thread, in the order they started) and the messages posted to and
 * received from them per second; for the benchmark (client) process: its main thread's event-loop utilization and
 * the machine's CPU split from /proc/stat (user, system, idle). For both, the main thread's garbage-collection pauses:
 * how many young-generation (minor) and full (major) collections, and the milliseconds they held the thread. Other
 * processes ignore it.
 */
const { readFileSync } = require('node:fs');
const { performance, PerformanceObserver, constants } = require('node:perf_hooks');
const workerThreads = require('node:worker_threads');

const INTERVAL_MS = 5000;
const role = !workerThreads.isMainThread ? undefined
    : process.argv.some((arg) => arg.endsWith('devnet/src/cli.ts') || arg.endsWith('devnet/dist/cli.js')) ? 'devnet'
        : process.argv.some((arg) => arg.endsWith('bench-devnet.ts')) ? 'client' : undefined;

function percent(utilization) {
    return `${Math.max(0, 100 * utilization).toFixed(0)} %`;
}

/** Jiffies of the whole machine from /proc/stat: user (with nice), system, idle (with iowait), all. */
function machineTimes() {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait] = fields;
    return { user: user + nice, system, idle: idle + iowait, all: fields.reduce((sum, value) => sum + value, 0) };
}

/** Counts the main thread's garbage-collection pauses; the function it returns describes those since its last call. */
function gcPauses() {
    const kinds = new Map([[constants.NODE_PERFORMANCE_GC_MINOR, 'minor'], [constants.NODE_PERFORMANCE_GC_MAJOR, 'major']]);
    let totals = new Map();
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
            const kind = kinds.get(entry.detail?.kind);
            if (kind !== undefined) {
                const total = totals.get(kind) ?? { count: 0, ms: 0 };
                totals.set(kind, { count: total.count + 1, ms: total.ms + entry.duration });
            }
        }
    }).observe({ entryTypes: ['gc'] });
    return () => {
        const text = ['minor', 'major'].map((kind) => {
            const total = totals.get(kind) ?? { count: 0, ms: 0 };
            return `${kind} ${total.count} (${total.ms.toFixed(0)} ms)`;
        }).join(', ');
        totals = new Map();
        return `GC pauses in ${INTERVAL_MS / 1000} s: ${text}`;
    };
}

function every(report) {
    setInterval(report, INTERVAL_MS).unref();
}

/** The main thread's event-loop utilization; the function it returns gives it since its last call. */
function mainThreadUtilization() {
    let last = performance.eventLoopUtilization();
    return () => {
        const now = performance.eventLoopUtilization();
        const utilization = performance.eventLoopUtilization(now, last).utilization;
        last = now;
        return utilization;
    };
}

if (role === 'devnet') {
    const workers = [];
    const counts = { posted: 0, received: 0 };
    const { Worker } = workerThreads;
    const postMessage = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function countedPost(...args) {
        counts.posted++;
        return postMessage.apply(this, args);
    };
    workerThreads.Worker = class ProbedWorker extends Worker {
        constructor(...args) {
            super(...args);
            const entry = { worker: this, last: undefined };
            workers.push(entry);
            this.on('message', () => { counts.received++; });
            this.once('exit', () => { entry.worker = undefined; });
        }
    };
    const pauses = gcPauses();
    const main = mainThreadUtilization();
    let lastCounts = { ...counts };
    every(() => {
        const perWorker = workers.filter((entry) => entry.worker !== undefined).map((entry) => {
            const sample = entry.worker.performance.eventLoopUtilization();
            const utilization = entry.last === undefined ? sample.utilization : entry.worker.performance.eventLoopUtilization(sample, entry.last).utilization;
            entry.last = sample;
            return percent(utilization);
        });
        const seconds = INTERVAL_MS / 1000;
        process.stderr.write(`probe devnet: main thread ${percent(main())} busy; workers ${perWorker.join(', ')}; `
            + `posts/s to workers ${((counts.posted - lastCounts.posted) / seconds).toFixed(0)}, from workers ${((counts.received - lastCounts.received) / seconds).toFixed(0)}; ${pauses()}\n`);
        lastCounts = { ...counts };
    });
} else if (role === 'client') {
    const pauses = gcPauses();
    const main = mainThreadUtilization();
    let lastTimes = machineTimes();
    every(() => {
        const times = machineTimes();
        const all = Math.max(1, times.all - lastTimes.all);
        const share = (key) => percent((times[key] - lastTimes[key]) / all);
        process.stderr.write(`probe client: main thread ${percent(main())} busy; machine user ${share('user')}, system ${share('system')}, idle ${share('idle')}; ${pauses()}\n`);
        lastTimes = times;
    });
}
