// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { binding, primesProgram, repo, sieveCount, startE2e } from './support/harness';
import type { E2e } from './support/harness';
import type { ConnectionSettings } from '../../network/devnet/src';
import { KeyExtractingForger, forgingSource, plausibleCount } from '../../gateway/src/adversary';
import { readBundleKey, signTaskOutput } from '../../gateway/src/bundle';
import { ChaincodeError } from '../../gateway/src/client';
import type { LedgerworkClient } from '../../gateway/src/client';
import { Executor, ReplicaJournal, toWire } from '../../gateway/src/executor';
import type { Outcome } from '../../gateway/src/executor';
import { main } from '../../gateway/src/cli/main';
import type { CliIo } from '../../gateway/src/cli/output';
import { DirectoryStore, planJob, publishPlan, splitRange } from '../../gateway/src/publisher';
import type { VerifyPolicy } from '../../gateway/src/publisher';
import { commitmentOf } from '../../chaincode/src/core/replication';
import { sha256 } from '../../chaincode/src/core/signature';
import { exited } from '../../network/devnet/test/support/spawn';

/**
 * Adversaries that must lose against replicated verification, on the devnet: a key-extracting
 * forger (quorum and credibility), a copier, two colluders of one organization, a replica that
 * commits and goes silent, an honest replica SIGKILLed between commit and reveal, and permanent
 * disagreement. Every executor acts under its own identity; credits are conserved throughout.
 */

const MINT = 100_000n;
const REWARD = 5n;
const REPLICA_EXECUTOR = path.join(__dirname, 'support/replicaExecutor.ts');

interface Actor {
    readonly id: string;
    readonly org: number;
    readonly client: LedgerworkClient;
    readonly settings: ConnectionSettings;
    readonly account: string;
}

