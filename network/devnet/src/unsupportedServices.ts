// SPDX-License-Identifier: Apache-2.0
/**
 * The peer and orderer gRPC services a Fabric client may call that the devnet does not serve. Each method answers
 * UNIMPLEMENTED with a message naming the feature and the devnet — never grpc-js's bare "The server does not
 * implement the method …", which reads like a wrong endpoint.
 */
import * as grpc from '@grpc/grpc-js';
import { DiscoveryService } from '@hyperledger/fabric-protos/lib/discovery/protocol_grpc_pb';
import { AtomicBroadcastService } from '@hyperledger/fabric-protos/lib/orderer/ab_grpc_pb';
import { DeliverService } from '@hyperledger/fabric-protos/lib/peer/events_grpc_pb';
import { EndorserService } from '@hyperledger/fabric-protos/lib/peer/peer_grpc_pb';
import { SnapshotService } from '@hyperledger/fabric-protos/lib/peer/snapshot_grpc_pb';

/** A Fabric gRPC service the devnet does not serve, with what it is for. */
interface UnsupportedService {
    readonly definition: grpc.ServiceDefinition;
    readonly feature: string;
}

const UNSUPPORTED: readonly UnsupportedService[] = [
    { definition: DeliverService, feature: 'the peer Deliver service (block events: Deliver, DeliverFiltered, DeliverWithPrivateData)' },
    { definition: EndorserService, feature: 'the peer Endorser service (ProcessProposal)' },
    { definition: DiscoveryService, feature: 'the Discovery service' },
    { definition: SnapshotService, feature: 'ledger snapshots (the peer Snapshot service)' },
    { definition: AtomicBroadcastService, feature: 'the orderer AtomicBroadcast service (Broadcast, Deliver); submit through the Gateway service' },
];

/** The error a client gets for `method` of an unsupported service. */
export function unsupportedError(method: string, feature: string): grpc.ServiceError {
    const message = `the ledgerwork devnet does not support ${feature}: ${method} is not implemented`;
    return Object.assign(new Error(message), { code: grpc.status.UNIMPLEMENTED, details: message, metadata: new grpc.Metadata() });
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/**
 * Registers every method of the unsupported Fabric services on `server`, each failing with {@link unsupportedError}.
 * `served` lists services implemented elsewhere (not registered here).
 */
export function addUnsupportedServices(server: grpc.Server, served: readonly grpc.ServiceDefinition[] = []): void {
    for (const { definition, feature } of UNSUPPORTED) {
        if (served.includes(definition)) {
            continue;
        }
        const implementation: grpc.UntypedServiceImplementation = {};
        for (const [name, method] of Object.entries(definition)) {
            const error = unsupportedError(method.path, feature);
            if (!method.responseStream) {
                implementation[name] = (_call: AnyCall, callback: grpc.sendUnaryData<unknown>) => {
                    callback(error);
                };
            } else {
                implementation[name] = (call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>) => {
                    call.emit('error', error);
                };
            }
        }
        server.addService(definition, implementation);
    }
}
