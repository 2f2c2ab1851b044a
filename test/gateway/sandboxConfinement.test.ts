// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { programHashHex } from '../../gateway/src/bundle';
import { SandboxOptionError, SandboxPool } from '../../gateway/src/sandbox';
import type { RunLimits, RunResult, SandboxPoolOptions } from '../../gateway/src/sandbox';
import * as attack from '../fixtures/wasm/attacks';
import { helloModule } from '../fixtures/wasm/builder';

/**
 * The sandbox's own defences: every option validated with a typed error; a child recycled after a
 * memory failure; a bounded queue with the time split into queued and running; children under
 * Node's permission model, OS limits and (as root) another user.
 */

const work = mkdtempSync(path.join(tmpdir(), 'lw-confine-'));
afterAll(() => {
    rmSync(work, { recursive: true, force: true });
});

function run(pool: SandboxPool, module: Uint8Array, limits?: RunLimits): Promise<RunResult> {
    return pool.run({ programHash: programHashHex(module), module, argv: ['task'], stdin: Buffer.alloc(0), seed: 's', ...(limits === undefined ? {} : { limits }) });
}

async function withPool<T>(options: SandboxPoolOptions, body: (pool: SandboxPool) => Promise<T>): Promise<T> {
    const pool = new SandboxPool(options);
    try {
        await pool.ready();
        return await body(pool);
    } finally {
        await pool.close();
    }
}

describe('sandbox options', () => {
    it.each([
        [{ maxMemoryPages: 1.5 }, 'maxMemoryPages'],
        [{ maxMemoryPages: 0 }, 'maxMemoryPages'],
        [{ maxMemoryPages: -1 }, 'maxMemoryPages'],
        [{ maxMemoryPages: 65_537 }, 'maxMemoryPages'],
        [{ maxMemoryPages: Number.NaN }, 'maxMemoryPages'],
        [{ size: 0 }, 'size'],
        [{ size: 2.5 }, 'size'],
        [{ memoryPolicy: 'grow' }, 'memoryPolicy'],
        [{ maxModuleBytes: -5 }, 'maxModuleBytes'],
        [{ childHeapMiB: 1 }, 'childHeapMiB'],
        [{ maxRunsPerChild: 0 }, 'maxRunsPerChild'],
        [{ childFlags: '--jitless' }, 'childFlags'],
        [{ childFlags: ['jitless'] }, 'childFlags[0]'],
        [{ childFlags: ['--allow-fs-read=/'] }, 'childFlags[0]'],
        [{ childFlags: ['--allow-child-process'] }, 'childFlags[0]'],
        [{ limits: { wallMs: 0 } }, 'limits.wallMs'],
        [{ limits: { maxQueueMs: -1 } }, 'limits.maxQueueMs'],
        [{ limits: { maxOutputBytes: 1.5 } }, 'limits.maxOutputBytes'],
        [{ limits: { wallMS: 10 } }, 'limits.wallMS'],
        [{ permissions: 'yes' }, 'permissions'],
        [{ user: { uid: 65534 } }, 'user'],
        [{ user: { uid: -1, gid: 0 } }, 'user.uid'],
        [{ maxMemoryPage: 10 }, 'maxMemoryPage'],
    ])('refuses %j with SandboxOptionError naming %s, before starting anything', (options, option) => {
        let thrown: unknown;
        try {
            new SandboxPool(options as unknown as SandboxPoolOptions);
        } catch (err) {
            thrown = err;
        }
        expect(thrown).toBeInstanceOf(SandboxOptionError);
        expect(thrown).toMatchObject({ option });
    });

    it('accepts the largest memory (65,536 pages) and refuses a bad per-run limit as a rejected run', async () => {
        await withPool({ size: 1, maxMemoryPages: 65_536 }, async (pool) => {
            const hello = helloModule('hi\n');
            expect((await run(pool, hello)).ok).toBe(true);
            const bad = await run(pool, hello, { wallMs: -3 });
            expect(bad).toMatchObject({ ok: false, kind: 'rejected' });
            expect(!bad.ok && bad.detail).toMatch(/limits\.wallMs/);
        });
    });
});

