// SPDX-License-Identifier: Apache-2.0
import { get } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import type { ChaincodeEvent, Network } from '@hyperledger/fabric-gateway';
import type { JobRecord } from '../../chaincode/src/core/model';
import { ChaincodeError, TransportError } from '../../gateway/src/client';
import type { LedgerworkClient } from '../../gateway/src/client';
import { LedgerSource, ViewModel, organizationsOf, startViewServer, treeOf } from '../../gateway/src/view';
import type { LedgerEvent } from '../../gateway/src/view';
import { jobPage, jobsPage, orgsPage, unknownJobPage } from '../../gateway/src/view/pages';

/**
 * The view's event → view-model code (pure), its pages, and its HTTP/SSE server over a scripted
 * event stream and query answers: the browser suite (test/e2e/view.test.ts) runs it all on a devnet.
 */

let block = 0n;
const event = (name: string, payload: Record<string, unknown>): LedgerEvent => ({ name, payload, blockNumber: ++block, transactionId: `tx${block}` });

/** A ranked job of 3 tasks: M = 4 nodes, numbers (1,1..4), (2,1..2), (3,1); (1,4) is ZERO, (2,2) a pass-through. */
function rankedJob(model: ViewModel): void {
    model.apply(event('JobPublished', {
        jobId: 'tri',
        assignment: 'ranked',
        taskCount: 3,
        taskIds: ['tri-1', 'tri-2', 'tri-3'],
        ranks: [
            { rank: 1, executorId: 'a1', shard: 'Org1MSP' },
            { rank: 2, executorId: 'b1', shard: 'Org2MSP' },
            { rank: 3, executorId: 'a2', shard: 'Org1MSP' },
            { rank: 4, executorId: 'b2', shard: 'Org2MSP' },
        ],
    }));
}

const states = (model: ViewModel): Record<string, string> => Object.fromEntries((treeOf(model.job('tri'))?.nodes ?? []).map((n) => [`${n.y},${n.x}`, n.state]));

