'use strict';
/*
 * ledgerwork's own transactions, one Caliper round each:
 *   publish         jobs:Publish of one-task open jobs
 *   claim           tasks:Claim of those tasks
 *   submit          tasks:Submit of results signed with the task key
 *   publish-ranked  jobs:Publish of one-task ranked jobs (a node of the client's organization is chosen at publish)
 *   file            ranks:File of (1, 1) by the chosen node, which completes the job
 *
 * Accounts are used the way a real ledgerwork deployment uses them: one account is one client, and a client does not
 * overlap its own publishes or claims. A publish range-reads its publisher's credit records and adds one; a claim
 * range-reads its executor's live claims and adds one. Two such transactions of one account in flight at once
 * conflict at commit (PHANTOM_READ_CONFLICT) on Fabric as on the devnet. So each worker has a pool of identities
 * (each its own account, owning one executor), the rounds run under the in-flight-limit rate controller with no more
 * transactions in flight than identities, and each publish or claim takes an identity that has nothing in flight.
 * Submits and filings are sent by the claimant, several at once: two submissions of one executor read and write
 * disjoint keys.
 *
 * Round arguments: contractId, run (unique per run), channel, mspId, adminIdentity, step, and identities: the pool,
 * [{ name, certificatePem }] (split among the workers).
 */
const { generateKeyPairSync } = require('node:crypto');
const path = require('node:path');
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');
const { RoundProbe } = require('./roundProbe');

// run.js copies this module next to Caliper's installation and says where the repository is.
const CORE = path.join(process.env.LEDGERWORK_ROOT ?? path.resolve(__dirname, '..', '..'), 'chaincode', 'dist', 'core');
const { accountOf, certificateFacts } = require(path.join(CORE, 'identity'));
const { inputPayload, resultPayload, sha256, signPayload } = require(path.join(CORE, 'signature'));

const HOUR = 3600 * 1000;
const INPUT = Buffer.from('caliper input');
const PROGRAM = { uri: 'https://org1.example.com/programs/count.wasm', sha256: 'a'.repeat(64) };
const CREDITS = '1000000000';
// A transaction slower than this is named in the log (id, round, identity, start time), to be found in the peer's logs.
const SLOW_MS = Number(process.env.CALIPER_SLOW_MS ?? 5000);

/**
 * Per worker process, across rounds: the task key, the worker's accounts, and the work handed from round to round
 * (open tasks published, claimed tasks with their claimant, ranked jobs published).
 */
const state = { keys: undefined, accounts: [], published: [], claimed: [], ranked: [], filings: [], overlaps: 0 };

