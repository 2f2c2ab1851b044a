// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { parseJobSpec } from '../../chaincode/src/core/specs';
import { defaultParameters } from '../../chaincode/src/core/model';
import { DirectoryStore, planJob } from '../../gateway/src/publisher';
import type { JobPlanOptions } from '../../gateway/src/publisher';
import { exampleModule } from '../support/examples';

/** The job fields the publisher writes for validators and re-executed merges, parsed by the chaincode's own job parser. */
describe('publishing with programs on the ledger', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'lw-onchain-plan-'));
    afterAll(() => { rmSync(work, { recursive: true, force: true }); });
    const uri = `ledger://${'a'.repeat(64)}`;
    const base = (over: Partial<JobPlanOptions>): JobPlanOptions => ({
        jobId: 'p',
        program: exampleModule('primes'),
        inputs: [Buffer.from('0 10'), Buffer.from('10 20')],
        reward: 1n,
        deadline: Date.UTC(2030, 0, 1),
        store: new DirectoryStore(path.join(work, String(Math.random()).slice(2))),
        ...over,
    });
    const parsed = async (over: Partial<JobPlanOptions>): Promise<ReturnType<typeof parseJobSpec>> => {
        const plan = await planJob(base(over));
        return parseJobSpec(JSON.stringify({ ...plan.job, tasks: plan.tasks }), defaultParameters);
    };

    it('a validator alone becomes verify {policy: "validator"}; with a quorum it rides inside the policy', async () => {
        const alone = await parsed({ validator: { program: uri, fuel: 1000 } });
        expect(alone.verify).toBe('signature');
        expect(alone.validator).toEqual({ program: uri, fuel: 1000 });
        const replicated = await parsed({ verify: { policy: 'quorum', k: 2, maxReplicas: 3 }, validator: { program: uri, fuel: 5 } });
        expect(replicated.verify).toEqual({ policy: 'quorum', k: 2, maxReplicas: 3 });
        expect(replicated.validator).toEqual({ program: uri, fuel: 5 });
    });

    it('a re-executed merge names the ledger program, carries no merge key, and makes the job ranked', async () => {
        const spec = await parsed({ ledgerMerge: { uri, sha256: 'a'.repeat(64), fuel: 777 }, mergeReward: 2n, shards: ['Org1MSP'] });
        expect(spec.assignment).toBe('ranked');
        expect(spec.merge).toEqual({ program: { uri, sha256: 'a'.repeat(64) }, publicKey: '', reward: 2n, verify: { policy: 'reexecute', fuel: 777 } });
        const defaults = await parsed({ ledgerMerge: { uri, sha256: 'a'.repeat(64) }, shards: ['Org1MSP'] });
        expect(defaults.merge?.verify).toEqual({ policy: 'reexecute', fuel: 1_000_000 });
    });
});
