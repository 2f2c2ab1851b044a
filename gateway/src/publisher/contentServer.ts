// SPDX-License-Identifier: Apache-2.0
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256 } from '@ledgerwork/core';
import type { ContentStore } from './publisher';

/**
 * An org's small built-in content server: bundles and large inputs are kept in memory and served
 * read-only over HTTP at `/<sha256>`, so executors of every org can fetch them (and check the hash
 * the ledger holds). Content-addressed: the same bytes put twice are stored once.
 */
export class ContentServer implements ContentStore {
    readonly #content = new Map<string, Buffer>();
    readonly #server: Server;
    #base = '';

    private constructor() {
        this.#server = createServer((request, response) => {
            const hash = /^\/([0-9a-f]{64})$/.exec(request.url ?? '')?.[1];
            const body = hash === undefined ? undefined : this.#content.get(hash);
            if (request.method !== 'GET' || body === undefined) {
                response.writeHead(request.method === 'GET' ? 404 : 405).end();
                return;
            }
            response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
        });
    }

    /** Starts a server on `host:port` (port 0 picks a free one). */
    static async start(options: { host?: string; port?: number } = {}): Promise<ContentServer> {
        const server = new ContentServer();
        const host = options.host ?? '127.0.0.1';
        await new Promise<void>((resolve, reject) => {
            server.#server.once('error', reject).listen(options.port ?? 0, host, resolve);
        });
        const { port } = server.#server.address() as AddressInfo;
        server.#base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
        return server;
    }

    /** Base URL, e.g. http://127.0.0.1:41234 */
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
