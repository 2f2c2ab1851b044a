// SPDX-License-Identifier: Apache-2.0
import { parseJsonObject } from './canonicalJson';
import { ErrorCode, LedgerworkError } from './errors';
import {
    amountAt,
    arrayAt,
    base64At,
    idListAt,
    idSetAt,
    integerAt,
    objectAt,
    oneOf,
    optionalIntegerAt,
    optionalStringAt,
    sha256HexAt,
    stringAt,
    uriAt,
} from './fields';
import { MSP_ID_PATTERN, SKILL_PATTERN, requireId } from './ids';
import type { Assignment, ExecutorMode, FailureKind, Parameters, ProgramRef, Requirements, SignatureModeName } from './model';
import { defaultParameters, reportableFailures } from './model';
import { DEFAULT_MERGE_FUEL, MAX_FUEL, ledgerHashOf, splitValidator } from './programs';
import type { MergeVerify, ValidatorPolicy } from './programs';
import { MAX_SALT_BYTES, isReplicated, parseVerify } from './replication';
import type { ReplicatedPolicy } from './replication';

/**
 * Typed, validated forms of every JSON argument a transaction takes. Parsing is pure and rejects
 * anything unexpected with INVALID_ARGUMENT, INVALID_ID or LIMIT_EXCEEDED before any state is touched.
 */

export const MAX_SKILLS = 32;
export const MAX_SHARDS = 16;
export const MAX_DESCRIPTION = 1024;
export const MAX_CAPACITY = 1024;
export const MAX_REPUTATION = 1_000_000_000;
/** Leases from one second to 30 days. */
export const MIN_LEASE_MS = 1000;
export const MAX_LEASE_MS = 30 * 24 * 3600 * 1000;
export const MAX_ATTEMPTS = 100;
/** Latest deadline accepted: year 9999. */
export const MAX_TIME_MS = 253402300799999;
/** Tasks in one publish or AddTasks call, at most (a peer transaction should stay small). */
export const MAX_TASKS_PER_BATCH = 1024;

export interface ExecutorSpec {
    readonly skills: readonly string[];
    readonly mode: ExecutorMode;
    readonly capacity: number;
}

export function parseExecutorSpec(json: string): ExecutorSpec {
    const o = objectAt(parseJsonObject(json, 'executor'), 'executor', ['skills', 'mode', 'capacity']);
    return {
        skills: o.skills === undefined ? [] : idSetAt(o.skills, 'executor.skills', MAX_SKILLS, SKILL_PATTERN),
        mode: o.mode === undefined ? 'active' : oneOf(o.mode, 'executor.mode', ['active', 'passive'] as const),
        capacity: optionalIntegerAt(o.capacity, 'executor.capacity', 1, MAX_CAPACITY, 1),
    };
}

/** Fields an owner may change; absent fields keep their value. */
export interface ExecutorUpdate {
    readonly skills?: readonly string[];
    readonly mode?: ExecutorMode;
    readonly capacity?: number;
}

export function parseExecutorUpdate(json: string): ExecutorUpdate {
    const o = objectAt(parseJsonObject(json, 'update'), 'update', ['skills', 'mode', 'capacity']);
    return {
        ...(o.skills === undefined ? {} : { skills: idSetAt(o.skills, 'update.skills', MAX_SKILLS, SKILL_PATTERN) }),
        ...(o.mode === undefined ? {} : { mode: oneOf(o.mode, 'update.mode', ['active', 'passive'] as const) }),
        ...(o.capacity === undefined ? {} : { capacity: integerAt(o.capacity, 'update.capacity', 1, MAX_CAPACITY) }),
    };
}

/** A task input: the bytes themselves, or their digest, size and where to fetch them. */
export type InputSpec = { readonly inline: Buffer } | { readonly sha256: string; readonly uri: string; readonly size: number };

export interface TaskSpec {
    readonly id: string;
    readonly description: string;
    readonly program?: ProgramRef;
    readonly publicKey: string;
    readonly input: InputSpec;
    readonly reward: bigint;
    readonly requirements?: Requirements;
}

export interface MergeInputSpec {
    readonly program: ProgramRef;
    /** The merge key; '' when the merges are re-executed (they carry no signature then). */
    readonly publicKey: string;
    readonly reward: bigint;
    /** "reexecute": the endorsers re-run the merge program (on the ledger) and accept only its value. */
    readonly verify?: MergeVerify;
}

