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

// `devnet up` goes on serving after main resolves (in the foreground, or as the detached child of
// `up --detach`): its exit code is set, and the process ends when the devnet stops.
const serving = process.argv[2] === 'devnet';

main(process.argv.slice(2)).then((code) => {
    if (serving) {
        process.exitCode = code;
    } else {
        exitWith(code);
    }
}, (error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\nthis is a bug in ledgerwork; please report it\n`);
    exitWith(70);
});
