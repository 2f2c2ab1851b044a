// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ErrorCode, LedgerworkError, parseWireMessage, toLedgerworkError } from '../../chaincode/src/core/errors';
import { ID_PATTERN, requireId } from '../../chaincode/src/core/ids';
import { defaultParameters } from '../../chaincode/src/core/model';
import type { ExecutorRecord, TaskRecord } from '../../chaincode/src/core/model';
import {
    cancelFeeOf,
    effectiveFloor,
    effectiveStatus,
    isTerminal,
    leaseExpiry,
    penaltyOf,
    requireClaimable,
    requireClaimant,
    withClaim,
    withFailedAttempt,
    withRejectedAttempt,
    withoutClaim,
} from '../../chaincode/src/core/rules';
import { parseFailureReport, parseFiling, parseJobSpec, parseParameters, parseSubmission } from '../../chaincode/src/core/specs';
import { codeOf } from '../support/codeOf';


const executor: ExecutorRecord = {
    id: 'e1',
    owner: 'a'.repeat(64),
    shard: 'Org1MSP',
    skills: ['simd', 'wasm'],
    mode: 'active',
    capacity: 2,
    status: 'active',
    registeredAt: 0,
    updatedAt: 0,
};

const task: TaskRecord = {
    id: 't1',
    jobId: 'j1',
    index: 1,
    description: '',
    publisher: 'b'.repeat(64),
    program: { uri: 'https://x/p.wasm', sha256: 'c'.repeat(64) },
    publicKey: 'k',
    input: { sha256: 'd'.repeat(64), uri: 'https://x/in', size: 1 },
    reward: '100',
    requirements: { skills: ['wasm'], minReputation: 0 },
    shards: ['Org1MSP', 'Org2MSP'],
    assignment: 'open',
    mode: 'separate',
    leaseMs: 1000,
    deadline: 10_000,
    maxAttempts: 3,
    rules: { reputationGain: 10, penaltyMultiplier: 3, cancelFeeBasisPoints: 2000 },
    maxResultBytes: 1024,
    state: 'published',
    attempts: 0,
    updatedAt: 0,
};

const claim = { executorId: 'e1', account: executor.owner, shard: 'Org1MSP', claimedAt: 5, leaseExpiresAt: 1005 };

describe('wire errors', () => {
    it('formats CODE: detail on one line', () => {
        const error = new LedgerworkError(ErrorCode.NotFound, 'task t1\ndoes not exist');
        expect(error.message).toBe('NOT_FOUND: task t1 does not exist');
        expect(error.code).toBe('NOT_FOUND');
    });

    it.each([
        ['NOT_FOUND: task t1 does not exist', 'NOT_FOUND', 'task t1 does not exist'],
        ['chaincode response 500, LEASE_EXPIRED: the lease ended', 'LEASE_EXPIRED', 'the lease ended'],
        ['transaction returned with failure: INVALID_ID: taskId "a/b" must match x', 'INVALID_ID', 'taskId "a/b" must match x'],
        ['10 ABORTED: failed to endorse transaction, see attached details (HIGH_S: s is high)', 'HIGH_S', 's is high)'],
    ])('finds the code in %j', (text, code, detail) => {
        expect(parseWireMessage(text)).toEqual({ code, detail });
    });

    it('finds nothing in text without a catalogue code', () => {
        for (const text of ['Contract name is not known: x', 'SOMETHING_ELSE: x', 'not_found: x', '']) {
            expect(parseWireMessage(text)).toBeUndefined();
        }
    });

    it('round-trips every code through a peer-style wrapping (property)', () => {
        fc.assert(
            fc.property(fc.constantFrom(...Object.values(ErrorCode)), fc.string({ minLength: 1 }), (code, detail) => {
                const error = new LedgerworkError(code, detail);
                expect(parseWireMessage(`chaincode response 500, ${error.message}`)).toEqual({ code, detail: error.detail });
            }),
        );
    });

    it('wraps anything thrown as INTERNAL and keeps typed errors', () => {
        expect(toLedgerworkError(new Error('boom')).message).toBe('INTERNAL: boom');
        expect(toLedgerworkError('text').code).toBe('INTERNAL');
        const typed = new LedgerworkError(ErrorCode.NotAdmin, 'x');
        expect(toLedgerworkError(typed)).toBe(typed);
    });
});

