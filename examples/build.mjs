// SPDX-License-Identifier: Apache-2.0
// Builds the example programs into build/<name>.wasm: plain WASI preview1 command modules (no key;
// the publisher adds one per task), deterministically (fixed compiler version and options, no debug
// info, no source maps). Usage: node build.mjs [outDir [program…]]
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import asc from 'assemblyscript/asc';

export const PROGRAMS = ['pi', 'primes', 'wordcount', 'merkle'];
/** Memory cap the programs declare, in 64 KiB pages (the sandbox refuses modules without a maximum). */
export const MAX_MEMORY_PAGES = 256;

const here = dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2] ?? join(here, 'build');
mkdirSync(outDir, { recursive: true });
process.chdir(here);
// asc resolves the shim's `lib` relative to the config file's path as given, so pass it relative to here.
const shimConfig = relative(here, createRequire(import.meta.url).resolve('@assemblyscript/wasi-shim/asconfig.json'));

const selected = process.argv.length > 3 ? process.argv.slice(3) : PROGRAMS;
for (const name of selected) {
    if (!PROGRAMS.includes(name)) {
        throw new Error(`unknown program ${name}; expected one of ${PROGRAMS.join(', ')}`);
    }
    const { error, stderr } = await asc.main([
        `assembly/${name}.ts`,
        '--config', shimConfig,
        '--outFile', join(outDir, `${name}.wasm`),
        '-O3',
        '--noAssert',
        '--runtime', 'incremental',
        '--maximumMemory', String(MAX_MEMORY_PAGES),
    ]);
    if (error) {
        process.stderr.write(stderr.toString());
        throw error;
    }
}
process.stdout.write(`built ${selected.join(', ')} into ${outDir}\n`);
