// SPDX-License-Identifier: Apache-2.0
/** The executor-side sandbox (SPEC §9): a pool of child processes running WASI preview1 command modules. */
export { SandboxPool } from './pool';
export { SandboxOptionError, MAX_WASM_PAGES } from './options';
export type { FailureKind, RunFailure, RunLimits, RunRequest, RunResult, RunSuccess, SandboxPoolOptions } from './pool';
export { admit } from './admission';
export type { AdmissionLimits, AdmittedModule, MemoryPolicy, Refusal } from './admission';
export { createWasi, Errno, seededRandomBytes, FIXED_CLOCK_NS, WASI_MODULE, WASI_PREVIEW1_FUNCTIONS } from './wasi';
export type { WasiConfig, WasiSession } from './wasi';
