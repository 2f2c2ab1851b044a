// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { commitmentOf, sha256 } from '@ledgerwork/core';
import type { Binding, TaskRecord } from '@ledgerwork/core';
import { ChaincodeError } from '../client/errors';
import type { LedgerworkClient, Replica } from '../client/ledgerworkClient';
import type { ReplicaJournal, SealedReplica } from './replicaJournal';

/** The ledger operations of the replica protocol (LedgerworkClient provides them). */
export type ReplicaLedger = Pick<LedgerworkClient, 'commitReplica' | 'revealReplica' | 'getReplication'>;

/** Where a replica stands in the protocol; `onStep` sees each one as it is reached (tests stop a process there). */
export type ReplicaStep = 'sealed' | 'committed' | 'revealed';

export interface ReplicaProtocolOptions {
    readonly executorId: string;
    readonly ledger: ReplicaLedger;
    readonly binding: Binding;
    readonly journal: ReplicaJournal;
    /** Wakes a waiting replica on its job's chaincode events; polling every `pollMs` remains the fallback. */
    readonly waker?: { next(jobId: string, fallbackMs: number): Promise<void> };
    readonly pollMs?: number;
    /** Stops waiting: the sealed replica stays in the journal and `resume` reveals it later. */
    readonly signal?: AbortSignal;
    readonly onStep?: (step: ReplicaStep, taskId: string) => void | Promise<void>;
}

/** A computed, signed result (what an honest run or a forger produces). */
export interface SignedResult {
    readonly result: Buffer;
    readonly signatures: object;
}

/** What became of one replica. */
export type ReplicaOutcome =
    /** Revealed; `settlement` says whether the reveal settled the task or it waits for more replicas. */
    | { readonly kind: 'revealed'; readonly taskId: string; readonly settlement: 'open' | 'accepted' | 'failed' }
    /** The replica ended before it could reveal (superseded, abandoned, released, or the task ended). */
    | { readonly kind: 'closed'; readonly taskId: string; readonly detail: string }
    | { readonly kind: 'rejected'; readonly code: string; readonly detail: string }
    | { readonly kind: 'stopped'; readonly detail: string };

/** Salt bytes per commitment (the chaincode accepts 16 to 64). */
const SALT_BYTES = 32;

/**
 * The executor's side of commit–reveal. A replica's result is sealed — result, salt, signatures and
 * the commitment over them written and fsynced to the journal — before the commitment is sent; then
 * it waits until the task's reveal window opens for it (every replica the task needs has committed,
 * or its own commit window has passed), woken by the job's chaincode events and polling as the
 * fallback, and reveals. A replica found sealed in the journal (after a crash or a stop) is carried
 * on from where the ledger says it stands, never computed or committed twice.
 */
export class ReplicaProtocol {
    readonly #options: ReplicaProtocolOptions;

    constructor(options: ReplicaProtocolOptions) {
        this.#options = options;
    }

    /**
     * Completes a replica slot the executor holds: computes (unless a sealed result exists), seals,
     * commits, waits, reveals. `compute` returns a signed result, or an outcome when no result could
     * be produced (it has reported the failure itself).
     */
    async complete<O extends { readonly kind: string }>(task: TaskRecord, compute: () => Promise<SignedResult | O>): Promise<ReplicaOutcome | O> {
        const { executorId, journal } = this.#options;
        let sealed = journal.find(executorId, task.id);
        if (sealed === undefined) {
            const computed = await compute();
            if (!('result' in computed)) {
                return computed;
            }
            sealed = this.#seal(task, computed);
            await this.#options.onStep?.('sealed', task.id);
        }
        return this.#commitAndReveal(sealed);
    }

