// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet opens 16 MiB HTTP/2 receive windows to its clients, as a Fabric peer's grpc-go grows its windows to
 * (Node's server would keep 64 KiB), so that many calls on one connection do not wait for window updates.
 */
import http2 from 'node:http2';
import { afterEach, describe, expect, it } from '@jest/globals';
import { startDevnet, type RunningDevnet } from '../src';
import { RECEIVE_WINDOW_BYTES } from '../src/http2Transport';
import { tempDir } from './support/client';

/** Node's HTTP/2 default window (RFC 9113's initial 65,535 bytes). */
const DEFAULT_WINDOW = 65_535;

describe('the devnet\'s HTTP/2 connections', () => {
    let net: RunningDevnet | undefined;
    let session: http2.ClientHttp2Session | undefined;

    afterEach(async () => {
        session?.destroy();
        session = undefined;
        await net?.stop();
        net = undefined;
    });

    it('open a 16 MiB window per call and per connection', async () => {
        net = await startDevnet({ dir: tempDir(), tls: false });
        const client = http2.connect(`http://localhost:${net.server.port}`);
        session = client;
        // The devnet sends its settings and the connection's WINDOW_UPDATE as the connection starts: before a PING's answer.
        await new Promise<void>((resolve, reject) => {
            client.once('error', reject);
            client.once('connect', () => { client.ping((error) => { if (error === null) { resolve(); } else { reject(error); } }); });
        });
        expect(client.remoteSettings.initialWindowSize).toBe(RECEIVE_WINDOW_BYTES);
        expect(client.state.remoteWindowSize).toBe(RECEIVE_WINDOW_BYTES);
        expect(RECEIVE_WINDOW_BYTES).toBeGreaterThan(DEFAULT_WINDOW);
    }, 60_000);
});
