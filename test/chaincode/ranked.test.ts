// SPDX-License-Identifier: Apache-2.0
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { kindOf, treeShape } from '../../chaincode/src/core/mergeTree';
import type { MergeNumber } from '../../chaincode/src/core/mergeTree';
import { sha256 } from '../../chaincode/src/core/signature';
import { Chain, ChainError, HOUR, PROGRAM, expectCode, mergeSignatures, newTaskKey, sign, taskSpec } from './harness';
import type { Actor, Json, TaskKey } from './harness';

/**
 * Ranked, sharded jobs (SPEC §6): node selection across shards at publish, filings at (y, x) by
 * rank holders following the merge rule, ZERO padding, completion at (h, 1), reassignment.
 */

const ORGS = ['Org1MSP', 'Org2MSP', 'Org3MSP'] as const;

/** Task i computes i², a merge adds: the final result is Σ i² — easy to check against a direct computation. */
function leafResult(index: number): Buffer {
    return Buffer.from(String(index * index));
}

function merged(left: Buffer, right: Buffer): Buffer {
    return Buffer.from(String(Number(left.toString()) + Number(right.toString())));
}

interface RankedJob {
    readonly jobId: string;
    readonly taskCount: number;
    readonly mode: 'separate' | 'combined';
    readonly taskKeys: TaskKey[];
    readonly mergeKey: TaskKey;
    /** rank → executor id, from the JobPublished event. */
    readonly holders: Map<number, { executorId: string; shard: string }>;
}

