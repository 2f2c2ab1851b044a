// SPDX-License-Identifier: Apache-2.0
import { setTimeout as sleep } from 'node:timers/promises';
import { CommitStatusError, EndorseError } from '@hyperledger/fabric-gateway';
import type { Contract, Network } from '@hyperledger/fabric-gateway';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { isErrorCode } from '@ledgerwork/core';
import type { CreditDelta, ExecutorRecord, FilingRecord, JobRecord, Parameters, ProgramRecord, RankRecord, ReplicaRecord, ReplicatedPolicy, ReputationDelta, Settlement, TaskRecord } from '@ledgerwork/core';
import { GatewayCode } from './codes';
import { ChaincodeError, CommitFailedError, TransportError, retype, validationCodeName } from './errors';

/** A page of a list query; pass `bookmark` back for the next page ('' when there is none). */
export interface Page<T> {
    readonly items: T[];
    readonly bookmark: string;
}

export interface ExecutorView {
    readonly executor: ExecutorRecord;
    readonly reputation: number;
    readonly effectiveStatus: ExecutorRecord['status'];
    readonly earned: string;
    readonly lastCompletedTask?: string;
}

export interface AccountView {
    readonly account: string;
    readonly balance: string;
    readonly escrowed: string;
    readonly refunded: string;
    readonly spent: string;
    readonly earned: string;
}

/** What an account's jobs hold in escrow now, in total and per live job (queries:GetEscrow). */
export interface EscrowView {
    readonly account: string;
    readonly locked: string;
    readonly jobs: readonly { readonly jobId: string; readonly state: string; readonly locked: string }[];
}

export interface JobProgress {
    readonly jobId: string;
    readonly state: JobRecord['state'];
    readonly taskCount: number;
    readonly published: number;
    readonly tasks: Readonly<Record<TaskRecord['state'], number>>;
    readonly finished: boolean;
    readonly merge?: { readonly numbers: number; readonly filed: number; readonly levelReached: number; readonly height: number };
}

export interface MergeTreeView {
    readonly jobId: string;
    readonly taskCount: number;
    readonly nodeCount: number;
    readonly height: number;
    readonly target: { readonly y: number; readonly x: number };
    readonly holders: readonly { rank: number; executorId: string; shard: string; reassignments: number }[];
    readonly filed: readonly { y: number; x: number; kind: FilingRecord['kind']; rank: number; executorId: string; sha256?: string }[];
    readonly missing: readonly { y: number; x: number; rank: number }[];
}

export interface Filed {
    readonly outcome: 'filed';
    readonly filed: readonly { y: number; x: number; kind: FilingRecord['kind']; sha256?: string }[];
}

/** One replica of a task under a replicated policy, as the chaincode keeps it (queries leave the revealed bytes out). */
export type Replica = Omit<ReplicaRecord, 'result'>;

/** `queries:GetReplication`: a replicated task's policy, replicas and settlement as it stands. */
export interface ReplicationView {
    readonly taskId: string;
    readonly jobId: string;
    readonly policy: ReplicatedPolicy;
    readonly state: TaskRecord['state'];
    readonly reward: string;
    /** The accepted value's hash, once accepted. */
    readonly resultSha256?: string;
    /** Absent once the task has ended. */
    readonly settlement?: Settlement;
    readonly replicas: readonly (Replica & { readonly credibilityPpm: number; readonly revealOpen: boolean })[];
}

/** A claim's reply on a replicated task: the task with the replica slot just taken. */
export type ReplicaClaim = TaskRecord & { readonly replica: Replica };

/** What a reveal did: the replica revealed and the task still open, or the task accepted or failed by it. */
export interface Revealed {
    readonly outcome: 'revealed' | 'accepted' | 'failed';
    readonly task: TaskRecord;
    readonly replica: Replica;
    readonly settlement: Settlement;
}

export interface Identity {
    readonly account: string;
    readonly mspId: string;
    readonly isAdmin: boolean;
}

/** How many times a step invalidated by a concurrent transaction is re-run with a new proposal. */
const CONFLICT_RETRIES = 4;
/** How many times the commit status of the same transaction id is asked again after a timeout. */
const STATUS_RETRIES = 3;
/**
 * Calls the network turned away before doing anything (UNAVAILABLE, e.g. a stream refused while the server
 * recycles the connection, a peer restarting) are sent again this many times, and so are evaluations that
 * timed out: an evaluation reads only, and an endorsement writes nothing, so sending them again is safe.
 * Nothing already sent to ordering is repeated.
 */
