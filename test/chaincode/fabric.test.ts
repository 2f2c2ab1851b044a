// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { sha256 } from '../../chaincode/src/core/signature';
import { Chain, HOUR, PROGRAM, START, expectCode, mergeSignatures, newTaskKey, openJob, sign, submission, taskSpec } from './harness';
import type { Actor, Json, TaskKey } from './harness';
import type { Endorsement } from '../support/fabric';
import { setMaxClockSkew } from '../../chaincode/src/ledger/peerClock';

/** Properties a real Fabric peer would expose: key conflicts, time, determinism, events, the exposed surface. */

function keysOf(endorsement: Endorsement): { reads: Set<string>; writes: Set<string> } {
    const reads = new Set(endorsement.rwset.reads.map((r) => r.key));
    for (const range of endorsement.rwset.ranges) {
        for (const read of range.reads) {
            reads.add(read.key);
        }
    }
    return { reads, writes: new Set(endorsement.rwset.writes.map((w) => w.key)) };
}

function shared(a: Set<string>, b: Set<string>): string[] {
    return [...a].filter((k) => b.has(k)).map((k) => k.split(String.fromCharCode(0)).join('·'));
}

describe('no hot keys', () => {
    let chain: Chain;
    let publisher: Actor;
    let alice: Actor;
    let bob: Actor;
    let key: TaskKey;

    beforeAll(async () => {
        chain = await Chain.start();
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'hk-publisher' });
        alice = chain.actor({ mspId: 'Org1MSP', name: 'hk-alice' });
        bob = chain.actor({ mspId: 'Org2MSP', name: 'hk-bob' });
        await chain.mint(publisher, 10_000n);
        await chain.register(alice, 'hk-a', { capacity: 8 });
        await chain.register(bob, 'hk-b', { capacity: 8 });
        key = newTaskKey();
        const tasks = [1, 2, 3, 4].map((i) => taskSpec(`hk-t${i}`, key, Buffer.from(`in${i}`)));
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(openJob('hk-job', tasks))]);
        await chain.submit(alice, 'tasks:Claim', ['hk-t1', 'hk-a']);
        await chain.submit(bob, 'tasks:Claim', ['hk-t2', 'hk-b']);
        await chain.submit(alice, 'tasks:Claim', ['hk-t3', 'hk-a']);
        await chain.submit(alice, 'tasks:Claim', ['hk-t4', 'hk-a']);
    });
    afterAll(async () => {
        await chain.stop();
    });

    const submitOf = (actor: Actor, taskId: string, executorId: string): Promise<Endorsement> =>
        chain.endorse(actor, 'tasks:Submit', [taskId, executorId, submission(key, taskId, Buffer.from(`in${taskId.slice(-1)}`), Buffer.from(`out ${taskId}`))]);

    it('gives two submissions for different tasks of one job disjoint read and write sets', async () => {
        const cases: [Endorsement, Endorsement][] = [
            [await submitOf(alice, 'hk-t1', 'hk-a'), await submitOf(bob, 'hk-t2', 'hk-b')],
            [await submitOf(alice, 'hk-t3', 'hk-a'), await submitOf(alice, 'hk-t4', 'hk-a')],
        ];
        for (const [a, b] of cases) {
            expect([a.status, b.status]).toEqual([200, 200]);
            const ka = keysOf(a);
            const kb = keysOf(b);
            expect(a.rwset.ranges).toEqual([]);
            expect(shared(ka.reads, kb.reads)).toEqual([]);
            expect(shared(ka.reads, kb.writes)).toEqual([]);
            expect(shared(ka.writes, kb.reads)).toEqual([]);
            expect(shared(ka.writes, kb.writes)).toEqual([]);
            expect(await chain.peer.commit([a, b])).toEqual(['VALID', 'VALID']);
        }
    });

    it('lets ranks of one job file concurrently: their only common read is the immutable tree record', async () => {
        const owners = ['Org1MSP', 'Org2MSP'].map((mspId) => chain.actor({ mspId, name: `hk-ranked-${mspId}` }));
        for (const [i, owner] of owners.entries()) {
            for (let n = 1; n <= 2; n++) {
                await chain.register(owner, `hk-r${i}-${n}`);
            }
        }
        const keys = [newTaskKey(), newTaskKey(), newTaskKey(), newTaskKey()];
        const mergeKey = newTaskKey();
        const tasks = keys.map((k, i) => taskSpec(`hk-rt${i + 1}`, k, Buffer.from(`r${i + 1}`)));
        const job = { id: 'hk-ranked', program: PROGRAM, assignment: 'ranked', shards: ['Org1MSP', 'Org2MSP'], taskCount: 4, deadline: START + 24 * HOUR, merge: { program: PROGRAM, publicKey: mergeKey.publicKeyPem, reward: '1' }, tasks };
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(job)]);
        const ranks = chain.lastEvent().payload.ranks as { rank: number; executorId: string; shard: string }[];
        const ownerById: Record<string, Actor> = { 'hk-a': alice, 'hk-b': bob, 'hk-r0-1': owners[0]!, 'hk-r0-2': owners[0]!, 'hk-r1-1': owners[1]!, 'hk-r1-2': owners[1]! };
        const ownerOf = (rank: number): Actor => ownerById[ranks[rank - 1]!.executorId]!;
        const leaf = (rank: number): Json => ({ y: 1, x: rank, result: Buffer.from(`v${rank}`).toString('base64'), signatures: sign(keys[rank - 1]!, `hk-rt${rank}`, sha256(Buffer.from(`r${rank}`)), Buffer.from(`v${rank}`)) });
        const one = await chain.endorse(ownerOf(1), 'ranks:File', ['hk-ranked', ranks[0]!.executorId, JSON.stringify(leaf(1))]);
        const three = await chain.endorse(ownerOf(3), 'ranks:File', ['hk-ranked', ranks[2]!.executorId, JSON.stringify(leaf(3))]);
        expect([one.status, three.status]).toEqual([200, 200]);
        const [k1, k3] = [keysOf(one), keysOf(three)];
        expect(shared(k1.reads, k3.reads)).toEqual(['·lw.job.tree·hk-ranked·']);
        expect(shared(k1.writes, new Set([...k3.reads, ...k3.writes]))).toEqual([]);
        expect(await chain.peer.commit([one, three])).toEqual(['VALID', 'VALID']);
        const left = Buffer.from('v1');
        const right = Buffer.from('v2');
        const merged = Buffer.from('v1+v2');
        const filing = { y: 2, x: 1, result: merged.toString('base64'), signatures: mergeSignatures(mergeKey, 'hk-ranked', 2, 1, left, right, merged), carry: { result: right.toString('base64'), signatures: leaf(2).signatures } };
        const two = await chain.endorse(ownerOf(2), 'ranks:File', ['hk-ranked', ranks[1]!.executorId, JSON.stringify(filing)]);
        expect(two.status).toBe(200);
        expect(await chain.peer.commit([two])).toEqual(['VALID']);
    });

    it('makes concurrent claims of one task conflict, as they must', async () => {
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(openJob('hk-race', [taskSpec('hk-race-1', key, Buffer.from('x'))]))]);
        const a = await chain.endorse(alice, 'tasks:Claim', ['hk-race-1', 'hk-a']);
        const b = await chain.endorse(bob, 'tasks:Claim', ['hk-race-1', 'hk-b']);
        expect(shared(keysOf(a).writes, keysOf(b).reads).length).toBeGreaterThan(0);
        expect(await chain.peer.commit([b, a])).toEqual(['VALID', 'MVCC_READ_CONFLICT']);
    });
});

