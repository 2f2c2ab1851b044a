// SPDX-License-Identifier: Apache-2.0
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HOUR, newTaskKey, openJob, sign, submission, taskSpec, Chain, expectCode } from './harness';
import type { Actor, TaskKey } from './harness';
import { sha256 } from '../../chaincode/src/core/signature';

/**
 * Claims, submissions, failure reports, releases and lease expiry of open tasks (SPEC §3, §5, §7),
 * through the real fabric-shim runtime.
 */
describe('tasks contract', () => {
    let chain: Chain;
    let publisher: Actor;
    let alice: Actor;
    let bob: Actor;
    let carol: Actor;
    let jobSeq = 0;

    beforeAll(async () => {
        chain = await Chain.start();
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'publisher' });
        alice = chain.actor({ mspId: 'Org1MSP', name: 'alice' });
        bob = chain.actor({ mspId: 'Org2MSP', name: 'bob' });
        carol = chain.actor({ mspId: 'Org3MSP', name: 'carol' });
        await chain.mint(publisher, 1_000_000n);
        await chain.register(alice, 'alice-1', { skills: ['wasm'], capacity: 64 });
        await chain.register(bob, 'bob-1', { skills: ['wasm', 'simd'], capacity: 64 });
        await chain.register(carol, 'carol-1', { mode: 'passive' });
    });
    afterAll(async () => {
        await chain.stop();
    });

    interface Published {
        readonly jobId: string;
        readonly taskIds: string[];
        readonly key: TaskKey;
        readonly input: Buffer;
    }

    /** Publishes a fresh open job of `count` tasks sharing one key (keyScope "job"). */
    async function publish(count = 1, extra: Record<string, unknown> = {}, reward = '10'): Promise<Published> {
        const jobId = `job${++jobSeq}`;
        const key = newTaskKey();
        const input = Buffer.from(`input of ${jobId}`);
        const tasks = Array.from({ length: count }, (_, i) => taskSpec(`${jobId}-t${i + 1}`, key, input, reward));
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(openJob(jobId, tasks, { deadline: chain.peer.clock + 24 * HOUR, ...extra }))]);
        return { jobId, taskIds: tasks.map((t) => t.id as string), key, input };
    }

    describe('Claim', () => {
        it('records the claimant, a lease and an event', async () => {
            const { jobId, taskIds } = await publish();
            const taskId = taskIds[0]!;
            const claimed = await chain.submit(bob, 'tasks:Claim', [taskId, 'bob-1']);
            expect(claimed.state).toBe('claimed');
            expect(claimed.claim).toMatchObject({ executorId: 'bob-1', account: bob.account, shard: 'Org2MSP', leaseExpiresAt: chain.peer.clock + HOUR });
            expect(chain.lastEvent()).toEqual({ name: 'TaskClaimed', payload: { jobId, taskId, executorId: 'bob-1', leaseExpiresAt: chain.peer.clock + HOUR } });
        });

        it('lets exactly one of two concurrent claims commit', async () => {
            const { taskIds } = await publish();
            const taskId = taskIds[0]!;
            const first = await chain.endorse(alice, 'tasks:Claim', [taskId, 'alice-1']);
            const second = await chain.endorse(bob, 'tasks:Claim', [taskId, 'bob-1']);
            expect([first.status, second.status]).toEqual([200, 200]);
            expect(await chain.peer.commit([first, second])).toEqual(['VALID', 'MVCC_READ_CONFLICT']);
            expect((await chain.task(taskId)).claim).toMatchObject({ executorId: 'alice-1' });
            const late = await expectCode(chain.submit(bob, 'tasks:Claim', [taskId, 'bob-1']), 'ALREADY_CLAIMED');
            expect(late.detail).toContain('alice-1');
        });

        it('refuses an executor of another identity, a passive one, one without the skills or from another shard', async () => {
            const { taskIds } = await publish(1, { requirements: { skills: ['simd'] } });
            const taskId = taskIds[0]!;
            await expectCode(chain.submit(bob, 'tasks:Claim', [taskId, 'alice-1']), 'NOT_OWNER');
            await expectCode(chain.submit(carol, 'tasks:Claim', [taskId, 'carol-1']), 'REQUIREMENT_UNMET');
            const lacking = await expectCode(chain.submit(alice, 'tasks:Claim', [taskId, 'alice-1']), 'REQUIREMENT_UNMET');
            expect(lacking.detail).toContain('simd');
            const sharded = await publish(1, { shards: ['Org1MSP'] });
            await expectCode(chain.submit(bob, 'tasks:Claim', [sharded.taskIds[0]!, 'bob-1']), 'WRONG_SHARD');
        });

        it('refuses a claim below the minimum reputation and beyond the capacity', async () => {
            const demanding = await publish(1, { requirements: { minReputation: 1_000 } });
            const unmet = await expectCode(chain.submit(alice, 'tasks:Claim', [demanding.taskIds[0]!, 'alice-1']), 'REQUIREMENT_UNMET');
            expect(unmet.detail).toContain('reputation');
            const dave = chain.actor({ mspId: 'Org1MSP', name: 'dave' });
            await chain.register(dave, 'dave-1', { capacity: 1 });
            const { taskIds } = await publish(2);
            await chain.submit(dave, 'tasks:Claim', [taskIds[0]!, 'dave-1']);
            const full = await expectCode(chain.submit(dave, 'tasks:Claim', [taskIds[1]!, 'dave-1']), 'REQUIREMENT_UNMET');
            expect(full.detail).toContain('capacity');
        });

        it('refuses unknown tasks, bad ids and claims after the deadline', async () => {
            await expectCode(chain.submit(alice, 'tasks:Claim', ['no-such-task', 'alice-1']), 'NOT_FOUND');
            await expectCode(chain.submit(alice, 'tasks:Claim', ['a\u0000b', 'alice-1']), 'INVALID_ID');
            await expectCode(chain.submit(alice, 'tasks:Claim', ['a/b', 'alice-1']), 'INVALID_ID');
            const { taskIds } = await publish(1, { deadline: chain.peer.clock + 2 * HOUR });
            chain.peer.advance(3 * HOUR);
            await expectCode(chain.submit(alice, 'tasks:Claim', [taskIds[0]!, 'alice-1']), 'DEADLINE_PASSED');
        });
    });

    describe('Submit', () => {
        it('stores an accepted result, pays the claimant once and raises its reputation', async () => {
            const { jobId, taskIds, key, input } = await publish(1, {}, '25');
            const taskId = taskIds[0]!;
            await chain.submit(bob, 'tasks:Claim', [taskId, 'bob-1']);
            const before = await chain.balance(bob);
            const reputation = await chain.reputation('bob-1');
            const result = Buffer.from('42');
            const reply = await chain.submit(bob, 'tasks:Submit', [taskId, 'bob-1', submission(key, taskId, input, result)]);
            expect(reply.outcome).toBe('accepted');
            expect(reply.task).toMatchObject({ state: 'completed', result: { sha256: sha256(result).toString('hex'), inline: result.toString('base64'), executorId: 'bob-1' } });
            expect(await chain.balance(bob)).toBe(before + 25n);
            expect(await chain.reputation('bob-1')).toBe(reputation + 10);
            expect(chain.lastEvent()).toEqual({ name: 'ResultAccepted', payload: { jobId, taskId, executorId: 'bob-1', resultSha256: sha256(result).toString('hex'), reward: '25' } });
            await expectCode(chain.submit(bob, 'tasks:Submit', [taskId, 'bob-1', submission(key, taskId, input, result)]), 'INVALID_STATE');
            expect(await chain.balance(bob)).toBe(before + 25n);
        });

        it('accepts combined-mode signatures', async () => {
            const { taskIds, key, input } = await publish(1, { mode: 'combined' });
            const taskId = taskIds[0]!;
            await chain.submit(alice, 'tasks:Claim', [taskId, 'alice-1']);
            const reply = await chain.submit(alice, 'tasks:Submit', [taskId, 'alice-1', submission(key, taskId, input, Buffer.from('ok'), 'combined')]);
            expect(reply.outcome).toBe('accepted');
        });

        it('checks the claimant before the lease and the lease before the signatures', async () => {
            const { taskIds, key, input } = await publish();
            const taskId = taskIds[0]!;
            await chain.submit(bob, 'tasks:Claim', [taskId, 'bob-1']);
            const bogus = JSON.stringify({ result: 'AA==', signatures: { input: 'AA==', result: 'AA==' } });
            const sameOrgOther = chain.actor({ mspId: 'Org2MSP', name: 'mallory' });
            await expectCode(chain.submit(sameOrgOther, 'tasks:Submit', [taskId, 'bob-1', bogus]), 'NOT_CLAIMANT');
            await expectCode(chain.submit(alice, 'tasks:Submit', [taskId, 'alice-1', bogus]), 'NOT_CLAIMANT');
            chain.peer.advance(HOUR);
            await expectCode(chain.submit(bob, 'tasks:Submit', [taskId, 'bob-1', bogus]), 'LEASE_EXPIRED');
            const valid = submission(key, taskId, input, Buffer.from('late'));
            await expectCode(chain.submit(bob, 'tasks:Submit', [taskId, 'bob-1', valid]), 'LEASE_EXPIRED');
        });

        it('records a rejected result: attempt, penalty, event — and fails the task at maxAttempts with a refund', async () => {
            const { jobId, taskIds, key, input } = await publish(1, { maxAttempts: 2 }, '40');
            const taskId = taskIds[0]!;
            await chain.submit(bob, 'tasks:Claim', [taskId, 'bob-1']);
            const reputation = await chain.reputation('bob-1');
            const publisherBefore = await chain.balance(publisher);
            const forgedResult = JSON.stringify({
                result: Buffer.from('forged').toString('base64'),
                signatures: sign(key, taskId, sha256(input), Buffer.from('honest')),
            });
            const first = await chain.submit(bob, 'tasks:Submit', [taskId, 'bob-1', forgedResult]);
            expect(first).toMatchObject({ outcome: 'rejected', code: 'RESULT_SIGNATURE_INVALID', task: { state: 'claimed', attempts: 1 } });
            expect(chain.lastEvent()).toEqual({ name: 'ResultRejected', payload: { jobId, taskId, executorId: 'bob-1', code: 'RESULT_SIGNATURE_INVALID', attempts: 1, state: 'claimed' } });
            expect(await chain.reputation('bob-1')).toBe(reputation - 30);
            const wrongInput = JSON.stringify({ result: Buffer.from('x').toString('base64'), signatures: sign(key, taskId, sha256(Buffer.from('other input')), Buffer.from('x')) });
            const second = await chain.submit(bob, 'tasks:Submit', [taskId, 'bob-1', wrongInput]);
            expect(second).toMatchObject({ outcome: 'rejected', code: 'INPUT_SIGNATURE_INVALID', task: { state: 'failed', attempts: 2 } });
            expect(await chain.reputation('bob-1')).toBe(reputation - 60);
            expect(await chain.balance(publisher)).toBe(publisherBefore + 40n);
        });

        it('refuses signatures of the wrong mode and malformed submissions without recording anything', async () => {
            const { taskIds, key, input } = await publish();
            const taskId = taskIds[0]!;
            await chain.submit(alice, 'tasks:Claim', [taskId, 'alice-1']);
            const heightBefore = chain.peer.height;
            await expectCode(chain.submit(alice, 'tasks:Submit', [taskId, 'alice-1', submission(key, taskId, input, Buffer.from('r'), 'combined')]), 'INVALID_ARGUMENT');
            await expectCode(chain.submit(alice, 'tasks:Submit', [taskId, 'alice-1', '{"result":"not base64!","signatures":{}}']), 'INVALID_ARGUMENT');
            await expectCode(chain.submit(alice, 'tasks:Submit', [taskId, 'alice-1', 'not json']), 'INVALID_ARGUMENT');
            await expectCode(chain.submit(alice, 'tasks:Submit', [taskId, 'alice-1', '{"result":"AA==","signatures":{"input":"AA==","result":"AA=="},"extra":1}']), 'INVALID_ARGUMENT');
            const huge = JSON.stringify({ result: Buffer.alloc(70 * 1024).toString('base64'), signatures: { input: 'AA==', result: 'AA==' } });
            await expectCode(chain.submit(alice, 'tasks:Submit', [taskId, 'alice-1', huge]), 'LIMIT_EXCEEDED');
            expect(chain.peer.height).toBe(heightBefore);
            expect((await chain.task(taskId)).attempts).toBe(0);
        });
    });

    describe('Release and ReportFailure', () => {
        it('releases a claim without penalty so another executor can claim', async () => {
            const { jobId, taskIds } = await publish();
            const taskId = taskIds[0]!;
            await chain.submit(alice, 'tasks:Claim', [taskId, 'alice-1']);
            const reputation = await chain.reputation('alice-1');
            await expectCode(chain.submit(bob, 'tasks:Release', [taskId, 'bob-1']), 'NOT_CLAIMANT');
            const released = await chain.submit(alice, 'tasks:Release', [taskId, 'alice-1']);
            expect(released).toMatchObject({ state: 'published', attempts: 0 });
            expect(released.claim).toBeUndefined();
            expect(chain.lastEvent()).toEqual({ name: 'TaskReleased', payload: { jobId, taskId, executorId: 'alice-1' } });
            expect(await chain.reputation('alice-1')).toBe(reputation);
            await chain.submit(bob, 'tasks:Claim', [taskId, 'bob-1']);
        });

        it('counts a reported failed run as an attempt without a penalty and refunds at maxAttempts', async () => {
            const { taskIds } = await publish(1, { maxAttempts: 2 }, '7');
            const taskId = taskIds[0]!;
            const reputation = await chain.reputation('alice-1');
            const publisherBefore = await chain.balance(publisher);
            await chain.submit(alice, 'tasks:Claim', [taskId, 'alice-1']);
            const first = await chain.submit(alice, 'tasks:ReportFailure', [taskId, 'alice-1', '{"kind":"program-hash-mismatch","detail":"sha256 differs"}']);
            expect(first).toMatchObject({ state: 'published', attempts: 1, lastFailure: { kind: 'program-hash-mismatch', executorId: 'alice-1' } });
            await chain.submit(alice, 'tasks:Claim', [taskId, 'alice-1']);
            const second = await chain.submit(alice, 'tasks:ReportFailure', [taskId, 'alice-1', '{"kind":"run-failed","detail":"trap: unreachable"}']);
            expect(second).toMatchObject({ state: 'failed', attempts: 2 });
            expect(chain.lastEvent().name).toBe('RunFailed');
            expect(await chain.reputation('alice-1')).toBe(reputation);
            expect(await chain.balance(publisher)).toBe(publisherBefore + 7n);
            await expectCode(chain.submit(alice, 'tasks:ReportFailure', [taskId, 'alice-1', '{"kind":"lease-expired"}']), 'INVALID_STATE');
        });

        it('refuses failure kinds an executor may not report', async () => {
            const { taskIds } = await publish();
            await chain.submit(alice, 'tasks:Claim', [taskIds[0]!, 'alice-1']);
            await expectCode(chain.submit(alice, 'tasks:ReportFailure', [taskIds[0]!, 'alice-1', '{"kind":"lease-expired"}']), 'INVALID_ARGUMENT');
        });
    });

    describe('leases', () => {
        let executorSeq = 0;
        /** A fresh executor, so penalties from earlier tests do not suspend it. */
        async function freshExecutor(owner: Actor): Promise<string> {
            const id = `lease-${++executorSeq}`;
            await chain.register(owner, id, { capacity: 8 });
            return id;
        }

        it('names its own argument when the sweep limit is out of range', async () => {
            for (const limit of ['0', '1001', 'ten']) {
                const refused = await expectCode(chain.submit(carol, 'tasks:SweepExpired', [limit]), 'INVALID_ARGUMENT');
                expect(refused.message).toContain('limit must be an integer from 1 to 1000');
            }
        });

        it('sweeps an expired lease: penalty, attempt, claimable again', async () => {
            await chain.submit(carol, 'tasks:SweepExpired', ['1000']);
            const { jobId, taskIds } = await publish();
            const taskId = taskIds[0]!;
            const holder = await freshExecutor(alice);
            const next = await freshExecutor(bob);
            await chain.submit(alice, 'tasks:Claim', [taskId, holder]);
            const idle = await chain.submit(carol, 'tasks:SweepExpired', ['100']);
            expect(idle).toEqual({ leasesExpired: [], jobsExpired: [] });
            chain.peer.advance(HOUR);
            const swept = await chain.submit(carol, 'tasks:SweepExpired', ['100']);
            expect(swept.leasesExpired).toContainEqual({ jobId, taskId, executorId: holder, state: 'published' });
            expect(chain.lastEvent().name).toBe('LeaseExpired');
            expect(await chain.reputation(holder)).toBe(-30);
            expect(await chain.task(taskId)).toMatchObject({ state: 'published', attempts: 1, lastFailure: { kind: 'lease-expired' } });
            await chain.submit(bob, 'tasks:Claim', [taskId, next]);
        });

        it('lets a new claim take over an expired lease and penalises the old claimant', async () => {
            const { taskIds } = await publish();
            const taskId = taskIds[0]!;
            const holder = await freshExecutor(alice);
            const next = await freshExecutor(bob);
            await chain.submit(alice, 'tasks:Claim', [taskId, holder]);
            chain.peer.advance(HOUR - 1);
            await expectCode(chain.submit(bob, 'tasks:Claim', [taskId, next]), 'ALREADY_CLAIMED');
            chain.peer.advance(1);
            const taken = await chain.submit(bob, 'tasks:Claim', [taskId, next]);
            expect(taken).toMatchObject({ state: 'claimed', attempts: 1, claim: { executorId: next } });
            expect(chain.lastEvent().payload.expiredClaimant).toBe(holder);
            expect(await chain.reputation(holder)).toBe(-30);
        });

        it('leaves an expired claim to the sweep: its claimant can no longer release it or report on it', async () => {
            const { taskIds } = await publish();
            const taskId = taskIds[0]!;
            const holder = await freshExecutor(alice);
            await chain.submit(alice, 'tasks:Claim', [taskId, holder]);
            chain.peer.advance(HOUR);
            await expectCode(chain.submit(alice, 'tasks:Release', [taskId, holder]), 'LEASE_EXPIRED');
            await expectCode(chain.submit(alice, 'tasks:ReportFailure', [taskId, holder, '{"kind":"run-failed"}']), 'LEASE_EXPIRED');
            await chain.submit(carol, 'tasks:SweepExpired', ['1000']);
            expect(await chain.reputation(holder)).toBe(-30);
        });

        it('fails the unfinished tasks of a job past its deadline and refunds them', async () => {
            const { jobId, taskIds, key, input } = await publish(3, { deadline: chain.peer.clock + 2 * HOUR }, '5');
            const finisher = await freshExecutor(bob);
            const holder = await freshExecutor(alice);
            await chain.submit(bob, 'tasks:Claim', [taskIds[0]!, finisher]);
            await chain.submit(bob, 'tasks:Submit', [taskIds[0]!, finisher, submission(key, taskIds[0]!, input, Buffer.from('done'))]);
            chain.peer.advance(HOUR + HOUR / 2);
            await chain.submit(alice, 'tasks:Claim', [taskIds[1]!, holder]);
            expect((await chain.task(taskIds[1]!)).claim).toMatchObject({ leaseExpiresAt: chain.peer.clock + HOUR / 2 });
            const publisherBefore = await chain.balance(publisher);
            chain.peer.advance(HOUR / 2);
            const swept = await chain.submit(carol, 'tasks:SweepExpired', ['1000']);
            expect(swept.jobsExpired).toContain(jobId);
            expect(await chain.balance(publisher)).toBe(publisherBefore + 10n);
            expect(await chain.task(taskIds[2]!)).toMatchObject({ state: 'failed', lastFailure: { kind: 'deadline-passed' } });
            expect(await chain.task(taskIds[0]!)).toMatchObject({ state: 'completed' });
            expect((await chain.evaluate(carol, 'queries:GetJob', [jobId])).state).toBe('expired');
        });
    });
});
