// SPDX-License-Identifier: Apache-2.0
/**
 * The peer side of the chaincode protocol, after Fabric 2.5's core/chaincode/handler.go and
 * query_response_generator.go: registration (REGISTER → REGISTERED, READY), TRANSACTION execution, and the
 * chaincode's ledger requests (GET_STATE, PUT_STATE, DEL_STATE, GET_STATE_BY_RANGE, GET_QUERY_RESULT, QUERY_STATE_NEXT,
 * QUERY_STATE_CLOSE) answered with RESPONSE or ERROR messages.
 */
import { randomUUID } from 'node:crypto';
import type { PeerStream } from './chatStream';
import { assertUtf8StringFields } from './keys';
import type { KeyModification } from './ledgerDb';
import type { PrivateDataSimulator } from './privateSimulator';
import { newTimestamp, protos, type ChaincodeInput, type ChaincodeMessage, type ChaincodeMessageType, type SignedProposal } from './runtime';
import type { ResultsIterator, TxSimulator } from './txSimulator';
import type { VersionedKV } from './worldState';
import { defined } from './defined';

const MessageType = protos.peer.ChaincodeMessage.Type;
const messageTypeNames = new Map<number, string>(Object.entries(MessageType).map(([name, value]) => [value, name]));

/** handler.go's ErrorExecutionTimeout. */
export const ERROR_EXECUTION_TIMEOUT = 'timeout expired while executing transaction';
/** handler.go's ErrorStreamTerminated. */
export const ERROR_STREAM_TERMINATED = 'chaincode stream terminated';

/** Tunables of the chaincode handler (peer core.yaml). */
export interface ChaincodeHandlerOptions {
    /** Results per QueryResponse batch (QueryResponseGenerator.MaxResultLimit, 100 on a peer). */
    readonly maxResultLimit: number;
    /** ledger.state.totalQueryLimit (100000 by default). */
    readonly totalQueryLimit: number;
    /** chaincode.executetimeout in milliseconds (30000 by default). */
    readonly executeTimeoutMs: number;
    /** Observer of every protocol message, for debugging and tests. */
    readonly trace?: (event: ProtocolTraceEvent) => void;
}

/** A protocol message seen by the peer. */
export interface ProtocolTraceEvent {
    readonly direction: 'toChaincode' | 'fromChaincode';
    /** ChaincodeMessage type name, e.g. `GET_STATE`. */
    readonly type: string;
    readonly txId: string;
}

/** One chaincode invocation to execute. */
export interface ExecuteRequest {
    readonly channelId: string;
    /** The chaincode namespace (chaincode name), reported in range query results. */
    readonly namespace: string;
    readonly txId: string;
    readonly signedProposal: SignedProposal;
    readonly input: ChaincodeInput;
    readonly simulator: TxSimulator;
    /** The peer's history database for this namespace; without it GetHistoryForKey fails as on a peer without one. */
    readonly history?: (key: string) => Promise<readonly KeyModification[]>;
    /** The private data side of the simulation; without it private data requests fail naming the devnet. */
    readonly privateData?: PrivateDataSimulator;
}

interface QueryContext {
    readonly iterator: Pick<ResultsIterator, 'close' | 'getBookmarkAndClose'>;
    /** The next result, serialized (a queryresult.KV of a state query, a queryresult.KeyModification of a history). */
    readonly next: () => Promise<Uint8Array | undefined> | Uint8Array | undefined;
    pending: Uint8Array[];
    totalReturnCount: number;
}

interface TransactionContext {
    readonly channelId: string;
    readonly namespace: string;
    readonly txId: string;
    readonly simulator: TxSimulator;
    readonly history?: ExecuteRequest['history'];
    readonly privateData?: PrivateDataSimulator;
    readonly queries: Map<string, QueryContext>;
    readonly resolve: (message: ChaincodeMessage) => void;
    readonly reject: (error: Error) => void;
}

type Delegate = (message: ChaincodeMessage, context: TransactionContext) => Uint8Array | Promise<Uint8Array>;

function typeName(type: number): string {
    return messageTypeNames.get(type) ?? String(type);
}

function message(type: ChaincodeMessageType, channelId: string, txId: string, payload?: Uint8Array): ChaincodeMessage {
    const msg = new protos.peer.ChaincodeMessage();
    msg.setType(type);
    msg.setChannelId(channelId);
    msg.setTxid(txId);
    if (payload !== undefined) {
        msg.setPayload(payload);
    }
    return msg;
}

