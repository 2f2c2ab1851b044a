// SPDX-License-Identifier: Apache-2.0
/**
 * CouchDB rich queries over a namespace's committed state, as a peer with the CouchDB state database answers
 * `GetQueryResult` (core/ledger/kvledger/txmgmt/statedb/statecouchdb): a JSON value that is an object is a document
 * whose `_id` is the key, any other value is a document with only its `_id` (CouchDB keeps it as an attachment).
 * Selectors are matched by PouchDB's implementation of CouchDB's Mango selectors, sort keys collated as CouchDB
 * collates them; results come in key order unless sorted, `limit` is the peer's (a query's own `limit` is replaced,
 * as statecouchdb's `applyAdditionalQueryOptions` does), `fields` projects the returned values and bookmarks resume
 * a paginated query after the last result returned.
 */
import { collate } from 'pouchdb-collate';
import { matchesSelector } from 'pouchdb-selector-core';
import { compareKeys } from './keys';
import type { StateReader, VersionedKV } from './worldState';

type Json = null | boolean | number | string | Json[] | { [field: string]: Json };
type JsonObject = Record<string, Json>;

/** A parsed Mango query: selector, optional sort and field projection. */
export interface RichQuery {
    readonly selector: JsonObject;
    /** Sort fields in order, all in one direction (CouchDB refuses mixed directions). */
    readonly sort: readonly string[];
    readonly descending: boolean;
    readonly fields?: readonly string[];
}

/** A rich query's result page: matching entries (values projected) and the bookmark after the last one. */
export interface RichQueryPage {
    readonly results: readonly VersionedKV[];
    readonly bookmark: string;
}

/** An error as the peer reports a CouchDB request failure (couchdb.go `handleRequest`). */
function couchError(error: string, reason: string): Error {
    return new Error(`error handling CouchDB request. Error:${error},  Status Code:400,  Reason:${reason}`);
}

function isObject(value: unknown): value is JsonObject {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a query string as the peer and CouchDB do; throws their errors for a malformed query. */
export function parseRichQuery(text: string): RichQuery {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (error) {
        throw new Error(`error unmarshalling query string: ${(error as Error).message}`);
    }
    if (!isObject(parsed)) {
        throw new Error('error unmarshalling query string: the query must be a JSON object');
    }
    const fields = parsed['fields'];
    if (fields !== undefined && !Array.isArray(fields)) {
        throw new Error('fields definition must be an array');
    }
    const selector = parsed['selector'];
    if (selector === undefined) {
        throw couchError('bad_request', 'Missing required key: selector');
    }
    if (!isObject(selector)) {
        throw couchError('bad_request', 'Selector must be a JSON object');
    }
    if (fields !== undefined && !fields.every((f): f is string => typeof f === 'string')) {
        throw couchError('bad_request', 'Invalid field: fields must be strings');
    }
    const { sort, descending } = parseSort(parsed['sort']);
    // Let the selector implementation reject unknown operators before any document is read.
    try {
        matchesSelector({ _id: '' }, selector);
    } catch (error) {
        const unknown = /^unknown operator "([^"]*)"/.exec((error as Error).message);
        throw unknown === null ? couchError('bad_request', (error as Error).message) : couchError('invalid_operator', `Invalid operator: ${unknown[1] ?? ''}`);
    }
    return { selector, sort, descending, ...(fields === undefined ? {} : { fields }) };
}

function parseSort(sort: Json | undefined): { sort: string[]; descending: boolean } {
    if (sort === undefined) {
        return { sort: [], descending: false };
    }
    if (!Array.isArray(sort)) {
        throw couchError('bad_request', 'Invalid sort: sort must be an array');
    }
    const directions = new Set<string>();
    const fields = sort.map((entry) => {
        if (typeof entry === 'string') {
            directions.add('asc');
            return entry;
        }
        const pairs = isObject(entry) ? Object.entries(entry) : [];
        const [pair] = pairs;
        if (pair === undefined || pairs.length !== 1 || (pair[1] !== 'asc' && pair[1] !== 'desc')) {
            throw couchError('bad_request', 'Invalid sort: each entry is a field name or {"field": "asc"|"desc"}');
        }
        directions.add(pair[1]);
        return pair[0];
    });
    if (directions.size > 1) {
        throw couchError('unsupported_mixed_sort', 'Sorts currently only support a single direction for all fields.');
    }
    return { sort: fields, descending: directions.has('desc') };
}

