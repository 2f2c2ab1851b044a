// SPDX-License-Identifier: Apache-2.0
/**
 * What handing work to another thread costs on this machine, next to doing it in line: ECDSA P-256 verifications of
 * a 3,000-byte message in line, on libuv's thread pool (node:crypto's callback form) with 1, 8 and 100 in flight, and
 * on the devnet's signature thread in batches of 1, 8, 30 and 100; then a first touch of fresh memory pages (a minor
 * page fault each), a system call made from JavaScript and a signature made in line. CPU is the whole process's
 * (`process.cpuUsage`), so it counts the other threads' share too. Last, what `postMessage` of a chaincode-sized
 * message costs its caller when the worker sleeps and when it is busy. `node -r ./scripts/register-ts.js scripts/bench-handover.ts`
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { SignatureThread } from '../network/devnet/src/signatureThread';

const ROUNDS = 3_000;
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const data = Buffer.alloc(3_000, 7);
const signature = sign('sha256', data, privateKey);

function cpuMicros(since: NodeJS.CpuUsage): number {
    const used = process.cpuUsage(since);
    return used.user + used.system;
}

function inLine(): void {
    const start = process.cpuUsage();
    for (let i = 0; i < ROUNDS; i++) {
        verify('sha256', data, publicKey, signature);
    }
    process.stdout.write(`| in line | ${(cpuMicros(start) / ROUNDS).toFixed(1)} | – |\n`);
}

/** CPU per ECDSA P-256 signature of the same message, made in line (as the devnet's signature thread makes its endorsements). */
function signInLine(): void {
    const start = process.cpuUsage();
    for (let i = 0; i < ROUNDS; i++) {
        sign('sha256', data, privateKey);
    }
    process.stdout.write(`an ECDSA P-256 signature in line: ${(cpuMicros(start) / ROUNDS).toFixed(1)} µs of CPU\n`);
}

async function onPool(inFlight: number): Promise<void> {
    const start = process.cpuUsage();
    let callerNanos = 0n;
    for (let round = 0; round < ROUNDS / inFlight; round++) {
        await new Promise<void>((resolve) => {
            let left = inFlight;
            const before = process.hrtime.bigint();
            for (let i = 0; i < inFlight; i++) {
                verify('sha256', data, publicKey, signature, () => {
                    if (--left === 0) {
                        resolve();
                    }
                });
            }
            callerNanos += process.hrtime.bigint() - before;
        });
    }
    process.stdout.write(`| thread pool, ${inFlight} in flight | ${(cpuMicros(start) / ROUNDS).toFixed(1)} | ${(Number(callerNanos) / ROUNDS / 1000).toFixed(1)} |\n`);
}

async function onSignatureThread(thread: SignatureThread, batch: number): Promise<void> {
    const start = process.cpuUsage();
    for (let round = 0; round < ROUNDS / batch; round++) {
        await Promise.all(Array.from({ length: batch }, () => thread.verify(publicKey, data, signature)));
    }
    process.stdout.write(`| signature thread, ${batch} at a time | ${(cpuMicros(start) / ROUNDS).toFixed(1)} | – |\n`);
}

function pageFaults(): void {
    const pages = 25_600;
    const memory = Buffer.allocUnsafeSlow(pages * 4096);
    const before = process.hrtime.bigint();
    for (let page = 0; page < pages; page++) {
        memory[page * 4096] = 1;
    }
    process.stdout.write(`first touch of a fresh page (minor page fault): ${(Number(process.hrtime.bigint() - before) / pages / 1000).toFixed(2)} µs\n`);
}

function systemCalls(): void {
    const getegid = process.getegid?.bind(process);
    if (getegid === undefined) {
        return;
    }
    const calls = 100_000;
    const before = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) {
        getegid();
    }
    process.stdout.write(`a system call from JavaScript (process.getegid): ${(Number(process.hrtime.bigint() - before) / calls / 1000).toFixed(2)} µs\n`);
}

/** The caller's time in `postMessage` of two small byte arrays (a chaincode batch's shape), to a sleeping and to a busy worker. */
async function posts(): Promise<void> {
    const worker = new Worker(`
        const { parentPort } = require('node:worker_threads');
        parentPort.on('message', (message) => {
            if (typeof message === 'number') {
                const until = Date.now() + message;
                while (Date.now() < until) {}
                parentPort.postMessage('busy');
            }
        });`, { eval: true });
    const frames = [new Uint8Array(300), new Uint8Array(200)];
    const timed = (): bigint => {
        const before = process.hrtime.bigint();
        worker.postMessage({ kind: 'messages', frames });
        return process.hrtime.bigint() - before;
    };
    await new Promise((resolve) => setTimeout(resolve, 200));
    let sleeping = 0n;
    const rounds = 300;
    for (let i = 0; i < rounds; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        sleeping += timed();
    }
    const spun = new Promise((resolve) => worker.once('message', resolve));
    worker.postMessage(2_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    let busy = 0n;
    const burst = 2_000;
    for (let i = 0; i < burst; i++) {
        busy += timed();
    }
    await spun;
    await worker.terminate();
    process.stdout.write(`postMessage of a chaincode-sized batch, the caller's time: to a sleeping worker ${(Number(sleeping) / rounds / 1000).toFixed(1)} µs, `
        + `to a busy one ${(Number(busy) / burst / 1000).toFixed(1)} µs\n`);
}

async function main(): Promise<void> {
    for (let i = 0; i < 2_000; i++) {
        verify('sha256', data, publicKey, signature);
    }
    process.stdout.write('| ECDSA P-256 verification | CPU per verification, all threads (µs) | caller\'s share (µs) |\n| --- | --- | --- |\n');
    inLine();
    for (const inFlight of [1, 8, 100]) {
        await onPool(inFlight);
    }
    const thread = new SignatureThread();
    await thread.verify(publicKey, data, signature);
    for (const batch of [1, 8, 30, 100]) {
        await onSignatureThread(thread, batch);
    }
    process.stdout.write('\n');
    pageFaults();
    systemCalls();
    signInLine();
    await posts();
}

void main();
