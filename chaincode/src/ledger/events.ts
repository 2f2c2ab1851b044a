// SPDX-License-Identifier: Apache-2.0
import { canonicalBytes } from '../core/canonicalJson';
import type { EventName } from '../core/events';
import type { LedgerworkContext } from './context';

/** Sets the transaction's chaincode event (Fabric keeps one per transaction: the last call wins). */
export function emit(ctx: LedgerworkContext, name: EventName, payload: unknown): void {
    ctx.stub.setEvent(name, canonicalBytes(payload));
}
