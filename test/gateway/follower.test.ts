// SPDX-License-Identifier: Apache-2.0
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// The chaincode runtime first: loading it quiets fabric-shim's loggers before the contracts' decorators log.
import { CHAINCODE_DIR } from '../support/chaincodeRuntime';
import { startDevnet } from '../../network/devnet/src';
import type { ConnectionSettings, RunningDevnet } from '../../network/devnet/src';
import { contracts } from '../../chaincode/src';
import { main } from '../../gateway/src/cli/main';
import type { CliIo } from '../../gateway/src/cli/output';
import { JobFollower, defaultCheckpointFile } from '../../gateway/src/executor/jobFollower';
import { exampleFile } from '../support/examples';

/**
 * `ledgerwork executor run` without --job, driven by chaincode events from a file checkpoint
 * (JobFollower): a job published after it started is picked up; a job published while it was
 * stopped is picked up after a restart from the same checkpoint, and the events it had handled
 * before are not handled again.
 */

const work = mkdtempSync(path.join(tmpdir(), 'lw-follow-'));


/** A CLI run in process whose stderr can be watched while it runs. */
class CliRun {
    stdout = '';
    stderr = '';
    readonly code: Promise<number>;
    readonly #controller = new AbortController();

    constructor(argv: string[], settings: ConnectionSettings) {
        const io: CliIo = {
            stdout: (text) => (this.stdout += text),
            stderr: (text) => (this.stderr += text),
            stderrIsTTY: false,
            env: {
                PEER_ENDPOINT: settings.peerEndpoint,
                PEER_HOST_ALIAS: settings.peerHostAlias,
                TLS_CERT_PATH: settings.tlsCertPath,
                MSP_ID: settings.mspId,
                CERT_PATH: settings.certPath,
                KEY_PATH: settings.keyPath,
                CHANNEL_NAME: settings.channelName,
                CHAINCODE_NAME: 'ledgerwork',
            },
            signal: this.#controller.signal,
            now: () => Date.now(),
            trapSignals: () => () => undefined,
        };
        this.code = main(argv, io);
    }

    /** Waits until stderr matches (fails after `timeoutMs`). */
    async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
        const until = Date.now() + timeoutMs;
        while (!pattern.test(this.stderr)) {
            if (Date.now() > until) {
                throw new Error(`timed out waiting for ${String(pattern)}; stderr so far:\n${this.stderr}`);
            }
            await sleep(50);
        }
    }

    async stop(): Promise<number> {
        this.#controller.abort();
        return this.code;
    }
}

async function cli(argv: string[], settings: ConnectionSettings): Promise<{ code: number; stdout: string; stderr: string }> {
    const run = new CliRun(argv, settings);
    const code = await run.code;
    return { code, stdout: run.stdout, stderr: run.stderr };
}

function event(eventName: string, payload: object): { eventName: string; payload: Uint8Array } {
    return { eventName, payload: Buffer.from(JSON.stringify(payload)) };
}

describe('JobFollower.interestOf', () => {
    const ours = new Set(['a', 'b']);

    it('takes open jobs, and ranked jobs only where our executors hold a rank', () => {
        expect(JobFollower.interestOf(event('JobPublished', { jobId: 'j1', assignment: 'open', taskIds: ['t1'], ranks: [] }), ours)).toEqual([{ kind: 'work', jobId: 'j1', reason: 'published' }]);
        const ranked = (holder: string): unknown => JobFollower.interestOf(event('JobPublished', { jobId: 'j2', assignment: 'ranked', ranks: [{ rank: 1, executorId: 'x' }, { rank: 2, executorId: holder }] }), ours);
        expect(ranked('z')).toEqual([]);
        expect(ranked('b')).toEqual([{ kind: 'work', jobId: 'j2', reason: 'published, rank 2 held here' }]);
    });

    it('follows reassigned ranks, claimable tasks and ended jobs, and ignores the rest', () => {
        expect(JobFollower.interestOf(event('RankReassigned', { jobId: 'j', rank: 3, from: 'x', to: 'a' }), ours)).toMatchObject([{ kind: 'work', jobId: 'j' }]);
        expect(JobFollower.interestOf(event('RankReassigned', { jobId: 'j', rank: 3, from: 'a', to: 'x' }), ours)).toEqual([]);
        const leases = { leasesExpired: [{ jobId: 'j3', taskId: 't', executorId: 'x', state: 'published' }, { jobId: 'j4', taskId: 'u', executorId: 'x', state: 'failed' }], jobsExpired: [] };
        expect(JobFollower.interestOf(event('LeaseExpired', leases), ours)).toEqual([{ kind: 'work', jobId: 'j3', reason: 'lease expired' }]);
        expect(JobFollower.interestOf(event('RunFailed', { jobId: 'j5', state: 'published' }), ours)).toMatchObject([{ jobId: 'j5' }]);
        expect(JobFollower.interestOf(event('RunFailed', { jobId: 'j5', state: 'failed' }), ours)).toEqual([]);
        expect(JobFollower.interestOf(event('JobExpired', { leasesExpired: [], jobsExpired: ['j6'] }), ours)).toEqual([{ kind: 'ended', jobId: 'j6', reason: 'expired' }]);
        expect(JobFollower.interestOf(event('JobCompleted', { jobId: 'j7' }), ours)).toMatchObject([{ kind: 'ended', jobId: 'j7' }]);
        expect(JobFollower.interestOf(event('NothingExpired', { leasesExpired: [], jobsExpired: [] }), ours)).toEqual([]);
        expect(JobFollower.interestOf(event('ResultAccepted', { jobId: 'j' }), ours)).toEqual([]);
        expect(JobFollower.interestOf({ eventName: 'JobPublished', payload: Buffer.from('not json') }, ours)).toEqual([]);
    });

    it('reports the open task each TaskClaimed took (a work loop stops trying it), and nothing else', () => {
        expect(JobFollower.takenOf(event('TaskClaimed', { jobId: 'j', taskId: 'j-3', executorId: 'x', leaseExpiresAt: 1 }))).toEqual({ jobId: 'j', taskId: 'j-3' });
        expect(JobFollower.takenOf(event('ReplicaClaimed', { jobId: 'j', taskId: 'j-3', executorId: 'x' }))).toBeUndefined(); // other replicas may still take it
        expect(JobFollower.takenOf(event('TaskReleased', { jobId: 'j', taskId: 'j-3', executorId: 'x' }))).toBeUndefined();
        expect(JobFollower.takenOf(event('TaskClaimed', { jobId: 'j' }))).toBeUndefined();
        expect(JobFollower.takenOf({ eventName: 'TaskClaimed', payload: Buffer.from('not json') })).toBeUndefined();
    });

    it('names a default checkpoint after the channel, the chaincode and the set of executors', () => {
        const one = defaultCheckpointFile({ stateDir: '/s', channel: 'c', chaincode: 'cc', executorIds: ['a', 'b'] });
        expect(one).toMatch(/^\/s\/[0-9a-f]{16}\.checkpoint$/);
        expect(defaultCheckpointFile({ stateDir: '/s', channel: 'c', chaincode: 'cc', executorIds: ['b', 'a'] })).toBe(one);
        expect(defaultCheckpointFile({ stateDir: '/s', channel: 'c', chaincode: 'cc', executorIds: ['a'] })).not.toBe(one);
    });
});