describe('time', () => {
    let chain: Chain;
    beforeAll(async () => {
        chain = await Chain.start();
    });
    afterAll(async () => {
        await chain.stop();
    });
    afterEach(() => {
        setMaxClockSkew(0);
    });

    it("refuses a timestamp further from the endorser's clock than the allowed skew, either way", async () => {
        setMaxClockSkew(60_000);
        const user = chain.actor({ mspId: 'Org1MSP', name: 'skewed' });
        const now = Date.now();
        await chain.submit(user, 'executors:Register', ['skew-ok', '{}'], { timestamp: now + 30_000 });
        const ahead = await expectCode(chain.submit(user, 'executors:Register', ['skew-ahead', '{}'], { timestamp: now + 120_000 }), 'CLOCK_SKEW');
        expect(ahead.detail).toContain('at most 60000 ms');
        await expectCode(chain.submit(user, 'executors:Register', ['skew-behind', '{}'], { timestamp: now - 120_000 }), 'CLOCK_SKEW');
        setMaxClockSkew(0);
        await chain.submit(user, 'executors:Register', ['skew-off', '{}'], { timestamp: now - 120_000 });
    });

    it('takes the bound from LEDGERWORK_MAX_CLOCK_SKEW_MS when none is set in process, as on a peer', async () => {
        const saved = process.env.LEDGERWORK_MAX_CLOCK_SKEW_MS;
        setMaxClockSkew(undefined);
        process.env.LEDGERWORK_MAX_CLOCK_SKEW_MS = '60000';
        try {
            const user = chain.actor({ mspId: 'Org1MSP', name: 'skewed-by-env' });
            const refused = await expectCode(chain.submit(user, 'executors:Register', ['skew-env', '{}'], { timestamp: Date.now() + 120_000 }), 'CLOCK_SKEW');
            expect(refused.detail).toContain('at most 60000 ms');
        } finally {
            if (saved === undefined) {
                delete process.env.LEDGERWORK_MAX_CLOCK_SKEW_MS;
            } else {
                process.env.LEDGERWORK_MAX_CLOCK_SKEW_MS = saved;
            }
        }
    });

    it('stamps records with the transaction timestamp, never the host clock', async () => {
        const user = chain.actor({ mspId: 'Org2MSP', name: 'stamped' });
        const reply = await chain.submit(user, 'executors:Register', ['stamped-1', '{}'], { timestamp: START + 12345 });
        expect(reply.registeredAt).toBe(START + 12345);
    });
});

