// SPDX-License-Identifier: Apache-2.0
/** Runs the devnet CLI (TypeScript sources, transpiled on load) as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A require hook transpiling .ts with decorator metadata (fabric-contract-api needs it), then the CLI. */
const HOOK = `
const ts = require('typescript');
const fs = require('node:fs');
require.extensions['.ts'] = (m, file) => {
    const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), { fileName: file, compilerOptions: {
        module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true,
        experimentalDecorators: true, emitDecoratorMetadata: true } });
    m._compile(out.outputText, file);
};
require(process.argv[1]).main(process.argv.slice(2)).catch((error) => {
    console.error(error);
    process.exit(1);
});
`;

/** Path of the CLI source. */
export const CLI = path.resolve(__dirname, '../../src/cli.ts');

/** Spawns `ledgerwork-devnet <args>`; stdout is piped. */
export function spawnCli(args: readonly string[]): ChildProcess {
    return spawn(process.execPath, ['-e', HOOK, CLI, ...args], { cwd: path.resolve(__dirname, '../../../..'), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves with the first line the child prints on stdout (its JSON settings with `--json`). */
export function firstLine(child: ChildProcess): Promise<string> {
    return new Promise((resolve, reject) => {
        let out = '';
        let err = '';
        child.stderr?.on('data', (chunk: Buffer) => {
            err += chunk.toString();
        });
        child.stdout?.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            const newline = out.indexOf('\n');
            if (newline >= 0) {
                resolve(out.slice(0, newline));
            }
        });
        child.once('exit', (code) => {
            reject(new Error(`devnet exited with ${code}: ${err}`));
        });
    });
}

/** Resolves once the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
        } else {
            child.once('exit', () => {
                resolve();
            });
        }
    });
}
