// SPDX-License-Identifier: Apache-2.0

/** A Map or a Set: whatever can be counted, listed oldest first and deleted from. */
interface Evictable<K> {
    readonly size: number;
    keys(): IterableIterator<K>;
    delete(key: K): boolean;
}

/**
 * Deletes the oldest entries of `collection` (a Map's or a Set's insertion order) until one more fits within
 * `capacity`. The devnet's memories of recent transactions (statuses, endorsement signatures, ids not yet indexed)
 * call it before each insertion, so that a devnet serving for weeks holds as much as one serving for minutes.
 */
export function makeRoom<K>(collection: Evictable<K>, capacity: number): void {
    const keys = collection.keys();
    while (collection.size >= capacity) {
        const oldest = keys.next();
        if (oldest.done === true) {
            return;
        }
        collection.delete(oldest.value);
    }
}
