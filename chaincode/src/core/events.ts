// SPDX-License-Identifier: Apache-2.0

/**
 * Chaincode event names. Fabric keeps one event per transaction, so every submitted ledgerwork
 * transaction emits exactly one, and each payload names the job (and task or number) it concerns:
 * a listener can follow a job from events alone.
 */
export const EventName = {
    ParametersSet: 'ParametersSet',
    CreditsMinted: 'CreditsMinted',
    ExecutorRegistered: 'ExecutorRegistered',
    ExecutorUpdated: 'ExecutorUpdated',
    ExecutorRetired: 'ExecutorRetired',
    ExecutorSuspended: 'ExecutorSuspended',
    ExecutorReinstated: 'ExecutorReinstated',
    JobPublished: 'JobPublished',
    TasksPublished: 'TasksPublished',
    JobCancelled: 'JobCancelled',
    TaskClaimed: 'TaskClaimed',
    TaskReleased: 'TaskReleased',
    ResultAccepted: 'ResultAccepted',
    ResultRejected: 'ResultRejected',
    RunFailed: 'RunFailed',
    LeaseExpired: 'LeaseExpired',
    JobExpired: 'JobExpired',
    NothingExpired: 'NothingExpired',
    MergeFiled: 'MergeFiled',
    RankReassigned: 'RankReassigned',
    JobCompleted: 'JobCompleted',
    BalanceCompacted: 'BalanceCompacted',
    ReputationCompacted: 'ReputationCompacted',
    ReplicaClaimed: 'ReplicaClaimed',
    ReplicaCommitted: 'ReplicaCommitted',
    ReplicaRevealed: 'ReplicaRevealed',
    ReplicationFailed: 'ReplicationFailed',
    ProgramStored: 'ProgramStored',
} as const;
export type EventName = (typeof EventName)[keyof typeof EventName];
