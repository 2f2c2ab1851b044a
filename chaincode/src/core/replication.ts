// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { compareCodeUnits, integerAt, objectAt, oneOf, stringAt } from './fields';
import { ErrorCode, LedgerworkError } from './errors';
import { encodeFields } from './signature';
import type { Binding } from './signature';
import { requireId } from './ids';

/**
 * Replicated verification: quorum and credibility policies, commit–reveal commitments, the
 * credibility function and the settlement rule that says, from a task's replicas alone, whether a
 * value is accepted, the task has failed, or how many more replica slots are open. All of it pure
 * integer arithmetic, so every endorsing peer decides alike; scripts/gen_replication_vectors.py
 * reproduces it independently.
 */

/** Most replicas one task may use (each from a different organization). */
export const MAX_REPLICAS = 16;
/** A commitment's salt: at least 16 random bytes (guessing the result from the commitment must be hopeless), at most 64. */
export const MIN_SALT_BYTES = 16;
export const MAX_SALT_BYTES = 64;
/** Domain string that starts every commitment preimage. */
export const COMMIT_DOMAIN = 'ledgerwork/v1/commit';

export type VerifyPolicy =
    | { readonly policy: 'signature' }
    | { readonly policy: 'quorum'; readonly k: number; readonly maxReplicas: number }
    | { readonly policy: 'credibility'; readonly trust: string; readonly maxReplicas: number };

/** A policy that runs a task on several replicas. */
export type ReplicatedPolicy = Exclude<VerifyPolicy, { readonly policy: 'signature' }>;

export function isReplicated(policy: VerifyPolicy): policy is ReplicatedPolicy {
    return policy.policy !== 'signature';
}

/** `0.` then one to six digits, the last not 0: one spelling per value, from 0.5 to 0.999999. */
const TRUST_PATTERN = /^0\.[0-9]{0,5}[1-9]$/;

/**
 * Parses a job's `verify` field: the string "signature", or an object
 * `{"policy":"signature"}`, `{"policy":"quorum","k":2,"maxReplicas":4}`,
 * `{"policy":"credibility","trust":"0.999","maxReplicas":5}` (trust a decimal string, never a number).
 * @throws {LedgerworkError} INVALID_ARGUMENT naming the offending field
 */
