// SPDX-License-Identifier: Apache-2.0
import type { Network } from '@hyperledger/fabric-gateway';

/**
 * Wakes ranks waiting for a sibling's filing when the ledger says something was filed in their
 * job (MergeFiled, JobCompleted, JobCancelled, JobExpired and RankReassigned chaincode events),
 * so waiting does not mean polling hard. Delivery is at-least-once and a wake-up only means "look
 * again": correctness never depends on it, and waiters also wake after a fallback interval.
 */
export class FilingWaker {
    readonly #waiters = new Map<string, Set<() => void>>();
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
                    waker.notify(jobOf(event.payload));
                }
            } catch {
                // The stream ended (closed, or the network went away): waiters fall back to their interval.
            }
        })();
        return waker;
    }

    /** Resolves at the next event of `jobId`, or after `fallbackMs`. */
    next(jobId: string, fallbackMs: number): Promise<void> {
        return new Promise((resolve) => {
            const waiters = this.#waiters.get(jobId) ?? new Set<() => void>();
            this.#waiters.set(jobId, waiters);
            const wake = (): void => {
                clearTimeout(timer);
                waiters.delete(wake);
                resolve();
            };
            const timer = setTimeout(wake, fallbackMs);
            waiters.add(wake);
        });
    }

    /** Wakes every waiter of `jobId` (undefined: of every job). */
    notify(jobId: string | undefined): void {
        const targets = jobId === undefined ? [...this.#waiters.values()] : [this.#waiters.get(jobId) ?? new Set<() => void>()];
        for (const waiters of targets) {
            for (const wake of [...waiters]) {
                wake();
            }
        }
    }

    close(): void {
        this.#close?.();
        this.notify(undefined);
    }
}

function jobOf(payload: Uint8Array): string | undefined {
    try {
        const parsed = JSON.parse(Buffer.from(payload).toString('utf8')) as { jobId?: unknown };
        return typeof parsed.jobId === 'string' ? parsed.jobId : undefined;
    } catch {
        return undefined;
    }
}
