// SPDX-License-Identifier: Apache-2.0
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FOLD_AFTER } from '../../chaincode/src/ledger/accounts';
import { Chain, expectCode, newTaskKey, openJob, submission, taskSpec } from './harness';
import type { Actor, Json, TaskKey } from './harness';

/**
 * Folding delta records into checkpoints (docs/chaincode.md, "Balances and reputation"): reads stay
 * short, balances, reputation, summaries and histories do not change, and submissions still touch
 * no delta or checkpoint another submission reads.
 */
describe('folded balances and reputation', () => {
    let chain: Chain;
    let publisher: Actor;
    let worker: Actor;
    let key: TaskKey;
    const TASKS = 2 * FOLD_AFTER + 6;

    /** Live delta records of an owner: what a balance or reputation read scans. */
    function liveDeltas(type: 'lw.credit' | 'lw.reputation' | 'lw.payout', owner: string): number {
        const prefix = `\u0000${type}\u0000${owner}\u0000`;
        return chain.peer.state.keys().filter((stateKey) => stateKey.startsWith(prefix)).length;
    }

    async function work(from: number, to: number): Promise<void> {
        for (let i = from; i <= to; i++) {
            // Delta keys sort by time first: one millisecond apart, key order is the order of events.
            chain.peer.advance(1);
            await chain.submit(worker, 'tasks:Claim', [`fold-t${i}`, 'fold-w']);
            await chain.submit(worker, 'tasks:Submit', [`fold-t${i}`, 'fold-w', submission(key, `fold-t${i}`, Buffer.from(`in${i}`), Buffer.from(`out${i}`))]);
        }
    }

    async function history(fn: 'queries:ListCredits' | 'queries:ListReputation' | 'queries:ListPayouts', owner: string, pageSize: number): Promise<Json[]> {
        const items: Json[] = [];
        let bookmark = '';
        for (let guard = 0; guard < 1000; guard++) {
            const reply = await chain.evaluate(chain.anyone(), fn, [owner, String(pageSize), bookmark]);
            items.push(...(reply.items as Json[]));
            bookmark = reply.bookmark as string;
            if (bookmark === '') {
                return items;
            }
        }
        throw new Error('the history did not end');
    }

    beforeAll(async () => {
        chain = await Chain.start();
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'fold-publisher' });
        worker = chain.actor({ mspId: 'Org2MSP', name: 'fold-worker' });
        await chain.mint(publisher, 100_000n);
        await chain.register(worker, 'fold-w', { capacity: 4 });
        key = newTaskKey();
        const tasks = Array.from({ length: TASKS }, (_, i) => taskSpec(`fold-t${i + 1}`, key, Buffer.from(`in${i + 1}`), '3'));
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(openJob('fold-job', tasks))]);
    });
    afterAll(async () => {
        await chain.stop();
    });

    it('folds an executor\'s reputation when a claim reads more than FOLD_AFTER deltas, keeping its value and history', async () => {
        await work(1, FOLD_AFTER + 1);
        expect(liveDeltas('lw.reputation', 'fold-w')).toBe(FOLD_AFTER + 1);
        const before = await chain.evaluate(chain.anyone(), 'queries:GetExecutor', ['fold-w']);
        const listed = await history('queries:ListReputation', 'fold-w', 7);
        await chain.submit(worker, 'tasks:Claim', [`fold-t${FOLD_AFTER + 2}`, 'fold-w']);
        expect(liveDeltas('lw.reputation', 'fold-w')).toBe(0);
        const after = await chain.evaluate(chain.anyone(), 'queries:GetExecutor', ['fold-w']);
        expect(after).toEqual(before);
        expect(after).toMatchObject({ reputation: 10 * (FOLD_AFTER + 1), lastCompletedTask: `fold-t${FOLD_AFTER + 1}` });
        expect(await history('queries:ListReputation', 'fold-w', 7)).toEqual(listed);
        // The same claim folded the executor's payout records; what it earned and its payout list stay.
        expect(liveDeltas('lw.payout', 'fold-w')).toBe(0);
        expect(after.earned).toBe(String(3 * (FOLD_AFTER + 1)));
        expect(await history('queries:ListPayouts', 'fold-w', 5)).toHaveLength(FOLD_AFTER + 1);
        chain.peer.advance(1);
        await chain.submit(worker, 'tasks:Submit', [`fold-t${FOLD_AFTER + 2}`, 'fold-w', submission(key, `fold-t${FOLD_AFTER + 2}`, Buffer.from(`in${FOLD_AFTER + 2}`), Buffer.from('x'))]);
        expect(await chain.reputation('fold-w')).toBe(10 * (FOLD_AFTER + 2));
        expect((await chain.evaluate(chain.anyone(), 'queries:GetExecutor', ['fold-w'])).lastCompletedTask).toBe(`fold-t${FOLD_AFTER + 2}`);
    });

    it('folds an earning account with credits:Compact, anyone may call it, and the balance, summary and history stay', async () => {
        await work(FOLD_AFTER + 3, TASKS);
        const account = worker.account;
        expect(liveDeltas('lw.credit', account)).toBe(TASKS);
        const summary = await chain.evaluate(chain.anyone(), 'queries:GetAccount', [account]);
        expect(summary).toMatchObject({ balance: String(3 * TASKS), earned: String(3 * TASKS) });
        const listed = await history('queries:ListCredits', account, 9);
        expect(listed).toHaveLength(TASKS);
        const reply = await chain.submit(chain.anyone(), 'credits:Compact', [account]);
        expect(reply).toEqual({ account, balance: String(3 * TASKS), folded: TASKS, live: 0 });
        expect(chain.lastEvent()).toEqual({ name: 'BalanceCompacted', payload: reply });
        expect(liveDeltas('lw.credit', account)).toBe(0);
        expect(await chain.evaluate(chain.anyone(), 'queries:GetAccount', [account])).toEqual(summary);
        for (const pageSize of [1, 9, TASKS, 1000]) {
            expect(await history('queries:ListCredits', account, pageSize)).toEqual(listed);
        }
        // Compacting again has nothing to fold.
        expect(await chain.submit(chain.anyone(), 'credits:Compact', [account])).toMatchObject({ folded: 0, live: 0 });
        await expectCode(chain.submit(chain.anyone(), 'credits:Compact', ['not an account']), 'INVALID_ID');
    });

    it('folds a publisher\'s balance in the publish that reads it, and escrow still sees the whole balance', async () => {
        const other = chain.actor({ mspId: 'Org1MSP', name: 'fold-publisher-2' });
        for (let i = 0; i < FOLD_AFTER + 1; i++) {
            await chain.mint(other, 1n);
        }
        expect(liveDeltas('lw.credit', other.account)).toBe(FOLD_AFTER + 1);
        const tasks = [taskSpec('fold2-t1', key, Buffer.from('a'), String(FOLD_AFTER + 1))];
        await chain.submit(other, 'jobs:Publish', [JSON.stringify(openJob('fold-job-2', tasks))]);
        // The publish folded the mints and then wrote its escrow as a new live delta.
        expect(liveDeltas('lw.credit', other.account)).toBe(1);
        expect(await chain.balance(other)).toBe(0n);
        const summary = await chain.evaluate(chain.anyone(), 'queries:GetAccount', [other.account]);
        expect(summary).toMatchObject({ balance: '0', escrowed: String(FOLD_AFTER + 1) });
        const tooMuch = [taskSpec('fold3-t1', key, Buffer.from('a'), '1')];
        await expectCode(chain.submit(other, 'jobs:Publish', [JSON.stringify(openJob('fold-job-3', tooMuch))]), 'INSUFFICIENT_FUNDS');
    });

    it('compacts reputation on request and refuses a malformed executor id', async () => {
        await chain.submit(worker, 'tasks:Claim', [`fold-t${TASKS - 1}`, 'fold-w']).catch(() => undefined);
        const reputation = await chain.reputation('fold-w');
        const reply = await chain.submit(chain.anyone(), 'credits:CompactReputation', ['fold-w']);
        expect(reply).toMatchObject({ executorId: 'fold-w', reputation, live: 0, payouts: { live: 0 } });
        expect(liveDeltas('lw.payout', 'fold-w')).toBe(0);
        expect(chain.lastEvent().name).toBe('ReputationCompacted');
        expect(await chain.reputation('fold-w')).toBe(reputation);
        await expectCode(chain.submit(chain.anyone(), 'credits:CompactReputation', ['bad id']), 'INVALID_ID');
    });
});