export function parseVerify(value: unknown, path = 'job.verify'): VerifyPolicy {
    if (value === undefined || value === 'signature') {
        return { policy: 'signature' };
    }
    if (typeof value === 'string') {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${path} must be "signature" or a policy object such as {"policy":"quorum","k":2,"maxReplicas":4}`);
    }
    const o = objectAt(value, path, ['policy', 'k', 'maxReplicas', 'trust']);
    const policy = oneOf(o.policy, `${path}.policy`, ['signature', 'quorum', 'credibility'] as const);
    if (policy === 'signature') {
        objectAt(value, path, ['policy']);
        return { policy };
    }
    if (policy === 'quorum') {
        objectAt(value, path, ['policy', 'k', 'maxReplicas']);
        const k = integerAt(o.k, `${path}.k`, 2, MAX_REPLICAS);
        const maxReplicas = integerAt(o.maxReplicas ?? k, `${path}.maxReplicas`, k, MAX_REPLICAS);
        return { policy, k, maxReplicas };
    }
    objectAt(value, path, ['policy', 'trust', 'maxReplicas']);
    const trust = stringAt(o.trust, `${path}.trust`, 8, 1);
    if (!TRUST_PATTERN.test(trust) || trustFraction(trust).numerator * 2n < trustFraction(trust).denominator) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `${path}.trust must be a decimal string from "0.5" to "0.999999" without trailing zeros, such as "0.999"`);
    }
    return { policy, trust, maxReplicas: integerAt(o.maxReplicas, `${path}.maxReplicas`, 1, MAX_REPLICAS) };
}

/** How many distinct organizations a policy needs at publish: k for quorum, one for credibility. */
export function shardsNeeded(policy: ReplicatedPolicy): number {
    return policy.policy === 'quorum' ? policy.k : 1;
}

/** The trust level as an exact fraction: "0.999" → 999/1000. */
export function trustFraction(trust: string): { numerator: bigint; denominator: bigint } {
    const digits = trust.slice(2);
    return { numerator: BigInt(digits), denominator: 10n ** BigInt(digits.length) };
}

/**
 * The commitment a replica files before it reveals: SHA-256 of the fields
 * ["ledgerwork/v1/commit", channel, chaincode, subjectId, executorId, SHA-256(result), salt], each
 * prefixed with its 4-byte big-endian length (the signature payload encoding). The subject is the
 * task id (open jobs) or the slot id `<jobId>/<y>/<x>` (ranked numbers).
 * @throws {LedgerworkError} INVALID_ID for a bad executor id; INVALID_ARGUMENT for a result hash that
 *   is not 32 bytes or a salt outside 16..64 bytes
 */
export function commitmentOf(binding: Binding, subjectId: string, executorId: string, resultHash: Uint8Array, salt: Uint8Array): Buffer {
    requireId(executorId, 'executor id');
    if (resultHash.length !== 32) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, 'the result hash of a commitment must be 32 bytes');
    }
    if (salt.length < MIN_SALT_BYTES || salt.length > MAX_SALT_BYTES) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `a commitment salt must be ${MIN_SALT_BYTES} to ${MAX_SALT_BYTES} bytes, not ${salt.length}`);
    }
    if (binding.channel === '' || binding.chaincode === '' || subjectId === '') {
        throw new LedgerworkError(ErrorCode.InvalidArgument, 'channel, chaincode and subject of a commitment must not be empty');
    }
    const preimage = encodeFields([COMMIT_DOMAIN, binding.channel, binding.chaincode, subjectId, executorId, resultHash, salt]);
    return createHash('sha256').update(preimage).digest();
}

/** Parses a commitment argument: 64 lower-case hex digits. */
export function parseCommitment(value: string): string {
    if (!/^[0-9a-f]{64}$/.test(value)) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, 'commitment must be a SHA-256 digest as 64 lower-case hex characters');
    }
    return value;
}

/**
 * Credibility from reputation. An executor with reputation r ≥ 0 is taken to return a wrong value
 * with probability e(r) = 10 / (50 + r): a newcomer (r = 0) errs one time in five, one with a
 * thousand reputation points (100 clean results at the default gain) about one in 105, one with ten
 * thousand about one in 1005. An executor with negative reputation counts for nothing: e = 1/2.
 * Returned as the exact fraction e = errorNumerator / errorDenominator.
 */
export function errorRate(reputation: number): { numerator: bigint; denominator: bigint } {
    if (!Number.isSafeInteger(reputation)) {
        throw new LedgerworkError(ErrorCode.InvalidArgument, `reputation ${String(reputation)} must be a safe integer`);
    }
    if (reputation < 0) {
        return { numerator: 1n, denominator: 2n };
    }
    return { numerator: CREDIBILITY_ERROR_WEIGHT, denominator: CREDIBILITY_PRIOR + BigInt(reputation) };
}

export const CREDIBILITY_ERROR_WEIGHT = 10n;
export const CREDIBILITY_PRIOR = 50n;

/** Credibility 1 − e(r) in millionths, rounded down (for display; decisions use exact fractions). */
export function credibilityPpm(reputation: number): number {
    const { numerator, denominator } = errorRate(reputation);
    return Number(((denominator - numerator) * 1_000_000n) / denominator);
}

/** What a revealed replica contributes to a vote. */
export interface Vote {
    readonly shard: string;
    readonly sha256: string;
    /** Reputation when the replica was claimed. */
    readonly reputation: number;
}

/**
 * The credibility of value `sha256` given all revealed votes (Sarmenta's rule, as in iExec's
 * replicated proof of contribution): with each voter erring independently with its e(r), the
 * likelihood that value w is right is L(w) = Π over w's voters of (1 − e) × Π over the others of e,
 * and that every vote is wrong is L(none) = Π of all e. Credibility(v) = L(v) / (Σ_w L(w) + L(none)).
 * Computed exactly: every e shares no denominator, so the common factor Π 1/denominator cancels and
 * numerators stay integers.
 * @returns the exact fraction
 */
export function valueCredibility(votes: readonly Vote[], sha256: string): { numerator: bigint; denominator: bigint } {
    const values = distinctValues(votes);
    const likelihood = (value: string | undefined): bigint =>
        votes.reduce((product, vote) => {
            const { numerator, denominator } = errorRate(vote.reputation);
            return product * (vote.sha256 === value ? denominator - numerator : numerator);
        }, 1n);
    const total = values.reduce((sum, value) => sum + likelihood(value), likelihood(undefined));
    return { numerator: values.includes(sha256) ? likelihood(sha256) : 0n, denominator: total };
}

/** True when the value's credibility reaches the trust level (exact comparison). */
export function meetsTrust(votes: readonly Vote[], sha256: string, trust: string): boolean {
    const credibility = valueCredibility(votes, sha256);
    const level = trustFraction(trust);
    return credibility.numerator * level.denominator >= level.numerator * credibility.denominator;
}

function distinctValues(votes: readonly Vote[]): string[] {
    return [...new Set(votes.map((vote) => vote.sha256))].sort(compareCodeUnits);
}

/**
 * Life of a replica slot: claimed → committed → revealed; a reveal that fails its commitment or
 * signatures is rejected; a window that passes abandons it; a reported run failure fails it; when
 * the task is settled, replicas still in flight are superseded.
 */
export const ReplicaState = {
    Claimed: 'claimed',
    Committed: 'committed',
    Revealed: 'revealed',
    Rejected: 'rejected',
    Abandoned: 'abandoned',
    Failed: 'failed',
    Superseded: 'superseded',
} as const;
export type ReplicaState = (typeof ReplicaState)[keyof typeof ReplicaState];

/** Replicas that hold their organization's place in the task: no other replica of that shard may join. */
export function holdsShard(state: ReplicaState): boolean {
    return state === 'claimed' || state === 'committed' || state === 'revealed';
}

export function inFlight(state: ReplicaState): boolean {
    return state === 'claimed' || state === 'committed';
}

/** The part of a replica the settlement rule reads. */
export interface ReplicaView {
    readonly executorId: string;
    readonly shard: string;
    readonly state: ReplicaState;
    readonly reputation: number;
    /** Set once revealed. */
    readonly resultSha256?: string;
}

export type Settlement =
    | {
          readonly kind: 'accepted';
          readonly sha256: string;
          /** Revealed replicas of the accepted value, by executor id: each is paid once. */
          readonly agreeing: readonly string[];
          /** Revealed replicas of other values: penalised like a rejected result. */
          readonly disagreeing: readonly string[];
          /** Still in flight: closed without pay or penalty. */
          readonly superseded: readonly string[];
      }
    | { readonly kind: 'failed'; readonly superseded: readonly string[] }
    | { readonly kind: 'open'; readonly openSlots: number };

/**
 * Decides a task from its replicas (any order; the result does not depend on it).
 * Quorum k: a value is accepted once revealed by replicas of k distinct shards. Otherwise slots open
 * so that the best value could still reach k: open = min(unused, k − best − in flight); when even
 * every in-flight and unused slot agreeing with the best value would not reach k, the task fails.
 * Credibility: a value is accepted once its credibility reaches the trust level; otherwise one slot
 * opens whenever no replica is in flight, and the task fails when all maxReplicas slots are spent.
 */
export function settle(policy: ReplicatedPolicy, replicas: readonly ReplicaView[]): Settlement {
    const revealed = replicas.filter((r) => r.state === 'revealed' && r.resultSha256 !== undefined);
    const flying = replicas.filter((r) => inFlight(r.state));
    const unused = Math.max(0, policy.maxReplicas - replicas.length);
    const values = distinctValues(revealed.map((r) => ({ shard: r.shard, sha256: r.resultSha256 ?? '', reputation: r.reputation })));
    const shardsOf = (value: string): number => new Set(revealed.filter((r) => r.resultSha256 === value).map((r) => r.shard)).size;
    const accept = (value: string): Settlement => ({
        kind: 'accepted',
        sha256: value,
        agreeing: sortedIds(revealed.filter((r) => r.resultSha256 === value)),
        disagreeing: sortedIds(revealed.filter((r) => r.resultSha256 !== value)),
        superseded: sortedIds(flying),
    });
    if (policy.policy === 'quorum') {
        const winner = values.find((value) => shardsOf(value) >= policy.k);
        if (winner !== undefined) {
            return accept(winner);
        }
        const best = values.reduce((most, value) => Math.max(most, shardsOf(value)), 0);
        if (best + flying.length + unused < policy.k) {
            return { kind: 'failed', superseded: sortedIds(flying) };
        }
        return { kind: 'open', openSlots: Math.min(unused, Math.max(0, policy.k - best - flying.length)) };
    }
    const votes = revealed.map((r) => ({ shard: r.shard, sha256: r.resultSha256 ?? '', reputation: r.reputation }));
    const winner = values.find((value) => meetsTrust(votes, value, policy.trust));
    if (winner !== undefined) {
        return accept(winner);
    }
    if (flying.length === 0 && unused === 0) {
        return { kind: 'failed', superseded: [] };
    }
    return { kind: 'open', openSlots: flying.length === 0 ? 1 : 0 };
}

function sortedIds(replicas: readonly ReplicaView[]): string[] {
    return replicas.map((r) => r.executorId).sort(compareCodeUnits);
}

/** Windows of a replica: commit within one lease of the claim, reveal within two; never past the job's deadline. */
export function replicaWindows(claimedAt: number, leaseMs: number, deadline: number): { commitBy: number; revealBy: number } {
    return { commitBy: Math.min(claimedAt + leaseMs, deadline), revealBy: Math.min(claimedAt + 2 * leaseMs, deadline) };
}

/**
 * Whether a committed replica may reveal now: before its reveal window closes, and either its own
 * commit window has passed or every replica the task currently needs has committed (no open slot,
 * nobody still only claimed) — so no reveal is public while another replica could still choose its value.
 */
export function revealOpen(
    policy: ReplicatedPolicy,
    replicas: readonly ReplicaView[],
    me: { readonly state: ReplicaState; readonly commitBy: number; readonly revealBy: number },
    now: number,
): boolean {
    if (me.state !== 'committed' || now >= me.revealBy) {
        return false;
    }
    if (now >= me.commitBy) {
        return true;
    }
    const outcome = settle(policy, replicas);
    return outcome.kind === 'open' && outcome.openSlots === 0 && !replicas.some((r) => r.state === 'claimed');
}