describe('ranked jobs', () => {
    let chain: Chain;
    let publisher: Actor;
    /** executor id → owner */
    const owners = new Map<string, Actor>();
    let jobSeq = 0;

    beforeAll(async () => {
        chain = await Chain.start();
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'ranked-publisher' });
        await chain.mint(publisher, 10_000_000n);
        for (const [o, mspId] of ORGS.entries()) {
            const owner = chain.actor({ mspId, name: `org${o + 1}-operator` });
            const count = mspId === 'Org3MSP' ? 4 : 8;
            for (let i = 1; i <= count; i++) {
                const id = `o${o + 1}-node${i}`;
                await chain.register(owner, id, { mode: i % 2 === 0 ? 'passive' : 'active', skills: ['wasm'] });
                owners.set(id, owner);
            }
        }
    });
    afterAll(async () => {
        await chain.stop();
    });

    async function publishRanked(taskCount: number, shards: readonly string[], mode: 'separate' | 'combined' = 'separate', extra: Json = {}): Promise<RankedJob> {
        const jobId = `ranked${++jobSeq}`;
        const taskKeys = Array.from({ length: taskCount }, () => newTaskKey());
        const mergeKey = newTaskKey();
        const tasks = taskKeys.map((key, i) => taskSpec(`${jobId}-t${i + 1}`, key, Buffer.from(String(i + 1))));
        const job = {
            id: jobId,
            program: PROGRAM,
            mode,
            assignment: 'ranked',
            shards,
            taskCount,
            deadline: chain.peer.clock + 24 * HOUR,
            leaseMs: HOUR,
            merge: { program: PROGRAM, publicKey: mergeKey.publicKeyPem, reward: '2' },
            tasks,
            ...extra,
        };
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(job)]);
        const event = chain.lastEvent();
        expect(event.name).toBe('JobPublished');
        const holders = new Map<number, { executorId: string; shard: string }>();
        for (const rank of event.payload.ranks as { rank: number; executorId: string; shard: string }[]) {
            holders.set(rank.rank, { executorId: rank.executorId, shard: rank.shard });
        }
        return { jobId, taskCount, mode, taskKeys, mergeKey, holders };
    }

    function holderOf(job: RankedJob, rank: number): { executorId: string; owner: Actor } {
        const holder = job.holders.get(rank);
        const owner = holder === undefined ? undefined : owners.get(holder.executorId);
        if (holder === undefined || owner === undefined) {
            throw new Error(`no holder for rank ${rank}`);
        }
        return { executorId: holder.executorId, owner };
    }

    /** What rank r computed: its task's result, or ZERO (null) beyond N. */
    function leafOf(job: RankedJob, rank: number): { result: string | null; signatures?: Json } {
        if (rank > job.taskCount) {
            return { result: null };
        }
        const key = job.taskKeys[rank - 1]!;
        const result = leafResult(rank);
        return { result: result.toString('base64'), signatures: sign(key, `${job.jobId}-t${rank}`, sha256(Buffer.from(String(rank))), result, job.mode) };
    }

    /** The result filed at `n` (null for ZERO), or undefined when nothing is filed there; any other failure is thrown. */
    async function filed(job: RankedJob, n: MergeNumber): Promise<Buffer | null | undefined> {
        try {
            const reply = await chain.evaluate(chain.anyone(), 'queries:GetFiling', [job.jobId, String(n.y), String(n.x)]);
            return reply.result === null ? null : Buffer.from(reply.result as string, 'base64');
        } catch (err) {
            if (err instanceof ChainError && err.code === 'NOT_FOUND' && err.message.includes('is not filed')) {
                return undefined;
            }
            throw err;
        }
    }

    /** The filing argument for merging into `into` from left and right child results, per the number's kind. */
    function mergeFiling(job: RankedJob, into: MergeNumber, left: Buffer | null, right: Buffer | null): Json {
        const kind = kindOf(treeShape(job.taskCount), into);
        if (kind === 'zero') {
            return { y: into.y, x: into.x, result: null };
        }
        if (kind === 'pass-through') {
            return { y: into.y, x: into.x, result: left!.toString('base64') };
        }
        const value = merged(left!, right!);
        return { y: into.y, x: into.x, result: value.toString('base64'), signatures: mergeSignatures(job.mergeKey, job.jobId, into.y, into.x, left!, right!, value, job.mode) };
    }

    /**
     * Every rank follows SPEC §6.5: odd positions upload and stop; even positions wait for (y, x−1),
     * merge into (y+1, x/2) (carrying their own leaf when y = 1) and go on. Ranks act in turn until (h, 1) is filed.
     */
    async function runJob(job: RankedJob): Promise<Buffer> {
        const shape = treeShape(job.taskCount);
        const pending = new Map<number, { at: MergeNumber; value: Buffer | null }>();
        for (let rank = 1; rank <= shape.nodeCount; rank++) {
            const { executorId, owner } = holderOf(job, rank);
            const leaf = leafOf(job, rank);
            const value = leaf.result === null ? null : Buffer.from(leaf.result, 'base64');
            if (rank % 2 === 1 || shape.nodeCount === 1) {
                await chain.submit(owner, 'ranks:File', [job.jobId, executorId, JSON.stringify({ y: 1, x: rank, ...leaf })]);
            } else {
                pending.set(rank, { at: { y: 1, x: rank }, value });
            }
        }
        for (let guard = 0; pending.size > 0; guard++) {
            expect(guard).toBeLessThan(64);
            for (const [rank, { at, value }] of [...pending]) {
                const left = await filed(job, { y: at.y, x: at.x - 1 });
                if (left === undefined) {
                    continue;
                }
                const into = { y: at.y + 1, x: at.x / 2 };
                const filing = mergeFiling(job, into, left, value);
                const carry = at.y === 1 ? { carry: leafOf(job, rank) } : {};
                const { executorId, owner } = holderOf(job, rank);
                await chain.submit(owner, 'ranks:File', [job.jobId, executorId, JSON.stringify({ ...filing, ...carry })]);
                const result = filing.result === null ? null : Buffer.from(filing.result as string, 'base64');
                if (into.x % 2 === 1) {
                    pending.delete(rank);
                } else {
                    pending.set(rank, { at: into, value: result });
                }
            }
        }
        const final = await filed(job, { y: shape.height, x: 1 });
        if (final === undefined || final === null) {
            throw new Error('the target was not filed');
        }
        return final;
    }

    it('chooses M nodes split evenly over the shards, siblings from different shards', async () => {
        const job = await publishRanked(5, ORGS);
        expect(job.holders.size).toBe(8);
        const perShard = ORGS.map((shard) => [...job.holders.values()].filter((h) => h.shard === shard).length);
        expect(perShard).toEqual([3, 3, 2]);
        const ids = [...job.holders.values()].map((h) => h.executorId);
        expect(new Set(ids).size).toBe(8);
        for (const [rank, holder] of job.holders) {
            expect(holder.executorId.startsWith(`o${ORGS.indexOf(holder.shard as (typeof ORGS)[number]) + 1}-`)).toBe(true);
            if (rank % 2 === 0) {
                expect(holder.shard).not.toBe(job.holders.get(rank - 1)?.shard);
            }
        }
        const task = await chain.task(`${job.jobId}-t3`);
        expect(task).toMatchObject({ state: 'assigned', index: 3, claim: { executorId: job.holders.get(3)?.executorId } });
    });

    it.each([
        [1, 1, 'separate'],
        [2, 2, 'combined'],
        [3, 3, 'separate'],
        [4, 3, 'combined'],
        [5, 3, 'separate'],
        [7, 2, 'separate'],
        [8, 3, 'combined'],
        [16, 2, 'separate'],
    ] as const)('runs N = %i over %i shards (%s) to the target and pays every task and real merge once', async (taskCount, shardCount, mode) => {
        const shards = ORGS.slice(0, shardCount);
        const before = await chain.balance(publisher);
        const job = await publishRanked(taskCount, shards, mode);
        const escrow = BigInt(taskCount) * 10n + BigInt(taskCount - 1) * 2n;
        expect(await chain.balance(publisher)).toBe(before - escrow);

        const final = await runJob(job);

        let expected = 0;
        for (let i = 1; i <= taskCount; i++) {
            expected += i * i;
        }
        expect(final.toString()).toBe(String(expected));
        const shape = treeShape(taskCount);
        const tree = await chain.evaluate(chain.anyone(), 'queries:GetMergeTree', [job.jobId]);
        expect(tree.missing).toEqual([]);
        expect(tree.filed).toHaveLength(2 * shape.nodeCount - 1);
        expect(tree.target).toEqual({ y: shape.height, x: 1 });
        expect(chain.lastEvent()).toMatchObject({ name: 'JobCompleted', payload: { jobId: job.jobId } });
        expect((await chain.evaluate(chain.anyone(), 'queries:GetJob', [job.jobId])).state).toBe('completed');
        const payouts = await Promise.all(
            [...job.holders.values()].map(async (h) => (await chain.evaluate(chain.anyone(), 'queries:ListPayouts', [h.executorId, '1000', ''])).items as Json[]),
        );
        const forJob = payouts.flat().filter((p) => p.jobId === job.jobId);
        expect(forJob.filter((p) => p.kind === 'payout')).toHaveLength(taskCount);
        expect(forJob.filter((p) => p.kind === 'merge-payout')).toHaveLength(taskCount - 1);
        expect(new Set(forJob.filter((p) => p.kind === 'payout').map((p) => p.taskId)).size).toBe(taskCount);
        expect(await chain.balance(publisher)).toBe(before - escrow);
    });

    describe('filing checks', () => {
        let job: RankedJob;
        beforeAll(async () => {
            job = await publishRanked(3, ORGS);
        });

        it('refuses a number held by another rank, numbers outside the tree and a second filing', async () => {
            const rank1 = holderOf(job, 1);
            const rank3 = holderOf(job, 3);
            await expectCode(chain.submit(rank3.owner, 'ranks:File', [job.jobId, rank3.executorId, JSON.stringify({ y: 1, x: 1, ...leafOf(job, 1) })]), 'NOT_CLAIMANT');
            await expectCode(chain.submit(rank1.owner, 'ranks:File', [job.jobId, rank1.executorId, JSON.stringify({ y: 4, x: 1, result: null })]), 'MERGE_NUMBER_INVALID');
            await expectCode(chain.submit(rank1.owner, 'ranks:File', [job.jobId, rank1.executorId, JSON.stringify({ y: 1, x: 5, result: null })]), 'MERGE_NUMBER_INVALID');
            await chain.submit(rank1.owner, 'ranks:File', [job.jobId, rank1.executorId, JSON.stringify({ y: 1, x: 1, ...leafOf(job, 1) })]);
            expect(chain.lastEvent()).toMatchObject({ name: 'MergeFiled', payload: { jobId: job.jobId, rank: 1, filed: [{ y: 1, x: 1, kind: 'leaf' }] } });
            await expectCode(chain.submit(rank1.owner, 'ranks:File', [job.jobId, rank1.executorId, JSON.stringify({ y: 1, x: 1, ...leafOf(job, 1) })]), 'ALREADY_FILED');
        });

        it('refuses a merge whose left child is missing, or at y = 2 without its carried leaf', async () => {
            const rank4 = holderOf(job, 4);
            await expectCode(
                chain.submit(rank4.owner, 'ranks:File', [job.jobId, rank4.executorId, JSON.stringify({ ...mergeFiling(job, { y: 2, x: 2 }, leafResult(3), null), carry: leafOf(job, 4) })]),
                'CHILD_MISSING',
            );
            const rank2 = holderOf(job, 2);
            await expectCode(
                chain.submit(rank2.owner, 'ranks:File', [job.jobId, rank2.executorId, JSON.stringify(mergeFiling(job, { y: 2, x: 1 }, leafResult(1), leafResult(2)))]),
                'CHILD_MISSING',
            );
        });

        it('refuses a ZERO with bytes and a pass-through that is not its left child', async () => {
            const rank3 = holderOf(job, 3);
            await chain.submit(rank3.owner, 'ranks:File', [job.jobId, rank3.executorId, JSON.stringify({ y: 1, x: 3, ...leafOf(job, 3) })]);
            const rank4 = holderOf(job, 4);
            await expectCode(
                chain.submit(rank4.owner, 'ranks:File', [job.jobId, rank4.executorId, JSON.stringify({ y: 2, x: 2, result: Buffer.from('9').toString('base64'), carry: { result: 'AA==' } })]),
                'INVALID_ARGUMENT',
            );
            await expectCode(
                chain.submit(rank4.owner, 'ranks:File', [job.jobId, rank4.executorId, JSON.stringify({ y: 2, x: 2, result: Buffer.from('10').toString('base64'), carry: { result: null } })]),
                'INVALID_ARGUMENT',
            );
            await chain.submit(rank4.owner, 'ranks:File', [job.jobId, rank4.executorId, JSON.stringify({ y: 2, x: 2, result: leafResult(3).toString('base64'), carry: { result: null } })]);
            const tree = await chain.evaluate(chain.anyone(), 'queries:GetMergeTree', [job.jobId]);
            expect(tree.filed).toEqual(
                expect.arrayContaining([
                    expect.objectContaining({ y: 1, x: 4, kind: 'zero' }),
                    expect.objectContaining({ y: 2, x: 2, kind: 'pass-through', sha256: sha256(leafResult(3)).toString('hex') }),
                ]),
            );
        });

        it('records a merge with a bad signature as a rejection and penalises the merger', async () => {
            const rank2 = holderOf(job, 2);
            const reputation = await chain.reputation(rank2.executorId);
            const forged = { ...mergeFiling(job, { y: 2, x: 1 }, leafResult(1), leafResult(2)), result: Buffer.from('999').toString('base64'), carry: leafOf(job, 2) };
            const reply = await chain.submit(rank2.owner, 'ranks:File', [job.jobId, rank2.executorId, JSON.stringify(forged)]);
            expect(reply).toMatchObject({ outcome: 'rejected', code: 'RESULT_SIGNATURE_INVALID', filed: [{ y: 1, x: 2, kind: 'leaf' }] });
            expect(chain.lastEvent()).toMatchObject({ name: 'ResultRejected', payload: { y: 2, x: 1, code: 'RESULT_SIGNATURE_INVALID' } });
            // The carried leaf was valid and is filed (and paid); the merge is not.
            expect(await chain.reputation(rank2.executorId)).toBe(reputation + 10 - 30);
            expect(await filed(job, { y: 2, x: 1 })).toBeUndefined();
            const honest = mergeFiling(job, { y: 2, x: 1 }, leafResult(1), leafResult(2));
            await chain.submit(rank2.owner, 'ranks:File', [job.jobId, rank2.executorId, JSON.stringify(honest)]);
            expect((await filed(job, { y: 2, x: 1 }))?.toString()).toBe('5');
        });
    });

    it('refuses a ranked job when a shard has too few eligible executors', async () => {
        const before = await chain.balance(publisher);
        const error = await expectCode(publishRanked(16, ['Org3MSP', 'Org1MSP']), 'TOO_FEW_EXECUTORS');
        expect(error.detail).toContain('Org3MSP');
        expect(await chain.balance(publisher)).toBe(before);
    });

    it('deals the ranks of a shard with fewer executors than its share over them, within capacity, and completes', async () => {
        // Org3MSP has 4 executors: with capacity 2 each they can hold the 8 ranks of a 16-task job's share.
        for (let i = 1; i <= 4; i++) {
            await chain.submit(owners.get(`o3-node${i}`)!, 'executors:Update', [`o3-node${i}`, JSON.stringify({ capacity: 2 })]);
        }
        const job = await publishRanked(16, ['Org3MSP', 'Org1MSP']);
        const org3 = [...job.holders.entries()].filter(([, h]) => h.shard === 'Org3MSP');
        expect(org3.map(([rank]) => rank)).toEqual([1, 3, 5, 7, 9, 11, 13, 15]);
        const perExecutor = new Map<string, number>();
        org3.forEach(([, h]) => perExecutor.set(h.executorId, (perExecutor.get(h.executorId) ?? 0) + 1));
        expect([...perExecutor.values()]).toEqual([2, 2, 2, 2]);
        const org1 = [...job.holders.values()].filter((h) => h.shard === 'Org1MSP');
        expect(new Set(org1.map((h) => h.executorId)).size).toBe(8);
        const tree = await chain.evaluate(chain.anyone(), 'queries:GetMergeTree', [job.jobId]);
        expect((tree.holders as { executorId: string }[]).filter((h) => perExecutor.has(h.executorId))).toHaveLength(8);
        expect((await runJob(job)).toString()).toBe(String((16 * 17 * 33) / 6));
        // 2 ranks each is their capacity for one job: a 32-task job needs 16 of Org3MSP.
        const error = await expectCode(publishRanked(32, ['Org3MSP', 'Org1MSP']), 'TOO_FEW_EXECUTORS');
        expect(error.detail).toBe('shard Org3MSP needs 16 ranks but its 4 eligible executors have capacity for 8');
        for (let i = 1; i <= 4; i++) {
            await chain.submit(owners.get(`o3-node${i}`)!, 'executors:Update', [`o3-node${i}`, JSON.stringify({ capacity: 1 })]);
        }
    });

    it('reassigns an overdue rank only to an executor of the shard with room for it', async () => {
        const gpu = { requirements: { skills: ['gpu'] } };
        for (const [mspId, ids, capacity] of [['Org3MSP', ['o3-gpu-a', 'o3-gpu-b'], 3], ['Org1MSP', ['o1-gpu'], 4]] as const) {
            const owner = chain.actor({ mspId, name: `${mspId}-gpu-operator` });
            for (const id of ids) {
                await chain.register(owner, id, { skills: ['gpu'], capacity });
                owners.set(id, owner);
            }
        }
        const job = await publishRanked(8, ['Org3MSP', 'Org1MSP'], 'separate', gpu);
        const org3 = [...job.holders.entries()].filter(([, h]) => h.shard === 'Org3MSP');
        expect(org3.map(([rank]) => rank)).toEqual([1, 3, 5, 7]);
        const first = org3[0]![1].executorId;
        const other = first === 'o3-gpu-a' ? 'o3-gpu-b' : 'o3-gpu-a';
        expect(org3.filter(([, h]) => h.executorId === first)).toHaveLength(2);
        chain.peer.advance(HOUR);
        const moved = await chain.submit(chain.anyone(), 'ranks:Reassign', [job.jobId, '1']);
        expect(moved).toMatchObject({ executorId: other, shard: 'Org3MSP', reassignments: 1 });
        // The other executor now holds 3 ranks, its capacity, and the expired holder is not offered its rank back.
        const second = org3.find(([rank, h]) => rank !== 1 && h.executorId === first)![0];
        const error = await expectCode(chain.submit(chain.anyone(), 'ranks:Reassign', [job.jobId, String(second)]), 'TOO_FEW_EXECUTORS');
        expect(error.detail).toBe('shard Org3MSP has no other eligible executor with room for another rank');
        await chain.submit(publisher, 'jobs:Cancel', [job.jobId]);
        for (const id of ['o3-gpu-a', 'o3-gpu-b', 'o1-gpu']) {
            await chain.submit(owners.get(id)!, 'executors:Retire', [id]);
        }
    });

    it('reassigns an overdue rank to another executor of its shard and penalises the old holder', async () => {
        const job = await publishRanked(2, ['Org1MSP', 'Org2MSP']);
        const old = holderOf(job, 1);
        const anyone = chain.anyone();
        await expectCode(chain.submit(anyone, 'ranks:Reassign', [job.jobId, '1']), 'INVALID_STATE');
        await expectCode(chain.submit(anyone, 'ranks:Reassign', [job.jobId, '2']), 'INVALID_STATE');
        const reputation = await chain.reputation(old.executorId);
        chain.peer.advance(HOUR);
        const moved = await chain.submit(anyone, 'ranks:Reassign', [job.jobId, '1']);
        expect(moved.executorId).not.toBe(old.executorId);
        expect(moved).toMatchObject({ shard: 'Org1MSP', reassignments: 1 });
        expect(job.holders.get(2)?.executorId).not.toBe(moved.executorId);
        expect(chain.lastEvent()).toMatchObject({ name: 'RankReassigned', payload: { jobId: job.jobId, rank: 1, from: old.executorId, to: moved.executorId } });
        expect(await chain.reputation(old.executorId)).toBe(reputation - 30);
        await expectCode(chain.submit(old.owner, 'ranks:File', [job.jobId, old.executorId, JSON.stringify({ y: 1, x: 1, ...leafOf(job, 1) })]), 'NOT_CLAIMANT');
        job.holders.set(1, { executorId: moved.executorId as string, shard: 'Org1MSP' });
        expect((await runJob(job)).toString()).toBe('5');
    });

    it('cancels a ranked job: unfinished tasks and unpaid merge rewards are refunded, filings stop', async () => {
        const before = await chain.balance(publisher);
        const job = await publishRanked(4, ORGS);
        const rank1 = holderOf(job, 1);
        await chain.submit(rank1.owner, 'ranks:File', [job.jobId, rank1.executorId, JSON.stringify({ y: 1, x: 1, ...leafOf(job, 1) })]);
        const cancelled = await chain.submit(publisher, 'jobs:Cancel', [job.jobId]);
        expect(cancelled.state).toBe('cancelled');
        // Task 1 was paid (10); tasks 2–4 were assigned, so their holders get the 20 % fee (2 each); 3 merges (2 each) come back.
        expect(await chain.balance(publisher)).toBe(before - 10n - 3n * 2n);
        const rank3 = holderOf(job, 3);
        await expectCode(chain.submit(rank3.owner, 'ranks:File', [job.jobId, rank3.executorId, JSON.stringify({ y: 1, x: 3, ...leafOf(job, 3) })]), 'INVALID_STATE');
    });
});