describe('view model: chaincode events folded in', () => {
    it('fills a ranked job number by number: waiting → ready → filed, ZERO apart, the target last', () => {
        const model = new ViewModel();
        rankedJob(model);
        expect(states(model)).toEqual({ '1,1': 'ready', '1,2': 'ready', '1,3': 'ready', '1,4': 'zero', '2,1': 'waiting', '2,2': 'waiting', '3,1': 'waiting' });
        const touched = model.apply(event('MergeFiled', { jobId: 'tri', executorId: 'a1', rank: 1, filed: [{ y: 1, x: 1, kind: 'leaf', sha256: 'aa' }] }));
        expect([...touched.jobs]).toEqual(['tri']);
        expect([...touched.executors]).toEqual(['a1']);
        model.apply(event('MergeFiled', { jobId: 'tri', executorId: 'b1', rank: 2, filed: [{ y: 1, x: 2, kind: 'leaf', sha256: 'bb' }] }));
        expect(states(model)['2,1']).toBe('ready');
        model.apply(event('MergeFiled', { jobId: 'tri', executorId: 'b1', rank: 2, filed: [{ y: 2, x: 1, kind: 'merge', sha256: 'cc' }] }));
        model.apply(event('MergeFiled', { jobId: 'tri', executorId: 'b2', rank: 4, filed: [{ y: 1, x: 4, kind: 'zero' }] }));
        model.apply(event('MergeFiled', { jobId: 'tri', executorId: 'a2', rank: 3, filed: [{ y: 1, x: 3, kind: 'leaf', sha256: 'dd' }] }));
        model.apply(event('MergeFiled', { jobId: 'tri', executorId: 'b2', rank: 4, filed: [{ y: 2, x: 2, kind: 'pass-through', sha256: 'dd' }] }));
        expect(states(model)['3,1']).toBe('ready');
        model.apply(event('JobCompleted', { jobId: 'tri', executorId: 'b2', rank: 4, filed: [{ y: 3, x: 1, kind: 'merge', sha256: 'ee' }] }));
        expect(states(model)).toEqual({ '1,1': 'filed', '1,2': 'filed', '1,3': 'filed', '1,4': 'zero', '2,1': 'filed', '2,2': 'filed', '3,1': 'filed' });
        const job = model.job('tri');
        expect(job.ended).toBe('completed');
        expect(job.filings.size).toBe(7);
        expect(job.tasks.get('tri-3')).toEqual({ id: 'tri-3', state: 'completed', executorId: 'a2' });
        const { executors, orgs } = organizationsOf(model);
        expect(executors.map((e) => [e.id, e.tasksDone, e.merges, e.ranksHeld])).toEqual([
            ['a1', 1, 0, 0],
            ['a2', 1, 0, 0],
            ['b1', 1, 1, 0],
            ['b2', 0, 1, 0],
        ]);
        expect(orgs.map((o) => [o.shard, o.executors, o.tasksDone, o.merges])).toEqual([
            ['Org1MSP', 2, 2, 0],
            ['Org2MSP', 2, 1, 2],
        ]);
        expect(model.events[0]).toMatchObject({ name: 'JobCompleted', jobId: 'tri', summary: 'rank 4 (b2) filed (3, 1)' });
    });

    it('counts ranks held only in jobs that have not ended, and follows reassignment', () => {
        const model = new ViewModel();
        rankedJob(model);
        model.apply(event('ExecutorRegistered', { executorId: 'a3', shard: 'Org1MSP', mode: 'passive' }));
        model.apply(event('RankReassigned', { jobId: 'tri', rank: 3, shard: 'Org1MSP', from: 'a2', to: 'a3' }));
        const held = Object.fromEntries(organizationsOf(model).executors.map((e) => [e.id, e.ranksHeld]));
        expect(held).toEqual({ a1: 1, a2: 0, a3: 1, b1: 1, b2: 1 });
        model.apply(event('JobCancelled', { jobId: 'tri', cancelledTaskIds: ['tri-1'] }));
        expect(organizationsOf(model).orgs.map((o) => o.ranksHeld)).toEqual([0, 0]);
        expect(states(model)['1,2']).toBe('waiting');
    });

    it('moves open tasks through claim, failure, release, expiry, acceptance and cancellation', () => {
        const model = new ViewModel();
        model.apply(event('JobPublished', { jobId: 'open', assignment: 'open', taskCount: 4, taskIds: ['o-1', 'o-2'], ranks: [] }));
        model.apply(event('TasksPublished', { jobId: 'open', taskIds: ['o-3', 'o-4'], publishedCount: 4, taskCount: 4 }));
        model.apply(event('TaskClaimed', { jobId: 'open', taskId: 'o-1', executorId: 'x' }));
        model.apply(event('ResultAccepted', { jobId: 'open', taskId: 'o-1', executorId: 'x', reward: '5' }));
        model.apply(event('TaskClaimed', { jobId: 'open', taskId: 'o-2', executorId: 'y' }));
        model.apply(event('RunFailed', { jobId: 'open', taskId: 'o-2', executorId: 'y', kind: 'run-failed', state: 'failed' }));
        model.apply(event('TaskClaimed', { jobId: 'open', taskId: 'o-3', executorId: 'y' }));
        model.apply(event('LeaseExpired', { leasesExpired: [{ jobId: 'open', taskId: 'o-3', executorId: 'y', state: 'published' }], jobsExpired: [] }));
        model.apply(event('TaskClaimed', { jobId: 'open', taskId: 'o-4', executorId: 'x' }));
        model.apply(event('TaskReleased', { jobId: 'open', taskId: 'o-4', executorId: 'x' }));
        const job = model.job('open');
        expect(job.taskIds).toEqual(['o-1', 'o-2', 'o-3', 'o-4']);
        expect([...job.tasks.values()].map((t) => t.state)).toEqual(['completed', 'failed', 'published', 'published']);
        expect(model.executor('x').tasksDone).toBe(1);
        expect(treeOf(job)).toBeUndefined();
        model.apply(event('JobCancelled', { jobId: 'open', cancelledTaskIds: ['o-3', 'o-4'] }));
        expect([...job.tasks.values()].map((t) => t.state)).toEqual(['completed', 'failed', 'cancelled', 'cancelled']);
        expect(job.ended).toBe('cancelled');
        model.apply(event('JobExpired', { leasesExpired: [], jobsExpired: ['other'] }));
        expect(model.job('other').ended).toBe('expired');
    });

    it('lets no query answer undo what an event already showed', () => {
        const model = new ViewModel();
        model.apply(event('JobPublished', { jobId: 'open', assignment: 'open', taskCount: 1, taskIds: ['o-1'], ranks: [] }));
        model.apply(event('ResultAccepted', { jobId: 'open', taskId: 'o-1', executorId: 'x', reward: '5' }));
        // An answer read before the acceptance committed:
        model.setTasks('open', [{ id: 'o-1', index: 1, state: 'claimed', claim: { executorId: 'x' } } as unknown as Parameters<ViewModel['setTasks']>[1][number]]);
        expect(model.job('open').tasks.get('o-1')?.state).toBe('completed');
        rankedJob(model);
        model.apply(event('MergeFiled', { jobId: 'tri', executorId: 'a1', rank: 1, filed: [{ y: 1, x: 1, kind: 'leaf', sha256: 'aa' }] }));
        model.setTree({ jobId: 'tri', taskCount: 3, nodeCount: 4, height: 3, target: { y: 3, x: 1 }, holders: [], filed: [{ y: 1, x: 2, kind: 'leaf', rank: 2, executorId: 'b1' }], missing: [] });
        expect([...model.job('tri').filings.keys()].sort()).toEqual(['1/1', '1/2']);
    });

    it('takes untrusted payloads without throwing and logs unknown events', () => {
        const model = new ViewModel();
        const odd: [string, Record<string, unknown>][] = [
            ['MergeFiled', { jobId: 'j', filed: 'nope' }],
            ['MergeFiled', { jobId: 'j', executorId: 'e', filed: [null, 3, { y: 'a', x: 1, kind: 'leaf' }] }],
            ['JobPublished', { jobId: 7, ranks: [{ rank: 'x' }] }],
            ['LeaseExpired', { leasesExpired: [{}], jobsExpired: [1, 2] }],
            ['SomethingNew', { jobId: 'j' }],
        ];
        for (const [name, payload] of odd) {
            expect(() => model.apply(event(name, payload))).not.toThrow();
        }
        expect(model.job('j').filings.size).toBe(0);
        expect(model.events[0]).toMatchObject({ name: 'SomethingNew', jobId: 'j' });
    });
});

