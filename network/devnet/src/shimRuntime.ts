// SPDX-License-Identifier: Apache-2.0
/**
 * A chaincode package's own fabric-shim runtime, loaded from the package's `node_modules` in this thread: for
 * contract classes that are already loaded in this process (tests, embedding). Chaincode folders run in their own
 * worker threads instead (chaincodeWorker.ts), so that their modules never share a realm with the devnet's.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

/** A contract class as listed in a chaincode's exported `contracts` array. */
export type ContractClass = new () => object;

/** A chaincode response as produced by `shim.success`/`shim.error`. */
export interface ShimResponse {
    readonly status: number;
    readonly message?: string;
    readonly payload?: Uint8Array;
}

/** The part of fabric-shim's ChaincodeStub the devnet touches. */
export interface ShimStub {
    getMspID(): string;
}

/** fabric-shim's ChaincodeInterface (Init/Invoke receive a real ChaincodeStub). */
export interface ChaincodeInterface {
    Init(stub: ShimStub): Promise<ShimResponse>;
    Invoke(stub: ShimStub): Promise<ShimResponse>;
}

/** A chaincode-side protobuf message (the shim's own fabric-protos). */
export interface ShimMessage {
    serializeBinary(): Uint8Array;
}

/** The stream object fabric-shim's ChaincodeMessageHandler chats over (a gRPC duplex stream in production). */
export interface ShimChatStream {
    write(message: ShimMessage): boolean;
    end(): void;
    on(event: 'data', listener: (message: ShimMessage) => void): this;
    on(event: 'end', listener: () => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
}

/** Serializer configuration as built by fabric-shim's bootstrap (or exported as `serializers` by a chaincode). */
export interface SerializerConfig {
    readonly transaction: string;
    readonly serializers: Readonly<Record<string, new () => unknown>>;
}

interface ChaincodeMessageHandlerInstance {
    chat(conversationStarter: ShimMessage): void;
}

interface ShimChaincodeMessageClass {
    new (): ShimMessage & { setType(type: number): void; setPayload(payload: Uint8Array): void };
    deserializeBinary(bytes: Uint8Array): ShimMessage;
    readonly Type: { readonly REGISTER: number };
}

interface ShimChaincodeIdClass {
    new (): ShimMessage & { setName(name: string): void };
}

type ChaincodeFromContractCtor = new (
    contracts: ContractClass[],
    serializers: SerializerConfig,
    metadata: object,
    title: string | undefined,
    version: string | undefined,
) => ChaincodeInterface;

interface WinstonTransport {
    silent?: boolean;
}
interface WinstonLogger {
    transports: WinstonTransport[];
    silent?: boolean;
}
interface FabricLoggerModule {
    getLogger(name?: string): WinstonLogger;
    setLevel(level: string): void;
}

/** Log levels accepted by {@link ShimRuntime.setLogLevel}. */
export type ShimLogLevel = 'silent' | 'error' | 'warning' | 'info' | 'debug';

/** The log level asked for in LEDGERWORK_SHIM_LOG_LEVEL (default `silent`). */
export function requestedShimLogLevel(): ShimLogLevel {
    const requested = process.env.LEDGERWORK_SHIM_LOG_LEVEL?.toLowerCase();
    const levels: readonly ShimLogLevel[] = ['silent', 'error', 'warning', 'info', 'debug'];
    return levels.find((l) => l === requested) ?? 'silent';
}

/** One chaincode package's fabric-shim and fabric-contract-api. */
export class ShimRuntime {
    /** fabric-contract-api as fabric-shim loads it. */
    public readonly contractApi: { readonly JSONSerializer: new () => unknown } & Record<string, unknown>;
    private readonly handlerClass: new (stream: ShimChatStream, chaincode: ChaincodeInterface) => ChaincodeMessageHandlerInstance;
    private readonly chaincodeFromContract: ChaincodeFromContractCtor;
    private readonly messageClass: ShimChaincodeMessageClass;
    private readonly chaincodeIdClass: ShimChaincodeIdClass;
    private readonly loggers: readonly FabricLoggerModule[];
    /** Every logger the modules asked for since they were loaded here. */
    private readonly createdLoggers = new Set<WinstonLogger>();
    private silent = false;

