// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sha256 } from '../../chaincode/src/core/signature';
import { Chain, HOUR, PROGRAM, expectCode, mergeSignatures, newTaskKey, sign, taskSpec } from './harness';
import type { Actor, Json, TaskKey } from './harness';

/** Merge re-execution (`merge.verify: "reexecute"`): the endorsers re-run the primes merge on the filed children. */
describe('merge re-execution', () => {
    let chain: Chain;
    let publisher: Actor;
    const owners = new Map<string, Actor>();
    let mergeProgram: { uri: string; sha256: string };
    let validatorProgram: { uri: string; sha256: string };
    let jobSeq = 0;

    async function store(file: string): Promise<{ uri: string; sha256: string }> {
        const reply = await chain.submit(publisher, 'programs:Store', [readFileSync(path.join(__dirname, '../../examples/build', file)).toString('base64')]);
        return { uri: reply.uri as string, sha256: reply.sha256 as string };
    }

    beforeAll(async () => {
        chain = await Chain.start();
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'rx-publisher' });
        await chain.mint(publisher, 1_000_000n);
        for (const [o, mspId] of ['Org1MSP', 'Org2MSP'].entries()) {
            const owner = chain.actor({ mspId, name: `rx-operator-${o}` });
            for (let i = 1; i <= 2; i++) {
                await chain.register(owner, `rx${o}-node${i}`, { mode: 'passive' });
                owners.set(`rx${o}-node${i}`, owner);
            }
        }
        mergeProgram = await store('primes-merge.wasm');
        validatorProgram = await store('primes-validator.wasm');
    });
    afterAll(async () => {
        await chain.stop();
    });

    interface Published {
        readonly jobId: string;
        readonly keys: TaskKey[];
        readonly holders: Map<number, string>;
    }

    /** A ranked primes job of three tasks (four ranks): (2,1) merges leaves 1 and 2, (2,2) passes leaf 3 through, (3,1) merges those. */
    async function publish(merge: Json): Promise<Published> {
        const jobId = `rx${++jobSeq}`;
        const keys = [newTaskKey(), newTaskKey(), newTaskKey()];
        const tasks = keys.map((key, i) => taskSpec(`${jobId}-t${i + 1}`, key, Buffer.from(`${i * 1000} ${(i + 1) * 1000}`)));
        const job = { id: jobId, program: PROGRAM, assignment: 'ranked', shards: ['Org1MSP', 'Org2MSP'], taskCount: 3, deadline: chain.peer.clock + 24 * HOUR, merge, tasks };
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(job)]);
        const holders = new Map<number, string>();
        for (const rank of chain.lastEvent().payload.ranks as { rank: number; executorId: string }[]) {
            holders.set(rank.rank, rank.executorId);
        }
        return { jobId, keys, holders };
    }

    const counts = ['168\n', '135\n', '127\n'];

    function leaf(job: Published, rank: number): Json {
        const result = Buffer.from(counts[rank - 1]!);
        const input = Buffer.from(`${(rank - 1) * 1000} ${rank * 1000}`);
        return { result: result.toString('base64'), signatures: sign(job.keys[rank - 1]!, `${job.jobId}-t${rank}`, sha256(input), result) };
    }

    function file(job: Published, rank: number, filing: Json): Promise<Json> {
        const executorId = job.holders.get(rank)!;
        return chain.submit(owners.get(executorId)!, 'ranks:File', [job.jobId, executorId, JSON.stringify(filing)]);
    }

    const b64 = (text: string): string => Buffer.from(text).toString('base64');

    it('accepts merges equal to the re-executed merge without a merge signature, and rejects forged ones', async () => {
        const job = await publish({ program: mergeProgram, reward: '2', verify: 'reexecute', fuel: 100_000 });
        expect(await file(job, 1, { y: 1, x: 1, ...leaf(job, 1) })).toMatchObject({ outcome: 'filed' });
        const forged = await file(job, 2, { y: 2, x: 1, result: b64('304\n'), carry: { y: 1, x: 2, ...leaf(job, 2) } }).catch((err: unknown) => err);
        // The carry shape has no y/x: file it properly.
        expect(forged).toBeInstanceOf(Error);
        const wrong = await file(job, 2, { y: 2, x: 1, result: b64('304\n'), carry: leaf(job, 2) });
        expect(wrong).toMatchObject({ outcome: 'rejected', code: 'MERGE_MISMATCH', filed: [{ y: 1, x: 2, kind: 'leaf' }] });
        const holder2 = job.holders.get(2)!;
        const before = await chain.balance(owners.get(holder2)!);
        expect(await file(job, 2, { y: 2, x: 1, result: b64('303\n') })).toMatchObject({ outcome: 'filed', filed: [{ y: 2, x: 1, kind: 'merge' }] });
        expect(await chain.balance(owners.get(holder2)!)).toBe(before + 2n);
        expect(await file(job, 3, { y: 1, x: 3, ...leaf(job, 3) })).toMatchObject({ outcome: 'filed' });
        expect(await file(job, 4, { y: 2, x: 2, result: b64('127\n'), carry: { result: null } })).toMatchObject({ outcome: 'filed', filed: [{ kind: 'zero' }, { kind: 'pass-through' }] });
        // (3,1) merges a merge with a pass-through: the endorsers read the pass-through's bytes from its left child.
        expect(await file(job, 4, { y: 3, x: 1, result: b64('431\n') })).toMatchObject({ outcome: 'rejected', code: 'MERGE_MISMATCH' });
        expect(await file(job, 4, { y: 3, x: 1, result: b64('430\n') })).toMatchObject({ outcome: 'filed' });
        expect(chain.lastEvent().name).toBe('JobCompleted');
    });

    it('refuses signatures on re-executed merges, and a merge program that runs out of fuel is a committed rejection', async () => {
        const job = await publish({ program: mergeProgram, reward: '2', verify: 'reexecute', fuel: 20 });
        await file(job, 1, { y: 1, x: 1, ...leaf(job, 1) });
        const key = newTaskKey();
        const left = Buffer.from(counts[0]!);
        const right = Buffer.from(counts[1]!);
        await expectCode(file(job, 2, { y: 2, x: 1, result: b64('303\n'), signatures: mergeSignatures(key, job.jobId, 2, 1, left, right, Buffer.from('303\n')), carry: leaf(job, 2) }), 'INVALID_ARGUMENT');
        expect(await file(job, 2, { y: 2, x: 1, result: b64('303\n'), carry: leaf(job, 2) })).toMatchObject({ outcome: 'rejected', code: 'FUEL_EXHAUSTED' });
    });

    it('refuses at publish a re-executed merge that is not on the ledger or not a merge program', async () => {
        await expectCode(publish({ program: PROGRAM, reward: '2', verify: 'reexecute' }), 'INVALID_ARGUMENT');
        await expectCode(publish({ program: { uri: mergeProgram.uri, sha256: 'c'.repeat(64) }, reward: '2', verify: 'reexecute' }), 'INVALID_ARGUMENT');
        await expectCode(publish({ program: validatorProgram, reward: '2', verify: 'reexecute' }), 'PROGRAM_REFUSED');
        await expectCode(publish({ program: { uri: `ledger://${'d'.repeat(64)}`, sha256: 'd'.repeat(64) }, reward: '2', verify: 'reexecute' }), 'NOT_FOUND');
        await expectCode(publish({ program: mergeProgram, reward: '2', verify: 'sometimes' }), 'INVALID_ARGUMENT');
        await expectCode(publish({ program: mergeProgram, reward: '2' }), 'INVALID_ARGUMENT');
    });
});