export interface JobSpec {
    readonly id: string;
    readonly description: string;
    readonly program?: ProgramRef;
    readonly mode: SignatureModeName;
    readonly verify: 'signature' | ReplicatedPolicy;
    /** A validator on the ledger every result must pass (after its signatures, before any replica settlement). */
    readonly validator?: ValidatorPolicy;
    readonly assignment: Assignment;
    readonly shards: readonly string[];
    readonly taskCount: number;
    readonly requirements: Requirements;
    readonly leaseMs?: number;
    readonly deadline: number;
    readonly maxAttempts?: number;
    readonly merge?: MergeInputSpec;
    readonly tasks: readonly TaskSpec[];
}

function programAt(value: unknown, path: string): ProgramRef {
    const o = objectAt(value, path, ['uri', 'sha256']);
    return { uri: uriAt(o.uri, `${path}.uri`), sha256: sha256HexAt(o.sha256, `${path}.sha256`) };
}

function publicKeyAt(value: unknown, path: string): string {
    // The key itself is checked by parsePublicKey when the job is published; here only its shape.
    return stringAt(value, path, 1024, 1);
}

function requirementsAt(value: unknown, path: string): Requirements {
    const o = objectAt(value, path, ['skills', 'minReputation']);
    return {
        skills: o.skills === undefined ? [] : idSetAt(o.skills, `${path}.skills`, MAX_SKILLS, SKILL_PATTERN),
        minReputation: optionalIntegerAt(o.minReputation, `${path}.minReputation`, -MAX_REPUTATION, MAX_REPUTATION, -MAX_REPUTATION),
    };
}

function inputAt(value: unknown, path: string, maxInlineBytes: number): InputSpec {
    const o = objectAt(value, path, ['inline', 'sha256', 'uri', 'size']);
    if (o.inline !== undefined) {
        if (o.sha256 !== undefined || o.uri !== undefined || o.size !== undefined) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `${path} is either {inline} or {sha256, uri, size}, not both`);
        }
        return { inline: base64At(o.inline, `${path}.inline`, maxInlineBytes) };
    }
    return {
        sha256: sha256HexAt(o.sha256, `${path}.sha256`),
        uri: uriAt(o.uri, `${path}.uri`),
        size: integerAt(o.size, `${path}.size`, 0, Number.MAX_SAFE_INTEGER),
    };
}

function taskAt(value: unknown, path: string, maxInlineBytes: number): TaskSpec {
    const o = objectAt(value, path, ['id', 'description', 'program', 'publicKey', 'input', 'reward', 'requirements']);
    return {
        id: requireId(o.id, `${path}.id`),
        description: optionalStringAt(o.description, `${path}.description`, MAX_DESCRIPTION, ''),
        ...(o.program === undefined ? {} : { program: programAt(o.program, `${path}.program`) }),
        publicKey: publicKeyAt(o.publicKey, `${path}.publicKey`),
        input: inputAt(o.input, `${path}.input`, maxInlineBytes),
        reward: amountAt(o.reward, `${path}.reward`, false),
        ...(o.requirements === undefined ? {} : { requirements: requirementsAt(o.requirements, `${path}.requirements`) }),
    };
}

