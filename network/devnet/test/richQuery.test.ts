// SPDX-License-Identifier: Apache-2.0
/** Rich queries over committed state: Mango selectors, sort, fields, pagination with bookmarks, CouchDB's errors. */
import { describe, expect, it } from '@jest/globals';
import { executeRichQuery, parseRichQuery } from '../src/richQuery';
import { UpdateBatch, WorldState } from '../src/worldState';

function stateOf(entries: Record<string, string>): WorldState {
    const state = new WorldState();
    const batch = new UpdateBatch();
    Object.entries(entries).forEach(([key, value], txNum) => {
        batch.put(key, Buffer.from(value), { blockNum: 1, txNum });
    });
    state.apply(batch);
    return state;
}

const assets = stateOf({
    asset1: JSON.stringify({ ID: 'asset1', Color: 'blue', Size: 5, Owner: 'Tomoko', docType: 'asset' }),
    asset2: JSON.stringify({ ID: 'asset2', Color: 'red', Size: 5, Owner: 'Brad', docType: 'asset' }),
    asset3: JSON.stringify({ ID: 'asset3', Color: 'green', Size: 10, Owner: 'Jin Soo', docType: 'asset' }),
    asset4: JSON.stringify({ ID: 'asset4', Color: 'yellow', Size: 10, Owner: 'Max', docType: 'asset', Meta: { tags: ['a', 'b'] } }),
    config: 'not json',
    number: '42',
});

const keysOf = async (query: string, bookmark = '', limit = 0): Promise<string[]> =>
    (await executeRichQuery(assets, parseRichQuery(query), bookmark, limit)).results.map((r) => r.key);

describe('rich queries', () => {
    it('matches Mango selectors in key order', async () => {
        expect(await keysOf('{"selector":{"docType":"asset","Owner":"Brad"}}')).toEqual(['asset2']);
        expect(await keysOf('{"selector":{"Size":{"$gt":5}}}')).toEqual(['asset3', 'asset4']);
        expect(await keysOf('{"selector":{"$or":[{"Color":"red"},{"Color":"green"}]}}')).toEqual(['asset2', 'asset3']);
        expect(await keysOf('{"selector":{"Meta.tags":{"$elemMatch":{"$eq":"b"}}}}')).toEqual(['asset4']);
        expect(await keysOf('{"selector":{"Owner":{"$regex":"^T"}}}')).toEqual(['asset1']);
        // Every entry is a document with its key as _id; a non-object value has no other field.
        expect(await keysOf('{"selector":{"_id":{"$gt":null}}}')).toEqual(['asset1', 'asset2', 'asset3', 'asset4', 'config', 'number']);
        expect(await keysOf('{"selector":{"_id":{"$regex":"^c"}}}')).toEqual(['config']);
    });

    it('returns each value as the stored document without _id, projected on fields', async () => {
        const all = (await executeRichQuery(assets, parseRichQuery('{"selector":{"_id":{"$in":["asset2","config"]}}}'), '', 0)).results;
        expect(all.map((r) => r.value.toString())).toEqual([
            JSON.stringify({ ID: 'asset2', Color: 'red', Size: 5, Owner: 'Brad', docType: 'asset' }),
            'not json',
        ]);
        expect(all[0]?.version).toEqual({ blockNum: 1, txNum: 1 });
        const projected = (await executeRichQuery(assets, parseRichQuery('{"selector":{"ID":"asset4"},"fields":["Owner","Meta.tags","Absent"]}'), '', 0)).results;
        expect(projected.map((r) => JSON.parse(r.value.toString()) as unknown)).toEqual([{ Owner: 'Max', Meta: { tags: ['a', 'b'] } }]);
    });

    it('sorts by fields in one direction, ties in key order', async () => {
        expect(await keysOf('{"selector":{"docType":"asset"},"sort":[{"Size":"desc"}]}')).toEqual(['asset4', 'asset3', 'asset2', 'asset1']);
        expect(await keysOf('{"selector":{"docType":"asset"},"sort":["Size","Owner"]}')).toEqual(['asset2', 'asset1', 'asset3', 'asset4']);
    });

    it('pages with bookmarks that resume after the last result, sorted or not', async () => {
        for (const query of ['{"selector":{"docType":"asset"}}', '{"selector":{"docType":"asset"},"sort":[{"Owner":"desc"}]}']) {
            const everything = await keysOf(query);
            const pages: string[][] = [];
            let bookmark = '';
            for (let i = 0; i < 4; i++) {
                const page = await executeRichQuery(assets, parseRichQuery(query), bookmark, 3);
                pages.push(page.results.map((r) => r.key));
                bookmark = page.bookmark;
            }
            expect(pages.flat()).toEqual(everything);
            expect(pages.map((p) => p.length)).toEqual([3, 1, 0, 0]);
        }
    });

    it('refuses malformed queries with the peer\'s and CouchDB\'s errors', async () => {
        expect(() => parseRichQuery('{"selector":')).toThrow(/^error unmarshalling query string: /);
        expect(() => parseRichQuery('{"fields":"Owner","selector":{}}')).toThrow('fields definition must be an array');
        expect(() => parseRichQuery('{"fields":["Owner"]}'))
            .toThrow('error handling CouchDB request. Error:bad_request,  Status Code:400,  Reason:Missing required key: selector');
        expect(() => parseRichQuery('{"selector":{"Size":{"$near":5}}}'))
            .toThrow('error handling CouchDB request. Error:invalid_operator,  Status Code:400,  Reason:Invalid operator: $near');
        expect(() => parseRichQuery('{"selector":{},"sort":["Size",{"Owner":"desc"}]}'))
            .toThrow('Error:unsupported_mixed_sort,  Status Code:400,  Reason:Sorts currently only support a single direction for all fields.');
        await expect(executeRichQuery(assets, parseRichQuery('{"selector":{}}'), 'garbage!', 1)).rejects.toThrow('Error:invalid_bookmark');
    });
});
