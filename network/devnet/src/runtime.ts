// SPDX-License-Identifier: Apache-2.0
/**
 * The peer side's protobuf bindings: the devnet's own `@hyperledger/fabric-protos`. The chaincode side runs on the
 * chaincode's own fabric-shim (see shimRuntime.ts); the two meet only as serialized bytes, as over gRPC.
 *
 * Nothing in here depends on jest.
 */
import { createRequire } from 'node:module';
import * as FabricProtosModule from '@hyperledger/fabric-protos';

/** The generated protobuf bindings. */
export type FabricProtos = typeof FabricProtosModule;

/** `@hyperledger/fabric-protos` as the devnet uses it. */
export const protos: FabricProtos = FabricProtosModule;

/** Type aliases for the proto messages the simulator handles. */
export type ChaincodeMessage = InstanceType<FabricProtos['peer']['ChaincodeMessage']>;
export type ChaincodeMessageType = ReturnType<ChaincodeMessage['getType']>;
export type SignedProposal = InstanceType<FabricProtos['peer']['SignedProposal']>;
export type ChaincodeInput = InstanceType<FabricProtos['peer']['ChaincodeInput']>;
export type ProposalHeader = InstanceType<FabricProtos['common']['Header']>;
export type ChaincodeProposalPayload = InstanceType<FabricProtos['peer']['ChaincodeProposalPayload']>;

/** The subset of google.protobuf.Timestamp (google-protobuf has no bundled typings) that the simulator uses. */
export interface TimestampMessage {
    setSeconds(value: number): void;
    setNanos(value: number): void;
    getSeconds(): number;
    getNanos(): number;
}

/** The subset of a jspb `Map` field (e.g. the proposal's transient map) that the simulator uses. */
export interface ProtoMap<V> {
    set(key: string, value: V): ProtoMap<V>;
    forEach(callback: (value: V, key: string) => void): void;
    getLength(): number;
}

// The google-protobuf instance that @hyperledger/fabric-protos itself uses.
const protosRequire = createRequire(require.resolve('@hyperledger/fabric-protos'));
const timestampModule = protosRequire('google-protobuf/google/protobuf/timestamp_pb') as {
    Timestamp: new () => TimestampMessage;
};

/** Creates a google.protobuf.Timestamp from milliseconds since the epoch. */
export function newTimestamp(ms: number): TimestampMessage {
    const ts = new timestampModule.Timestamp();
    const seconds = Math.floor(ms / 1000);
    ts.setSeconds(seconds);
    ts.setNanos((ms - seconds * 1000) * 1_000_000);
    return ts;
}

/** Milliseconds since the epoch of a google.protobuf.Timestamp (sub-millisecond nanos are truncated). */
export function timestampToMillis(ts: TimestampMessage): number {
    return ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1_000_000);
}
