// SPDX-License-Identifier: Apache-2.0
import { sign as nodeSign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { P256_ORDER, encodeEcdsaDer, parseEcdsaDer } from '../../chaincode/src/core/der';
import { inputPayload, sha256 } from '../../chaincode/src/core/signature';
import { BINDING, Chain, HOUR, newTaskKey, openJob, sign, taskSpec } from './harness';
import type { Actor, Json, TaskKey } from './harness';

/**
 * Signature attacks against tasks:Submit, each turned down with its code (the rejection is
 * recorded: attempt + penalty). One job-scoped key signs every task, so replays between tasks are
 * the strongest case: only the task id in the payload stops them.
 */
describe('signature attacks on Submit', () => {
    let chain: Chain;
    let publisher: Actor;
    let attacker: Actor;
    let key: TaskKey;
    let seq = 0;

    beforeAll(async () => {
        chain = await Chain.start();
        await chain.submit(chain.admin(), 'credits:SetParameters', ['{"reputationFloor":-1000000}']);
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'victim-publisher' });
        attacker = chain.actor({ mspId: 'Org2MSP', name: 'attacker' });
        await chain.mint(publisher, 1_000_000n);
        await chain.register(attacker, 'evil-1', { capacity: 1000 });
        key = newTaskKey();
    });
    afterAll(async () => {
        await chain.stop();
    });

    /** A fresh claimed task (job-scoped key), with its input. */
    async function claimedTask(mode: 'separate' | 'combined' = 'separate'): Promise<{ taskId: string; input: Buffer }> {
        const jobId = `atk${++seq}`;
        const taskId = `${jobId}-t1`;
        const input = Buffer.from(`input ${seq}`);
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(openJob(jobId, [taskSpec(taskId, key, input)], { mode, maxAttempts: 100, deadline: chain.peer.clock + 24 * HOUR }))]);
        await chain.submit(attacker, 'tasks:Claim', [taskId, 'evil-1']);
        return { taskId, input };
    }

    async function submit(taskId: string, result: Buffer, signatures: Json): Promise<Json> {
        return chain.submit(attacker, 'tasks:Submit', [taskId, 'evil-1', JSON.stringify({ result: result.toString('base64'), signatures })]);
    }

    async function expectRejected(taskId: string, result: Buffer, signatures: Json, code: string): Promise<void> {
        const reply = await submit(taskId, result, signatures);
        expect({ outcome: reply.outcome, code: reply.code }).toEqual({ outcome: 'rejected', code });
        expect(await chain.task(taskId)).toMatchObject({ state: 'claimed', attempts: 1 });
    }

    const result = Buffer.from('the answer');

    it('replays a valid signature of another task of the same job key', async () => {
        const other = await claimedTask();
        const target = await claimedTask();
        const stolen = sign(key, other.taskId, sha256(other.input), result);
        await expectRejected(target.taskId, result, stolen, 'INPUT_SIGNATURE_INVALID');
    });

    it('replays onto another input', async () => {
        const { taskId } = await claimedTask();
        await expectRejected(taskId, result, sign(key, taskId, sha256(Buffer.from('a different input')), result), 'INPUT_SIGNATURE_INVALID');
    });

    it('replays from another channel or another chaincode', async () => {
        for (const binding of [{ ...BINDING, channel: 'otherchannel' }, { ...BINDING, chaincode: 'ledgerwork-v2' }]) {
            const { taskId, input } = await claimedTask();
            await expectRejected(taskId, result, sign(key, taskId, sha256(input), result, 'separate', binding), 'INPUT_SIGNATURE_INVALID');
        }
    });

    it('keeps the input signature but swaps the result', async () => {
        const { taskId, input } = await claimedTask();
        const signatures = sign(key, taskId, sha256(input), Buffer.from('what was computed'));
        await expectRejected(taskId, result, signatures, 'RESULT_SIGNATURE_INVALID');
    });

    it('offers the high-S twin of a valid signature', async () => {
        const { taskId, input } = await claimedTask();
        const valid = sign(key, taskId, sha256(input), result);
        const der = Buffer.from(valid.result as string, 'base64');
        const twin = highSTwin(der);
        await expectRejected(taskId, result, { input: valid.input, result: twin.toString('base64') }, 'HIGH_S');
    });

    it('signs with a wrong P-256 key', async () => {
        const { taskId, input } = await claimedTask();
        await expectRejected(taskId, result, sign(newTaskKey(), taskId, sha256(input), result), 'INPUT_SIGNATURE_INVALID');
    });

    it('sends truncated, padded or raw r‖s signatures', async () => {
        const { taskId, input } = await claimedTask();
        const valid = sign(key, taskId, sha256(input), result);
        const der = Buffer.from(valid.input as string, 'base64');
        const raw = nodeSign('sha256', inputPayload(BINDING, taskId, sha256(input)), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
        for (const bad of [der.subarray(0, der.length - 1), Buffer.concat([der, Buffer.from([0])]), raw]) {
            const reply = await submit(taskId, result, { input: bad.toString('base64'), result: valid.result });
            expect({ outcome: reply.outcome, code: reply.code }).toEqual({ outcome: 'rejected', code: 'SIGNATURE_MALFORMED' });
        }
    });

    it('offers a combined-mode signature as the separate input signature', async () => {
        const { taskId, input } = await claimedTask();
        const combined = sign(key, taskId, sha256(input), result, 'combined');
        const separate = sign(key, taskId, sha256(input), result);
        await expectRejected(taskId, result, { input: combined.combined, result: separate.result }, 'INPUT_SIGNATURE_INVALID');
    });

    it('offers a separate result signature as a combined one', async () => {
        const { taskId, input } = await claimedTask('combined');
        const separate = sign(key, taskId, sha256(input), result);
        await expectRejected(taskId, result, { combined: separate.result }, 'SIGNATURE_INVALID');
    });

    it('is paid nothing for any of it; the honest submission is paid once', async () => {
        const { taskId, input } = await claimedTask();
        const payoutsBefore = (await chain.evaluate(attacker, 'queries:ListPayouts', ['evil-1', '1000', ''])).items as Json[];
        expect(payoutsBefore).toEqual([]);
        const honest = await submit(taskId, result, sign(key, taskId, sha256(input), result));
        expect(honest.outcome).toBe('accepted');
        const payouts = (await chain.evaluate(attacker, 'queries:ListPayouts', ['evil-1', '1000', ''])).items as Json[];
        expect(payouts.map((p) => p.taskId)).toEqual([taskId]);
    });
});

/** (r, n − s): the malleable twin that node:crypto accepts and Fabric refuses. */
function highSTwin(der: Buffer): Buffer {
    const { r, s } = parseEcdsaDer(der);
    return encodeEcdsaDer(r, P256_ORDER - s);
}
