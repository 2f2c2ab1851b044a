// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from './errors';

/** A value that can be written canonically: no floats, no undefined inside arrays, plain objects only. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };

/**
 * Canonical JSON (RFC 8785 style for the subset we allow): object keys sorted by UTF-16 code units, no
 * whitespace, integers only (safe integers; larger amounts travel as decimal strings), properties whose
 * value is undefined omitted. Endorsing peers must produce identical bytes, so everything written to
 * state, emitted as an event or returned goes through this.
 */
export function canonicalJson(value: unknown): string {
    return encode(value, '$');
}

/** canonicalJson as UTF-8 bytes. */
export function canonicalBytes(value: unknown): Buffer {
    return Buffer.from(canonicalJson(value), 'utf8');
}

function encode(value: unknown, path: string): string {
    if (value === null) {
        return 'null';
    }
    switch (typeof value) {
        case 'boolean':
            return value ? 'true' : 'false';
        case 'string':
            return JSON.stringify(value);
        case 'number':
            if (!Number.isSafeInteger(value)) {
                throw new LedgerworkError(ErrorCode.Internal, `canonical JSON holds integers only, got ${String(value)} at ${path}`);
            }
            return Object.is(value, -0) ? '0' : String(value);
        case 'object':
            return Array.isArray(value) ? encodeArray(value, path) : encodeObject(value, path);
        default:
            throw new LedgerworkError(ErrorCode.Internal, `canonical JSON cannot hold a ${typeof value} at ${path}`);
    }
}

function encodeArray(items: readonly unknown[], path: string): string {
    return `[${items.map((item, index) => encode(item, `${path}[${index}]`)).join(',')}]`;
}

function encodeObject(object: object, path: string): string {
    const prototype: unknown = Object.getPrototypeOf(object);
    if (prototype !== Object.prototype && prototype !== null) {
        throw new LedgerworkError(ErrorCode.Internal, `canonical JSON holds plain objects only at ${path}`);
    }
    const entries = Object.entries(object).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const members = entries.map(([key, v]) => `${JSON.stringify(key)}:${encode(v, `${path}.${key}`)}`);
    return `{${members.join(',')}}`;
}

/** Limits applied to untrusted JSON text before it is parsed. */
export interface JsonLimits {
    readonly maxBytes: number;
    readonly maxDepth: number;
}

export const defaultJsonLimits: JsonLimits = { maxBytes: 4 * 1024 * 1024, maxDepth: 16 };

/**
 * Parses untrusted JSON text that must be an object. The size and nesting depth are checked before
 * JSON.parse so a hostile argument cannot exhaust the peer.
 * @throws {LedgerworkError} LIMIT_EXCEEDED or INVALID_ARGUMENT
 */
export function parseJsonObject(text: string, what: string, limits: JsonLimits = defaultJsonLimits): Record<string, unknown> {
    const parsed = parseJson(text, what, limits);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${what} must be a JSON object`);
    }
    return parsed as Record<string, unknown>;
}

/** Parses untrusted JSON text of any shape, with the same limits as parseJsonObject. */
export function parseJson(text: string, what: string, limits: JsonLimits = defaultJsonLimits): unknown {
    if (Buffer.byteLength(text, 'utf8') > limits.maxBytes) {
        throw new LedgerworkError(ErrorCode.LimitExceeded, `${what} is larger than ${limits.maxBytes} bytes`);
    }
    if (nestingDepth(text) > limits.maxDepth) {
        throw new LedgerworkError(ErrorCode.LimitExceeded, `${what} is nested deeper than ${limits.maxDepth} levels`);
    }
    try {
        return JSON.parse(text) as unknown;
    } catch {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${what} is not valid JSON`);
    }
}

function nestingDepth(text: string): number {
    let depth = 0;
    let deepest = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (inString) {
            if (c === 0x5c) {
                i++;
            } else if (c === 0x22) {
                inString = false;
            }
        } else if (c === 0x22) {
            inString = true;
        } else if (c === 0x7b || c === 0x5b) {
            depth++;
            deepest = Math.max(deepest, depth);
        } else if (c === 0x7d || c === 0x5d) {
            depth--;
        }
    }
    return deepest;
}
