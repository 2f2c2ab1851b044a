// SPDX-License-Identifier: Apache-2.0
// The pure core, shared by the chaincode and the gateway: no Fabric imports, no I/O.
export * from './errors';
export * from './canonicalJson';
export * from './ids';
export * from './fields';
export * from './model';
export * from './specs';
export * from './rules';
export * from './events';
export * from './identity';
export * from './signature';
export * from './mergeTree';
export * from './nodeSelection';
export * from './replication';
export * from './filing';
export * from './jobRecord';
export * from './escrow';
export * from './programs';
// The deterministic runtime of programs on the ledger, so executors compute re-executed merges exactly as endorsers check them.
export { compileProgram, runProgram } from '../wasm/runtime';
export type { CompiledProgram, Run, RunOutcome } from '../wasm/runtime';
