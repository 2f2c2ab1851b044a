// SPDX-License-Identifier: Apache-2.0
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nondeterministic = [
    { object: 'Date', property: 'now', message: 'Chaincode time comes from the transaction timestamp only.' },
    { object: 'Math', property: 'random', message: 'Chaincode randomness comes from the transaction id only.' },
    { object: 'crypto', property: 'randomUUID', message: 'Chaincode randomness comes from the transaction id only.' },
    { object: 'crypto', property: 'randomBytes', message: 'Chaincode randomness comes from the transaction id only.' },
    { object: 'process', property: 'env', message: 'Chaincode behaviour must not depend on the peer environment.' },
];

export default tseslint.config(
    { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'jest.config.js', 'scripts/*.js', 'chaincode/core/index.d.ts'] },
    { ignores: ['examples/assembly/**', 'examples/build/**'] },
    // Third-party-style JavaScript chaincodes (as in fabric-samples) that the devnet tests run unmodified.
    { ignores: ['network/devnet/test/fixtures/asset-transfer-basic/**', 'network/devnet/test/fixtures/asset-transfer-private-data/**'] },
    // Caliper's workload modules and runner: CommonJS for Caliper's own loader, installed and run apart (npm run bench:caliper).
    { ignores: ['caliper/**'] },
    js.configs.recommended,
    ...tseslint.configs.strictTypeChecked,
    {
        languageOptions: {
            ecmaVersion: 2023,
            sourceType: 'module',
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        linterOptions: { reportUnusedDisableDirectives: 'error' },
        rules: {
            '@typescript-eslint/consistent-type-imports': 'error',
            '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
            '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
            '@typescript-eslint/no-extraneous-class': 'off',
            complexity: ['error', 15],
        },
    },
    {
        files: ['chaincode/src/**/*.ts'],
        rules: {
            'no-restricted-properties': ['error', ...nondeterministic],
            'no-restricted-syntax': [
                'error',
                { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use the transaction timestamp.' },
                { selector: "MemberExpression[property.name=/^(localeCompare|toLocaleString)$/]", message: 'Locale-dependent; not deterministic across peers.' },
            ],
            'no-restricted-imports': [
                'error',
                { patterns: ['@hyperledger/fabric-gateway', '@grpc/*', 'node:fs', 'fs', 'node:net', 'node:child_process', 'node:wasi', 'jsrsasign'] },
            ],
        },
    },
    {
        files: ['chaincode/src/core/**/*.ts'],
        rules: {
            'no-restricted-imports': [
                'error',
                { patterns: ['fabric-*', '../contracts/*', '../ledger/*', 'node:fs', 'fs', 'jsrsasign'] },
            ],
        },
    },
    {
        files: ['gateway/src/**/*.ts'],
        rules: {
            'no-restricted-imports': [
                'error',
                { patterns: [{ group: ['**/chaincode/*', '**/network/devnet/*'], message: 'Import the packages: @ledgerwork/core, @ledgerwork/devnet.' }] },
            ],
        },
    },
    {
        files: ['test/**/*.ts', 'scripts/**/*.ts'],
        rules: {
            '@typescript-eslint/no-non-null-assertion': 'off',
            '@typescript-eslint/unbound-method': 'off',
        },
    },
    {
        files: ['**/*.js', '**/*.mjs'],
        ...tseslint.configs.disableTypeChecked,
    },
    {
        // The view's browser script (served as is, no bundler).
        files: ['gateway/src/view/assets/*.js'],
        languageOptions: { sourceType: 'script', globals: { document: 'readonly', location: 'readonly', EventSource: 'readonly', Node: 'readonly' } },
    },
    {
        // CommonJS entry points run by Node.
        files: ['**/bin/*.js', 'chaincode/core/index.js'],
        languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly', module: 'writable', __dirname: 'readonly' } },
        rules: { '@typescript-eslint/no-require-imports': 'off' },
    },
);
