#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The installed command. It loads the compiled CLI, which npm install builds (postinstall) after
// linking this file — a bin pointing at dist/ itself would not be linked on a fresh clone.
'use strict';

const { main } = require('../dist/cli.js');

main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`ledgerwork-devnet: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
});
