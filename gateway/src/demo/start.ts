// SPDX-License-Identifier: Apache-2.0
/** `npm start`: the main job on an embedded devnet (see mainJob.ts). */
import path from 'node:path';
import { runMainJob } from './mainJob';

/** From gateway/src/demo up to the repository. */
function repoDir(): string {
    const marker = `${path.sep}gateway${path.sep}`;
    return __dirname.slice(0, __dirname.indexOf(marker));
}

runMainJob({ repoDir: repoDir() })
    .then((report) => {
        process.exitCode = report.verified ? 0 : 1;
    })
    .catch((error: unknown) => {
        process.stderr.write(`ledgerwork main job failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
    });
