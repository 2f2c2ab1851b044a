// SPDX-License-Identifier: Apache-2.0
/**
 * The sandbox's own WASI preview1 layer: plain JS closures (V8 instantiates modules against them ~15×
 * faster than against node:wasi's bound functions, and a guest stuck in one of them is still
 * killable). It grants nothing from the host: no file descriptors besides an in-memory stdin and two
 * bounded in-memory output buffers, no preopens, no environment, a fixed clock, and `random_get`
 * drawn from a deterministic stream keyed by the run's seed (the task id). Every other preview1 call
 * fails with an errno; `poll_oneoff` (sleep) is refused so the guest cannot park in the host.
 */
import { createCipheriv, createHash } from 'node:crypto';
import type { Cipher } from 'node:crypto';
import type { WasmMemory } from './webassembly';

/** WASI errno values used here. */
export const Errno = {
    success: 0,
    badf: 8,
    fault: 21,
    inval: 28,
    nosys: 52,
    notsup: 58,
    spipe: 70,
    notcapable: 76,
} as const;

/** Every function of `wasi_snapshot_preview1`: the import allow-list. */
export const WASI_PREVIEW1_FUNCTIONS: ReadonlySet<string> = new Set([
    'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
    'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
    'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
    'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
    'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
    'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
    'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get', 'sock_accept',
    'sock_recv', 'sock_send', 'sock_shutdown',
]);

/** The WASI import module name. */
export const WASI_MODULE = 'wasi_snapshot_preview1';

/** The value every clock reads, in nanoseconds (2024-01-01T00:00:00Z): fixed, so runs are reproducible. */
export const FIXED_CLOCK_NS = 1_704_067_200_000_000_000n;

/** Thrown by `proc_exit` to unwind the guest; carries the exit code. */
export class ExitSignal extends Error {
    override readonly name = 'ExitSignal';
    constructor(readonly code: number) {
        super(`proc_exit(${code})`);
    }
}

/** Thrown by `fd_write` when a stream would exceed its cap; the bytes up to the cap are kept. */
export class OutputLimitSignal extends Error {
    override readonly name = 'OutputLimitSignal';
    constructor(
        readonly fd: number,
        readonly limit: number,
    ) {
        super(`fd ${fd} exceeded ${limit} bytes`);
    }
}

/** Thrown when a host call gets a pointer or length outside the guest's memory. */
export class GuestFault extends Error {
    override readonly name = 'GuestFault';
}

/** Configuration of one run's WASI layer. */
export interface WasiConfig {
    /** The argument list exactly as the guest sees it (`["task"]` or `["merge"]`). */
    readonly argv: readonly string[];
    /** The whole of stdin. */
    readonly stdin: Uint8Array;
    /** Seed of the deterministic random stream (the task id or merge slot id). */
    readonly seed: string | Uint8Array;
    /** Cap on stdout bytes. */
    readonly maxStdout: number;
    /** Cap on stderr bytes. */
    readonly maxStderr: number;
}

/** A bounded in-memory output stream. */
class Capture {
    readonly chunks: Buffer[] = [];
    length = 0;

    constructor(private readonly fd: number, private readonly limit: number) {}

    write(bytes: Uint8Array): void {
        const room = this.limit - this.length;
        if (bytes.length > room) {
            if (room > 0) {
                this.chunks.push(Buffer.from(bytes.subarray(0, room)));
                this.length += room;
            }
            throw new OutputLimitSignal(this.fd, this.limit);
        }
        this.chunks.push(Buffer.from(bytes));
        this.length += bytes.length;
    }

    bytes(): Buffer {
        return Buffer.concat(this.chunks, this.length);
    }
}

/** Deterministic random bytes: the AES-256-CTR keystream under SHA-256(domain ‖ seed), IV 0. */
class SeededRandom {
    private readonly cipher: Cipher;

    constructor(seed: string | Uint8Array) {
        const key = createHash('sha256').update('ledgerwork/v1/random\0').update(seed).digest();
        this.cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
    }

    next(n: number): Buffer {
        return this.cipher.update(Buffer.alloc(n));
    }
}

/**
 * The first `n` bytes `random_get` yields for `seed` (over any sequence of calls), for reference
 * implementations and re-execution checks.
 */
export function seededRandomBytes(seed: string | Uint8Array, n: number): Buffer {
    return new SeededRandom(seed).next(n);
}

/** The guest-facing half of a run: the import object plus what the guest wrote. */
export interface WasiSession {
    /** Import object for `wasi_snapshot_preview1`. */
    readonly imports: Record<string, (...args: never[]) => number>;
    /** Binds the guest's exported memory; call after instantiation, before `_start`. */
    bindMemory(memory: WasmMemory): void;
    /** Captured stdout so far. */
    stdout(): Buffer;
    /** Captured stderr so far. */
    stderr(): Buffer;
}

