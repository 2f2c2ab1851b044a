// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { commitmentOf } from '../../chaincode/src/core/replication';
import { mergeInputHash, mergeSlotId, sha256 } from '../../chaincode/src/core/signature';
import { BINDING, Chain, HOUR, PROGRAM, expectCode, newTaskKey, openJob, sign, taskSpec } from './harness';
import type { Actor, Json, TaskKey } from './harness';

/**
 * Ranked (merge-tree) jobs under replicated policies through the real fabric-shim runtime: no
 * number is filed until replicas of distinct organizations agree on it, a merge task is published
 * only when both its children are accepted, and it merges only accepted values.
 */

const ORGS = ['Org1MSP', 'Org2MSP', 'Org3MSP'] as const;
const TASK_REWARD = 10n;
const MERGE_REWARD = 2n;

interface Sealed {
    readonly commitment: string;
    readonly reveal: string;
}

describe('ranked jobs verified by replicas', () => {
    let chain: Chain;
    let publisher: Actor;
    const owners: Actor[] = [];
    const ownerOf = (executorId: string): Actor => owners[executorId.charCodeAt(0) - 'a'.charCodeAt(0)]!;
    let taskKey: TaskKey;
    let mergeKey: TaskKey;
    let jobCounter = 0;

    beforeAll(async () => {
        chain = await Chain.start(ORGS);
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'rr-publisher' });
        await chain.mint(publisher, 100_000n);
        for (const [i, mspId] of ORGS.entries()) {
            const owner = chain.actor({ mspId, name: `rr-owner-${i}` });
            owners.push(owner);
            for (const n of [1, 2]) {
                await chain.register(owner, `${String.fromCharCode(97 + i)}${n}`, { capacity: 16 });
            }
        }
        await chain.submit(chain.admin(), 'credits:SetParameters', [JSON.stringify({ reputationFloor: -1_000_000_000 })]);
        taskKey = newTaskKey();
        mergeKey = newTaskKey();
    });
    afterAll(async () => {
        await chain.stop();
    });

    async function publish(taskCount: number, verify: Json, extra: Json = {}): Promise<{ jobId: string; taskIds: string[] }> {
        jobCounter++;
        const jobId = `rr-job-${jobCounter}`;
        const tasks = Array.from({ length: taskCount }, (_, i) => taskSpec(`${jobId}-t${i + 1}`, taskKey, Buffer.from(`input ${i + 1}`), TASK_REWARD.toString()));
        const job = openJob(jobId, tasks, {
            deadline: chain.peer.clock + 24 * HOUR,
            verify,
            assignment: 'ranked',
            shards: [...ORGS],
            merge: { program: PROGRAM, publicKey: mergeKey.publicKeyPem, reward: MERGE_REWARD.toString() },
            ...extra,
        });
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(job)]);
        return { jobId, taskIds: tasks.map((t) => t.id as string) };
    }

    /** The key, signed id and input hash of the number a task computes. */
    async function subjectOf(taskId: string): Promise<{ key: TaskKey; inputHash: Buffer }> {
        const task = await chain.task(taskId);
        return { key: task.mergeAt === undefined ? taskKey : mergeKey, inputHash: Buffer.from((task.input as Json).sha256 as string, 'hex') };
    }

    async function seal(taskId: string, executorId: string, result: Buffer): Promise<Sealed> {
        const { key, inputHash } = await subjectOf(taskId);
        const salt = randomBytes(16);
        return {
            commitment: commitmentOf(BINDING, taskId, executorId, sha256(result), salt).toString('hex'),
            reveal: JSON.stringify({ result: result.toString('base64'), salt: salt.toString('base64'), signatures: sign(key, taskId, inputHash, result) }),
        };
    }

    /** Claims and commits each replica's value in turn, then reveals them in the same order; returns the last reply. */
    async function replicate(taskId: string, values: Record<string, string>): Promise<Json> {
        const sealed: [string, Sealed][] = [];
        for (const [executorId, value] of Object.entries(values)) {
            await chain.submit(ownerOf(executorId), 'tasks:Claim', [taskId, executorId]);
            const s = await seal(taskId, executorId, Buffer.from(value));
            await chain.submit(ownerOf(executorId), 'tasks:Commit', [taskId, executorId, s.commitment]);
            sealed.push([executorId, s]);
        }
        let last: Json = {};
        for (const [executorId, s] of sealed) {
            last = await chain.submit(ownerOf(executorId), 'tasks:Reveal', [taskId, executorId, s.reveal]);
        }
        return last;
    }

    const filing = (jobId: string, y: number, x: number): Promise<Json> => chain.evaluate(chain.anyone(), 'queries:GetFiling', [jobId, String(y), String(x)]);
    const h = (text: string): Buffer => sha256(Buffer.from(text));

    async function totalCredits(): Promise<bigint> {
        let total = await chain.balance(publisher);
        for (const owner of owners) {
            total += await chain.balance(owner);
        }
        return total;
    }

    it('files no number before replicas agree, merges only accepted children and completes at the root', async () => {
        const credits = await totalCredits();
        const before = await chain.balance(publisher);
        const { jobId, taskIds } = await publish(3, { policy: 'quorum', k: 2, maxReplicas: 3 });
        // Escrow: 3 tasks and 2 real merges, each × maxReplicas.
        expect(await chain.balance(publisher)).toBe(before - (3n * TASK_REWARD + 2n * MERGE_REWARD) * 3n);
        const tree = await chain.evaluate(chain.anyone(), 'queries:GetMergeTree', [jobId]);
        expect(tree).toMatchObject({ holders: [], verify: { policy: 'quorum', k: 2, maxReplicas: 3 }, mergeTasks: [] });
        expect((await chain.task(taskIds[0]!)).state).toBe('published');
        // Nobody files by holding a rank.
        await expectCode(chain.submit(owners[0]!, 'ranks:File', [jobId, 'a1', JSON.stringify({ y: 1, x: 1, result: 'AA==', signatures: sign(taskKey, taskIds[0]!, h('input 1'), Buffer.from([0])) })]), 'INVALID_STATE');
        await expectCode(chain.submit(chain.anyone(), 'ranks:Reassign', [jobId, '1']), 'INVALID_STATE');

        // Leaf 1: two organizations agree; it is filed, its parent waits for leaf 2.
        const first = await replicate(taskIds[0]!, { a1: 'one', b1: 'one' });
        expect(first).toMatchObject({ outcome: 'accepted', filed: [{ y: 1, x: 1, kind: 'leaf', sha256: h('one').toString('hex') }] });
        expect(first.opened).toBeUndefined();
        expect((await filing(jobId, 1, 1)).result).toBe(Buffer.from('one').toString('base64'));
        await expectCode(filing(jobId, 2, 1), 'NOT_FOUND');
        const mergeId = mergeSlotId(jobId, 2, 1);
        await expectCode(chain.submit(owners[0]!, 'tasks:Claim', [mergeId, 'a1']), 'NOT_FOUND');

        // Leaf 2: a forger of Org3 disagrees; a third organization settles it and the forger loses.
        const forgerBefore = await chain.reputation('c1');
        const split = await replicate(taskIds[1]!, { a1: 'two', c1: 'forged' });
        expect(split).toMatchObject({ outcome: 'revealed', settlement: { kind: 'open', openSlots: 1 } });
        await expectCode(filing(jobId, 1, 2), 'NOT_FOUND');
        const second = await replicate(taskIds[1]!, { b1: 'two' });
        expect(second).toMatchObject({ outcome: 'accepted', opened: mergeId, filed: [{ y: 1, x: 2, kind: 'leaf' }] });
        expect(chain.lastEvent()).toMatchObject({ name: 'ResultAccepted', payload: { agreeing: ['a1', 'b1'], disagreeing: ['c1'], opened: mergeId } });
        expect(await chain.reputation('c1')).toBe(forgerBefore - 30);

        // The merge task binds the accepted children: its input is their result hashes.
        const mergeTask = await chain.task(mergeId);
        expect(mergeTask).toMatchObject({ jobId, state: 'published', mergeAt: { y: 2, x: 1 }, reward: MERGE_REWARD.toString(), publicKey: mergeKey.publicKeyPem, verify: { policy: 'quorum', k: 2, maxReplicas: 3 } });
        expect((mergeTask.input as Json).sha256).toBe(mergeInputHash(h('one'), h('two')).toString('hex'));

        // Leaf 3 (N = 3): its parent (2, 2) passes it through; the root waits for (2, 1).
        const third = await replicate(taskIds[2]!, { b2: 'three', c2: 'three' });
        expect(third.filed).toEqual([
            { y: 1, x: 3, kind: 'leaf', sha256: h('three').toString('hex') },
            { y: 2, x: 2, kind: 'pass-through', sha256: h('three').toString('hex') },
        ]);
        expect(third.opened).toBeUndefined();
        expect((await filing(jobId, 2, 2)).result).toBe(Buffer.from('three').toString('base64'));

        // A merge signed with the task key instead of the merge key is rejected.
        await chain.submit(owners[2]!, 'tasks:Claim', [mergeId, 'c2']);
        const salt = randomBytes(16);
        const wrong = Buffer.from('one+two');
        await chain.submit(owners[2]!, 'tasks:Commit', [mergeId, 'c2', commitmentOf(BINDING, mergeId, 'c2', sha256(wrong), salt).toString('hex')]);
        const badSignatures = sign(taskKey, mergeId, mergeInputHash(h('one'), h('two')), wrong);
        // Reveal opens at c2's own commit deadline (the other slot stays empty until then).
        chain.peer.advance(HOUR);
        const rejected = await chain.submit(owners[2]!, 'tasks:Reveal', [mergeId, 'c2', JSON.stringify({ result: wrong.toString('base64'), salt: salt.toString('base64'), signatures: badSignatures })]);
        expect(rejected.outcome).toBe('rejected');

        const merged = await replicate(mergeId, { a2: 'one+two', b2: 'one+two' });
        const rootId = mergeSlotId(jobId, 3, 1);
        expect(merged).toMatchObject({ outcome: 'accepted', opened: rootId, filed: [{ y: 2, x: 1, kind: 'merge', sha256: h('one+two').toString('hex') }] });
        expect((await chain.task(rootId)).input).toMatchObject({ sha256: mergeInputHash(h('one+two'), h('three')).toString('hex') });

        const done = await replicate(rootId, { a1: 'one+two+three', c1: 'one+two+three' });
        expect(done).toMatchObject({ outcome: 'accepted', filed: [{ y: 3, x: 1, kind: 'merge' }] });
        expect(chain.lastEvent()).toMatchObject({ name: 'JobCompleted', payload: { jobId, taskId: rootId, agreeing: ['a1', 'c1'] } });
        expect((await chain.evaluate(chain.anyone(), 'queries:GetJob', [jobId])).state).toBe('completed');
        expect((await filing(jobId, 3, 1)).result).toBe(Buffer.from('one+two+three').toString('base64'));
        const progress = await chain.evaluate(chain.anyone(), 'queries:GetJobProgress', [jobId]);
        expect(progress).toMatchObject({ state: 'completed', finished: true });

        // Paid: 2 agreeing replicas per number (3 leaves, 2 merges); everything else refunded.
        expect(await chain.balance(publisher)).toBe(before - 2n * (3n * TASK_REWARD + 2n * MERGE_REWARD));
        expect(await totalCredits()).toBe(credits);
    });

    it('refuses merge re-execution under a replicated policy: replicas verify every merge', async () => {
        const onLedger = { uri: `ledger://${'b'.repeat(64)}`, sha256: 'b'.repeat(64) };
        await expectCode(
            publish(2, { policy: 'quorum', k: 2, maxReplicas: 2 }, { merge: { program: onLedger, publicKey: mergeKey.publicKeyPem, reward: '2', verify: 'reexecute' } }),
            'UNSUPPORTED',
        );
    });

    it('works under credibility: one replica at a time until the value is credible enough', async () => {
        const { jobId, taskIds } = await publish(2, { policy: 'credibility', trust: '0.9', maxReplicas: 4 });
        await chain.submit(owners[0]!, 'tasks:Claim', [taskIds[0]!, 'a1']);
        await expectCode(chain.submit(owners[1]!, 'tasks:Claim', [taskIds[0]!, 'b1']), 'ALREADY_CLAIMED');
        await chain.submit(owners[0]!, 'tasks:Release', [taskIds[0]!, 'a1']);
        // New executors (e = 10/50): one vote is 0.8 credible, two agreeing votes pass 0.9.
        expect((await replicate(taskIds[0]!, { a1: 'l' })).outcome).toBe('revealed');
        expect((await replicate(taskIds[0]!, { b1: 'l' })).outcome).toBe('accepted');
        expect((await replicate(taskIds[1]!, { a1: 'r' })).outcome).toBe('revealed');
        const right = await replicate(taskIds[1]!, { b1: 'r' });
        expect(right).toMatchObject({ outcome: 'accepted', opened: mergeSlotId(jobId, 2, 1) });
    });

    it('reports progress as unfinished while merges remain after every leaf', async () => {
        const { jobId, taskIds } = await publish(2, { policy: 'quorum', k: 2, maxReplicas: 2 });
        await replicate(taskIds[0]!, { a1: 'l', b1: 'l' });
        await replicate(taskIds[1]!, { a1: 'r', b1: 'r' });
        const progress = await chain.evaluate(chain.anyone(), 'queries:GetJobProgress', [jobId]);
        expect(progress).toMatchObject({ state: 'open', finished: false, tasks: { completed: 2 } });
        expect((await chain.evaluate(chain.anyone(), 'queries:GetMergeTree', [jobId])).mergeTasks).toEqual([{ y: 2, x: 1, taskId: mergeSlotId(jobId, 2, 1), state: 'published' }]);
    });

    it('refunds every unspent credit when the publisher cancels mid-tree', async () => {
        const credits = await totalCredits();
        const before = await chain.balance(publisher);
        const { jobId, taskIds } = await publish(4, { policy: 'quorum', k: 2, maxReplicas: 3 });
        await replicate(taskIds[0]!, { a1: 'p', b1: 'p' });
        await replicate(taskIds[1]!, { a1: 'q', b1: 'q' });
        const mergeId = mergeSlotId(jobId, 2, 1);
        await chain.submit(owners[2]!, 'tasks:Claim', [mergeId, 'c1']);
        await chain.submit(publisher, 'jobs:Cancel', [jobId]);
        expect((await chain.task(mergeId)).state).toBe('cancelled');
        expect((await chain.task(taskIds[3]!)).state).toBe('cancelled');
        const paid = before - (await chain.balance(publisher));
        // What left the publisher went to the replicas: pay for agreed leaves, a cancellation fee for c1.
        expect(paid).toBeGreaterThan(0n);
        expect(await totalCredits()).toBe(credits);
    });

    it('fails the job the moment one of its numbers finds no agreement, refunding everything unspent', async () => {
        const credits = await totalCredits();
        const before = await chain.balance(publisher);
        const { jobId, taskIds } = await publish(3, { policy: 'quorum', k: 2, maxReplicas: 2 });
        // Leaf 3 is agreed (paid); leaf 2 has a replica in flight; then leaf 1's two replicas disagree.
        await replicate(taskIds[2]!, { b2: 'three', c2: 'three' });
        await chain.submit(owners[2]!, 'tasks:Claim', [taskIds[1]!, 'c1']);
        const innocent = await chain.reputation('c1');
        const split = await replicate(taskIds[0]!, { a1: 'one', b1: 'other' });
        expect(split).toMatchObject({ outcome: 'failed', task: { state: 'failed' } });
        expect(chain.lastEvent()).toMatchObject({ name: 'ReplicationFailed', payload: { jobId, taskId: taskIds[0], jobFailed: jobId } });
        expect((await chain.evaluate(chain.anyone(), 'queries:GetJob', [jobId])).state).toBe('failed');
        expect((await chain.task(taskIds[1]!)).state).toBe('failed');
        expect((await chain.task(taskIds[1]!)).lastFailure).toMatchObject({ kind: 'no-agreement' });
        const replication = await chain.evaluate(chain.anyone(), 'queries:GetReplication', [taskIds[1]!]);
        expect((replication.replicas as Json[]).map((r) => [r.executorId, r.state])).toEqual([['c1', 'superseded']]);
        // The replica in flight on leaf 2 did nothing wrong: neither paid nor penalised.
        expect(await chain.reputation('c1')).toBe(innocent);
        // Only leaf 3's two agreeing replicas were paid; the merges (never published) and the rest came back.
        expect(await chain.balance(publisher)).toBe(before - 2n * TASK_REWARD);
        expect(await totalCredits()).toBe(credits);
        await expectCode(chain.submit(owners[0]!, 'tasks:Claim', [taskIds[1]!, 'a2']), 'INVALID_STATE');
        // Nothing is left for the sweep: the job left the deadline index.
        chain.peer.advance(25 * HOUR);
        const swept = await chain.submit(chain.anyone(), 'tasks:SweepExpired', ['100']);
        expect(swept.jobsExpired).not.toContain(jobId);
        expect((await chain.evaluate(chain.anyone(), 'queries:GetJob', [jobId])).state).toBe('failed');
    });

    it('sweeps an overdue replica of a merge task (its id holds "/")', async () => {
        const { jobId, taskIds } = await publish(2, { policy: 'quorum', k: 2, maxReplicas: 3 });
        await replicate(taskIds[0]!, { a1: 'l', b1: 'l' });
        await replicate(taskIds[1]!, { a1: 'r', b1: 'r' });
        const mergeId = mergeSlotId(jobId, 2, 1);
        await chain.submit(owners[2]!, 'tasks:Claim', [mergeId, 'c1']);
        chain.peer.advance(HOUR);
        const swept = await chain.submit(chain.anyone(), 'tasks:SweepExpired', ['100']);
        expect(swept.replicasExpired).toEqual(expect.arrayContaining([expect.objectContaining({ taskId: mergeId, executorId: 'c1' })]));
        const replication = await chain.evaluate(chain.anyone(), 'queries:GetReplication', [mergeId]);
        expect((replication.replicas as Json[]).map((r) => [r.executorId, r.state])).toEqual([['c1', 'abandoned']]);
    });

    it('expires the job at its deadline and refunds the merges never published', async () => {
        const credits = await totalCredits();
        const before = await chain.balance(publisher);
        const { jobId, taskIds } = await publish(2, { policy: 'quorum', k: 2, maxReplicas: 2 }, { deadline: chain.peer.clock + 3 * HOUR });
        await replicate(taskIds[0]!, { a2: 'x', b2: 'x' });
        chain.peer.advance(4 * HOUR);
        const swept = await chain.submit(chain.anyone(), 'tasks:SweepExpired', ['100']);
        expect(swept.jobsExpired).toContain(jobId);
        expect((await chain.task(taskIds[1]!)).state).toBe('failed');
        expect(await chain.balance(publisher)).toBe(before - 2n * TASK_REWARD);
        expect(await totalCredits()).toBe(credits);
    });
});
