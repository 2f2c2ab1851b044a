// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet's orderer: accepts signed transaction envelopes (Broadcast), cuts them into blocks by size
 * (BatchSize.MaxMessageCount) or time (BatchTimeout) and hands each block, in order, to the committer. A block that
 * fails to commit stops the orderer rather than let the ledger diverge from the block store.
 */
import { common } from '@hyperledger/fabric-protos';
import type { ChannelPolicy } from './channelPolicy';
import { Code, DevnetError } from './devnetError';

/** What the orderer's Broadcast answers for one envelope (orderer.BroadcastResponse). */
export interface BroadcastOutcome {
    /** common.Status: SUCCESS (200), BAD_REQUEST (400), FORBIDDEN (403) or SERVICE_UNAVAILABLE (503). */
    readonly status: number;
    readonly info: string;
}

/**
 * Where the orderer's blocks go: the committing peer. The checks of a transaction that read no state (its
 * endorsements) start as soon as the orderer accepts it, so that they are done by the time its block commits.
 */
export interface BlockSink<Checked> {
    /** Starts the stateless checks of an envelope whose creator's signature the orderer has verified. */
    check(envelopeBytes: Uint8Array): Promise<Checked>;
    /** Commits the next blocks, in order: each block's envelopes, in order, with their checks. */
    commitBlocks(blocks: readonly { readonly envelopes: readonly Uint8Array[]; readonly checked: readonly Checked[] }[]): Promise<void>;
}

/** Most blocks handed to the committer at once, when blocks queue up behind a commit. */
const MAX_BLOCKS_PER_COMMIT = 8;

interface Accepted<Checked> {
    readonly bytes: Uint8Array;
    readonly checked: Promise<Checked>;
}

/** A cut block waiting for its commit. */
interface CutBlock<Checked> {
    readonly envelopes: readonly Uint8Array[];
    readonly checked: Promise<Checked[]>;
}

/** Orders envelopes into blocks and commits them one after the other. */
export class Orderer<Checked> {
    private pending: Accepted<Checked>[] = [];
    private batchTimer: NodeJS.Timeout | undefined;
    /** Cut blocks not yet handed to the committer. */
    private readonly cut: CutBlock<Checked>[] = [];
    /** The commit loop, while it runs; it hands the cut blocks over until none is left. */
    private committing: Promise<void> | undefined;
    private closed = false;
    private failure: Error | undefined;

    /**
     * @param batchSize BatchSize.MaxMessageCount
     * @param batchTimeoutMs BatchTimeout
     * @param sink checks the accepted envelopes and commits the blocks
     */
    public constructor(
        private readonly policy: ChannelPolicy,
        private readonly batchSize: number,
        private readonly batchTimeoutMs: number,
        private readonly sink: BlockSink<Checked>,
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
        this.enqueue(envelopeBytes);
    }

    private enqueue(envelopeBytes: Uint8Array): void {
        const checked = this.sink.check(envelopeBytes);
        // Awaited when the block commits; a failure then stops the orderer (not an unhandled rejection meanwhile).
        checked.catch(() => undefined);
        this.pending.push({ bytes: envelopeBytes, checked });
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

    private unavailable(): BroadcastOutcome | undefined {
        if (this.closed || this.failure !== undefined) {
            return { status: common.Status.SERVICE_UNAVAILABLE, info: this.failure === undefined ? 'the orderer is shutting down' : `committing a block failed: ${this.failure.message}` };
        }
        return undefined;
    }

    /**
     * The orderer's Broadcast of one envelope (orderer/common/broadcast): a malformed envelope or one for another
     * channel is a BAD_REQUEST, one its creator did not validly sign is FORBIDDEN (the channel's Writers policy), and
     * an orderer that stopped answers SERVICE_UNAVAILABLE; an accepted envelope is queued for the next block.
     */
    public async broadcast(envelopeBytes: Uint8Array): Promise<BroadcastOutcome> {
        const stopped = this.unavailable();
        if (stopped !== undefined) {
            return stopped;
        }
        let envelope: InstanceType<typeof common.Envelope>;
        let channelId: string;
        try {
            envelope = common.Envelope.deserializeBinary(envelopeBytes);
            const header = common.Payload.deserializeBinary(envelope.getPayload_asU8()).getHeader();
            if (header === undefined) {
                return { status: common.Status.BAD_REQUEST, info: 'bad header: missing header' };
            }
            channelId = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()).getChannelId();
        } catch (error) {
            return { status: common.Status.BAD_REQUEST, info: `bad payload: ${(error as Error).message}` };
        }
        if (channelId !== this.policy.channel) {
            return { status: common.Status.BAD_REQUEST, info: 'channel creation request not allowed because the orderer system channel is not defined' };
        }
        const failure = await this.policy.checkEnvelopeSignature(envelope);
        if (failure !== undefined) {
            return { status: common.Status.FORBIDDEN, info: failure };
        }
        // The orderer may have closed (or failed) while the signature was being checked.
        const closed = this.unavailable();
        if (closed !== undefined) {
            return closed;
        }
        this.enqueue(envelopeBytes);
        return { status: common.Status.SUCCESS, info: '' };
    }

    /** Orders and commits the pending transactions now; resolves when every cut block is committed. */
    public async flush(): Promise<void> {
        if (this.pending.length > 0) {
            this.cutBlock();
        }
        while (this.committing !== undefined) {
            await this.committing;
        }
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
        const checked = Promise.all(batch.map((accepted) => accepted.checked));
        // Awaited by the commit loop; a failure then stops the orderer (not an unhandled rejection meanwhile).
        checked.catch(() => undefined);
        this.cut.push({ envelopes: batch.map((accepted) => accepted.bytes), checked });
        this.startCommitting();
    }

    private startCommitting(): void {
        if (this.committing !== undefined) {
            return;
        }
        this.committing = this.commitCut().finally(() => {
            this.committing = undefined;
            // A block cut after the loop last looked, before it ended.
            if (this.cut.length > 0 && this.failure === undefined) {
                this.startCommitting();
            }
        });
    }

    /**
     * Hands the cut blocks to the committer, in order, until none is left: the blocks cut while a commit was under way
     * go together (at most {@link MAX_BLOCKS_PER_COMMIT}).
     */
    private async commitCut(): Promise<void> {
        while (this.cut.length > 0 && this.failure === undefined) {
            const group = this.cut.splice(0, MAX_BLOCKS_PER_COMMIT);
            try {
                const blocks = await Promise.all(group.map(async ({ envelopes, checked }) => ({ envelopes, checked: await checked })));
                await this.sink.commitBlocks(blocks);
            } catch (error) {
                // A block may be applied in memory but not stored: stop taking transactions rather than diverge.
                this.failure = error instanceof Error ? error : new Error(String(error));
                process.stderr.write(`devnet: committing a block failed, no longer accepting transactions: ${this.failure.message}\n`);
            }
        }
    }
}
