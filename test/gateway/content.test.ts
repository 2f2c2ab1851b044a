// SPDX-License-Identifier: Apache-2.0
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sha256 } from '../../chaincode/src/core/signature';
import { ContentFetcher, FetchError } from '../../gateway/src/executor';
import { ContentServer } from '../../gateway/src/publisher';

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