const UNAVAILABLE_RETRIES = 3;

/**
 * A typed client for every ledgerwork transaction. Each submit is endorsed, ordered and awaited to
 * commit. A step invalidated by a concurrent transaction (MVCC/phantom conflict) had no effect, so it
 * is re-run with a new proposal — the chaincode decides again (a lost claim race then answers
 * ALREADY_CLAIMED). A commit status that times out is asked again for the same transaction id; the
 * transaction is never blindly resubmitted. Signed results that the chaincode turns down are raised
 * as ChaincodeError with `committed: true`.
 */
/** A program on the ledger as programs:Store and programs:Get describe it. */
export type StoredProgram = ProgramRecord & { readonly uri: string };

export class LedgerworkClient {
    /** Transactions this client sent to ordering (every attempt, conflicts included), and conflicts re-run with a new proposal. */
    readonly counters = { submitted: 0, conflictRetries: 0 };

    constructor(
        private readonly network: Network,
        private readonly chaincodeName = 'ledgerwork',
    ) {}

    // ----- executors

    registerExecutor(executorId: string, spec: { skills?: readonly string[]; mode?: 'active' | 'passive'; capacity?: number } = {}): Promise<ExecutorRecord> {
        return this.submit('executors', 'Register', [executorId, JSON.stringify(spec)]);
    }

    updateExecutor(executorId: string, update: { skills?: readonly string[]; mode?: 'active' | 'passive'; capacity?: number }): Promise<ExecutorRecord> {
        return this.submit('executors', 'Update', [executorId, JSON.stringify(update)]);
    }

    retireExecutor(executorId: string): Promise<ExecutorRecord> {
        return this.submit('executors', 'Retire', [executorId]);
    }

    suspendExecutor(executorId: string, reason: string): Promise<ExecutorRecord> {
        return this.submit('executors', 'Suspend', [executorId, reason]);
    }

    reinstateExecutor(executorId: string, reason: string): Promise<ExecutorRecord> {
        return this.submit('executors', 'Reinstate', [executorId, reason]);
    }

    // ----- jobs and tasks

    publishJob(job: object): Promise<JobRecord> {
        return this.submit('jobs', 'Publish', [JSON.stringify(job)]);
    }

    addTasks(jobId: string, tasks: readonly object[]): Promise<JobRecord> {
        return this.submit('jobs', 'AddTasks', [jobId, JSON.stringify(tasks)]);
    }

    cancelJob(jobId: string): Promise<JobRecord> {
        return this.submit('jobs', 'Cancel', [jobId]);
    }

    claimTask(taskId: string, executorId: string): Promise<TaskRecord> {
        return this.submit('tasks', 'Claim', [taskId, executorId]);
    }

    releaseTask(taskId: string, executorId: string): Promise<TaskRecord> {
        return this.submit('tasks', 'Release', [taskId, executorId]);
    }

    /** @throws {ChaincodeError} with `committed: true` and the verification code when the result is turned down */
    async submitResult(taskId: string, executorId: string, submission: { result: string; signatures: object }): Promise<TaskRecord> {
        const reply = await this.submit<{ outcome: string; code?: string; message?: string; task: TaskRecord }>('tasks', 'Submit', [taskId, executorId, JSON.stringify(submission)]);
        return (this.acceptedOrThrow(reply) as { task: TaskRecord }).task;
    }

    /** Commits a replica to its result: `commitment` is core.commitmentOf(…) as 64 hex digits. */
    commitReplica(taskId: string, executorId: string, commitment: string): Promise<Replica> {
        return this.submit('tasks', 'Commit', [taskId, executorId, commitment]);
    }

    /**
     * Reveals a committed replica's result, salt and signatures (all base64 but the signatures, which are as for Submit).
     * @throws {ChaincodeError} with `committed: true` (COMMITMENT_MISMATCH or a signature code) when the reveal is turned down
     */
    async revealReplica(taskId: string, executorId: string, reveal: { result: string; salt: string; signatures: object }): Promise<Revealed> {
        return this.acceptedOrThrow(await this.submit<Revealed | { outcome: 'rejected'; code: string; message: string }>('tasks', 'Reveal', [taskId, executorId, JSON.stringify(reveal)])) as Revealed;
    }

