// SPDX-License-Identifier: Apache-2.0
/**
 * An in-process stand-in for the bidirectional gRPC `ChaincodeSupport.Register` stream between a peer and a
 * chaincode. Every message is serialized to protobuf bytes and parsed again on the other side — the peer with the
 * devnet's bindings, the chaincode with its own fabric-shim's — and delivered asynchronously in order, as over the
 * network.
 */
import { EventEmitter } from 'node:events';
import { encodeChaincodeMessage } from './chaincodeMessageCodec';
import { protos, type ChaincodeMessage } from './runtime';
import type { ShimChatStream, ShimMessage } from './shimRuntime';

/** The chaincode's end of the stream, handed to fabric-shim's ChaincodeMessageHandler. */
class ChaincodeEnd extends EventEmitter implements ShimChatStream {
    public constructor(private readonly channel: InProcessChatStream) {
        super();
    }

    public write(message: ShimMessage): boolean {
        this.channel.fromChaincode(protos.peer.ChaincodeMessage.deserializeBinary(message.serializeBinary()));
        return true;
    }

    public end(): void {
        this.channel.chaincodeEnded();
    }
}

/** The peer's view of the stream. */
export interface PeerStream {
    /** Sends a message to the chaincode. */
    send(message: ChaincodeMessage): void;
    /** Registers the receiver of the chaincode's messages (one receiver). */
    onMessage(listener: (message: ChaincodeMessage) => void): void;
    /** Registers a callback for the chaincode closing the stream. */
    onClose(listener: () => void): void;
    /** Closes the stream from the peer side. */
    close(): void;
}

/** A connected pair of stream ends. */
export class InProcessChatStream implements PeerStream {
    /** The end to hand to the chaincode (fabric-shim). */
    public readonly chaincodeSide: ShimChatStream;
    private readonly chaincodeEnd: ChaincodeEnd;
    private listener: ((message: ChaincodeMessage) => void) | undefined;
    private closeListener: (() => void) | undefined;
    private closed = false;

    /** @param parseOnChaincodeSide parses a message with the chaincode's own protobuf bindings */
    public constructor(private readonly parseOnChaincodeSide: (bytes: Uint8Array) => ShimMessage) {
        this.chaincodeEnd = new ChaincodeEnd(this);
        this.chaincodeSide = this.chaincodeEnd;
    }

    public send(message: ChaincodeMessage): void {
        if (this.closed) {
            return;
        }
        const copy = this.parseOnChaincodeSide(encodeChaincodeMessage(message));
        setImmediate(() => {
            if (!this.closed) {
                this.chaincodeEnd.emit('data', copy);
            }
        });
    }

    public onMessage(listener: (message: ChaincodeMessage) => void): void {
        this.listener = listener;
    }

    public onClose(listener: () => void): void {
        this.closeListener = listener;
    }

    public close(): void {
        if (this.closed) {
            return;
        }
        this.chaincodeEnd.emit('end');
        this.markClosed();
    }

    /** @internal Called by the chaincode end. */
    public fromChaincode(message: ChaincodeMessage): void {
        if (this.closed) {
            throw new Error('chaincode stream terminated');
        }
        setImmediate(() => {
            if (!this.closed) {
                this.listener?.(message);
            }
        });
    }

    /** @internal Called by the chaincode end. */
    public chaincodeEnded(): void {
        this.markClosed();
    }

    private markClosed(): void {
        if (!this.closed) {
            this.closed = true;
            this.closeListener?.();
        }
    }
}
