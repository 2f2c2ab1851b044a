// SPDX-License-Identifier: Apache-2.0
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repo = path.resolve(__dirname, '../..');

/**
 * The path of an example program (examples/build/<name>.wasm, which npm install builds); when it is
 * missing, the program is built from source into a temporary directory instead.
 */
export function exampleFile(name: 'pi' | 'primes' | 'wordcount' | 'merkle'): string {
    const built = path.join(repo, 'examples/build', `${name}.wasm`);
    if (existsSync(built)) {
        return built;
    }
    const out = path.join(tmpdir(), `ledgerwork-examples-${process.pid}`);
    mkdirSync(out, { recursive: true });
    const file = path.join(out, `${name}.wasm`);
    if (!existsSync(file)) {
        execFileSync(process.execPath, [path.join(repo, 'examples/build.mjs'), out, name], { stdio: 'ignore' });
    }
    return file;
}

/** The bytes of an example program (see exampleFile). */
export function exampleModule(name: 'pi' | 'primes' | 'wordcount' | 'merkle'): Buffer {
    return readFileSync(exampleFile(name));
}
