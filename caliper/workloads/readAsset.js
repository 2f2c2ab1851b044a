'use strict';
// asset-transfer-basic ReadAsset of the assets this worker created in the CreateAsset round (same prefix).
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');

class ReadAsset extends WorkloadModuleBase {
    async submitTransaction() {
        this.txIndex = (this.txIndex ?? 0) + 1;
        const id = `${this.roundArguments.prefix}-w${this.workerIndex}-${1 + (this.txIndex % this.roundArguments.created)}`;
        await this.sutAdapter.sendRequests({
            contractId: this.roundArguments.contractId,
            contractFunction: 'ReadAsset',
            contractArguments: [id],
            readOnly: true,
        });
    }
}

module.exports.createWorkloadModule = () => new ReadAsset();
