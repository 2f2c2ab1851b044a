// SPDX-License-Identifier: Apache-2.0
import * as http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';
import { http2ServersOf } from './http2Transport';

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
 * Only those clients are recycled: a Fabric peer sends no client a GOAWAY.
 */
export const DEFAULT_MAX_CALLS_PER_CONNECTION = 500;

/** The largest stream id: a GOAWAY naming it refuses nothing the client has sent. */
const ALL_STREAMS = 2 ** 31 - 1;

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
 * GOAWAY; then the final GOAWAY, naming the last of those streams. Calls in flight finish on the old connection; new
 * calls go to a new one, which clients open by themselves. A call the client sent after the last stream the final
 * GOAWAY names is refused by the client's own HTTP/2 stack, and gRPC clients send it again on the new connection,
 * which carries no call yet and so is not told to go away before the call is sent.
 *
 * The final GOAWAY also goes out as soon as the connection has no call in flight, without waiting for the PING's
 * answer: once a Node server has sent a GOAWAY, nghttp2 no longer wants to read a connection without open streams
 * (`nghttp2_session_want_read`), and Node then stops reading its socket for good. The client's answer to the PING and
 * the calls it had sent before it read the first GOAWAY stayed unread in the devnet's socket buffer, no final GOAWAY came, and
 * the client waited for those calls until their deadline (docs/benchmarks.md, "The tails and the lost transactions").
 *
 * Call it once the server is bound.
 */
export function recycleConnections(server: grpc.Server, maxCalls: number): void {
    // Every connection seen: the state of those of clients that reset their streams, undefined for the others.
    const recycled = new WeakMap<http2.Http2Session, Recycled | undefined>();
    for (const http2Server of http2ServersOf(server)) {
        http2Server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
            const session = stream.session;
            if (session === undefined) {
                return;
            }
            if (!recycled.has(session)) {
                const userAgent = headers['user-agent'];
                const resets = resetsEveryStream(userAgent);
                recycled.set(session, resets ? { carried: 0, inFlight: 0, draining: false } : undefined);
                if (resets) {
                    noticeOnce(userAgent ?? '', maxCalls);
                }
            }
            const connection = recycled.get(session);
            if (connection === undefined) {
                return;
            }
            connection.carried++;
            connection.inFlight++;
            stream.once('close', () => {
                connection.inFlight--;
                if (connection.draining && connection.inFlight === 0) {
                    close(session);
                }
            });
            if (connection.carried === maxCalls) {
                connection.draining = true;
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
        + 'The client reconnects by itself; a call it sends while its connection is being recycled is refused and sent again. '
        + '@grpc/grpc-js 1.10.4 and later do not reset streams (for Caliper: a bind file pinning it, see the devnet README).\n');
}

interface Recycled {
    /** Calls the connection has carried. */
    carried: number;
    /** Calls whose stream is still open. */
    inFlight: number;
    /** Whether the first GOAWAY has been sent. */
    draining: boolean;
}

/** Sends the first GOAWAY and a PING whose answer closes the connection (or its last call's end, see above). */
function drain(session: http2.Http2Session): void {
    if (session.closed || session.destroyed) {
        return;
    }
    try {
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, ALL_STREAMS);
    } catch {
        return; // the client closed it meanwhile
    }
    if (!session.ping(() => { close(session); })) {
        close(session);
    }
}

/** The final GOAWAY, naming the last stream the devnet has read; the connection ends once its calls have. */
function close(session: http2.Http2Session): void {
    if (!session.closed && !session.destroyed) {
        session.close();
    }
}
