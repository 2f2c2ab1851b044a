// SPDX-License-Identifier: Apache-2.0
import * as http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

/**
 * Why a client connection is recycled after this many calls. Node's HTTP/2 server (nghttp2's guard against "rapid
 * reset", CVE-2023-44487) closes a connection with INTERNAL_ERROR once a client has reset about 1,000 streams on it
 * beyond a refill of 33 per second, and Node 20 offers no setting to change that. @grpc/grpc-js up to 1.10.3 (what
 * Caliper's `fabric:fabric-gateway` binding installs) resets every stream it finishes, so under load its calls failed
 * every few seconds with `13 INTERNAL: Received RST_STREAM with code 2`. A connection that carries 500 calls, plus
 * those already on their way when it is told to go away, cannot spend that budget unless a client keeps more than
 * ~500 calls in flight on one connection. Calls are counted, not time: a connection recycled by age could be told to go
 * away on a busy machine before its client had sent anything on it, and a call refused on one connection could then be
 * refused again on the next, which gRPC clients report as a failure.
 */
export const DEFAULT_MAX_CALLS_PER_CONNECTION = 500;

/** The largest stream id: a GOAWAY naming it refuses nothing the client has sent. */
const ALL_STREAMS = 2 ** 31 - 1;

type AnyHttp2Server = http2.Http2Server | http2.Http2SecureServer;

/**
 * Ends each client connection of `server` gracefully once it has carried `maxCalls` calls, the way HTTP/2 provides
 * for (RFC 9113 §6.8): a first GOAWAY that refuses nothing, after which the client opens no new stream on the
 * connection; a PING, whose answer arrives after every stream the client sent before it saw the GOAWAY; then the final
 * GOAWAY, naming the last of those streams. Calls in flight finish on the old connection; new calls go to a new one,
 * which clients open by themselves. The only call a client can see refused is one it had queued but not yet sent when
 * the GOAWAY came (its HTTP/2 stack refuses it locally); gRPC clients send such a call again on the new connection,
 * which carries no call yet and so is not told to go away before the call is sent.
 *
 * Call it once the server is bound.
 */
export function recycleConnections(server: grpc.Server, maxCalls: number): void {
    const carried = new WeakMap<http2.Http2Session, number>();
    for (const http2Server of http2ServersOf(server)) {
        http2Server.on('stream', (stream: http2.ServerHttp2Stream) => {
            const session = stream.session;
            if (session === undefined) {
                return;
            }
            const calls = (carried.get(session) ?? 0) + 1;
            carried.set(session, calls);
            if (calls === maxCalls) {
                drain(session);
            }
        });
    }
}

function drain(session: http2.Http2Session): void {
    if (session.closed || session.destroyed) {
        return;
    }
    try {
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, ALL_STREAMS);
    } catch {
        return; // the client closed it meanwhile
    }
    const close = (): void => {
        if (!session.closed && !session.destroyed) {
            session.close();
        }
    };
    if (!session.ping(close)) {
        close();
    }
}

/**
 * @grpc/grpc-js keeps its HTTP/2 servers in a private field and offers no hook on their connections. The devnet pins
 * its version; should an upgrade move the field, starting fails here instead of the recycling silently stopping.
 */
function http2ServersOf(server: grpc.Server): AnyHttp2Server[] {
    const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
    if (!(servers instanceof Map) || servers.size === 0) {
        throw new Error('connection recycling: this @grpc/grpc-js keeps its bound HTTP/2 servers elsewhere than the devnet expects (maxCallsPerConnection: 0 starts without recycling)');
    }
    return [...(servers as Map<AnyHttp2Server, unknown>).keys()];
}
