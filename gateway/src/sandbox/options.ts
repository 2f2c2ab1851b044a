// SPDX-License-Identifier: Apache-2.0
/** Validation of the sandbox's options: every bad value is refused with the option's name before anything starts. */

/** A sandbox option (pool-wide or per run) that is not a value the sandbox accepts. */
export class SandboxOptionError extends TypeError {
    override readonly name = 'SandboxOptionError';

    constructor(
        /** The option, e.g. `maxMemoryPages` or `limits.wallMs`. */
        readonly option: string,
        message: string,
    ) {
        super(`${option}: ${message}`);
    }
}

/** WebAssembly's page limit for a 32-bit memory (4 GiB). */
export const MAX_WASM_PAGES = 65_536;
const DAY_MS = 24 * 3600_000;
const GIB = 1 << 30;

/** An integer in [min, max], or undefined when absent. @throws {SandboxOptionError} */
export function integerOption(value: unknown, option: string, min: number, max: number): number | undefined {
    if (value === undefined) {
        return undefined;
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
        throw new SandboxOptionError(option, `must be an integer from ${min} to ${max}, not ${describe(value)}`);
    }
    return value;
}

/** Checks per-run limits (pool defaults or one run's). @throws {SandboxOptionError} */
export function validateLimits(limits: unknown, prefix = 'limits'): void {
    if (limits === undefined) {
        return;
    }
    if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
        throw new SandboxOptionError(prefix, `must be an object, not ${describe(limits)}`);
    }
    const known = ['wallMs', 'maxOutputBytes', 'maxStderrBytes', 'maxInputBytes', 'maxQueueMs'];
    for (const key of Object.keys(limits)) {
        if (!known.includes(key)) {
            throw new SandboxOptionError(`${prefix}.${key}`, `is not a run limit (${known.join(', ')})`);
        }
    }
    const l = limits as Record<string, unknown>;
    integerOption(l.wallMs, `${prefix}.wallMs`, 1, DAY_MS);
    integerOption(l.maxQueueMs, `${prefix}.maxQueueMs`, 0, DAY_MS);
    integerOption(l.maxOutputBytes, `${prefix}.maxOutputBytes`, 0, GIB);
    integerOption(l.maxStderrBytes, `${prefix}.maxStderrBytes`, 0, GIB);
    integerOption(l.maxInputBytes, `${prefix}.maxInputBytes`, 0, GIB);
}

/** Flags a caller may not pass to children: they would lift the permission model. */
const FORBIDDEN_FLAG = /^--(allow-|experimental-permission|permission|no-experimental-permission|experimental-policy|policy-integrity|inspect|require|import|loader|experimental-loader|eval|print)/;

/** Checks the pool's options. @throws {SandboxOptionError} */
export function validatePoolOptions(options: unknown): void {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
        throw new SandboxOptionError('options', `must be an object, not ${describe(options)}`);
    }
    const o = options as Record<string, unknown>;
    const known = ['size', 'maxMemoryPages', 'memoryPolicy', 'maxModuleBytes', 'childHeapMiB', 'childFlags', 'limits', 'maxRunsPerChild', 'permissions', 'osLimits', 'user'];
    for (const key of Object.keys(o)) {
        if (!known.includes(key)) {
            throw new SandboxOptionError(key, `is not a sandbox option (${known.join(', ')})`);
        }
    }
    integerOption(o.size, 'size', 1, 1024);
    integerOption(o.maxMemoryPages, 'maxMemoryPages', 1, MAX_WASM_PAGES);
    if (o.memoryPolicy !== undefined && o.memoryPolicy !== 'refuse' && o.memoryPolicy !== 'clamp') {
        throw new SandboxOptionError('memoryPolicy', `must be "refuse" or "clamp", not ${describe(o.memoryPolicy)}`);
    }
    integerOption(o.maxModuleBytes, 'maxModuleBytes', 8, GIB);
    integerOption(o.childHeapMiB, 'childHeapMiB', 16, 1 << 16);
    integerOption(o.maxRunsPerChild, 'maxRunsPerChild', 1, Number.MAX_SAFE_INTEGER);
    for (const flag of ['permissions', 'osLimits'] as const) {
        if (o[flag] !== undefined && typeof o[flag] !== 'boolean') {
            throw new SandboxOptionError(flag, `must be true or false, not ${describe(o[flag])}`);
        }
    }
    if (o.childFlags !== undefined) {
        if (!Array.isArray(o.childFlags)) {
            throw new SandboxOptionError('childFlags', `must be an array of --flags, not ${describe(o.childFlags)}`);
        }
        (o.childFlags as unknown[]).forEach((flag, i) => {
            if (typeof flag !== 'string' || !/^--[a-z0-9][a-z0-9-_]*(=.*)?$/.test(flag)) {
                throw new SandboxOptionError(`childFlags[${i}]`, `must be a --flag, not ${describe(flag)}`);
            }
            if (FORBIDDEN_FLAG.test(flag)) {
                throw new SandboxOptionError(`childFlags[${i}]`, `${flag} would weaken the children's confinement`);
            }
        });
    }
    validateLimits(o.limits);
    validateUser(o.user);
}

function validateUser(user: unknown): void {
    if (user === undefined) {
        return;
    }
    if (typeof user !== 'object' || user === null || Array.isArray(user)) {
        throw new SandboxOptionError('user', `must be { uid, gid }, not ${describe(user)}`);
    }
    const u = user as Record<string, unknown>;
    integerOption(u.uid, 'user.uid', 0, 2 ** 32 - 2);
    integerOption(u.gid, 'user.gid', 0, 2 ** 32 - 2);
    if (u.uid === undefined || u.gid === undefined) {
        throw new SandboxOptionError('user', 'needs both uid and gid');
    }
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
        throw new SandboxOptionError('user', 'children can only be dropped to another user when the executor runs as root');
    }
}

function describe(value: unknown): string {
    if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
        return String(value);
    }
    if (typeof value === 'string') {
        return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    }
    return Array.isArray(value) ? 'an array' : typeof value;
}
