// SPDX-License-Identifier: Apache-2.0
/**
 * A job's verification policy as the command line writes it (`--verify quorum:2 --max-replicas 4`,
 * `--verify credibility:0.999`) and as the chaincode reads it (the job's `verify` field).
 */

/** The job's `verify` field: one signature, k agreeing replicas, or replicas up to a trust level. */
export type VerifyPolicy =
    | 'signature'
    | { readonly policy: 'quorum'; readonly k: number; readonly maxReplicas: number }
    | { readonly policy: 'credibility'; readonly trust: string; readonly maxReplicas: number };

/** Thrown for a policy text the chaincode would turn down; the message says what is accepted. */
export class VerifyPolicyError extends Error {
    override readonly name = 'VerifyPolicyError';
}

/** Replicas allowed when none are named: twice the quorum, or five for a trust level. */
export const DEFAULT_CREDIBILITY_REPLICAS = 5;

/** The most replicas a task may have (one per organization is the natural bound; this is the hard one). */
export const MAX_REPLICAS = 16;

const TRUST = /^0\.\d{1,6}$/;

/**
 * Parses `signature`, `quorum:K` or `credibility:T` (T a decimal in (0, 1), up to six places),
 * with `maxReplicas` (default 2K for quorum, 5 for credibility).
 * @throws {VerifyPolicyError} for anything else, or maxReplicas below what the policy needs
 */
export function parseVerifyPolicy(text: string, maxReplicas?: number): VerifyPolicy {
    const [name, argument, extra] = text.split(':');
    if (extra === undefined && name === 'signature' && argument === undefined) {
        if (maxReplicas !== undefined) {
            throw new VerifyPolicyError('--max-replicas applies to quorum and credibility, not to signature');
        }
        return 'signature';
    }
    if (extra === undefined && name === 'quorum' && argument !== undefined) {
        return quorum(argument, maxReplicas);
    }
    if (extra === undefined && name === 'credibility' && argument !== undefined) {
        return credibility(argument, maxReplicas);
    }
    throw new VerifyPolicyError(`a verification policy is signature, quorum:K or credibility:T, not ${JSON.stringify(text)}`);
}

function quorum(argument: string, maxReplicas: number | undefined): VerifyPolicy {
    const k = Number(argument);
    if (!/^\d+$/.test(argument) || k < 2 || k > MAX_REPLICAS) {
        throw new VerifyPolicyError(`quorum:K needs a whole K from 2 to ${MAX_REPLICAS}, not ${JSON.stringify(argument)}`);
    }
    return { policy: 'quorum', k, maxReplicas: replicas(maxReplicas ?? Math.min(2 * k, MAX_REPLICAS), k) };
}

function credibility(argument: string, maxReplicas: number | undefined): VerifyPolicy {
    if (!TRUST.test(argument) || /^0\.0+$/.test(argument)) {
        throw new VerifyPolicyError(`credibility:T needs a trust level 0 < T < 1 with at most six decimals (e.g. 0.999), not ${JSON.stringify(argument)}`);
    }
    return { policy: 'credibility', trust: argument, maxReplicas: replicas(maxReplicas ?? DEFAULT_CREDIBILITY_REPLICAS, 1) };
}

function replicas(n: number, atLeast: number): number {
    if (!Number.isSafeInteger(n) || n < atLeast || n > MAX_REPLICAS) {
        throw new VerifyPolicyError(`--max-replicas must be a whole number from ${atLeast} to ${MAX_REPLICAS}, not ${n}`);
    }
    return n;
}

/** The policy as the CLI writes it: `signature`, `quorum:2 (≤ 4 replicas)`, `credibility:0.999 (≤ 5 replicas)`. */
export function describeVerifyPolicy(policy: VerifyPolicy): string {
    if (policy === 'signature') {
        return 'signature';
    }
    return policy.policy === 'quorum' ? `quorum:${policy.k} (≤ ${policy.maxReplicas} replicas)` : `credibility:${policy.trust} (≤ ${policy.maxReplicas} replicas)`;
}
