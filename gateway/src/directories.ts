// SPDX-License-Identifier: Apache-2.0
/**
 * Creating the directories a command was told to use (a store, a checkpoint's folder, a journal).
 * Node's `mkdir(…, { recursive: true })` loops for ever on some paths (below /proc it spins at full
 * CPU) and reports a file in the way only obliquely; these create one level at a time and say which
 * path is in the way.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** A directory that cannot be created or written. */
export class DirectoryError extends Error {
    override readonly name = 'DirectoryError';
}

function reason(err: unknown): string {
    return (err as { message?: string }).message ?? String(err);
}

function isMissing(err: unknown): boolean {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The levels of `absolute` that do not exist yet, outermost first; throws when an existing level is not a directory. */
function missingLevels(absolute: string, statOf: (p: string) => Stats | undefined): string[] {
    const missing: string[] = [];
    for (let current = absolute; ; current = path.dirname(current)) {
        const found = statOf(current);
        if (found !== undefined) {
            if (!found.isDirectory()) {
                throw new DirectoryError(`cannot use ${absolute}: ${current} is not a directory`);
            }
            return missing;
        }
        missing.unshift(current);
        if (path.dirname(current) === current) {
            return missing;
        }
    }
}

/** Creates `directory` (and missing parents) and checks it is writable. */
export async function ensureDirectory(directory: string): Promise<void> {
    const absolute = path.resolve(directory);
    const stats = new Map<string, Stats | undefined>();
    // Walk up asynchronously first, then decide with the collected answers.
    for (let current = absolute; ; current = path.dirname(current)) {
        const found = await stat(current).catch((err: unknown) => {
            if (isMissing(err)) {
                return undefined;
            }
            throw new DirectoryError(`cannot use ${absolute}: ${current}: ${reason(err)}`);
        });
        stats.set(current, found);
        if (found !== undefined || path.dirname(current) === current) {
            break;
        }
    }
    for (const level of missingLevels(absolute, (p) => stats.get(p))) {
        await mkdir(level).catch((err: unknown) => {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
                throw new DirectoryError(`cannot create ${absolute}: ${reason(err)}`);
            }
        });
    }
    await access(absolute, constants.W_OK).catch(() => {
        throw new DirectoryError(`cannot write to ${absolute}`);
    });
}

/** ensureDirectory for synchronous callers. */
export function ensureDirectorySync(directory: string): void {
    const absolute = path.resolve(directory);
    const statOf = (p: string): Stats | undefined => {
        try {
            return statSync(p);
        } catch (err) {
            if (isMissing(err)) {
                return undefined;
            }
            throw new DirectoryError(`cannot use ${absolute}: ${p}: ${reason(err)}`);
        }
    };
    for (const level of missingLevels(absolute, statOf)) {
        try {
            mkdirSync(level);
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
                throw new DirectoryError(`cannot create ${absolute}: ${reason(err)}`);
            }
        }
    }
    try {
        accessSync(absolute, constants.W_OK);
    } catch {
        throw new DirectoryError(`cannot write to ${absolute}`);
    }
}