/** The shared fixture of a suite: one devnet, a publisher, executors by name. */
function suite(name: string, orgs: number) {
    const state = { e2e: undefined as E2e | undefined, publisher: undefined as LedgerworkClient | undefined, publisherAccount: '', actors: new Map<string, Actor>() };
    const e2e = (): E2e => state.e2e ?? fail('the devnet is not up');
    const publisher = (): LedgerworkClient => state.publisher ?? fail('no publisher');

    beforeAll(async () => {
        state.e2e = await startE2e(name, 2, orgs);
        const admin = state.e2e.clientFor(1, 'Admin');
        state.publisher = state.e2e.clientFor(1, `${name}-publisher`);
        state.publisherAccount = (await state.publisher.whoAmI()).account;
        await admin.mint(state.publisherAccount, MINT);
    }, 60_000);
    afterAll(async () => {
        await state.e2e?.close();
    });

    const actor = async (org: number, id: string): Promise<Actor> => {
        const { client, settings } = e2e().userFor(org, id);
        await client.registerExecutor(id, { mode: 'active', skills: ['primes'] });
        const found: Actor = { id, org, client, settings, account: (await client.whoAmI()).account };
        state.actors.set(id, found);
        return found;
    };

    const executor = (a: Actor, options: { forger?: KeyExtractingForger; journal?: string } = {}): Executor =>
        new Executor({
            executorId: a.id,
            ledger: a.client,
            sandbox: e2e().pool,
            binding,
            pollMs: 150,
            journal: new ReplicaJournal(options.journal ?? path.join(e2e().work, 'journals', a.id)),
            ...(options.forger === undefined ? {} : { source: forgingSource(options.forger) }),
        });

    const publish = async (jobId: string, tasks: number, verify: VerifyPolicy, leaseMs = 60_000): Promise<{ taskIds: string[]; expected: Map<string, number> }> => {
        const inputs = splitRange(0n, BigInt(tasks * 700), tasks);
        const plan = await planJob({
            jobId,
            program: primesProgram(),
            inputs: inputs.map((text) => Buffer.from(text)),
            reward: REWARD,
            verify,
            leaseMs,
            deadline: Date.now() + 3600_000,
            store: new DirectoryStore(path.join(e2e().work, 'bundles')),
        });
        await publishPlan(publisher(), plan);
        const taskIds = plan.tasks.map((t) => String(t.id));
        const expected = new Map(
            taskIds.map((id, i) => {
                const [lo, hi] = (inputs[i] ?? '').split(' ').map(Number);
                return [id, sieveCount(lo ?? 0, hi ?? 0)];
            }),
        );
        return { taskIds, expected };
    };

    /** The accepted result of a task as a number (undefined while none is accepted). */
    const accepted = async (taskId: string): Promise<number | undefined> => {
        const task = await publisher().getTask(taskId);
        return task.state === 'completed' && task.result !== undefined ? Number(Buffer.from(task.result.inline, 'base64').toString().trim()) : undefined;
    };

    const earned = async (id: string): Promise<bigint> => BigInt((await publisher().getExecutor(id)).earned);
    const reputation = async (id: string): Promise<number> => (await publisher().getExecutor(id)).reputation;

    /** Payouts of one task, by executor id. */
    const payouts = async (taskId: string): Promise<string[]> => {
        const paid: string[] = [];
        for (const a of state.actors.values()) {
            for (const delta of (await publisher().listPayouts(a.id, 1000)).items) {
                if (delta.taskId === taskId) {
                    paid.push(a.id);
                }
            }
        }
        return paid.sort();
    };

    /** Every credit minted is in a balance; nothing is left in escrow once the jobs have settled. */
    const expectConserved = async (): Promise<void> => {
        const accounts = [state.publisherAccount, ...new Set([...state.actors.values()].map((a) => a.account))];
        const views = await Promise.all(accounts.map((account) => publisher().getAccount(account)));
        const balances = views.reduce((sum, v) => sum + BigInt(v.balance), 0n);
        const publisherView = views[0] ?? fail('no publisher account');
        const paidOut = views.slice(1).reduce((sum, v) => sum + BigInt(v.earned), 0n);
        const escrowLeft = BigInt(publisherView.escrowed) - BigInt(publisherView.refunded) - paidOut;
        expect(escrowLeft).toBe(0n);
        expect(balances).toBe(MINT);
    };

    return { state, e2e, publisher, actor, executor, publish, accepted, earned, reputation, payouts, expectConserved };
}

/** Runs replicas one after another until the task has settled (completed or failed). */
async function untilSettled(publisher: LedgerworkClient, taskId: string, executors: readonly Executor[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const executor of executors) {
        const task = await publisher.getTask(taskId);
        if (task.state === 'completed' || task.state === 'failed') {
            break;
        }
        outcomes.push(await executor.claimAndRun(taskId));
    }
    return outcomes;
}

