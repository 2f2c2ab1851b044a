// SPDX-License-Identifier: Apache-2.0
/**
 * Fabric's Gateway gRPC service (`gateway.Gateway`: Evaluate, Endorse, Submit, CommitStatus, ChaincodeEvents) over
 * a {@link Devnet}, with errors as Fabric's gateway reports them: a gRPC status plus `gateway.ErrorDetail`s in
 * `grpc-status-details-bin` (internal/pkg/gateway/api.go). Beside it, for clients of the older SDKs, the services a
 * peer and an orderer serve: the peer's Endorser (ProcessProposal), Discovery and Deliver, and the orderer's
 * Broadcast and Deliver.
 */
import * as grpc from '@grpc/grpc-js';
import { type common, type discovery, gateway, orderer, type peer } from '@hyperledger/fabric-protos';
import { Code, DevnetError, type Devnet } from './devnet';
import { DeliverService } from '@hyperledger/fabric-protos/lib/peer/events_grpc_pb';
import { serveDeliver, serveOrdererDeliver } from './deliverService';
import { EndorserService } from '@hyperledger/fabric-protos/lib/peer/peer_grpc_pb';
import { DiscoveryService } from '@hyperledger/fabric-protos/lib/discovery/protocol_grpc_pb';
import { AtomicBroadcastService } from '@hyperledger/fabric-protos/lib/orderer/ab_grpc_pb';
import { discover } from './discoveryService';
import { RAW_GATEWAY_SERVICE, type EndorseResult, type ProposalRequest, type SignedRequest, type SubmitRequest } from './gatewayWire';
import { addUnsupportedServices } from './unsupportedServices';
import { DEFAULT_MAX_CALLS_PER_CONNECTION, recycleConnections } from './connectionRecycling';
import { carryConnectionsAsPeers } from './http2Transport';
import { serveUnaryDirectly } from './directUnary';

/** The largest request the devnet reads: 100 MiB, a Fabric peer's default. */
const MAX_RECEIVE_MESSAGE_LENGTH = 100 * 1024 * 1024;

type ChaincodeEventsResponse = InstanceType<typeof gateway.ChaincodeEventsResponse>;

function varint(value: number): Buffer {
    const bytes: number[] = [];
    let v = value;
    while (v > 0x7f) {
        bytes.push((v & 0x7f) | 0x80);
        v = Math.floor(v / 128);
    }
    bytes.push(v);
    return Buffer.from(bytes);
}

function field(number: number, bytes: Uint8Array): Buffer {
    return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}

/** google.rpc.Status{code, message, details: Any<gateway.ErrorDetail>[]}, encoded by hand (no Any typings). */
function statusDetails(code: number, message: string, details: DevnetError['details'], address: string): Buffer {
    const parts = [varint(1 << 3), varint(code), field(2, Buffer.from(message))];
    for (const detail of details) {
        const d = new gateway.ErrorDetail();
        d.setAddress(detail.address ?? address);
        d.setMspId(detail.mspId);
        d.setMessage(detail.message);
        parts.push(field(3, Buffer.concat([field(1, Buffer.from('type.googleapis.com/gateway.ErrorDetail')), field(2, d.serializeBinary())])));
    }
    return Buffer.concat(parts);
}

/** Options of {@link startGatewayServer}. */
export interface GatewayServerOptions {
    /** Listen address, default `127.0.0.1`. */
    readonly host?: string;
    /** Port, 0 (default) for any free port. */
    readonly port?: number;
    /** Serve TLS with the devnet's server certificate (default true). */
    readonly tls?: boolean;
    /**
     * The MSP id of the org whose peer this server is (one server per org, as test-network's peers): evaluations
     * run on that org's peer and endorsements start with it. Default: the first org.
     */
    readonly localMspId?: string;
    /**
     * Each client connection is recycled once it has carried this many calls: the server sends GOAWAY, calls in
     * flight finish on the old connection and new ones go to a new connection, which clients open transparently. 0
     * never recycles. See {@link DEFAULT_MAX_CALLS_PER_CONNECTION}.
     */
    readonly maxCallsPerConnection?: number;
}

