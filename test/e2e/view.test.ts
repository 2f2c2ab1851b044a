// SPDX-License-Identifier: Apache-2.0
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { allNumbers, holderRank, treeShape } from '../../chaincode/src/core/mergeTree';
import { LedgerworkClient, connectGateway } from '../../gateway/src/client';
import type { GatewayConnection } from '../../gateway/src/client';
import { main } from '../../gateway/src/cli/main';
import { Executor } from '../../gateway/src/executor';
import { DirectoryStore, planJob, publishPlan, splitRange } from '../../gateway/src/publisher';
import { startLedgerView } from '../../gateway/src/view';
import { launchBrowser } from '../support/browser';
import { binding, mspOf, primesProgram, registerExecutors, repo, startE2e } from './support/harness';
import type { E2e } from './support/harness';

/**
 * `ledgerwork view` in a real headless Chromium against the devnet. A ranked job of 12 tasks
 * (16 nodes, 31 numbers, 4 ZERO leaves) runs in two halves: the job page must show each number
 * turn filed while it is open (a MutationObserver in the page records them), survive a reload
 * between the halves and a restart of the view server, and end with the target and the result
 * the ledger holds. The organizations page must show the ledger's figures. With
 * UPDATE_SCREENSHOTS=1 the screenshots are copied to docs/images for the README.
 */

const JOB = 'view-primes';
const TASKS = 12;
const UP_TO = 60_000n;
const shape = treeShape(TASKS);

/** Starts recording, in the page, every tree node that gains the `done` class from now on (browser code, as text). */
async function recordFilings(page: Page): Promise<void> {
    await page.evaluate(`(() => {
        const seen = (window.__done = []);
        const note = (el) => {
            if (el.matches('g.n.done') && !seen.includes(el.id)) seen.push(el.id);
        };
        new MutationObserver((mutations) => {
            for (const m of mutations) {
                if (m.target instanceof Element) {
                    note(m.target);
                    m.target.querySelectorAll('g.n.done').forEach(note);
                }
            }
        }).observe(document.getElementById('main'), { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
    })()`);
}

async function recorded(page: Page): Promise<string[]> {
    return (JSON.parse(await page.evaluate<string>('JSON.stringify(window.__done ?? [])')) as string[]).sort();
}

/** Ids of the elements matching `selector`. */
async function idsOf(page: Page, selector: string): Promise<string[]> {
    return (JSON.parse(await page.evaluate<string>(`JSON.stringify([...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => e.id))`)) as string[]).sort();
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const value = await probe();
            if (value !== undefined) {
                return value;
            }
        } catch (err) {
            last = err;
        }
        if (Date.now() > until) {
            throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
        }
        await sleep(200);
    }
}

/** The organizations page shows, per executor and per org, the ledger's own figures for the one job run. */
async function expectLedgerFigures(page: Page, publisher: LedgerworkClient): Promise<void> {
    const tree = await publisher.getMergeTree(JOB);
    const ledger = new Map<string, { shard: string; tasks: number; merges: number; earned: string; reputation: number }>();
    for (const shard of [1, 2, 3].map(mspOf)) {
        for (const executor of (await publisher.listExecutorsByShard(shard)).items) {
            const figures = await publisher.getExecutor(executor.id);
            const mine = tree.filed.filter((f) => f.executorId === executor.id);
            ledger.set(executor.id, { shard, tasks: mine.filter((f) => f.kind === 'leaf').length, merges: mine.filter((f) => f.kind === 'merge').length, earned: figures.earned, reputation: figures.reputation });
        }
    }
    const read = async (): Promise<{ id: string; cells: Record<string, string | undefined> }[]> =>
        JSON.parse(
            await page.evaluate<string>(
                `JSON.stringify([...document.querySelectorAll('table.executors tbody tr')].map((tr) => ({ id: tr.id.replace(/^ex-/, ''), cells: Object.fromEntries([...tr.querySelectorAll('[data-k]')].map((td) => [td.getAttribute('data-k'), td.textContent])) })))`,
            ),
        ) as { id: string; cells: Record<string, string | undefined> }[];
    const current = (row: { cells: Record<string, string | undefined> }): string => plain(row.cells.earned ?? '') + '/' + plain(row.cells.reputation ?? '');
    // Live updates settle within moments of the last filing; wait for them, then compare field by field.
    let rows = await read();
    await eventually('the ledger figures', async () => {
        rows = await read();
        return rows.length === ledger.size && rows.every((r) => current(r) === `${ledger.get(r.id)?.earned ?? ''}/${ledger.get(r.id)?.reputation ?? ''}`) ? rows : undefined;
    }).catch(() => undefined);
    expect(rows.map((r) => r.id).sort()).toEqual([...ledger.keys()].sort());
    for (const row of rows) {
        const expectedRow = ledger.get(row.id);
        expect(expectedRow).toBeDefined();
        expect({ id: row.id, tasks: Number(plain(row.cells.tasks ?? '')), merges: Number(plain(row.cells.merges ?? '')), earned: plain(row.cells.earned ?? ''), reputation: Number(plain(row.cells.reputation ?? '')), ranks: plain(row.cells.ranks ?? '') }).toEqual({
            id: row.id,
            tasks: expectedRow?.tasks,
            merges: expectedRow?.merges,
            earned: expectedRow?.earned,
            reputation: expectedRow?.reputation,
            ranks: '0',
        });
    }
    for (const shard of [1, 2, 3].map(mspOf)) {
        const members = [...ledger.values()].filter((e) => e.shard === shard);
        const card = page.locator(`[id="org-${shard}"]`);
        expect(plain(await card.locator('[data-k=tasks]').textContent())).toBe(String(members.reduce((n, e) => n + e.tasks, 0)));
        expect(plain(await card.locator('[data-k=merges]').textContent())).toBe(String(members.reduce((n, e) => n + e.merges, 0)));
        expect(plain(await card.locator('[data-k=earned]').textContent())).toBe(members.reduce((n, e) => n + BigInt(e.earned), 0n).toString());
        expect(plain(await card.locator('[data-k=reputation]').textContent())).toBe(String(members.reduce((n, e) => n + e.reputation, 0)));
    }
    const tasksDone = rows.reduce((n, r) => n + Number(plain(r.cells.tasks ?? '')), 0);
    expect(tasksDone).toBe(TASKS);
}

