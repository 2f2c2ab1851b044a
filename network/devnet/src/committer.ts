// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet's committing peer: validates each ordered block as Fabric's committer does (envelope signature,
 * endorsement policy, MVCC against the world state), appends it to the durable block store with its validation codes,
 * and only then reports its transactions' statuses and chaincode events. Rebuilds the state from the block store at
 * start.
 */
import { common, peer as peerProtos } from '@hyperledger/fabric-protos';
import { blockDataHash, BlockStore } from './blockStore';
import type { ChannelPolicy } from './channelPolicy';
import { defined } from './defined';
import type { Ledger, OrderedTransaction, TxValidationCode } from './ledger';
import { decodeRwsets } from './rwsetCodec';
import type { StateLock } from './stateLock';

type Block = InstanceType<typeof common.Block>;
type ProtoChaincodeEvent = InstanceType<typeof peerProtos.ChaincodeEvent>;

/** A committed transaction's status. */
export interface TxStatus {
    readonly code: number;
    readonly blockNumber: number;
}

/** A chaincode event of a valid transaction, as the gateway's ChaincodeEvents service delivers it. */
export interface CommittedEvent {
    readonly blockNumber: number;
    readonly event: ProtoChaincodeEvent;
}

interface ParsedTransaction {
    readonly ordered: OrderedTransaction;
    readonly badPayload: boolean;
    readonly event?: ProtoChaincodeEvent;
}

const TX_CODE_NUMBERS: Readonly<Record<TxValidationCode, number>> = {
    VALID: peerProtos.TxValidationCode.VALID,
    MVCC_READ_CONFLICT: peerProtos.TxValidationCode.MVCC_READ_CONFLICT,
    PHANTOM_READ_CONFLICT: peerProtos.TxValidationCode.PHANTOM_READ_CONFLICT,
    DUPLICATE_TXID: peerProtos.TxValidationCode.DUPLICATE_TXID,
    ENDORSEMENT_POLICY_FAILURE: peerProtos.TxValidationCode.ENDORSEMENT_POLICY_FAILURE,
};

/** Validates and commits ordered blocks to the ledger and the block store; answers what was committed. */
export class Committer {
    private readonly statuses = new Map<string, TxStatus>();
    private readonly statusWaiters = new Map<string, ((status: TxStatus) => void)[]>();
    private readonly events: CommittedEvent[][] = [];
    private readonly blockListeners = new Set<(blockNumber: number) => void>();
    /** Every committed block, serialized, for the Deliver service. */
    private readonly blocks: Uint8Array[] = [];
    private readonly store: BlockStore;

    /** Opens the block store at `file`, writing the genesis block to a new one and replaying the blocks of an old one. */
    public constructor(
        file: string,
        private readonly ledger: Ledger,
        private readonly lock: StateLock,
        private readonly policy: ChannelPolicy,
    ) {
        const opened = BlockStore.open(file);
        this.store = opened.store;
        if (opened.blocks.length === 0) {
            const genesis = this.buildBlock(0, []);
            this.store.append(genesis);
            this.blocks.push(genesis.serializeBinary());
            this.events.push([]);
        }
        for (const block of opened.blocks) {
            this.replay(block);
            this.blocks.push(block.serializeBinary());
        }
    }

    /** Ledger height (number of blocks, genesis included). */
    public get height(): number {
        return this.store.height;
    }

    /** Whether a transaction with this id was committed (valid or not). */
    public isCommitted(txId: string): boolean {
        return this.statuses.has(txId);
    }

    /** Validates the ordered `envelopes` as the next block, stores it and reports its transactions. */
    public async commitBlock(envelopes: readonly Uint8Array[]): Promise<void> {
        await this.lock.exclusive(() => {
            const number = this.store.height;
            const parsed = envelopes.map((bytes) => this.parseTransaction(bytes));
            const { codes } = this.ledger.commitBlock(parsed.map((p) => p.ordered));
            const numeric = codes.map((code, i) => defined(parsed[i]).badPayload ? peerProtos.TxValidationCode.BAD_PAYLOAD : TX_CODE_NUMBERS[code]);
            const block = this.buildBlock(number, envelopes, numeric);
            this.store.append(block);
            this.blocks.push(block.serializeBinary());
            this.recordBlock(number, parsed, numeric);
        });
    }

    /** The status of a committed transaction, waiting for its commit if needed. */
    public commitStatus(txId: string): Promise<TxStatus> {
        const known = this.statuses.get(txId);
        if (known !== undefined) {
            return Promise.resolve(known);
        }
        return new Promise((resolve) => {
            const waiters = this.statusWaiters.get(txId) ?? [];
            waiters.push(resolve);
            this.statusWaiters.set(txId, waiters);
        });
    }

    /** The committed block `blockNumber`, serialized (undefined beyond the height). */
    public blockBytes(blockNumber: number): Uint8Array | undefined {
        return this.blocks[blockNumber];
    }

    /** Committed chaincode events of block `blockNumber` (empty if none or not yet committed). */
    public eventsOf(blockNumber: number): readonly CommittedEvent[] {
        return this.events[blockNumber] ?? [];
    }

    /** The block number of a committed transaction id, if any. */
    public blockOf(txId: string): number | undefined {
        return this.statuses.get(txId)?.blockNumber;
    }