describe('identifiers', () => {
    it('accepts the allow-list and rejects the rest (property)', () => {
        fc.assert(
            fc.property(fc.string({ maxLength: 70 }), (id) => {
                const accepted = codeOf(() => requireId(id, 'id')) === undefined;
                expect(accepted).toBe(ID_PATTERN.test(id));
                if (accepted) {
                    expect(Array.from(id).some((c) => c === String.fromCharCode(0) || c === '/' || c.trim() === '')).toBe(false);
                }
            }),
            { numRuns: 2000 },
        );
        expect(codeOf(() => requireId('ok\u0000', 'id'))).toBe('INVALID_ID');
        expect(codeOf(() => requireId(7, 'id'))).toBe('INVALID_ID');
    });
});

describe('outcome rules', () => {
    it('computes the penalty as a multiple of the gain and the cancel fee in whole credits', () => {
        expect(penaltyOf(task.rules)).toBe(30);
        expect(cancelFeeOf(100n, task.rules)).toBe(20n);
        expect(cancelFeeOf(9n, task.rules)).toBe(1n);
        expect(cancelFeeOf(4n, task.rules)).toBe(0n);
        fc.assert(
            fc.property(fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.integer({ min: 0, max: 10_000 }), (reward, bps) => {
                const fee = cancelFeeOf(reward, { ...task.rules, cancelFeeBasisPoints: bps });
                expect(fee >= 0n && fee <= reward).toBe(true);
            }),
        );
    });

    it('suspends below the floor, and a reinstatement lowers the floor to where the executor stood', () => {
        expect(effectiveStatus(defaultParameters, executor, -100)).toBe('active');
        expect(effectiveStatus(defaultParameters, executor, -101)).toBe('suspended');
        const reinstated = { ...executor, reinstatedAtReputation: -150 };
        expect(effectiveFloor(defaultParameters, reinstated)).toBe(-150);
        expect(effectiveStatus(defaultParameters, reinstated, -140)).toBe('active');
        expect(effectiveStatus(defaultParameters, reinstated, -151)).toBe('suspended');
        expect(effectiveStatus(defaultParameters, { ...executor, status: 'retired' }, 50)).toBe('retired');
    });

    it('names the unmet requirement of a claim', () => {
        const claimable = (e: ExecutorRecord, reputation: number, claims: number, t: TaskRecord, now = 0): string | undefined =>
            codeOf(() => {
                requireClaimable(defaultParameters, e, reputation, claims, t, now);
            });
        expect(claimable(executor, 0, 0, task)).toBeUndefined();
        expect(claimable({ ...executor, shard: 'Org3MSP' }, 0, 0, task)).toBe('WRONG_SHARD');
        expect(claimable({ ...executor, skills: ['simd'] }, 0, 0, task)).toBe('REQUIREMENT_UNMET');
        expect(claimable(executor, -1, 0, task)).toBe('REQUIREMENT_UNMET');
        expect(claimable(executor, 0, 2, task)).toBe('REQUIREMENT_UNMET');
        expect(claimable({ ...executor, mode: 'passive' }, 0, 0, task)).toBe('REQUIREMENT_UNMET');
        expect(claimable({ ...executor, status: 'suspended' }, 0, 0, task)).toBe('EXECUTOR_INACTIVE');
        expect(claimable(executor, -101, 0, { ...task, requirements: { skills: [], minReputation: -1000 } })).toBe('EXECUTOR_INACTIVE');
        expect(claimable(executor, 0, 0, { ...task, assignment: 'ranked' })).toBe('INVALID_STATE');
        expect(claimable(executor, 0, 0, task, 10_000)).toBe('DEADLINE_PASSED');
        expect(claimable(executor, 0, 0, { ...task, shards: [] })).toBeUndefined();
    });

    it('caps a lease at the deadline', () => {
        expect(leaseExpiry(0, 1000, 10_000)).toBe(1000);
        expect(leaseExpiry(9500, 1000, 10_000)).toBe(10_000);
    });

    it('moves tasks between states as the diagram says (property)', () => {
        const note = { kind: 'run-failed' as const, detail: '', executorId: 'e1', at: 1 };
        fc.assert(
            fc.property(fc.array(fc.constantFrom('claim', 'release', 'fail', 'reject'), { maxLength: 12 }), (steps) => {
                let current: TaskRecord = task;
                for (const step of steps) {
                    if (isTerminal(current.state)) {
                        break;
                    }
                    const before = current;
                    if (step === 'claim' && current.state === 'published') {
                        current = withClaim(current, claim, 1);
                    } else if (step === 'release' && current.state === 'claimed') {
                        current = withoutClaim(current, 2);
                    } else if (step === 'fail' && current.state === 'claimed') {
                        current = withFailedAttempt(current, note, 3);
                    } else if (step === 'reject' && current.state === 'claimed') {
                        current = withRejectedAttempt(current, note, 4);
                        expect(current.state === 'failed' || current.claim !== undefined).toBe(true);
                    }
                    expect(current.attempts).toBeGreaterThanOrEqual(before.attempts);
                    expect(current.state === 'claimed').toBe(current.claim !== undefined);
                    expect(current.attempts >= current.maxAttempts).toBe(current.state === 'failed');
                }
            }),
            { numRuns: 1000 },
        );
    });

    it('checks the claimant by executor and account', () => {
        const claimed = withClaim(task, claim, 1);
        expect(requireClaimant(claimed, 'e1', executor.owner)).toEqual(claim);
        expect(codeOf(() => requireClaimant(claimed, 'e2', executor.owner))).toBe('NOT_CLAIMANT');
        expect(codeOf(() => requireClaimant(claimed, 'e1', 'f'.repeat(64)))).toBe('NOT_CLAIMANT');
        expect(codeOf(() => requireClaimant(task, 'e1', executor.owner))).toBe('INVALID_STATE');
    });
});

