// SPDX-License-Identifier: Apache-2.0
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { ErrorCode, LedgerworkError } from '../core/errors';
import { EventName } from '../core/events';
import { ID_PATTERN, requireId } from '../core/ids';
import type { ExecutorRecord } from '../core/model';
import { parseExecutorSpec, parseExecutorUpdate, MAX_DESCRIPTION } from '../core/specs';
import { stringAt } from '../core/fields';
import { reputationOf } from '../ledger/accounts';
import { emit } from '../ledger/events';
import { requireAdmin, requireOwner } from '../ledger/guards';
import { LedgerworkContext } from '../ledger/context';
import { KeyType, getRecord, putIndex, putRecord, requireRecord } from '../ledger/store';
import { LedgerworkContract, reply } from './base';

/** The executor registry (SPEC §7): registration, updates, retirement, admin suspension. */
@Info({ title: 'ExecutorContract', description: 'Registry of compute executors; each belongs to the shard (MSP) of the identity that registered it' })
export class ExecutorContract extends LedgerworkContract {
    constructor() {
        super('executors');
    }

    /** Registers an executor owned by the caller, in the caller's shard. Throws ALREADY_EXISTS, INVALID_ID, INVALID_ARGUMENT. */
    @Transaction()
    @Returns('string')
    async Register(ctx: LedgerworkContext, executorId: string, specJson: string): Promise<string> {
        requireId(executorId, 'executorId', ID_PATTERN);
        const spec = parseExecutorSpec(specJson);
        if ((await getRecord<ExecutorRecord>(ctx, KeyType.Executor, executorId)) !== undefined) {
            throw new LedgerworkError(ErrorCode.AlreadyExists, `executor ${executorId} is already registered`);
        }
        const caller = ctx.caller();
        const now = ctx.now();
        const executor: ExecutorRecord = {
            id: executorId,
            owner: caller.account,
            shard: caller.mspId,
            skills: spec.skills,
            mode: spec.mode,
            capacity: spec.capacity,
            status: 'active',
            registeredAt: now,
            updatedAt: now,
        };
        await putRecord(ctx, executor, KeyType.Executor, executorId);
        await putIndex(ctx, KeyType.ExecutorByShard, executor.shard, executorId);
        emit(ctx, EventName.ExecutorRegistered, { executorId, shard: executor.shard, mode: executor.mode });
        return reply(executor);
    }

    /** Changes skills, mode or capacity. Owner only (NOT_OWNER); retired executors cannot change (INVALID_STATE). */
    @Transaction()
    @Returns('string')
    async Update(ctx: LedgerworkContext, executorId: string, updateJson: string): Promise<string> {
        const executor = await ownedExecutor(ctx, executorId);
        const update = parseExecutorUpdate(updateJson);
        const updated: ExecutorRecord = { ...executor, ...update, updatedAt: ctx.now() };
        await putRecord(ctx, updated, KeyType.Executor, executorId);
        emit(ctx, EventName.ExecutorUpdated, { executorId, shard: executor.shard });
        return reply(updated);
    }

    /** Retires an executor for good: it can no longer claim or be chosen. Owner only. */
    @Transaction()
    @Returns('string')
    async Retire(ctx: LedgerworkContext, executorId: string): Promise<string> {
        const executor = await ownedExecutor(ctx, executorId);
        const retired: ExecutorRecord = { ...executor, status: 'retired', updatedAt: ctx.now() };
        await putRecord(ctx, retired, KeyType.Executor, executorId);
        emit(ctx, EventName.ExecutorRetired, { executorId, shard: executor.shard });
        return reply(retired);
    }

    /** Suspends an executor with a recorded reason. Admin only (NOT_ADMIN). */
    @Transaction()
    @Returns('string')
    async Suspend(ctx: LedgerworkContext, executorId: string, reason: string): Promise<string> {
        const { executor, note } = await adminStatusChange(ctx, executorId, reason);
        const suspended: ExecutorRecord = { ...executor, status: 'suspended', ...note };
        await putRecord(ctx, suspended, KeyType.Executor, executorId);
        emit(ctx, EventName.ExecutorSuspended, { executorId, shard: executor.shard, reason: note.statusReason });
        return reply(suspended);
    }

    /**
     * Reinstates a suspended executor (by an admin or by the reputation floor) with a recorded reason.
     * Its floor becomes its current reputation: it is suspended again only if it loses more. Admin only.
     */
    @Transaction()
    @Returns('string')
    async Reinstate(ctx: LedgerworkContext, executorId: string, reason: string): Promise<string> {
        const { executor, note } = await adminStatusChange(ctx, executorId, reason);
        const reputation = await reputationOf(ctx, executorId, 'fold');
        const reinstated: ExecutorRecord = { ...executor, status: 'active', reinstatedAtReputation: reputation, ...note };
        await putRecord(ctx, reinstated, KeyType.Executor, executorId);
        emit(ctx, EventName.ExecutorReinstated, { executorId, shard: executor.shard, reason: note.statusReason });
        return reply(reinstated);
    }
}

async function ownedExecutor(ctx: LedgerworkContext, executorId: string): Promise<ExecutorRecord> {
    requireId(executorId, 'executorId');
    const executor = await requireRecord<ExecutorRecord>(ctx, 'executor', KeyType.Executor, executorId);
    requireOwner(ctx, executor);
    if (executor.status === 'retired') {
        throw new LedgerworkError(ErrorCode.InvalidState, `executor ${executorId} is retired`);
    }
    return executor;
}

async function adminStatusChange(
    ctx: LedgerworkContext,
    executorId: string,
    reason: string,
): Promise<{ executor: ExecutorRecord; note: { statusReason: string; statusChangedBy: string; updatedAt: number } }> {
    const caller = ctx.caller();
    requireAdmin(ctx, 'suspending or reinstating an executor');
    requireId(executorId, 'executorId');
    const statusReason = stringAt(reason, 'reason', MAX_DESCRIPTION, 1);
    const executor = await requireRecord<ExecutorRecord>(ctx, 'executor', KeyType.Executor, executorId);
    if (executor.status === 'retired') {
        throw new LedgerworkError(ErrorCode.InvalidState, `executor ${executorId} is retired`);
    }
    return { executor, note: { statusReason, statusChangedBy: caller.account, updatedAt: ctx.now() } };
}
