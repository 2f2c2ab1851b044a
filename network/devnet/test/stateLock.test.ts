// SPDX-License-Identifier: Apache-2.0
/**
 * The commit lock's optimistic readers: kept when no commit that overlapped them wrote what they read, run again
 * holding the lock otherwise.
 */
import { describe, expect, it } from '@jest/globals';
import { StateLock, type ReadFootprint, type StateChange } from '../src/stateLock';
import { inRange } from '../src/worldState';

/** A promise and its resolver, to hold a body open until the test lets it go. */
function gate(): { readonly opened: Promise<void>; open(): void } {
    let open = (): void => undefined;
    const opened = new Promise<void>((resolve) => { open = resolve; });
    return { opened, open };
}

/** A commit's change that writes `keys` of namespace `basic`. */
function writes(...keys: string[]): StateChange {
    return {
        wrote: (namespace, key) => namespace === 'basic' && keys.includes(key),
        wroteWithin: (namespace, startKey, endKey) => namespace === 'basic' && keys.some((key) => inRange(key, startKey, endKey)),
    };
}

function reads(keys: readonly string[], ranges: readonly (readonly [string, string])[] = []): () => ReadFootprint[] {
    return () => [{ namespace: 'basic', keys: new Set(keys), ranges }];
}

/**
 * Runs an optimistic body that reads `footprint` while a commit writing `change` completes (its first run failing
 * if `firstRunFails`); returns how many times the body ran and what it returned.
 */
async function overlap(change: StateChange | undefined, footprint: () => ReadFootprint[] | undefined, firstRunFails = false): Promise<{ runs: number; result: string; reruns: number }> {
    const lock = new StateLock();
    const held = gate();
    let runs = 0;
    const reading = lock.optimistic(async () => {
        runs++;
        if (runs === 1) {
            await held.opened;
            if (firstRunFails) {
                throw new Error('read a half-committed state');
            }
        }
        return `run ${runs}`;
    }, footprint);
    // The commit is neither blocked by the body nor blocking it: it completes while the body is still reading.
    await lock.exclusive(() => undefined, change);
    held.open();
    const result = await reading;
    return { runs, result, reruns: lock.rerunCount };
}

describe('StateLock.optimistic', () => {
    it('runs a body once when no commit overlaps it, and settles as the body did', async () => {
        const lock = new StateLock();
        let runs = 0;
        await expect(lock.optimistic(() => { runs++; return Promise.resolve('read'); }, () => undefined)).resolves.toBe('read');
        await expect(lock.optimistic(() => { runs++; return Promise.reject(new Error('chaincode failed')); }, () => undefined)).rejects.toThrow('chaincode failed');
        expect(runs).toBe(2);
        expect(lock.rerunCount).toBe(0);
    });

    it('keeps a body that an overlapping commit did not write the reads of', async () => {
        expect(await overlap(writes('asset2', 'asset3'), reads(['asset1'], [['b', 'c']]))).toEqual({ runs: 1, result: 'run 1', reruns: 0 });
    });

    it('runs again a body whose key an overlapping commit wrote', async () => {
        expect(await overlap(writes('asset2', 'asset1'), reads(['asset1']))).toEqual({ runs: 2, result: 'run 2', reruns: 1 });
    });

    it('runs again a body whose range an overlapping commit wrote into', async () => {
        expect(await overlap(writes('car42'), reads([], [['car', 'cas']]))).toEqual({ runs: 2, result: 'run 2', reruns: 1 });
        expect(await overlap(writes('car42'), reads([], [['car', '']]))).toEqual({ runs: 2, result: 'run 2', reruns: 1 });
        expect(await overlap(writes('car42'), reads([], [['cas', '']]))).toEqual({ runs: 1, result: 'run 1', reruns: 0 });
    });

    it('runs again a body whose reads cannot be listed, or that an unlisted commit overlapped', async () => {
        expect(await overlap(writes('other'), () => undefined)).toEqual({ runs: 2, result: 'run 2', reruns: 1 });
        expect(await overlap(undefined, reads(['asset1']))).toEqual({ runs: 2, result: 'run 2', reruns: 1 });
    });

    it('runs again a body that failed while a commit overlapped it, whatever the commit wrote', async () => {
        expect(await overlap(writes('unrelated'), reads(['asset1']), true)).toEqual({ runs: 2, result: 'run 2', reruns: 1 });
    });

    it('waits for a commit that holds or awaits the lock, then runs once holding it shared', async () => {
        const lock = new StateLock();
        const commitHeld = gate();
        const order: string[] = [];
        const commit = lock.exclusive(async () => { order.push('commit start'); await commitHeld.opened; order.push('commit end'); });
        const reading = lock.optimistic(() => { order.push('read'); return Promise.resolve(1); }, () => undefined);
        await new Promise((resolve) => setImmediate(resolve));
        commitHeld.open();
        await Promise.all([commit, reading]);
        expect(order).toEqual(['commit start', 'commit end', 'read']);
        expect(lock.rerunCount).toBe(0);
    });

    it('lets a commit wait for the bodies holding the lock shared', async () => {
        const lock = new StateLock();
        const readHeld = gate();
        const order: string[] = [];
        const reading = lock.shared(async () => { order.push('read start'); await readHeld.opened; order.push('read end'); });
        const commit = lock.exclusive(() => { order.push('commit'); });
        await new Promise((resolve) => setImmediate(resolve));
        readHeld.open();
        await Promise.all([reading, commit]);
        expect(order).toEqual(['read start', 'read end', 'commit']);
    });
});