export { DEFAULT_MAX_CALLS_PER_CONNECTION };

/** A running gateway server. */
export interface GatewayServer {
    readonly port: number;
    /** `host:port`. */
    readonly endpoint: string;
    close(): Promise<void>;
}

function toServiceError(error: unknown, address: string): grpc.ServiceError {
    const devnetError = error instanceof DevnetError ? error : new DevnetError(Code.UNKNOWN, (error as Error).message);
    const metadata = new grpc.Metadata();
    metadata.set('grpc-status-details-bin', statusDetails(devnetError.code, devnetError.message, devnetError.details, address));
    return Object.assign(new Error(devnetError.message), { code: devnetError.code, details: devnetError.message, metadata });
}

/** Serves the Gateway service of `devnet`. */
export async function startGatewayServer(devnet: Devnet, options: GatewayServerOptions = {}): Promise<GatewayServer> {
    const host = options.host ?? '127.0.0.1';
    const maxCallsPerConnection = options.maxCallsPerConnection ?? DEFAULT_MAX_CALLS_PER_CONNECTION;
    // No channelz: a Fabric peer serves no channelz service, and grpc-js's call tracking for it costs every call.
    const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_LENGTH, 'grpc.enable_channelz': 0 });
    let address = `${host}:${options.port ?? 0}`;
    const streams = new Set<grpc.ServerWritableStream<unknown, unknown>>();

    function unary<Req, Res>(body: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
        return (call, callback) => {
            body(call.request, call).then(
                (result) => { callback(null, result); },
                (error: unknown) => { callback(toServiceError(error, address)); },
            );
        };
    }

    const gatewayCalls = {
        evaluate: async (request: ProposalRequest) => {
            if (request.signedProposal === undefined) {
                throw new DevnetError(Code.INVALID_ARGUMENT, 'failed to unpack transaction proposal: a signed proposal is required');
            }
            const result = await devnet.evaluate(request.signedProposal, request.organizations, options.localMspId);
            const out = new gateway.EvaluateResponse();
            out.setResult(result);
            return out;
        },
        endorse: async (request: ProposalRequest) => {
            if (request.signedProposal === undefined || !request.hasProposalBytes) {
                throw new DevnetError(Code.INVALID_ARGUMENT, 'the proposed transaction must contain a signed proposal');
            }
            const result: EndorseResult = { preparedTransaction: await devnet.preparedTransaction(request.signedProposal, request.organizations, options.localMspId) };
            return result;
        },
        submit: async (request: SubmitRequest) => {
            if (request.envelope === undefined) {
                throw new DevnetError(Code.INVALID_ARGUMENT, 'a prepared transaction is required');
            }
            await devnet.submit(request.envelope);
            return new gateway.SubmitResponse();
        },
        commitStatus: async (signed: SignedRequest) => {
            const bytes = signed.request;
            if (bytes.length === 0) {
                throw new DevnetError(Code.INVALID_ARGUMENT, 'a commit status request is required');
            }
            const request = gateway.CommitStatusRequest.deserializeBinary(bytes);
            await devnet.checkSignedRequest(request.getIdentity_asU8(), bytes, signed.signature);
            if (request.getChannelId() !== devnet.channel) {
                throw new DevnetError(Code.FAILED_PRECONDITION, `channel '${request.getChannelId()}' not found`);
            }
            const status = await devnet.commitStatus(request.getTransactionId());
            const out = new gateway.CommitStatusResponse();
            out.setResult(status.code as peer.TxValidationCodeMap[keyof peer.TxValidationCodeMap]);
            out.setBlockNumber(status.blockNumber);
            return out;
        },
    };
    const implementation = {
        evaluate: unary(gatewayCalls.evaluate),
        endorse: unary(gatewayCalls.endorse),
        submit: unary(gatewayCalls.submit),
        commitStatus: unary(gatewayCalls.commitStatus),
        chaincodeEvents: (call: grpc.ServerWritableStream<InstanceType<typeof gateway.SignedChaincodeEventsRequest>, ChaincodeEventsResponse>) => {
            try {
                streamChaincodeEvents(devnet, call, streams).catch((error: unknown) => { call.destroy(toServiceError(error, address)); });
            } catch (error) {
                call.destroy(toServiceError(error, address));
            }
        },
    };
    // Requests read from their bytes and Endorse's response written from the envelope's (gatewayWire.ts); the rest as generated.
    server.addService(RAW_GATEWAY_SERVICE, implementation);
    server.addService(DeliverService, {
        deliver: (call: Parameters<typeof serveDeliver>[2]) => { serveDeliver(devnet, 'block', call); },
        deliverFiltered: (call: Parameters<typeof serveDeliver>[2]) => { serveDeliver(devnet, 'filtered', call); },
        deliverWithPrivateData: (call: Parameters<typeof serveDeliver>[2]) => { serveDeliver(devnet, 'private', call); },
    });
    server.addService(EndorserService, {
        processProposal: unary(async (signed: InstanceType<typeof peer.SignedProposal>, call) => {
            return devnet.processProposal(signed.serializeBinary(), peerOrgOf(devnet, call.getHost(), options.localMspId));
        }),
    });
    server.addService(DiscoveryService, {
        discover: unary(async (signed: InstanceType<typeof discovery.SignedRequest>) => discover(devnet, signed.serializeBinary())),
    });
    server.addService(AtomicBroadcastService, {
        broadcast: (call: grpc.ServerDuplexStream<InstanceType<typeof common.Envelope>, InstanceType<typeof orderer.BroadcastResponse>>) => {
            // One response per envelope, in the order the envelopes came.
            let answered: Promise<void> = Promise.resolve();
            call.on('data', (envelope: InstanceType<typeof common.Envelope>) => {
                const outcome = devnet.broadcast(envelope.serializeBinary());
                answered = answered.then(async () => {
                    const { status, info } = await outcome;
                    const response = new orderer.BroadcastResponse();
                    response.setStatus(status as ReturnType<InstanceType<typeof orderer.BroadcastResponse>['getStatus']>);
                    response.setInfo(info);
                    call.write(response);
                });
            });
            call.on('end', () => { void answered.then(() => { call.end(); }); });
        },
        deliver: (call: Parameters<typeof serveOrdererDeliver>[1]) => { serveOrdererDeliver(devnet, call); },
    });
    addUnsupportedServices(server, [DeliverService, EndorserService, DiscoveryService, AtomicBroadcastService]);

    const credentials = options.tls === false
        ? grpc.ServerCredentials.createInsecure()
        : grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(devnet.material.tls.serverKeyPem), cert_chain: Buffer.from(devnet.material.tls.serverCertificatePem) }], false);
    const port = await new Promise<number>((resolve, reject) => {
        server.bindAsync(address, credentials, (error, bound) => {
            if (error === null) {
                resolve(bound);
            } else {
                reject(error);
            }
        });
    });
    address = `${host}:${port}`;
    // The Gateway's unary calls, every transaction's, answered without grpc-js's per-call objects (directUnary.ts).
    serveUnaryDirectly(server, (Object.keys(gatewayCalls) as (keyof typeof gatewayCalls)[]).map((name) => ({
        definition: RAW_GATEWAY_SERVICE[name] as grpc.MethodDefinition<unknown, unknown>,
        answer: gatewayCalls[name] as (request: unknown) => Promise<unknown>,
    })), {
        maxReceiveMessageLength: MAX_RECEIVE_MESSAGE_LENGTH,
        statusOf: (error) => {
            const serviceError = toServiceError(error, address);
            return { code: serviceError.code, details: serviceError.details, metadata: serviceError.metadata };
        },
    });
    carryConnectionsAsPeers(server);
    if (maxCallsPerConnection > 0) {
        recycleConnections(server, maxCallsPerConnection);
    }
    return {
        port,
        endpoint: address,
        close: () => new Promise<void>((resolve) => {
            for (const stream of streams) {
                stream.end();
            }
            server.tryShutdown(() => { resolve(); });
            setTimeout(() => { server.forceShutdown(); }, 2000).unref();
        }),
    };
}