describe('sandbox children', () => {
    it('recycles a child that ended a run with a memory failure', async () => {
        await withPool({ size: 1, maxMemoryPages: 64 }, async (pool) => {
            const [before] = pool.childPids;
            const bomb = await run(pool, attack.memoryBomb(64), { wallMs: 5000 });
            expect(!bomb.ok && bomb.kind).toBe('memory');
            await pool.ready();
            expect(pool.childPids).not.toContain(before);
            expect((await run(pool, helloModule('after\n'))).ok).toBe(true);
        });
    });

    it('bounds the queue on its own and says where the time went', async () => {
        await withPool({ size: 1 }, async (pool) => {
            const looping = run(pool, attack.infiniteLoop(), { wallMs: 3000 });
            const starved = await run(pool, helloModule('late\n'), { maxQueueMs: 200 });
            expect(starved).toMatchObject({ ok: false, kind: 'queue-timeout', wallMs: 0 });
            expect(starved.queuedMs).toBeGreaterThanOrEqual(190);
            const patient = await run(pool, helloModule('waited\n'), { maxQueueMs: 60_000 });
            expect(patient.ok && patient.stdout.toString()).toBe('waited\n');
            expect(patient.queuedMs).toBeGreaterThan(0);
            const loop = await looping;
            expect(loop).toMatchObject({ ok: false, kind: 'timeout' });
            expect(loop.queuedMs).toBeLessThan(loop.wallMs);
        });
    });

    it("run under Node's permission model: only their own code is readable; no writes, child processes or workers", async () => {
        await withPool({ size: 1 }, async (pool) => {
            await pool.ready();
            const { execPath, args } = pool.childCommand;
            const entryDir = path.dirname(args.at(-1) ?? '');
            const [pid] = pool.childPids;
            const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
            expect(cmdline).toContain('--experimental-permission');
            expect(cmdline.filter((arg) => arg.startsWith('--allow-'))).toEqual([`--allow-fs-read=${entryDir}`]);
            // The same command with a probe instead of the child entry (its directory the readable one).
            const probeDir = mkdtempSync(path.join(work, 'probe-'));
            const probe = path.join(probeDir, 'probe.js');
            writeFileSync(
                probe,
                `const r = {};
                 const tryIt = (name, f) => { try { f(); r[name] = 'allowed'; } catch (e) { r[name] = e.code; } };
                 tryIt('readOwn', () => require('fs').readFileSync(__filename));
                 tryIt('readOther', () => require('fs').readFileSync(${JSON.stringify(path.join(__dirname, 'sandboxConfinement.test.ts'))}));
                 tryIt('write', () => require('fs').writeFileSync(${JSON.stringify(path.join(probeDir, 'x'))}, 'x'));
                 tryIt('spawn', () => require('child_process').spawnSync('true'));
                 tryIt('worker', () => new (require('worker_threads').Worker)('1', { eval: true }));
                 process.stdout.write(JSON.stringify(r));`,
            );
            const probeArgs = [...args.slice(0, -1).map((arg) => (arg === `--allow-fs-read=${entryDir}` ? `--allow-fs-read=${probeDir}` : arg)), probe];
            const result = spawnSync(execPath, probeArgs, { encoding: 'utf8', env: {} });
            expect(JSON.parse(result.stdout)).toEqual({ readOwn: 'allowed', readOther: 'ERR_ACCESS_DENIED', write: 'ERR_ACCESS_DENIED', spawn: 'ERR_ACCESS_DENIED', worker: 'ERR_ACCESS_DENIED' });
        });
    });

    const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].some((candidate) => spawnSync('test', ['-x', candidate]).status === 0);
    (prlimit ? it : it.skip)('run with OS limits: no core dumps, no file growth, 64 descriptors', async () => {
        await withPool({ size: 1 }, async (pool) => {
            const [pid] = pool.childPids;
            const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
            expect(limits).toMatch(/Max core file size\s+0\s+0/);
            expect(limits).toMatch(/Max file size\s+0\s+0/);
            expect(limits).toMatch(/Max open files\s+64\s+64/);
            expect((await run(pool, helloModule('limited\n'))).ok).toBe(true);
        });
    });

    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    (root ? it : it.skip)('run as an unprivileged user when the executor runs as root', async () => {
        await withPool({ size: 1, user: { uid: 65534, gid: 65534 } }, async (pool) => {
            const [pid] = pool.childPids;
            const status = readFileSync(`/proc/${pid}/status`, 'utf8');
            expect(status).toMatch(/^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
            expect(status).toMatch(/^Gid:\s+65534\s+65534\s+65534\s+65534$/m);
            const r = await run(pool, helloModule('nobody\n'));
            expect(r.ok && r.stdout.toString()).toBe('nobody\n');
        });
    });
});
