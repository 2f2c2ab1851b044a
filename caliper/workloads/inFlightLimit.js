'use strict';
/*
 * A rate controller that never has more than `transactionLoad` transactions of a worker in flight: it waits until one
 * finishes before letting the next one go. Caliper 0.6's own `fixed-load` only approximates its backlog: until the
 * first transaction finishes it sends one every 1000/startTps ms whatever the backlog, and afterwards it sends the next
 * transaction as soon as the backlog is at (not below) the target, so `transactionLoad: 1` keeps two in flight. A
 * workload whose transactions of one account must not overlap (ledgerwork's publish range-reads its publisher's
 * credit records and writes one more) needs a hard bound, or it measures its own PHANTOM_READ_CONFLICTs.
 */
const RateInterface = require('@hyperledger/caliper-core/lib/worker/rate-control/rateInterface.js');

const POLL_MS = 2;

class InFlightLimit extends RateInterface {
    constructor(testMessage, stats, workerIndex) {
        super(testMessage, stats, workerIndex);
        const load = Number(this.options.transactionLoad ?? 1);
        if (!Number.isInteger(load) || load < this.numberOfWorkers) {
            throw new Error(`in-flight-limit: transactionLoad must be an integer of at least the number of workers (${this.numberOfWorkers}), not ${this.options.transactionLoad}`);
        }
        this.limit = Math.floor(load / this.numberOfWorkers);
    }

    async applyRateControl() {
        while (this.stats.getTotalSubmittedTx() - this.stats.getTotalFinishedTx() >= this.limit) {
            await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
    }

    async end() {}
}

module.exports.createRateController = (testMessage, stats, workerIndex) => new InFlightLimit(testMessage, stats, workerIndex);
