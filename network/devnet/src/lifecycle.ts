// SPDX-License-Identifier: Apache-2.0
/**
 * The chaincode lifecycle of the devnet: installs a chaincode on every org's peer (one instance per org, each
 * answering `getMspID()` with its org) — in worker threads, in this thread, or as a chaincode service (CCaaS) — waits
 * until each instance registered and (re)defines it on the channel.
 */
import path from 'node:path';
import { ChaincodeHandler, type ChaincodeHandlerOptions } from './chaincodeHandler';
import { startChaincodeWorker } from './chaincodeWorker';
import { freePort, GrpcChatStream, launchChaincodeServer } from './chaincodeService';
import { InProcessChatStream } from './chatStream';
import type { EndorsementPolicyDefinition } from './endorsementPolicy';
import type { Org } from './orgs';
import { ShimRuntime, type ContractClass, type SerializerConfig } from './shimRuntime';

/**
 * A chaincode to run in process, from its package folder (the folder that deploys to a real peer). Without
 * `contracts`, each org's chaincode runs in its own worker thread on the package's own dependencies, loaded as
 * `fabric-chaincode-node start` loads them. With `contracts` (classes already loaded in this process, e.g. by a test),
 * those classes run in this thread on the folder's fabric-shim.
 */
export interface ChaincodeDefinition extends EndorsementPolicyDefinition {
    /** Chaincode name on the channel. */
    readonly name: string;
    /** The chaincode package (package.json `main` exporting `contracts`, fabric-shim in its node_modules). */
    readonly folder: string;
    readonly contracts?: readonly ContractClass[];
    readonly serializers?: SerializerConfig;
    readonly metadata?: object;
    readonly version?: string;
    /** Its private data collections: a `collections_config.json` array (JSON text or parsed); none by default. */
    readonly collections?: unknown;
}

/** A chaincode package folder to run as a service (`fabric-chaincode-node server`, as with CCaaS). */
export interface ChaincodeServiceDefinition extends EndorsementPolicyDefinition {
    /** Chaincode name on the channel. */
    readonly name: string;
    /** The chaincode package (package.json `main` exporting `contracts`, fabric-shim in its node_modules). */
    readonly folder: string;
    readonly version?: string;
    /** A file the chaincode server's stdout and stderr are appended to; by default they are the devnet's own. */
    readonly logFile?: string;
    /** Its private data collections: a `collections_config.json` array (JSON text or parsed); none by default. */
    readonly collections?: unknown;
}

/** A chaincode defined on the channel. */
export interface DeployedChaincode {
    readonly version: string;
    /** Each org's peer's connection to its own instance of the chaincode. */
    readonly handlers: ReadonlyMap<string, ChaincodeHandler>;
    /** Stops every instance. */
    stop(): void;
}

/** A chaincode instance being started for one org: the peer's handler of its stream, and how to stop it. */
interface StartedInstance {
    readonly handler: ChaincodeHandler;
    /** Why the instance stopped, if it did. */
    failure(): string | undefined;
    stop(): void;
}

/** The chaincodes defined on the channel and their running instances. */
export class ChaincodeLifecycle {
    private readonly chaincodes = new Map<string, DeployedChaincode>();

    /**
     * @param orgs the channel's orgs, one instance of each chaincode per org
     * @param executeTimeoutMs chaincode.executetimeout
     */
    public constructor(
        private readonly orgs: readonly Org[],
        private readonly executeTimeoutMs: number,
    ) {}

    /** The chaincode `name` as defined on the channel, if it is. */
    public get(name: string): DeployedChaincode | undefined {
        return this.chaincodes.get(name);
    }

    /** Name and version of each chaincode defined on the channel. */
    public definitions(): { readonly name: string; readonly version: string }[] {
        return [...this.chaincodes].map(([name, deployed]) => ({ name, version: deployed.version }));
    }

