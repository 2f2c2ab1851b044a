// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { BINDING, HOUR, Chain, expectCode, newTaskKey, openJob, sign, submission, taskSpec } from './harness';
import { commitmentOf } from '../../chaincode/src/core/replication';
import { sha256 } from '../../chaincode/src/core/signature';
import type { Actor, Json, TaskKey } from './harness';
import { wat } from '../wasm/wat';

/** Validator predicates (`verify: {policy: "validator", …}`) through the real fabric-shim runtime. */
describe('validator predicates', () => {
    let chain: Chain;
    let publisher: Actor;
    let alice: Actor;
    let bob: Actor;
    let primesValidator: string;
    let spinner: string;
    let mergeOnly: string;
    let jobSeq = 0;

    async function store(bytes: Buffer): Promise<string> {
        return (await chain.submit(publisher, 'programs:Store', [bytes.toString('base64')])).uri as string;
    }

    beforeAll(async () => {
        chain = await Chain.start();
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'publisher' });
        alice = chain.actor({ mspId: 'Org2MSP', name: 'alice' });
        await chain.mint(publisher, 1_000_000n);
        await chain.register(alice, 'alice-1', { capacity: 64 });
        bob = chain.actor({ mspId: 'Org3MSP', name: 'bob' });
        await chain.register(bob, 'bob-1', { capacity: 64 });
        primesValidator = await store(readFileSync(path.join(__dirname, '../../examples/build/primes-validator.wasm')));
        spinner = await store(await wat(`(module (memory 1 1) (func (export "validate") (result i32) (loop $l (br $l)) (i32.const 1)))`));
        mergeOnly = await store(readFileSync(path.join(__dirname, '../../examples/build/primes-merge.wasm')));
    });
    afterAll(async () => {
        await chain.stop();
    });

    async function publish(verify: Json, input = '0 100000'): Promise<{ taskId: string; key: TaskKey; input: Buffer }> {
        const jobId = `vjob${++jobSeq}`;
        const key = newTaskKey();
        const bytes = Buffer.from(input);
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(openJob(jobId, [taskSpec(`${jobId}-t1`, key, bytes)], { verify, maxAttempts: 5, deadline: chain.peer.clock + 24 * HOUR }))]);
        await chain.submit(alice, 'tasks:Claim', [`${jobId}-t1`, 'alice-1']);
        return { taskId: `${jobId}-t1`, key, input: bytes };
    }

    it('accepts and pays an honest result the validator passes, recording the verdict and fuel', async () => {
        const { taskId, key, input } = await publish({ policy: 'validator', program: primesValidator, fuel: 1_000_000 });
        const before = await chain.balance(alice);
        const reply = await chain.submit(alice, 'tasks:Submit', [taskId, 'alice-1', submission(key, taskId, input, Buffer.from('9592\n'))]);
        expect(reply.outcome).toBe('accepted');
        const task = reply.task as Json;
        expect(task.validation).toEqual({ program: primesValidator, accepted: true, fuel: 1_000_000, fuelUsed: expect.any(Number) as unknown });
        expect((task.validation as Json).fuelUsed).toBeGreaterThan(100);
        expect(await chain.balance(alice)).toBe(before + 10n);
        expect(task.validator).toEqual({ program: primesValidator, fuel: 1_000_000 });
    });

    it('turns down a forged result that passes the signature check, and commits the rejection', async () => {
        const { taskId, key, input } = await publish({ policy: 'validator', program: primesValidator, fuel: 1_000_000 });
        const reputation = await chain.reputation('alice-1');
        const reply = await chain.submit(alice, 'tasks:Submit', [taskId, 'alice-1', submission(key, taskId, input, Buffer.from('0\n'))]);
        expect(reply).toMatchObject({ outcome: 'rejected', code: 'VALIDATOR_REJECTED', message: `the validator of task ${taskId} turned the result down: fewer primes than the known density guarantees` });
        expect((reply.task as Json).validation).toMatchObject({ accepted: false, code: 'VALIDATOR_REJECTED', reason: 'fewer primes than the known density guarantees' });
        expect(await chain.reputation('alice-1')).toBeLessThan(reputation);
        expect(chain.lastEvent()).toMatchObject({ name: 'ResultRejected', payload: { taskId, code: 'VALIDATOR_REJECTED', attempts: 1 } });
        expect((await chain.task(taskId)).attempts).toBe(1);
    });

    it('records a validator that runs out of fuel as FUEL_EXHAUSTED at exactly its fuel, and the next transaction is fine', async () => {
        const { taskId, key, input } = await publish({ policy: 'validator', program: spinner, fuel: 50_000 });
        const reply = await chain.submit(alice, 'tasks:Submit', [taskId, 'alice-1', submission(key, taskId, input, Buffer.from('9592\n'))]);
        expect(reply).toMatchObject({ outcome: 'rejected', code: 'FUEL_EXHAUSTED' });
        expect((reply.task as Json).validation).toMatchObject({ accepted: false, code: 'FUEL_EXHAUSTED', fuel: 50_000, fuelUsed: 50_000 });
        const next = await publish({ policy: 'validator', program: primesValidator, fuel: 1_000_000 });
        expect((await chain.submit(alice, 'tasks:Submit', [next.taskId, 'alice-1', submission(next.key, next.taskId, next.input, Buffer.from('9592\n'))])).outcome).toBe('accepted');
    });

    it('still checks signatures first: a bad signature is rejected before the validator runs', async () => {
        const { taskId, input } = await publish({ policy: 'validator', program: primesValidator, fuel: 1_000_000 });
        const reply = await chain.submit(alice, 'tasks:Submit', [taskId, 'alice-1', submission(newTaskKey(), taskId, input, Buffer.from('9592\n'))]);
        expect(reply).toMatchObject({ outcome: 'rejected', code: 'INPUT_SIGNATURE_INVALID' });
        expect((reply.task as Json).validation).toBeUndefined();
    });

    it('refuses at publish a validator that is not on the ledger, not a validator, not ledger://, without fuel, or over URI inputs', async () => {
        const key = newTaskKey();
        const job = (verify: Json, task: Json = taskSpec('vbad-t', key, Buffer.from('0 10'))): string => JSON.stringify(openJob(`vbad${++jobSeq}`, [task], { verify, deadline: chain.peer.clock + HOUR }));
        await expectCode(chain.submit(publisher, 'jobs:Publish', [job({ policy: 'validator', program: `ledger://${'0'.repeat(64)}`, fuel: 10 })]), 'NOT_FOUND');
        await expectCode(chain.submit(publisher, 'jobs:Publish', [job({ policy: 'validator', program: mergeOnly, fuel: 10 })]), 'PROGRAM_REFUSED');
        await expectCode(chain.submit(publisher, 'jobs:Publish', [job({ policy: 'validator', program: 'https://example.com/v.wasm', fuel: 10 })]), 'INVALID_ARGUMENT');
        await expectCode(chain.submit(publisher, 'jobs:Publish', [job({ policy: 'validator', program: primesValidator })]), 'INVALID_ARGUMENT');
        await expectCode(chain.submit(publisher, 'jobs:Publish', [job({ policy: 'validator', program: primesValidator, fuel: 1_000_000_001 })]), 'INVALID_ARGUMENT');
        const byUri = { id: 'vbad-u', publicKey: key.publicKeyPem, input: { sha256: 'b'.repeat(64), uri: 'https://example.com/in', size: 4 }, reward: '10' };
        await expectCode(chain.submit(publisher, 'jobs:Publish', [job({ policy: 'validator', program: primesValidator, fuel: 10 }, byUri)]), 'INVALID_ARGUMENT');
    });

    it('runs first under a quorum: a replica whose value the validator turns down is rejected before any settlement', async () => {
        const jobId = `vjob${++jobSeq}`;
        const taskId = `${jobId}-t1`;
        const key = newTaskKey();
        const input = Buffer.from('0 100000');
        const verify = { policy: 'quorum', k: 2, maxReplicas: 3, validator: { program: primesValidator, fuel: 1_000_000 } };
        await chain.submit(publisher, 'jobs:Publish', [JSON.stringify(openJob(jobId, [taskSpec(taskId, key, input)], { verify, deadline: chain.peer.clock + 24 * HOUR }))]);
        const sealed: Record<string, { salt: Buffer; result: Buffer }> = { 'alice-1': { salt: randomBytes(16), result: Buffer.from('0\n') }, 'bob-1': { salt: randomBytes(16), result: Buffer.from('9592\n') } };
        const owner = (executorId: string): Actor => (executorId === 'alice-1' ? alice : bob);
        for (const [executorId, { salt, result }] of Object.entries(sealed)) {
            await chain.submit(owner(executorId), 'tasks:Claim', [taskId, executorId]);
            await chain.submit(owner(executorId), 'tasks:Commit', [taskId, executorId, commitmentOf(BINDING, taskId, executorId, sha256(result), salt).toString('hex')]);
        }
        const revealOf = (executorId: string): string => {
            const { salt, result } = sealed[executorId]!;
            return JSON.stringify({ result: result.toString('base64'), salt: salt.toString('base64'), signatures: sign(key, taskId, sha256(input), result) });
        };
        const forged = await chain.submit(alice, 'tasks:Reveal', [taskId, 'alice-1', revealOf('alice-1')]);
        expect(forged).toMatchObject({ outcome: 'rejected', code: 'VALIDATOR_REJECTED', replica: { state: 'rejected' } });
        // The rejected replica freed a slot: bob's honest value waits for a third organization.
        await expectCode(chain.submit(bob, 'tasks:Reveal', [taskId, 'bob-1', revealOf('bob-1')]), 'REVEAL_NOT_OPEN');
    });
});