describe('view pages', () => {
    const record = (over: Partial<JobRecord>): JobRecord =>
        ({
            id: 'tri',
            publisher: 'ab'.repeat(32),
            publisherMsp: 'Org1MSP',
            description: '<script>alert(1)</script>',
            mode: 'separate',
            verify: 'signature',
            assignment: 'ranked',
            shards: ['Org1MSP', 'Org2MSP'],
            taskCount: 3,
            publishedCount: 3,
            deadline: Date.UTC(2026, 11, 1, 12),
            merge: { reward: '2', nodeCount: 4, height: 3 },
            state: 'open',
            taskEscrow: '30',
            ...over,
        }) as JobRecord;

    it('draws every number of the tree, escapes ledger text, and shows the result', () => {
        const model = new ViewModel();
        rankedJob(model);
        model.setJob(record({}));
        const page = jobPage(model, model.job('tri'));
        expect(page.main.match(/<g class="n /g)).toHaveLength(7);
        expect(page.main).not.toContain('<script>');
        expect(page.main).toContain('&lt;script&gt;');
        expect(page.main).toContain('Escrow</dt><dd>34 credits'); // 3 × 10 + 2 merges × 2
        expect(page.main).toContain('id="n1-4" data-state="zero"');
        model.apply(event('JobCompleted', { jobId: 'tri', executorId: 'b2', rank: 4, filed: [{ y: 3, x: 1, kind: 'merge', sha256: 'ee'.repeat(32) }] }));
        model.setResult('tri', Buffer.from('6057\n'));
        const done = jobPage(model, model.job('tri'));
        expect(done.main).toContain('<output id="result">6057</output>');
        expect(done.main).toContain('class="n filed done s1 goal"');
        expect(jobsPage(model).main).toContain('href="/jobs/tri"');
    });

    it('shows a replicated job\'s replicas and how far they agree; a Replica event names its task', () => {
        const model = new ViewModel();
        model.apply(event('JobPublished', { jobId: 'rep', assignment: 'open', taskCount: 1, taskIds: ['rep-1'], ranks: [] }));
        const touched = model.apply(event('ReplicaRevealed', { jobId: 'rep', taskId: 'rep-1', executorId: 'c', shard: 'Org3MSP', resultSha256: 'ff'.repeat(32), openSlots: 0 }));
        expect([...(touched.tasks ?? [])]).toEqual(['rep-1']);
        expect([...touched.jobs]).toEqual(['rep']);
        model.setJob(record({ id: 'rep', assignment: 'open', verify: { policy: 'quorum', k: 2, maxReplicas: 3 }, taskCount: 1, publishedCount: 1, merge: undefined } as unknown as Partial<JobRecord>));
        const replica = (executorId: string, shard: string, resultSha256: string, verdict: 'agreed' | 'disagreed') => ({ taskId: 'rep-1', jobId: 'rep', executorId, account: 'a', shard, reputation: 10, state: 'revealed', claimedAt: 0, commitBy: 0, revealBy: 0, resultSha256, verdict, updatedAt: 0, credibilityPpm: 900000, revealOpen: false });
        model.setReplication({
            taskId: 'rep-1',
            jobId: 'rep',
            policy: { policy: 'quorum', k: 2, maxReplicas: 3 },
            state: 'completed',
            reward: '10',
            resultSha256: 'aa'.repeat(32),
            replicas: [replica('a', 'Org1MSP', 'aa'.repeat(32), 'agreed'), replica('b', 'Org2MSP', 'aa'.repeat(32), 'agreed'), replica('c', 'Org3MSP', 'ff'.repeat(32), 'disagreed')],
        } as unknown as Parameters<ViewModel['setReplication']>[0]);
        const page = jobPage(model, model.job('rep'));
        expect(page.main).toContain('quorum: 2 agreeing of at most 3 replicas');
        expect(page.main).toContain('2 of 3 agree <span class="warn">(2 values)</span>');
        expect(page.main).toContain('class="replica disagreed"');
        // A job verified by signature alone has no replicas section.
        rankedJob(model);
        model.setJob(record({}));
        expect(jobPage(model, model.job('tri')).main).not.toContain('Replicas');
    });

    it('says plainly when a job is unknown or the event stream is down', () => {
        const model = new ViewModel();
        model.setStatus({ state: 'down', message: '14 UNAVAILABLE: No connection established' });
        const page = unknownJobPage(model, 'nope');
        expect(page.status).toBe(404);
        expect(page.main).toContain('No job “nope”');
        expect(page.main).toContain('event stream is down (14 UNAVAILABLE: No connection established)');
        expect(jobsPage(model).main).toContain('No jobs on this channel yet');
        expect(orgsPage(model).main).toContain('No executors registered yet');
    });
});

/** A scripted chaincode event stream: `push` delivers, `fail` breaks it. */
function scriptedNetwork(): { network: Pick<Network, 'getChaincodeEvents'>; push(name: string, payload: object): void } {
    const queue: ChaincodeEvent[] = [];
    let wake: (() => void) | undefined;
    let closed = false;
    let height = 0n;
    return {
        network: {
            getChaincodeEvents: () =>
                Promise.resolve({
                    close: () => {
                        closed = true;
                        wake?.();
                    },
                    [Symbol.dispose]: () => {
                        closed = true;
                        wake?.();
                    },
                    async *[Symbol.asyncIterator]() {
                        while (!closed) {
                            const next = queue.shift();
                            if (next !== undefined) {
                                yield next;
                                continue;
                            }
                            await new Promise<void>((resolve) => (wake = resolve));
                        }
                    },
                }),
        },
        push: (name, payload) => {
            height++;
            queue.push({ blockNumber: height, transactionId: `t${height}`, chaincodeName: 'ledgerwork', eventName: name, payload: Buffer.from(JSON.stringify(payload)) });
            wake?.();
        },
    };
}

function fetchText(url: string): Promise<{ status: number; body: string }> {
    return fetch(url).then(async (res) => ({ status: res.status, body: await res.text() }));
}

describe('view server', () => {
    it('serves pages and assets, answers 404 for unknown jobs and 503 when the peer is down, and pushes live pages', async () => {
        const scripted = scriptedNetwork();
        let peerDown = false;
        const client = {
            getJob: (id: string) => Promise.reject(peerDown ? new TransportError('14 UNAVAILABLE: connect ECONNREFUSED', 14, false) : new ChaincodeError('NOT_FOUND', `job ${id} not found`)),
            getJobProgress: () => Promise.reject(new Error('not reached')),
            getExecutor: (id: string) => Promise.resolve({ executor: { id, shard: 'Org1MSP', mode: 'active', status: 'active' }, reputation: 20, effectiveStatus: 'active', earned: '1234567' }),
        } as unknown as LedgerworkClient;
        const source = new LedgerSource({ client, network: scripted.network, chaincodeName: 'ledgerwork', settleMs: 10 });
        await source.start();
        const server = await startViewServer({ source, site: { channel: 'mychannel', chaincode: 'ledgerwork', peer: 'localhost:7051', mspId: 'Org1MSP' }, port: 0, throttleMs: 10 });
        try {
            expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
            const home = await fetchText(server.url);
            expect(home.status).toBe(200);
            expect(home.body).toContain('<script src="/assets/app.js" defer></script>');
            for (const asset of ['app.js', 'style.css', 'icon.svg']) {
                expect((await fetchText(`${server.url}assets/${asset}`)).status).toBe(200);
            }
            expect((await fetchText(`${server.url}assets/../server.ts`)).status).toBe(404);
            expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
            const unknown = await fetchText(`${server.url}jobs/ghost`);
            expect(unknown.status).toBe(404);
            expect(unknown.body).toContain('No job “ghost”');
            peerDown = true;
            const down = await fetchText(`${server.url}jobs/ghost2`);
            expect(down.status).toBe(503);
            expect(down.body).toContain('ECONNREFUSED');

            // The live stream: the first message is the page as it is; an event brings the next.
            const messages: string[] = [];
            const live = get(`${server.url}live?path=/orgs`, (res) => {
                expect(res.headers['content-type']).toContain('text/event-stream');
                res.setEncoding('utf8');
                res.on('data', (chunk: string) => messages.push(chunk));
            });
            const waitFor = async (text: string): Promise<void> => {
                for (let i = 0; i < 200 && !messages.join('').includes(text); i++) {
                    await new Promise((resolve) => setTimeout(resolve, 25));
                }
                expect(messages.join('')).toContain(text);
            };
            await waitFor('No executors registered yet');
            scripted.push('ExecutorRegistered', { executorId: 'org1-a', shard: 'Org1MSP', mode: 'active' });
            await waitFor('id=\\"ex-org1-a\\"');
            await waitFor('1\u2009234\u2009567');
            live.destroy();
        } finally {
            await server.close();
            await source.close();
        }
    });
});