describe('determinism', () => {
    interface Step {
        readonly actor: (c: Chain) => Actor;
        readonly fn: string;
        readonly args: (c: Chain) => string[];
    }

    /** A scenario of fixed proposals: the same identities, signatures and (per run) nonces and timestamps. */
    function scenario(): Step[] {
        const key = newTaskKey();
        const input = Buffer.from('det-in');
        const publisher = (c: Chain): Actor => c.actor({ mspId: 'Org1MSP', name: 'det-publisher' });
        const worker = (c: Chain): Actor => c.actor({ mspId: 'Org2MSP', name: 'det-worker' });
        const fixed = (args: string[]) => (): string[] => args;
        return [
            { actor: (c) => c.admin(), fn: 'credits:Mint', args: (c) => [publisher(c).account, '500'] },
            { actor: worker, fn: 'executors:Register', args: fixed(['det-w', '{"skills":["wasm"]}']) },
            { actor: publisher, fn: 'jobs:Publish', args: fixed([JSON.stringify(openJob('det', [taskSpec('det-1', key, input), taskSpec('det-2', key, input)]))]) },
            { actor: worker, fn: 'tasks:Claim', args: fixed(['det-1', 'det-w']) },
            { actor: worker, fn: 'tasks:Submit', args: fixed(['det-1', 'det-w', submission(key, 'det-1', input, Buffer.from('r'))]) },
            { actor: worker, fn: 'tasks:Claim', args: fixed(['det-2', 'det-w']) },
            { actor: worker, fn: 'tasks:Submit', args: fixed(['det-2', 'det-w', submission(key, 'det-2', Buffer.from('wrong'), Buffer.from('r'))]) },
            { actor: publisher, fn: 'jobs:Cancel', args: fixed(['det']) },
        ];
    }

    it('produces byte-identical replies, events and read/write sets on two peers, whatever Math.random and Date.now say', async () => {
        const steps = scenario();
        const nonces = steps.map(() => randomBytes(24));
        const runs: string[][] = [];
        for (const fake of [0.1, 0.9]) {
            const chain = await Chain.start();
            const random = jest.spyOn(Math, 'random').mockReturnValue(fake);
            const clock = jest.spyOn(Date, 'now').mockReturnValue(Math.round(fake * 4e12));
            try {
                const digests: string[] = [];
                for (const [i, step] of steps.entries()) {
                    const submitted = await chain.submitRaw(step.actor(chain), step.fn, step.args(chain), { nonce: nonces[i]!, timestamp: START + 1000 * i });
                    expect(submitted.validationCode).toBe('VALID');
                    digests.push(JSON.stringify([submitted.txId, submitted.payload.toString('base64'), submitted.event?.name, submitted.event?.payload.toString('base64'), submitted.rwset]));
                }
                runs.push(digests);
            } finally {
                random.mockRestore();
                clock.mockRestore();
                await chain.stop();
            }
        }
        expect(runs[1]).toEqual(runs[0]);
    });
});

