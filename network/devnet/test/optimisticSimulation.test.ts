// SPDX-License-Identifier: Apache-2.0
/**
 * Simulations do not hold the commit lock: a block commits while simulations are under way, and a simulation it
 * overlapped is run again. No evaluation or endorsement may rest on reads of two committed states.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// The chaincode runtime first: loading it quiets fabric-shim's loggers before the contracts' decorators log.
import { CHAINCODE_DIR } from '../../../test/support/chaincodeRuntime';
import { startDevnet, type RunningDevnet } from '../src';
import { contracts } from './fixtures/pairContract';
import { connectGateway, tempDir, type Connected } from './support/client';

const utf8 = new TextDecoder();
const BUMPS = 30;
const READERS = 4;
const PAUSE_MS = '4';

describe('simulations overlapping block commits', () => {
    let net: RunningDevnet;
    const clients: Connected[] = [];

    beforeAll(async () => {
        net = await startDevnet({ dir: tempDir(), batchTimeoutMs: 2, chaincodes: [{ name: 'pair', folder: CHAINCODE_DIR, contracts }] });
    });

    afterAll(async () => {
        for (const client of clients) {
            client.close();
        }
        await net.stop();
    });

    it('never mix two committed states, and are run again when a commit overlapped them', async () => {
        const connect = (org: number): ReturnType<Connected['gateway']['getNetwork']> => {
            const connected = connectGateway(net.connection(org));
            clients.push(connected);
            return connected.gateway.getNetwork('mychannel');
        };
        const writer = connect(1).getContract('pair');
        const readers = Array.from({ length: READERS }, (_, i) => connect((i % 3) + 1).getContract('pair'));
        let writing = true;
        const evaluated: string[] = [];
        const endorsed: string[] = [];
        const refused: string[] = [];
        const read = async (contract: (typeof readers)[number], i: number): Promise<void> => {
            while (writing) {
                if (i % 2 === 0) {
                    // Keys read one by one, or each through a range scan.
                    evaluated.push(utf8.decode(await contract.evaluateTransaction(i === 0 ? 'Read' : 'ReadByRanges', PAUSE_MS)));
                } else {
                    try {
                        const proposal = contract.newProposal('Check', { arguments: [PAUSE_MS] });
                        endorsed.push(utf8.decode((await proposal.endorse()).getResult()));
                    } catch (error) {
                        refused.push(String(error));
                    }
                }
            }
        };
        const reading = readers.map((contract, i) => read(contract, i));
        for (let bump = 0; bump < BUMPS; bump++) {
            await writer.submitTransaction('Bump');
        }
        writing = false;
        await Promise.all(reading);

        expect(refused).toEqual([]);
        expect(evaluated.filter((pair) => pair.split(',')[0] !== pair.split(',')[1])).toEqual([]);
        // The reads spanned the commits, and some were overlapped by one.
        expect(new Set([...evaluated.map((pair) => pair.split(',')[0]), ...endorsed]).size).toBeGreaterThan(BUMPS / 3);
        expect(net.devnet.simulationsRunAgain).toBeGreaterThan(0);
        expect(utf8.decode(await writer.evaluateTransaction('Read', '0'))).toBe(`${BUMPS},${BUMPS}`);
    });
});