describe('e2e replicated verification: adversaries that must lose (3 orgs)', () => {
    const s = suite('replicated', 3);

    it('quorum:2 — a key-extracting forger is outvoted on every task, the honest replicas are paid, and the floor suspends it', async () => {
        const [h1, h2, forgerActor] = [await s.actor(1, 'q-honest-1'), await s.actor(2, 'q-honest-2'), await s.actor(3, 'q-forger')];
        const forger = new KeyExtractingForger({ binding });
        const honest1 = s.executor(h1);
        const honest2 = s.executor(h2);
        const forging = s.executor(forgerActor, { forger });
        const { taskIds, expected } = await s.publish('rq-forge', 5, { policy: 'quorum', k: 2, maxReplicas: 3 });

        // Default outcome rules: a lost value costs 3 × 10 reputation, the floor is −100 — four forgeries suspend it.
        for (const taskId of taskIds.slice(0, 4)) {
            const [forged, first] = await Promise.all([forging.claimAndRun(taskId), honest1.claimAndRun(taskId)]);
            expect(forged).toMatchObject({ kind: 'revealed' });
            expect(first).toMatchObject({ kind: 'revealed' });
            // The two values disagree: a third slot opens, for an organization not yet in the task.
            expect(await s.accepted(taskId)).toBeUndefined();
            expect(await honest2.claimAndRun(taskId)).toEqual({ kind: 'revealed', taskId, settlement: 'accepted' });
            expect(await s.accepted(taskId)).toBe(expected.get(taskId));
            expect(await s.payouts(taskId)).toEqual(['q-honest-1', 'q-honest-2']);
            const replication = await s.publisher().getReplication(taskId);
            expect(replication.replicas.find((r) => r.executorId === 'q-forger')?.verdict).toBe('disagreed');
            expect(replication.replicas.filter((r) => r.verdict === 'agreed').map((r) => r.shard).sort()).toEqual(['Org1MSP', 'Org2MSP']);
        }
        expect(forger.forgeries).toBe(4);
        expect(await s.reputation('q-forger')).toBeLessThan(-100);
        expect((await s.publisher().getExecutor('q-forger')).effectiveStatus).toBe('suspended');
        // Suspended: it cannot take part any more; the honest replicas finish the last task alone.
        const last = taskIds[4] ?? '';
        await expect(forging.claimAndRun(last)).rejects.toMatchObject({ code: 'EXECUTOR_INACTIVE' });
        await Promise.all([honest1.claimAndRun(last), honest2.claimAndRun(last)]);
        expect(await s.accepted(last)).toBe(expected.get(last));

        expect(await s.earned('q-forger')).toBe(0n);
        expect(await s.earned('q-honest-1')).toBe(5n * REWARD);
        expect(await s.earned('q-honest-2')).toBe(5n * REWARD);
        for (const taskId of taskIds) {
            expect(Buffer.from(String(await s.accepted(taskId))).equals(plausibleCount(taskId))).toBe(false);
        }
        await s.expectConserved();
    }, 240_000);

    it('a copier cannot reveal without an earlier commitment, and replaying another replica’s commitment is rejected', async () => {
        const [h1, h2, copierActor] = [await s.actor(1, 'c-honest-1'), await s.actor(2, 'c-honest-2'), await s.actor(3, 'c-copier')];
        const honest1 = s.executor(h1);
        const honest2 = s.executor(h2);
        const copier = copierActor.client;
        const revealOf = async (taskId: string, executorId: string): Promise<{ result: string; salt: string; signatures: object }> => {
            // What any claimant can build from the ledger and the bundle: the honest value, a salt, valid signatures.
            const task = await s.publisher().getTask(taskId);
            const salt = (await s.publisher().getReplication(taskId)).replicas.find((r) => r.executorId === executorId)?.salt ?? randomBytes(32).toString('base64');
            const result = Buffer.from(`${expected.get(taskId)}\n`);
            const signatures = toWire(signTaskOutput(await bundleKeyOf(s.publisher(), taskId), { binding, taskId, input: Buffer.from(task.input.inline ?? '', 'base64'), result, mode: task.mode }));
            return { result: result.toString('base64'), salt, signatures };
        };
        const expected = new Map<string, number>();

        // 1. The copier takes a slot and waits to copy the honest reveal. A short lease: the honest
        // replica's own commit window ends soon, which opens its reveal though the copier never commits.
        const waiting = await s.publish('rq-copy-wait', 1, { policy: 'quorum', k: 2, maxReplicas: 3 }, 10_000);
        const waitingId = waiting.taskIds[0] ?? '';
        expected.set(waitingId, waiting.expected.get(waitingId) ?? -1);
        await copier.claimTask(waitingId, 'c-copier');
        await expect(copier.revealReplica(waitingId, 'c-copier', await revealOf(waitingId, 'c-copier'))).rejects.toMatchObject({ code: 'NOT_COMMITTED', committed: false });
        expect(await honest1.claimAndRun(waitingId)).toMatchObject({ kind: 'revealed', settlement: 'open' });
        // The honest value and salt are public now — too late: the copier's slot was abandoned when its commit window closed.
        await expect(copier.revealReplica(waitingId, 'c-copier', await revealOf(waitingId, 'c-honest-1'))).rejects.toMatchObject({ code: 'INVALID_STATE', committed: false });
        const late = commitmentOf(binding, waitingId, 'c-copier', sha256(Buffer.from('1\n')), randomBytes(32)).toString('hex');
        await expect(copier.commitReplica(waitingId, 'c-copier', late)).rejects.toBeInstanceOf(ChaincodeError);
        expect((await s.publisher().getReplication(waitingId)).replicas.find((r) => r.executorId === 'c-copier')?.state).toBe('abandoned');
        expect(await honest2.claimAndRun(waitingId)).toMatchObject({ kind: 'revealed', settlement: 'accepted' });

        // 2. The copier replays the honest replica's commitment, then reveals the honest result and salt.
        const replaying = await s.publish('rq-copy-replay', 1, { policy: 'quorum', k: 2, maxReplicas: 3 });
        const replayingId = replaying.taskIds[0] ?? '';
        expected.set(replayingId, replaying.expected.get(replayingId) ?? -1);
        await copier.claimTask(replayingId, 'c-copier');
        const honestRun = honest1.claimAndRun(replayingId);
        let theirs: string | undefined;
        while (theirs === undefined) {
            theirs = (await s.publisher().getReplication(replayingId)).replicas.find((r) => r.executorId === 'c-honest-1')?.commitment;
            await sleep(50);
        }
        await copier.commitReplica(replayingId, 'c-copier', theirs);
        expect(await honestRun).toMatchObject({ kind: 'revealed', settlement: 'open' });
        const rejection = await copier.revealReplica(replayingId, 'c-copier', await revealOf(replayingId, 'c-honest-1')).catch((err: unknown) => err);
        expect(rejection).toBeInstanceOf(ChaincodeError);
        expect(rejection).toMatchObject({ code: 'COMMITMENT_MISMATCH', committed: true });
        expect((await s.publisher().getReplication(replayingId)).replicas.find((r) => r.executorId === 'c-copier')?.state).toBe('rejected');
        expect(await honest2.claimAndRun(replayingId)).toMatchObject({ kind: 'revealed', settlement: 'accepted' });

        for (const [taskId, count] of expected) {
            expect(await s.accepted(taskId)).toBe(count);
            expect(await s.payouts(taskId)).toEqual(['c-honest-1', 'c-honest-2']);
        }
        expect(await s.earned('c-copier')).toBe(0n);
        expect(await s.reputation('c-copier')).toBeLessThan(0);
        await s.expectConserved();
    }, 180_000);

    it('two colluding executors of one organization cannot form a quorum', async () => {
        const [a, b, h1, h2] = [await s.actor(3, 'k-colluder-a'), await s.actor(3, 'k-colluder-b'), await s.actor(1, 'k-honest-1'), await s.actor(2, 'k-honest-2')];
        // Both forge the same value for every task: together they would be a "quorum" of two.
        const colluderA = s.executor(a, { forger: new KeyExtractingForger({ binding }) });
        const colluderB = s.executor(b, { forger: new KeyExtractingForger({ binding }) });
        const { taskIds, expected } = await s.publish('rq-collude', 1, { policy: 'quorum', k: 2, maxReplicas: 3 });
        const taskId = taskIds[0] ?? '';

        // While colluder A's replica is in flight, B (same organization) cannot join; an honest replica of another organization does.
        const [fromA, fromB] = await Promise.all([
            colluderA.claimAndRun(taskId),
            (async () => {
                while ((await s.publisher().getReplication(taskId)).replicas.length === 0) {
                    await sleep(50);
                }
                const refused = await colluderB.claimAndRun(taskId).catch((err: unknown) => err);
                await s.executor(h1).claimAndRun(taskId);
                return refused;
            })(),
        ]);
        expect(fromA).toMatchObject({ kind: 'revealed', settlement: 'open' });
        expect(fromB).toMatchObject({ code: 'SHARD_TAKEN' });
        // The two values disagree; the colluders' organization still holds its place, so a third organization decides.
        await expect(colluderB.claimAndRun(taskId)).rejects.toMatchObject({ code: 'SHARD_TAKEN' });
        expect(await s.executor(h2).claimAndRun(taskId)).toMatchObject({ kind: 'revealed', settlement: 'accepted' });
        expect(await s.accepted(taskId)).toBe(expected.get(taskId));
        const replicas = (await s.publisher().getReplication(taskId)).replicas;
        expect(replicas.filter((r) => r.shard === 'Org3MSP')).toHaveLength(1);
        await s.expectConserved();
    }, 120_000);

    it('a replica that commits and goes silent is penalised; the task completes with another replica', async () => {
        const [silentActor, h1, h2] = [await s.actor(3, 's-silent'), await s.actor(1, 's-honest-1'), await s.actor(2, 's-honest-2')];
        const leaseMs = 8000;
        const { taskIds, expected } = await s.publish('rq-silent', 1, { policy: 'quorum', k: 2, maxReplicas: 3 }, leaseMs);
        const taskId = taskIds[0] ?? '';
        const before = await s.reputation('s-silent');
        await silentActor.client.claimTask(taskId, 's-silent');
        await silentActor.client.commitReplica(taskId, 's-silent', commitmentOf(binding, taskId, 's-silent', sha256(Buffer.from('1\n')), randomBytes(32)).toString('hex'));
        expect(await s.executor(h1).claimAndRun(taskId)).toMatchObject({ kind: 'revealed', settlement: 'open' });
        // Past the silent replica's reveal window (two leases from its claim), anyone's sweep abandons it.
        await sleep(2 * leaseMs + 500);
        const swept = await s.publisher().sweepExpired();
        expect(JSON.stringify(swept)).toContain('s-silent');
        expect(await s.executor(h2).claimAndRun(taskId)).toMatchObject({ kind: 'revealed', settlement: 'accepted' });
        expect(await s.accepted(taskId)).toBe(expected.get(taskId));
        expect((await s.publisher().getReplication(taskId)).replicas.find((r) => r.executorId === 's-silent')?.state).toBe('abandoned');
        expect(await s.reputation('s-silent')).toBeLessThan(before);
        expect(await s.payouts(taskId)).toEqual(['s-honest-1', 's-honest-2']);
        await s.expectConserved();
    }, 120_000);

    it('an honest replica SIGKILLed between commit and reveal reveals after restart and is paid once', async () => {
        const [victim, h2] = [await s.actor(1, 'x-victim'), await s.actor(2, 'x-honest-2')];
        const { taskIds, expected } = await s.publish('rq-kill', 1, { policy: 'quorum', k: 2, maxReplicas: 2 });
        const taskId = taskIds[0] ?? '';
        const journal = path.join(s.e2e().work, 'journals', 'x-victim');

        const child = await startCommitted(victim.settings, 'x-victim', taskId, journal);
        child.kill('SIGKILL');
        await exited(child);
        expect(child.signalCode).toBe('SIGKILL');
        expect(new ReplicaJournal(journal).pending()).toHaveLength(1);
        expect((await s.publisher().getReplication(taskId)).replicas.find((r) => r.executorId === 'x-victim')?.state).toBe('committed');

        expect(await s.executor(h2).claimAndRun(taskId)).toMatchObject({ kind: 'revealed', settlement: 'open' });
        // Restarted with the same identity and journal: it reveals what it sealed before the crash.
        const restarted = s.executor(victim, { journal });
        expect(await restarted.resumeReplicas()).toEqual([{ kind: 'revealed', taskId, settlement: 'accepted' }]);
        expect(new ReplicaJournal(journal).pending()).toHaveLength(0);
        expect(await restarted.resumeReplicas()).toEqual([]);
        expect(await s.accepted(taskId)).toBe(expected.get(taskId));
        expect(await s.payouts(taskId)).toEqual(['x-honest-2', 'x-victim']);
        expect(await s.earned('x-victim')).toBe(REWARD);
        await s.expectConserved();
    }, 120_000);

    it('permanent disagreement: the task fails after maxReplicas, its escrow is refunded, credits are conserved', async () => {
        const actors = [await s.actor(1, 'd-1'), await s.actor(2, 'd-2'), await s.actor(3, 'd-3')];
        // Each forges its own value: no two replicas ever agree.
        const executors = actors.map((a) => s.executor(a, { forger: new KeyExtractingForger({ binding, forge: (subject) => Buffer.from(`${a.id}:${subject}\n`) }) }));
        const escrowBefore = await s.publisher().getAccount(s.state.publisherAccount);
        const { taskIds } = await s.publish('rq-disagree', 1, { policy: 'quorum', k: 2, maxReplicas: 3 });
        const taskId = taskIds[0] ?? '';
        await Promise.all([executors[0]?.claimAndRun(taskId), executors[1]?.claimAndRun(taskId)]);
        expect(await executors[2]?.claimAndRun(taskId)).toMatchObject({ kind: 'revealed', settlement: 'failed' });
        const task = await s.publisher().getTask(taskId);
        expect(task.state).toBe('failed');
        expect(task.result).toBeUndefined();
        const after = await s.publisher().getAccount(s.state.publisherAccount);
        expect(BigInt(after.balance)).toBe(BigInt(escrowBefore.balance));
        expect(BigInt(after.refunded) - BigInt(escrowBefore.refunded)).toBe(3n * REWARD);
        expect(await s.payouts(taskId)).toEqual([]);
        await s.expectConserved();
    }, 120_000);
    it('task show and job status show the replicas and the agreement (text and --json)', async () => {
        const { settings } = s.e2e().userFor(1, 'cli-reader');
        const env: Record<string, string> = {
            PEER_ENDPOINT: settings.peerEndpoint,
            PEER_HOST_ALIAS: settings.peerHostAlias,
            TLS_CERT_PATH: settings.tlsCertPath,
            MSP_ID: settings.mspId,
            CERT_PATH: settings.certPath,
            KEY_PATH: settings.keyPath,
            CHANNEL_NAME: settings.channelName,
            CHAINCODE_NAME: 'ledgerwork',
        };
        const cli = async (...argv: string[]): Promise<{ code: number; stdout: string }> => {
            let stdout = '';
            const io: CliIo = { stdout: (t) => (stdout += t), stderr: () => undefined, stderrIsTTY: false, env, signal: new AbortController().signal, now: () => Date.now(), trapSignals: () => () => undefined };
            return { code: await main(argv, io), stdout };
        };
        // rq-forge (the first test): tasks 1–4 had the forger and two honest replicas, task 5 two honest ones.
        const shown = await cli('task', 'show', 'rq-forge-1', '--json');
        expect(shown.code).toBe(0);
        const task = JSON.parse(shown.stdout) as { state: string; replication: { policy: object; replicas: { executorId: string; verdict?: string }[] } };
        expect(task.state).toBe('completed');
        expect(task.replication.policy).toEqual({ policy: 'quorum', k: 2, maxReplicas: 3 });
        expect(task.replication.replicas.map((r) => `${r.executorId}:${r.verdict ?? ''}`).sort()).toEqual(['q-forger:disagreed', 'q-honest-1:agreed', 'q-honest-2:agreed']);
        const text = await cli('task', 'show', 'rq-forge-1');
        expect(text.stdout).toMatch(/verify:\s+quorum:2 \(≤ 3 replicas\)/);
        expect(text.stdout).toMatch(/agreement:\s+accepted [0-9a-f]{64}/);
        expect(text.stdout).toMatch(/q-forger\s+Org3MSP\s+revealed/);

        const status = await cli('job', 'status', 'rq-forge', '--json');
        expect(status.code).toBe(0);
        expect(JSON.parse(status.stdout)).toMatchObject({ jobId: 'rq-forge', replicas: { policy: 'quorum:2 (≤ 3 replicas)', replicas: 14, agreed: 10, disagreed: 4, inFlight: 0 } });
        expect((await cli('job', 'status', 'rq-forge')).stdout).toContain('14 replicas: 10 agreed (paid), 4 disagreed (penalised)');
    }, 60_000);
});