    /** Carries every replica sealed in the journal for this executor to its end (at start, after a crash). */
    async resume(): Promise<ReplicaOutcome[]> {
        const outcomes: ReplicaOutcome[] = [];
        for (const sealed of this.#options.journal.pending([this.#options.executorId])) {
            outcomes.push(await this.#commitAndReveal(sealed));
        }
        return outcomes;
    }

    #seal(task: TaskRecord, computed: SignedResult): SealedReplica {
        const salt = randomBytes(SALT_BYTES);
        const commitment = commitmentOf(this.#options.binding, task.id, this.#options.executorId, sha256(computed.result), salt).toString('hex');
        const sealed: SealedReplica = {
            taskId: task.id,
            jobId: task.jobId,
            executorId: this.#options.executorId,
            result: computed.result.toString('base64'),
            salt: salt.toString('base64'),
            signatures: computed.signatures,
            commitment,
            sealedAt: Date.now(),
        };
        this.#options.journal.seal(sealed);
        return sealed;
    }

    async #commitAndReveal(sealed: SealedReplica): Promise<ReplicaOutcome> {
        const { executorId, ledger } = this.#options;
        let mine = await this.#replica(sealed);
        if (mine?.state === 'claimed') {
            try {
                mine = await ledger.commitReplica(sealed.taskId, executorId, sealed.commitment);
            } catch (err) {
                // INVALID_STATE: a retry after an ambiguous commit found it done; anything else ends the slot below.
                if (!(err instanceof ChaincodeError)) {
                    throw err;
                }
                mine = await this.#replica(sealed);
            }
        }
        if (mine?.state === 'committed' && mine.commitment === sealed.commitment) {
            await this.#options.onStep?.('committed', sealed.taskId);
            return this.#waitAndReveal(sealed);
        }
        return this.#close(sealed, mine === undefined ? 'the replica slot is gone (released or never taken)' : `the replica is ${mine.state}${mine.reason === undefined ? '' : `: ${mine.reason}`}`);
    }

    async #waitAndReveal(sealed: SealedReplica): Promise<ReplicaOutcome> {
        const { executorId, ledger } = this.#options;
        const pollMs = this.#options.pollMs ?? 500;
        for (;;) {
            if (this.#options.signal?.aborted === true) {
                return { kind: 'stopped', detail: `stopped before revealing ${sealed.taskId}; the sealed result is kept for a restart` };
            }
            const view = await ledger.getReplication(sealed.taskId);
            const mine = view.replicas.find((r) => r.executorId === executorId);
            if (mine?.state !== 'committed') {
                return this.#close(sealed, mine === undefined ? 'the replica slot is gone' : `the replica is ${mine.state}${mine.reason === undefined ? '' : `: ${mine.reason}`}`);
            }
            if (mine.revealOpen) {
                const outcome = await this.#reveal(sealed);
                if (outcome !== undefined) {
                    return outcome;
                }
            }
            // Until the others commit — or this replica's commit window ends, which opens its reveal anyway.
            const untilOwnWindow = Math.max(50, mine.commitBy - Date.now());
            const waitMs = Math.min(pollMs, untilOwnWindow);
            await (this.#options.waker === undefined ? sleep(waitMs) : this.#options.waker.next(sealed.jobId, waitMs));
        }
    }

    /** Reveals; undefined when the window closed again in between (another look is needed). */
    async #reveal(sealed: SealedReplica): Promise<ReplicaOutcome | undefined> {
        try {
            const revealed = await this.#options.ledger.revealReplica(sealed.taskId, this.#options.executorId, { result: sealed.result, salt: sealed.salt, signatures: sealed.signatures });
            this.#options.journal.remove(this.#options.executorId, sealed.taskId);
            await this.#options.onStep?.('revealed', sealed.taskId);
            return { kind: 'revealed', taskId: sealed.taskId, settlement: revealed.outcome === 'revealed' ? 'open' : revealed.outcome };
        } catch (err) {
            if (!(err instanceof ChaincodeError)) {
                throw err;
            }
            if (err.committed) {
                this.#options.journal.remove(this.#options.executorId, sealed.taskId);
                return { kind: 'rejected', code: err.code, detail: err.detail };
            }
            if (err.code === 'REVEAL_NOT_OPEN') {
                return undefined;
            }
            // The task or replica moved on (settled, abandoned): the next look says how.
            const mine = await this.#replica(sealed);
            return mine?.state === 'committed' ? undefined : this.#close(sealed, `${err.code}: ${err.detail}`);
        }
    }

    async #replica(sealed: SealedReplica): Promise<Replica | undefined> {
        try {
            return (await this.#options.ledger.getReplication(sealed.taskId)).replicas.find((r) => r.executorId === this.#options.executorId);
        } catch (err) {
            if (err instanceof ChaincodeError && err.code === 'NOT_FOUND') {
                return undefined;
            }
            throw err;
        }
    }

    #close(sealed: SealedReplica, detail: string): ReplicaOutcome {
        this.#options.journal.remove(this.#options.executorId, sealed.taskId);
        return { kind: 'closed', taskId: sealed.taskId, detail };
    }
}