describe('argument parsers', () => {
    const limits = { maxInlineBytes: 64, maxTasksPerJob: 8 };

    it('never throw anything but a typed error, whatever JSON they get (property)', () => {
        const parsers: ((json: string) => unknown)[] = [
            (json) => parseJobSpec(json, limits),
            (json) => parseSubmission(json, 64),
            (json) => parseFiling(json, 64),
            (json) => parseFailureReport(json),
            (json) => parseParameters(json, defaultParameters),
        ];
        fc.assert(
            fc.property(fc.jsonValue({ maxDepth: 4 }), fc.nat({ max: parsers.length - 1 }), (value, which) => {
                const code = codeOf(() => parsers[which]!(JSON.stringify(value)));
                expect(code === undefined || !code.startsWith('untyped')).toBe(true);
                expect(code).not.toBe('INTERNAL');
            }),
            { numRuns: 3000 },
        );
    });

    it('parses a filing with a carried ZERO leaf', () => {
        expect(parseFiling('{"y":2,"x":2,"result":"AQI=","carry":{"result":null}}', 64)).toEqual({ y: 2, x: 2, result: Buffer.from([1, 2]), carry: { result: null } });
        expect(codeOf(() => parseFiling('{"y":0,"x":1,"result":null}', 64))).toBe('INVALID_ARGUMENT');
    });

    it('keeps parameters within their bounds and the rest unchanged', () => {
        expect(parseParameters('{"cancelFeeBasisPoints":500}', defaultParameters)).toEqual({ ...defaultParameters, cancelFeeBasisPoints: 500 });
        expect(codeOf(() => parseParameters('{"cancelFeeBasisPoints":10001}', defaultParameters))).toBe('INVALID_ARGUMENT');
        expect(codeOf(() => parseParameters('{"reputationFloor":1}', defaultParameters))).toBe('INVALID_ARGUMENT');
    });
});
