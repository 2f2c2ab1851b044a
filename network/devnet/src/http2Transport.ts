// SPDX-License-Identifier: Apache-2.0
/**
 * The devnet's gRPC connections carried the way a Fabric peer's are. A peer is a Go program: Go turns Nagle's
 * algorithm off on every TCP connection (TCP_NODELAY), and grpc-go grows a connection's HTTP/2 flow-control windows
 * from its bandwidth-delay estimate up to 16 MiB. Node's HTTP/2 server keeps Nagle on and both windows at 64 KiB for
 * good. Under load that held requests back: with 40 clients' calls on one connection, a call's request body arrived
 * 25–40 ms after its headers, waiting for the devnet to hand the client window back (docs/benchmarks.md, "Connections
 * as a peer's").
 */
import type * as http2 from 'node:http2';
import type { Socket } from 'node:net';
import type * as grpc from '@grpc/grpc-js';

/** The flow-control window the devnet opens to each client, per connection and per call (grpc-go's `bdpLimit`). */
export const RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024;

type AnyHttp2Server = http2.Http2Server | http2.Http2SecureServer;

/**
 * @grpc/grpc-js keeps its HTTP/2 servers in a private field and offers no hook on their connections. The devnet pins
 * its version; should an upgrade move the field, starting fails here instead of the connections silently falling back
 * to Node's defaults.
 */
export function http2ServersOf(server: grpc.Server): AnyHttp2Server[] {
    const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
    if (!(servers instanceof Map) || servers.size === 0) {
        throw new Error('this @grpc/grpc-js keeps its bound HTTP/2 servers elsewhere than the devnet expects');
    }
    return [...(servers as Map<AnyHttp2Server, unknown>).keys()];
}

/** Sets every connection `server` accepts from now on as a Fabric peer's: no Nagle delay, 16 MiB receive windows. Call it once bound. */
export function carryConnectionsAsPeers(server: grpc.Server): void {
    for (const http2Server of http2ServersOf(server)) {
        // The TCP connection, before TLS (or HTTP/2) starts on it.
        http2Server.on('connection', (socket: Socket) => {
            socket.setNoDelay(true);
        });
        http2Server.on('session', (session: http2.ServerHttp2Session) => {
            session.settings({ initialWindowSize: RECEIVE_WINDOW_BYTES });
            session.setLocalWindowSize(RECEIVE_WINDOW_BYTES);
        });
    }
}