function unmarshal<T>(bytes: Uint8Array, stringFields: readonly number[], decode: (bytes: Uint8Array) => T): T {
    try {
        assertUtf8StringFields(bytes, new Set(stringFields));
        return decode(bytes);
    } catch (error) {
        throw new Error(`unmarshal failed: ${(error as Error).message}`);
    }
}

function privateDataOf(context: TransactionContext): PrivateDataSimulator {
    if (context.privateData === undefined) {
        throw new Error('private data collections are not supported by this peer of the ledgerwork devnet');
    }
    return context.privateData;
}

/**
 * The peer's handler for one chaincode connection. Ledger requests are answered from the transaction's
 * {@link TxSimulator}, which reads state asynchronously; responses travel back over the stream (the shim sends a
 * transaction's next request only once it has the response to the previous one).
 */
export class ChaincodeHandler {
    private state: 'created' | 'established' | 'ready' | 'closed' = 'created';
    private registeredId: string | undefined;
    private readonly contexts = new Map<string, TransactionContext>();
    private readonly readyPromise: Promise<string>;
    private resolveReady!: (chaincodeId: string) => void;
    private rejectReady!: (error: Error) => void;
    private readonly delegates: ReadonlyMap<number, Delegate>;

    public constructor(
        private readonly stream: PeerStream,
        private readonly options: ChaincodeHandlerOptions,
    ) {
        this.readyPromise = new Promise((resolve, reject) => {
            this.resolveReady = resolve;
            this.rejectReady = reject;
        });
        this.readyPromise.catch(() => undefined);
        this.delegates = new Map<number, Delegate>([
            [MessageType.GET_STATE, (m, c) => this.handleGetState(m, c)],
            [MessageType.PUT_STATE, (m, c) => this.handlePutState(m, c)],
            [MessageType.DEL_STATE, (m, c) => this.handleDelState(m, c)],
            [MessageType.GET_STATE_BY_RANGE, (m, c) => this.handleGetStateByRange(m, c)],
            [MessageType.QUERY_STATE_NEXT, (m, c) => this.handleQueryStateNext(m, c)],
            [MessageType.QUERY_STATE_CLOSE, (m, c) => this.handleQueryStateClose(m, c)],
            [MessageType.GET_QUERY_RESULT, (m, c) => this.handleGetQueryResult(m, c)],
            [MessageType.GET_HISTORY_FOR_KEY, (m, c) => this.handleGetHistoryForKey(m, c)],
            [MessageType.GET_STATE_METADATA, (m, c) => this.handleGetStateMetadata(m, c)],
            [MessageType.PUT_STATE_METADATA, (m, c) => this.handlePutStateMetadata(m, c)],
            [MessageType.GET_PRIVATE_DATA_HASH, (m, c) => this.handleGetPrivateDataHash(m, c)],
            [MessageType.PURGE_PRIVATE_DATA, (m, c) => this.handlePurgePrivateData(m, c)],
            [MessageType.INVOKE_CHAINCODE, unsupported('chaincode-to-chaincode invocation (InvokeChaincode) is not supported by the ledgerwork devnet')],
        ]);
        stream.onMessage((msg) => {
            this.options.trace?.({ direction: 'fromChaincode', type: typeName(msg.getType()), txId: msg.getTxid() });
            this.handleMessage(msg);
        });
        stream.onClose(() => {
            this.terminate(new Error(ERROR_STREAM_TERMINATED));
        });
    }

    /** Resolves with the chaincode's registered id once READY has been sent. */
    public ready(): Promise<string> {
        return this.readyPromise;
    }

    /** The id the chaincode registered with (undefined before REGISTER). */
    public get chaincodeId(): string | undefined {
        return this.registeredId;
    }

