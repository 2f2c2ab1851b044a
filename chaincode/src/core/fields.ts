// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from './errors';
import { requireId } from './ids';

/**
 * Small parse-or-throw readers that turn untrusted JSON into typed values. Every failure is an
 * INVALID_ARGUMENT naming the field, so a client learns exactly what to fix.
 */

function invalid(path: string, expectation: string): never {
    throw new LedgerworkError(ErrorCode.InvalidArgument, `${path} must be ${expectation}`);
}

/** Reads an object and rejects keys outside `allowed` (unknown fields are mistakes, not extensions). */
export function objectAt(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return invalid(path, 'an object');
    }
    for (const key of Object.keys(value)) {
        if (!allowed.includes(key)) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `${path} has an unknown field ${JSON.stringify(key.slice(0, 40))}`);
        }
    }
    return value as Record<string, unknown>;
}

export function stringAt(value: unknown, path: string, maxLength: number, minLength = 0): string {
    if (typeof value !== 'string' || value.length < minLength || value.length > maxLength) {
        return invalid(path, `a string of ${minLength} to ${maxLength} characters`);
    }
    return value;
}

export function optionalStringAt(value: unknown, path: string, maxLength: number, fallback: string): string {
    return value === undefined ? fallback : stringAt(value, path, maxLength);
}

/** A safe integer within [min, max]. */
export function integerAt(value: unknown, path: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
        return invalid(path, `an integer from ${min} to ${max}`);
    }
    return value;
}

export function optionalIntegerAt(value: unknown, path: string, min: number, max: number, fallback: number): number {
    return value === undefined ? fallback : integerAt(value, path, min, max);
}

export function oneOf<T extends string>(value: unknown, path: string, choices: readonly T[]): T {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
        return invalid(path, `one of ${choices.join(', ')}`);
    }
    return value as T;
}

export function arrayAt(value: unknown, path: string, maxItems: number, minItems = 0): readonly unknown[] {
    if (!Array.isArray(value) || value.length < minItems || value.length > maxItems) {
        return invalid(path, `an array of ${minItems} to ${maxItems} items`);
    }
    return value as readonly unknown[];
}

/** An array of distinct identifiers, sorted by code units so equal sets store identically. */
export function idSetAt(value: unknown, path: string, maxItems: number, pattern: RegExp): string[] {
    const items = arrayAt(value, path, maxItems).map((item, i) => requireId(item, `${path}[${i}]`, pattern));
    const unique = [...new Set(items)].sort(compareCodeUnits);
    if (unique.length !== items.length) {
        return invalid(path, 'free of duplicates');
    }
    return unique;
}

/** An ordered list of distinct identifiers (order is meaningful, e.g. shards). */
export function idListAt(value: unknown, path: string, maxItems: number, pattern: RegExp, minItems = 0): string[] {
    const items = arrayAt(value, path, maxItems, minItems).map((item, i) => requireId(item, `${path}[${i}]`, pattern));
    if (new Set(items).size !== items.length) {
        return invalid(path, 'free of duplicates');
    }
    return items;
}

/** Lower-case hex SHA-256. */
export function sha256HexAt(value: unknown, path: string): string {
    if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) {
        return invalid(path, 'a SHA-256 digest as 64 lower-case hex characters');
    }
    return value;
}

/** Largest amount of credits in one record: 10^18 − 1. */
export const MAX_AMOUNT = 10n ** 18n - 1n;

/** A non-negative amount of credits as a canonical decimal string (no sign, no leading zeros). */
export function amountAt(value: unknown, path: string, allowZero: boolean): bigint {
    if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,17})$/.test(value)) {
        return invalid(path, 'a decimal string of credits such as "25" (no sign, no leading zeros, below 10^18)');
    }
    const amount = BigInt(value);
    if (!allowZero && amount === 0n) {
        return invalid(path, 'greater than zero');
    }
    return amount;
}

/**
 * Strict base64 (RFC 4648 standard alphabet, with padding): decoding then re-encoding must give the
 * same text, so one byte string has exactly one accepted spelling.
 */
export function base64At(value: unknown, path: string, maxBytes: number): Buffer {
    if (typeof value !== 'string' || value.length > Math.ceil(maxBytes / 3) * 4 + 4) {
        if (typeof value === 'string') {
            throw new LedgerworkError(ErrorCode.LimitExceeded, `${path} is larger than ${maxBytes} bytes`);
        }
        return invalid(path, 'a base64 string');
    }
    const bytes = Buffer.from(value, 'base64');
    if (bytes.toString('base64') !== value) {
        return invalid(path, 'canonical base64 (standard alphabet, padded, no whitespace)');
    }
    if (bytes.length > maxBytes) {
        throw new LedgerworkError(ErrorCode.LimitExceeded, `${path} is larger than ${maxBytes} bytes`);
    }
    return bytes;
}

/** URIs a program or input may be fetched from. */
export function uriAt(value: unknown, path: string): string {
    const uri = stringAt(value, path, 2048, 1);
    if (!/^(https?|file|ledger):\/\/[\x21-\x7e]+$/.test(uri)) {
        return invalid(path, 'an http://, https://, file:// or ledger:// URI of printable ASCII');
    }
    return uri;
}

/** Plain code-unit order, the same on every peer (never localeCompare). */
export function compareCodeUnits(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}
