'use strict';
// asset-transfer-basic CreateAsset: one new asset per transaction, ids unique per run, worker and round.
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');

class CreateAsset extends WorkloadModuleBase {
    async submitTransaction() {
        this.txIndex = (this.txIndex ?? 0) + 1;
        const id = `${this.roundArguments.prefix}-w${this.workerIndex}-${this.txIndex}`;
        await this.sutAdapter.sendRequests({
            contractId: this.roundArguments.contractId,
            contractFunction: 'CreateAsset',
            contractArguments: [id, 'blue', '5', 'Tom', '1300'],
            readOnly: false,
        });
    }
}

module.exports.createWorkloadModule = () => new CreateAsset();
