// SPDX-License-Identifier: Apache-2.0
/** The commit lock's optimistic readers: kept when no commit overlapped them, run again under the lock otherwise. */
import { describe, expect, it } from '@jest/globals';
import { StateLock } from '../src/stateLock';

/** A promise and its resolver, to hold a body or a commit open until the test lets it go. */
function gate(): { readonly opened: Promise<void>; open(): void } {
    let open = (): void => undefined;
    const opened = new Promise<void>((resolve) => { open = resolve; });
    return { opened, open };
}

describe('StateLock.optimistic', () => {
    it('runs a body once when no commit overlaps it, and settles as the body did', async () => {
        const lock = new StateLock();
        let runs = 0;
        await expect(lock.optimistic(async () => { runs++; return 'read'; })).resolves.toBe('read');
        await expect(lock.optimistic(async () => { runs++; throw new Error('chaincode failed'); })).rejects.toThrow('chaincode failed');
        expect(runs).toBe(2);
        expect(lock.rerunCount).toBe(0);
    });

    it('does not make a commit wait, and runs a body that a commit overlapped again under the lock', async () => {
        const lock = new StateLock();
        let committed = 0;
        const held = gate();
        const seen: number[] = [];
        const reading = lock.optimistic(async () => {
            const before = committed;
            if (seen.length === 0) {
                await held.opened;
            }
            seen.push(committed);
            return before === committed ? `state ${committed}` : 'mixed';
        });
        // The commit completes while the first run is still reading: it is not kept.
        await lock.exclusive(() => { committed++; });
        held.open();
        await expect(reading).resolves.toBe('state 1');
        expect(seen).toEqual([1, 1]);
        expect(lock.rerunCount).toBe(1);
    });

    it('runs again a body that failed while a commit overlapped it', async () => {
        const lock = new StateLock();
        const held = gate();
        let runs = 0;
        const reading = lock.optimistic(async () => {
            runs++;
            if (runs === 1) {
                await held.opened;
                throw new Error('read a half-committed state');
            }
            return 'consistent';
        });
        await lock.exclusive(() => undefined);
        held.open();
        await expect(reading).resolves.toBe('consistent');
        expect(runs).toBe(2);
    });

    it('waits for a commit that holds or awaits the lock, then runs once holding it shared', async () => {
        const lock = new StateLock();
        const commitHeld = gate();
        const order: string[] = [];
        const commit = lock.exclusive(async () => { order.push('commit start'); await commitHeld.opened; order.push('commit end'); });
        const reading = lock.optimistic(async () => { order.push('read'); return 1; });
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
