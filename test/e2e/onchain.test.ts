// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { binding, primesProgram, repo, sieveCount, startE2e } from './support/harness';
import type { E2e } from './support/harness';
import { signTaskOutput } from '../../gateway/src/bundle';
import { ChaincodeError } from '../../gateway/src/client';
import type { LedgerworkClient } from '../../gateway/src/client';
import { Executor, ReplicaJournal, WorkLoop, toWire } from '../../gateway/src/executor';
import { DirectoryStore, planJob, publishPlan, splitRange } from '../../gateway/src/publisher';
import type { TaskRecord } from '../../chaincode/src/core/model';

/**
 * Programs on the ledger on the devnet: a forged result that passes the signature check (the forger
 * extracted the task key from its bundle) is turned down by the job's validator, a forged merge by
 * re-execution; honest work is accepted and paid.
 */

const onchain = (name: string): Buffer => readFileSync(path.join(repo, 'examples/build', `${name}.wasm`));

describe('programs on the ledger, end to end', () => {
    let e2e: E2e;
    let publisher: LedgerworkClient;
    let org1: LedgerworkClient;
    let org2: LedgerworkClient;

    beforeAll(async () => {
        e2e = await startE2e('onchain', 1, 2);
        publisher = e2e.clientFor(1, 'onchain-publisher');
        await e2e.clientFor(1, 'Admin').mint((await publisher.whoAmI()).account, 100_000n);
        org1 = e2e.clientFor(1, 'onchain-org1');
        org2 = e2e.clientFor(2, 'onchain-org2');
        await org1.registerExecutor('forger-1', { mode: 'active', skills: ['primes'] });
        await org2.registerExecutor('honest-2', { mode: 'active', skills: ['primes'] });
        await org1.registerExecutor('node-1', { mode: 'passive', skills: ['primes'] });
        await org2.registerExecutor('node-2', { mode: 'passive', skills: ['primes'] });
    }, 60_000);
    afterAll(async () => {
        await e2e.close();
    });

    /** Signs `result` for a claimed task with the key extracted from its bundle: what a forger can always do. */
    function forgedSubmission(task: TaskRecord, result: Buffer): { result: string; signatures: object } {
        const bundle = readFileSync(fileURLToPath(task.program.uri));
        const signatures = signTaskOutput(bundle, { binding, taskId: task.id, input: Buffer.from(task.input.inline ?? '', 'base64'), result, mode: task.mode });
        return { result: result.toString('base64'), signatures: toWire(signatures) };
    }

    it('a validator turns down a forged result that passes the signatures; the honest executor is accepted and paid', async () => {
        const validator = await publisher.storeProgram(onchain('primes-validator'));
        expect(validator.uri).toBe(`ledger://${validator.sha256}`);
        const plan = await planJob({
            jobId: 'validated',
            program: primesProgram(),
            inputs: splitRange(0n, 40_000n, 2).map((text) => Buffer.from(text)),
            reward: 5n,
            deadline: Date.now() + 3_600_000,
            maxAttempts: 3,
            store: new DirectoryStore(path.join(e2e.work, 'bundles')),
            validator: { program: validator.uri, fuel: 5_000_000 },
        });
        await publishPlan(publisher, plan);

        const claimed = await org1.claimTask('validated-1', 'forger-1');
        const forged = await org1.submitResult('validated-1', 'forger-1', forgedSubmission(claimed, Buffer.from('3\n'))).catch((err: unknown) => err);
        expect(forged).toBeInstanceOf(ChaincodeError);
        expect(forged).toMatchObject({ code: 'VALIDATOR_REJECTED', committed: true });
        const afterForgery = await publisher.getTask('validated-1');
        expect(afterForgery).toMatchObject({ state: 'claimed', attempts: 1, validation: { accepted: false, code: 'VALIDATOR_REJECTED' } });
        await org1.releaseTask('validated-1', 'forger-1');

        const honestAccount = (await org2.whoAmI()).account;
        const before = BigInt((await org2.getAccount(honestAccount)).balance);
        const honest = new Executor({ executorId: 'honest-2', ledger: org2, sandbox: e2e.pool, binding, pollMs: 150, journal: new ReplicaJournal(path.join(e2e.work, 'journal')) });
        for (const taskId of ['validated-1', 'validated-2']) {
            expect(await honest.claimAndRun(taskId)).toEqual({ kind: 'accepted', taskId });
            const task = await publisher.getTask(taskId);
            const [lo, hi] = Buffer.from(task.input.inline ?? '', 'base64').toString().split(' ').map(Number);
            expect(Buffer.from(task.result?.inline ?? '', 'base64').toString()).toBe(`${sieveCount(lo!, hi!)}\n`);
            expect(task.validation).toMatchObject({ accepted: true, fuel: 5_000_000 });
        }
        expect(BigInt((await org2.getAccount(honestAccount)).balance)).toBe(before + 10n);
    }, 120_000);

    it('merge re-execution turns down a forged merge; the honest merge is filed without a merge signature and paid', async () => {
        const merge = await publisher.storeProgram(onchain('primes-merge'));
        const plan = await planJob({
            jobId: 'reexecuted',
            program: primesProgram(),
            inputs: splitRange(0n, 20_000n, 2).map((text) => Buffer.from(text)),
            reward: 5n,
            mergeReward: 3n,
            deadline: Date.now() + 3_600_000,
            assignment: 'ranked',
            shards: ['Org1MSP', 'Org2MSP'],
            store: new DirectoryStore(path.join(e2e.work, 'bundles')),
            ledgerMerge: { uri: merge.uri, sha256: merge.sha256, fuel: 200_000 },
        });
        await publishPlan(publisher, plan);
        const tree = await publisher.getMergeTree('reexecuted');
        const holders = new Map(tree.holders.map((r) => [r.rank, r.executorId]));
        const clientOf = (executorId: string): LedgerworkClient => (executorId === 'node-1' || executorId === 'forger-1' ? org1 : org2);
        const leaf = async (rank: number): Promise<{ result: string; signatures: object; value: Buffer }> => {
            const task = await publisher.getTask(`reexecuted-${rank}`);
            const [lo, hi] = Buffer.from(task.input.inline ?? '', 'base64').toString().split(' ').map(Number);
            const value = Buffer.from(`${sieveCount(lo!, hi!)}\n`);
            return { ...forgedSubmission(task, value), value };
        };
        const first = await leaf(1);
        const second = await leaf(2);
        const holder1 = holders.get(1)!;
        const holder2 = holders.get(2)!;
        await clientOf(holder1).fileNumber('reexecuted', holder1, { y: 1, x: 1, result: first.result, signatures: first.signatures });
        const carry = { result: second.result, signatures: second.signatures };
        const wrong = await clientOf(holder2).fileNumber('reexecuted', holder2, { y: 2, x: 1, result: Buffer.from('1\n').toString('base64'), carry }).catch((err: unknown) => err);
        expect(wrong).toMatchObject({ code: 'MERGE_MISMATCH', committed: true });
        const total = Number(first.value.toString()) + Number(second.value.toString());
        const account = (await clientOf(holder2).whoAmI()).account;
        const before = BigInt((await clientOf(holder2).getAccount(account)).balance);
        const filed = await clientOf(holder2).fileNumber('reexecuted', holder2, { y: 2, x: 1, result: Buffer.from(`${total}\n`).toString('base64') });
        expect(filed.outcome).toBe('filed');
        expect(BigInt((await clientOf(holder2).getAccount(account)).balance)).toBe(before + 3n);
        expect((await publisher.getJob('reexecuted')).state).toBe('completed');
    }, 120_000);

    it('executors work a re-executed ranked job end to end: the merge program fetched from the ledger, merges filed unsigned and accepted', async () => {
        const merge = await publisher.storeProgram(onchain('primes-merge')).catch(async (err: unknown) => {
            if (err instanceof ChaincodeError && err.code === 'ALREADY_EXISTS') {
                return publisher.getProgram(createHash('sha256').update(onchain('primes-merge')).digest('hex'));
            }
            throw err;
        });
        const plan = await planJob({
            jobId: 'worked',
            program: primesProgram(),
            inputs: splitRange(0n, 30_000n, 3).map((text) => Buffer.from(text)),
            reward: 5n,
            mergeReward: 3n,
            deadline: Date.now() + 3_600_000,
            assignment: 'ranked',
            shards: ['Org1MSP', 'Org2MSP'],
            store: new DirectoryStore(path.join(e2e.work, 'bundles')),
            ledgerMerge: { uri: merge.uri, sha256: merge.sha256 },
        });
        await publishPlan(publisher, plan);
        const tree = await publisher.getMergeTree('worked');
        const clientOf = (executorId: string): LedgerworkClient => (executorId === 'node-1' || executorId === 'forger-1' ? org1 : org2);
        // Each organization runs one work loop over its executors holding ranks.
        const byClient = new Map<LedgerworkClient, Set<string>>();
        for (const holder of tree.holders) {
            const client = clientOf(holder.executorId);
            byClient.set(client, (byClient.get(client) ?? new Set()).add(holder.executorId));
        }
        const summaries = await Promise.all(
            [...byClient].map(([ledger, ids], i) =>
                new WorkLoop({ executorIds: [...ids], ledger, sandbox: e2e.pool, concurrency: 2, binding, jobIds: ['worked'], untilDone: true, pollMs: 150, journal: new ReplicaJournal(path.join(e2e.work, `journal-worked-${i}`)) }).run(),
            ),
        );
        expect(summaries.reduce((n, summary) => n + summary.filed, 0)).toBe(tree.holders.length);
        expect((await publisher.getJob('worked')).state).toBe('completed');
        const target = await publisher.getFiling('worked', tree.target.y, tree.target.x);
        expect(Buffer.from(target.result ?? '', 'base64').toString()).toBe(`${sieveCount(0, 30_000)}\n`);
    }, 180_000);
});
