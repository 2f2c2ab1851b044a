// SPDX-License-Identifier: Apache-2.0
/**
 * The peer's Deliver service (`protos.Deliver`: Deliver, DeliverFiltered, DeliverWithPrivateData) and the orderer's
 * (`orderer.AtomicBroadcast/Deliver`), after Fabric's common/deliver/deliver.go, which both serve: each request is a
 * signed `DELIVER_SEEK_INFO` envelope for the channel with a start and a stop position; blocks from the start to the
 * stop are sent in order (waiting for new ones with BLOCK_UNTIL_READY), then a SUCCESS status; a bad request ends
 * with BAD_REQUEST / NOT_FOUND / FORBIDDEN. fabric-gateway's getBlockEvents, getFilteredBlockEvents and
 * getBlockAndPrivateDataEvents (with checkpoints) read the peer's; `peer channel fetch` and block listeners of older
 * SDKs read the orderer's, which sends blocks as the orderer cut them: without the peer's validation codes.
 */
import type * as grpc from '@grpc/grpc-js';
import { common, ledger, orderer, peer } from '@hyperledger/fabric-protos';
import { DevnetError, type Devnet } from './devnet';
import type { ValidEndorser } from './keyPolicy';

type Envelope = InstanceType<typeof common.Envelope>;
type DeliverResponse = InstanceType<typeof peer.DeliverResponse>;
type DeliverCall = grpc.ServerDuplexStream<Envelope, DeliverResponse>;
type OrdererDeliverResponse = InstanceType<typeof orderer.DeliverResponse>;
type OrdererDeliverCall = grpc.ServerDuplexStream<Envelope, OrdererDeliverResponse>;
type Block = InstanceType<typeof common.Block>;

/** How one Deliver service words its two kinds of response. */
interface Responder<R> {
    status(status: number): R;
    /** The block as the stream sends it, for the identity that asked (its private data, where it has any). */
    block(bytes: Uint8Array, requester: ValidEndorser | undefined): R | Promise<R>;
}

/** What a Deliver stream sends per block. */
export type DeliverContent = 'block' | 'filtered' | 'private';

function statusResponse(status: number): DeliverResponse {
    const response = new peer.DeliverResponse();
    response.setStatus(status as ReturnType<DeliverResponse['getStatus']>);
    return response;
}

/** A block as DeliverFiltered sends it: per transaction its id, type, validation code and event names. */
export function filteredBlock(channel: string, block: InstanceType<typeof common.Block>): InstanceType<typeof peer.FilteredBlock> {
    const filtered = new peer.FilteredBlock();
    filtered.setChannelId(channel);
    const number = block.getHeader()?.getNumber() ?? 0;
    filtered.setNumber(number);
    const codes = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array();
    filtered.setFilteredTransactionsList((block.getData()?.getDataList_asU8() ?? []).map((bytes, i) => {
        const tx = new peer.FilteredTransaction();
        const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(bytes).getPayload_asU8());
        const channelHeader = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array());
        tx.setTxid(channelHeader.getTxId());
        tx.setType(channelHeader.getType() as ReturnType<InstanceType<typeof peer.FilteredTransaction>['getType']>);
        tx.setTxValidationCode((codes[i] ?? 0) as ReturnType<InstanceType<typeof peer.FilteredTransaction>['getTxValidationCode']>);
        if (channelHeader.getType() === common.HeaderType.ENDORSER_TRANSACTION) {
            const actions = new peer.FilteredTransactionActions();
            actions.setChaincodeActionsList(peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList().flatMap((action) => {
                const endorsed = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8()).getAction();
                const prp = peer.ProposalResponsePayload.deserializeBinary(endorsed?.getProposalResponsePayload_asU8() ?? new Uint8Array());
                const eventBytes = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8()).getEvents_asU8();
                if (eventBytes.length === 0) {
                    return [];
                }
                // deliverevents.go: a filtered block carries the event without its payload.
                const event = peer.ChaincodeEvent.deserializeBinary(eventBytes);
                event.setPayload(new Uint8Array());
                const filteredAction = new peer.FilteredChaincodeAction();
                filteredAction.setChaincodeEvent(event);
                return [filteredAction];
            }));
            tx.setTransactionActions(actions);
        }
        return tx;
    }));
    return filtered;
}

