'use strict';
/*
 * What holds a worker's round back, measured from inside the worker: how many transactions it really had in flight
 * (sampled every 50 ms while the round sends), how late its event loop ran (a CPU-bound worker cannot send or read
 * answers on time), and the worker process's own CPU time per transaction. Printed once per round, at clean-up:
 *
 *   round probe: CreateAsset, worker 0: 1000 tx in 41.2 s; in flight mean 61.8, median 64, max 65 (wanted 64);
 *   event-loop delay p50 11 ms, p99 48 ms, max 95 ms; worker CPU 9.1 s (9.1 ms per tx, 22 % of one core)
 */
const { monitorEventLoopDelay } = require('node:perf_hooks');

const SAMPLE_MS = 50;

class RoundProbe {
    /** `wanted`: the transactions this worker should keep in flight (its share of the round's load). */
    constructor(label, workerIndex, wanted) {
        this.label = label;
        this.workerIndex = workerIndex;
        this.wanted = wanted;
        this.inFlight = 0;
        this.sent = 0;
        this.samples = [];
        this.timer = undefined;
        this.delay = monitorEventLoopDelay({ resolution: 10 });
    }

    /** Runs `send` (one transaction) and counts it in flight while it runs. */
    async track(send) {
        if (this.timer === undefined) {
            this.start();
        }
        this.inFlight += 1;
        this.sent += 1;
        try {
            return await send();
        } finally {
            this.inFlight -= 1;
            this.finishedAt = performance.now();
        }
    }

    start() {
        this.startedAt = performance.now();
        this.cpuAtStart = process.cpuUsage();
        this.delay.enable();
        this.timer = setInterval(() => this.samples.push(this.inFlight), SAMPLE_MS);
    }

    /** Prints the round's figures (nothing if it sent nothing). */
    report() {
        if (this.timer === undefined) {
            return;
        }
        clearInterval(this.timer);
        this.delay.disable();
        const cpu = process.cpuUsage(this.cpuAtStart);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        const seconds = (this.finishedAt - this.startedAt) / 1000;
        const sorted = [...this.samples].sort((a, b) => a - b);
        const mean = sorted.reduce((sum, n) => sum + n, 0) / Math.max(1, sorted.length);
        const ms = (ns) => `${Math.round(ns / 1e6)} ms`;
        console.info(`round probe: ${this.label}, worker ${this.workerIndex}: ${this.sent} tx in ${seconds.toFixed(1)} s; `
            + `in flight mean ${mean.toFixed(1)}, median ${sorted[Math.floor(sorted.length / 2)] ?? 0}, max ${sorted[sorted.length - 1] ?? 0} (wanted ${this.wanted}); `
            + `event-loop delay p50 ${ms(this.delay.percentile(50))}, p99 ${ms(this.delay.percentile(99))}, max ${ms(this.delay.max)}; `
            + `worker CPU ${(cpuMs / 1000).toFixed(1)} s (${(cpuMs / this.sent).toFixed(1)} ms per tx, ${Math.round((100 * cpuMs) / 1000 / seconds)} % of one core)`);
        this.timer = undefined;
    }
}

module.exports = { RoundProbe };
