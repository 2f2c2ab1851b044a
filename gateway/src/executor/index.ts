// SPDX-License-Identifier: Apache-2.0
export * from './executor';
export * from './programs';
export * from './filingWaker';
export * from './jobFollower';
export * from './workLoop';
export * from './replica';
export * from './replicaJournal';
