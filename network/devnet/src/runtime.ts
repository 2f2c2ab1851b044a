// SPDX-License-Identifier: Apache-2.0
/**
 * Loads the chaincode-side Fabric modules (fabric-shim, fabric-contract-api, @hyperledger/fabric-protos) from the
 * chaincode package's own `node_modules`, so that the simulator drives exactly the runtime the chaincode ships with,
 * and gives the untyped fabric-shim internals small local types.
 *
 * Nothing in here depends on jest.
 */
// fabric-contract-api's typings declare an ambient module, which the root tsconfig would otherwise only see
// through chaincode/src.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../../chaincode/node_modules/fabric-contract-api/types/index.d.ts" />
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as ContractApi from 'fabric-contract-api';
import type * as FabricProtosModule from '../../../chaincode/node_modules/@hyperledger/fabric-protos';

/** Absolute path of the chaincode package whose dependencies are used. */
export const CHAINCODE_PACKAGE_DIR = path.resolve(__dirname, '../../../chaincode');

const chaincodeRequire = createRequire(path.join(CHAINCODE_PACKAGE_DIR, 'package.json'));

/** The generated protobuf bindings, the same module instance fabric-shim uses. */
export type FabricProtos = typeof FabricProtosModule;

/** `@hyperledger/fabric-protos` as loaded by fabric-shim. */
export const protos = chaincodeRequire('@hyperledger/fabric-protos') as FabricProtos;

/** Type aliases for the proto messages the simulator handles. */
export type ChaincodeMessage = InstanceType<FabricProtos['peer']['ChaincodeMessage']>;
export type ChaincodeMessageType = ReturnType<ChaincodeMessage['getType']>;
export type SignedProposal = InstanceType<FabricProtos['peer']['SignedProposal']>;
export type ChaincodeInput = InstanceType<FabricProtos['peer']['ChaincodeInput']>;

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

const timestampModule = chaincodeRequire('google-protobuf/google/protobuf/timestamp_pb') as {
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

/** fabric-contract-api, as required by fabric-shim's contract SPI. */
export const contractApi = chaincodeRequire('fabric-contract-api') as typeof ContractApi;

/** A contract class as listed in a chaincode's exported `contracts` array. */
export type ContractClass = new () => ContractApi.Contract;

/** A chaincode response as produced by `shim.success`/`shim.error`. */
export interface ShimResponse {
    readonly status: number;
    readonly message?: string;
    readonly payload?: Uint8Array;
}

/** fabric-shim's ChaincodeInterface (Init/Invoke receive a real ChaincodeStub). */
export interface ChaincodeInterface {
    Init(stub: unknown): Promise<ShimResponse>;
    Invoke(stub: unknown): Promise<ShimResponse>;
}

/** The stream object fabric-shim's ChaincodeMessageHandler chats over (a gRPC duplex stream in production). */
export interface ShimChatStream {
    write(message: ChaincodeMessage): boolean;
    end(): void;
    on(event: 'data', listener: (message: ChaincodeMessage) => void): this;
    on(event: 'end', listener: () => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
}

/** Serializer configuration as built by fabric-shim's bootstrap (or exported as `serializers` by a chaincode). */
export interface SerializerConfig {
    readonly transaction: string;
    readonly serializers: Readonly<Record<string, new () => unknown>>;
}

interface ChaincodeMessageHandlerInstance {
    chat(conversationStarter: ChaincodeMessage): void;
}

type ChaincodeMessageHandlerCtor = new (stream: ShimChatStream, chaincode: ChaincodeInterface) => ChaincodeMessageHandlerInstance;

type ChaincodeFromContractCtor = new (
    contracts: ContractClass[],
    serializers: SerializerConfig,
    metadata: object,
    title: string | undefined,
    version: string | undefined,
) => ChaincodeInterface;

const handlerModule = chaincodeRequire('fabric-shim/lib/handler.js') as {
    ChaincodeMessageHandler: ChaincodeMessageHandlerCtor;
};
const ChaincodeFromContract = chaincodeRequire('fabric-shim/lib/contract-spi/chaincodefromcontract.js') as ChaincodeFromContractCtor;

/** The default serializer set, exactly as fabric-shim's bootstrap builds it when a chaincode exports none. */
export function defaultSerializers(): SerializerConfig {
    return { transaction: 'jsonSerializer', serializers: { jsonSerializer: contractApi.JSONSerializer } };
}

/**
 * Builds the chaincode exactly as `fabric-chaincode-node start` does (bootstrap.js `register`): a
 * ChaincodeFromContract over the contract classes plus fabric-contract-api's system contract.
 */
export function createContractChaincode(options: {
    readonly contracts: readonly ContractClass[];
    readonly serializers?: SerializerConfig;
    readonly metadata?: object;
    readonly title?: string;
    readonly version?: string;
}): ChaincodeInterface {
    // ChaincodeFromContract appends the system contract to the array it is given: pass a copy.
    return new ChaincodeFromContract(
        [...options.contracts],
        options.serializers ?? defaultSerializers(),
        structuredClone(options.metadata ?? {}),
        options.title,
        options.version,
    );
}

/**
 * Starts fabric-shim's real ChaincodeMessageHandler on `stream` and sends REGISTER for `chaincodeId`, as the shim's
 * ChaincodeServer.connect / Shim.start do.
 */
export function startShimHandler(stream: ShimChatStream, chaincode: ChaincodeInterface, chaincodeId: string): void {
    const handler = new handlerModule.ChaincodeMessageHandler(stream, chaincode);
    const id = new protos.peer.ChaincodeID();
    id.setName(chaincodeId);
    const register = new protos.peer.ChaincodeMessage();
    register.setType(protos.peer.ChaincodeMessage.Type.REGISTER);
    register.setPayload(id.serializeBinary());
    handler.chat(register);
}

/** Log levels accepted by {@link setShimLogLevel}. */
export type ShimLogLevel = 'silent' | 'error' | 'warning' | 'info' | 'debug';

interface WinstonTransport {
    silent?: boolean;
}
interface WinstonLogger {
    transports: WinstonTransport[];
}
interface FabricLoggerModule {
    getLogger(name?: string): WinstonLogger;
    setLevel(level: string): void;
}

const loggerModules: readonly FabricLoggerModule[] = [
    chaincodeRequire('fabric-shim/lib/logger.js') as FabricLoggerModule,
    chaincodeRequire('fabric-contract-api/lib/logger.js') as FabricLoggerModule,
];

/**
 * Sets the level of fabric-shim's and fabric-contract-api's winston loggers (which log every transaction at info
 * level, and every failed one at error level). `silent` mutes their console transports entirely.
 */
export function setShimLogLevel(level: ShimLogLevel): void {
    for (const loggers of loggerModules) {
        if (level !== 'silent') {
            loggers.setLevel(level.toUpperCase());
        }
        // Both modules share one console transport between all their loggers ('' and '_' cover both transports).
        for (const name of ['', '_']) {
            for (const transport of loggers.getLogger(name).transports) {
                transport.silent = level === 'silent';
            }
        }
    }
}

function initialLogLevel(): ShimLogLevel {
    const requested = process.env.LEDGERWORK_SHIM_LOG_LEVEL?.toLowerCase();
    const levels: readonly ShimLogLevel[] = ['silent', 'error', 'warning', 'info', 'debug'];
    return levels.find((l) => l === requested) ?? 'silent';
}

setShimLogLevel(initialLogLevel());