    /**
     * Sends a TRANSACTION message and resolves with the chaincode's COMPLETED or ERROR message. Rejects if the
     * chaincode does not answer within the execute timeout, if the stream ends, or if the transaction is already
     * executing (handler.go `Execute`, transaction_contexts.go `Create`).
     */
    public execute(request: ExecuteRequest): Promise<ChaincodeMessage> {
        if (this.state !== 'ready') {
            return Promise.reject(new Error(this.state === 'closed' ? ERROR_STREAM_TERMINATED : 'chaincode is not ready'));
        }
        const contextId = request.channelId + request.txId;
        if (this.contexts.has(contextId)) {
            return Promise.reject(new Error(`txid: ${request.txId}(${request.channelId}) exists`));
        }
        return new Promise<ChaincodeMessage>((resolve, reject) => {
            const timer = setTimeout(() => {
                this.finish(contextId);
                reject(new Error(ERROR_EXECUTION_TIMEOUT));
            }, this.options.executeTimeoutMs);
            this.contexts.set(contextId, {
                channelId: request.channelId,
                namespace: request.namespace,
                txId: request.txId,
                simulator: request.simulator,
                ...(request.history === undefined ? {} : { history: request.history }),
                ...(request.privateData === undefined ? {} : { privateData: request.privateData }),
                queries: new Map(),
                resolve: (msg) => {
                    clearTimeout(timer);
                    resolve(msg);
                },
                reject: (error) => {
                    clearTimeout(timer);
                    reject(error);
                },
            });
            const msg = message(MessageType.TRANSACTION, request.channelId, request.txId, request.input.serializeBinary());
            msg.setProposal(request.signedProposal);
            this.send(msg);
        });
    }

    /** Closes the connection; pending executions fail with "chaincode stream terminated". */
    public close(): void {
        this.stream.close();
        this.terminate(new Error(ERROR_STREAM_TERMINATED));
    }

    private terminate(error: Error): void {
        if (this.state === 'closed') {
            return;
        }
        this.state = 'closed';
        this.rejectReady(error);
        for (const contextId of [...this.contexts.keys()]) {
            this.finish(contextId)?.reject(error);
        }
    }

    private finish(contextId: string): TransactionContext | undefined {
        const context = this.contexts.get(contextId);
        if (context !== undefined) {
            this.contexts.delete(contextId);
            for (const query of context.queries.values()) {
                query.iterator.close();
            }
            context.queries.clear();
        }
        return context;
    }

    private send(msg: ChaincodeMessage): void {
        this.options.trace?.({ direction: 'toChaincode', type: typeName(msg.getType()), txId: msg.getTxid() });
        this.stream.send(msg);
    }

    private handleMessage(msg: ChaincodeMessage): void {
        const type = msg.getType();
        if (type === MessageType.KEEPALIVE || this.state === 'closed') {
            return;
        }
        if (this.state === 'created' && type === MessageType.REGISTER) {
            this.handleRegister(msg);
            return;
        }
        if (this.state === 'ready') {
            if (type === MessageType.COMPLETED || type === MessageType.ERROR) {
                this.finish(msg.getChannelId() + msg.getTxid())?.resolve(msg);
                return;
            }
            const delegate = this.delegates.get(type);
            if (delegate !== undefined) {
                this.handleTransaction(msg, delegate);
                return;
            }
        }
        // handler.go returns an error for out-of-protocol messages, which ends the chaincode's stream.
        this.close();
    }

    private handleRegister(msg: ChaincodeMessage): void {
        const chaincodeId = protos.peer.ChaincodeID.deserializeBinary(msg.getPayload_asU8()).getName();
        if (chaincodeId === '') {
            this.rejectReady(new Error('error in handling register chaincode, chaincodeID name is empty'));
            return;
        }
        this.registeredId = chaincodeId;
        this.send(message(MessageType.REGISTERED, '', ''));
        this.state = 'established';
        this.send(message(MessageType.READY, '', ''));
        this.state = 'ready';
        this.resolveReady(chaincodeId);
    }

    private handleTransaction(msg: ChaincodeMessage, delegate: Delegate): void {
        const channelId = msg.getChannelId();
        const txId = msg.getTxid();
        const fail = (error: unknown): ChaincodeMessage => {
            const text = `${typeName(msg.getType())} failed: transaction ID: ${txId}: ${(error as Error).message}`;
            return message(MessageType.ERROR, channelId, txId, Buffer.from(text));
        };
        let response: ChaincodeMessage;
        try {
            const context = this.contexts.get(channelId + txId);
            if (context === undefined) {
                throw new Error('no ledger context');
            }
            const payload = delegate(msg, context);
            if (payload instanceof Promise) {
                payload.then((bytes) => { this.send(message(MessageType.RESPONSE, channelId, txId, bytes)); }, (error: unknown) => { this.send(fail(error)); });
                return;
            }
            response = message(MessageType.RESPONSE, channelId, txId, payload);
        } catch (error) {
            response = fail(error);
        }
        this.send(response);
    }

