// SPDX-License-Identifier: Apache-2.0
/**
 * The ledgerwork chaincode package and its own fabric-shim runtime, for tests that run contract classes in the test
 * process. Importing this module first quiets fabric-shim's and fabric-contract-api's loggers (see
 * LEDGERWORK_SHIM_LOG_LEVEL) before any contract decorator logs.
 */
// fabric-contract-api's typings declare an ambient module, which the root tsconfig would otherwise only see
// through chaincode/src.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../chaincode/node_modules/fabric-contract-api/types/index.d.ts" />
import path from 'node:path';
import type * as ContractApi from 'fabric-contract-api';
import { ShimRuntime, type ShimLogLevel } from '../../network/devnet/src/shimRuntime';

/** The ledgerwork chaincode package folder (the one that deploys to a peer). */
export const CHAINCODE_DIR = path.resolve(__dirname, '../../chaincode');

const runtime = ShimRuntime.of(CHAINCODE_DIR);

/** fabric-contract-api as the chaincode package's fabric-shim loads it. */
export const contractApi = runtime.contractApi as unknown as typeof ContractApi;

/** Sets the log level of the chaincode package's fabric-shim and fabric-contract-api loggers. */
export function setShimLogLevel(level: ShimLogLevel): void {
    runtime.setLogLevel(level);
}
