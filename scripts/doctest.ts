// SPDX-License-Identifier: Apache-2.0
/**
 * Documentation that runs: the shell blocks of a Markdown file marked with `<!-- doctest -->` on the
 * line before their opening fence are executed verbatim, in file order, as one bash session
 * (`set -euo pipefail`), so that the variables one block sets are there for the next — as in the
 * terminal of a user pasting them. `<!-- doctest expect="664579" -->` also requires that text in the
 * session's output. Blocks that install or test the repository itself (`npm install`, `npm test`)
 * are not marked: CI runs those anyway.
 *
 * The session runs in a scratch directory holding a symbolic link to every top-level entry of the
 * repository, so relative paths (`./chaincode`, `examples/build/…`) and `npx ledgerwork` resolve as
 * in a checkout, while what the commands create (`.devnet/`, `.ledgerwork/`, and checkpoints under
 * HOME) stays in the scratch directory. `LEDGERWORK_DEVNET_PORT=0` lets devnets take any free port.
 * Afterwards a devnet the session left running is stopped.
 *
 * Run: `node -r ./scripts/register-ts.js scripts/doctest.ts README.md …` (test/docs runs it in CI).
 * It runs the compiled CLI and devnet: build first (npm install does).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const REPO = path.resolve(__dirname, '..');

/** A marked block: its commands, where it starts, and the texts its session must print. */
export interface DocBlock {
    readonly file: string;
    readonly line: number;
    readonly script: string;
    readonly expect: readonly string[];
}

const MARKER = /^<!--\s*doctest(?:\s+expect="([^"]*)")?\s*-->\s*$/;
const FENCE = /^```(sh|bash|shell)\s*$/;

/** The marked shell blocks of `markdown`, in order. A marker not followed by a shell fence is an error. */
export function extractBlocks(markdown: string, file: string): DocBlock[] {
    const lines = markdown.split('\n');
    const blocks: DocBlock[] = [];
    for (let i = 0; i < lines.length; i++) {
        const marker = MARKER.exec(lines[i] ?? '');
        if (marker === null) {
            continue;
        }
        if (!FENCE.test(lines[i + 1] ?? '')) {
            throw new Error(`${file}:${i + 1}: a doctest marker must be followed by a \`\`\`sh block`);
        }
        const end = lines.findIndex((l, j) => j > i + 1 && l.startsWith('```'));
        if (end < 0) {
            throw new Error(`${file}:${i + 2}: the block is not closed`);
        }
        blocks.push({ file, line: i + 2, script: lines.slice(i + 2, end).join('\n'), expect: marker[1] === undefined ? [] : [marker[1]] });
        i = end;
    }
    return blocks;
}

/** What a session did. */
export interface SessionResult {
    readonly status: number | null;
    readonly output: string;
    readonly missing: readonly string[];
    readonly dir: string;
}

/** A scratch directory that looks like a checkout of `repo`. */
export function scratchCheckout(repo: string = REPO): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'ledgerwork-doctest-'));
    for (const entry of readdirSync(repo)) {
        if (!['.git', '.devnet', '.ledgerwork'].includes(entry)) {
            symlinkSync(path.join(repo, entry), path.join(dir, entry));
        }
    }
    return dir;
}

/** Runs `blocks` as one bash session in a scratch checkout; stops any devnet it left behind. */
export function runSession(blocks: readonly DocBlock[], options: { repo?: string; timeoutMs?: number } = {}): SessionResult {
    const dir = scratchCheckout(options.repo);
    const script = ['set -euo pipefail', ...blocks.map((b) => `# ${b.file}:${b.line}\n${b.script}`)].join('\n');
    writeFileSync(path.join(dir, 'doctest-session.sh'), `${script}\n`);
    const env = { ...process.env, HOME: dir, NPM_CONFIG_UPDATE_NOTIFIER: 'false', LEDGERWORK_DEVNET_PORT: '0' };
    const run = spawnSync('bash', ['doctest-session.sh'], { cwd: dir, env, encoding: 'utf8', timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 });
    const output = `${run.stdout}${run.stderr}`;
    if (existsSync(path.join(dir, '.devnet', 'devnet.pid'))) {
        spawnSync(process.execPath, [path.join(dir, 'node_modules', '.bin', 'ledgerwork-devnet'), 'down', '--dir', path.join(dir, '.devnet')], { cwd: dir, env, timeout: 60_000 });
    }
    const missing = blocks.flatMap((b) => b.expect).filter((text) => !output.includes(text));
    return { status: run.status, output, missing, dir };
}

if (require.main === module) {
    let failed = false;
    for (const file of process.argv.slice(2)) {
        const blocks = extractBlocks(readFileSync(file, 'utf8'), file);
        const result = runSession(blocks);
        const ok = result.status === 0 && result.missing.length === 0;
        process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${file}: ${blocks.length} blocks${ok ? '' : `, exit ${String(result.status)}, missing ${JSON.stringify(result.missing)}\n${result.output}`}\n`);
        if (ok) {
            rmSync(result.dir, { recursive: true, force: true });
        }
        failed ||= !ok;
    }
    process.exitCode = failed ? 1 : 0;
}
