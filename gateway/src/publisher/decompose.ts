// SPDX-License-Identifier: Apache-2.0
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Why a job could not be split into tasks. */
export class DecomposeError extends Error {
    override readonly name = 'DecomposeError';
}

/**
 * Splits the integer range [lo, hi) into `tasks` contiguous parts as even as possible (earlier
 * parts one larger), each given to its task as the text `"<lo> <hi>"` — the input format of the
 * range-based example programs (primes, pi takes just a count).
 * @example splitRange(0n, 10n, 3) → ['0 4', '4 7', '7 10']
 */
export function splitRange(lo: bigint, hi: bigint, tasks: number): string[] {
    if (!Number.isSafeInteger(tasks) || tasks < 1) {
        throw new DecomposeError(`the task count must be a positive integer, not ${tasks}`);
    }
    if (hi < lo) {
        throw new DecomposeError(`the range ${lo}:${hi} is empty or reversed`);
    }
    const size = hi - lo;
    const count = BigInt(tasks);
    const base = size / count;
    const extra = size % count;
    const parts: string[] = [];
    let start = lo;
    for (let i = 0n; i < count; i++) {
        const end = start + base + (i < extra ? 1n : 0n);
        parts.push(`${start} ${end}`);
        start = end;
    }
    return parts;
}

/** Parses `lo:hi` as in `--range 0:10000000`. */
export function parseRange(text: string): { lo: bigint; hi: bigint } {
    const match = /^(\d+):(\d+)$/.exec(text);
    if (match?.[1] === undefined || match[2] === undefined) {
        throw new DecomposeError(`a range is written lo:hi with non-negative integers, not ${JSON.stringify(text)}`);
    }
    return { lo: BigInt(match[1]), hi: BigInt(match[2]) };
}

/** One task input per regular file of a directory, in name order (byte order, so every machine agrees). */
export async function inputsFromDirectory(directory: string): Promise<Buffer[]> {
    let names: string[];
    try {
        names = (await readdir(directory, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name);
    } catch (err) {
        throw new DecomposeError(`cannot read the input directory ${directory}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (names.length === 0) {
        throw new DecomposeError(`the input directory ${directory} holds no files`);
    }
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return Promise.all(names.map((name) => readFile(path.join(directory, name))));
}

/**
 * One task input per line of a JSON-lines file: a JSON string becomes its UTF-8 bytes, anything
 * else its compact JSON text. Blank lines are skipped.
 */
export async function inputsFromJsonLines(file: string): Promise<Buffer[]> {
    let text: string;
    try {
        text = await readFile(file, 'utf8');
    } catch (err) {
        throw new DecomposeError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const inputs: Buffer[] = [];
    for (const [i, line] of text.split('\n').entries()) {
        if (line.trim() === '') {
            continue;
        }
        let value: unknown;
        try {
            value = JSON.parse(line);
        } catch {
            throw new DecomposeError(`${file} line ${i + 1} is not JSON`);
        }
        inputs.push(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8'));
    }
    if (inputs.length === 0) {
        throw new DecomposeError(`${file} holds no inputs`);
    }
    return inputs;
}
