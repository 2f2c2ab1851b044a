// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Binding, SignatureMode } from '@ledgerwork/core';
import { readBundleKey, signMergeOutput, signTaskOutput } from '../bundle';
import type { OutputSignatures } from '../bundle';
import { toWire } from '../executor/executor';
import type { ResultSource } from '../executor/executor';

/**
 * The adversary that a signature-only job cannot catch (README, threat model): an executor that
 * takes the task key out of the bundle it downloaded — the same `ledgerwork.key` section the honest
 * runtime reads — never runs the program, and signs a result of its choosing. Every signature it
 * makes is valid for the task, the input and the forged result, so the chaincode's §5 check
 * accepts it; only replication across organizations (quorum, credibility) turns it down.
 *
 * It exists to prove that claim: the end-to-end adversary suites and `npm start` run it against
 * replicated jobs. Nothing in an honest executor uses it.
 */

/** Chooses the forged bytes for a task (or a merge slot). The default is a plausible, wrong count. */
export type ForgeValue = (subject: string) => Buffer;

/** A forged result with signatures the §5 check accepts. */
export interface Forgery {
    readonly result: Buffer;
    readonly signatures: OutputSignatures;
}

export interface ForgerOptions {
    readonly binding: Binding;
    /**
     * The forged bytes per subject (task id, or `<jobId>/<y>/<x>` for a merge slot). Deterministic by
     * default, so colluding forgers that share this function agree on every forged value.
     */
    readonly forge?: ForgeValue;
}

/** What forging a task result needs besides the bundle. */
export interface TaskToForge {
    readonly taskId: string;
    /** The published input exactly as the honest runtime would read it (its hash is signed). */
    readonly input: Uint8Array;
    readonly mode: SignatureMode;
}

/** What forging a merge needs besides the merge bundle. */
export interface MergeToForge {
    readonly jobId: string;
    readonly y: number;
    readonly x: number;
    readonly leftResultHash: Uint8Array;
    readonly rightResultHash: Uint8Array;
    readonly mode: SignatureMode;
}

export class KeyExtractingForger {
    readonly #binding: Binding;
    readonly #forge: ForgeValue;
    #forgeries = 0;

    constructor(options: ForgerOptions) {
        this.#binding = options.binding;
        this.#forge = options.forge ?? plausibleCount;
    }

    /** How many results this forger has produced. */
    get forgeries(): number {
        return this.#forgeries;
    }

    /**
     * The private key inside a bundle. Nothing stops a holder of the bundle from reading it: the
     * section is plain PKCS#8 DER.
     * @throws {BundleError} when the bundle carries no valid key
     */
    extractKey(bundle: Uint8Array): KeyObject {
        return readBundleKey(bundle);
    }

    /** A forged task result, correctly signed with the key taken from the bundle; the program never runs. */
    forgeTask(bundle: Uint8Array, task: TaskToForge): Forgery {
        const result = this.#forge(task.taskId);
        const signatures = signTaskOutput(this.extractKey(bundle), { binding: this.#binding, taskId: task.taskId, input: task.input, result, mode: task.mode });
        this.#forgeries++;
        return { result, signatures };
    }

    /** A forged merge of two children, correctly signed with the key taken from the merge bundle. */
    forgeMerge(mergeBundle: Uint8Array, merge: MergeToForge): Forgery {
        const result = this.#forge(`${merge.jobId}/${merge.y}/${merge.x}`);
        const signatures = signMergeOutput(this.extractKey(mergeBundle), { binding: this.#binding, ...merge, result });
        this.#forgeries++;
        return { result, signatures };
    }
}

/**
 * A decimal count followed by a newline — the shape of the example programs' output — derived from
 * the subject, so it looks like an answer, differs from task to task, and is the same for every
 * forger using the default.
 */
export function plausibleCount(subject: string): Buffer {
    const n = createHash('sha256').update(`forged:${subject}`).digest().readUInt32BE(0) % 1_000_000;
    return Buffer.from(`${n}\n`);
}

/**
 * The forger as an executor's result source (ExecutorOptions.source): the executor claims, fetches
 * and checks the bundle and input as usual, then files the forgery instead of running the program.
 */
export function forgingSource(forger: KeyExtractingForger): ResultSource {
    return (task, bundle, input) => {
        const forged = forger.forgeTask(bundle, { taskId: task.id, input, mode: task.mode });
        return Promise.resolve({ result: forged.result, signatures: toWire(forged.signatures) });
    };
}