/** Parses a batch of task specs (PublishJob's `tasks`, or AddTasks's argument). */
export function parseTaskBatch(value: unknown, path: string, maxInlineBytes: number, minItems: number): TaskSpec[] {
    const items = arrayAt(value, path, MAX_TASKS_PER_BATCH, minItems);
    const tasks = items.map((item, i) => taskAt(item, `${path}[${i}]`, maxInlineBytes));
    const ids = new Set(tasks.map((t) => t.id));
    if (ids.size !== tasks.length) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${path} repeats a task id`);
    }
    return tasks;
}

const jobFields = [
    'id',
    'description',
    'program',
    'mode',
    'verify',
    'assignment',
    'shards',
    'taskCount',
    'requirements',
    'leaseMs',
    'deadline',
    'maxAttempts',
    'merge',
    'tasks',
];

export function parseJobSpec(json: string, limits: Pick<Parameters, 'maxInlineBytes' | 'maxTasksPerJob'>): JobSpec {
    const o = objectAt(parseJsonObject(json, 'job'), 'job', jobFields);
    const { policy: verifyValue, validator } = splitValidator(o.verify);
    const policy = parseVerify(verifyValue);
    const verify = isReplicated(policy) ? policy : 'signature';
    const assignment = oneOf(o.assignment ?? 'open', 'job.assignment', ['open', 'ranked'] as const);
    const shards = o.shards === undefined ? [] : idListAt(o.shards, 'job.shards', MAX_SHARDS, MSP_ID_PATTERN);
    const spec: JobSpec = {
        id: requireId(o.id, 'job.id'),
        description: optionalStringAt(o.description, 'job.description', MAX_DESCRIPTION, ''),
        ...(o.program === undefined ? {} : { program: programAt(o.program, 'job.program') }),
        mode: oneOf(o.mode ?? 'separate', 'job.mode', ['separate', 'combined'] as const),
        verify,
        ...(validator === undefined ? {} : { validator }),
        assignment,
        shards,
        taskCount: integerAt(o.taskCount, 'job.taskCount', 1, limits.maxTasksPerJob),
        requirements: o.requirements === undefined ? { skills: [], minReputation: -MAX_REPUTATION } : requirementsAt(o.requirements, 'job.requirements'),
        ...(o.leaseMs === undefined ? {} : { leaseMs: integerAt(o.leaseMs, 'job.leaseMs', MIN_LEASE_MS, MAX_LEASE_MS) }),
        deadline: integerAt(o.deadline, 'job.deadline', 0, MAX_TIME_MS),
        ...(o.maxAttempts === undefined ? {} : { maxAttempts: integerAt(o.maxAttempts, 'job.maxAttempts', 1, MAX_ATTEMPTS) }),
        ...(o.merge === undefined ? {} : { merge: mergeAt(o.merge, 'job.merge') }),
        tasks: parseTaskBatch(o.tasks ?? [], 'job.tasks', limits.maxInlineBytes, 0),
    };
    checkJobConsistency(spec);
    return spec;
}

function mergeAt(value: unknown, path: string): MergeInputSpec {
    const o = objectAt(value, path, ['program', 'publicKey', 'reward', 'verify', 'fuel']);
    const program = programAt(o.program, `${path}.program`);
    const reward = amountAt(o.reward ?? '0', `${path}.reward`, true);
    if (o.verify === undefined || o.verify === 'signature') {
        if (o.fuel !== undefined) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `${path}.fuel applies only with ${path}.verify "reexecute"`);
        }
        return { program, publicKey: publicKeyAt(o.publicKey, `${path}.publicKey`), reward };
    }
    oneOf(o.verify, `${path}.verify`, ['signature', 'reexecute'] as const);
    const hash = ledgerHashOf(program.uri, `${path}.program.uri`);
    if (hash === undefined || hash !== program.sha256) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${path}.verify "reexecute" needs the merge program on the ledger: ${path}.program.uri ledger://<sha256> with the same sha256`);
    }
    return {
        program,
        publicKey: o.publicKey === undefined ? '' : publicKeyAt(o.publicKey, `${path}.publicKey`),
        reward,
        verify: { policy: 'reexecute', fuel: integerAt(o.fuel ?? DEFAULT_MERGE_FUEL, `${path}.fuel`, 1, MAX_FUEL) },
    };
}

function checkJobConsistency(spec: JobSpec): void {
    if (spec.tasks.length > spec.taskCount) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `job.tasks has ${spec.tasks.length} tasks but job.taskCount is ${spec.taskCount}`);
    }
    if (spec.assignment === 'ranked') {
        if (spec.merge === undefined) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, 'a ranked job needs job.merge: its nodes combine results in the merge tree');
        }
        if (spec.shards.length === 0) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, 'a ranked job needs job.shards: the organizations its nodes are chosen from');
        }
        if (spec.validator !== undefined) {
            throw new LedgerworkError(ErrorCode.Unsupported, 'a validator applies to open jobs in this chaincode version; a ranked job may re-execute its merges (job.merge.verify "reexecute")');
        }
        if (spec.verify !== 'signature' && spec.merge.verify?.policy === 'reexecute') {
            throw new LedgerworkError(ErrorCode.Unsupported, `job.merge.verify "reexecute" applies to ranked jobs verified by signature; under ${spec.verify.policy} replicas verify every merge`);
        }
    } else if (spec.merge !== undefined) {
        throw new LedgerworkError(ErrorCode.Unsupported, 'job.merge needs assignment "ranked" in this chaincode version');
    }
    for (const task of spec.tasks) {
        if (task.program === undefined && spec.program === undefined) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `task ${task.id} has no program and the job gives no default job.program`);
        }
    }
}

/** The signatures a submission or filing carries, per the job's mode. */
export type Signatures = { readonly mode: 'separate'; readonly input: string; readonly result: string } | { readonly mode: 'combined'; readonly combined: string };

function signaturesAt(value: unknown, path: string): Signatures {
    const o = objectAt(value, path, ['input', 'result', 'combined']);
    if (o.combined !== undefined) {
        if (o.input !== undefined || o.result !== undefined) {
            throw new LedgerworkError(ErrorCode.InvalidArgument, `${path} is either {input, result} or {combined}`);
        }
        return { mode: 'combined', combined: stringAt(o.combined, `${path}.combined`, 256, 1) };
    }
    return { mode: 'separate', input: stringAt(o.input, `${path}.input`, 256, 1), result: stringAt(o.result, `${path}.result`, 256, 1) };
}

