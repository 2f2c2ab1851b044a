// SPDX-License-Identifier: Apache-2.0
/**
 * ECDSA verifications and signatures off the main thread, in batches. libuv's thread pool takes one job per call,
 * and waking a pool thread for each cost the caller 11–28 µs on the virtual machines this devnet is measured on, a
 * fifth to nearly half of the verification itself, and the pool threads more again (docs/benchmarks.md). Here the calls
 * made in one turn of the event loop go to one worker thread together, up to {@link JOBS_PER_POST} in one message,
 * and come back the same way.
 *
 * If the worker cannot start or dies, what it was given and everything after goes to the thread pool instead: a
 * signature is never judged invalid because a thread failed.
 */
import { sign as signDigest, verify as verifySignature, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { defined } from './defined';

type Job =
    | { readonly kind: 'verify'; readonly key: KeyObject; readonly data: Uint8Array; readonly signature: Uint8Array; readonly done: (valid: boolean) => void }
    | { readonly kind: 'sign'; readonly key: KeyObject; readonly data: Uint8Array; readonly done: (error: Error | null, signature?: Uint8Array) => void };

/**
 * A batch as posted, in two transferred buffers (posting many small arrays costs more than copying them into one):
 * per job four numbers (0 = verify / 1 = sign, the key's number, the data's length, the signature's length, 0 for a
 * signing), and the data and signatures one after the other.
 */
type PostedBatch = { readonly batch: number; readonly heads: Uint32Array; readonly bytes: Uint8Array };

/**
 * What the worker posts back: per job a length (a verification: 1 valid / 0 not; a signing: the DER signature's
 * length, 0 if it failed), and the signatures one after the other.
 */
type Reply = { readonly batch: number; readonly lengths: Uint32Array; readonly signatures: Uint8Array };

const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { sign, verify } = require('node:crypto');
const keys = new Map();
parentPort.on('message', (message) => {
    if (message.key !== undefined) {
        keys.set(message.id, message.key);
        return;
    }
    if (message.forget !== undefined) {
        message.forget.forEach((id) => keys.delete(id));
        return;
    }
    const { batch, heads, bytes } = message;
    const jobs = heads.length / 4;
    const lengths = new Uint32Array(jobs);
    const signatures = [];
    let at = 0;
    for (let i = 0; i < jobs; i++) {
        const key = keys.get(heads[4 * i + 1]);
        const data = bytes.subarray(at, at + heads[4 * i + 2]);
        at += heads[4 * i + 2];
        const signature = bytes.subarray(at, at + heads[4 * i + 3]);
        at += heads[4 * i + 3];
        try {
            if (heads[4 * i] === 0) {
                lengths[i] = verify('sha256', data, key, signature) ? 1 : 0;
            } else {
                const made = sign('sha256', data, key);
                signatures.push(made);
                lengths[i] = made.length;
            }
        } catch {
            lengths[i] = 0;
        }
    }
    const packed = new Uint8Array(signatures.reduce((sum, made) => sum + made.length, 0));
    signatures.reduce((offset, made) => { packed.set(made, offset); return offset + made.length; }, 0);
    parentPort.postMessage({ batch, lengths, signatures: packed }, [lengths.buffer, packed.buffer]);
});
`;

/** A batch goes as soon as it has this many jobs, so that the worker starts while the main thread queues the rest. */
const JOBS_PER_POST = 16;

/** How many keys the worker holds; the least recently posted beyond that are forgotten (identities come and go). */
const KEYS_HELD = 4096;

function onThreadPool(job: Job): void {
    if (job.kind === 'verify') {
        try {
            verifySignature('sha256', job.data, job.key, job.signature, (error, valid) => { job.done(error === null && valid); });
        } catch {
            job.done(false);
        }
    } else {
        try {
            signDigest('sha256', job.data, job.key, (error, signature) => { job.done(error, signature); });
        } catch (error) {
            job.done(error instanceof Error ? error : new Error(String(error)));
        }
    }
}

/** One worker thread taking ECDSA jobs in batches; {@link verifyOffThread} and {@link signOffThread} share one. */
export class SignatureThread {
    private worker: Worker | undefined;
    private failed = false;
    /** The keys the worker holds, by number, oldest first. */
    private readonly keyIds = new Map<KeyObject, number>();
    private nextKeyId = 0;
    private queued: Job[] = [];
    private flushScheduled = false;
    private readonly inFlight = new Map<number, Job[]>();
    private nextBatch = 0;

    /** `source`: the worker's code (tests give one that fails); `keysHeld`: how many keys the worker keeps. */
    public constructor(
        private readonly source = WORKER_SOURCE,
        private readonly keysHeld = KEYS_HELD,
    ) {}

    /** Whether `signature` is a valid ECDSA-SHA256 signature of `data` by `publicKey`. */
    public verify(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
        return new Promise((resolve) => {
            this.submit({ kind: 'verify', key: publicKey, data, signature, done: resolve });
        });
    }

    /** The DER ECDSA-SHA256 signature of `data` by `privateKey` (S as the signer chose it). */
    public sign(privateKey: KeyObject, data: Uint8Array): Promise<Uint8Array> {
        return new Promise((resolve, reject) => {
            this.submit({
                kind: 'sign',
                key: privateKey,
                data,
                done: (error, signature) => {
                    if (error === null && signature !== undefined) {
                        resolve(signature);
                    } else {
                        reject(error ?? new Error('no signature'));
                    }
                },
            });
        });
    }

    private submit(job: Job): void {
        if (this.failed) {
            onThreadPool(job);
            return;
        }
        this.queued.push(job);
        if (!this.flushScheduled) {
            this.flushScheduled = true;
            setImmediate(() => {
                this.flushScheduled = false;
                this.flush();
            });
        }
        if (this.queued.length >= JOBS_PER_POST) {
            this.flush();
        }
    }

    private flush(): void {
        if (this.queued.length === 0) {
            return;
        }
        const jobs = this.queued;
        this.queued = [];
        const worker = this.started();
        if (worker === undefined) {
            jobs.forEach(onThreadPool);
            return;
        }
        const heads = new Uint32Array(4 * jobs.length);
        const forgotten: number[] = [];
        let size = 0;
        jobs.forEach((job, i) => {
            heads[4 * i] = job.kind === 'verify' ? 0 : 1;
            heads[4 * i + 1] = this.keyId(worker, job.key, forgotten);
            heads[4 * i + 2] = job.data.length;
            heads[4 * i + 3] = job.kind === 'verify' ? job.signature.length : 0;
            size += job.data.length + (job.kind === 'verify' ? job.signature.length : 0);
        });
        const bytes = new Uint8Array(size);
        let at = 0;
        for (const job of jobs) {
            bytes.set(job.data, at);
            at += job.data.length;
            if (job.kind === 'verify') {
                bytes.set(job.signature, at);
                at += job.signature.length;
            }
        }
        const batch = this.nextBatch++;
        this.inFlight.set(batch, jobs);
        if (this.inFlight.size === 1) {
            worker.ref();
        }
        const posted: PostedBatch = { batch, heads, bytes };
        worker.postMessage(posted, [heads.buffer, bytes.buffer]);
        // After the batch, which may still use them: the worker reads its messages in order.
        if (forgotten.length > 0) {
            worker.postMessage({ forget: forgotten });
        }
    }

    private started(): Worker | undefined {
        if (this.worker !== undefined || this.failed) {
            return this.worker;
        }
        try {
            const worker = new Worker(this.source, { eval: true });
            worker.unref();
            worker.on('message', (reply: Reply) => { this.answer(reply); });
            worker.on('error', () => { this.fail(); });
            worker.on('exit', () => { this.fail(); });
            this.worker = worker;
        } catch {
            this.failed = true;
        }
        return this.worker;
    }

    /** The number the worker knows `key` by, posting it first if need be; numbers of keys let go go to `forgotten`. */
    private keyId(worker: Worker, key: KeyObject, forgotten: number[]): number {
        let id = this.keyIds.get(key);
        if (id === undefined) {
            if (this.keyIds.size >= this.keysHeld) {
                const [oldestKey, oldestId] = defined(this.keyIds.entries().next().value, 'the oldest key');
                this.keyIds.delete(oldestKey);
                forgotten.push(oldestId);
            }
            id = this.nextKeyId++;
            this.keyIds.set(key, id);
            worker.postMessage({ id, key });
        }
        return id;
    }

    private answer(reply: Reply): void {
        const jobs = this.inFlight.get(reply.batch);
        if (jobs === undefined) {
            return;
        }
        this.inFlight.delete(reply.batch);
        if (this.inFlight.size === 0) {
            this.worker?.unref();
        }
        let at = 0;
        jobs.forEach((job, i) => {
            const length = reply.lengths[i] ?? 0;
            if (job.kind === 'verify') {
                job.done(length === 1);
            } else if (length > 0) {
                job.done(null, reply.signatures.subarray(at, at + length));
                at += length;
            } else {
                job.done(new Error('the signature thread could not sign with this key'));
            }
        });
    }

    /** The worker is gone: its unanswered jobs, and all later ones, go to the thread pool. */
    private fail(): void {
        if (this.failed) {
            return;
        }
        this.failed = true;
        this.worker = undefined;
        const unanswered = [...this.inFlight.values()].flat();
        this.inFlight.clear();
        unanswered.forEach(onThreadPool);
    }
}

const thread = new SignatureThread();

/** Whether `signature` is a valid ECDSA-SHA256 signature of `data` by `publicKey`, checked off the main thread. */
export function verifyOffThread(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return thread.verify(publicKey, data, signature);
}

/** The DER ECDSA-SHA256 signature of `data` by `privateKey` (S as the signer chose it), made off the main thread. */
export function signOffThread(privateKey: KeyObject, data: Uint8Array): Promise<Uint8Array> {
    return thread.sign(privateKey, data);
}