interface Row {
    readonly kv: VersionedKV;
    readonly doc: JsonObject;
    readonly sortValues: readonly Json[];
}

/** The document CouchDB holds for `kv`: the JSON object with `_id`, or only `_id` for any other value. */
function documentOf(kv: VersionedKV): JsonObject {
    let value: unknown;
    try {
        value = JSON.parse(kv.value.toString('utf8'));
    } catch {
        return { _id: kv.key };
    }
    return isObject(value) ? { ...value, _id: kv.key } : { _id: kv.key };
}

function fieldValue(doc: JsonObject, path: string): Json | undefined {
    let current: Json | undefined = doc;
    for (const part of path.split('.')) {
        if (!isObject(current)) {
            return undefined;
        }
        current = current[part];
    }
    return current;
}

/** The value a result carries: the document without `_id`, projected on `fields` if given; non-JSON values as stored. */
function resultValue(row: Row, fields: readonly string[] | undefined): Buffer {
    const { _id: _key, ...value } = row.doc;
    if (Object.keys(value).length === 0 && !isJsonObject(row.kv.value)) {
        return row.kv.value;
    }
    if (fields === undefined) {
        return Buffer.from(JSON.stringify(value));
    }
    const projected: JsonObject = {};
    for (const path of fields) {
        const found = fieldValue(value, path);
        if (found === undefined) {
            continue;
        }
        const parts = path.split('.');
        let target = projected;
        for (const part of parts.slice(0, -1)) {
            const next = target[part];
            target = isObject(next) ? next : (target[part] = {});
        }
        target[parts[parts.length - 1] ?? path] = found;
    }
    return Buffer.from(JSON.stringify(projected));
}

function isJsonObject(bytes: Buffer): boolean {
    try {
        return isObject(JSON.parse(bytes.toString('utf8')));
    } catch {
        return false;
    }
}

/** A bookmark: where a page ended (the last result's sort values and key), opaque to the chaincode. */
interface Position {
    readonly key: string;
    readonly sortValues: readonly Json[];
}

function encodeBookmark(position: Position): string {
    return Buffer.from(JSON.stringify([position.key, position.sortValues])).toString('base64url');
}

function decodeBookmark(bookmark: string): Position {
    try {
        const decoded: unknown = JSON.parse(Buffer.from(bookmark, 'base64url').toString('utf8'));
        if (Array.isArray(decoded) && decoded.length === 2 && typeof decoded[0] === 'string' && Array.isArray(decoded[1])) {
            return { key: decoded[0], sortValues: decoded[1] as Json[] };
        }
    } catch {
        // fall through to CouchDB's error
    }
    throw couchError('invalid_bookmark', `Invalid bookmark value: ${JSON.stringify(bookmark)}`);
}

/**
 * Runs `query` over `state`: every matching entry in result order, starting after `bookmark` (if not empty), at most
 * `limit` of them (0 = no limit).
 */
export async function executeRichQuery(state: StateReader, query: RichQuery, bookmark: string, limit: number): Promise<RichQueryPage> {
    const rows: Row[] = [];
    for await (const kv of state.range('', '')) {
        const doc = documentOf(kv);
        if (matchesSelector(doc, query.selector)) {
            rows.push({ kv, doc, sortValues: query.sort.map((field) => fieldValue(doc, field) ?? null) });
        }
    }
    const order = (a: Position, b: Position): number => {
        const bySort = query.sort.length === 0 ? 0 : collate(a.sortValues, b.sortValues);
        const ordered = bySort !== 0 ? bySort : compareKeys(a.key, b.key);
        return query.descending ? -ordered : ordered;
    };
    const positioned = rows.map((row) => ({ row, position: { key: row.kv.key, sortValues: row.sortValues } }));
    if (query.sort.length > 0) {
        positioned.sort((a, b) => order(a.position, b.position));
    }
    const after = bookmark === '' ? undefined : decodeBookmark(bookmark);
    const remaining = after === undefined ? positioned : positioned.filter((p) => order(p.position, after) > 0);
    const page = limit > 0 ? remaining.slice(0, limit) : remaining;
    const last = page[page.length - 1];
    return {
        results: page.map(({ row }) => ({ key: row.kv.key, version: row.kv.version, value: resultValue(row, query.fields) })),
        bookmark: last === undefined ? bookmark : encodeBookmark(last.position),
    };
}
