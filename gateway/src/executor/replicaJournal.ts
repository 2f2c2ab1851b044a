// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ensureDirectorySync } from '../directories';

/**
 * What a replica must not forget between its commit and its reveal: the result, the salt and the
 * signatures behind the commitment it sent. Each sealed replica is one file, written and fsynced
 * (file, then directory) before the commit goes to the ledger, so an executor killed at any point
 * after sealing finds it again on restart and can still reveal — its commitment is worthless
 * without exactly these bytes.
 */
export interface SealedReplica {
    readonly taskId: string;
    readonly jobId: string;
    readonly executorId: string;
    /** The result bytes, base64. */
    readonly result: string;
    /** The salt, base64 (≥ 16 random bytes). */
    readonly salt: string;
    /** The chaincode's signature JSON for the result. */
    readonly signatures: object;
    /** The commitment (hex) computed from them, as sent. */
    readonly commitment: string;
    /** Wall-clock time of sealing, for operators reading the directory. */
    readonly sealedAt: number;
}

/** Thrown for a journal file that is not a sealed replica (it is left in place for inspection). */
export class JournalError extends Error {
    override readonly name = 'JournalError';
}

const SUFFIX = '.replica.json';

export class ReplicaJournal {
    readonly #directory: string;

    /** A journal in `directory` (created if missing). */
    constructor(directory: string) {
        this.#directory = path.resolve(directory);
        ensureDirectorySync(this.#directory);
    }

    get directory(): string {
        return this.#directory;
    }

    /** Writes the replica durably: temporary file, fsync, rename, fsync of the directory. */
    seal(replica: SealedReplica): void {
        const file = this.#fileOf(replica.executorId, replica.taskId);
        const temporary = `${file}.${process.pid}.tmp`;
        const fd = openSync(temporary, 'w', 0o600);
        try {
            writeSync(fd, `${JSON.stringify(replica)}\n`);
            fsyncSync(fd);
        } finally {
            closeSync(fd);
        }
        renameSync(temporary, file);
        this.#syncDirectory();
    }

    /** The sealed replica of `executorId` for `taskId`, if any. */
    find(executorId: string, taskId: string): SealedReplica | undefined {
        const file = this.#fileOf(executorId, taskId);
        try {
            return parseReplica(readFileSync(file, 'utf8'), file);
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
                return undefined;
            }
            throw err;
        }
    }

    /** Every sealed replica (of `executorIds` when given), oldest first. */
    pending(executorIds?: readonly string[]): SealedReplica[] {
        const wanted = executorIds === undefined ? undefined : new Set(executorIds);
        return readdirSync(this.#directory)
            .filter((name) => name.endsWith(SUFFIX))
            .map((name) => parseReplica(readFileSync(path.join(this.#directory, name), 'utf8'), name))
            .filter((replica) => wanted === undefined || wanted.has(replica.executorId))
            .sort((a, b) => a.sealedAt - b.sealedAt || (a.taskId < b.taskId ? -1 : 1));
    }

    /** Forgets a replica whose reveal is done (or can no longer happen). */
    remove(executorId: string, taskId: string): void {
        rmSync(this.#fileOf(executorId, taskId), { force: true });
        this.#syncDirectory();
    }

    #fileOf(executorId: string, taskId: string): string {
        // Ids may hold characters a file name should not; the hash keeps one file per (executor, task).
        const name = createHash('sha256').update(`${executorId}\u0000${taskId}`).digest('hex').slice(0, 32);
        return path.join(this.#directory, `${name}${SUFFIX}`);
    }

    #syncDirectory(): void {
        const fd = openSync(this.#directory, 'r');
        try {
            fsyncSync(fd);
        } finally {
            closeSync(fd);
        }
    }
}

function parseReplica(text: string, where: string): SealedReplica {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (err) {
        throw new JournalError(`${where} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    const r = parsed as Partial<Record<keyof SealedReplica, unknown>>;
    const strings = ['taskId', 'jobId', 'executorId', 'result', 'salt', 'commitment'] as const;
    if (typeof parsed !== 'object' || parsed === null || strings.some((k) => typeof r[k] !== 'string') || typeof r.signatures !== 'object' || r.signatures === null || typeof r.sealedAt !== 'number') {
        throw new JournalError(`${where} is not a sealed replica (taskId, jobId, executorId, result, salt, signatures, commitment, sealedAt)`);
    }
    return parsed as SealedReplica;
}
