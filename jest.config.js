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
    testTimeout: 60000,
    reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
};
