// SPDX-License-Identifier: Apache-2.0
export * from './errors';
export * from './canonicalJson';
export * from './ids';
export * from './signature';
export * from './mergeTree';
export * from './nodeSelection';
