#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The installed `ledgerwork` command. It loads the compiled CLI, which the build writes to
// dist/ (tsc with rootDir .., hence dist/gateway/src/…) after npm has linked this file — a bin
// pointing into dist/ itself would not be linked on a fresh clone.
'use strict';

const { main } = require('../dist/gateway/src/cli/main.js');

main(process.argv.slice(2)).then(
    (code) => {
        process.exitCode = code;
    },
    (error) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\nthis is a bug in ledgerwork; please report it\n`);
        process.exitCode = 70;
    },
);
