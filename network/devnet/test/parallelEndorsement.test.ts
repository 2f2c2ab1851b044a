// SPDX-License-Identifier: Apache-2.0
/**
 * The gateway's endorsing peers after the first run alongside it when they are known beforehand (the orgs the last
 * plan for the same function chose), not after it; with transient data the others still wait for the plan, so that
 * the data reaches no org the plan leaves out.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// The chaincode runtime first: loading it quiets fabric-shim's loggers before the contracts' decorators log.
import { CHAINCODE_DIR } from '../../../test/support/chaincodeRuntime';
import { startDevnet, type RunningDevnet } from '../src';
import { contracts, met } from './fixtures/meetContract';
import { connectGateway, tempDir, type Connected } from './support/client';

/** How long the first org's simulation waits for another to start: far beyond a start, short of the test's timeout. */
const WAIT_MS = '3000';

describe('endorsements by several orgs', () => {
    let net: RunningDevnet;
    let client: Connected;

    beforeAll(async () => {
        net = await startDevnet({ dir: tempDir(), chaincodes: [{ name: 'meet', folder: CHAINCODE_DIR, contracts }] });
        client = connectGateway(net.connection(1));
    });

    afterAll(async () => {
        client.close();
        await net.stop();
    });

    /** Endorses and commits `Meet`; the orgs whose simulation met another's. */
    async function meet(options: { transientData?: Record<string, Uint8Array> } = {}): Promise<string[]> {
        const proposal = client.gateway.getNetwork('mychannel').getContract('meet').newProposal('Meet', { arguments: [WAIT_MS], ...options });
        const transaction = await proposal.endorse();
        expect((await (await transaction.submit()).getStatus()).successful).toBe(true);
        return [...(met.get(proposal.getTransactionId()) ?? [])].sort();
    }

    it('run together once the plan for the function is known', async () => {
        // The first time, the plan is known only from Org1's result: Org2 starts after Org1 has ended.
        expect(await meet()).toEqual(['Org2MSP']);
        expect(await meet()).toEqual(['Org1MSP', 'Org2MSP']);
    }, 60_000);

    it('run one after the other with transient data', async () => {
        await meet();
        expect(await meet({ transientData: { note: Buffer.from('for the planned orgs only') } })).toEqual(['Org2MSP']);
    }, 60_000);
});
