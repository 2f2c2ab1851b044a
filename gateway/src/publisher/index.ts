// SPDX-License-Identifier: Apache-2.0
export * from './decompose';
export * from './publisher';
export * from './contentServer';
export * from './verifyPolicy';
export * from './publish';