    private async handleGetState(msg: ChaincodeMessage, context: TransactionContext): Promise<Uint8Array> {
        const request = unmarshal(msg.getPayload_asU8(), [1, 2], (b) => protos.peer.GetState.deserializeBinary(b));
        if (request.getCollection() !== '') {
            return privateDataOf(context).getPrivateData(request.getCollection(), request.getKey());
        }
        return (await context.simulator.getState(request.getKey())) ?? new Uint8Array(0);
    }

    private handlePutState(msg: ChaincodeMessage, context: TransactionContext): Uint8Array {
        const request = unmarshal(msg.getPayload_asU8(), [1, 3], (b) => protos.peer.PutState.deserializeBinary(b));
        if (request.getCollection() !== '') {
            privateDataOf(context).putPrivateData(request.getCollection(), request.getKey(), request.getValue_asU8());
            return new Uint8Array(0);
        }
        context.simulator.setState(request.getKey(), request.getValue_asU8());
        return new Uint8Array(0);
    }

    private handleDelState(msg: ChaincodeMessage, context: TransactionContext): Uint8Array {
        const request = unmarshal(msg.getPayload_asU8(), [1, 2], (b) => protos.peer.DelState.deserializeBinary(b));
        if (request.getCollection() !== '') {
            privateDataOf(context).deletePrivateData(request.getCollection(), request.getKey());
            return new Uint8Array(0);
        }
        context.simulator.deleteState(request.getKey());
        return new Uint8Array(0);
    }

    /** handler.go `HandleGetPrivateDataHash`: no read permission needed, every peer holds the hashes. */
    private handleGetPrivateDataHash(msg: ChaincodeMessage, context: TransactionContext): Promise<Uint8Array> {
        const request = unmarshal(msg.getPayload_asU8(), [1, 2], (b) => protos.peer.GetState.deserializeBinary(b));
        return privateDataOf(context).getPrivateDataHash(request.getCollection(), request.getKey());
    }

    /** handler.go `HandlePurgePrivateData`. */
    private handlePurgePrivateData(msg: ChaincodeMessage, context: TransactionContext): Uint8Array {
        const request = unmarshal(msg.getPayload_asU8(), [1, 2], (b) => protos.peer.DelState.deserializeBinary(b));
        privateDataOf(context).purgePrivateData(request.getCollection(), request.getKey());
        return new Uint8Array(0);
    }

    /** A private data range or rich query's results (not part of the read set, as on a peer). */
    private async privateQuery(context: TransactionContext, results: Promise<readonly VersionedKV[]>): Promise<Uint8Array> {
        const all = await results;
        let index = 0;
        const iteratorId = randomUUID();
        context.queries.set(iteratorId, {
            iterator: { close: () => undefined, getBookmarkAndClose: () => Promise.resolve('') },
            next: () => encodeKv(context.namespace, all[index++]),
            pending: [],
            totalReturnCount: 0,
        });
        return (await this.buildQueryResponse(context, iteratorId, false, this.options.totalQueryLimit)).serializeBinary();
    }

    /** handler.go `HandleGetStateMetadata`: the key's committed metadata entries (e.g. VALIDATION_PARAMETER), public or private. */
    private async handleGetStateMetadata(msg: ChaincodeMessage, context: TransactionContext): Promise<Uint8Array> {
        const request = unmarshal(msg.getPayload_asU8(), [1, 2], (b) => protos.peer.GetStateMetadata.deserializeBinary(b));
        const metadata = request.getCollection() === ''
            ? await context.simulator.getStateMetadata(request.getKey())
            : await privateDataOf(context).getPrivateDataMetadata(request.getCollection(), request.getKey());
        const result = new protos.peer.StateMetadataResult();
        result.setEntriesList([...metadata].map(([name, value]) => {
            const entry = new protos.peer.StateMetadata();
            entry.setMetakey(name);
            entry.setValue(value);
            return entry;
        }));
        return result.serializeBinary();
    }

    /** handler.go `HandlePutStateMetadata`: records a write of one metadata entry of the key, public or private. */
    private handlePutStateMetadata(msg: ChaincodeMessage, context: TransactionContext): Uint8Array {
        const request = unmarshal(msg.getPayload_asU8(), [1, 3], (b) => protos.peer.PutStateMetadata.deserializeBinary(b));
        const metadata = request.getMetadata();
        if (metadata === undefined) {
            throw new Error('metadata is nil');
        }
        if (request.getCollection() !== '') {
            privateDataOf(context).setPrivateDataMetadata(request.getCollection(), request.getKey(), metadata.getMetakey(), metadata.getValue_asU8());
            return new Uint8Array(0);
        }
        context.simulator.setStateMetadata(request.getKey(), metadata.getMetakey(), metadata.getValue_asU8());
        return new Uint8Array(0);
    }

