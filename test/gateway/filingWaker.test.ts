// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { FilingWaker } from '../../gateway/src/executor';

/** Resolves to 'woken' if `wait` settles within `ms`, else 'still waiting'. */
async function state(wait: Promise<void>, ms = 50): Promise<'woken' | 'still waiting'> {
    return Promise.race([wait.then(() => 'woken' as const), new Promise<'still waiting'>((resolve) => setTimeout(() => { resolve('still waiting'); }, ms))]);
}

function event(payload: object): Uint8Array {
    return Buffer.from(JSON.stringify(payload));
}

describe('FilingWaker', () => {
    it('wakes a rank waiting for a number only when that number is filed, and every waiter of the job on events without numbers', async () => {
        const waker = new FilingWaker();
        const forThree = waker.next('job-a', 60_000, { y: 1, x: 3 });
        const forTwoOne = waker.next('job-a', 60_000, { y: 2, x: 1 });
        const anyFiling = waker.next('job-a', 60_000);
        const otherJob = waker.next('job-b', 60_000, { y: 1, x: 3 });
        waker.notifyEvent(event({ jobId: 'job-a', executorId: 'e', filed: [{ y: 1, x: 1, kind: 'leaf' }, { y: 1, x: 2, kind: 'leaf' }] }));
        expect(await state(anyFiling)).toBe('woken');
        expect(await state(forThree)).toBe('still waiting');
        expect(await state(forTwoOne)).toBe('still waiting');
        waker.notifyEvent(event({ jobId: 'job-a', filed: [{ y: 1, x: 3, kind: 'leaf' }] }));
        expect(await state(forThree)).toBe('woken');
        expect(await state(forTwoOne)).toBe('still waiting');
        // A reassignment or the job ending lists no numbers: everyone of the job looks again.
        waker.notifyEvent(event({ jobId: 'job-a', rank: 2, from: 'e', to: 'f' }));
        expect(await state(forTwoOne)).toBe('woken');
        expect(await state(otherJob)).toBe('still waiting');
        waker.close();
        expect(await state(otherJob)).toBe('woken');
    });

    it('falls back to the interval, and ignores payloads that are not JSON', async () => {
        const waker = new FilingWaker();
        const wait = waker.next('job-a', 20, { y: 1, x: 1 });
        waker.notifyEvent(Buffer.from('not json'));
        expect(await state(wait, 1000)).toBe('woken');
        waker.close();
    });
});