async function blockResponse(devnet: Devnet, content: DeliverContent, bytes: Uint8Array, requester: ValidEndorser | undefined): Promise<DeliverResponse> {
    const block = common.Block.deserializeBinary(bytes);
    const response = new peer.DeliverResponse();
    if (content === 'block') {
        response.setBlock(block);
    } else if (content === 'filtered') {
        response.setFilteredBlock(filteredBlock(devnet.channel, block));
    } else {
        // deliverevents.go: the private data of the collections whose member policy the requester satisfies.
        const withPrivate = new peer.BlockAndPrivateData();
        withPrivate.setBlock(block);
        const privateData = requester === undefined ? new Map<number, Uint8Array>() : await devnet.blockPrivateData(block.getHeader()?.getNumber() ?? 0, requester);
        const map = withPrivate.getPrivateDataMapMap() as unknown as { set(key: number, value: InstanceType<typeof ledger.rwset.TxPvtReadWriteSet>): unknown };
        for (const [txNum, txPvtRwset] of privateData) {
            map.set(txNum, ledger.rwset.TxPvtReadWriteSet.deserializeBinary(txPvtRwset));
        }
        response.setBlockAndPrivateData(withPrivate);
    }
    return response;
}

/** The block number a seek position designates, given the current height. */
function positionNumber(position: InstanceType<typeof orderer.SeekPosition> | undefined, height: number): number {
    switch (position?.getTypeCase()) {
        case orderer.SeekPosition.TypeCase.OLDEST:
            return 0;
        case orderer.SeekPosition.TypeCase.SPECIFIED:
            return position.getSpecified()?.getNumber() ?? 0;
        case orderer.SeekPosition.TypeCase.NEXT_COMMIT:
            return height;
        case orderer.SeekPosition.TypeCase.NEWEST:
        default:
            // An absent position is "newest", as in deliver.go.
            return height - 1;
    }
}

/** Serves one stream of the peer's Deliver service. */
export function serveDeliver(devnet: Devnet, content: DeliverContent, call: DeliverCall): void {
    serveSeeks(devnet, call, { status: statusResponse, block: (bytes, requester) => blockResponse(devnet, content, bytes, requester) });
}

/**
 * The block as the orderer cut it: the orderer leaves the TRANSACTIONS_FILTER metadata empty (protoutil.NewBlock);
 * the committing peer fills it with each transaction's validation code. The header (and so the hash chain) is the same.
 */
export function orderedBlock(bytes: Uint8Array): Block {
    const block = common.Block.deserializeBinary(bytes);
    const metadata = block.getMetadata();
    if (metadata !== undefined) {
        const entries = metadata.getMetadataList_asU8().slice();
        entries[common.BlockMetadataIndex.TRANSACTIONS_FILTER] = new Uint8Array();
        metadata.setMetadataList(entries);
    }
    return block;
}

/** Serves one stream of the orderer's Deliver (`orderer.AtomicBroadcast/Deliver`). */
export function serveOrdererDeliver(devnet: Devnet, call: OrdererDeliverCall): void {
    serveSeeks(devnet, call, {
        status: (status) => {
            const response = new orderer.DeliverResponse();
            response.setStatus(status as ReturnType<OrdererDeliverResponse['getStatus']>);
            return response;
        },
        block: (bytes) => {
            const response = new orderer.DeliverResponse();
            response.setBlock(orderedBlock(bytes));
            return response;
        },
    });
}

/** Resolves when a block is committed past `number` or the stream goes away; `cancel` stops listening. */
function blockWaiter(devnet: Devnet, number: number, call: grpc.ServerDuplexStream<Envelope, unknown>): { readonly committed: Promise<void>; cancel(): void } {
    let cancel: () => void = () => undefined;
    const committed = new Promise<void>((resolve) => {
        const unsubscribe = devnet.onBlock(() => {
            if (number < devnet.height) {
                cancel();
            }
        });
        cancel = (): void => {
            unsubscribe();
            call.off('cancelled', cancel);
            call.off('close', cancel);
            resolve();
        };
        call.once('cancelled', cancel);
        call.once('close', cancel);
    });
    return { committed, cancel };
}

/**
 * Block `number` once it is committed (undefined if the stream goes away first). It listens for commits before it
 * looks for the block: a block committed between a look and a later subscription would wake no one, and a block
 * listener would then wait for the next block — at the end of a burst of transactions, for good.
 */
