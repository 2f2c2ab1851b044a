// SPDX-License-Identifier: Apache-2.0
import { treeShape } from './mergeTree';
import type { JobRecord, Parameters } from './model';
import { parsePublicKey } from './signature';
import type { JobSpec } from './specs';

/**
 * The record of a job about to be published, before its tasks: the channel's defaults and outcome
 * rules fixed into it, and for a ranked job the merge tree's size.
 * @throws {LedgerworkError} INVALID_PUBLIC_KEY when the merge key does not parse
 */
export function newJob(spec: JobSpec, publisher: string, publisherMsp: string, parameters: Parameters, now: number): JobRecord {
    const shape = spec.merge === undefined ? undefined : treeShape(spec.taskCount);
    if (spec.merge !== undefined && spec.merge.publicKey !== '') {
        parsePublicKey(spec.merge.publicKey);
    }
    return {
        id: spec.id,
        publisher,
        publisherMsp,
        description: spec.description,
        ...(spec.program === undefined ? {} : { program: spec.program }),
        mode: spec.mode,
        verify: spec.verify,
        ...(spec.validator === undefined ? {} : { validator: spec.validator }),
        assignment: spec.assignment,
        shards: spec.shards,
        taskCount: spec.taskCount,
        publishedCount: 0,
        requirements: spec.requirements,
        leaseMs: spec.leaseMs ?? parameters.defaultLeaseMs,
        deadline: spec.deadline,
        maxAttempts: spec.maxAttempts ?? parameters.defaultMaxAttempts,
        rules: {
            reputationGain: parameters.reputationGain,
            penaltyMultiplier: parameters.penaltyMultiplier,
            cancelFeeBasisPoints: parameters.cancelFeeBasisPoints,
        },
        ...(spec.merge === undefined || shape === undefined
            ? {}
            : {
                  merge: {
                      program: spec.merge.program,
                      publicKey: spec.merge.publicKey,
                      reward: spec.merge.reward.toString(),
                      ...(spec.merge.verify === undefined ? {} : { verify: spec.merge.verify }),
                      nodeCount: shape.nodeCount,
                      height: shape.height,
                  },
              }),
        state: 'publishing',
        createdAt: now,
        updatedAt: now,
        taskEscrow: '0',
    };
}