describe('executor run following events from a checkpoint (devnet)', () => {
    let net: RunningDevnet;
    let publisher: ConnectionSettings;
    let worker: ConnectionSettings;
    const checkpoint = path.join(work, 'state', 'worker.checkpoint');
    const store = path.join(work, 'store');

    beforeAll(async () => {
        net = await startDevnet({ dir: path.join(work, 'devnet'), batchTimeoutMs: 50, chaincodes: [{ name: 'ledgerwork', folder: CHAINCODE_DIR, contracts }] });
        publisher = net.addUser(1, 'f-publisher');
        worker = net.addUser(1, 'f-worker');
        const account = (JSON.parse((await cli(['balance', '--json'], publisher)).stdout) as { account: string }).account;
        expect((await cli(['mint', '1000', '--account', account], net.connection(1, 'Admin'))).code).toBe(0);
        expect((await cli(['executor', 'register', 'f-a'], worker)).code).toBe(0);
    });
    afterAll(async () => {
        await Promise.all([...running].map((run) => run.stop())); // after a failure: nothing left running
        await net.stop();
        rmSync(work, { recursive: true, force: true });
    });

    const publish = async (jobId: string): Promise<void> => {
        const published = await cli(['job', 'publish', '--id', jobId, '--program', exampleFile('primes'), '--range', '0:1000', '--tasks', '2', '--reward', '2', '--key-scope', 'job', '--store', store], publisher);
        expect(published).toMatchObject({ code: 0 });
    };
    const runArgs = ['executor', 'run', '--id', 'f-a', '--checkpoint', checkpoint, '--poll', '10s'];
    const running = new Set<CliRun>();
    const start = (): CliRun => {
        const run = new CliRun(runArgs, worker);
        running.add(run);
        return run;
    };

    it('picks up a job published after it started, and after a restart the one published while it was down', async () => {
        // A 10 s poll: the jobs come from events, not from polling.
        const first = start();
        await first.waitFor(/following events from the next block/);
        await sleep(300); // the stream is requested; let the peer register it before the next block
        await publish('f-one');
        await first.waitFor(/accepted f-one-1 .*\n[^]*accepted f-one-2 |accepted f-one-2 .*\n[^]*accepted f-one-1 /);
        expect(await first.stop()).toBe(0);
        expect(first.stderr).toContain('learned of f-one: published');
        expect(first.stdout).toBe('accepted 2, filed ranks 0, failed 0, rejected 0, lost claim races 0 (stopped)\n');
        expect(existsSync(checkpoint)).toBe(true);

        await publish('f-two');
        const second = start();
        await second.waitFor(/accepted f-two-1 .*\n[^]*accepted f-two-2 |accepted f-two-2 .*\n[^]*accepted f-two-1 /);
        expect(await second.stop()).toBe(0);
        // Resumed from the checkpoint, not from the next block, and f-one's events were not handled again.
        expect(second.stderr).toMatch(/following events from block \d+ after /);
        expect(second.stderr).toContain('learned of f-two: published');
        expect(second.stderr).not.toContain('f-one');
        expect(second.stdout).toBe('accepted 2, filed ranks 0, failed 0, rejected 0, lost claim races 0 (stopped)\n');
        // f-one, still listed when the first run stopped or not, was seen ended and dropped; f-two
        // may stay listed until a poll sees it finished (it was stopped right after the submissions).
        expect(JSON.parse(readFileSync(`${checkpoint}.jobs.json`, 'utf8'))).not.toContain('f-one');
    });

    it('keeps --job working as before (--no-follow: polling only)', async () => {
        await publish('f-three');
        const run = await cli(['executor', 'run', '--id', 'f-a', '--job', 'f-three', '--no-follow', '--poll', '100ms', '--until-done', '--json'], worker);
        expect(run.code).toBe(0);
        expect(run.stderr).not.toContain('following events');
        expect(JSON.parse(run.stdout)).toMatchObject({ accepted: 2, failed: 0 });
    });
});
