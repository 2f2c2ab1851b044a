// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import type { TaskRecord } from '@ledgerwork/core';
import { ChaincodeError } from '../../gateway/src/client';
import { Executor } from '../../gateway/src/executor';
import type { LedgerPort, Runner } from '../../gateway/src/executor';

/**
 * An executor's claim-side transactions (claim, submit, release, failure report) run one at a time:
 * a claim range-reads the executor's live claims and reputation, which the others write, so side by
 * side the claim would fail validation as a phantom read. Different executors still overlap.
 */

interface Pending {
    readonly call: string;
    readonly resolve: (value: unknown) => void;
    readonly reject: (err: Error) => void;
}

/** A ledger whose transactions stay pending until the test settles them, recording the order they reach it. */
function heldLedger(): { ledger: LedgerPort; pending: Pending[]; calls: string[] } {
    const pending: Pending[] = [];
    const calls: string[] = [];
    const hold = (call: string): Promise<never> =>
        new Promise((resolve, reject) => {
            calls.push(call);
            pending.push({ call, resolve: resolve as (value: unknown) => void, reject });
        });
    const unused = (): Promise<never> => Promise.reject(new Error('not used here'));
    const ledger: LedgerPort = {
        claimTask: (taskId, executorId) => hold(`claim ${taskId} ${executorId}`),
        submitResult: (taskId, executorId) => hold(`submit ${taskId} ${executorId}`),
        releaseTask: (taskId, executorId) => hold(`release ${taskId} ${executorId}`),
        reportFailure: (taskId, executorId) => hold(`report ${taskId} ${executorId}`),
        getTask: unused,
        getJob: unused,
        listTasksByJob: unused,
        getFiling: unused,
        fileNumber: unused,
    };
    return { ledger, pending, calls };
}

const never: Runner = { run: () => Promise.reject(new Error('nothing runs here')) };
const binding = { channel: 'mychannel', chaincode: 'ledgerwork' };

/** A task whose program cannot be fetched: running it ends in a failure report. */
function unfetchable(id: string): TaskRecord {
    return { id, jobId: 'j', assignment: 'open', program: { uri: 'ftp://nowhere/program.wasm', sha256: '00'.repeat(32) }, input: { inline: '' } } as unknown as TaskRecord;
}

/** Lets queued promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('executor transactions', () => {
    it('a claim waits for the same executor’s failure report to commit, and the next one for that claim', async () => {
        const { ledger, pending, calls } = heldLedger();
        const executor = new Executor({ executorId: 'x1', ledger, sandbox: never, binding });
        const run = executor.runClaimed(unfetchable('t1'));
        await settle();
        expect(calls).toEqual(['report t1 x1']);
        const claimed = executor.claim('t2');
        const second = executor.claim('t3');
        await settle();
        expect(calls).toEqual(['report t1 x1']); // the claims wait
        pending.shift()?.resolve('{}');
        expect(await run).toMatchObject({ kind: 'fetch-failed' });
        await settle();
        expect(calls).toEqual(['report t1 x1', 'claim t2 x1']);
        pending.shift()?.resolve({ id: 't2' });
        await expect(claimed).resolves.toEqual({ id: 't2' });
        await settle();
        expect(calls).toEqual(['report t1 x1', 'claim t2 x1', 'claim t3 x1']);
        pending.shift()?.resolve({ id: 't3' });
        await expect(second).resolves.toEqual({ id: 't3' });
    });

    it('a refused transaction does not hold up the next one', async () => {
        const { ledger, pending, calls } = heldLedger();
        const executor = new Executor({ executorId: 'x1', ledger, sandbox: never, binding });
        const lost = executor.claim('t1');
        const next = executor.claim('t2');
        await settle();
        pending.shift()?.reject(new ChaincodeError('ALREADY_CLAIMED', 'task t1 is claimed by executor x2'));
        await expect(lost).rejects.toMatchObject({ code: 'ALREADY_CLAIMED' });
        await settle();
        expect(calls).toEqual(['claim t1 x1', 'claim t2 x1']);
        pending.shift()?.resolve({ id: 't2' });
        await expect(next).resolves.toEqual({ id: 't2' });
    });

    it('different executors’ transactions overlap', async () => {
        const { ledger, pending, calls } = heldLedger();
        const claims = ['x1', 'x2'].map((executorId, i) => new Executor({ executorId, ledger, sandbox: never, binding }).claim(`t${i + 1}`));
        await settle();
        expect(calls).toEqual(['claim t1 x1', 'claim t2 x2']);
        for (const p of pending.splice(0)) {
            p.resolve({});
        }
        await Promise.all(claims);
    });
});