class LedgerworkWorkload extends WorkloadModuleBase {
    async initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext) {
        await super.initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext);
        this.prefix = `cal-${roundArguments.run}-w${workerIndex}`;
        this.probe = new RoundProbe(roundArguments.step, workerIndex, roundArguments.load / totalWorkers);
        if (state.keys === undefined) {
            await this.setUp();
        }
        if (roundArguments.step === 'file') {
            await this.findRankHolders();
        }
    }

    /** Credits each of this worker's accounts (an admin's credits:Mint) and registers its executor. */
    async setUp() {
        const { contractId, mspId, adminIdentity, identities } = this.roundArguments;
        const mine = identities.filter((_, i) => i % this.totalWorkers === this.workerIndex);
        if (mine.length === 0) {
            throw new Error(`worker ${this.workerIndex} has no identity: give the workload at least one identity per worker`);
        }
        state.keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        state.accounts = mine.map((identity, i) => ({
            name: identity.name,
            account: accountOf(mspId, certificateFacts(identity.certificatePem)),
            executorId: `${this.prefix}-e${i}`,
            inFlight: 0,
            releasedAt: 0,
        }));
        await Promise.all(state.accounts.map((a) => this.required({ contractId, contractFunction: 'credits:Mint', contractArguments: [a.account, CREDITS], invokerIdentity: adminIdentity, readOnly: false })));
        await Promise.all(state.accounts.map((a) => this.required({ contractId, contractFunction: 'executors:Register', contractArguments: [a.executorId, JSON.stringify({ capacity: 1024 })], invokerIdentity: a.name, readOnly: false })));
    }

    /** The ranked jobs' nodes were chosen at publish: reads each task's holder. */
    async findRankHolders() {
        const { contractId } = this.roundArguments;
        const byExecutor = new Map(state.accounts.map((a) => [a.executorId, a]));
        for (const { jobId, taskId } of state.ranked.splice(0)) {
            const reply = await this.required({ contractId, contractFunction: 'queries:GetTask', contractArguments: [taskId], invokerIdentity: state.accounts[0].name, readOnly: true });
            const task = JSON.parse(Buffer.from(reply.GetResult()).toString('utf8'));
            const holder = byExecutor.get(task.claim?.executorId);
            if (holder === undefined) {
                throw new Error(`task ${taskId} is held by ${task.claim?.executorId}, not by an executor of this worker: run the ledgerwork benchmark where its workers' executors are the only ones of ${this.roundArguments.mspId}`);
            }
            state.filings.push({ jobId, taskId, holder });
        }
    }

    /** Sends one request; names it in the log if it took longer than SLOW_MS. */
    async send(request) {
        const result = await this.probe.track(() => this.sutAdapter.sendRequests(request));
        const ms = result.GetTimeFinal() - result.GetTimeCreate();
        if (ms > SLOW_MS) {
            console.warn(`ledgerwork workload: slow ${this.roundArguments.step} ${request.contractFunction} by ${request.invokerIdentity}: ${(ms / 1000).toFixed(2)} s from ${new Date(result.GetTimeCreate()).toISOString()}, status ${result.GetStatus()}, tx ${result.GetID()}`);
        }
        return result;
    }

    async required(request) {
        const result = await this.sutAdapter.sendRequests(request);
        if (result.GetStatus() !== 'success') {
            throw new Error(`${request.contractFunction} failed during setup: ${JSON.stringify(result.GetErrMsg ? result.GetErrMsg() : result)}`);
        }
        return result;
    }

    /**
     * An account with nothing in flight, the one idle longest. Under the in-flight-limit rate controller with no more
     * transactions in flight than accounts there always is one; under another controller there may be none, and the
     * account idle longest is used anyway (its transactions may then conflict at commit, as they would on Fabric).
     */
    take() {
        let chosen;
        let free;
        for (const a of state.accounts) {
            if (chosen === undefined || a.releasedAt < chosen.releasedAt) {
                chosen = a;
            }
            if (a.inFlight === 0 && (free === undefined || a.releasedAt < free.releasedAt)) {
                free = a;
            }
        }
        if (free === undefined) {
            state.overlaps += 1;
            if (state.overlaps === 1) {
                console.warn(`ledgerwork workload: all ${state.accounts.length} accounts of worker ${this.workerIndex} have a transaction in flight; sending anyway (use the in-flight-limit rate controller with a transactionLoad of at most the number of identities)`);
            }
        }
        const account = free ?? chosen;
        account.inFlight += 1;
        return account;
    }

    /** Sends `request` as `account`, which has nothing else in flight until this one finishes. */
    async sendAs(account, request) {
        try {
            return await this.send({ ...request, invokerIdentity: account.name });
        } finally {
            account.inFlight -= 1;
            account.releasedAt = performance.now();
        }
    }

    signatures(taskId, output) {
        const binding = { channel: this.roundArguments.channel, chaincode: this.roundArguments.contractId };
        return {
            input: signPayload(state.keys.privateKey, inputPayload(binding, taskId, sha256(INPUT))),
            result: signPayload(state.keys.privateKey, resultPayload(binding, taskId, sha256(output))),
        };
    }

    jobSpec(jobId, taskId, extra) {
        return JSON.stringify({
            id: jobId,
            program: PROGRAM,
            taskCount: 1,
            deadline: Date.now() + 24 * HOUR,
            leaseMs: HOUR,
            ...extra,
            tasks: [{ id: taskId, publicKey: state.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), input: { inline: INPUT.toString('base64') }, reward: '1' }],
        });
    }

    async submitTransaction() {
        const { contractId, step } = this.roundArguments;
        this.txIndex = (this.txIndex ?? 0) + 1;
        if (step === 'publish' || step === 'publish-ranked') {
            const ranked = step === 'publish-ranked';
            const jobId = `${this.prefix}-${ranked ? 'r' : 'j'}${this.txIndex}`;
            const taskId = `${jobId}-t1`;
            const extra = ranked ? { assignment: 'ranked', shards: [this.roundArguments.mspId], merge: { program: PROGRAM, publicKey: state.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), reward: '1' } } : {};
            const result = await this.sendAs(this.take(), { contractId, contractFunction: 'jobs:Publish', contractArguments: [this.jobSpec(jobId, taskId, extra)], readOnly: false });
            if (result.GetStatus() === 'success') {
                (ranked ? state.ranked : state.published).push({ jobId, taskId });
            }
            return;
        }
        if (step === 'claim') {
            const task = state.published.shift();
            if (task === undefined) {
                throw new Error('no published task left to claim: give the claim round no more transactions than the publish round');
            }
            const claimant = this.take();
            const result = await this.sendAs(claimant, { contractId, contractFunction: 'tasks:Claim', contractArguments: [task.taskId, claimant.executorId], readOnly: false });
            if (result.GetStatus() === 'success') {
                state.claimed.push({ ...task, claimant });
            }
            return;
        }
        if (step === 'submit') {
            const task = state.claimed.shift();
            if (task === undefined) {
                throw new Error('no claimed task left to submit: give the submit round no more transactions than the claim round');
            }
            const output = Buffer.from(`result of ${task.taskId}`);
            await this.send({
                contractId,
                contractFunction: 'tasks:Submit',
                contractArguments: [task.taskId, task.claimant.executorId, JSON.stringify({ result: output.toString('base64'), signatures: this.signatures(task.taskId, output) })],
                invokerIdentity: task.claimant.name,
                readOnly: false,
            });
            return;
        }
        if (step === 'file') {
            const filing = state.filings.shift();
            if (filing === undefined) {
                throw new Error('no ranked job left to file: give the file round no more transactions than the publish-ranked round');
            }
            const output = Buffer.from(`result of ${filing.taskId}`);
            await this.send({
                contractId,
                contractFunction: 'ranks:File',
                contractArguments: [filing.jobId, filing.holder.executorId, JSON.stringify({ y: 1, x: 1, result: output.toString('base64'), signatures: this.signatures(filing.taskId, output) })],
                invokerIdentity: filing.holder.name,
                readOnly: false,
            });
            return;
        }
        throw new Error(`unknown step ${step}`);
    }

    async cleanupWorkloadModule() {
        this.probe.report();
    }
}

module.exports.createWorkloadModule = () => new LedgerworkWorkload();