    reportFailure(taskId: string, executorId: string, report: { kind: 'run-failed' | 'program-hash-mismatch' | 'fetch-failed'; detail?: string }): Promise<TaskRecord> {
        return this.submit('tasks', 'ReportFailure', [taskId, executorId, JSON.stringify(report)]);
    }

    sweepExpired(limit = 100): Promise<{ leasesExpired: { jobId: string; taskId: string; executorId: string; state: string }[]; jobsExpired: string[] }> {
        return this.submit('tasks', 'SweepExpired', [String(limit)]);
    }

    // ----- programs on the ledger

    /** Stores a validator or merge program (`programs:Store`); the reply's `uri` is `ledger://<sha256>`. */
    storeProgram(program: Uint8Array): Promise<StoredProgram> {
        return this.submit('programs', 'Store', [Buffer.from(program).toString('base64')]);
    }

    /** A program on the ledger with its bytes (`program`, base64). @throws {ChaincodeError} NOT_FOUND */
    async getProgram(sha256: string): Promise<StoredProgram & { program: string }> {
        try {
            return parse<StoredProgram & { program: string }>(await this.contract('programs').evaluate('Get', { arguments: [sha256] }));
        } catch (err) {
            throw retype(err);
        }
    }

    // ----- ranked jobs

    /** @throws {ChaincodeError} with `committed: true` when a signature in the filing is turned down */
    async fileNumber(jobId: string, executorId: string, filing: object): Promise<Filed> {
        return this.acceptedOrThrow(await this.submit<Filed | { outcome: 'rejected'; code: string; message: string }>('ranks', 'File', [jobId, executorId, JSON.stringify(filing)])) as Filed;
    }

    reassignRank(jobId: string, rank: number): Promise<RankRecord> {
        return this.submit('ranks', 'Reassign', [jobId, String(rank)]);
    }

    // ----- credits

    mint(account: string, amount: bigint): Promise<{ account: string; minted: string }> {
        return this.submit('credits', 'Mint', [account, amount.toString()]);
    }

    setParameters(parameters: Partial<Parameters>): Promise<Parameters> {
        return this.submit('credits', 'SetParameters', [JSON.stringify(parameters)]);
    }

    // ----- queries

    whoAmI(): Promise<Identity> {
        return this.evaluate('WhoAmI', []);
    }

    getParameters(): Promise<Parameters> {
        return this.evaluate('GetParameters', []);
    }

    getAccount(account: string): Promise<AccountView> {
        return this.evaluate('GetAccount', [account]);
    }

    /** What the account's live jobs hold in escrow now (not a running total). */
    getEscrow(account: string): Promise<EscrowView> {
        return this.evaluate('GetEscrow', [account]);
    }

    listCredits(account: string, pageSize = 100, bookmark = ''): Promise<Page<CreditDelta>> {
        return this.evaluate('ListCredits', [account, String(pageSize), bookmark]);
    }

    listPayouts(executorId: string, pageSize = 100, bookmark = ''): Promise<Page<CreditDelta>> {
        return this.evaluate('ListPayouts', [executorId, String(pageSize), bookmark]);
    }

    getExecutor(executorId: string): Promise<ExecutorView> {
        return this.evaluate('GetExecutor', [executorId]);
    }

    listExecutorsByShard(shard: string, pageSize = 100, bookmark = ''): Promise<Page<ExecutorRecord>> {
        return this.evaluate('ListExecutorsByShard', [shard, String(pageSize), bookmark]);
    }

    listReputation(executorId: string, pageSize = 100, bookmark = ''): Promise<Page<ReputationDelta>> {
        return this.evaluate('ListReputation', [executorId, String(pageSize), bookmark]);
    }

    getJob(jobId: string): Promise<JobRecord> {
        return this.evaluate('GetJob', [jobId]);
    }

    listJobsByPublisher(account: string, pageSize = 100, bookmark = ''): Promise<Page<JobRecord>> {
        return this.evaluate('ListJobsByPublisher', [account, String(pageSize), bookmark]);
    }

    getJobProgress(jobId: string): Promise<JobProgress> {
        return this.evaluate('GetJobProgress', [jobId]);
    }

    getTask(taskId: string): Promise<TaskRecord> {
        return this.evaluate('GetTask', [taskId]);
    }

