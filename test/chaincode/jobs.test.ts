// SPDX-License-Identifier: Apache-2.0
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Chain, HOUR, PROGRAM, expectCode, newTaskKey, openJob, submission, taskSpec } from './harness';
import type { Actor, Json, TaskKey } from './harness';

/** Publishing in batches, escrow, validation of job specs, cancellation and the publisher's views. */
describe('jobs contract', () => {
    let chain: Chain;
    let publisher: Actor;
    let worker: Actor;
    let key: TaskKey;

    beforeAll(async () => {
        chain = await Chain.start();
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'job-publisher' });
        worker = chain.actor({ mspId: 'Org2MSP', name: 'job-worker' });
        await chain.mint(publisher, 1000n);
        await chain.register(worker, 'jw-1', { capacity: 16 });
        key = newTaskKey();
    });
    afterAll(async () => {
        await chain.stop();
    });

    const task = (id: string, reward = '10', extra: Json = {}): Json => taskSpec(id, key, Buffer.from(id), reward, extra);
    const publish = (job: Json): Promise<Json> => chain.submit(publisher, 'jobs:Publish', [JSON.stringify(job)]);

    it('publishes a job, escrows its rewards and announces its tasks', async () => {
        const before = await chain.balance(publisher);
        const job = await publish(openJob('j-basic', [task('j-basic-1', '10'), task('j-basic-2', '15')], { deadline: chain.peer.clock + HOUR }));
        expect(job).toMatchObject({ id: 'j-basic', publisher: publisher.account, publisherMsp: 'Org1MSP', state: 'open', taskCount: 2, publishedCount: 2, taskEscrow: '25' });
        expect(job.rules).toEqual({ reputationGain: 10, penaltyMultiplier: 3, cancelFeeBasisPoints: 2000 });
        expect(await chain.balance(publisher)).toBe(before - 25n);
        expect(chain.lastEvent()).toEqual({ name: 'JobPublished', payload: { jobId: 'j-basic', assignment: 'open', taskCount: 2, taskIds: ['j-basic-1', 'j-basic-2'], ranks: [] } });
        const account = await chain.evaluate(publisher, 'queries:GetAccount', [publisher.account]);
        expect(account).toMatchObject({ escrowed: '25', refunded: '0', spent: '25' });
    });

    it('refuses a job the balance cannot fund and writes nothing', async () => {
        const poor = chain.actor({ mspId: 'Org3MSP', name: 'poor' });
        await chain.mint(poor, 5n);
        const heightBefore = chain.peer.height;
        const error = await expectCode(chain.submit(poor, 'jobs:Publish', [JSON.stringify(openJob('j-poor', [task('j-poor-1', '6')]))]), 'INSUFFICIENT_FUNDS');
        expect(error.detail).toContain('needs 6');
        expect(chain.peer.height).toBe(heightBefore);
        await expectCode(chain.evaluate(poor, 'queries:GetJob', ['j-poor']), 'NOT_FOUND');
    });

    it('validates job specs field by field', async () => {
        const deadline = chain.peer.clock + HOUR;
        const cases: [Json, string][] = [
            [openJob('j-v1', [task('j-v1-1', '0')], { deadline }), 'INVALID_ARGUMENT'],
            [openJob('j-v2', [task('j-v2-1', '-1')], { deadline }), 'INVALID_ARGUMENT'],
            [openJob('j-v3', [task('j-v3-1', '1.5')], { deadline }), 'INVALID_ARGUMENT'],
            [openJob('j-v4', [task('j-v4-1')], { deadline: chain.peer.clock - 1 }), 'INVALID_ARGUMENT'],
            [openJob('j-v5', [task('j-v5-1'), task('j-v5-1')], { deadline }), 'INVALID_ARGUMENT'],
            [openJob('j-v6', [task('j-v6-1')], { deadline, taskCount: 0 }), 'INVALID_ARGUMENT'],
            [openJob('j-v7', [task('j-v7-1'), task('j-v7-2')], { deadline, taskCount: 1 }), 'INVALID_ARGUMENT'],
            [openJob('j-v8', [task('j-v8-1')], { deadline, mode: 'both' }), 'INVALID_ARGUMENT'],
            [openJob('j-v9', [task('j-v9-1')], { deadline, verify: 'quorum:3' }), 'INVALID_ARGUMENT'],
            [openJob('j-v10', [task('j-v10-1')], { deadline, program: { uri: 'ftp://x', sha256: PROGRAM.sha256 } }), 'INVALID_ARGUMENT'],
            [openJob('j-v11', [task('j-v11-1')], { deadline, program: { uri: PROGRAM.uri, sha256: 'ABC' } }), 'INVALID_ARGUMENT'],
            [openJob('j-v12', [task('j-v12-1', '10', { publicKey: 'not a key' })], { deadline }), 'INVALID_PUBLIC_KEY'],
            [openJob('j v13', [task('j-v13-1')], { deadline }), 'INVALID_ID'],
            [openJob('j-v14', [task('j-v14/1')], { deadline }), 'INVALID_ID'],
            [openJob('j-v15', [task('j-v15-1')], { deadline, assignment: 'ranked', shards: ['Org1MSP'] }), 'INVALID_ARGUMENT'],
            [openJob('j-v16', [task('j-v16-1')], { deadline, __proto__: { admin: true }, extra: 1 }), 'INVALID_ARGUMENT'],
            [openJob('j-v17', [task('j-v17-1', '10', { input: { inline: 'AAA' } })], { deadline }), 'INVALID_ARGUMENT'],
            [openJob('j-v18', [task('j-v18-1', '10', { input: { inline: Buffer.alloc(65 * 1024).toString('base64') } })], { deadline }), 'LIMIT_EXCEEDED'],
        ];
        for (const [job, code] of cases) {
            const error = await expectCode(publish(job), code as Parameters<typeof expectCode>[1]).catch((err: unknown) => {
                throw new Error(`${String(job.id)}: ${String(err)}`);
            });
            expect(error.code).toBe(code);
        }
        await expectCode(chain.submit(publisher, 'jobs:Publish', ['{"id":']), 'INVALID_ARGUMENT');
    });

    it('refuses an open job naming a shard where no executor is registered, and writes nothing', async () => {
        const heightBefore = chain.peer.height;
        const before = await chain.balance(publisher);
        const error = await expectCode(publish(openJob('j-nobody', [task('j-nobody-1')], { shards: ['Org2MSP', 'NobodyMSP'] })), 'UNKNOWN_SHARD');
        expect(error.detail).toContain('no executor is registered in shard NobodyMSP');
        expect(chain.peer.height).toBe(heightBefore);
        expect(await chain.balance(publisher)).toBe(before);
        // A shard with a registered executor is enough (jw-1 is in Org2MSP).
        await expect(publish(openJob('j-known', [task('j-known-1')], { shards: ['Org2MSP'] }))).resolves.toMatchObject({ state: 'open', shards: ['Org2MSP'] });
    });

    it('refuses task keys on other curves', async () => {
        for (const curve of ['secp256k1', 'P-384']) {
            const other = generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
            await expectCode(publish(openJob(`j-curve-${curve}`, [task(`j-curve-${curve}-1`, '10', { publicKey: other })], { deadline: chain.peer.clock + HOUR })), 'INVALID_PUBLIC_KEY');
        }
    });

    it('refuses a task id that already exists, in any job', async () => {
        await publish(openJob('j-dup-a', [task('j-dup-shared')], { deadline: chain.peer.clock + HOUR }));
        await expectCode(publish(openJob('j-dup-b', [task('j-dup-shared')], { deadline: chain.peer.clock + HOUR })), 'ALREADY_EXISTS');
        await expectCode(publish(openJob('j-dup-a', [task('j-dup-other')], { deadline: chain.peer.clock + HOUR })), 'ALREADY_EXISTS');
    });

    it('publishes a large job in batches; tasks of earlier batches are claimable at once', async () => {
        const job = await publish(openJob('j-batch', [task('j-batch-1'), task('j-batch-2')], { deadline: chain.peer.clock + HOUR, taskCount: 5 }));
        expect(job).toMatchObject({ state: 'publishing', publishedCount: 2 });
        await chain.submit(worker, 'tasks:Claim', ['j-batch-1', 'jw-1']);
        const stranger = chain.actor({ mspId: 'Org1MSP', name: 'stranger' });
        await expectCode(chain.submit(stranger, 'jobs:AddTasks', ['j-batch', JSON.stringify([task('j-batch-3')])]), 'NOT_PUBLISHER');
        await expectCode(chain.submit(publisher, 'jobs:AddTasks', ['j-batch', JSON.stringify([task('j-batch-3'), task('j-batch-4'), task('j-batch-5'), task('j-batch-6')])]), 'INVALID_ARGUMENT');
        await expectCode(chain.submit(publisher, 'jobs:AddTasks', ['j-batch', '[]']), 'INVALID_ARGUMENT');
        const second = await chain.submit(publisher, 'jobs:AddTasks', ['j-batch', JSON.stringify([task('j-batch-3'), task('j-batch-4')])]);
        expect(second).toMatchObject({ state: 'publishing', publishedCount: 4, taskEscrow: '40' });
        expect(chain.lastEvent()).toEqual({ name: 'TasksPublished', payload: { jobId: 'j-batch', taskIds: ['j-batch-3', 'j-batch-4'], publishedCount: 4, taskCount: 5 } });
        const last = await chain.submit(publisher, 'jobs:AddTasks', ['j-batch', JSON.stringify([task('j-batch-5')])]);
        expect(last).toMatchObject({ state: 'open', publishedCount: 5 });
        await expectCode(chain.submit(publisher, 'jobs:AddTasks', ['j-batch', JSON.stringify([task('j-batch-6')])]), 'INVALID_STATE');
        const listed = await chain.evaluate(worker, 'queries:ListTasksByJob', ['j-batch', '', '3', '']);
        expect((listed.items as Json[]).map((t) => [t.id, t.index])).toEqual([
            ['j-batch-1', 1],
            ['j-batch-2', 2],
            ['j-batch-3', 3],
        ]);
        const rest = await chain.evaluate(worker, 'queries:ListTasksByJob', ['j-batch', '', '3', listed.bookmark as string]);
        expect((rest.items as Json[]).map((t) => t.id)).toEqual(['j-batch-4', 'j-batch-5']);
        const claimed = await chain.evaluate(worker, 'queries:ListTasksByJob', ['j-batch', 'claimed', '10', '']);
        expect((claimed.items as Json[]).map((t) => t.id)).toEqual(['j-batch-1']);
        await expectCode(chain.evaluate(worker, 'queries:ListTasksByJob', ['j-batch', 'sleeping', '10', '']), 'INVALID_ARGUMENT');
    });

    it('cancels a job: refunds, and a claimed task pays the claimant a fee and reputation', async () => {
        await publish(openJob('j-cancel', [task('j-cancel-1', '50'), task('j-cancel-2', '50'), task('j-cancel-3', '50')], { deadline: chain.peer.clock + HOUR }));
        await chain.submit(worker, 'tasks:Claim', ['j-cancel-1', 'jw-1']);
        await chain.submit(worker, 'tasks:Claim', ['j-cancel-2', 'jw-1']);
        await chain.submit(worker, 'tasks:Submit', ['j-cancel-2', 'jw-1', submission(key, 'j-cancel-2', Buffer.from('j-cancel-2'), Buffer.from('r'))]);
        const publisherBefore = await chain.balance(publisher);
        const workerBefore = await chain.balance(worker);
        const reputationBefore = await chain.reputation('jw-1');
        await expectCode(chain.submit(worker, 'jobs:Cancel', ['j-cancel']), 'NOT_PUBLISHER');
        const cancelled = await chain.submit(publisher, 'jobs:Cancel', ['j-cancel']);
        expect(cancelled.state).toBe('cancelled');
        expect(chain.lastEvent()).toEqual({ name: 'JobCancelled', payload: { jobId: 'j-cancel', cancelledTaskIds: ['j-cancel-1', 'j-cancel-3'] } });
        expect(await chain.balance(worker)).toBe(workerBefore + 10n);
        expect(await chain.balance(publisher)).toBe(publisherBefore + 40n + 50n);
        expect(await chain.reputation('jw-1')).toBe(reputationBefore + 10);
        expect(await chain.task('j-cancel-2')).toMatchObject({ state: 'completed' });
        expect(await chain.task('j-cancel-1')).toMatchObject({ state: 'cancelled' });
        await expectCode(chain.submit(publisher, 'jobs:Cancel', ['j-cancel']), 'INVALID_STATE');
        await expectCode(chain.submit(worker, 'tasks:Submit', ['j-cancel-1', 'jw-1', submission(key, 'j-cancel-1', Buffer.from('j-cancel-1'), Buffer.from('r'))]), 'INVALID_STATE');
    });

    it('lets a publisher list its jobs and see progress; an executor lists its tasks and payouts', async () => {
        const jobs = await chain.evaluate(worker, 'queries:ListJobsByPublisher', [publisher.account, '100', '']);
        expect((jobs.items as Json[]).map((j) => j.id)).toEqual(expect.arrayContaining(['j-basic', 'j-batch', 'j-cancel']));
        const progress = await chain.evaluate(worker, 'queries:GetJobProgress', ['j-cancel']);
        expect(progress).toMatchObject({ state: 'cancelled', taskCount: 3, tasks: { completed: 1, cancelled: 2, published: 0 }, finished: true });
        const mine = await chain.evaluate(worker, 'queries:ListTasksByExecutor', ['jw-1', '100', '']);
        expect((mine.items as Json[]).map((t) => t.id)).toEqual(expect.arrayContaining(['j-batch-1', 'j-cancel-1', 'j-cancel-2']));
        const payouts = await chain.evaluate(worker, 'queries:ListPayouts', ['jw-1', '100', '']);
        expect((payouts.items as Json[]).map((p) => [p.kind, p.taskId, p.amount])).toEqual(
            expect.arrayContaining([
                ['payout', 'j-cancel-2', '50'],
                ['cancel-fee', 'j-cancel-1', '10'],
            ]),
        );
        const view = await chain.evaluate(worker, 'queries:GetExecutor', ['jw-1']);
        expect(view).toMatchObject({ earned: '60', lastCompletedTask: 'j-cancel-2' });
    });
});
