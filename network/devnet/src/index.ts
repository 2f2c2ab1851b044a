// SPDX-License-Identifier: Apache-2.0
/**
 * `@ledgerwork/devnet`: a Hyperledger Fabric network in one Node process that serves Fabric's Gateway gRPC
 * service, so that unmodified `@hyperledger/fabric-gateway` applications connect to it. See README.md.
 */
import { createServer } from 'node:net';
import path from 'node:path';
import { Devnet, type ChaincodeDefinition, type ChaincodeServiceDefinition, type DevnetOptions } from './devnet';
import { startGatewayServer, type GatewayServer, type GatewayServerOptions } from './gatewayServer';
import { issueUser, type IssueOptions, type OrgIdentity } from './orgs';
import { defined } from './defined';

export { Devnet, DevnetError, EndorsementPolicyError, type ChaincodeDefinition, type ChaincodeServiceDefinition, type DevnetOptions, type TxStatus } from './devnet';
export { startGatewayServer, type GatewayServer, type GatewayServerOptions } from './gatewayServer';
export { ensureCryptoMaterial, issueUser, loadUser, mspIdOf, type CryptoMaterial, type IssueOptions, type Org, type OrgIdentity } from './orgs';
export { BlockStore, blockHeaderHash, blockDataHash } from './blockStore';

/** The settings a fabric-gateway application needs, named as in fabric-samples. */
export interface ConnectionSettings {
    /** `host:port` of the Gateway service (PEER_ENDPOINT). */
    readonly peerEndpoint: string;
    /** TLS server name to expect (PEER_HOST_ALIAS); the certificate is valid for `localhost` and `*.example.com`. */
    readonly peerHostAlias: string;
    /** PEM file of the TLS CA (TLS_CERT_PATH); empty when TLS is off. */
    readonly tlsCertPath: string;
    readonly mspId: string;
    /** PEM file of the client certificate (CERT_PATH). */
    readonly certPath: string;
    /** PEM file of the client's PKCS#8 private key (KEY_PATH). */
    readonly keyPath: string;
    readonly channelName: string;
}

/**
 * A common connection profile (the JSON fabric-network 2.2 and Caliper's Fabric connector read, as test-network's
 * `connection-org1.json`): the client's org, every org's peer, the orderer, and the channel with its peers and
 * orderer, so that it serves with discovery on (`asLocalhost: true`) as well as off.
 */
export interface ConnectionProfile {
    readonly name: string;
    readonly version: string;
    readonly client: { readonly organization: string };
    readonly organizations: Readonly<Record<string, { readonly mspid: string; readonly peers: readonly string[] }>>;
    readonly peers: Readonly<Record<string, NodeProfile>>;
    readonly orderers: Readonly<Record<string, NodeProfile>>;
    readonly channels: Readonly<Record<string, {
        readonly orderers: readonly string[];
        readonly peers: Readonly<Record<string, { readonly endorsingPeer: boolean; readonly chaincodeQuery: boolean; readonly ledgerQuery: boolean; readonly eventSource: boolean }>>;
    }>>;
}

/** A peer or orderer of a {@link ConnectionProfile}. */
export interface NodeProfile {
    readonly url: string;
    readonly tlsCACerts?: { readonly pem: string };
    readonly grpcOptions: Readonly<Record<string, string>>;
}

/** Options of {@link startDevnet}. */
export interface StartDevnetOptions extends DevnetOptions, GatewayServerOptions {
    /** Chaincodes to run in process (worker threads per org, or given contract classes in this thread) before serving. */
    readonly chaincodes?: readonly ChaincodeDefinition[];
    /** Chaincode folders to run as services (`fabric-chaincode-node server`, CCaaS) before serving. */
    readonly services?: readonly ChaincodeServiceDefinition[];
    /**
     * Serve each org on its own port, as test-network's peers (e.g. 7051, 9051, 11051 — see {@link testNetworkPorts}):
     * one port per org, in org order; `port` is then ignored. Each port is that org's peer: evaluations run there and
     * endorsements start there.
     */
    readonly orgPorts?: readonly number[];
}

/** test-network's peer ports for `orgs` orgs starting at `base` (Org1 7051, Org2 9051, Org3 11051, …). */
export function testNetworkPorts(orgs: number, base = 7051): number[] {
    return Array.from({ length: orgs }, (_, i) => base + 2000 * i);
}

/** A devnet serving the Gateway service. */
export interface RunningDevnet {
    readonly devnet: Devnet;
    /** The (first org's) server. */
    readonly server: GatewayServer;
    /** Every org's server, in org order (all the same server unless `orgPorts` was given). */
    readonly servers: readonly GatewayServer[];
    /** Connection settings for user `user` (default `User1`) of org `org` (1-based index or MSP id, default 1). */
    connection(org?: number | string, user?: string): ConnectionSettings;
    /** A connection profile for a client of `org` (1-based index or MSP id, default 1). */
    connectionProfile(org?: number | string): ConnectionProfile;
    /** Issues a new user of `org` (e.g. with attributes) and returns its connection settings. */
    addUser(org: number | string, name: string, options?: IssueOptions): ConnectionSettings & { readonly identity: OrgIdentity };
    /** Stops serving, commits what is pending and closes the ledger. */
    stop(): Promise<void>;
}

/** Opens the devnet in `options.dir`, deploys `options.chaincodes` and serves the Gateway service. */
/** A port free on `host` now (the OS's choice for port 0), for a server started a moment later. */
function freePort(host: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const probe = createServer();
        probe.once('error', reject);
        probe.listen(0, host, () => {
            const address = probe.address();
            probe.close(() => {
                if (address === null || typeof address === 'string') {
                    reject(new Error(`no port from ${host}`));
                } else {
                    resolve(address.port);
                }
            });
        });
    });
}

