// SPDX-License-Identifier: Apache-2.0
import type { ChaincodeHandler, ExecuteRequest } from './chaincodeHandler';
import type { KeyValidation } from './keys';
import type { ChaincodeCollections } from './collections';
import type { ValidEndorser } from './keyPolicy';
import type { CollectionPrivateWrites } from './privateRwset';
import { PrivateDataSimulator } from './privateSimulator';
import type { PrivateDataStore } from './privateStore';
import type { UnpackedProposal } from './proposals';
import { protos } from './runtime';
import { TxSimulator, type ReadWriteSet } from './txSimulator';
import type { StateReader } from './worldState';

/** What simulating one proposal produced: the chaincode's response, read/write set and event, or a failure message. */
export type SimulationOutcome =
    | { readonly ok: false; readonly message: string }
    | {
          readonly ok: true;
          readonly status: number;
          readonly message: string;
          readonly payload: Uint8Array;
          readonly rwset: ReadWriteSet;
          /** The private writes, which leave the peer apart from the transaction (empty when none). */
          readonly privateWrites: readonly CollectionPrivateWrites[];
          /** Collections read in plaintext. */
          readonly privateReads: readonly string[];
          /** Whether committed private or hashed state was read at all. */
          readonly privateStateRead: boolean;
          readonly event?: { readonly name: string; readonly payload: Uint8Array };
      };

/** What a peer needs to simulate private data requests. */
export interface PrivateDataContext {
    readonly collections: ChaincodeCollections;
    /** The simulating peer's org: the private values it holds are those of its org. */
    readonly peerMspId: string;
    /** The proposal's creator, for the collections' memberOnlyRead and memberOnlyWrite. */
    readonly creator: ValidEndorser;
    readonly store: PrivateDataStore;
}

function privateSimulator(up: UnpackedProposal, simulator: TxSimulator, context: PrivateDataContext | undefined): PrivateDataSimulator | undefined {
    return context === undefined ? undefined : new PrivateDataSimulator(up.channelId, context.collections, context.peerMspId, context.creator, context.store, simulator);
}

/**
 * Runs a proposal on the chaincode against committed state, as an endorser's simulation does
 * (the peer-side messages of Fabric's endorser on each failure). Shared by the devnet's endorsers
 * and the single-peer simulator.
 */
export async function simulateProposal(
    handler: ChaincodeHandler,
    namespace: string,
    up: UnpackedProposal,
    state: StateReader,
    keyValidation: KeyValidation,
    history?: ExecuteRequest['history'],
    privateContext?: PrivateDataContext,
): Promise<SimulationOutcome> {
    const simulator = new TxSimulator(state, up.txId, keyValidation);
    const privateData = privateSimulator(up, simulator, privateContext);
    try {
        let reply;
        try {
            reply = await handler.execute({ channelId: up.channelId, namespace, txId: up.txId, signedProposal: up.signedProposal, input: up.input, simulator, ...(history === undefined ? {} : { history }), ...(privateData === undefined ? {} : { privateData }) });
        } catch (error) {
            return { ok: false, message: `error in simulation: failed to execute transaction ${up.txId}: ${(error as Error).message}` };
        }
        if (reply.getType() !== protos.peer.ChaincodeMessage.Type.COMPLETED) {
            return { ok: false, message: `error in simulation: transaction returned with failure: ${Buffer.from(reply.getPayload_asU8()).toString()}` };
        }
        const response = protos.peer.Response.deserializeBinary(reply.getPayload_asU8());
        let rwset: ReadWriteSet;
        const privateResults = privateData?.results() ?? { collections: [], writes: [], privateReads: [] };
        try {
            rwset = simulator.getTxSimulationResults();
            if (privateResults.collections.length > 0) {
                rwset = { ...rwset, collections: privateResults.collections };
            }
        } catch (error) {
            return { ok: false, message: `error in simulation: ${(error as Error).message}` };
        }
        const status = response.getStatus();
        const event = reply.getChaincodeEvent();
        return {
            ok: true,
            status,
            message: response.getMessage(),
            payload: response.getPayload_asU8(),
            rwset,
            privateWrites: privateResults.writes,
            privateReads: privateResults.privateReads,
            privateStateRead: privateData?.storeRead ?? false,
            // endorser.go drops the chaincode event of a response with status >= 400.
            ...(event === undefined || status >= 400 ? {} : { event: { name: event.getEventName(), payload: event.getPayload_asU8() } }),
        };
    } finally {
        simulator.done();
    }
}
