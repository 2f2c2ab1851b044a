// SPDX-License-Identifier: Apache-2.0
import * as http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

/**
 * Why a connection of an older gRPC client is recycled after this many calls. Node's HTTP/2 server (nghttp2's guard
 * against "rapid reset", CVE-2023-44487) closes a connection with INTERNAL_ERROR once a client has reset about 1,000
 * streams on it beyond a refill of 33 per second, and Node 20 offers no setting to change that. @grpc/grpc-js before
 * 1.10.4 (what Caliper's `fabric:fabric-gateway` binding and fabric-network 2.2 install) resets every stream it
 * finishes, so under load its calls failed every few seconds with `13 INTERNAL: Received RST_STREAM with code 2`. A
 * connection that carries 500 calls, plus those already on their way when it is told to go away, cannot spend that
 * budget unless a client keeps more than ~500 calls in flight on one connection. Calls are counted, not time: a
 * connection recycled by age could be told to go away on a busy machine before its client had sent anything on it, and
 * a call refused on one connection could then be refused again on the next, which gRPC clients report as a failure.
 *
 * Only those clients are recycled. A GOAWAY is not free even when graceful: now and then a gRPC client (1.10.3 and
 * 1.14.7 alike) leaves a call it started around a GOAWAY unsent until its deadline, and a Fabric peer never sends one.
 */
export const DEFAULT_MAX_CALLS_PER_CONNECTION = 500;

/** The largest stream id: a GOAWAY naming it refuses nothing the client has sent. */
const ALL_STREAMS = 2 ** 31 - 1;

type AnyHttp2Server = http2.Http2Server | http2.Http2SecureServer;

/** `user-agent` of @grpc/grpc-js: `grpc-node-js/<version>`, possibly between other agents. */
const GRPC_JS_AGENT = /(?:^|\s)grpc-node-js\/(\d+)\.(\d+)\.(\d+)/;

/** Whether the client that sent these request headers resets every stream it finishes (@grpc/grpc-js < 1.10.4). */
export function resetsEveryStream(userAgent: string | undefined): boolean {
    const match = GRPC_JS_AGENT.exec(userAgent ?? '');
    if (match === null) {
        return false;
    }
    const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])];
    return major < 1 || (major === 1 && (minor < 10 || (minor === 10 && patch < 4)));
}

/**
 * Ends each connection of a client that resets every stream (see {@link resetsEveryStream}) gracefully once it has
 * carried `maxCalls` calls; other clients' connections are left alone, as a Fabric peer leaves them. The ending goes
 * the way HTTP/2 provides for (RFC 9113 §6.8): a first GOAWAY that refuses nothing, after which the client opens no
 * new stream on the connection; a PING, whose answer arrives after every stream the client sent before it saw the
 * GOAWAY; then the final GOAWAY, naming the last of those streams. Calls in flight finish on the old connection; new calls go to a new one,
 * which clients open by themselves. The only call a client can see refused is one it had queued but not yet sent when
 * the GOAWAY came (its HTTP/2 stack refuses it locally); gRPC clients send such a call again on the new connection,
 * which carries no call yet and so is not told to go away before the call is sent.
 *
 * Call it once the server is bound.
 */
export function recycleConnections(server: grpc.Server, maxCalls: number): void {
    // Calls carried so far by the connection of a client that resets its streams; absent for other clients.
    const carried = new WeakMap<http2.Http2Session, number>();
    const judged = new WeakSet<http2.Http2Session>();
    for (const http2Server of http2ServersOf(server)) {
        http2Server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
            const session = stream.session;
            if (session === undefined) {
                return;
            }
            if (!judged.has(session)) {
                judged.add(session);
                const userAgent = headers['user-agent'];
                if (resetsEveryStream(userAgent)) {
                    carried.set(session, 0);
                    noticeOnce(userAgent ?? '', maxCalls);
                }
            }
            const before = carried.get(session);
            if (before === undefined) {
                return;
            }
            const calls = before + 1;
            carried.set(session, calls);
            if (calls === maxCalls) {
                drain(session);
            }
        });
    }
}

const noticed = new Set<string>();

/** Says once per client kind, on standard error, why its connections are recycled and how to avoid it. */
function noticeOnce(userAgent: string, maxCalls: number): void {
    if (noticed.has(userAgent)) {
        return;
    }
    noticed.add(userAgent);
    process.stderr.write(`ledgerwork-devnet: a client (${userAgent}) resets every gRPC stream it finishes, which Node's HTTP/2 server `
        + `answers by closing the connection after ~1,000 resets; its connections are therefore recycled every ${maxCalls} calls. `
        + 'Now and then such a client leaves a call started around a recycling unsent until its deadline. @grpc/grpc-js 1.10.4 '
        + 'and later do not reset streams (for Caliper: a bind file pinning it, see the devnet README).\n');
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
