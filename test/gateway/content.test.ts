// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sha256 } from '../../chaincode/src/core/signature';
import { ContentFetcher, FetchError } from '../../gateway/src/executor';
import { ContentServer, ContentServerError } from '../../gateway/src/publisher';

describe('content server and fetcher', () => {
    let server: ContentServer;
    beforeAll(async () => {
        server = await ContentServer.start();
    });
    afterAll(async () => {
        await server.close();
    });

    it('serves stored bytes by hash and the fetcher checks them against the ledger hash', async () => {
        const bytes = Buffer.from('a program bundle');
        const uri = await server.put('bundle.wasm', bytes);
        expect(uri).toBe(`${server.url}/${sha256(bytes).toString('hex')}`);
        const fetcher = new ContentFetcher();
        expect((await fetcher.fetchVerified(uri, sha256(bytes).toString('hex'))).equals(bytes)).toBe(true);
        await expect(new ContentFetcher().fetchVerified(uri, 'f'.repeat(64))).rejects.toMatchObject({ reason: 'mismatch' });
    });

    it('answers 404 for unknown content and 405 for writes; the fetcher types both failures', async () => {
        const missing = `${server.url}/${'0'.repeat(64)}`;
        await expect(new ContentFetcher().fetchVerified(missing, '0'.repeat(64))).rejects.toBeInstanceOf(FetchError);
        expect((await fetch(missing)).status).toBe(404);
        expect((await fetch(`${server.url}/${'0'.repeat(64)}`, { method: 'POST', body: 'x' })).status).toBe(405);
        await expect(new ContentFetcher().fetchVerified('ftp://example.org/x', '0'.repeat(64))).rejects.toMatchObject({ reason: 'unsupported' });
        const big = Buffer.alloc(2048);
        const uri = await server.put('big', big);
        await expect(new ContentFetcher({ maxBytes: 1024 }).fetchVerified(uri, sha256(big).toString('hex'))).rejects.toMatchObject({ reason: 'too-large' });
    });
});

describe('content server between hosts: bind address, advertised URL, TLS', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'lw-content-'));
    afterAll(() => {
        rmSync(work, { recursive: true, force: true });
    });

    /** A free port on `host` (loopback only). */
    async function freePort(host: string): Promise<number> {
        const probe = createNetServer();
        await new Promise<void>((resolve) => probe.listen(0, host, resolve));
        const { port } = probe.address() as AddressInfo;
        await new Promise<void>((resolve) => probe.close(() => { resolve(); }));
        return port;
    }

    it('binds the address it is given and puts the advertised URL into URIs; an executor fetches through it', async () => {
        // Bound on 127.0.0.2 only (not the default 127.0.0.1), advertised by an explicit URL with a trailing slash to normalize.
        const port = await freePort('127.0.0.2');
        const server = await ContentServer.start({ host: '127.0.0.2', port, advertiseUrl: `http://127.0.0.2:${port}/` });
        try {
            const bytes = Buffer.from('bundle served to another organization');
            const hash = sha256(bytes).toString('hex');
            const uri = await server.put('b.wasm', bytes);
            expect(uri).toBe(`http://127.0.0.2:${port}/${hash}`);
            expect((await new ContentFetcher().fetchVerified(uri, hash)).equals(bytes)).toBe(true);
            // Nothing listens on 127.0.0.1 at that port: the bind address was honoured.
            await expect(new ContentFetcher().fetchVerified(`http://127.0.0.1:${port}/${hash}`, hash)).rejects.toMatchObject({ reason: 'unavailable' });
        } finally {
            await server.close();
        }
        const advertised = await ContentServer.start({ advertiseUrl: 'https://bundles.org1.example:8443/ledgerwork' }).catch((err: unknown) => err);
        expect(advertised).toBeInstanceOf(ContentServerError); // plain HTTP cannot be advertised as https
        await expect(ContentServer.start({ advertiseUrl: 'not a url' })).rejects.toBeInstanceOf(ContentServerError);
        await expect(ContentServer.start({ port: 70_000 })).rejects.toBeInstanceOf(ContentServerError);
    });

    it('serves HTTPS with a given certificate; an executor trusting its issuer fetches, others refuse', async () => {
        const key = path.join(work, 'key.pem');
        const cert = path.join(work, 'cert.pem');
        const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=bundles.org1', '-addext', 'subjectAltName=IP:127.0.0.2', '-keyout', key, '-out', cert], { encoding: 'utf8' });
        expect(made.status).toBe(0);
        const port = await freePort('127.0.0.2');
        const server = await ContentServer.start({ host: '127.0.0.2', port, tls: { cert: readFileSync(cert), key: readFileSync(key) } });
        try {
            expect(server.url).toBe(`https://127.0.0.2:${port}`);
            const bytes = Buffer.from('bundle over TLS');
            const hash = sha256(bytes).toString('hex');
            const uri = await server.put('b.wasm', bytes);
            expect((await new ContentFetcher({ ca: readFileSync(cert) }).fetchVerified(uri, hash)).equals(bytes)).toBe(true);
            await expect(new ContentFetcher().fetchVerified(uri, hash)).rejects.toMatchObject({ reason: 'unavailable' });
        } finally {
            await server.close();
        }
        await expect(ContentServer.start({ tls: { cert: 'not a certificate', key: 'nor a key' } })).rejects.toBeInstanceOf(ContentServerError);
    });
});
