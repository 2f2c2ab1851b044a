// SPDX-License-Identifier: Apache-2.0
/**
 * The codes the gateway and the CLI give to failures that do not carry a chaincode code (those are
 * the core's `ErrorCode`s). docs/errors.md lists both catalogues; the CLI prints these as
 * `error CODE: message` and in `--json` errors.
 */
export const GatewayCode = {
    /** The chaincode runtime (fabric-contract-api) refused the call before ledgerwork code ran: unknown contract, wrong argument count. */
    RUNTIME: 'RUNTIME',
    /** The command line is wrong: unknown command or flag, missing or malformed argument. */
    USAGE: 'USAGE',
    /** The job's input cannot be split into tasks as asked (range, files, JSON lines). */
    INVALID_INPUT: 'INVALID_INPUT',
    /** The content store (--store DIR) cannot be created or written, or a file in it was changed by something else. */
    STORE: 'STORE',
    /** The connection settings, identity files or a program file cannot be used. */
    CONFIG: 'CONFIG',
    /** The peer cannot be reached, or refused the connection. Nothing was submitted. */
    UNAVAILABLE: 'UNAVAILABLE',
    /** A submitted transaction's outcome is unknown (the deadline passed after it was sent): look before retrying. */
    OUTCOME_UNKNOWN: 'OUTCOME_UNKNOWN',
    /** A job the command waited for failed. */
    JOB_FAILED: 'JOB_FAILED',
    /** A job the command waited for was cancelled by its publisher. */
    JOB_CANCELLED: 'JOB_CANCELLED',
    /** A job the command waited for passed its deadline. */
    JOB_EXPIRED: 'JOB_EXPIRED',
    /** An open job ended with failed tasks. */
    TASKS_FAILED: 'TASKS_FAILED',
    /** A ranked job's target holds ZERO: no task produced a value. */
    NO_RESULT: 'NO_RESULT',
    /** The job has no result yet (`--wait` waits for it). */
    NOT_FINISHED: 'NOT_FINISHED',
    /** The command was stopped by a signal; the job itself goes on. */
    INTERRUPTED: 'INTERRUPTED',
    /** An unexpected failure in the gateway or the CLI — a bug. */
    INTERNAL: 'INTERNAL',
} as const;

export type GatewayCode = (typeof GatewayCode)[keyof typeof GatewayCode];