    private constructor(folder: string) {
        const packageRequire = createRequire(path.join(folder, 'package.json'));
        let shimEntry: string;
        try {
            shimEntry = packageRequire.resolve('fabric-shim');
        } catch {
            throw new Error(`chaincode package ${folder} has no fabric-shim in its node_modules (run npm install there)`);
        }
        const shimRequire = createRequire(shimEntry);
        // The logger modules first, so that the loggers the other modules create at load time are seen.
        this.loggers = [
            shimRequire('./lib/logger.js') as FabricLoggerModule,
            createRequire(shimRequire.resolve('fabric-contract-api'))('./lib/logger.js') as FabricLoggerModule,
        ];
        for (const loggers of this.loggers) {
            const getLogger = loggers.getLogger.bind(loggers);
            loggers.getLogger = (name?: string): WinstonLogger => {
                const logger = getLogger(name);
                this.createdLoggers.add(logger);
                logger.silent = this.silent;
                return logger;
            };
        }
        this.handlerClass = (shimRequire('./lib/handler.js') as { ChaincodeMessageHandler: ShimRuntime['handlerClass'] }).ChaincodeMessageHandler;
        this.chaincodeFromContract = shimRequire('./lib/contract-spi/chaincodefromcontract.js') as ChaincodeFromContractCtor;
        this.contractApi = shimRequire('fabric-contract-api') as ShimRuntime['contractApi'];
        const shimProtos = shimRequire('@hyperledger/fabric-protos') as { peer: { ChaincodeMessage: ShimChaincodeMessageClass; ChaincodeID: ShimChaincodeIdClass } };
        this.messageClass = shimProtos.peer.ChaincodeMessage;
        this.chaincodeIdClass = shimProtos.peer.ChaincodeID;
    }

    private static readonly loaded = new Map<string, ShimRuntime>();

    /** The runtime of the chaincode package in `folder` (loaded once per folder). */
    public static of(folder: string): ShimRuntime {
        const resolved = path.resolve(folder);
        let runtime = ShimRuntime.loaded.get(resolved);
        if (runtime === undefined) {
            runtime = new ShimRuntime(resolved);
            runtime.setLogLevel(requestedShimLogLevel());
            ShimRuntime.loaded.set(resolved, runtime);
        }
        return runtime;
    }

    /** Parses a chaincode message sent by the peer with this runtime's own bindings. */
    public parseMessage(bytes: Uint8Array): ShimMessage {
        return this.messageClass.deserializeBinary(bytes);
    }

    /** The default serializer set, exactly as fabric-shim's bootstrap builds it when a chaincode exports none. */
    public defaultSerializers(): SerializerConfig {
        return { transaction: 'jsonSerializer', serializers: { jsonSerializer: this.contractApi.JSONSerializer } };
    }

    /**
     * Builds the chaincode exactly as `fabric-chaincode-node start` does (bootstrap.js `register`): a
     * ChaincodeFromContract over the contract classes plus fabric-contract-api's system contract. `mspId` is what
     * `ctx.stub.getMspID()` answers: the MSP of the peer the chaincode runs for (CORE_PEER_LOCALMSPID on a peer).
     */
    public createContractChaincode(options: {
        readonly contracts: readonly ContractClass[];
        readonly mspId: string;
        readonly serializers?: SerializerConfig;
        readonly metadata?: object;
        readonly title?: string;
        readonly version?: string;
    }): ChaincodeInterface {
        // ChaincodeFromContract appends the system contract to the array it is given: pass a copy.
        const chaincode = new this.chaincodeFromContract(
            [...options.contracts],
            options.serializers ?? this.defaultSerializers(),
            structuredClone(options.metadata ?? {}),
            options.title,
            options.version,
        );
        // Several peers' chaincodes share this thread's process.env: each stub answers its own peer's MSP instead.
        const asPeer = (stub: ShimStub): ShimStub => Object.assign(stub, { getMspID: () => options.mspId });
        return {
            Init: (stub) => chaincode.Init(asPeer(stub)),
            Invoke: (stub) => chaincode.Invoke(asPeer(stub)),
        };
    }

    /**
     * Starts fabric-shim's real ChaincodeMessageHandler on `stream` and sends REGISTER for `chaincodeId`, as the
     * shim's ChaincodeServer.connect / Shim.start do.
     */
    public startHandler(stream: ShimChatStream, chaincode: ChaincodeInterface, chaincodeId: string): void {
        const handler = new this.handlerClass(stream, chaincode);
        const id = new this.chaincodeIdClass();
        id.setName(chaincodeId);
        const register = new this.messageClass();
        register.setType(this.messageClass.Type.REGISTER);
        register.setPayload(id.serializeBinary());
        handler.chat(register);
    }

    /**
     * Sets the level of fabric-shim's and fabric-contract-api's winston loggers (which log every transaction at info
     * level, and every failed one at error level). `silent` mutes their console transports entirely, and the loggers
     * themselves: a winston logger formats each entry (timestamp, colours, padding) before its transports drop it, a
     * silent logger does not.
     */
    public setLogLevel(level: ShimLogLevel): void {
        this.silent = level === 'silent';
        for (const logger of this.createdLoggers) {
            logger.silent = this.silent;
        }
        for (const loggers of this.loggers) {
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
}
