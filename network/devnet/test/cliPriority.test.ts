// SPDX-License-Identifier: Apache-2.0
/**
 * `ledgerwork-devnet up` runs at a lower CPU priority than the applications it serves (nice 10 unless `--nice` says
 * otherwise), never at a higher one than it was started with, and refuses a nice value outside 0–19.
 */
import { getPriority } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from '@jest/globals';
import { defined } from '../src/defined';
import { tempDir } from './support/client';
import { exited, firstLine, spawnCli } from './support/spawn';

describe('ledgerwork-devnet up: CPU priority', () => {
    const children: ChildProcess[] = [];
    afterAll(async () => {
        for (const child of children) {
            child.kill('SIGTERM');
        }
        await Promise.all(children.map(exited));
    });

    /** The nice value of a devnet started with `extra`, read once it is up. */
    async function niceOfDevnet(extra: readonly string[]): Promise<number> {
        const child = spawnCli(['up', '--dir', tempDir('devnet-nice-'), '--port', '0', '--json', ...extra]);
        children.push(child);
        await firstLine(child);
        return getPriority(defined(child.pid));
    }

    it('runs at nice 10 by default, at the nice value --nice gives, and never above its starting priority', async () => {
        const own = getPriority();
        expect(await niceOfDevnet([])).toBe(Math.max(own, 10));
        expect(await niceOfDevnet(['--nice', '15'])).toBe(Math.max(own, 15));
        // --nice 0 keeps the priority the devnet was started with.
        expect(await niceOfDevnet(['--nice', '0'])).toBe(own);
    }, 120_000);

    it('refuses a nice value outside 0–19 before starting anything', async () => {
        const child = spawnCli(['up', '--dir', tempDir('devnet-nice-'), '--port', '0', '--json', '--nice', '20']);
        children.push(child);
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
        await exited(child);
        expect(child.exitCode).toBe(1);
        expect(stderr).toContain('--nice must be an integer from 0 to 19');
    }, 60_000);
});