    private async handleGetStateByRange(msg: ChaincodeMessage, context: TransactionContext): Promise<Uint8Array> {
        const request = unmarshal(msg.getPayload_asU8(), [1, 2, 3], (b) => protos.peer.GetStateByRange.deserializeBinary(b));
        if (request.getCollection() !== '') {
            return this.privateQuery(context, privateDataOf(context).getPrivateDataRange(request.getCollection(), request.getStartkey(), request.getEndkey(), this.options.totalQueryLimit + 1));
        }
        const metadataBytes = request.getMetadata_asU8();
        const metadata = metadataBytes.length === 0
            ? undefined
            : unmarshal(metadataBytes, [2], (b) => protos.peer.QueryMetadata.deserializeBinary(b));
        const pageSize = metadata?.getPagesize() ?? 0;
        const bookmark = metadata?.getBookmark() ?? '';
        const isPaginated = pageSize !== 0 || bookmark !== '';
        const totalReturnLimit = pageSize > 0 && pageSize < this.options.totalQueryLimit ? pageSize : this.options.totalQueryLimit;
        const iterator = isPaginated
            ? context.simulator.getStateRangeScanIteratorWithPagination(bookmark !== '' ? bookmark : request.getStartkey(), request.getEndkey(), pageSize)
            : context.simulator.getStateRangeScanIterator(request.getStartkey(), request.getEndkey());
        const iteratorId = randomUUID();
        context.queries.set(iteratorId, { iterator, next: async () => encodeKv(context.namespace, await iterator.next()), pending: [], totalReturnCount: 0 });
        return (await this.buildQueryResponse(context, iteratorId, isPaginated, totalReturnLimit)).serializeBinary();
    }

    /** handler.go `HandleGetQueryResult`: a rich query, paginated when the request carries a page size or bookmark. */
    private async handleGetQueryResult(msg: ChaincodeMessage, context: TransactionContext): Promise<Uint8Array> {
        const request = unmarshal(msg.getPayload_asU8(), [1, 2], (b) => protos.peer.GetQueryResult.deserializeBinary(b));
        if (request.getCollection() !== '') {
            return this.privateQuery(context, privateDataOf(context).executeQueryOnPrivateData(request.getCollection(), request.getQuery(), this.options.totalQueryLimit + 1));
        }
        const metadataBytes = request.getMetadata_asU8();
        const metadata = metadataBytes.length === 0
            ? undefined
            : unmarshal(metadataBytes, [2], (b) => protos.peer.QueryMetadata.deserializeBinary(b));
        const pageSize = metadata?.getPagesize() ?? 0;
        const bookmark = metadata?.getBookmark() ?? '';
        const isPaginated = pageSize !== 0 || bookmark !== '';
        const totalReturnLimit = pageSize > 0 && pageSize < this.options.totalQueryLimit ? pageSize : this.options.totalQueryLimit;
        const iterator = isPaginated
            ? await context.simulator.executeQueryWithPagination(request.getQuery(), bookmark, pageSize)
            : await context.simulator.executeQuery(request.getQuery());
        const iteratorId = randomUUID();
        context.queries.set(iteratorId, { iterator, next: async () => encodeKv(context.namespace, await iterator.next()), pending: [], totalReturnCount: 0 });
        return (await this.buildQueryResponse(context, iteratorId, isPaginated, totalReturnLimit)).serializeBinary();
    }

    /** handler.go `HandleGetHistoryForKey`: the key's modifications by valid transactions, newest first. */
    private async handleGetHistoryForKey(msg: ChaincodeMessage, context: TransactionContext): Promise<Uint8Array> {
        const request = unmarshal(msg.getPayload_asU8(), [1], (b) => protos.peer.GetHistoryForKey.deserializeBinary(b));
        if (context.history === undefined) {
            throw new Error('history database is not enabled');
        }
        const modifications = await context.history(request.getKey());
        let index = 0;
        const next = (): Uint8Array | undefined => {
            const modification = modifications[index++];
            if (modification === undefined) {
                return undefined;
            }
            const out = new protos.ledger.queryresult.KeyModification();
            out.setTxId(modification.txId);
            out.setValue(modification.value);
            const timestamp = newTimestamp(0);
            timestamp.setSeconds(modification.timestamp.seconds);
            timestamp.setNanos(modification.timestamp.nanos);
            out.setTimestamp(timestamp as Parameters<typeof out.setTimestamp>[0]);
            out.setIsDelete(modification.isDelete);
            return out.serializeBinary();
        };
        const iteratorId = randomUUID();
        context.queries.set(iteratorId, { iterator: { close: () => undefined, getBookmarkAndClose: () => Promise.resolve('') }, next, pending: [], totalReturnCount: 0 });
        return (await this.buildQueryResponse(context, iteratorId, false, this.options.totalQueryLimit)).serializeBinary();
    }

