// SPDX-License-Identifier: Apache-2.0
/** The devnet's memories of recent transactions stay within their capacity, oldest out first. */
import { describe, expect, it } from '@jest/globals';
import { makeRoom } from '../src/bounded';

describe('makeRoom', () => {
    it('leaves a Map room for one more within its capacity by deleting its oldest entries', () => {
        const statuses = new Map<string, number>();
        for (let i = 0; i < 10; i++) {
            makeRoom(statuses, 4);
            statuses.set(`tx${i}`, i);
        }
        expect([...statuses.keys()]).toEqual(['tx6', 'tx7', 'tx8', 'tx9']);
    });

    it('evicts by insertion order, so an entry set again is not renewed', () => {
        const statuses = new Map<string, number>([['a', 1], ['b', 2], ['c', 3]]);
        statuses.set('a', 4);
        makeRoom(statuses, 3);
        expect([...statuses.keys()]).toEqual(['b', 'c']);
    });

    it('works on a Set, and shrinks a collection that is over capacity', () => {
        const ids = new Set(['a', 'b', 'c', 'd', 'e']);
        makeRoom(ids, 3);
        expect([...ids]).toEqual(['d', 'e']);
    });

    it('leaves a collection under capacity as it is', () => {
        const ids = new Set(['a', 'b']);
        makeRoom(ids, 3);
        expect([...ids]).toEqual(['a', 'b']);
    });
});
