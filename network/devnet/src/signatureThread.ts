// SPDX-License-Identifier: Apache-2.0
/**
 * ECDSA verifications and signatures off the main thread, in batches. libuv's thread pool takes one job per call,
 * and waking a pool thread for each costs the caller more than a tenth of the verification itself (on the virtual
 * machines this devnet is measured on, more than a quarter), and the pool threads as much again. Here every call
 * made in one turn of the event loop goes to one worker thread in one message, and comes back in one.
 *
 * If the worker cannot start or dies, what it was given and everything after goes to the thread pool instead: a
 * signature is never judged invalid because a thread failed.
 */
import { sign as signDigest, verify as verifySignature, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';

type Job =
    | { readonly kind: 'verify'; readonly key: KeyObject; readonly data: Uint8Array; readonly signature: Uint8Array; readonly done: (valid: boolean) => void }
    | { readonly kind: 'sign'; readonly key: KeyObject; readonly data: Uint8Array; readonly done: (error: Error | null, signature?: Uint8Array) => void };

/** One job as posted: 0 = verify, 1 = sign; the key's number; the data; the signature (verify only). */
type PostedJob = readonly [number, number, Uint8Array, Uint8Array | undefined];

/** What the worker posts back: per job, 1 / 0 for a verification, the DER signature or an error text for a signing. */
type Reply = { readonly batch: number; readonly results: readonly (number | Uint8Array | string)[] };

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
    const results = message.jobs.map(([kind, keyId, data, signature]) => {
        const key = keys.get(keyId);
        try {
            return kind === 0 ? (verify('sha256', data, key, signature) ? 1 : 0) : sign('sha256', data, key);
        } catch (error) {
            return kind === 0 ? 0 : String(error && error.message);
        }
    });
    parentPort.postMessage({ batch: message.batch, results });
});
`;

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

class SignatureThread {
    private worker: Worker | undefined;
    private failed = false;
    private readonly keyIds = new WeakMap<KeyObject, number>();
    private nextKeyId = 0;
    private queued: Job[] = [];
    private flushScheduled = false;
    private readonly inFlight = new Map<number, Job[]>();
    private nextBatch = 0;

    public submit(job: Job): void {
        if (this.failed) {
            onThreadPool(job);
            return;
        }
        this.queued.push(job);
        if (!this.flushScheduled) {
            this.flushScheduled = true;
            setImmediate(() => { this.flush(); });
        }
    }

    private flush(): void {
        this.flushScheduled = false;
        const jobs = this.queued;
        this.queued = [];
        const worker = this.started();
        if (worker === undefined) {
            jobs.forEach(onThreadPool);
            return;
        }
        // A view is copied out of the buffer it lies in (posting it would copy that whole buffer) and the copy moved.
        const moved: ArrayBuffer[] = [];
        const own = (bytes: Uint8Array): Uint8Array => {
            const copy = new Uint8Array(bytes);
            moved.push(copy.buffer);
            return copy;
        };
        const posted: PostedJob[] = jobs.map((job) => [job.kind === 'verify' ? 0 : 1, this.keyId(worker, job.key), own(job.data), job.kind === 'verify' ? own(job.signature) : undefined]);
        const batch = this.nextBatch++;
        this.inFlight.set(batch, jobs);
        if (this.inFlight.size === 1) {
            worker.ref();
        }
        worker.postMessage({ batch, jobs: posted }, moved);
    }

    private started(): Worker | undefined {
        if (this.worker !== undefined || this.failed) {
            return this.worker;
        }
        try {
            const worker = new Worker(WORKER_SOURCE, { eval: true });
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

    private keyId(worker: Worker, key: KeyObject): number {
        let id = this.keyIds.get(key);
        if (id === undefined) {
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
        jobs.forEach((job, i) => {
            const result = reply.results[i];
            if (job.kind === 'verify') {
                job.done(result === 1);
            } else if (result instanceof Uint8Array) {
                job.done(null, result);
            } else {
                job.done(new Error(typeof result === 'string' ? result : 'the signature thread returned no signature'));
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
    return new Promise((resolve) => {
        thread.submit({ kind: 'verify', key: publicKey, data, signature, done: resolve });
    });
}

/** The DER ECDSA-SHA256 signature of `data` by `privateKey` (S as the signer chose it), made off the main thread. */
export function signOffThread(privateKey: KeyObject, data: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
        thread.submit({
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
