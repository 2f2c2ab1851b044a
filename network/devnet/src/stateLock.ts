// SPDX-License-Identifier: Apache-2.0
/**
 * The peer's commit lock (txmgr `commitRWLock`): block commits hold it exclusively; a simulation either holds it
 * shared for its whole duration or runs {@link StateLock.optimistic}ally, without it, and is kept only if no commit
 * that overlapped it wrote what it read. Either way a simulation's outcome rests on one consistent committed state. A
 * waiting commit blocks new shared holders (writer preference).
 */

/** What a commit writes to committed state, as optimistic readers check their reads against it. */
export interface StateChange {
    /** Whether the commit writes `key` of `namespace` (its value or its metadata). */
    wrote(namespace: string, key: string): boolean;
    /** Whether the commit writes a key of `namespace` in [startKey, endKey) ('' = unbounded). */
    wroteWithin(namespace: string, startKey: string, endKey: string): boolean;
}

/** The committed state a body read in one namespace: keys read one by one and ranges scanned ('' end = unbounded). */
export interface ReadFootprint {
    readonly namespace: string;
    readonly keys: ReadonlySet<string>;
    readonly ranges: readonly (readonly [startKey: string, endKey: string])[];
}

/** How many recent commits' changes are kept for optimistic readers; a reader overlapping more is run again. */
const KEPT_CHANGES = 256;

export class StateLock {
    private readers = 0;
    private writing = false;
    /** Commits granted so far; commit `n` (0-based) wrote `changes.get(n)`, or anything when undefined. */
    private granted = 0;
    private readonly changes = new Map<number, StateChange | undefined>();
    private rerun = 0;
    private readonly waiters: { readonly exclusive: boolean; readonly grant: () => void }[] = [];

    /** Runs `body` holding the lock shared. */
    public async shared<T>(body: () => Promise<T>): Promise<T> {
        await this.acquire(false);
        try {
            return await body();
        } finally {
            this.readers--;
            this.pump();
        }
    }

    /**
     * Runs `body`, whose only effect is reading committed state, without holding the lock. If no commit held the lock
     * meanwhile, or those that did wrote none of the keys and ranges `footprints` lists for its result, it settles as
     * the body did; otherwise (or if a commit holds or awaits the lock now) the body runs again holding the lock
     * shared. `footprints` returns undefined when the reads cannot be listed (history, private data): any overlapping
     * commit then runs the body again, as does a body that failed. Commits wait only for bodies run again, never for
     * every simulation under way.
     */
    public async optimistic<T>(body: () => Promise<T>, footprints: (value: T) => readonly ReadFootprint[] | undefined): Promise<T> {
        if (this.writing || this.waiters.some((waiter) => waiter.exclusive)) {
            return this.shared(body);
        }
        const first = this.granted;
        let outcome: { readonly value: T } | { readonly error: unknown };
        try {
            outcome = { value: await body() };
        } catch (error) {
            outcome = { error };
        }
        if (this.granted === first) {
            if ('error' in outcome) {
                throw outcome.error;
            }
            return outcome.value;
        }
        if ('value' in outcome && !this.overlapped(first, footprints(outcome.value))) {
            return outcome.value;
        }
        this.rerun++;
        return this.shared(body);
    }

    /** Optimistic bodies run again under the lock because a commit overlapped them (for tests and benchmarks). */
    public get rerunCount(): number {
        return this.rerun;
    }

    /** Runs `body` holding the lock exclusively, for a commit that writes `change` (default: anything). */
    public async exclusive<T>(body: () => T | Promise<T>, change?: StateChange): Promise<T> {
        await this.acquire(true);
        this.changes.set(this.granted, change);
        this.changes.delete(this.granted - KEPT_CHANGES);
        this.granted++;
        try {
            return await body();
        } finally {
            this.writing = false;
            this.pump();
        }
    }

    /** Whether a commit granted since commit number `first` wrote what `footprints` lists. */
    private overlapped(first: number, footprints: readonly ReadFootprint[] | undefined): boolean {
        if (footprints === undefined || first < this.granted - KEPT_CHANGES) {
            return true;
        }
        for (let n = first; n < this.granted; n++) {
            const change = this.changes.get(n);
            if (change === undefined) {
                return true;
            }
            for (const { namespace, keys, ranges } of footprints) {
                for (const key of keys) {
                    if (change.wrote(namespace, key)) {
                        return true;
                    }
                }
                if (ranges.some(([startKey, endKey]) => change.wroteWithin(namespace, startKey, endKey))) {
                    return true;
                }
            }
        }
        return false;
    }

    private acquire(exclusive: boolean): Promise<void> {
        return new Promise((resolve) => {
            this.waiters.push({ exclusive, grant: resolve });
            this.pump();
        });
    }

    private pump(): void {
        for (;;) {
            const next = this.waiters[0];
            if (next === undefined || this.writing) {
                return;
            }
            if (next.exclusive) {
                if (this.readers > 0) {
                    return;
                }
                this.writing = true;
            } else {
                this.readers++;
            }
            this.waiters.shift();
            next.grant();
        }
    }
}
