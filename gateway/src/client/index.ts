// SPDX-License-Identifier: Apache-2.0
export * from './codes';
export * from './errors';
export * from './settings';
export * from './signer';
export * from './connection';
export * from './ledgerworkClient';
export * from './sweep';