describe('e2e replicated verification: credibility against a forger (4 orgs)', () => {
    const s = suite('credibility', 4);

    it('credibility:0.9 — forged values never reach the trust level; honest replicas are paid; the forger is suspended', async () => {
        const honest = await Promise.all([1, 2, 3].map((org) => s.actor(org, `cr-honest-${org}`)));
        const forgerActor = await s.actor(4, 'cr-forger');
        const forger = new KeyExtractingForger({ binding });
        const forging = s.executor(forgerActor, { forger });
        const honestExecutors = honest.map((a) => s.executor(a));
        const { taskIds, expected } = await s.publish('rc-forge', 5, { policy: 'credibility', trust: '0.9', maxReplicas: 4 });

        let suspendedAt: number | undefined;
        for (const [i, taskId] of taskIds.entries()) {
            // The forger goes first whenever it still may: its value alone is what a signature-only job would accept.
            const first = await forging.claimAndRun(taskId).catch((err: unknown) => err);
            if (first instanceof ChaincodeError) {
                expect(first.code).toBe('EXECUTOR_INACTIVE');
                suspendedAt ??= i;
            } else {
                expect(first).toMatchObject({ kind: 'revealed', settlement: 'open' });
            }
            await untilSettled(s.publisher(), taskId, honestExecutors);
            expect(await s.accepted(taskId)).toBe(expected.get(taskId));
            const replication = await s.publisher().getReplication(taskId);
            expect(replication.replicas.find((r) => r.executorId === 'cr-forger')?.verdict ?? 'absent').not.toBe('agreed');
        }
        expect(suspendedAt).toBe(4);
        expect(await s.earned('cr-forger')).toBe(0n);
        expect(await s.reputation('cr-forger')).toBeLessThan(-100);
        for (const a of honest.slice(0, 2)) {
            expect(await s.earned(a.id)).toBeGreaterThan(0n);
        }
        await s.expectConserved();
    }, 240_000);
});

/** The private key of a task's bundle, as any claimant can read it. */
async function bundleKeyOf(publisher: LedgerworkClient, taskId: string): Promise<ReturnType<typeof readBundleKey>> {
    const { readFile } = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    const task = await publisher.getTask(taskId);
    return readBundleKey(await readFile(fileURLToPath(task.program.uri)));
}

/** Starts a replica executor process and resolves once it has committed (between commit and reveal). */
async function startCommitted(settings: ConnectionSettings, executorId: string, taskId: string, journalDir: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['-r', path.join(repo, 'scripts/register-ts.js'), REPLICA_EXECUTOR, JSON.stringify({ settings, executorId, taskId, journalDir })], {
        cwd: repo,
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
        let out = '';
        let err = '';
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`${executorId} did not commit within 60 s: ${err}`));
        }, 60_000);
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            if (out.includes(`committed ${taskId}`)) {
                clearTimeout(timer);
                resolve();
            }
        });
        child.once('exit', (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`${executorId} exited (${code ?? signal}) before committing: ${err}`));
        });
    });
    return child;
}

function fail(message: string): never {
    throw new Error(message);
}
