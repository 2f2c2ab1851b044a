// SPDX-License-Identifier: Apache-2.0
/** Messages between the SandboxPool (parent) and its child processes, over the IPC channel. */

/** Parent → child: run a module. `bytes` is sent the first time a child sees `hash`. */
export interface RunMessage {
    readonly type: 'run';
    readonly id: number;
    readonly hash: string;
    readonly bytes?: Uint8Array;
    readonly argv: readonly string[];
    readonly stdin: Uint8Array;
    readonly seed: string | Uint8Array;
    readonly maxStdout: number;
    readonly maxStderr: number;
    /** Memory cap in pages, for classifying a failure as `memory`. */
    readonly memoryPages: number;
}

/** Outcome kinds a child can report (timeouts and crashes are decided by the parent). */
export type ChildOutcome = 'exit' | 'trap' | 'memory' | 'output-limit' | 'rejected';

/** Child → parent. */
export type ChildMessage =
    | { readonly type: 'ready' }
    | { readonly type: 'need-module'; readonly id: number }
    | {
          readonly type: 'result';
          readonly id: number;
          readonly outcome: ChildOutcome;
          readonly exitCode: number;
          readonly stdout: Uint8Array;
          readonly stderr: Uint8Array;
          readonly detail: string;
          /** Time spent in the child from receiving the message to replying, in ms. */
          readonly childMs: number;
      };
