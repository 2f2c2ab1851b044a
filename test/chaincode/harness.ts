// SPDX-License-Identifier: Apache-2.0
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
// The simulator first: it quiets fabric-shim's loggers before the contracts' decorators log.
import { CHAINCODE_DIR, PeerSimulator, SimulatedEndorseError } from '../support/fabric';
import { contracts } from '../../chaincode/src';
import { parseWireMessage } from '../../chaincode/src/core/errors';
import type { ErrorCode } from '../../chaincode/src/core/errors';
import { accountOf, certificateFacts } from '../../chaincode/src/core/identity';
import { combinedPayload, inputPayload, mergeInputHash, mergeSlotId, resultPayload, sha256, signPayload } from '../../chaincode/src/core/signature';
import type { Binding } from '../../chaincode/src/core/signature';
import type { Endorsement, IdentityOptions, Submission, TestIdentity, TransactionOptions } from '../support/fabric';
import { setMaxClockSkew } from '../../chaincode/src/ledger/peerClock';

/**
 * A ledgerwork channel for contract tests: the real chaincode on fabric-shim's runtime, behind the
 * in-process peer simulator, with helpers to act as publishers, executors and admins.
 */

export const CHANNEL = 'mychannel';
export const CHAINCODE = 'ledgerwork';
export const BINDING: Binding = { channel: CHANNEL, chaincode: CHAINCODE };
/** The simulator's default virtual clock start: 2025-01-01T00:00:00Z. */
export const START = Date.UTC(2025, 0, 1);
export const HOUR = 3600 * 1000;

/** A caller: a test identity and its ledgerwork account. */
export interface Actor {
    readonly identity: TestIdentity;
    readonly account: string;
    readonly mspId: string;
}

/** A chaincode failure re-typed by its `CODE: ` prefix, as the gateway will do. */
export class ChainError extends Error {
    constructor(
        readonly code: ErrorCode | 'UNTYPED',
        readonly detail: string,
        readonly endorsement: Endorsement,
    ) {
        super(`${code}: ${detail}`);
        this.name = 'ChainError';
    }
}

function retype(err: unknown): never {
    if (err instanceof SimulatedEndorseError) {
        const parsed = parseWireMessage(err.message);
        throw new ChainError(parsed?.code ?? 'UNTYPED', parsed?.detail ?? err.message, err.endorsement);
    }
    throw err;
}

/** A reply decoded from canonical JSON. */
export type Json = Record<string, unknown>;

export class Chain {
    private constructor(readonly peer: PeerSimulator) {}

    /** @param mspIds - the channel's organizations (the simulator's default: Org1MSP..Org3MSP) */
    /** Chains started and not stopped: the skew check stays off while one runs. */
    private static running = 0;

    static async start(mspIds?: readonly string[]): Promise<Chain> {
        // The simulator's virtual clock is not the host clock; the skew check has its own test.
        setMaxClockSkew(0);
        Chain.running++;
        return new Chain(await PeerSimulator.start({ contracts, folder: CHAINCODE_DIR, channel: CHANNEL, chaincode: CHAINCODE, startTime: START, ...(mspIds === undefined ? {} : { mspIds: [...mspIds] }) }));
    }

    async stop(): Promise<void> {
        await this.peer.stop();
        if (--Chain.running === 0) {
            setMaxClockSkew(undefined);
        }
    }

    actor(options: IdentityOptions): Actor {
        const identity = this.peer.identity(options);
        const facts = certificateFacts(identity.certificatePem);
        return { identity, account: accountOf(options.mspId, facts), mspId: options.mspId };
    }

    /** Endorses and commits; returns the decoded reply. Chaincode errors are thrown as ChainError. */
    async submit(actor: Actor, fn: string, args: readonly string[] = [], options: TransactionOptions = {}): Promise<Json> {
        const submission = await this.submitRaw(actor, fn, args, options);
        if (submission.validationCode !== 'VALID') {
            throw new Error(`${fn} was invalidated: ${submission.validationCode}`);
        }
        return JSON.parse(submission.payload.toString('utf8')) as Json;
    }

    async submitRaw(actor: Actor, fn: string, args: readonly string[] = [], options: TransactionOptions = {}): Promise<Submission> {
        try {
            return await this.peer.submit(actor.identity, fn, args, options);
        } catch (err) {
            return retype(err);
        }
    }

    async evaluate(actor: Actor, fn: string, args: readonly string[] = []): Promise<Json> {
        try {
            const endorsement = await this.peer.evaluate(actor.identity, fn, args);
            return JSON.parse(endorsement.payload.toString('utf8')) as Json;
        } catch (err) {
            return retype(err);
        }
    }

