// SPDX-License-Identifier: Apache-2.0
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { binding, primesProgram, registerExecutors, sieveCount, startE2e } from './support/harness';
import type { E2e } from './support/harness';
import { buildBundle, generateTaskKey, readBundleKey, signTaskOutput } from '../../gateway/src/bundle';
import { ChaincodeError, CommitFailedError } from '../../gateway/src/client';
import type { LedgerworkClient } from '../../gateway/src/client';
import { Executor, toWire } from '../../gateway/src/executor';
import type { Runner } from '../../gateway/src/executor';
import { DirectoryStore, planJob, publishPlan } from '../../gateway/src/publisher';
import type { JobPlan } from '../../gateway/src/publisher';

/**
 * Adversaries against the devnet: a result signed over other bytes is turned down (committed, the
 * attempt recorded) and the task is redone honestly and paid once; 32 executors of three orgs
 * claiming one task at once never yield two winners; a tampered program is refused and never run.
 */

const RACERS = 32;

describe('e2e adversarial', () => {
    let e2e: E2e;
    let publisher: LedgerworkClient;
    let publisherAccount: string;
    let program: Buffer;
    let store: DirectoryStore;
    /** One client (own identity) per racing executor, spread over the three orgs. */
    const racers: { id: string; client: LedgerworkClient }[] = [];

    beforeAll(async () => {
        e2e = await startE2e('adversarial');
        program = primesProgram();
        store = new DirectoryStore(path.join(e2e.work, 'bundles'));
        const admin = e2e.clientFor(1, 'Admin');
        publisher = e2e.clientFor(1, 'adv-publisher');
        publisherAccount = (await publisher.whoAmI()).account;
        await admin.mint(publisherAccount, 10_000n);
        await Promise.all(
            [1, 2, 3].map(async (org) => {
                for (let i = org; i <= RACERS; i += 3) {
                    const client = e2e.clientFor(org, `adv-racer-${i}`);
                    const [id] = await registerExecutors(client, `adv-r${i}`, 1, 'active');
                    racers.push({ id: id ?? '', client });
                }
            }),
        );
        racers.sort((a, b) => a.id.localeCompare(b.id));
    }, 60_000);
    afterAll(async () => {
        await e2e.close();
    });

    const publishOpen = async (jobId: string, inputs: readonly string[], options: { mode?: 'separate' | 'combined'; leaseMs?: number } = {}): Promise<JobPlan> => {
        const plan = await planJob({ jobId, program, inputs: inputs.map((text) => Buffer.from(text)), reward: 5n, deadline: Date.now() + 3600_000, store, ...options });
        await publishPlan(publisher, plan);
        return plan;
    };

    it.each([
        ['separate', 'RESULT_SIGNATURE_INVALID'],
        ['combined', 'SIGNATURE_INVALID'],
    ] as const)('turns down a forged result (%s mode: %s), records the attempt, and pays the honest redo exactly once', async (mode, code) => {
        const [forger, honest] = mode === 'separate' ? [racers[0], racers[1]] : [racers[2], racers[3]];
        if (forger === undefined || honest === undefined) {
            throw new Error('too few executors');
        }
        const jobId = `adv-forge-${mode}`;
        const balanceOf = async (client: LedgerworkClient): Promise<bigint> => BigInt((await client.getAccount((await client.whoAmI()).account)).balance);
        const before = await Promise.all([publisher, honest.client, forger.client].map(balanceOf));
        // A short lease: a rejected result keeps the claim (its claimant may resubmit), so the honest
        // executor takes the task over once the forger's lease has run out. Long enough that the forger's
        // claim, submission and the honest executor's refused claim all fall inside it on a busy machine
        // (1.5 s was not: the forged result came back LEASE_EXPIRED at load ~10).
        const plan = await publishOpen(jobId, ['100 400'], { mode, leaseMs: 6000 });
        const taskId = String(plan.tasks[0]?.id);

        // The forger holds the real bundle key but signs another result than the one it submits.
        const claimed = await forger.client.claimTask(taskId, forger.id);
        const bundle = readFileSync(fileURLToPath(claimed.program.uri));
        const input = Buffer.from(claimed.input.inline ?? '', 'base64');
        const signed = signTaskOutput(readBundleKey(bundle), { binding, taskId, input, result: Buffer.from('9999\n'), mode });
        const forged = forger.client.submitResult(taskId, forger.id, { result: Buffer.from('52\n').toString('base64'), signatures: toWire(signed) });
        await expect(forged).rejects.toBeInstanceOf(ChaincodeError);
        await expect(forged).rejects.toMatchObject({ code, committed: true });

        const after = await publisher.getTask(taskId);
        expect(after).toMatchObject({ state: 'claimed', attempts: 1, lastFailure: { kind: 'result-rejected', executorId: forger.id }, claim: { executorId: forger.id } });
        expect(after.result).toBeUndefined();
        await expect(honest.client.claimTask(taskId, honest.id)).rejects.toMatchObject({ code: 'ALREADY_CLAIMED' });
        await sleep(Math.max(0, (after.claim?.leaseExpiresAt ?? 0) - Date.now()) + 200);

        const outcome = await new Executor({ executorId: honest.id, ledger: honest.client, sandbox: e2e.pool, binding }).claimAndRun(taskId);
        expect(outcome).toEqual({ kind: 'accepted', taskId });
        const done = await publisher.getTask(taskId);
        expect(done).toMatchObject({ state: 'completed', attempts: 2, lastFailure: { kind: 'lease-expired', executorId: forger.id } });
        expect(done.result?.executorId).toBe(honest.id);
        expect(Buffer.from(done.result?.inline ?? '', 'base64').toString()).toBe(`${sieveCount(100, 400)}\n`);

        const payoutsTo = async (executorId: string, client: LedgerworkClient): Promise<bigint[]> =>
            (await client.listPayouts(executorId)).items.filter((delta) => delta.taskId === taskId).map((delta) => BigInt(delta.amount));
        expect(await payoutsTo(honest.id, honest.client)).toEqual([5n]);
        expect(await payoutsTo(forger.id, forger.client)).toEqual([]);
        // The reward moved once, from the publisher to the honest executor's account.
        const afterwards = await Promise.all([publisher, honest.client, forger.client].map(balanceOf));
        expect(afterwards.map((balance, i) => balance - (before[i] ?? 0n))).toEqual([-5n, 5n, 0n]);
        // A second submission of the accepted task changes nothing.
        await expect(honest.client.submitResult(taskId, honest.id, { result: done.result?.inline ?? '', signatures: {} })).rejects.toBeInstanceOf(ChaincodeError);
        expect(await payoutsTo(honest.id, honest.client)).toEqual([5n]);
        expect((await forger.client.getExecutor(forger.id)).reputation).toBeLessThan((await honest.client.getExecutor(honest.id)).reputation);
    });

    it('lets exactly one of 32 executors of three orgs win a claim race, every round', async () => {
        const rounds = 3;
        const plan = await publishOpen('adv-race', Array.from({ length: rounds }, (_, i) => `${i * 100} ${i * 100 + 100}`));
        let alreadyClaimed = 0;
        for (let round = 0; round < rounds; round++) {
            const taskId = String(plan.tasks[round]?.id);
            const settled = await Promise.allSettled(racers.map(({ id, client }) => client.claimTask(taskId, id)));
            const winners = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [racers[i]?.id] : []));
            expect(winners).toHaveLength(1);
            const losers = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
            expect(losers).toHaveLength(RACERS - 1);
            for (const reason of losers) {
                const refused = reason instanceof ChaincodeError && reason.code === 'ALREADY_CLAIMED';
                alreadyClaimed += refused ? 1 : 0;
                const typed = refused || (reason instanceof CommitFailedError && reason.conflict);
                expect(typed ? 'typed' : String(reason)).toBe('typed');
            }
            const task = await publisher.getTask(taskId);
            expect({ state: task.state, claimant: task.claim?.executorId, attempts: task.attempts }).toEqual({ state: 'claimed', claimant: winners[0], attempts: 0 });
            const winner = racers.find((r) => r.id === winners[0]);
            if (winner === undefined) {
                throw new Error('no winner');
            }
            // The winner finishes the task; the others could not touch it.
            expect(await new Executor({ executorId: winner.id, ledger: winner.client, sandbox: e2e.pool, binding }).runClaimed(task)).toEqual({ kind: 'accepted', taskId });
            expect((await publisher.getTask(taskId)).result?.executorId).toBe(winner.id);
        }
        expect(alreadyClaimed).toBeGreaterThan(0);
    });

    it('refuses a tampered program (hash mismatch) and never runs it', async () => {
        const plan = await publishOpen('adv-tampered', ['0 1000']);
        const taskId = String(plan.tasks[0]?.id);
        const task = await publisher.getTask(taskId);
        // Swap the stored bundle for one that differs from what the ledger names (another key).
        writeFileSync(fileURLToPath(task.program.uri), buildBundle(program, generateTaskKey().privateKey));
        const runs: string[] = [];
        const spy: Runner = {
            run: (request) => {
                runs.push(request.programHash);
                return e2e.pool.run(request);
            },
        };
        const [executor] = racers;
        if (executor === undefined) {
            throw new Error('no executor');
        }
        const outcome = await new Executor({ executorId: executor.id, ledger: executor.client, sandbox: spy, binding }).claimAndRun(taskId);
        expect(outcome.kind).toBe('program-hash-mismatch');
        expect(runs).toEqual([]);
        const after = await publisher.getTask(taskId);
        expect(after).toMatchObject({ state: 'published', attempts: 1, lastFailure: { kind: 'program-hash-mismatch', executorId: executor.id } });
        expect(after.result).toBeUndefined();
        expect((await executor.client.listPayouts(executor.id)).items.filter((delta) => delta.taskId === taskId)).toEqual([]);
    });
});
