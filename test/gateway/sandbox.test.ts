// SPDX-License-Identifier: Apache-2.0
/**
 * The sandbox attack suite (docs/security.md, S1–S16): every attack ends as a typed task
 * failure within deadline + 1 s, and the pool keeps working with the same number of children.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildBundle, generateTaskKey, programHashHex } from '../../gateway/src/bundle';
import { listSections } from '../../gateway/src/bundle/wasm';
import { admit, SandboxPool } from '../../gateway/src/sandbox';
import type { RunLimits, RunResult } from '../../gateway/src/sandbox';
import * as attack from '../fixtures/wasm/attacks';
import { helloModule } from '../fixtures/wasm/builder';

const CAP_PAGES = 64; // 4 MiB
const DEADLINE = 800;

function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

describe('SandboxPool', () => {
    let pool: SandboxPool;
    const pids = new Set<number>();

    const run = async (module: Uint8Array, opts: { stdin?: Uint8Array; seed?: string; argv?: string[]; limits?: RunLimits } = {}): Promise<RunResult> => {
        pool.childPids.forEach((p) => pids.add(p));
        const result = await pool.run({
            programHash: programHashHex(module),
            module,
            argv: opts.argv ?? ['task'],
            stdin: opts.stdin ?? Buffer.alloc(0),
            seed: opts.seed ?? 'task-1',
            limits: { wallMs: DEADLINE, ...opts.limits },
        });
        pool.childPids.forEach((p) => pids.add(p));
        return result;
    };

    const expectFailure = (r: RunResult, kind: string, detail = ''): void => {
        if (r.ok) {
            throw new Error(`expected ${kind}, got success: ${r.stdout.toString().slice(0, 100)}`);
        }
        expect(`${r.kind}: ${r.detail}`).toMatch(new RegExp(`^${kind}:.*${detail}`));
    };

    beforeAll(async () => {
        pool = new SandboxPool({ size: 2, maxMemoryPages: CAP_PAGES });
        await pool.ready();
    });

    afterAll(async () => {
        await pool.close();
        expect(pool.liveChildren).toBe(0);
        for (const pid of pids) {
            expect(isAlive(pid)).toBe(false);
        }
    });

    // What a warm run costs is measured by `npm run bench:sandbox`, not asserted here (the machine may be loaded).
    it('runs a program and captures its stdout, again and again in the same children', async () => {
        const hello = helloModule('hi there\n');
        const first = await run(hello);
        expect(first.ok && first.stdout.toString()).toBe('hi there\n');
        const children = new Set(pool.childPids);
        for (let i = 0; i < 20; i++) {
            const r = await run(hello);
            expect(r.ok && r.stdout.toString()).toBe('hi there\n');
        }
        expect(new Set(pool.childPids)).toEqual(children);
    });

    it('runs a bundle: the key section is stripped before the child gets the module', async () => {
        const bundle = buildBundle(helloModule('bundled\n'), generateTaskKey().privateKey);
        const r = await run(bundle);
        expect(r.ok && r.stdout.toString()).toBe('bundled\n');
        const admitted = admit(bundle, { maxModuleBytes: 1 << 20, maxMemoryPages: CAP_PAGES, memoryPolicy: 'refuse', maxTableElements: 10 });
        expect(admitted.ok).toBe(true);
        if (admitted.ok) {
            expect(listSections(admitted.bytes).some((s) => s.name === 'ledgerwork.key')).toBe(false);
        }
    });

    it('S1: an infinite loop times out and the child is killed', async () => {
        expectFailure(await run(attack.infiniteLoop()), 'timeout');
    });

    it('S2: a loop of host calls times out', async () => {
        expectFailure(await run(attack.hostCallLoop()), 'timeout');
    });

    it('S2: a memory.grow loop times out regardless of V8 tiering', async () => {
        expectFailure(await run(attack.growLoop(CAP_PAGES)), 'timeout');
    });

    it('S3: a memory bomb within the declared cap fails as memory', async () => {
        const r = await run(attack.memoryBomb(CAP_PAGES));
        expectFailure(r, 'memory');
    });

    it('S3/S4/S5: memories without maximum, above the cap, shared, 64-bit or several are refused', async () => {
        expectFailure(await run(attack.memoryBomb()), 'rejected', 'no maximum');
        expectFailure(await run(attack.memoryDeclaration({ min: 65536, max: 65536 })), 'rejected', '65536 initial pages');
        expectFailure(await run(attack.memoryDeclaration({ min: 1, max: CAP_PAGES + 1 })), 'rejected', `maximum of ${CAP_PAGES + 1} pages`);
        expectFailure(await run(attack.memoryDeclaration({ min: 1, max: 2, shared: true })), 'rejected', 'shared memory');
        expectFailure(await run(attack.memoryDeclaration({ min: 1, max: 2, memory64: true })), 'rejected', 'memory64');
        expectFailure(await run(attack.memoryDeclaration({ min: 1, max: 2 }, 2)), 'rejected', 'multi-memory');
        expectFailure(await run(attack.importedMemory()), 'rejected', 'is not a WASI preview1 function');
    });

    it('S6–S9: no filesystem, environment, sockets or blocking calls; stdin reads EOF', async () => {
        const r = await run(attack.capabilityProbe());
        expect(r.ok).toBe(true);
        expect([...(r.ok ? r.stdout : [])]).toEqual([...attack.CAPABILITY_PROBE_EXPECTED]);
    });

    it('S10: an output flood stops at exactly the cap', async () => {
        const cap = 300_000;
        const r = await run(attack.outputFlood(), { limits: { maxOutputBytes: cap } });
        expectFailure(r, 'output-limit');
        expect(r.stdout.length).toBe(cap);
        const e = await run(attack.outputFlood(2), { limits: { maxStderrBytes: 1000 } });
        expectFailure(e, 'output-limit');
        expect(e.stderr.length).toBe(1000);
    });

    it('S11: traps, out-of-bounds accesses, stack overflow and bad host pointers are traps', async () => {
        expectFailure(await run(attack.trapUnreachable()), 'trap', 'unreachable');
        expectFailure(await run(attack.trapOutOfBounds()), 'trap', 'out of bounds');
        expectFailure(await run(attack.stackOverflow()), 'trap', 'call stack');
        expectFailure(await run(attack.badPointer()), 'trap', 'outside memory');
    });

    it('S12: a non-zero exit is an exit failure with its code', async () => {
        const r = await run(attack.exitWith(42));
        expectFailure(r, 'exit');
        expect(!r.ok && r.exitCode).toBe(42);
        const zero = await run(attack.exitWith(0));
        expect(zero.ok).toBe(true);
    });

    it('S13: non-WASI imports, invalid modules and hash mismatches are refused', async () => {
        expectFailure(await run(attack.foreignImport()), 'rejected', '"env"."system"');
        expectFailure(await run(Buffer.from('\0asm\x01\0\0\0\x01\xff')), 'rejected', 'malformed');
        const hello = helloModule();
        const r = await pool.run({ programHash: '00'.repeat(32), module: hello, argv: ['task'], stdin: Buffer.alloc(0), seed: 's' });
        expect(!r.ok && r.kind).toBe('rejected');
    });

    it('S14: random_get is deterministic per seed and the clock is fixed', async () => {
        const m = attack.randomAndClock();
        const a = await run(m, { seed: 'task-a' });
        const a2 = await run(m, { seed: 'task-a' });
        const b = await run(m, { seed: 'task-b' });
        if (!a.ok || !a2.ok || !b.ok) throw new Error('runs failed');
        expect(a.stdout.length).toBe(40);
        expect(a.stdout.equals(a2.stdout)).toBe(true);
        expect(a.stdout.subarray(0, 32).equals(b.stdout.subarray(0, 32))).toBe(false);
        expect(a.stdout.readBigUInt64LE(32)).toBe(b.stdout.readBigUInt64LE(32));
    });

    it('passes stdin through; refuses input above the cap before running', async () => {
        const input = Buffer.alloc(3 << 20);
        for (let i = 0; i < input.length; i += 4096) input[i] = i & 0xff;
        const r = await run(attack.cat(), { stdin: input, limits: { maxOutputBytes: 4 << 20, wallMs: 5000 } });
        expect(r.ok && r.stdout.equals(input)).toBe(true);
        expectFailure(await run(attack.cat(), { stdin: input, limits: { maxInputBytes: 1 << 20 } }), 'rejected');
    });

    it('a child that dies mid-run is a crash, and the pool respawns it', async () => {
        const pending = run(attack.infiniteLoop(), { limits: { wallMs: 5000 } });
        await new Promise((r) => setTimeout(r, 100));
        for (const pid of pool.childPids) process.kill(pid, 'SIGKILL');
        const r = await pending;
        expect(!r.ok && r.kind).toBe('crash');
        await pool.ready();
        expect(pool.liveChildren).toBe(2);
    });

    it('S16: concurrent attacks do not disturb honest runs, and the pool is whole afterwards', async () => {
        const hello = helloModule('ok\n');
        const results = await Promise.all([
            run(attack.infiniteLoop()),
            run(attack.memoryBomb(CAP_PAGES)),
            run(hello),
            run(attack.growLoop(CAP_PAGES)),
            run(hello),
            run(attack.outputFlood()),
            run(hello),
        ]);
        expect(results.map((r) => (r.ok ? r.stdout.toString() : r.kind))).toEqual(['timeout', 'memory', 'ok\n', 'timeout', 'ok\n', 'output-limit', 'ok\n']);
        await pool.ready();
        expect(pool.liveChildren).toBe(2);
        const after = await run(hello);
        expect(after.ok).toBe(true);
    });
});

describe('SandboxPool recycling and start failures', () => {
    it('recycles a child after maxRunsPerChild runs', async () => {
        const pool = new SandboxPool({ size: 1, maxRunsPerChild: 2 });
        try {
            await pool.ready();
            const m = helloModule();
            const seen = new Set<number>();
            for (let i = 0; i < 5; i++) {
                pool.childPids.forEach((p) => seen.add(p));
                const r = await pool.run({ programHash: programHashHex(m), module: m, argv: ['task'], stdin: Buffer.alloc(0), seed: 's' });
                expect(r.ok).toBe(true);
            }
            expect(seen.size).toBeGreaterThanOrEqual(2);
        } finally {
            await pool.close();
        }
    });

    it('reports children that cannot start instead of hanging', async () => {
        const pool = new SandboxPool({ size: 1, childFlags: ['--no-such-v8-flag-for-ledgerwork'] });
        try {
            await expect(pool.ready()).rejects.toThrow(/fail to start/);
            const m = helloModule();
            const r = await pool.run({ programHash: programHashHex(m), module: m, argv: ['task'], stdin: Buffer.alloc(0), seed: 's' });
            expect(!r.ok && r.kind).toBe('crash');
        } finally {
            await pool.close();
        }
    });
});

describe('SandboxPool with the clamp policy', () => {
    it('rewrites a missing maximum to the cap; the bomb then stops at the cap', async () => {
        const pool = new SandboxPool({ size: 1, maxMemoryPages: 32, memoryPolicy: 'clamp' });
        try {
            const m = attack.memoryBomb();
            const r = await pool.run({ programHash: programHashHex(m), module: m, argv: ['task'], stdin: Buffer.alloc(0), seed: 's', limits: { wallMs: 2000 } });
            expect(!r.ok && r.kind).toBe('memory');
            expect(!r.ok && r.detail).toMatch(/of 32 pages/);
        } finally {
            await pool.close();
        }
    });
});
