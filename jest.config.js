'use strict';

/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: 'node',
    roots: ['<rootDir>/test', '<rootDir>/network/devnet/test'],
    testMatch: ['**/*.test.ts'],
    transform: {
        '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
    },
    moduleFileExtensions: ['ts', 'js', 'json'],
    // The packages of this repository run from their sources under test, as one module instance with the
    // tests' own imports of those sources (the root tsconfig's paths say the same to the type checker).
    moduleNameMapper: {
        '^@ledgerwork/core$': '<rootDir>/chaincode/src/core/index.ts',
        '^@ledgerwork/devnet$': '<rootDir>/network/devnet/src/index.ts',
        '^@ledgerwork/devnet/dist/cli$': '<rootDir>/network/devnet/src/cli.ts',
    },
    testTimeout: 60000,
    reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
};
