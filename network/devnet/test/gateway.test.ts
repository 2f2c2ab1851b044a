// SPDX-License-Identifier: Apache-2.0
/**
 * An unmodified fabric-gateway client against the devnet serving the asset-store test chaincode.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checkpointers, GatewayError, type ChaincodeEvent, type Network } from '@hyperledger/fabric-gateway';
import { CHAINCODE_DIR } from '../../../test/support/chaincodeRuntime';
import { contracts as assetContracts } from '../../../test/support/fabric/fixtures/assetContract';
import { startDevnet, type RunningDevnet } from '../src';
import { connectGateway, tempDir, type Connected } from './support/client';

const utf8 = new TextDecoder();

async function nextEvent(iterator: AsyncIterator<ChaincodeEvent>): Promise<ChaincodeEvent> {
    const result = await iterator.next();
    if (result.done === true) {
        throw new Error('event stream ended');
    }
    return result.value;
}

describe('devnet gateway service (asset chaincode)', () => {
    let net: RunningDevnet;
    let org1: Connected;
    let network: Network;

    beforeAll(async () => {
        net = await startDevnet({ dir: tempDir(), batchTimeoutMs: 20, chaincodes: [{ name: 'assets', folder: CHAINCODE_DIR, contracts: assetContracts }] });
        org1 = connectGateway(net.connection(1));
        network = org1.gateway.getNetwork('mychannel');
    });

    afterAll(async () => {
        org1.close();
        await net.stop();
    });

    it('submits, then evaluates the committed state', async () => {
        const contract = network.getContract('assets', 'assets');
        await contract.submitTransaction('CreateAsset', 'a1', 'hello');
        const asset = JSON.parse(utf8.decode(await contract.evaluateTransaction('ReadAsset', 'a1'))) as { value: string; ownerMspId: string };
        expect(asset).toMatchObject({ value: 'hello', ownerMspId: 'Org1MSP' });
    });

    it('reports the commit status of an async submit with its block number', async () => {
        const contract = network.getContract('assets', 'assets');
        const submitted = await contract.submitAsync('CreateAsset', { arguments: ['a2', 'v'] });
        const status = await submitted.getStatus();
        expect(status.successful).toBe(true);
        expect(status.code).toBe(0);
        expect(status.blockNumber).toBeGreaterThan(0n);
        expect(status.transactionId).toBe(submitted.getTransactionId());
    });

    it('returns the chaincode error of a failed evaluate as Fabric does', async () => {
        const contract = network.getContract('assets', 'assets');
        const error = await contract.evaluateTransaction('ReadAsset', 'nope').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(GatewayError);
        const gatewayError = error as GatewayError;
        expect(gatewayError.code).toBe(2);
        expect(gatewayError.message).toContain('chaincode response 500');
        expect(gatewayError.message).toContain('The asset nope does not exist');
    });

    it('rejects an endorsement of a failing transaction with ABORTED and per-org details', async () => {
        const contract = network.getContract('assets', 'assets');
        const error = await contract.submitTransaction('CreateAsset', 'a1', 'again').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(GatewayError);
        const gatewayError = error as GatewayError;
        expect(gatewayError.code).toBe(10);
        expect(gatewayError.details.map((d) => d.mspId)).toEqual(['Org1MSP']);
        expect(gatewayError.details[0]?.message).toContain('The asset a1 already exists');
    });

    it('refuses to endorse a committed transaction id again, and answers a bad signature before a duplicate id', async () => {
        const contract = network.getContract('assets', 'assets');
        const proposal = contract.newProposal('CreateAsset', { arguments: ['a-once', 'v'] });
        expect((await (await (await proposal.endorse()).submit()).getStatus()).successful).toBe(true);
        const again = await proposal.endorse().catch((e: unknown) => e);
        expect(again).toBeInstanceOf(GatewayError);
        expect((again as GatewayError).code).toBe(10);
        expect((again as GatewayError).details[0]?.message).toContain(`duplicate transaction found [${proposal.getTransactionId()}]`);
        // The same proposal bytes under a signature that does not verify (a well-formed DER signature, r = s = 1).
        const forged = org1.gateway.newSignedProposal(proposal.getBytes(), Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]));
        const refused = await forged.endorse().catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(GatewayError);
        expect((refused as GatewayError).details[0]?.message).toBe('error validating proposal: access denied: channel [mychannel] creator org [Org1MSP]');
    });

    it('invalidates the later of two conflicting updates in one block (MVCC_READ_CONFLICT)', async () => {
        const contract = network.getContract('assets', 'assets');
        const [first, second] = await Promise.all([
            contract.submitAsync('UpdateAsset', { arguments: ['a1', 'x'] }),
            contract.submitAsync('UpdateAsset', { arguments: ['a1', 'y'] }),
        ]);
        const codes = (await Promise.all([first.getStatus(), second.getStatus()])).map((s) => s.code).sort();
        expect(codes).toEqual([0, 11]);
    });

    it('streams chaincode events after commit and resumes from a checkpoint', async () => {
        const contract = network.getContract('assets', 'assets');
        const start = await contract.submitAsync('CreateAsset', { arguments: ['e1', 'one'] });
        const startStatus = await start.getStatus();
        await contract.submitTransaction('CreateAsset', 'e2', 'two');
        await contract.submitTransaction('CreateAsset', 'e3', 'three');

        const checkpointer = checkpointers.inMemory();
        const first = await network.getChaincodeEvents('assets', { startBlock: startStatus.blockNumber });
        const iterator = first[Symbol.asyncIterator]();
        const e1 = await nextEvent(iterator);
        expect(e1).toMatchObject({ chaincodeName: 'assets', eventName: 'AssetCreated', transactionId: start.getTransactionId(), blockNumber: startStatus.blockNumber });
        await checkpointer.checkpointChaincodeEvent(e1);
        first.close();

        const resumed = await network.getChaincodeEvents('assets', { checkpoint: checkpointer, startBlock: 0n });
        const names: string[] = [];
        for await (const event of resumed) {
            names.push((JSON.parse(utf8.decode(event.payload)) as { id: string }).id);
            if (names.length === 2) {
                break;
            }
        }
        resumed.close();
        expect(names).toEqual(['e2', 'e3']);

        // A listener started at the ledger's end receives only events committed later, one per transaction.
        const live = await network.getChaincodeEvents('assets');
        const liveIterator = live[Symbol.asyncIterator]();
        const pending = nextEvent(liveIterator);
        await contract.submitTransaction('CreateAsset', 'e4', 'four');
        const e4 = await pending;
        live.close();
        expect((JSON.parse(utf8.decode(e4.payload)) as { id: string }).id).toBe('e4');
    });
});
