#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The installed `ledgerwork` command. It loads the compiled CLI, which the build writes to dist/
// after npm has linked this file — a bin pointing into dist/ itself would not be linked on a fresh
// clone.
'use strict';

const { main } = require('../dist/cli/main.js');

/**
 * Exits once the output is flushed. The command has finished by then: whatever still holds the
 * event loop (a gRPC connection to a peer that accepted TCP and never answered, a timer) must not
 * keep the process alive after its exit code is known.
 */
function exitWith(code) {
    process.stdout.write('', () => {
        process.stderr.write('', () => {
            process.exit(code);
        });
    });
}

main(process.argv.slice(2)).then(exitWith, (error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\nthis is a bug in ledgerwork; please report it\n`);
    exitWith(70);
});