    /** A replicated task's replicas and settlement (NOT_FOUND for an unknown task, INVALID_STATE for one verified by signature). */
    getReplication(taskId: string): Promise<ReplicationView> {
        return this.evaluate('GetReplication', [taskId]);
    }

    listTasksByJob(jobId: string, state: TaskRecord['state'] | '' = '', pageSize = 100, bookmark = ''): Promise<Page<TaskRecord>> {
        return this.evaluate('ListTasksByJob', [jobId, state, String(pageSize), bookmark]);
    }

    listTasksByExecutor(executorId: string, pageSize = 100, bookmark = ''): Promise<Page<TaskRecord> & { ranks: string[] }> {
        return this.evaluate('ListTasksByExecutor', [executorId, String(pageSize), bookmark]);
    }

    getMergeTree(jobId: string): Promise<MergeTreeView> {
        return this.evaluate('GetMergeTree', [jobId]);
    }

    /** The filing at (y, x) with its result bytes (base64; null for ZERO). */
    getFiling(jobId: string, y: number, x: number): Promise<{ filing: FilingRecord; result: string | null }> {
        return this.evaluate('GetFiling', [jobId, String(y), String(x)]);
    }

    // ----- plumbing

    private contract(name: string): Contract {
        return this.network.getContract(this.chaincodeName, name);
    }

    private acceptedOrThrow<T extends { outcome: string }>(reply: T): T {
        if (reply.outcome !== 'rejected') {
            return reply;
        }
        const { code, message } = reply as unknown as { code: string; message: string };
        throw new ChaincodeError(isErrorCode(code) ? code : GatewayCode.RUNTIME, message, { committed: true });
    }

    private async evaluate<T>(fn: string, args: readonly string[]): Promise<T> {
        for (let attempt = 0; ; attempt++) {
            try {
                return parse<T>(await this.contract('queries').evaluate(fn, { arguments: [...args] }));
            } catch (err) {
                const typed = retype(err);
                if ((turnedAway(typed) || timedOut(typed)) && attempt < UNAVAILABLE_RETRIES) {
                    await sleep(50 * 2 ** attempt);
                    continue;
                }
                throw typed;
            }
        }
    }

    private async submit<T>(contractName: string, fn: string, args: readonly string[]): Promise<T> {
        for (let attempt = 0; ; attempt++) {
            try {
                const submitted = await this.contract(contractName).submitAsync(fn, { arguments: [...args] });
                this.counters.submitted++;
                const status = await statusOf(submitted);
                if (!status.successful) {
                    throw new CommitFailedError(status.code, status.transactionId);
                }
                return parse<T>(submitted.getResult());
            } catch (err) {
                const typed = retype(err);
                if (turnedAway(typed) && typed.cause instanceof EndorseError && attempt < UNAVAILABLE_RETRIES) {
                    await sleep(50 * 2 ** attempt);
                    continue;
                }
                if (typed instanceof CommitFailedError && typed.conflict && attempt < CONFLICT_RETRIES) {
                    this.counters.conflictRetries++;
                    // Jittered backoff so competing executors do not collide again in step.
                    await sleep(10 * 2 ** attempt + Math.floor(Math.random() * 20));
                    continue;
                }
                throw typed;
            }
        }
    }
}

function turnedAway(err: Error): boolean {
    return err instanceof TransportError && err.grpcCode === (GrpcStatus.UNAVAILABLE as number);
}

function timedOut(err: Error): boolean {
    return err instanceof TransportError && err.grpcCode === (GrpcStatus.DEADLINE_EXCEEDED as number) && !err.ambiguous;
}

interface Submitted {
    getStatus(): Promise<{ successful: boolean; code: number; transactionId: string }>;
}

/** The commit status, asked again for the same transaction id when the wait times out. */
async function statusOf(submitted: Submitted): Promise<{ successful: boolean; code: string; transactionId: string }> {
    for (let attempt = 0; ; attempt++) {
        try {
            const status = await submitted.getStatus();
            return { successful: status.successful, code: validationCodeName(status.code), transactionId: status.transactionId };
        } catch (err) {
            if (err instanceof CommitStatusError && attempt < STATUS_RETRIES) {
                continue;
            }
            throw err;
        }
    }
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed view of the chaincode's canonical JSON reply
function parse<T>(bytes: Uint8Array): T {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}