/** Builds one run's WASI layer. */
export function createWasi(config: WasiConfig): WasiSession {
    let memory: WasmMemory | undefined;
    const out = new Capture(1, config.maxStdout);
    const err = new Capture(2, config.maxStderr);
    const random = new SeededRandom(config.seed);
    const args = config.argv.map((a) => Buffer.from(`${a}\0`, 'utf8'));
    const argBytes = args.reduce((n, a) => n + a.length, 0);
    let stdinPos = 0;

    const mem = (): ArrayBuffer => {
        if (memory === undefined) {
            throw new GuestFault('the module has no exported memory');
        }
        return memory.buffer;
    };
    const view = (): DataView => new DataView(mem());
    const range = (ptr: number, len: number): Uint8Array => {
        const buffer = mem();
        const p = ptr >>> 0;
        const l = len >>> 0;
        if (p + l > buffer.byteLength) {
            throw new GuestFault(`host call touched bytes ${p}..${p + l} outside memory of ${buffer.byteLength}`);
        }
        return new Uint8Array(buffer, p, l);
    };
    const u32 = (ptr: number, value: number): void => {
        range(ptr, 4);
        view().setUint32(ptr >>> 0, value >>> 0, true);
    };
    const u64 = (ptr: number, value: bigint): void => {
        range(ptr, 8);
        view().setBigUint64(ptr >>> 0, value, true);
    };
    const iovecs = (iovs: number, count: number): { ptr: number; len: number }[] => {
        const raw = range(iovs, (count >>> 0) * 8);
        const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        const list: { ptr: number; len: number }[] = [];
        for (let i = 0; i < count >>> 0; i++) {
            list.push({ ptr: dv.getUint32(i * 8, true), len: dv.getUint32(i * 8 + 4, true) });
        }
        return list;
    };
    const isStdio = (fd: number): boolean => fd >>> 0 <= 2;
    const noCapability = (fd: number): number => (isStdio(fd) ? Errno.notcapable : Errno.badf);

    const imports: Record<string, (...args: never[]) => number> = {};
    for (const name of WASI_PREVIEW1_FUNCTIONS) {
        imports[name] = (): number => Errno.nosys;
    }
    const table: Record<string, (...args: number[]) => number> = {
        args_sizes_get: (argcPtr, sizePtr) => {
            u32(argcPtr, args.length);
            u32(sizePtr, argBytes);
            return Errno.success;
        },
        args_get: (argvPtr, bufPtr) => {
            let at = bufPtr >>> 0;
            args.forEach((a, i) => {
                u32(argvPtr + i * 4, at);
                range(at, a.length).set(a);
                at += a.length;
            });
            return Errno.success;
        },
        environ_sizes_get: (countPtr, sizePtr) => {
            u32(countPtr, 0);
            u32(sizePtr, 0);
            return Errno.success;
        },
        environ_get: () => Errno.success,
        clock_res_get: (_id, ptr) => {
            u64(ptr, 1n);
            return Errno.success;
        },
        fd_write: (fd, iovs, count, nwrittenPtr) => {
            const target = fd === 1 ? out : fd === 2 ? err : undefined;
            if (target === undefined) {
                return Errno.badf;
            }
            let written = 0;
            for (const iov of iovecs(iovs, count)) {
                target.write(range(iov.ptr, iov.len));
                written += iov.len;
            }
            u32(nwrittenPtr, written);
            return Errno.success;
        },
        fd_read: (fd, iovs, count, nreadPtr) => {
            if (fd !== 0) {
                return Errno.badf;
            }
            let read = 0;
            for (const iov of iovecs(iovs, count)) {
                const n = Math.min(iov.len, config.stdin.length - stdinPos);
                range(iov.ptr, n).set(config.stdin.subarray(stdinPos, stdinPos + n));
                stdinPos += n;
                read += n;
                if (n < iov.len) {
                    break;
                }
            }
            u32(nreadPtr, read);
            return Errno.success;
        },
        fd_close: (fd) => (isStdio(fd) ? Errno.success : Errno.badf),
        fd_fdstat_get: (fd, ptr) => {
            if (!isStdio(fd)) {
                return Errno.badf;
            }
            const bytes = range(ptr, 24);
            bytes.fill(0);
            bytes[0] = 2; // character device
            const rights = fd === 0 ? 1n << 1n : 1n << 6n; // fd_read : fd_write
            view().setBigUint64((ptr >>> 0) + 8, rights, true);
            return Errno.success;
        },
        fd_seek: (fd) => (isStdio(fd) ? Errno.spipe : Errno.badf),
        fd_tell: (fd) => (isStdio(fd) ? Errno.spipe : Errno.badf),
        fd_prestat_get: () => Errno.badf,
        fd_prestat_dir_name: () => Errno.badf,
        fd_fdstat_set_flags: noCapability,
        fd_filestat_get: noCapability,
        fd_readdir: noCapability,
        fd_pread: noCapability,
        fd_pwrite: noCapability,
        path_open: noCapability,
        path_filestat_get: noCapability,
        path_readlink: noCapability,
        path_create_directory: noCapability,
        path_remove_directory: noCapability,
        path_unlink_file: noCapability,
        path_rename: noCapability,
        path_symlink: noCapability,
        path_link: noCapability,
        path_filestat_set_times: noCapability,
        poll_oneoff: () => Errno.notsup,
        sock_accept: () => Errno.notsup,
        sock_recv: () => Errno.notsup,
        sock_send: () => Errno.notsup,
        sock_shutdown: () => Errno.notsup,
        sched_yield: () => Errno.success,
        random_get: (ptr, len) => {
            range(ptr, len).set(random.next(len >>> 0));
            return Errno.success;
        },
        proc_exit: (code) => {
            throw new ExitSignal(code >>> 0);
        },
    };
    Object.assign(imports, table);
    // clock_time_get takes an i64 precision, which arrives as a BigInt: keep it out of the number table.
    imports.clock_time_get = ((_id: number, _precision: bigint, ptr: number): number => {
        u64(ptr, FIXED_CLOCK_NS);
        return Errno.success;
    });

    return {
        imports,
        bindMemory: (m) => {
            memory = m;
        },
        stdout: () => out.bytes(),
        stderr: () => err.bytes(),
    };
}