    /** Calls `listener` with each newly committed block number; returns an unsubscribe function. */
    public onBlock(listener: (blockNumber: number) => void): () => void {
        this.blockListeners.add(listener);
        return () => this.blockListeners.delete(listener);
    }

    /** Closes the block store. */
    public close(): void {
        this.store.close();
    }

    private recordBlock(number: number, parsed: readonly ParsedTransaction[], codes: readonly number[]): void {
        const events: CommittedEvent[] = [];
        parsed.forEach((tx, i) => {
            const code = defined(codes[i]);
            if (tx.ordered.txId !== '' && !this.statuses.has(tx.ordered.txId)) {
                const status = { code, blockNumber: number };
                this.statuses.set(tx.ordered.txId, status);
                for (const waiter of this.statusWaiters.get(tx.ordered.txId) ?? []) {
                    waiter(status);
                }
                this.statusWaiters.delete(tx.ordered.txId);
            }
            if (code === peerProtos.TxValidationCode.VALID && tx.event !== undefined) {
                events.push({ blockNumber: number, event: tx.event });
            }
        });
        this.events[number] = events;
        for (const listener of this.blockListeners) {
            listener(number);
        }
    }

    private replay(block: Block): void {
        const number = defined(block.getHeader()).getNumber();
        if (number === 0) {
            this.events[0] = [];
            return;
        }
        const envelopes = block.getData()?.getDataList_asU8() ?? [];
        const stored = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array();
        const parsed = envelopes.map((bytes) => this.parseTransaction(bytes));
        // Endorsement checks are not repeated: the stored validation codes say which transactions passed them.
        const ordered = parsed.map((p, i) => ({ ...p.ordered, endorsed: stored[i] !== peerProtos.TxValidationCode.ENDORSEMENT_POLICY_FAILURE && !p.badPayload }));
        const { blockNumber, codes } = this.ledger.commitBlock(ordered);
        const numeric = codes.map((code, i) => defined(parsed[i]).badPayload ? peerProtos.TxValidationCode.BAD_PAYLOAD : TX_CODE_NUMBERS[code]);
        if (blockNumber !== number || numeric.some((code, i) => code !== stored[i])) {
            throw new Error(`replaying block ${number} gave different validation codes than recorded`);
        }
        this.recordBlock(number, parsed, numeric);
    }

    private buildBlock(number: number, envelopes: readonly Uint8Array[], codes: readonly number[] = []): Block {
        const header = new common.BlockHeader();
        header.setNumber(number);
        header.setPreviousHash(this.store.previousHash);
        header.setDataHash(blockDataHash(envelopes));
        const data = new common.BlockData();
        data.setDataList([...envelopes]);
        const metadata = new common.BlockMetadata();
        const entries: Uint8Array[] = [new common.Metadata().serializeBinary(), new Uint8Array(), Uint8Array.from(codes), new Uint8Array(), new Uint8Array()];
        metadata.setMetadataList(entries);
        const block = new common.Block();
        block.setHeader(header);
        block.setData(data);
        block.setMetadata(metadata);
        return block;
    }

    /** Decodes an ordered envelope and checks its endorsements against the default (majority) policy. */
    private parseTransaction(bytes: Uint8Array): ParsedTransaction {
        const bad: ParsedTransaction = { ordered: { txId: '', endorsed: false, rwsets: [] }, badPayload: true };
        try {
            const envelope = common.Envelope.deserializeBinary(bytes);
            const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
            const header = payload.getHeader();
            if (header === undefined) {
                return bad;
            }
            const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
            const txId = channelHeader.getTxId();
            const tx = peerProtos.Transaction.deserializeBinary(payload.getData_asU8());
            const action = tx.getActionsList()[0];
            if (action === undefined || channelHeader.getType() !== common.HeaderType.ENDORSER_TRANSACTION) {
                return bad;
            }
            const actionPayload = peerProtos.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
            const endorsed = actionPayload.getAction();
            if (endorsed === undefined) {
                return bad;
            }
            const prpBytes = endorsed.getProposalResponsePayload_asU8();
            const prp = peerProtos.ProposalResponsePayload.deserializeBinary(prpBytes);
            const ccAction = peerProtos.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
            const namespace = ccAction.getChaincodeId()?.getName() ?? '';
            const rwsets = decodeRwsets(ccAction.getResults_asU8());
            const event = decodeEvent(ccAction.getEvents_asU8());
            const envelopeOk = this.policy.checkEnvelopeSignature(envelope) === undefined;
            const orgsEndorsing = this.policy.endorsingOrgs(prpBytes, endorsed.getEndorsementsList());
            const status = ccAction.getResponse()?.getStatus() ?? 0;
            const policyMet = envelopeOk && namespace !== '' && orgsEndorsing.size >= this.policy.requiredEndorsements && status >= 200 && status < 400;
            return { ordered: { txId, endorsed: policyMet, rwsets }, badPayload: false, ...(event === undefined ? {} : { event }) };
        } catch {
            return bad;
        }
    }
}

function decodeEvent(bytes: Uint8Array): ProtoChaincodeEvent | undefined {
    return bytes.length === 0 ? undefined : peerProtos.ChaincodeEvent.deserializeBinary(bytes);
}
