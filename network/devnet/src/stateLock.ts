// SPDX-License-Identifier: Apache-2.0
/**
 * The peer's commit lock (txmgr `commitRWLock`): block commits hold it exclusively; a simulation either holds it
 * shared for its whole duration or runs {@link StateLock.optimistic}ally, without it, and is kept only if no commit
 * overlapped it. Either way a simulation's outcome rests on one consistent committed state. A waiting commit blocks new
 * shared holders (writer preference).
 */
export class StateLock {
    private readers = 0;
    private writing = false;
    /** Commits begun and ended: odd while a commit holds the lock, so an unchanged even value means none overlapped. */
    private commits = 0;
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
     * Runs `body`, whose only effect is reading committed state, without holding the lock, and settles as it did if no
     * commit held the lock meanwhile; otherwise (or if a commit holds or awaits the lock now) runs it again holding the
     * lock shared. Commits then wait only for the few bodies run again, not for every simulation under way.
     */
    public async optimistic<T>(body: () => Promise<T>): Promise<T> {
        const before = this.commits;
        if (!this.writing && !this.waiters.some((waiter) => waiter.exclusive)) {
            let outcome: { readonly value: T } | { readonly error: unknown };
            try {
                outcome = { value: await body() };
            } catch (error) {
                outcome = { error };
            }
            if (this.commits === before) {
                if ('error' in outcome) {
                    throw outcome.error;
                }
                return outcome.value;
            }
            this.rerun++;
        }
        return this.shared(body);
    }

    /** Optimistic bodies run again under the lock because a commit overlapped them (for tests and benchmarks). */
    public get rerunCount(): number {
        return this.rerun;
    }

    /** Runs `body` holding the lock exclusively. */
    public async exclusive<T>(body: () => T | Promise<T>): Promise<T> {
        await this.acquire(true);
        this.commits++;
        try {
            return await body();
        } finally {
            this.commits++;
            this.writing = false;
            this.pump();
        }
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
