'use strict';
// asset-transfer-basic ReadAsset of the assets this worker created in the CreateAsset round (same prefix and worker).
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');
const { RoundProbe } = require('./roundProbe');

class ReadAsset extends WorkloadModuleBase {
    async initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext) {
        await super.initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext);
        this.probe = new RoundProbe('ReadAsset', workerIndex, roundArguments.load / totalWorkers);
    }

    async submitTransaction() {
        this.txIndex = (this.txIndex ?? 0) + 1;
        // Caliper splits a round's transactions among its workers: this worker created its share.
        const created = Math.floor(this.roundArguments.created / this.totalWorkers);
        const id = `${this.roundArguments.prefix}-w${this.workerIndex}-${1 + (this.txIndex % created)}`;
        await this.probe.track(() => this.sutAdapter.sendRequests({
            contractId: this.roundArguments.contractId,
            contractFunction: 'ReadAsset',
            contractArguments: [id],
            readOnly: true,
        }));
    }

    async cleanupWorkloadModule() {
        this.probe.report();
    }
}

module.exports.createWorkloadModule = () => new ReadAsset();
