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
/**
 * Programs on the ledger, run by the endorsing peers (assembly/onchain): they import only the
 * chaincode's host functions (no WASI, no abort), have no start function, use no floats.
 */
export const ONCHAIN = ['primes-validator', 'wordcount-validator', 'primes-merge'];
/** Memory cap of the on-chain programs, in pages: the chaincode admits at most 64 (4 MiB). */
export const ONCHAIN_MAX_MEMORY_PAGES = 64;
/** Memory cap the programs declare, in 64 KiB pages (the sandbox refuses modules without a maximum). */
export const MAX_MEMORY_PAGES = 256;

const here = dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2] ?? join(here, 'build');
mkdirSync(outDir, { recursive: true });
process.chdir(here);
// asc resolves the shim's `lib` relative to the config file's path as given, so pass it relative to here.
const shimConfig = relative(here, createRequire(import.meta.url).resolve('@assemblyscript/wasi-shim/asconfig.json'));

const requested = process.argv.length > 3 ? process.argv.slice(3) : [...PROGRAMS, ...ONCHAIN];
// The on-chain programs first: once asc has loaded the WASI shim's config in this process, later
// builds without it still resolve the shim's library and fail.
const selected = [...requested.filter((name) => ONCHAIN.includes(name)), ...requested.filter((name) => !ONCHAIN.includes(name))];
for (const name of selected) {
    if (!PROGRAMS.includes(name) && !ONCHAIN.includes(name)) {
        throw new Error(`unknown program ${name}; expected one of ${[...PROGRAMS, ...ONCHAIN].join(', ')}`);
    }
    const options = ONCHAIN.includes(name)
        ? [`assembly/onchain/${name}.ts`, '--runtime', 'stub', '--use', 'abort=', '--maximumMemory', String(ONCHAIN_MAX_MEMORY_PAGES)]
        : [`assembly/${name}.ts`, '--config', shimConfig, '--runtime', 'incremental', '--maximumMemory', String(MAX_MEMORY_PAGES)];
    const { error, stderr } = await asc.main([...options, '--outFile', join(outDir, `${name}.wasm`), '-O3', '--noAssert']);
    if (error) {
        process.stderr.write(stderr.toString());
        throw error;
    }
}
process.stdout.write(`built ${selected.join(', ')} into ${outDir}\n`);
