// SPDX-License-Identifier: Apache-2.0
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Chain, newTaskKey, openJob, submission, taskSpec } from './harness';

describe('smoke', () => {
    let chain: Chain;
    beforeAll(async () => {
        chain = await Chain.start();
    });
    afterAll(async () => {
        await chain.stop();
    });

    it('publishes, claims, submits and pays', async () => {
        const publisher = chain.actor({ mspId: 'Org1MSP', name: 'pub' });
        const worker = chain.actor({ mspId: 'Org2MSP', name: 'worker' });
        await chain.mint(publisher, 100n);
        await chain.register(worker, 'exec-a');
        const key = newTaskKey();
        const input = Buffer.from('2,3');
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(openJob('job1', [taskSpec('job1-t1', key, input)]))]);
        await chain.submit(worker, 'tasks:Claim', ['job1-t1', 'exec-a']);
        const reply = await chain.submit(worker, 'tasks:Submit', ['job1-t1', 'exec-a', submission(key, 'job1-t1', input, Buffer.from('5'))]);
        expect(reply.outcome).toBe('accepted');
        expect(await chain.balance(worker)).toBe(10n);
        expect(await chain.balance(publisher)).toBe(90n);
        expect(await chain.reputation('exec-a')).toBe(10);
    });
});
