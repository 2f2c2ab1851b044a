// SPDX-License-Identifier: Apache-2.0
/**
 * The peer's commit lock (txmgr `commitRWLock`): simulations hold it shared for their whole duration, block commits
 * hold it exclusively, so a simulation always sees one consistent committed state. A waiting commit blocks new
 * simulations (writer preference).
 */
export class StateLock {
    private readers = 0;
    private writing = false;
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

    /** Runs `body` holding the lock exclusively. */
    public async exclusive<T>(body: () => T | Promise<T>): Promise<T> {
        await this.acquire(true);
        try {
            return await body();
        } finally {
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
