// SPDX-License-Identifier: Apache-2.0
/**
 * `@ledgerwork/gateway`: what an organization's application uses to take part in ledgerwork.
 *
 * - client: connect to a peer's Gateway service (fabric-gateway) and call the chaincode with typed
 *   replies and typed errors;
 * - publisher: split a job into tasks, make their keys and bundles, publish, serve the programs and
 *   inputs, wait for the result;
 * - executor: claim or take ranked tasks, fetch and check programs, run them in the sandbox, sign
 *   and submit, merge;
 * - sandbox: the WASI preview1 runner (admission, JavaScript WASI layer, pool of killable children);
 * - bundle: program bundles carrying the task key, and the signing of task and merge outputs.
 *
 * The CLI (`ledgerwork`) is a thin shell over these; it is not part of the library's API.
 */
export * from './client';
export * from './publisher';
export * from './executor';
export * from './sandbox';
export * from './bundle';
