// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet's orderer: accepts signed transaction envelopes (Broadcast), cuts them into blocks by size
 * (BatchSize.MaxMessageCount) or time (BatchTimeout) and hands each block, in order, to the committer. A block that
 * fails to commit stops the orderer rather than let the ledger diverge from the block store.
 */
import { common } from '@hyperledger/fabric-protos';
import type { ChannelPolicy } from './channelPolicy';
import { Code, DevnetError } from './devnetError';

/** Orders envelopes into blocks and commits them one after the other. */
export class Orderer {
    private pending: Uint8Array[] = [];
    private batchTimer: NodeJS.Timeout | undefined;
    private committing: Promise<void> = Promise.resolve();
    private closed = false;
    private failure: Error | undefined;

    /**
     * @param batchSize BatchSize.MaxMessageCount
     * @param batchTimeoutMs BatchTimeout
     * @param commitBlock commits the next block of envelopes
     */
    public constructor(
        private readonly policy: ChannelPolicy,
        private readonly batchSize: number,
        private readonly batchTimeoutMs: number,
        private readonly commitBlock: (envelopes: readonly Uint8Array[]) => Promise<void>,
    ) {}

    /** Accepts a signed transaction envelope for ordering (the orderer's Broadcast). */
    public async submit(envelopeBytes: Uint8Array): Promise<void> {
        this.assertAccepting();
        const envelope = common.Envelope.deserializeBinary(envelopeBytes);
        if (envelope.getSignature_asU8().length === 0) {
            throw new DevnetError(Code.INVALID_ARGUMENT, 'prepared transaction must be signed');
        }
        const failure = await this.policy.checkEnvelopeSignature(envelope);
        if (failure !== undefined) {
            throw new DevnetError(Code.ABORTED, `received unsuccessful response from orderer: status=FORBIDDEN, info=${failure}`);
        }
        // The orderer may have closed (or failed) while the signature was being checked.
        this.assertAccepting();
        this.pending.push(envelopeBytes);
        if (this.pending.length >= this.batchSize) {
            this.cutBlock();
        } else if (this.batchTimer === undefined) {
            this.batchTimer = setTimeout(() => { this.cutBlock(); }, this.batchTimeoutMs);
        }
    }

    private assertAccepting(): void {
        if (this.closed || this.failure !== undefined) {
            throw new DevnetError(Code.UNAVAILABLE, `no orderers could successfully process transaction${this.failure === undefined ? '' : `: ${this.failure.message}`}`);
        }
    }

    /** Orders and commits the pending transactions now; resolves when every cut block is committed. */
    public async flush(): Promise<void> {
        if (this.pending.length > 0) {
            this.cutBlock();
        }
        await this.committing;
    }

    /** Commits what is pending and refuses further transactions. */
    public async close(): Promise<void> {
        await this.flush();
        this.closed = true;
    }

    private cutBlock(): void {
        if (this.batchTimer !== undefined) {
            clearTimeout(this.batchTimer);
            this.batchTimer = undefined;
        }
        const batch = this.pending.splice(0, this.batchSize);
        if (this.pending.length > 0) {
            this.batchTimer = setTimeout(() => { this.cutBlock(); }, this.pending.length >= this.batchSize ? 0 : this.batchTimeoutMs);
        }
        if (batch.length === 0) {
            return;
        }
        this.committing = this.committing.then(() => this.commitBlock(batch)).catch((error: unknown) => {
            // The block may be applied in memory but not stored: stop taking transactions rather than diverge.
            this.failure = error instanceof Error ? error : new Error(String(error));
            process.stderr.write(`devnet: committing a block failed, no longer accepting transactions: ${this.failure.message}\n`);
        });
    }
}
