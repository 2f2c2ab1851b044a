// SPDX-License-Identifier: Apache-2.0
/**
 * The signature thread: the jobs of one event-loop turn go to a worker in one batch, and each comes back with its own
 * verdict or signature, as node:crypto gives them in line; when the worker fails, the same answers come from the
 * thread pool.
 */
import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { defined } from '../src/defined';
import { SignatureThread } from '../src/signatureThread';

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
    return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

const alice = keyPair();
const bob = keyPair();

/** Data at an offset inside a larger buffer, as request bytes are: only the view's bytes are signed. */
function embedded(text: string): Uint8Array {
    const outer = Buffer.from(`header:${text}:trailer`);
    return outer.subarray('header:'.length, 'header:'.length + text.length);
}

async function answers(thread: SignatureThread): Promise<void> {
    const cases = Array.from({ length: 40 }, (_, i) => {
        const signer = i % 2 === 0 ? alice : bob;
        const data = embedded(`transaction ${i}`);
        const signature = nodeSign('sha256', data, signer.privateKey);
        // Every third job checks against the other key, every fifth a changed message: both must come back false.
        const key = i % 3 === 0 ? (signer === alice ? bob : alice).publicKey : signer.publicKey;
        const checked = i % 5 === 0 ? embedded(`transaction ${i}!`) : data;
        return { key, checked, signature, expected: i % 3 !== 0 && i % 5 !== 0 };
    });
    const messages = Array.from({ length: 10 }, (_, i) => embedded(`endorsement ${i}`));
    // All submitted in one turn: one batch.
    const [verdicts, signatures, garbage] = await Promise.all([
        Promise.all(cases.map(({ key, checked, signature }) => thread.verify(key, checked, signature))),
        Promise.all(messages.map((message, i) => thread.sign(i % 2 === 0 ? alice.privateKey : bob.privateKey, message))),
        thread.verify(alice.publicKey, embedded('x'), Buffer.from('not a DER signature')),
    ]);
    expect(verdicts).toEqual(cases.map(({ expected }) => expected));
    expect(verdicts.filter((valid) => valid).length).toBeGreaterThan(10);
    signatures.forEach((signature, i) => {
        const publicKey = i % 2 === 0 ? alice.publicKey : bob.publicKey;
        expect(nodeVerify('sha256', defined(messages[i]), publicKey, signature)).toBe(true);
        expect(nodeVerify('sha256', defined(messages[(i + 1) % messages.length]), publicKey, signature)).toBe(false);
    });
    expect(garbage).toBe(false);
}

describe('signature thread', () => {
    it('answers each job of a batch as node:crypto does in line', async () => {
        const thread = new SignatureThread();
        await answers(thread);
        // A second batch reuses the keys the worker already holds.
        await answers(thread);
    });

    it('holds a bounded number of keys, and forgets one only after the batches that use it', async () => {
        // Two keys held, five in use: every batch makes the worker forget keys that the same batch still uses.
        const thread = new SignatureThread(undefined, 2);
        const signers = Array.from({ length: 5 }, keyPair);
        for (let round = 0; round < 3; round++) {
            const jobs = Array.from({ length: 30 }, (_, i) => {
                const signer = defined(signers[(i * 3 + round) % signers.length]);
                const data = embedded(`round ${round} job ${i}`);
                const signature = nodeSign('sha256', data, signer.privateKey);
                const key = i % 4 === 0 ? defined(signers[(i * 3 + round + 1) % signers.length]).publicKey : signer.publicKey;
                return { key, data, signature, expected: i % 4 !== 0 };
            });
            const verdicts = await Promise.all(jobs.map(({ key, data, signature }) => thread.verify(key, data, signature)));
            expect(verdicts).toEqual(jobs.map(({ expected }) => expected));
        }
    });

    it('gives the same answers from the thread pool when the worker exits at start', async () => {
        await answers(new SignatureThread('process.exit(3)'));
    });

    it('gives the same answers from the thread pool when the worker dies with jobs in hand', async () => {
        // The worker takes the keys, then throws on the first batch: every job of that batch is answered by the pool.
        const source = `
            const { parentPort } = require('node:worker_threads');
            parentPort.on('message', (message) => { if (message.key === undefined) { throw new Error('worker lost'); } });
        `;
        const thread = new SignatureThread(source);
        await answers(thread);
        await answers(thread);
    });
});