const ids = (numbers: { y: number; x: number }[]): string[] => numbers.map((n) => `n${n.y}-${n.x}`).sort();
const plain = (text: string | null): string => (text ?? '').replace(/[\u2009\s]/g, '').replace('−', '-');

describe('ledgerwork view in a headless browser', () => {
    let e2e: E2e;
    let browser: Awaited<ReturnType<typeof launchBrowser>>;
    let viewConnection: GatewayConnection | undefined;
    const shots = path.join(repo, 'docs/images');

    beforeAll(async () => {
        e2e = await startE2e('view');
        browser = await launchBrowser();
    }, 120_000);
    afterAll(async () => {
        await browser.close();
        viewConnection?.close();
        await e2e.close();
    });

    it('draws a ranked job filling in live, survives a reload and a restart, and shows the ledger figures', async () => {
        const admin = e2e.clientFor(1, 'Admin');
        const publisher = e2e.clientFor(1, 'view-publisher');
        await admin.mint((await publisher.whoAmI()).account, 100_000n);
        const operators = new Map<string, LedgerworkClient>();
        for (const org of [1, 2, 3]) {
            const operator = e2e.clientFor(org, 'view-operator');
            operators.set(mspOf(org), operator);
            await registerExecutors(operator, `v${org}`, 7);
        }
        const program = primesProgram();
        const plan = await planJob({
            jobId: JOB,
            description: 'count the primes below 60000',
            program,
            mergeProgram: program,
            inputs: splitRange(0n, UP_TO, TASKS).map((text) => Buffer.from(text)),
            reward: 10n,
            mergeReward: 2n,
            shards: [mspOf(1), mspOf(2), mspOf(3)],
            requirements: { skills: ['primes'] },
            deadline: Date.now() + 3600_000,
            store: new DirectoryStore(path.join(e2e.work, 'bundles')),
        });
        await publishPlan(publisher, plan, 50);
        const holders = (await publisher.getMergeTree(JOB)).holders;

        const { settings } = e2e.userFor(2, 'viewer');
        viewConnection = connectGateway({ ...settings, chaincodeName: 'ledgerwork' });
        const viewOptions = {
            client: new LedgerworkClient(viewConnection.network, 'ledgerwork'),
            network: viewConnection.network,
            chaincodeName: 'ledgerwork',
            site: { channel: settings.channelName, chaincode: 'ledgerwork', peer: settings.peerEndpoint, mspId: settings.mspId },
        };
        let view = await startLedgerView({ ...viewOptions, port: 0 });
        const page = await browser.context.newPage();
        const opened = await page.goto(`${view.url}jobs/${JOB}`);
        expect(opened?.status()).toBe(200);
        await page.waitForSelector('#live.on');
        expect(await page.locator('g.n').count()).toBe(2 * shape.nodeCount - 1);
        expect(await page.locator('g.n.done').count()).toBe(0);
        await recordFilings(page);

        const runRanks = async (ranks: number[]): Promise<void> => {
            const outcomes = await Promise.all(
                holders
                    .filter((h) => ranks.includes(h.rank))
                    .map((h) => {
                        const ledger = operators.get(h.shard);
                        if (ledger === undefined) {
                            throw new Error(`no operator for ${h.shard}`);
                        }
                        return new Executor({ executorId: h.executorId, ledger, sandbox: e2e.pool, binding, pollMs: 200 }).runRank(JOB, h.rank);
                    }),
            );
            expect(outcomes.map((o) => o.kind)).toEqual(ranks.map(() => 'filed'));
        };

        // First half: ranks 1–8 file the left subtree, (4, 1) at its top.
        const half = shape.nodeCount / 2;
        const firstHalf = allNumbers(shape).filter((n) => holderRank(n) <= half);
        await runRanks(Array.from({ length: half }, (_, i) => i + 1));
        expect(await eventually('the first half live', async () => ((await recorded(page)).length === firstHalf.length ? recorded(page) : undefined))).toEqual(ids(firstHalf));
        await page.screenshot({ path: path.join(e2e.work, 'view-job.png'), fullPage: true });

        // A reload mid-job renders the same state on the server; then the view itself restarts.
        await page.reload();
        expect(await idsOf(page, 'g.n.done')).toEqual(ids(firstHalf));
        expect(await page.locator('#n5-1').getAttribute('data-state')).toBe('waiting');
        expect(await page.locator('#n1-9').getAttribute('data-state')).toBe('ready');
        await page.waitForSelector('#live.on');
        const port = view.port;
        await view.close();
        await page.waitForSelector('#live.wait');
        view = await startLedgerView({ ...viewOptions, port });
        await page.waitForSelector('#live.on', { timeout: 20_000 });
        await recordFilings(page);

        // Second half: the right subtree (ZERO padding included) and the target (5, 1).
        const secondHalf = allNumbers(shape).filter((n) => holderRank(n) > half);
        await runRanks(Array.from({ length: half }, (_, i) => half + i + 1));
        expect(await eventually('the second half live', async () => ((await recorded(page)).length === secondHalf.length ? recorded(page) : undefined))).toEqual(ids(secondHalf));
        const { result } = await publisher.getFiling(JOB, shape.height, 1);
        const expected = Buffer.from(result ?? '', 'base64').toString('utf8').trim();
        await page.waitForSelector('#result');
        expect(await page.locator('#result').textContent()).toBe(expected);
        expect(await page.locator('#n5-1').getAttribute('data-state')).toBe('filed');
        expect(await page.locator('h1 .badge').textContent()).toBe('completed');
        await page.screenshot({ path: path.join(e2e.work, 'view-job-done.png'), fullPage: true });

        // Organizations: every executor row and org card shows what the ledger says.
        await page.goto(`${view.url}orgs`);
        await page.waitForSelector('#live.on');
        await expectLedgerFigures(page, publisher);
        await page.screenshot({ path: path.join(e2e.work, 'view-orgs.png'), fullPage: true });

        // Bad input: an unknown job is a clear 404 page; the events page lists the job's transactions.
        const missing = await page.goto(`${view.url}jobs/no-such-job`);
        expect(missing?.status()).toBe(404);
        expect(await page.locator('h1').textContent()).toContain('No job “no-such-job”');
        await page.goto(`${view.url}events`);
        expect(await page.locator('table.events .ev.JobCompleted').count()).toBe(1);
        await page.close();
        await view.close();

        if (process.env.UPDATE_SCREENSHOTS === '1') {
            mkdirSync(shots, { recursive: true });
            for (const name of ['view-job.png', 'view-orgs.png']) {
                copyFileSync(path.join(e2e.work, name), path.join(shots, name));
            }
        }
    }, 240_000);

    it('`ledgerwork view` serves until a signal; a down peer exits 3, wrong settings and a taken port exit 2', async () => {
        const settings = e2e.net.connection(3, 'Admin');
        const env = { PEER_ENDPOINT: settings.peerEndpoint, PEER_HOST_ALIAS: settings.peerHostAlias, TLS_CERT_PATH: settings.tlsCertPath, MSP_ID: settings.mspId, CERT_PATH: settings.certPath, KEY_PATH: settings.keyPath, CHANNEL_NAME: settings.channelName, CHAINCODE_NAME: 'ledgerwork' };
        const run = async (argv: string[], overrides: Record<string, string> = {}, signal = new AbortController().signal): Promise<{ code: number; stdout: string; stderr: string }> => {
            let stdout = '';
            let stderr = '';
            const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false, env: { ...env, ...overrides }, signal, now: () => Date.now(), trapSignals: () => () => undefined });
            return { code, stdout, stderr };
        };
        const controller = new AbortController();
        let out = '';
        const serving = main(['view', '--port', '0', '--json'], { stdout: (t) => (out += t), stderr: () => undefined, stderrIsTTY: false, env, signal: controller.signal, now: () => Date.now(), trapSignals: () => () => undefined });
        const url = await eventually('the URL', () => Promise.resolve(out.includes('\n') ? (JSON.parse(out) as { url: string }).url : undefined));
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
        // It started once the past events were in: the first page already lists the job.
        const jobs = await fetch(url);
        expect(jobs.status).toBe(200);
        expect(await jobs.text()).toContain(`/jobs/${JOB}`);
        const port = new URL(url).port;
        const taken = await run(['view', '--port', port]);
        expect(taken).toMatchObject({ code: 2 });
        expect(taken.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
        controller.abort();
        expect(await serving).toBe(0);

        const down = await run(['view', '--port', '0'], { PEER_ENDPOINT: '127.0.0.1:1' });
        expect(down.code).toBe(3);
        const wrong = await run(['view', '--port', '0'], { CERT_PATH: path.join(e2e.work, 'no-such-cert.pem') });
        expect(wrong.code).toBe(2);
        expect(wrong.stderr).toContain('CERT_PATH');
        expect((await run(['view', '--port', 'eighty'])).code).toBe(2);
        expect((await run(['view', '--port', '70000'])).code).toBe(2);
    }, 120_000);
});