/**
 * Opens the devnet and says on which port its first server (the orderer's) listens. The orderer is served on the
 * first org's port, and a new channel's config block names it there, so that port is chosen before block 0 is
 * written; an existing ledger's block 0 already names it, and the devnet comes back there.
 */
async function openWithOrdererPort(options: StartDevnetOptions): Promise<{ devnet: Devnet; firstPort: number }> {
    const requestedPort = options.orgPorts?.[0] ?? options.port ?? 0;
    const candidatePort = requestedPort === 0 ? await freePort(options.host ?? '127.0.0.1') : requestedPort;
    const devnet = await Devnet.open({ ...options, ordererEndpoint: options.ordererEndpoint ?? `orderer.example.com:${candidatePort}` });
    const configuredPort = devnet.configuredOrdererPort;
    if (requestedPort === 0) {
        return { devnet, firstPort: configuredPort ?? 0 };
    }
    if (configuredPort !== undefined && requestedPort !== configuredPort) {
        await devnet.close();
        throw new Error(`the channel configuration (block 0 in ${options.dir}) names the orderer at port ${configuredPort}: start this devnet on port ${configuredPort} (or 0 for that port), or in a new directory`);
    }
    return { devnet, firstPort: requestedPort };
}

export async function startDevnet(options: StartDevnetOptions): Promise<RunningDevnet> {
    const { devnet, firstPort } = await openWithOrdererPort(options);
    const servers: GatewayServer[] = [];
    try {
        for (const chaincode of options.chaincodes ?? []) {
            await devnet.deploy(chaincode);
        }
        for (const service of options.services ?? []) {
            await devnet.deployService(service);
        }
        if (options.orgPorts === undefined) {
            const shared = await startGatewayServer(devnet, { ...options, port: firstPort });
            servers.push(...devnet.orgs.map(() => shared));
        } else {
            if (options.orgPorts.length !== devnet.orgs.length) {
                throw new Error(`orgPorts lists ${options.orgPorts.length} ports for ${devnet.orgs.length} orgs`);
            }
            for (const [i, org] of devnet.orgs.entries()) {
                servers.push(await startGatewayServer(devnet, { ...options, port: i === 0 ? firstPort : defined(options.orgPorts[i]), localMspId: org.mspId }));
            }
        }
    } catch (error) {
        await Promise.all([...new Set(servers)].map((s) => s.close()));
        await devnet.close();
        throw error;
    }
    const server = defined(servers[0]);
    devnet.setEndpointPorts(new Map(devnet.orgs.map((org, i) => [org.mspId, defined(servers[i]).port])));
    const orgOf = (org: number | string = 1) => {
        const found = typeof org === 'number' ? devnet.orgs[org - 1] : devnet.orgs.find((o) => o.mspId === org);
        if (found === undefined) {
            throw new Error(`no organization ${org}`);
        }
        return found;
    };
    const settings = (mspId: string, domain: string, certPath: string, keyPath: string): ConnectionSettings => ({
        peerEndpoint: `localhost:${defined(servers[devnet.orgs.findIndex((o) => o.mspId === mspId)]).port}`,
        peerHostAlias: `peer0.${domain}`,
        tlsCertPath: options.tls === false ? '' : devnet.material.tls.caCertPath,
        mspId,
        certPath,
        keyPath,
        channelName: devnet.channel,
    });
    return {
        devnet,
        server,
        servers,
        connection: (org, user = 'User1') => {
            const o = orgOf(org);
            const mspDir = path.join(o.dir, 'users', `${user}@${o.domain}`, 'msp');
            return settings(o.mspId, o.domain, path.join(mspDir, 'signcerts', `${user}@${o.domain}-cert.pem`), path.join(mspDir, 'keystore', 'priv_sk'));
        },
        connectionProfile: (org) => {
            const client = orgOf(org);
            const tls = options.tls === false ? undefined : { pem: devnet.material.tls.caCertificatePem };
            const node = (name: string, port: number): NodeProfile => ({
                url: `${tls === undefined ? 'grpc' : 'grpcs'}://localhost:${port}`,
                ...(tls === undefined ? {} : { tlsCACerts: tls }),
                grpcOptions: { 'ssl-target-name-override': name, hostnameOverride: name },
            });
            const peerName = (o: { domain: string }): string => `peer0.${o.domain}`;
            const ordererName = 'orderer.example.com';
            return {
                name: `ledgerwork-devnet-${client.domain.split('.')[0] ?? ''}`,
                version: '1.0.0',
                client: { organization: client.mspId },
                organizations: Object.fromEntries(devnet.orgs.map((o) => [o.mspId, { mspid: o.mspId, peers: [peerName(o)] }])),
                peers: Object.fromEntries(devnet.orgs.map((o, i) => [peerName(o), node(peerName(o), defined(servers[i]).port)])),
                orderers: { [ordererName]: node(ordererName, server.port) },
                channels: {
                    [devnet.channel]: {
                        orderers: [ordererName],
                        peers: Object.fromEntries(devnet.orgs.map((o) => [peerName(o), { endorsingPeer: true, chaincodeQuery: true, ledgerQuery: true, eventSource: true }])),
                    },
                },
            };
        },
        addUser: (org, name, issue = {}) => {
            const o = orgOf(org);
            const identity = issueUser(o, name, issue);
            return { ...settings(o.mspId, o.domain, identity.certPath, identity.keyPath), identity };
        },
        stop: async () => {
            await Promise.all([...new Set(servers)].map((s) => s.close()));
            await devnet.close();
        },
    };
}
