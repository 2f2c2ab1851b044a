// SPDX-License-Identifier: Apache-2.0
/**
 * Key ordering and key/value validation with the peer's semantics.
 */

/**
 * Compares two keys in UTF-8 byte order, i.e. Unicode code point order — the order of Go's `strings.Compare`, of
 * LevelDB and of CouchDB's `_all_docs` raw collation. (JavaScript's `<` compares UTF-16 code units, which orders
 * U+E000..U+FFFF after supplementary characters.)
 */
export function compareKeys(a: string, b: string): number {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
        const ca = a.charCodeAt(i);
        const cb = b.charCodeAt(i);
        if (ca !== cb) {
            return codePointRank(ca) < codePointRank(cb) ? -1 : 1;
        }
    }
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Maps a UTF-16 code unit so that code-unit order equals code-point order (surrogates above U+E000..U+FFFF). */
function codePointRank(unit: number): number {
    if (unit >= 0xd800 && unit <= 0xdfff) {
        return unit + 0x2000;
    }
    if (unit >= 0xe000) {
        return unit - 0x800;
    }
    return unit;
}

/**
 * Which state database's `ValidateKeyValue` the simulated peer applies to writes:
 * - `couchdb` — statecouchdb: keys must be non-empty, must not start with `_`; JSON-object values must not have
 *   top-level fields `~version` or `_…` (core/ledger/kvledger/txmgmt/statedb/statecouchdb/couchdoc_conv.go);
 * - `leveldb` — stateleveldb accepts any key and value.
 * In both cases keys must be valid UTF-8 (the peer's protobuf unmarshalling enforces it).
 */
export type KeyValidation = 'couchdb' | 'leveldb';

/** Returns the peer's error message if `key`/`value` may not be written, `undefined` if they may. */
export function checkKeyValue(mode: KeyValidation, key: string, value: Uint8Array): string | undefined {
    if (mode === 'leveldb') {
        return undefined;
    }
    if (key.startsWith('_')) {
        return `invalid key [${key}], cannot begin with "_"`;
    }
    if (key === '') {
        return 'invalid key. Empty string is not supported as a key by couchdb';
    }
    const reserved = reservedJsonField(value);
    return reserved === undefined ? undefined : `field [${reserved}] is not valid for the CouchDB state database`;
}

function reservedJsonField(value: Uint8Array): string | undefined {
    if (value.length === 0) {
        return undefined;
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(Buffer.from(value).toString('utf8'));
    } catch {
        return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return undefined;
    }
    return Object.keys(parsed).find((field) => field === '~version' || field.startsWith('_'));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks that the given length-delimited (string) fields of a serialized protobuf message are valid UTF-8, as Go's
 * protobuf runtime does when the peer unmarshals a proto3 message. Throws the Go runtime's error message otherwise.
 *
 * Note: fabric-shim's encoder (google-protobuf) cannot produce invalid UTF-8 — it silently drops lone surrogates
 * from strings — so this only fires for hand-crafted messages.
 */
export function assertUtf8StringFields(bytes: Uint8Array, stringFields: ReadonlySet<number>): void {
    let pos = 0;
    const readVarint = (): number => {
        let result = 0;
        let shift = 0;
        for (;;) {
            const byte = bytes[pos++];
            if (byte === undefined) {
                throw new Error('unexpected EOF');
            }
            result += (byte & 0x7f) * 2 ** shift;
            if (byte < 0x80) {
                return result;
            }
            shift += 7;
        }
    };
    while (pos < bytes.length) {
        const tag = readVarint();
        const field = Math.floor(tag / 8);
        switch (tag % 8) {
            case 0:
                readVarint();
                break;
            case 1:
                pos += 8;
                break;
            case 2: {
                const length = readVarint();
                const chunk = bytes.subarray(pos, pos + length);
                pos += length;
                if (stringFields.has(field)) {
                    try {
                        strictUtf8.decode(chunk);
                    } catch {
                        throw new Error('string field contains invalid UTF-8');
                    }
                }
                break;
            }
            case 5:
                pos += 4;
                break;
            default:
                throw new Error('cannot parse invalid wire-format data');
        }
    }
    if (pos > bytes.length) {
        throw new Error('unexpected EOF');
    }
}
