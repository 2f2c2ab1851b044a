// SPDX-License-Identifier: Apache-2.0
/**
 * Documentation that runs: the marked shell blocks of the READMEs, executed verbatim against devnets
 * (scripts/doctest.ts). A README whose commands stop working fails here.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { extractBlocks, runSession } from '../../scripts/doctest';

const REPO = path.resolve(__dirname, '../..');
const DOCUMENTS = ['README.md', 'gateway/README.md', 'network/devnet/README.md', 'network/fabric/README.md'];

describe('the doc-test runner', () => {
    it('takes only the marked shell blocks, in order, with their expected output', () => {
        const markdown = ['# t', '```sh', 'echo unmarked', '```', '<!-- doctest -->', '```sh', 'a=1', '```', 'text', '<!-- doctest expect="42" -->', '```bash', 'echo $((a + 41))', '```'].join('\n');
        expect(extractBlocks(markdown, 't.md')).toEqual([
            { file: 't.md', line: 6, script: 'a=1', expect: [] },
            { file: 't.md', line: 11, script: 'echo $((a + 41))', expect: ['42'] },
        ]);
    });

    it('refuses a marker that is not followed by a shell block', () => {
        expect(() => extractBlocks('<!-- doctest -->\n```ts\nx\n```', 'bad.md')).toThrow('bad.md:1: a doctest marker must be followed');
    });

    it('runs the blocks as one session, and fails on a failing command or a missing output', () => {
        const blocks = extractBlocks(['<!-- doctest expect="42" -->', '```sh', 'a=41', '```', '<!-- doctest -->', '```sh', 'echo $((a + 1))', '```'].join('\n'), 'ok.md');
        const ok = runSession(blocks, { repo: REPO });
        expect(ok).toMatchObject({ status: 0, missing: [] });
        rmSync(ok.dir, { recursive: true, force: true });

        const failing = runSession(extractBlocks('<!-- doctest -->\n```sh\nfalse\necho after\n```', 'fail.md'), { repo: REPO });
        expect(failing.status).not.toBe(0);
        expect(failing.output).not.toContain('after');
        rmSync(failing.dir, { recursive: true, force: true });

        const silent = runSession(extractBlocks('<!-- doctest expect="664579" -->\n```sh\necho 1\n```', 'silent.md'), { repo: REPO });
        expect(silent).toMatchObject({ status: 0, missing: ['664579'] });
        rmSync(silent.dir, { recursive: true, force: true });
    });
});

describe.each(DOCUMENTS)('%s', (file) => {
    it('runs every marked block as written', () => {
        const blocks = extractBlocks(readFileSync(path.join(REPO, file), 'utf8'), file);
        expect(blocks.length).toBeGreaterThan(0);
        const result = runSession(blocks, { repo: REPO, timeoutMs: 840_000 });
        if (result.status !== 0 || result.missing.length > 0) {
            throw new Error(`${file}: exit ${String(result.status)}, missing ${JSON.stringify(result.missing)}; session in ${result.dir}\n${result.output.slice(-8000)}`);
        }
        rmSync(result.dir, { recursive: true, force: true });
    }, 900_000);
});
