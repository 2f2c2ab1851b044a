// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { commitmentOf } from '../../chaincode/src/core/replication';
import { sha256 } from '../../chaincode/src/core/signature';
import { BINDING, Chain, HOUR, expectCode, newTaskKey, openJob, sign, taskSpec } from './harness';
import type { Actor, Json, TaskKey } from './harness';
import type { Endorsement } from '../support/fabric';

/**
 * Replicated verification through the real fabric-shim runtime: replica slots from distinct
 * organizations, commit then reveal, settlement under quorum and credibility, windows, the sweep,
 * escrow and refunds, events and the replication query.
 */

const ORGS = ['Org1MSP', 'Org2MSP', 'Org3MSP', 'Org4MSP'] as const;

/** What an executor keeps between commit and reveal. */
interface Sealed {
    readonly commitment: string;
    readonly reveal: string;
}

function seal(key: TaskKey, taskId: string, executorId: string, input: Buffer, result: Buffer, salt: Buffer = randomBytes(16)): Sealed {
    const commitment = commitmentOf(BINDING, taskId, executorId, sha256(result), salt).toString('hex');
    const reveal = JSON.stringify({ result: result.toString('base64'), salt: salt.toString('base64'), signatures: sign(key, taskId, sha256(input), result) });
    return { commitment, reveal };
}

