// SPDX-License-Identifier: Apache-2.0
// The parts of PouchDB's selector and collation packages the devnet's rich queries use (they ship no types).

declare module 'pouchdb-selector-core' {
    /** Whether `doc` matches the Mango `selector`; throws CouchDB's error for a selector that is not an object. */
    export function matchesSelector(doc: object, selector: object): boolean;
}

declare module 'pouchdb-collate' {
    /** CouchDB's view collation of two JSON values: negative, zero or positive. */
    export function collate(a: unknown, b: unknown): number;
}
