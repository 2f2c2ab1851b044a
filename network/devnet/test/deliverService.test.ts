// SPDX-License-Identifier: Apache-2.0
/**
 * The Deliver services' wait for a block not committed yet, against a devnet whose commit lands while the stream is
 * looking for the block: the block must still be sent (a block listener at the end of a burst would otherwise wait
 * for a next block that never comes — seen as 15–30 s commit waits in Caliper's fabric:2.2 rounds).
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { common, orderer, type peer } from '@hyperledger/fabric-protos';
import type { Devnet } from '../src/devnet';
import { serveDeliver, serveOrdererDeliver } from '../src/deliverService';

type Response = InstanceType<typeof peer.DeliverResponse> | InstanceType<typeof orderer.DeliverResponse>;

/** The parts of a Devnet the Deliver services use; block `racing` is committed while it is being looked up. */
class RacingLedger {
    public readonly channel = 'mychannel';
    public height = 1;
    private readonly blocks = new Map<number, Uint8Array>([[0, blockBytes(0)]]);
    private readonly listeners = new Set<(blockNumber: number) => void>();

    public constructor(private readonly racing: number) {}

    public checkSignedRequest(): Promise<void> {
        return Promise.resolve();
    }

    /** No member identity: the private-data content is not asked for here. */
    public identityOf(): undefined {
        return undefined;
    }

    public async blockBytes(blockNumber: number): Promise<Uint8Array | undefined> {
        const before = this.blocks.get(blockNumber);
        await Promise.resolve();
        if (blockNumber === this.racing && this.height === blockNumber) {
            this.commit();
        }
        return before;
    }

    public onBlock(listener: (blockNumber: number) => void): () => void {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
    }

    private commit(): void {
        const number = this.height;
        this.blocks.set(number, blockBytes(number));
        this.height += 1;
        for (const listener of [...this.listeners]) {
            listener(number);
        }
    }
}

function blockBytes(number: number): Uint8Array {
    const header = new common.BlockHeader();
    header.setNumber(number);
    const block = new common.Block();
    block.setHeader(header);
    block.setData(new common.BlockData());
    const metadata = new common.BlockMetadata();
    metadata.setMetadataList([new Uint8Array(), new Uint8Array(), Uint8Array.from([0]), new Uint8Array(), new Uint8Array()]);
    block.setMetadata(metadata);
    return block.serializeBinary();
}

function seekEnvelope(number: number): InstanceType<typeof common.Envelope> {
    const position = (): InstanceType<typeof orderer.SeekPosition> => {
        const specified = new orderer.SeekSpecified();
        specified.setNumber(number);
        const out = new orderer.SeekPosition();
        out.setSpecified(specified);
        return out;
    };
    const info = new orderer.SeekInfo();
    info.setStart(position());
    info.setStop(position());
    const channelHeader = new common.ChannelHeader();
    channelHeader.setType(common.HeaderType.DELIVER_SEEK_INFO);
    channelHeader.setChannelId('mychannel');
    const header = new common.Header();
    header.setChannelHeader(channelHeader.serializeBinary());
    header.setSignatureHeader(new common.SignatureHeader().serializeBinary());
    const payload = new common.Payload();
    payload.setHeader(header);
    payload.setData(info.serializeBinary());
    const envelope = new common.Envelope();
    envelope.setPayload(payload.serializeBinary());
    return envelope;
}

/** A server stream that records what is written and says when the request's status came. */
class RecordingCall extends EventEmitter {
    public readonly written: Response[] = [];
    public readonly statusWritten = new Promise<void>((resolve) => { this.once('status', resolve); });

    public write(response: Response): boolean {
        this.written.push(response);
        if (response.getBlock() === undefined) {
            this.emit('status');
        }
        return true;
    }

    public end(): void {
        this.emit('finish');
    }
}

describe('a Deliver request for the next block, committed while the stream looks for it', () => {
    it.each(['peer', 'orderer'] as const)('gets the block and SUCCESS from the %s Deliver', async (service) => {
        const ledger = new RacingLedger(1);
        const call = new RecordingCall();
        const devnet = ledger as unknown as Devnet;
        if (service === 'peer') {
            serveDeliver(devnet, 'block', call as unknown as Parameters<typeof serveDeliver>[2]);
        } else {
            serveOrdererDeliver(devnet, call as unknown as Parameters<typeof serveOrdererDeliver>[1]);
        }
        call.emit('data', seekEnvelope(1));
        // Without the block, the stream would wait for a next commit that never comes: give up after 10 s.
        let giveUp: NodeJS.Timeout | undefined;
        await Promise.race([call.statusWritten, new Promise((resolve) => { giveUp = setTimeout(resolve, 10_000); })]);
        // Left running, the timer would hold the test process open for up to 10 s after the last test.
        clearTimeout(giveUp);
        expect(call.written.map((r) => r.getBlock()?.getHeader()?.getNumber() ?? `status ${r.getStatus()}`)).toEqual([1, `status ${common.Status.SUCCESS}`]);
        call.emit('close');
    }, 30_000);
});
