// SPDX-License-Identifier: Apache-2.0
import type { Network } from '@hyperledger/fabric-gateway';

/**
 * Wakes ranks waiting for a sibling's filing when the ledger says something was filed in their
 * job (MergeFiled, JobCompleted, JobCancelled, JobExpired and RankReassigned chaincode events),
 * so waiting does not mean polling hard. Delivery is at-least-once and a wake-up only means "look
 * again": correctness never depends on it, and waiters also wake after a fallback interval.
 */
export class FilingWaker {
    readonly #waiters = new Map<string, Set<Waiter>>();
    #close: (() => void) | undefined;

    /** Follows the chaincode's events from the next block on; call `close` to stop. */
    static async follow(network: Network, chaincodeName: string): Promise<FilingWaker> {
        const waker = new FilingWaker();
        const events = await network.getChaincodeEvents(chaincodeName);
        waker.#close = () => {
            events.close();
        };
        void (async () => {
            try {
                for await (const event of events) {
                    waker.notifyEvent(event.payload);
                }
            } catch {
                // The stream ended (closed, or the network went away): waiters fall back to their interval.
            }
        })();
        return waker;
    }

    /**
     * Resolves at the next event of `jobId` — when `awaiting` is given, at the next one that files
     * that number or does not say what it filed (a reassignment, the job ending) — or after `fallbackMs`.
     * A job of 1,024 ranks then wakes one waiter per filing, not every waiting rank.
     */
    next(jobId: string, fallbackMs: number, awaiting?: FiledNumber): Promise<void> {
        return new Promise((resolve) => {
            const waiters = this.#waiters.get(jobId) ?? new Set<Waiter>();
            this.#waiters.set(jobId, waiters);
            const waiter: Waiter = {
                ...(awaiting === undefined ? {} : { awaiting }),
                wake: () => {
                    clearTimeout(timer);
                    waiters.delete(waiter);
                    if (waiters.size === 0 && this.#waiters.get(jobId) === waiters) {
                        this.#waiters.delete(jobId);
                    }
                    resolve();
                },
            };
            const timer = setTimeout(waiter.wake, fallbackMs);
            waiters.add(waiter);
        });
    }

    /**
     * Wakes the waiters of `jobId` (undefined: of every job). With `filed`, only those waiting for
     * one of those numbers or for no number in particular.
     */
    notify(jobId: string | undefined, filed?: readonly FiledNumber[]): void {
        const targets = jobId === undefined ? [...this.#waiters.values()] : [this.#waiters.get(jobId) ?? new Set<Waiter>()];
        for (const waiters of targets) {
            for (const waiter of [...waiters]) {
                const awaiting = waiter.awaiting;
                if (filed === undefined || awaiting === undefined || filed.some((n) => n.y === awaiting.y && n.x === awaiting.x)) {
                    waiter.wake();
                }
            }
        }
    }

    /** Wakes the waiters an event payload concerns: its job, and the numbers it lists as `filed`. */
    notifyEvent(payload: Uint8Array): void {
        const { jobId, filed } = eventFacts(payload);
        this.notify(jobId, filed);
    }

    close(): void {
        this.#close?.();
        this.notify(undefined);
    }
}

/** A task number (y, x) of a ranked job. */
export interface FiledNumber {
    readonly y: number;
    readonly x: number;
}

interface Waiter {
    readonly awaiting?: FiledNumber;
    readonly wake: () => void;
}

/** The job an event names and the numbers it filed (MergeFiled, JobCompleted, ResultRejected carry `filed`). */
function eventFacts(payload: Uint8Array): { jobId: string | undefined; filed: FiledNumber[] | undefined } {
    try {
        const parsed = JSON.parse(Buffer.from(payload).toString('utf8')) as { jobId?: unknown; filed?: unknown };
        const jobId = typeof parsed.jobId === 'string' ? parsed.jobId : undefined;
        const filed = Array.isArray(parsed.filed) ? parsed.filed.filter(isNumber) : undefined;
        return { jobId, filed };
    } catch {
        return { jobId: undefined, filed: undefined };
    }
}

function isNumber(value: unknown): value is FiledNumber {
    return typeof value === 'object' && value !== null && typeof (value as { y?: unknown }).y === 'number' && typeof (value as { x?: unknown }).x === 'number';
}