describe('events and the exposed surface', () => {
    let chain: Chain;
    beforeAll(async () => {
        chain = await Chain.start();
    });
    afterAll(async () => {
        await chain.stop();
    });

    it('emits exactly one event for every committed transaction', async () => {
        const user = chain.actor({ mspId: 'Org1MSP', name: 'ev' });
        await chain.mint(user, 100n);
        await chain.register(user, 'ev-1');
        const key = newTaskKey();
        await chain.submit(user, 'jobs:Publish', [JSON.stringify(openJob('ev-job', [taskSpec('ev-t', key, Buffer.from('i'))]))]);
        await chain.submit(user, 'tasks:Claim', ['ev-t', 'ev-1']);
        await chain.submit(user, 'tasks:Submit', ['ev-t', 'ev-1', submission(key, 'ev-t', Buffer.from('i'), Buffer.from('o'))]);
        await chain.submit(user, 'tasks:SweepExpired', ['10']);
        const transactions = chain.peer.blocks.flatMap((b) => b.transactions).filter((t) => t.validationCode === 'VALID');
        expect(transactions.length).toBe(6);
        expect(transactions.map((t) => t.event?.name)).toEqual(['CreditsMinted', 'ExecutorRegistered', 'JobPublished', 'TaskClaimed', 'ResultAccepted', 'NothingExpired']);
    });

    it('exposes exactly the transactions listed in metadata.expected.json', async () => {
        const metadata = await chain.evaluate(chain.anyone(), 'org.hyperledger.fabric:GetMetadata');
        const contracts = metadata.contracts as Record<string, { transactions: { name: string; tag?: string[]; parameters?: { name: string }[] }[] }>;
        const surface: Record<string, string[]> = {};
        for (const [name, contract] of Object.entries(contracts)) {
            surface[name] = contract.transactions
                .map((t) => `${t.name}(${(t.parameters ?? []).map((p) => p.name).join(', ')}) ${(t.tag ?? []).includes('SUBMIT') ? 'submit' : 'evaluate'}`)
                .sort();
        }
        const file = path.join(__dirname, 'metadata.expected.json');
        if (process.env.UPDATE_GOLDEN === '1') {
            writeFileSync(file, `${JSON.stringify(surface, null, 2)}\n`);
        }
        expect(surface).toEqual(JSON.parse(readFileSync(file, 'utf8')) as unknown);
    });
});
