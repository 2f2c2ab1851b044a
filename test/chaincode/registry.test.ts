// SPDX-License-Identifier: Apache-2.0
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Chain, HOUR, expectCode, newTaskKey, openJob, submission, taskSpec } from './harness';
import type { Actor, Json } from './harness';

/** The executor registry, credits, parameters and who may do what. */
describe('executors, credits and access control', () => {
    let chain: Chain;
    let org1: Actor;
    let org2: Actor;

    beforeAll(async () => {
        chain = await Chain.start();
        org1 = chain.actor({ mspId: 'Org1MSP', name: 'org1-user' });
        org2 = chain.actor({ mspId: 'Org2MSP', name: 'org2-user' });
    });
    afterAll(async () => {
        await chain.stop();
    });

    describe('executors', () => {
        it('registers an executor in the caller shard with its owner, defaults and an event', async () => {
            const reply = await chain.submit(org2, 'executors:Register', ['exec-reg', JSON.stringify({ skills: ['wasm', 'mem:4g', 'simd', 'wasm'].slice(0, 3) })]);
            expect(reply).toMatchObject({ id: 'exec-reg', owner: org2.account, shard: 'Org2MSP', skills: ['mem:4g', 'simd', 'wasm'], mode: 'active', capacity: 1, status: 'active' });
            expect(chain.lastEvent()).toEqual({ name: 'ExecutorRegistered', payload: { executorId: 'exec-reg', shard: 'Org2MSP', mode: 'active' } });
            const view = await chain.evaluate(org1, 'queries:GetExecutor', ['exec-reg']);
            expect(view).toMatchObject({ reputation: 0, effectiveStatus: 'active', earned: '0' });
            await expectCode(chain.submit(org1, 'executors:Register', ['exec-reg', '{}']), 'ALREADY_EXISTS');
        });

        it.each([['a\u0000b'], ['a/b'], [''], ['x'.repeat(65)], ['-lead'], ['tab\t']])('rejects the executor id %j', async (id) => {
            await expectCode(chain.submit(org1, 'executors:Register', [id, '{}']), 'INVALID_ID');
        });

        it('rejects malformed specs', async () => {
            await expectCode(chain.submit(org1, 'executors:Register', ['e-bad', '{"mode":"lazy"}']), 'INVALID_ARGUMENT');
            await expectCode(chain.submit(org1, 'executors:Register', ['e-bad', '{"capacity":0}']), 'INVALID_ARGUMENT');
            await expectCode(chain.submit(org1, 'executors:Register', ['e-bad', '{"skills":["Bad Skill"]}']), 'INVALID_ID');
            await expectCode(chain.submit(org1, 'executors:Register', ['e-bad', '{"owner":"me"}']), 'INVALID_ARGUMENT');
            await expectCode(chain.submit(org1, 'executors:Register', ['e-bad', '[1]']), 'INVALID_ARGUMENT');
            await expectCode(chain.submit(org1, 'executors:Register', ['e-bad', '{"skills":' + '['.repeat(40) + ']'.repeat(40) + '}']), 'LIMIT_EXCEEDED');
        });

        it('lets only the owner update or retire, and a retired executor cannot claim', async () => {
            await chain.register(org1, 'exec-own');
            await expectCode(chain.submit(org2, 'executors:Update', ['exec-own', '{"capacity":3}']), 'NOT_OWNER');
            const sameOrg = chain.actor({ mspId: 'Org1MSP', name: 'colleague' });
            await expectCode(chain.submit(sameOrg, 'executors:Retire', ['exec-own']), 'NOT_OWNER');
            expect(await chain.submit(org1, 'executors:Update', ['exec-own', '{"capacity":3,"skills":["gpu"]}'])).toMatchObject({ capacity: 3, skills: ['gpu'] });
            await chain.submit(org1, 'executors:Retire', ['exec-own']);
            expect(chain.lastEvent().name).toBe('ExecutorRetired');
            await expectCode(chain.submit(org1, 'executors:Update', ['exec-own', '{}']), 'INVALID_STATE');
            await chain.mint(org2, 100n);
            const key = newTaskKey();
            await chain.submit(org2, 'jobs:Publish', [JSON.stringify(openJob('retired-job', [taskSpec('retired-t1', key, Buffer.from('x'))], { deadline: chain.peer.clock + HOUR }))]);
            await expectCode(chain.submit(org1, 'tasks:Claim', ['retired-t1', 'exec-own']), 'EXECUTOR_INACTIVE');
        });

        it('lets an admin (admin OU or ledgerwork.admin attribute) suspend and reinstate with a recorded reason', async () => {
            await chain.register(org2, 'exec-susp');
            await expectCode(chain.submit(org2, 'executors:Suspend', ['exec-susp', 'cheating']), 'NOT_ADMIN');
            const wrongAttribute = chain.actor({ mspId: 'Org2MSP', name: 'almost', attrs: { 'ledgerwork.admin': 'yes' } });
            await expectCode(chain.submit(wrongAttribute, 'executors:Suspend', ['exec-susp', 'cheating']), 'NOT_ADMIN');
            const operator = chain.actor({ mspId: 'Org3MSP', name: 'operator', attrs: { 'ledgerwork.admin': 'true' } });
            const suspended = await chain.submit(operator, 'executors:Suspend', ['exec-susp', 'cheating on task t9']);
            expect(suspended).toMatchObject({ status: 'suspended', statusReason: 'cheating on task t9', statusChangedBy: operator.account });
            expect(chain.lastEvent()).toEqual({ name: 'ExecutorSuspended', payload: { executorId: 'exec-susp', shard: 'Org2MSP', reason: 'cheating on task t9' } });
            const error = await expectCode(chain.submit(org2, 'tasks:Claim', ['retired-t1', 'exec-susp']), 'EXECUTOR_INACTIVE');
            expect(error.detail).toContain('cheating on task t9');
            await expectCode(chain.submit(chain.admin(), 'executors:Suspend', ['exec-susp', '']), 'INVALID_ARGUMENT');
            const reinstated = await chain.submit(chain.admin(), 'executors:Reinstate', ['exec-susp', 'appeal granted']);
            expect(reinstated).toMatchObject({ status: 'active', reinstatedAtReputation: 0, statusReason: 'appeal granted' });
            await chain.submit(org2, 'tasks:Claim', ['retired-t1', 'exec-susp']);
        });

        it('suspends an executor whose reputation falls below the floor, and an admin reinstatement moves its floor', async () => {
            const admin = chain.admin();
            await chain.submit(admin, 'credits:SetParameters', ['{"reputationFloor":-50}']);
            await chain.register(org1, 'exec-floor', { capacity: 8 });
            await chain.mint(org2, 1000n);
            const key = newTaskKey();
            const tasks = [1, 2, 3].map((i) => taskSpec(`floor-t${i}`, key, Buffer.from('in')));
            await chain.submit(org2, 'jobs:Publish', [JSON.stringify(openJob('floor-job', tasks, { deadline: chain.peer.clock + 24 * HOUR }))]);
            const forged = (taskId: string): string => submission(key, taskId, Buffer.from('other input'), Buffer.from('r'));
            for (const taskId of ['floor-t1', 'floor-t2']) {
                await chain.submit(org1, 'tasks:Claim', [taskId, 'exec-floor']);
                await chain.submit(org1, 'tasks:Submit', [taskId, 'exec-floor', forged(taskId)]);
            }
            expect(await chain.reputation('exec-floor')).toBe(-60);
            expect((await chain.evaluate(org1, 'queries:GetExecutor', ['exec-floor'])).effectiveStatus).toBe('suspended');
            const error = await expectCode(chain.submit(org1, 'tasks:Claim', ['floor-t3', 'exec-floor']), 'EXECUTOR_INACTIVE');
            expect(error.detail).toContain('below the floor -50');
            await chain.submit(admin, 'executors:Reinstate', ['exec-floor', 'fixed its signer']);
            await chain.submit(org1, 'tasks:Claim', ['floor-t3', 'exec-floor']);
            await chain.submit(org1, 'tasks:Submit', ['floor-t3', 'exec-floor', forged('floor-t3')]);
            expect((await chain.evaluate(org1, 'queries:GetExecutor', ['exec-floor'])).effectiveStatus).toBe('suspended');
            await chain.submit(admin, 'credits:SetParameters', ['{"reputationFloor":-100}']);
        });

        it('lists executors by shard, page by page', async () => {
            for (let i = 0; i < 5; i++) {
                await chain.register(chain.actor({ mspId: 'Org3MSP', name: 'lister' }), `list-${i}`);
            }
            const seen: string[] = [];
            let bookmark = '';
            for (let pages = 0; pages < 10; pages++) {
                const page = await chain.evaluate(org1, 'queries:ListExecutorsByShard', ['Org3MSP', '2', bookmark]);
                seen.push(...(page.items as Json[]).map((e) => e.id as string));
                bookmark = page.bookmark as string;
                if (bookmark === '') {
                    break;
                }
            }
            expect(seen.filter((id) => id.startsWith('list-'))).toEqual(['list-0', 'list-1', 'list-2', 'list-3', 'list-4']);
            await expectCode(chain.evaluate(org1, 'queries:ListExecutorsByShard', ['Org3MSP', '0', '']), 'INVALID_ARGUMENT');
            await expectCode(chain.evaluate(org1, 'queries:ListExecutorsByShard', ['Org3MSP', '5000', '']), 'INVALID_ARGUMENT');
        });
    });

    describe('credits and parameters', () => {
        it('mints only for admins, into a well-formed account', async () => {
            await expectCode(chain.submit(org1, 'credits:Mint', [org1.account, '100']), 'NOT_ADMIN');
            const admin = chain.admin();
            await expectCode(chain.submit(admin, 'credits:Mint', ['not-an-account', '100']), 'INVALID_ID');
            for (const amount of ['-5', '0', '1.5', '1e3', '01', ' 7', '1000000000000000000']) {
                await expectCode(chain.submit(admin, 'credits:Mint', [org1.account, amount]), 'INVALID_ARGUMENT');
            }
            const before = await chain.balance(org1);
            await chain.submit(admin, 'credits:Mint', [org1.account, '999999999999999999']);
            expect(chain.lastEvent()).toEqual({ name: 'CreditsMinted', payload: { account: org1.account, amount: '999999999999999999' } });
            expect(await chain.balance(org1)).toBe(before + 999999999999999999n);
        });

        it('tells a caller its account and whether it is an admin', async () => {
            expect(await chain.evaluate(org1, 'queries:WhoAmI')).toEqual({ account: org1.account, mspId: 'Org1MSP', isAdmin: false });
            expect((await chain.evaluate(chain.admin(), 'queries:WhoAmI')).isAdmin).toBe(true);
        });

        it('sets parameters for admins only, validating each', async () => {
            await expectCode(chain.submit(org1, 'credits:SetParameters', ['{"reputationGain":5}']), 'NOT_ADMIN');
            await expectCode(chain.submit(chain.admin(), 'credits:SetParameters', ['{"reputationGain":-5}']), 'INVALID_ARGUMENT');
            await expectCode(chain.submit(chain.admin(), 'credits:SetParameters', ['{"gain":5}']), 'INVALID_ARGUMENT');
            const set = await chain.submit(chain.admin(), 'credits:SetParameters', ['{"reputationGain":12}']);
            expect(set).toMatchObject({ reputationGain: 12, penaltyMultiplier: 3 });
            expect(await chain.evaluate(org1, 'queries:GetParameters')).toEqual(set);
            await chain.submit(chain.admin(), 'credits:SetParameters', ['{"reputationGain":10}']);
        });

        it('answers unknown transactions and contracts with typed or runtime errors', async () => {
            await expectCode(chain.submit(org1, 'credits:Steal', []), 'UNKNOWN_TRANSACTION');
            await expectCode(chain.evaluate(org1, 'Nonexistent'), 'UNKNOWN_TRANSACTION');
            const untyped = await expectCode(chain.evaluate(org1, 'nosuch:Thing'), 'UNTYPED');
            expect(untyped.detail).toContain('Contract name is not known');
        });
    });
});
