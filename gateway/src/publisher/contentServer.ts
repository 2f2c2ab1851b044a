// SPDX-License-Identifier: Apache-2.0
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { sha256 } from '@ledgerwork/core';
import type { ContentStore } from './publisher';

/** Where and how a content server listens, and the address other organizations reach it at. */
export interface ContentServerOptions {
    /** Address to bind (default 127.0.0.1; 0.0.0.0 or a host's address to serve other hosts). */
    readonly host?: string;
    /** Port to bind (default 0: a free one). */
    readonly port?: number;
    /**
     * Base URL put into the ledger's URIs, when executors reach this server under another name or
     * address than it binds (a DNS name, a NAT or proxy address), e.g. `https://bundles.org1.example:8443`.
     * Default: the bound address and port.
     */
    readonly advertiseUrl?: string;
    /** Serve HTTPS with this certificate and key (PEM); executors then need to trust its issuer. */
    readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

/** A content server option that is not usable. */
export class ContentServerError extends Error {
    override readonly name = 'ContentServerError';
}

/**
 * An org's small built-in content server: bundles and large inputs are kept in memory and served
 * read-only over HTTP at `/<sha256>`, so executors of every org can fetch them (and check the hash
 * the ledger holds). Content-addressed: the same bytes put twice are stored once.
 */
export class ContentServer implements ContentStore {
    readonly #content = new Map<string, Buffer>();
    readonly #server: Server;
    #base = '';

    private constructor(tls: ContentServerOptions['tls']) {
        const serve = (request: IncomingMessage, response: ServerResponse): void => {
            const hash = /^\/([0-9a-f]{64})$/.exec(request.url ?? '')?.[1];
            const body = hash === undefined ? undefined : this.#content.get(hash);
            if (request.method !== 'GET' || body === undefined) {
                response.writeHead(request.method === 'GET' ? 404 : 405).end();
                return;
            }
            response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
        };
        this.#server = tls === undefined ? createServer(serve) : createTlsServer({ cert: tls.cert, key: tls.key }, serve);
    }

    /**
     * Starts a server on `host:port` (port 0 picks a free one), HTTPS when given a certificate.
     * @throws {ContentServerError} for an unusable advertised URL, port or certificate
     */
    static async start(options: ContentServerOptions = {}): Promise<ContentServer> {
        const port = options.port ?? 0;
        if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
            throw new ContentServerError(`port must be an integer from 0 to 65535, not ${String(port)}`);
        }
        const scheme = options.tls === undefined ? 'http' : 'https';
        const advertised = options.advertiseUrl === undefined ? undefined : advertisedBase(options.advertiseUrl, scheme);
        let server: ContentServer;
        try {
            server = new ContentServer(options.tls);
        } catch (err) {
            throw new ContentServerError(`the TLS certificate or key is not usable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
        const host = options.host ?? '127.0.0.1';
        await new Promise<void>((resolve, reject) => {
            server.#server.once('error', reject).listen(port, host, resolve);
        });
        const bound = (server.#server.address() as AddressInfo).port;
        server.#base = advertised ?? `${scheme}://${host.includes(':') ? `[${host}]` : host}:${bound}`;
        return server;
    }

    /** The port it listens on. */
    get port(): number {
        return (this.#server.address() as AddressInfo).port;
    }

    /** Base URL put into URIs, e.g. http://127.0.0.1:41234 (or the advertised URL) */
    get url(): string {
        return this.#base;
    }

    put(_name: string, bytes: Uint8Array): Promise<string> {
        const hash = sha256(bytes).toString('hex');
        this.#content.set(hash, Buffer.from(bytes));
        return Promise.resolve(`${this.#base}/${hash}`);
    }

    async close(): Promise<void> {
        this.#server.closeAllConnections();
        await new Promise<void>((resolve) => this.#server.close(() => {
            resolve();
        }));
    }
}

/** The advertised base URL without a trailing slash. @throws {ContentServerError} */
function advertisedBase(text: string, scheme: 'http' | 'https'): string {
    let url: URL;
    try {
        url = new URL(text);
    } catch {
        throw new ContentServerError(`the advertised URL ${JSON.stringify(text)} is not a URL`);
    }
    if (url.protocol !== `${scheme}:`) {
        throw new ContentServerError(`the advertised URL must be ${scheme}:// (the server speaks ${scheme === 'https' ? 'TLS' : 'plain HTTP'}), not ${url.protocol}//`);
    }
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
        throw new ContentServerError('the advertised URL takes no query, fragment or credentials');
    }
    return url.href.replace(/\/+$/, '');
}