    private async handleQueryStateNext(msg: ChaincodeMessage, context: TransactionContext): Promise<Uint8Array> {
        const request = unmarshal(msg.getPayload_asU8(), [1], (b) => protos.peer.QueryStateNext.deserializeBinary(b));
        if (!context.queries.has(request.getId())) {
            throw new Error('query iterator not found');
        }
        return (await this.buildQueryResponse(context, request.getId(), false, this.options.totalQueryLimit)).serializeBinary();
    }

    private handleQueryStateClose(msg: ChaincodeMessage, context: TransactionContext): Uint8Array {
        const request = unmarshal(msg.getPayload_asU8(), [1], (b) => protos.peer.QueryStateClose.deserializeBinary(b));
        this.cleanupQuery(context, request.getId());
        const response = new protos.peer.QueryResponse();
        response.setHasMore(false);
        response.setId(request.getId());
        return response.serializeBinary();
    }

    /** query_response_generator.go `BuildQueryResponse`: batches of maxResultLimit, reading one result ahead. */
    private async buildQueryResponse(
        context: TransactionContext,
        iteratorId: string,
        isPaginated: boolean,
        totalReturnLimit: number,
    ): Promise<InstanceType<typeof protos.peer.QueryResponse>> {
        const query = defined(context.queries.get(iteratorId));
        try {
            for (;;) {
                if (query.totalReturnCount >= totalReturnLimit) {
                    return await this.createQueryResponse(context, iteratorId, query, isPaginated);
                }
                const bytes = await query.next();
                if (bytes === undefined) {
                    return await this.createQueryResponse(context, iteratorId, query, isPaginated);
                }
                if (!isPaginated && query.pending.length === this.options.maxResultLimit) {
                    const batch = query.pending;
                    query.pending = [bytes];
                    query.totalReturnCount++;
                    return queryResponse(batch, true, iteratorId);
                }
                query.pending.push(bytes);
                query.totalReturnCount++;
            }
        } catch (error) {
            this.cleanupQuery(context, iteratorId);
            throw error;
        }
    }

    private async createQueryResponse(
        context: TransactionContext,
        iteratorId: string,
        query: QueryContext,
        isPaginated: boolean,
    ): Promise<InstanceType<typeof protos.peer.QueryResponse>> {
        const batch = query.pending;
        query.pending = [];
        if (!isPaginated) {
            this.cleanupQuery(context, iteratorId);
            return queryResponse(batch, false, iteratorId);
        }
        const bookmark = await query.iterator.getBookmarkAndClose();
        context.queries.delete(iteratorId);
        const metadata = new protos.peer.QueryResponseMetadata();
        metadata.setFetchedRecordsCount(query.totalReturnCount);
        metadata.setBookmark(bookmark);
        const response = queryResponse(batch, false, iteratorId);
        response.setMetadata(metadata.serializeBinary());
        return response;
    }

    private cleanupQuery(context: TransactionContext, iteratorId: string): void {
        context.queries.get(iteratorId)?.iterator.close();
        context.queries.delete(iteratorId);
    }
}

/** A state query result as queryresult.KV bytes, undefined at the end. */
function encodeKv(namespace: string, result: VersionedKV | undefined): Uint8Array | undefined {
    if (result === undefined) {
        return undefined;
    }
    const kv = new protos.ledger.queryresult.KV();
    kv.setNamespace(namespace);
    kv.setKey(result.key);
    kv.setValue(result.value);
    return kv.serializeBinary();
}

function queryResponse(batch: readonly Uint8Array[], hasMore: boolean, id: string): InstanceType<typeof protos.peer.QueryResponse> {
    const response = new protos.peer.QueryResponse();
    response.setResultsList(batch.map((bytes) => {
        const result = new protos.peer.QueryResultBytes();
        result.setResultbytes(bytes);
        return result;
    }));
    response.setHasMore(hasMore);
    response.setId(id);
    return response;
}

function unsupported(reason: string): Delegate {
    return () => {
        throw new Error(reason);
    };
}