describe('replicated verification', () => {
    let chain: Chain;
    let publisher: Actor;
    /** owners[i] is an identity of ORGS[i]; each registers executors `<org letter><n>`. */
    const owners: Actor[] = [];
    const ownerOf = (executorId: string): Actor => owners[executorId.charCodeAt(0) - 'a'.charCodeAt(0)]!;
    let key: TaskKey;
    let jobCounter = 0;

    beforeAll(async () => {
        chain = await Chain.start(ORGS);
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'rp-publisher' });
        await chain.mint(publisher, 100_000n);
        for (const [i, mspId] of ORGS.entries()) {
            const owner = chain.actor({ mspId, name: `rp-owner-${i}` });
            owners.push(owner);
            for (const n of [1, 2, 3, 9]) {
                await chain.register(owner, `${String.fromCharCode(97 + i)}${n}`, { capacity: 16 });
            }
        }
        // Executors here collect many penalties on purpose; keep them working (the floor has its own tests).
        await chain.submit(chain.admin(), 'credits:SetParameters', [JSON.stringify({ reputationFloor: -1_000_000_000 })]);
        key = newTaskKey();
    });
    afterAll(async () => {
        await chain.stop();
    });

    async function publish(verify: Json, taskCount = 1, extra: Json = {}): Promise<{ jobId: string; taskIds: string[] }> {
        jobCounter++;
        const jobId = `rp-job-${jobCounter}`;
        const tasks = Array.from({ length: taskCount }, (_, i) => taskSpec(`${jobId}-t${i + 1}`, key, Buffer.from(`input ${i + 1}`), '10'));
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(openJob(jobId, tasks, { deadline: chain.peer.clock + 24 * HOUR, verify, ...extra }))]);
        return { jobId, taskIds: tasks.map((t) => t.id as string) };
    }

    const claim = (taskId: string, executorId: string): Promise<Json> => chain.submit(ownerOf(executorId), 'tasks:Claim', [taskId, executorId]);
    const commit = (taskId: string, executorId: string, sealed: Sealed): Promise<Json> => chain.submit(ownerOf(executorId), 'tasks:Commit', [taskId, executorId, sealed.commitment]);
    const reveal = (taskId: string, executorId: string, sealed: Sealed): Promise<Json> => chain.submit(ownerOf(executorId), 'tasks:Reveal', [taskId, executorId, sealed.reveal]);
    const replication = (taskId: string): Promise<Json> => chain.evaluate(chain.anyone(), 'queries:GetReplication', [taskId]);

    /** Claims, commits and returns the sealed value of each replica in turn. */
    async function join(taskId: string, input: Buffer, values: Record<string, string>): Promise<Record<string, Sealed>> {
        const sealed: Record<string, Sealed> = {};
        for (const [executorId, value] of Object.entries(values)) {
            await claim(taskId, executorId);
            sealed[executorId] = seal(key, taskId, executorId, input, Buffer.from(value));
            await commit(taskId, executorId, sealed[executorId]);
        }
        return sealed;
    }

    async function reputationOn(executorId: string, taskId: string): Promise<Json[]> {
        const page = await chain.evaluate(chain.anyone(), 'queries:ListReputation', [executorId, '1000', '']);
        return (page.items as Json[]).filter((d) => d.taskId === taskId).map((d) => ({ delta: d.delta, reason: d.reason }));
    }

    async function refundsOf(jobId: string): Promise<bigint> {
        const page = await chain.evaluate(chain.anyone(), 'queries:ListCredits', [publisher.account, '1000', '']);
        return (page.items as Json[]).filter((d) => d.kind === 'refund' && d.jobId === jobId).reduce((sum, d) => sum + BigInt(d.amount as string), 0n);
    }

    async function totalCredits(): Promise<bigint> {
        let total = await chain.balance(publisher);
        for (const owner of owners) {
            total += await chain.balance(owner);
        }
        return total;
    }

    describe('publishing', () => {
        it('escrows reward × maxReplicas and copies the policy into each task', async () => {
            const before = await chain.balance(publisher);
            const { taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 4 }, 2);
            expect(await chain.balance(publisher)).toBe(before - 2n * 10n * 4n);
            expect((await chain.task(taskIds[0]!)).verify).toEqual({ policy: 'quorum', k: 2, maxReplicas: 4 });
        });

        it('refuses a quorum larger than the organizations the job can draw on', async () => {
            const err = await expectCode(publish({ policy: 'quorum', k: 3, maxReplicas: 3 }, 1, { shards: ['Org1MSP', 'Org2MSP'] }), 'TOO_FEW_SHARDS');
            expect(err.detail).toContain('can draw on 2');
            await expectCode(publish({ policy: 'quorum', k: 5, maxReplicas: 5 }), 'TOO_FEW_SHARDS');
            await expectCode(publish({ policy: 'quorum', k: 2, maxReplicas: 2 }, 1, { shards: ['Org1MSP', 'Org9MSP'] }), 'TOO_FEW_SHARDS');
        });

        it('refuses a trust given as a number, and a ranked quorum larger than its shards', async () => {
            await expectCode(publish({ policy: 'credibility', trust: 0.999, maxReplicas: 5 }), 'INVALID_ARGUMENT');
            const mergeKey = newTaskKey();
            const ranked = { assignment: 'ranked', shards: ['Org1MSP', 'Org2MSP'], merge: { program: { uri: 'https://x.example/m.wasm', sha256: 'b'.repeat(64) }, publicKey: mergeKey.publicKeyPem } };
            await expectCode(publish({ policy: 'quorum', k: 3, maxReplicas: 3 }, 2, ranked), 'TOO_FEW_SHARDS');
        });
    });

    describe('quorum 2 of 4', () => {
        it('accepts the value two organizations agree on, pays each once and refunds the rest', async () => {
            const credits = await totalCredits();
            const { jobId, taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 4 });
            const taskId = taskIds[0]!;
            const input = Buffer.from('input 1');
            const payees = [await chain.balance(owners[0]!), await chain.balance(owners[1]!)];
            const publisherBefore = await chain.balance(publisher);

            const claimed = await claim(taskId, 'a1');
            expect(claimed.state).toBe('published');
            expect(claimed.replica).toMatchObject({ executorId: 'a1', shard: 'Org1MSP', state: 'claimed', commitBy: chain.peer.clock + HOUR, revealBy: chain.peer.clock + 2 * HOUR });
            expect(chain.lastEvent()).toEqual({
                name: 'ReplicaClaimed',
                payload: { jobId, taskId, executorId: 'a1', shard: 'Org1MSP', commitBy: chain.peer.clock + HOUR, revealBy: chain.peer.clock + 2 * HOUR, settlement: 'open', openSlots: 1 },
            });
            // An organization cannot outvote itself: a second executor of Org1 is refused.
            await expectCode(claim(taskId, 'a2'), 'SHARD_TAKEN');
            await expectCode(claim(taskId, 'a1'), 'ALREADY_CLAIMED');
            const a1 = seal(key, taskId, 'a1', input, Buffer.from('42'));
            await commit(taskId, 'a1', a1);
            expect(chain.lastEvent().name).toBe('ReplicaCommitted');
            await expectCode(commit(taskId, 'a1', a1), 'INVALID_STATE');
            // Nobody reveals while another replica could still choose its value.
            await expectCode(reveal(taskId, 'a1', a1), 'REVEAL_NOT_OPEN');

            expect((await claim(taskId, 'b1')).state).toBe('claimed');
            await expectCode(claim(taskId, 'c1'), 'ALREADY_CLAIMED');
            const b1 = seal(key, taskId, 'b1', input, Buffer.from('42'));
            await expectCode(reveal(taskId, 'b1', b1), 'NOT_COMMITTED');
            await expectCode(reveal(taskId, 'a1', a1), 'REVEAL_NOT_OPEN');
            await commit(taskId, 'b1', b1);
            await expectCode(chain.submit(owners[0]!, 'tasks:Submit', [taskId, 'a1', JSON.stringify({ result: 'NDI=', signatures: sign(key, taskId, sha256(input), Buffer.from('42')) })]), 'INVALID_STATE');

            const view = await replication(taskId);
            expect((view.replicas as Json[]).map((r) => [r.executorId, r.state, r.revealOpen])).toEqual([
                ['a1', 'committed', true],
                ['b1', 'committed', true],
            ]);

            const first = await reveal(taskId, 'a1', a1);
            expect(first.outcome).toBe('revealed');
            expect(chain.lastEvent()).toEqual({ name: 'ReplicaRevealed', payload: { jobId, taskId, executorId: 'a1', resultSha256: sha256(Buffer.from('42')).toString('hex'), openSlots: 0 } });
            const second = await reveal(taskId, 'b1', b1);
            expect(second.outcome).toBe('accepted');
            expect(chain.lastEvent()).toEqual({
                name: 'ResultAccepted',
                payload: { jobId, taskId, executorId: 'b1', resultSha256: sha256(Buffer.from('42')).toString('hex'), reward: '10', agreeing: ['a1', 'b1'], disagreeing: [], superseded: [] },
            });
            const task = await chain.task(taskId);
            expect(task.state).toBe('completed');
            expect(task.result).toMatchObject({ inline: Buffer.from('42').toString('base64'), executorId: 'b1' });
            expect([await chain.balance(owners[0]!), await chain.balance(owners[1]!)]).toEqual([payees[0]! + 10n, payees[1]! + 10n]);
            expect(await chain.balance(publisher)).toBe(publisherBefore + 2n * 10n);
            expect(await totalCredits()).toBe(credits);
            await expectCode(reveal(taskId, 'b1', b1), 'INVALID_STATE');
            await expectCode(claim(taskId, 'c1'), 'INVALID_STATE');
            const settled = await replication(taskId);
            expect(settled.settlement).toBeUndefined();
            expect((settled.replicas as Json[]).map((r) => r.verdict)).toEqual(['agreed', 'agreed']);
        });

        it('adds a replica on disagreement and penalises the forger whose value lost', async () => {
            const { taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 4 });
            const taskId = taskIds[0]!;
            const input = Buffer.from('input 1');
            const forgerBefore = await chain.reputation('b2');
            const sealed = await join(taskId, input, { a2: 'honest', b2: 'forged' });
            await reveal(taskId, 'a2', sealed.a2!);
            const split = await reveal(taskId, 'b2', sealed.b2!);
            expect(split.outcome).toBe('revealed');
            expect(split.settlement).toEqual({ kind: 'open', openSlots: 1 });
            expect((await chain.task(taskId)).state).toBe('published');
            // Org2 already has a counted value: its other executor cannot join to break the tie.
            await expectCode(claim(taskId, 'b3'), 'SHARD_TAKEN');
            const third = await join(taskId, input, { c2: 'honest' });
            const settled = await reveal(taskId, 'c2', third.c2!);
            expect(settled.outcome).toBe('accepted');
            expect(chain.lastEvent().payload).toMatchObject({ agreeing: ['a2', 'c2'], disagreeing: ['b2'] });
            expect(await chain.reputation('b2')).toBe(forgerBefore - 30);
            expect((await chain.task(taskId)).result).toMatchObject({ inline: Buffer.from('honest').toString('base64') });
        });

        it('fails and refunds the whole escrow when no value can reach the quorum', async () => {
            const credits = await totalCredits();
            const { jobId, taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 3 });
            const taskId = taskIds[0]!;
            const input = Buffer.from('input 1');
            const publisherBefore = await chain.balance(publisher);
            const sealed = await join(taskId, input, { a3: 'x', b3: 'y' });
            await reveal(taskId, 'a3', sealed.a3!);
            await reveal(taskId, 'b3', sealed.b3!);
            const last = await join(taskId, input, { c3: 'z' });
            const failed = await reveal(taskId, 'c3', last.c3!);
            expect(failed.outcome).toBe('failed');
            expect(chain.lastEvent()).toEqual({ name: 'ReplicationFailed', payload: { jobId, taskId, executorId: 'c3', refund: '30' } });
            expect((await chain.task(taskId)).state).toBe('failed');
            expect(await chain.balance(publisher)).toBe(publisherBefore + 30n);
            expect(await totalCredits()).toBe(credits);
        });
    });

    describe('copiers and replays', () => {
        it('refuses a reveal without a replica or a commitment, and records a replayed commitment as a mismatch', async () => {
            const { taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 4 });
            const taskId = taskIds[0]!;
            const input = Buffer.from('input 1');
            await claim(taskId, 'a1');
            const honest = seal(key, taskId, 'a1', input, Buffer.from('7'));
            await commit(taskId, 'a1', honest);
            // A copier without a slot cannot reveal at all.
            await expectCode(reveal(taskId, 'd1', honest), 'NOT_CLAIMANT');
            // A copier with a slot replays the honest commitment, then the honest reveal: bound to a1, it fails.
            await claim(taskId, 'd1');
            const before = await chain.reputation('d1');
            await commit(taskId, 'd1', honest);
            const replayed = await reveal(taskId, 'd1', honest);
            expect(replayed.outcome).toBe('rejected');
            expect(replayed.code).toBe('COMMITMENT_MISMATCH');
            expect(chain.lastEvent()).toMatchObject({ name: 'ResultRejected', payload: { taskId, executorId: 'd1', code: 'COMMITMENT_MISMATCH', settlement: 'open', openSlots: 1 } });
            expect(await chain.reputation('d1')).toBe(before - 30);
            // Its organization's place is free again; the honest replica still needs a partner.
            await expectCode(reveal(taskId, 'a1', honest), 'REVEAL_NOT_OPEN');
        });

        it('records a reveal whose signatures fail as a rejection', async () => {
            const { taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 4 });
            const taskId = taskIds[0]!;
            const input = Buffer.from('input 1');
            await claim(taskId, 'a1');
            await claim(taskId, 'b1');
            const salt = randomBytes(16);
            const result = Buffer.from('1');
            const commitment = commitmentOf(BINDING, taskId, 'a1', sha256(result), salt).toString('hex');
            const badSignatures = sign(newTaskKey(), taskId, sha256(input), result);
            await chain.submit(owners[0]!, 'tasks:Commit', [taskId, 'a1', commitment]);
            await commit(taskId, 'b1', seal(key, taskId, 'b1', input, result));
            const rejected = await chain.submit(owners[0]!, 'tasks:Reveal', [taskId, 'a1', JSON.stringify({ result: result.toString('base64'), salt: salt.toString('base64'), signatures: badSignatures })]);
            expect(rejected).toMatchObject({ outcome: 'rejected', code: 'INPUT_SIGNATURE_INVALID' });
        });

        it('refuses a salt shorter than 16 bytes before anything is written', async () => {
            const { taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 2 });
            const taskId = taskIds[0]!;
            const input = Buffer.from('input 1');
            const sealed = await join(taskId, input, { a1: 'v', b1: 'v' });
            const short = JSON.parse(sealed.a1!.reveal) as Json;
            await expectCode(chain.submit(owners[0]!, 'tasks:Reveal', [taskId, 'a1', JSON.stringify({ ...short, salt: Buffer.alloc(8).toString('base64') })]), 'INVALID_ARGUMENT');
            expect((await replication(taskId)).replicas).toContainEqual(expect.objectContaining({ executorId: 'a1', state: 'committed' }));
        });
    });

    describe('windows and the sweep', () => {
        it('penalises a replica that commits and goes silent; the task completes with another', async () => {
            const { taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 4 });
            const taskId = taskIds[0]!;
            const input = Buffer.from('input 1');
            const sealed = await join(taskId, input, { a1: 'v', b1: 'v' });
            await reveal(taskId, 'a1', sealed.a1!);
            chain.peer.advance(2 * HOUR);
            await expectCode(reveal(taskId, 'b1', sealed.b1!), 'LEASE_EXPIRED');
            const swept = await chain.submit(chain.anyone(), 'tasks:SweepExpired', ['100']);
            expect(swept.replicasExpired).toContainEqual({ jobId: expect.any(String), taskId, executorId: 'b1', taskState: 'published' });
            expect(chain.lastEvent().name).toBe('LeaseExpired');
            expect(await reputationOn('b1', taskId)).toEqual([{ delta: -30, reason: 'lease-expired' }]);
            // The revealed value waits; a new organization's replica settles it.
            const more = await join(taskId, input, { c1: 'v' });
            expect((await reveal(taskId, 'c1', more.c1!)).outcome).toBe('accepted');
        });

        it('opens a reveal at the own commit deadline when a slot stays empty', async () => {
            const { taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 2 });
            const taskId = taskIds[0]!;
            const sealed = await join(taskId, Buffer.from('input 1'), { a1: 'v' });
            await expectCode(reveal(taskId, 'a1', sealed.a1!), 'REVEAL_NOT_OPEN');
            chain.peer.advance(HOUR);
            expect((await reveal(taskId, 'a1', sealed.a1!)).outcome).toBe('revealed');
        });

        it('refuses a commitment after the commit window and lets the sweep abandon the replica', async () => {
            const { taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 4 });
            const taskId = taskIds[0]!;
            await claim(taskId, 'a1');
            chain.peer.advance(HOUR);
            await expectCode(commit(taskId, 'a1', seal(key, taskId, 'a1', Buffer.from('input 1'), Buffer.from('v'))), 'LEASE_EXPIRED');
            // Any transaction reading the task's replicas abandons the overdue one first.
            await claim(taskId, 'a2');
            expect(chain.lastEvent().payload).toMatchObject({ executorId: 'a2', abandoned: ['a1'] });
        });

        it('releases an uncommitted slot without penalty', async () => {
            const { taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 2 });
            const taskId = taskIds[0]!;
            await claim(taskId, 'a1');
            await chain.submit(owners[0]!, 'tasks:Release', [taskId, 'a1']);
            expect(chain.lastEvent().name).toBe('TaskReleased');
            expect((await replication(taskId)).replicas).toEqual([]);
            await claim(taskId, 'a1');
        });

        it('fails a task at the job deadline, penalising replicas in flight and refunding the escrow', async () => {
            const { jobId, taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 3 }, 1, { deadline: chain.peer.clock + 3 * HOUR });
            const taskId = taskIds[0]!;
            await join(taskId, Buffer.from('input 1'), { a1: 'v' });
            chain.peer.advance(4 * HOUR);
            const swept = await chain.submit(chain.anyone(), 'tasks:SweepExpired', ['100']);
            expect(swept.jobsExpired).toContain(jobId);
            expect((await chain.task(taskId)).state).toBe('failed');
            expect(await refundsOf(jobId)).toBe(30n);
            expect(await reputationOn('a1', taskId)).toEqual([{ delta: -30, reason: 'lease-expired' }]);
        });

        it('pays in-flight replicas the cancellation fee when the publisher cancels', async () => {
            const credits = await totalCredits();
            const { jobId, taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 3 });
            const taskId = taskIds[0]!;
            await join(taskId, Buffer.from('input 1'), { a1: 'v' });
            await claim(taskId, 'b1');
            const before = await chain.balance(publisher);
            await chain.submit(publisher, 'jobs:Cancel', [jobId]);
            expect(await chain.balance(publisher)).toBe(before + 30n - 2n * 2n);
            expect(await totalCredits()).toBe(credits);
            expect((await replication(taskId)).replicas).toEqual([expect.objectContaining({ state: 'superseded' }), expect.objectContaining({ state: 'superseded' })]);
        });
    });

    describe('credibility', () => {
        it('runs replicas one after another until the agreeing credibility reaches the trust level', async () => {
            const { taskIds } = await publish({ policy: 'credibility', trust: '0.9', maxReplicas: 4 });
            const taskId = taskIds[0]!;
            const input = Buffer.from('input 1');
            // a9 and b9 are newcomers (reputation 0, credibility 0.8): one alone is not enough, two agreeing reach 16/17.
            const first = await join(taskId, input, { a9: 'v' });
            await expectCode(claim(taskId, 'b9'), 'ALREADY_CLAIMED');
            const view = await replication(taskId);
            expect((view.replicas as Json[])[0]).toMatchObject({ executorId: 'a9', revealOpen: true, credibilityPpm: 800000, reputation: 0 });
            expect((await reveal(taskId, 'a9', first.a9!)).settlement).toEqual({ kind: 'open', openSlots: 1 });
            const second = await join(taskId, input, { b9: 'v' });
            expect((await reveal(taskId, 'b9', second.b9!)).outcome).toBe('accepted');
        });
    });

    describe('no hot keys', () => {
        function keysOf(endorsement: Endorsement): { reads: Set<string>; writes: Set<string> } {
            const reads = new Set(endorsement.rwset.reads.map((r) => r.key));
            for (const range of endorsement.rwset.ranges) {
                for (const read of range.reads) {
                    reads.add(read.key);
                }
            }
            return { reads, writes: new Set(endorsement.rwset.writes.map((w) => w.key)) };
        }
        const shared = (a: Set<string>, b: Set<string>): string[] => [...a].filter((k) => b.has(k));

        it('gives claims, commits and reveals of different tasks disjoint read and write sets', async () => {
            const { taskIds } = await publish({ policy: 'quorum', k: 2, maxReplicas: 2 }, 2);
            const [t1, t2] = [taskIds[0]!, taskIds[1]!];
            const claims = [await chain.endorse(owners[0]!, 'tasks:Claim', [t1, 'a1']), await chain.endorse(owners[1]!, 'tasks:Claim', [t2, 'b1'])];
            const disjoint = (pair: Endorsement[]): void => {
                const [x, y] = pair.map(keysOf) as [ReturnType<typeof keysOf>, ReturnType<typeof keysOf>];
                expect(shared(x.writes, new Set([...y.reads, ...y.writes]))).toEqual([]);
                expect(shared(y.writes, x.reads)).toEqual([]);
            };
            disjoint(claims);
            expect(await chain.peer.commit(claims)).toEqual(['VALID', 'VALID']);
            await claim(t1, 'b2');
            await claim(t2, 'a2');
            const inputs = [Buffer.from('input 1'), Buffer.from('input 2')];
            const s = {
                a1: seal(key, t1, 'a1', inputs[0]!, Buffer.from('r1')),
                b2: seal(key, t1, 'b2', inputs[0]!, Buffer.from('r1')),
                b1: seal(key, t2, 'b1', inputs[1]!, Buffer.from('r2')),
                a2: seal(key, t2, 'a2', inputs[1]!, Buffer.from('r2')),
            };
            // Commits touch only their own replica: even two of one task commit together.
            const commits = [
                await chain.endorse(owners[0]!, 'tasks:Commit', [t1, 'a1', s.a1.commitment]),
                await chain.endorse(owners[1]!, 'tasks:Commit', [t1, 'b2', s.b2.commitment]),
                await chain.endorse(owners[1]!, 'tasks:Commit', [t2, 'b1', s.b1.commitment]),
                await chain.endorse(owners[0]!, 'tasks:Commit', [t2, 'a2', s.a2.commitment]),
            ];
            expect(await chain.peer.commit(commits)).toEqual(['VALID', 'VALID', 'VALID', 'VALID']);
            await reveal(t1, 'a1', s.a1);
            await reveal(t2, 'b1', s.b1);
            const settling = [await chain.endorse(owners[1]!, 'tasks:Reveal', [t1, 'b2', s.b2.reveal]), await chain.endorse(owners[0]!, 'tasks:Reveal', [t2, 'a2', s.a2.reveal])];
            disjoint(settling);
            expect(await chain.peer.commit(settling)).toEqual(['VALID', 'VALID']);
            expect([(await chain.task(t1)).state, (await chain.task(t2)).state]).toEqual(['completed', 'completed']);
        });

        it('lets reveals of one task conflict, one per block winning: each is retried at most replicas − 1 times', async () => {
            const { taskIds } = await publish({ policy: 'quorum', k: 3, maxReplicas: 3 });
            const taskId = taskIds[0]!;
            const sealed = await join(taskId, Buffer.from('input 1'), { a1: 'v', b1: 'v', c1: 'v' });
            let pending = ['a1', 'b1', 'c1'];
            const retries: Record<string, number> = { a1: 0, b1: 0, c1: 0 };
            const outcomes: string[] = [];
            while (pending.length > 0) {
                // Every replica still pending reveals at once, on the same committed state.
                const round: Endorsement[] = [];
                for (const id of pending) {
                    round.push(await chain.endorse(ownerOf(id), 'tasks:Reveal', [taskId, id, sealed[id]!.reveal]));
                }
                const codes = await chain.peer.commit(round);
                expect(codes.filter((code) => code === 'VALID')).toHaveLength(1);
                const winner = pending[codes.indexOf('VALID')]!;
                outcomes.push((JSON.parse(round[codes.indexOf('VALID')]!.payload.toString('utf8')) as Json).outcome as string);
                pending = pending.filter((id) => id !== winner);
                for (const id of pending) {
                    retries[id]!++;
                }
            }
            expect(outcomes).toEqual(['revealed', 'revealed', 'accepted']);
            expect(Math.max(...Object.values(retries))).toBe(2);
        });
    });
});
