// SPDX-License-Identifier: Apache-2.0
import { readFile } from 'node:fs/promises';
import { get } from 'node:https';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@ledgerwork/core';

/** Why bytes named on the ledger could not be used. */
export class FetchError extends Error {
    override readonly name = 'FetchError';

    constructor(
        message: string,
        /** `mismatch`: fetched, but the SHA-256 differs from the ledger's (never run it). */
        readonly reason: 'mismatch' | 'unavailable' | 'too-large' | 'unsupported',
        options: { cause?: unknown } = {},
    ) {
        super(message, options.cause === undefined ? undefined : { cause: options.cause });
    }
}

/**
 * Fetches program bundles and task inputs named by URI on the ledger and checks their SHA-256
 * against the ledger's before anything uses them (SPEC §3: a mismatch is refused and reported, never
 * executed). Verified bytes are kept by hash, so a program shared by many tasks is fetched once.
 */
export class ContentFetcher {
    readonly #verified = new Map<string, Buffer>();

    constructor(
        private readonly options: {
            maxBytes?: number;
            fetch?: typeof fetch;
            maxCached?: number;
            /** Certificates (PEM) trusted for https:// content servers, e.g. another organization's own CA. */
            ca?: string | Buffer | readonly (string | Buffer)[];
        } = {},
    ) {}

    /** @throws {FetchError} */
    async fetchVerified(uri: string, sha256Hex: string): Promise<Buffer> {
        const cached = this.#verified.get(sha256Hex);
        if (cached !== undefined) {
            return cached;
        }
        const bytes = await this.#fetch(uri);
        const actual = sha256(bytes).toString('hex');
        if (actual !== sha256Hex) {
            throw new FetchError(`${uri} has SHA-256 ${actual}, the ledger says ${sha256Hex}`, 'mismatch');
        }
        if (this.#verified.size >= (this.options.maxCached ?? 256)) {
            const oldest = this.#verified.keys().next();
            if (oldest.done !== true) {
                this.#verified.delete(oldest.value);
            }
        }
        this.#verified.set(sha256Hex, bytes);
        return bytes;
    }

    async #fetch(uri: string): Promise<Buffer> {
        const maxBytes = this.options.maxBytes ?? 64 << 20;
        let bytes: Buffer;
        try {
            if (uri.startsWith('file://')) {
                bytes = await readFile(fileURLToPath(uri));
            } else if (uri.startsWith('https://') && this.options.ca !== undefined) {
                bytes = await httpsGet(uri, this.options.ca, maxBytes);
            } else if (uri.startsWith('http://') || uri.startsWith('https://')) {
                const response = await (this.options.fetch ?? fetch)(uri, { signal: AbortSignal.timeout(60_000) });
                if (!response.ok) {
                    throw new FetchError(`${uri} answered ${response.status}`, 'unavailable');
                }
                bytes = Buffer.from(await response.arrayBuffer());
            } else {
                throw new FetchError(`${uri}: only file://, http:// and https:// are fetched`, 'unsupported');
            }
        } catch (err) {
            throw err instanceof FetchError ? err : new FetchError(`${uri} cannot be fetched: ${err instanceof Error ? err.message : String(err)}`, 'unavailable', { cause: err });
        }
        if (bytes.length > maxBytes) {
            throw new FetchError(`${uri} is larger than ${maxBytes} bytes`, 'too-large');
        }
        return bytes;
    }
}

/** GET over TLS trusting `ca`; at most `maxBytes` (plus one, to tell a larger body). */
function httpsGet(uri: string, ca: string | Buffer | readonly (string | Buffer)[], maxBytes: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const request = get(uri, { ca: Array.isArray(ca) ? [...(ca as (string | Buffer)[])] : (ca as string | Buffer), timeout: 60_000 }, (response) => {
            if (response.statusCode !== 200) {
                response.resume();
                reject(new FetchError(`${uri} answered ${response.statusCode ?? 'nothing'}`, 'unavailable'));
                return;
            }
            const chunks: Buffer[] = [];
            let size = 0;
            response.on('data', (chunk: Buffer) => {
                size += chunk.length;
                chunks.push(chunk);
                if (size > maxBytes) {
                    request.destroy();
                    resolve(Buffer.concat(chunks));
                }
            });
            response.on('end', () => {
                resolve(Buffer.concat(chunks));
            });
            response.on('error', reject);
        });
        request.on('timeout', () => request.destroy(new Error('timed out after 60 s')));
        request.on('error', reject);
    });
}