/**
 * The org whose peer a ProcessProposal call is addressed to. Where one port serves every org, a client addressing a
 * peer by name (fabric-network sets the `:authority` to the peer's `ssl-target-name-override`, e.g.
 * `peer0.org2.example.com`) reaches that org's peer; otherwise the server's own org.
 */
function peerOrgOf(devnet: Devnet, authority: string, localMspId: string | undefined): string | undefined {
    const host = authority.replace(/:\d+$/, '');
    return devnet.orgs.find((org) => `peer0.${org.domain}` === host)?.mspId ?? localMspId;
}

async function streamChaincodeEvents(
    devnet: Devnet,
    call: grpc.ServerWritableStream<InstanceType<typeof gateway.SignedChaincodeEventsRequest>, ChaincodeEventsResponse>,
    streams: Set<grpc.ServerWritableStream<unknown, unknown>>,
): Promise<void> {
    const bytes = call.request.getRequest_asU8();
    if (bytes.length === 0) {
        throw new DevnetError(Code.INVALID_ARGUMENT, 'a chaincode events request is required');
    }
    const request = gateway.ChaincodeEventsRequest.deserializeBinary(bytes);
    await devnet.checkSignedRequest(request.getIdentity_asU8(), bytes, call.request.getSignature_asU8());
    if (request.getChannelId() !== devnet.channel) {
        throw new DevnetError(Code.NOT_FOUND, `channel '${request.getChannelId()}' not found`);
    }
    const chaincodeId = request.getChaincodeId();
    const after = request.getAfterTransactionId();
    // api.go chaincodeEventsStartBlock: resume at the block of the last seen transaction, else the start position.
    let next: number;
    const afterBlock = after === '' ? undefined : await devnet.blockOf(after);
    const position = request.getStartPosition();
    if (afterBlock !== undefined) {
        next = afterBlock;
    } else if (position?.getTypeCase() === orderer.SeekPosition.TypeCase.SPECIFIED) {
        next = position.getSpecified()?.getNumber() ?? 0;
    } else {
        next = devnet.height;
    }
    let passedPrevious = after === '';
    let busy = false;
    // One pump at a time; its loop sees blocks committed while it awaits.
    const pump = async (): Promise<void> => {
        if (busy) {
            return;
        }
        busy = true;
        try {
            await pumpBlocks();
        } finally {
            busy = false;
        }
    };
    const pumpBlocks = async (): Promise<void> => {
        while (next < devnet.height && !call.cancelled) {
            const blockNumber = next++;
            const matching = (await devnet.eventsOf(blockNumber)).map((e) => e.event).filter((event) => {
                if (!passedPrevious) {
                    passedPrevious = event.getTxId() === after;
                    return false;
                }
                return event.getChaincodeId() === chaincodeId;
            });
            if (matching.length > 0) {
                const response = new gateway.ChaincodeEventsResponse();
                response.setBlockNumber(blockNumber);
                response.setEventsList(matching);
                call.write(response);
            }
        }
    };
    const fail = (error: unknown): void => { call.destroy(error instanceof Error ? error : new Error(String(error))); };
    const unsubscribe = devnet.onBlock(() => { pump().catch(fail); });
    streams.add(call);
    const cleanup = (): void => {
        unsubscribe();
        streams.delete(call);
    };
    call.on('cancelled', cleanup);
    call.on('close', cleanup);
    call.on('error', cleanup);
    await pump();
}