export interface Submission {
    readonly result: Buffer;
    readonly signatures: Signatures;
}

export function parseSubmission(json: string, maxInlineBytes: number): Submission {
    const o = objectAt(parseJsonObject(json, 'submission'), 'submission', ['result', 'signatures']);
    return { result: base64At(o.result, 'submission.result', maxInlineBytes), signatures: signaturesAt(o.signatures, 'submission.signatures') };
}

export interface Reveal extends Submission {
    readonly salt: Buffer;
}

/** A replica's reveal: `{"result":"base64","salt":"base64","signatures":{…}}` (salt length is checked with the commitment). */
export function parseReveal(json: string, maxInlineBytes: number): Reveal {
    const o = objectAt(parseJsonObject(json, 'reveal'), 'reveal', ['result', 'salt', 'signatures']);
    return {
        result: base64At(o.result, 'reveal.result', maxInlineBytes),
        salt: base64At(o.salt, 'reveal.salt', MAX_SALT_BYTES),
        signatures: signaturesAt(o.signatures, 'reveal.signatures'),
    };
}

export interface FailureReport {
    readonly kind: FailureKind;
    readonly detail: string;
}

export function parseFailureReport(json: string): FailureReport {
    const o = objectAt(parseJsonObject(json, 'report'), 'report', ['kind', 'detail']);
    return { kind: oneOf(o.kind, 'report.kind', reportableFailures), detail: optionalStringAt(o.detail, 'report.detail', MAX_DESCRIPTION, '') };
}

/** A result at one number: bytes, or ZERO (null), with signatures when it must be verified. */
export interface NumberResult {
    readonly result: Buffer | null;
    readonly signatures?: Signatures;
}

export interface FilingSpec extends NumberResult {
    readonly y: number;
    readonly x: number;
    /** With y = 2: the right child (1, 2x), the merger's own leaf, filed in the same transaction. */
    readonly carry?: NumberResult;
}

function numberResultAt(o: Record<string, unknown>, path: string, maxInlineBytes: number): NumberResult {
    const result = o.result === null ? null : base64At(o.result, `${path}.result`, maxInlineBytes);
    return { result, ...(o.signatures === undefined ? {} : { signatures: signaturesAt(o.signatures, `${path}.signatures`) }) };
}

export function parseFiling(json: string, maxInlineBytes: number): FilingSpec {
    const o = objectAt(parseJsonObject(json, 'filing'), 'filing', ['y', 'x', 'result', 'signatures', 'carry']);
    return {
        y: integerAt(o.y, 'filing.y', 1, 64),
        x: integerAt(o.x, 'filing.x', 1, Number.MAX_SAFE_INTEGER),
        ...numberResultAt(o, 'filing', maxInlineBytes),
        ...(o.carry === undefined
            ? {}
            : { carry: numberResultAt(objectAt(o.carry, 'filing.carry', ['result', 'signatures']), 'filing.carry', maxInlineBytes) }),
    };
}

export function parseParameters(json: string, current: Parameters): Parameters {
    const keys = Object.keys(defaultParameters) as (keyof Parameters)[];
    const o = objectAt(parseJsonObject(json, 'parameters'), 'parameters', keys);
    const bounds: Record<keyof Parameters, readonly [number, number]> = {
        reputationFloor: [-MAX_REPUTATION, 0],
        reputationGain: [0, 1_000_000],
        penaltyMultiplier: [0, 1000],
        cancelFeeBasisPoints: [0, 10_000],
        maxInlineBytes: [0, 1024 * 1024],
        maxTasksPerJob: [1, 65_536],
        defaultLeaseMs: [MIN_LEASE_MS, MAX_LEASE_MS],
        defaultMaxAttempts: [1, MAX_ATTEMPTS],
    };
    const next: Record<string, number> = { ...current };
    for (const key of keys) {
        const [min, max] = bounds[key];
        next[key] = optionalIntegerAt(o[key], `parameters.${key}`, min, max, current[key]);
    }
    return next as unknown as Parameters;
}

/** A page request of a list query: page size 1..1000 and an opaque bookmark from the previous page. `name` is the argument's name in the error. */
export function parsePageSize(value: string, name = 'pageSize'): number {
    if (!/^[1-9][0-9]{0,3}$/.test(value) || Number(value) > 1000) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${name} must be an integer from 1 to 1000`);
    }
    return Number(value);
}

export function parseBookmark(value: string): string {
    if (value.length > 1024) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, 'bookmark is too long');
    }
    return value;
}

/** Parses a decimal amount argument (mint). */
export function parseAmount(value: string, what: string): bigint {
    return amountAt(value, what, false);
}