    /** Endorses on the current committed state without committing (for races). */
    endorse(actor: Actor, fn: string, args: readonly string[] = [], options: TransactionOptions = {}): Promise<Endorsement> {
        return this.peer.endorse(actor.identity, fn, args, options);
    }

    /** The event of the newest committed transaction. */
    lastEvent(): { name: string; payload: Json } {
        const events = this.peer.chaincodeEvents();
        const last = events.at(-1);
        if (last === undefined) {
            throw new Error('no chaincode event yet');
        }
        return { name: last.name, payload: JSON.parse(last.payload.toString('utf8')) as Json };
    }

    async balance(actor: Actor | string): Promise<bigint> {
        const account = typeof actor === 'string' ? actor : actor.account;
        const reply = await this.evaluate(this.anyone(), 'queries:GetAccount', [account]);
        return BigInt(reply.balance as string);
    }

    async reputation(executorId: string): Promise<number> {
        return (await this.evaluate(this.anyone(), 'queries:GetExecutor', [executorId])).reputation as number;
    }

    async task(taskId: string): Promise<Json> {
        return this.evaluate(this.anyone(), 'queries:GetTask', [taskId]);
    }

    anyone(): Actor {
        return this.actor({ mspId: 'Org3MSP', name: 'observer' });
    }

    admin(): Actor {
        return this.actor({ mspId: 'Org1MSP', name: 'Admin', ou: 'admin' });
    }

    async mint(to: Actor, amount: bigint): Promise<void> {
        await this.submit(this.admin(), 'credits:Mint', [to.account, amount.toString()]);
    }

    async register(owner: Actor, executorId: string, spec: Json = {}): Promise<void> {
        await this.submit(owner, 'executors:Register', [executorId, JSON.stringify(spec)]);
    }
}

/** Expects a ChainError with `code`; returns it for further assertions. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode | 'UNTYPED'): Promise<ChainError> {
    try {
        await promise;
    } catch (err) {
        if (err instanceof ChainError) {
            if (err.code !== code) {
                throw new Error(`expected ${code}, got ${err.message}`);
            }
            return err;
        }
        throw err;
    }
    throw new Error(`expected ${code}, but the call succeeded`);
}

/** A task key pair as a publisher generates it (SPEC §4). */
export interface TaskKey {
    readonly privateKey: KeyObject;
    readonly publicKeyPem: string;
}

export function newTaskKey(): TaskKey {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export const PROGRAM = { uri: 'https://org1.example.com/programs/count.wasm', sha256: 'a'.repeat(64) };

/** A task spec with an inline input. */
export function taskSpec(id: string, key: TaskKey, input: Buffer, reward = '10', extra: Json = {}): Json {
    return { id, publicKey: key.publicKeyPem, input: { inline: input.toString('base64') }, reward, ...extra };
}

export function openJob(id: string, tasks: readonly Json[], extra: Json = {}): Json {
    return { id, program: PROGRAM, taskCount: tasks.length, deadline: START + 24 * HOUR, leaseMs: HOUR, tasks, ...extra };
}

/** Signatures over (input, result) for a task or merge slot, in the given mode, as an executor makes them. */
export function sign(key: TaskKey, subjectId: string, inputHash: Buffer, result: Buffer, mode: 'separate' | 'combined' = 'separate', binding: Binding = BINDING): Json {
    const resultHash = sha256(result);
    if (mode === 'combined') {
        return { combined: signPayload(key.privateKey, combinedPayload(binding, subjectId, inputHash, resultHash)) };
    }
    return {
        input: signPayload(key.privateKey, inputPayload(binding, subjectId, inputHash)),
        result: signPayload(key.privateKey, resultPayload(binding, subjectId, resultHash)),
    };
}

/** A Submit argument for a task whose input bytes are `input`. */
export function submission(key: TaskKey, taskId: string, input: Buffer, result: Buffer, mode: 'separate' | 'combined' = 'separate'): string {
    return JSON.stringify({ result: result.toString('base64'), signatures: sign(key, taskId, sha256(input), result, mode) });
}

/** Merge signatures over two child results (SPEC §5: slot id, SHA-256 of the child hashes as input). */
export function mergeSignatures(key: TaskKey, jobId: string, y: number, x: number, left: Buffer, right: Buffer, merged: Buffer, mode: 'separate' | 'combined' = 'separate'): Json {
    return sign(key, mergeSlotId(jobId, y, x), mergeInputHash(sha256(left), sha256(right)), merged, mode);
}