    /**
     * Starts a chaincode in process, one instance per org (each answering `getMspID()` with its org), and defines
     * it on the channel.
     */
    public async deploy(definition: ChaincodeDefinition): Promise<void> {
        const version = definition.version ?? '1.0';
        const ccid = `${definition.name}:${version}`;
        const contracts = definition.contracts;
        if (contracts === undefined) {
            await this.install(definition.name, version, async (org) => {
                const stream = startChaincodeWorker(definition.folder, ccid, org.mspId);
                const handler = new ChaincodeHandler(stream, this.handlerOptions());
                return Promise.resolve({ handler, failure: () => stream.failure, stop: () => { handler.close(); } });
            });
            return;
        }
        const runtime = ShimRuntime.of(definition.folder);
        await this.install(definition.name, version, async (org) => {
            const stream = new InProcessChatStream((bytes) => runtime.parseMessage(bytes));
            const chaincode = runtime.createContractChaincode({
                contracts,
                mspId: org.mspId,
                ...(definition.serializers === undefined ? {} : { serializers: definition.serializers }),
                ...(definition.metadata === undefined ? {} : { metadata: definition.metadata }),
                title: definition.name,
                version,
            });
            const handler = new ChaincodeHandler(stream, this.handlerOptions());
            runtime.startHandler(stream.chaincodeSide, chaincode, ccid);
            return Promise.resolve({ handler, failure: () => undefined, stop: () => { handler.close(); } });
        });
    }

    /**
     * Runs a chaincode folder as a service, one server per org as each peer has its own chaincode: starts
     * `fabric-chaincode-node server` there on a free local port (with CORE_PEER_LOCALMSPID of the org), dials it as a
     * peer does with CCaaS and waits for the chaincode to register.
     */
    public async deployService(definition: ChaincodeServiceDefinition): Promise<void> {
        const version = definition.version ?? '1.0';
        await this.install(definition.name, version, async (org) => {
            const address = `127.0.0.1:${await freePort()}`;
            const child = launchChaincodeServer(path.resolve(definition.folder), address, `${definition.name}:${version}`, org.mspId, definition.logFile);
            let exited: string | undefined;
            child.once('exit', (code, signal) => {
                exited = `chaincode server ${definition.name} for ${org.mspId} exited with ${signal ?? `code ${code ?? 0}`}`;
            });
            const deadline = Date.now() + 30_000;
            for (;;) {
                if (exited !== undefined) {
                    throw new Error(exited);
                }
                const handler = new ChaincodeHandler(new GrpcChatStream(address), this.handlerOptions());
                try {
                    await handler.ready();
                    return { handler, failure: () => exited, stop: () => { handler.close(); child.kill(); } };
                } catch (error) {
                    handler.close();
                    if (Date.now() > deadline) {
                        child.kill();
                        throw new Error(`chaincode server ${definition.name} for ${org.mspId} did not register: ${(error as Error).message}`);
                    }
                    await new Promise((resolve) => setTimeout(resolve, 200));
                }
            }
        });
    }

    /** Stops every chaincode's instances. */
    public stopAll(): void {
        for (const deployed of this.chaincodes.values()) {
            deployed.stop();
        }
    }

    private handlerOptions(): ChaincodeHandlerOptions {
        return { maxResultLimit: 100, totalQueryLimit: 100_000, executeTimeoutMs: this.executeTimeoutMs };
    }

    /** Starts one instance of a chaincode per org, waits until each registered, and (re)defines it on the channel. */
    private async install(name: string, version: string, start: (org: Org) => Promise<StartedInstance>): Promise<void> {
        const instances: StartedInstance[] = [];
        const handlers = new Map<string, ChaincodeHandler>();
        const stop = (): void => {
            for (const instance of instances) {
                instance.stop();
            }
        };
        // The orgs' instances start side by side, as peers start their chaincodes independently.
        const started = await Promise.allSettled(this.orgs.map(async (org) => {
            const instance = await start(org);
            instances.push(instance);
            handlers.set(org.mspId, instance.handler);
            try {
                await instance.handler.ready();
            } catch (error) {
                throw new Error(`chaincode ${name} did not start for ${org.mspId}: ${instance.failure() ?? (error as Error).message}`);
            }
        }));
        const failed = started.find((outcome) => outcome.status === 'rejected');
        if (failed !== undefined) {
            stop();
            throw failed.reason;
        }
        this.chaincodes.get(name)?.stop();
        this.chaincodes.set(name, { version, handlers, stop });
    }
}