async function committedBlock(devnet: Devnet, number: number, call: grpc.ServerDuplexStream<Envelope, unknown>, isClosed: () => boolean): Promise<Uint8Array | undefined> {
    for (;;) {
        const waiter = blockWaiter(devnet, number, call);
        const bytes = await devnet.blockBytes(number);
        if (bytes !== undefined || isClosed()) {
            waiter.cancel();
            return bytes;
        }
        await waiter.committed;
        if (isClosed()) {
            return undefined;
        }
    }
}

/** Serves one Deliver stream: requests are handled one after the other, as deliver.go does. */
function serveSeeks<R>(devnet: Devnet, call: grpc.ServerDuplexStream<Envelope, R>, responder: Responder<R>): void {
    let queue: Promise<void> = Promise.resolve();
    let closed = false;
    const finish = (): void => {
        closed = true;
    };
    call.on('cancelled', finish);
    call.on('close', finish);
    call.on('error', finish);
    call.on('end', () => {
        void queue.then(() => {
            if (!closed) {
                call.end();
            }
        });
    });
    call.on('data', (envelope: Envelope) => {
        queue = queue.then(() => handleRequest(devnet, responder, call, envelope, () => closed)).catch(() => {
            finish();
        });
    });
}

async function handleRequest<R>(devnet: Devnet, responder: Responder<R>, call: grpc.ServerDuplexStream<Envelope, R>, envelope: Envelope, isClosed: () => boolean): Promise<void> {
    const { Status } = common;
    let seekInfo: InstanceType<typeof orderer.SeekInfo>;
    let requester: ValidEndorser | undefined;
    try {
        const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
        const header = payload.getHeader();
        if (header === undefined) {
            call.write(responder.status(Status.BAD_REQUEST));
            return;
        }
        const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
        const signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
        if (channelHeader.getChannelId() !== devnet.channel) {
            call.write(responder.status(Status.NOT_FOUND));
            return;
        }
        try {
            await devnet.checkSignedRequest(signatureHeader.getCreator_asU8(), envelope.getPayload_asU8(), envelope.getSignature_asU8());
        } catch (error) {
            if (error instanceof DevnetError) {
                call.write(responder.status(Status.FORBIDDEN));
                return;
            }
            throw error;
        }
        seekInfo = orderer.SeekInfo.deserializeBinary(payload.getData_asU8());
        requester = devnet.identityOf(signatureHeader.getCreator_asU8());
    } catch {
        call.write(responder.status(Status.BAD_REQUEST));
        return;
    }
    const startPosition = seekInfo.getStart();
    const stopPosition = seekInfo.getStop();
    if (startPosition === undefined || stopPosition === undefined) {
        // deliver.go: "Received seekInfo message … with missing start or stop".
        call.write(responder.status(Status.BAD_REQUEST));
        return;
    }
    const height = devnet.height;
    const start = positionNumber(startPosition, height);
    // deliver.go: a stop at "oldest" means the start block alone.
    const stop = stopPosition.getTypeCase() === orderer.SeekPosition.TypeCase.OLDEST ? start : positionNumber(stopPosition, height);
    if (stop < start) {
        call.write(responder.status(Status.BAD_REQUEST));
        return;
    }
    const failIfNotReady = seekInfo.getBehavior() === orderer.SeekInfo.SeekBehavior.FAIL_IF_NOT_READY;
    // A stop at Number.MAX_SAFE_INTEGER (fabric-gateway's) streams until the client goes away.
    if (await sendBlocks(devnet, responder, call, { start, stop, failIfNotReady, requester }, isClosed)) {
        call.write(responder.status(common.Status.SUCCESS));
    }
}

/** Sends blocks `start` to `stop`; false when the request ended otherwise (NOT_FOUND sent, or the stream gone). */
async function sendBlocks<R>(devnet: Devnet, responder: Responder<R>, call: grpc.ServerDuplexStream<Envelope, R>, range: { start: number; stop: number; failIfNotReady: boolean; requester: ValidEndorser | undefined }, isClosed: () => boolean): Promise<boolean> {
    for (let number = range.start; number <= range.stop; number++) {
        const ready = await devnet.blockBytes(number);
        if (ready === undefined && range.failIfNotReady) {
            call.write(responder.status(common.Status.NOT_FOUND));
            return false;
        }
        const bytes = ready ?? (await committedBlock(devnet, number, call, isClosed));
        if (bytes === undefined || isClosed()) {
            return false;
        }
        call.write(await responder.block(bytes, range.requester));
    }
    return true;
}
