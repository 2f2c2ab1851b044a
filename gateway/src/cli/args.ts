// SPDX-License-Identifier: Apache-2.0
import { GatewayCode } from '../client/codes';

/** The command line was wrong: exit 2 with the command's usage line. */
export class UsageError extends Error {
    override readonly name = 'UsageError';
}

/** A job ended without the result asked for (cancelled, expired, failed tasks): exit 1. */
export class JobFailedError extends Error {
    override readonly name = 'JobFailedError';

    constructor(
        message: string,
        readonly code: GatewayCode = GatewayCode.JOB_FAILED,
    ) {
        super(message);
    }
}

/** Parsed arguments: positionals in order, flags by name (repeatable flags keep every value). */
export interface ParsedArgs {
    readonly positional: readonly string[];
    readonly flags: ReadonlyMap<string, readonly string[]>;
}

/**
 * Parses `argv` in the usual GNU style: `--name value`, `--name=value`, boolean `--name`, and `--`
 * ending the flags. `booleans` names flags that take no value; an unknown flag is a UsageError
 * only when `known` is given.
 */
export function parseArgs(argv: readonly string[], booleans: ReadonlySet<string>, known?: ReadonlySet<string>): ParsedArgs {
    const positional: string[] = [];
    const flags = new Map<string, string[]>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] ?? '';
        if (arg === '--') {
            positional.push(...argv.slice(i + 1));
            break;
        }
        if (!arg.startsWith('--') || arg === '-') {
            if (arg === '-h') {
                flags.set('help', ['true']);
                continue;
            }
            positional.push(arg);
            continue;
        }
        const eq = arg.indexOf('=');
        const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
        if (known !== undefined && !known.has(name)) {
            throw new UsageError(`unknown option --${name}`);
        }
        const { value, consumed } = flagValue(name, eq < 0 ? undefined : arg.slice(eq + 1), argv[i + 1], booleans);
        i += consumed;
        flags.set(name, [...(flags.get(name) ?? []), value]);
    }
    return { positional, flags };
}

function flagValue(name: string, inline: string | undefined, next: string | undefined, booleans: ReadonlySet<string>): { value: string; consumed: number } {
    if (booleans.has(name) || inline !== undefined) {
        return { value: inline ?? 'true', consumed: 0 };
    }
    if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(`--${name} needs a value`);
    }
    return { value: next, consumed: 1 };
}

/** Typed access to parsed flags; every failure is a UsageError naming the flag. */
export class Flags {
    constructor(private readonly args: ParsedArgs) {}

    /** Arguments that are not flags, in order (without the command word). */
    get positional(): readonly string[] {
        return this.args.positional;
    }

    /** Whether the flag was given at all. */
    has(name: string): boolean {
        return this.args.flags.has(name);
    }

    /** A boolean flag: given (and not `=false`). */
    bool(name: string): boolean {
        const value = this.string(name);
        return value !== undefined && value !== 'false';
    }

    /** The last value of a flag. */
    string(name: string): string | undefined {
        return this.args.flags.get(name)?.at(-1);
    }

    /** Every value of a repeatable flag, comma-separated lists split (`--shards a,b --shards c`); an empty item is a UsageError. */
    all(name: string): string[] {
        const items = (this.args.flags.get(name) ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());
        if (items.includes('')) {
            throw new UsageError(`--${name} takes a comma-separated list without empty items, not ${JSON.stringify(this.args.flags.get(name)?.join(',') ?? '')}`);
        }
        return items;
    }

    /** The flag's value; a UsageError when it is missing. */
    required(name: string): string {
        const value = this.string(name);
        if (value === undefined || value === '') {
            throw new UsageError(`--${name} is required`);
        }
        return value;
    }

    /** A whole number ≥ `min`, or `fallback` when absent. */
    int(name: string, fallback: number, min = 0): number {
        return this.optionalInt(name, min) ?? fallback;
    }

    /** A whole number ≥ `min`, or undefined when absent. */
    optionalInt(name: string, min = 0): number | undefined {
        const value = this.string(name);
        if (value === undefined) {
            return undefined;
        }
        const n = Number(value);
        if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
            throw new UsageError(`--${name} must be an integer ≥ ${min}, not ${JSON.stringify(value)}`);
        }
        return n;
    }

    /** An amount of credits. */
    amount(name: string): bigint | undefined {
        const value = this.string(name);
        return value === undefined ? undefined : parseAmount(value, `--${name}`);
    }

    /** A duration (`30s`, `10m`, `2h`) in milliseconds. */
    duration(name: string, fallback: number): number;
    duration(name: string, fallback: undefined): number | undefined;
    duration(name: string, fallback: number | undefined): number | undefined {
        const value = this.string(name);
        return value === undefined ? fallback : parseDuration(value, `--${name}`);
    }

    /** One of `choices`. */
    oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T;
    oneOf<T extends string>(name: string, choices: readonly T[], fallback: undefined): T | undefined;
    oneOf<T extends string>(name: string, choices: readonly T[], fallback: T | undefined): T | undefined {
        const value = this.string(name);
        if (value === undefined) {
            return fallback;
        }
        const found = choices.find((c) => c === value);
        if (found === undefined) {
            throw new UsageError(`--${name} is one of ${choices.join('|')}, not ${JSON.stringify(value)}`);
        }
        return found;
    }
}

/**
 * A command's positional argument, or (as older scripts pass it) the same as `--id`; a UsageError
 * naming the positional when neither is given.
 */
export function idArgument(given: string | undefined, flags: Flags, command: string): string {
    const id = given ?? flags.string('id');
    if (id === undefined || id === '') {
        throw new UsageError(`${command} needs an ID: ledgerwork ${command} ID`);
    }
    return id;
}

/** A non-negative whole amount of credits, as decimal text. */
export function parseAmount(text: string, what: string): bigint {
    if (!/^\d+$/.test(text)) {
        throw new UsageError(`${what} must be a whole non-negative number, not ${JSON.stringify(text)}`);
    }
    return BigInt(text);
}

const units: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1500ms`, `30s`, `10m`, `2h`, `1d` (a bare number is milliseconds) → milliseconds. */
export function parseDuration(text: string, what: string): number {
    const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text);
    if (match?.[1] === undefined) {
        throw new UsageError(`${what} is a duration such as 500ms, 30s, 10m, 2h or 1d, not ${JSON.stringify(text)}`);
    }
    return Number(match[1]) * (units[match[2] ?? 'ms'] ?? 1);
}
