// SPDX-License-Identifier: Apache-2.0
import type { Contract } from 'fabric-contract-api';
import { CreditContract } from './contracts/creditContract';
import { ExecutorContract } from './contracts/executorContract';
import { JobContract } from './contracts/jobContract';
import { ProgramContract } from './contracts/programContract';
import { QueryContract } from './contracts/queryContract';
import { RankContract } from './contracts/rankContract';
import { TaskContract } from './contracts/taskContract';

export { CreditContract, ExecutorContract, JobContract, ProgramContract, QueryContract, RankContract, TaskContract };

/**
 * The contracts fabric-chaincode-node starts. Transactions are called as `<contract>:<Name>`, e.g.
 * `tasks:Submit`; the first contract (queries) also answers unprefixed names.
 */
export const contracts: (typeof Contract)[] = [QueryContract, ExecutorContract, JobContract, TaskContract, RankContract, CreditContract, ProgramContract];
