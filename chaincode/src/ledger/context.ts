// SPDX-License-Identifier: Apache-2.0
import { Context } from 'fabric-contract-api';
import { peer as peerProtos } from '@hyperledger/fabric-protos';
import type { Binding } from '../core/signature';
import { accountOf, certificateFacts } from '../core/identity';
import { ErrorCode, LedgerworkError } from '../core/errors';

/** The identity calling a transaction. */
export interface Caller {
    readonly account: string;
    readonly mspId: string;
    readonly isAdmin: boolean;
}

interface DecodedProposal {
    readonly proposal?: { readonly header?: { readonly channelHeader?: { getExtension_asU8(): Uint8Array } } };
}

/**
 * Per-transaction context. Everything a transaction knows about time, randomness and its caller
 * comes from here, and only from the transaction itself: the timestamp, the transaction id, the
 * creator certificate and the proposal's channel and chaincode name.
 */
export class LedgerworkContext extends Context {
    #caller: Caller | undefined;

    /**
     * Record writes of this transaction by state key (null = deleted). A peer gives no
     * read-your-writes, so a transaction that touches one record in two steps (a sweep expiring a
     * lease, then the job's deadline) would otherwise work from the stale committed copy.
     */
    readonly written = new Map<string, Buffer | null>();

    #deltaSequence = 0;

    /** Distinguishes the delta records one transaction writes under the same owner, time and tx id. */
    nextDeltaSequence(): number {
        return this.#deltaSequence++;
    }

    /** Transaction time in whole milliseconds (the client's timestamp, identical on every endorser). */
    now(): number {
        return this.stub.getDateTimestamp().getTime();
    }

    txId(): string {
        return this.stub.getTxID();
    }

    caller(): Caller {
        if (this.#caller === undefined) {
            const mspId = this.clientIdentity.getMSPID();
            const pem = Buffer.from(this.clientIdentity.getIDBytes()).toString('utf8');
            const facts = certificateFacts(pem);
            const isAdmin = facts.organizationalUnits.includes('admin') || this.clientIdentity.getAttributeValue('ledgerwork.admin') === 'true';
            this.#caller = { account: accountOf(mspId, facts), mspId, isAdmin };
        }
        return this.#caller;
    }

    /** Channel and chaincode name that signatures are bound to (SPEC §5). */
    binding(): Binding {
        const proposal = this.stub.getSignedProposal() as unknown as DecodedProposal | undefined;
        const channelHeader = proposal?.proposal?.header?.channelHeader;
        if (channelHeader === undefined) {
            throw new LedgerworkError(ErrorCode.Internal, 'the proposal carries no channel header');
        }
        const extension = peerProtos.ChaincodeHeaderExtension.deserializeBinary(channelHeader.getExtension_asU8());
        const chaincode = extension.getChaincodeId()?.getName() ?? '';
        if (chaincode === '') {
            throw new LedgerworkError(ErrorCode.Internal, 'the proposal names no chaincode');
        }
        return { channel: this.stub.getChannelID(), chaincode };
    }
}
