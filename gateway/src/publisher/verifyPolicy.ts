// SPDX-License-Identifier: Apache-2.0
/**
 * A job's verification policy as the command line writes it (`--verify quorum:2 --max-replicas 4`,
 * `--verify credibility:0.999`), turned into the job's `verify` field and checked by the same core
 * function the chaincode uses, so the command line refuses exactly what Publish would.
 */
import { LedgerworkError, MAX_REPLICAS, parseVerify } from '@ledgerwork/core';
import type { VerifyPolicy } from '@ledgerwork/core';

export type { VerifyPolicy } from '@ledgerwork/core';

/** Thrown for a policy text the chaincode would turn down; the message says what is accepted. */
export class VerifyPolicyError extends Error {
    override readonly name = 'VerifyPolicyError';
}

/** Replicas allowed for a trust level when none are named. */
export const DEFAULT_CREDIBILITY_REPLICAS = 5;

/**
 * Parses `signature`, `quorum:K` or `credibility:T` (T a decimal from 0.5 to 0.999999), with
 * `maxReplicas` (default 2K for quorum — room for one round of disagreement —, 5 for credibility).
 * @throws {VerifyPolicyError} for anything the chaincode would refuse
 */
export function parseVerifyPolicy(text: string, maxReplicas?: number): VerifyPolicy {
    const [name, argument, extra] = text.split(':');
    if (extra === undefined && name === 'signature' && argument === undefined) {
        if (maxReplicas !== undefined) {
            throw new VerifyPolicyError('--max-replicas applies to quorum and credibility, not to signature');
        }
        return { policy: 'signature' };
    }
    if (extra === undefined && name === 'quorum' && argument !== undefined) {
        if (!/^\d{1,2}$/.test(argument)) {
            throw new VerifyPolicyError(`quorum:K needs a whole K from 2 to ${MAX_REPLICAS}, not ${JSON.stringify(argument)}`);
        }
        const k = Number(argument);
        return checked({ policy: 'quorum', k, maxReplicas: maxReplicas ?? Math.min(2 * k, MAX_REPLICAS) });
    }
    if (extra === undefined && name === 'credibility' && argument !== undefined) {
        return checked({ policy: 'credibility', trust: argument, maxReplicas: maxReplicas ?? DEFAULT_CREDIBILITY_REPLICAS });
    }
    throw new VerifyPolicyError(`a verification policy is signature, quorum:K or credibility:T, not ${JSON.stringify(text)}`);
}

function checked(policy: VerifyPolicy): VerifyPolicy {
    try {
        return parseVerify(policy, 'verify');
    } catch (err) {
        if (err instanceof LedgerworkError) {
            throw new VerifyPolicyError(err.detail);
        }
        throw err;
    }
}

/** The policy as the CLI writes it: `signature`, `quorum:2 (≤ 4 replicas)`, `credibility:0.999 (≤ 5 replicas)`. */
export function describeVerifyPolicy(policy: VerifyPolicy | 'signature' | undefined): string {
    if (policy === undefined || policy === 'signature' || policy.policy === 'signature') {
        return 'signature';
    }
    return policy.policy === 'quorum' ? `quorum:${policy.k} (≤ ${policy.maxReplicas} replicas)` : `credibility:${policy.trust} (≤ ${policy.maxReplicas} replicas)`;
}
