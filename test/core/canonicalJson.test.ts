// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { canonicalBytes, canonicalJson, parseJson, parseJsonObject } from '../../chaincode/src/core/canonicalJson';
import { codeOf } from '../support/codeOf';

interface Vector {
    readonly name: string;
    readonly value: unknown;
    readonly canonical: string;
}

/** Vectors written by hand from RFC 8785's rules (sorted by UTF-16 code units, no whitespace). */
const vectors = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/vectors/canonical-json.json'), 'utf8')) as Vector[];


/** JSON values canonicalJson accepts: safe integers only, no undefined in arrays. */
const canonicalValue = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.maxSafeInteger(), fc.string({ unit: 'grapheme' }), tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(fc.string({ unit: 'grapheme' }), tie('value'), { maxKeys: 5 }),
})).value;

describe('canonicalJson', () => {
    it.each(vectors.map((v) => [v.name, v] as const))('matches the vector %s', (_name, vector) => {
        expect(canonicalJson(vector.value)).toBe(vector.canonical);
    });

    it('sorts keys by UTF-16 code units, not by code points or locale', () => {
        // U+FF5E (one unit, 0xFF5E) sorts after U+1F600 (surrogates 0xD83D…) in code-unit order.
        expect(canonicalJson({ '\uff5e': 1, '\u{1f600}': 2, a: 3, B: 4 })).toBe('{"B":4,"a":3,"😀":2,"～":1}');
    });

    it('omits undefined properties and normalises -0', () => {
        expect(canonicalJson({ b: undefined, a: -0 })).toBe('{"a":0}');
    });

    it('refuses floats, non-safe integers, NaN, bigint, functions and class instances', () => {
        for (const bad of [1.5, 2 ** 53, Number.NaN, Infinity, 10n, () => 1, new Date(0), new Map(), [undefined], { nested: { x: 0.1 } }]) {
            expect(codeOf(() => canonicalJson(bad))).toBe('INTERNAL');
        }
    });

    it('gives the same bytes whatever the key insertion order (property)', () => {
        fc.assert(
            fc.property(fc.dictionary(fc.string(), fc.maxSafeInteger(), { maxKeys: 12 }), (object) => {
                const reversed = Object.fromEntries(Object.entries(object).reverse());
                expect(canonicalJson(reversed)).toBe(canonicalJson(object));
            }),
            { numRuns: 500 },
        );
    });

    it('round-trips through JSON.parse and is a fixed point (property)', () => {
        fc.assert(
            fc.property(canonicalValue, (value) => {
                const text = canonicalJson(value);
                const parsed: unknown = JSON.parse(text);
                expect(parsed).toEqual(value);
                expect(canonicalJson(parsed)).toBe(text);
                expect(canonicalBytes(value).equals(Buffer.from(text, 'utf8'))).toBe(true);
            }),
            { numRuns: 1000 },
        );
    });
});

describe('parseJson', () => {
    it('checks size and depth before parsing', () => {
        expect(codeOf(() => parseJson('x'.repeat(20), 'arg', { maxBytes: 10, maxDepth: 4 }))).toBe('LIMIT_EXCEEDED');
        expect(codeOf(() => parseJson('[[[[[1]]]]]', 'arg', { maxBytes: 100, maxDepth: 4 }))).toBe('LIMIT_EXCEEDED');
        expect(parseJson('[[[[1]]]]', 'arg', { maxBytes: 100, maxDepth: 4 })).toEqual([[[[1]]]]);
        // Brackets inside strings do not count, nor do escaped quotes end a string.
        expect(parseJson('{"a":"[[[[[[\\"]]]]"}', 'arg', { maxBytes: 100, maxDepth: 2 })).toEqual({ a: '[[[[[["]]]]' });
    });

    it('types every failure and never throws anything else (property)', () => {
        fc.assert(
            fc.property(fc.string({ maxLength: 64 }), (text) => {
                const code = codeOf(() => parseJsonObject(text, 'arg'));
                expect([undefined, 'INVALID_ARGUMENT', 'LIMIT_EXCEEDED']).toContain(code);
            }),
            { numRuns: 2000 },
        );
    });

    it('accepts only objects where an object is required', () => {
        for (const text of ['[]', '1', '"x"', 'null', 'true']) {
            expect(codeOf(() => parseJsonObject(text, 'arg'))).toBe('INVALID_ARGUMENT');
        }
        expect(parseJsonObject('{"__proto__":{"polluted":1}}', 'arg')).toEqual(JSON.parse('{"__proto__":{"polluted":1}}'));
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
});
