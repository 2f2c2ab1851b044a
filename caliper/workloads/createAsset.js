'use strict';
// asset-transfer-basic CreateAsset: one new asset per transaction, ids unique per run, worker and round.
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');
const { RoundProbe } = require('./roundProbe');

class CreateAsset extends WorkloadModuleBase {
    async initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext) {
        await super.initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext);
        this.probe = new RoundProbe('CreateAsset', workerIndex, roundArguments.load / totalWorkers);
    }

    async submitTransaction() {
        this.txIndex = (this.txIndex ?? 0) + 1;
        const id = `${this.roundArguments.prefix}-w${this.workerIndex}-${this.txIndex}`;
        await this.probe.track(() => this.sutAdapter.sendRequests({
            contractId: this.roundArguments.contractId,
            contractFunction: 'CreateAsset',
            contractArguments: [id, 'blue', '5', 'Tom', '1300'],
            readOnly: false,
        }));
    }

    async cleanupWorkloadModule() {
        this.probe.report();
    }
}

module.exports.createWorkloadModule = () => new CreateAsset();
