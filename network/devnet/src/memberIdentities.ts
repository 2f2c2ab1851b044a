// SPDX-License-Identifier: Apache-2.0
/**
 * What the channel's MSPs make of a serialized identity (msp.SerializedIdentity: MSP id + PEM certificate), worked
 * out once per distinct identity and remembered, as Fabric's MSP cache (msp/cache) remembers deserialized and
 * validated identities: parsing an X.509 certificate and checking its issuer's signature costs far more than the
 * signature check a request needs, and every request of a client carries the same identity bytes.
 *
 * Nothing is relaxed: the same checks run, once per identity instead of once per signature. Certificates are
 * immutable and the channel's MSPs do not change while a devnet runs, so a remembered answer stays right.
 */
import { verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import { isLowS } from './der';
import { protos } from './runtime';
import { verifyOffThread } from './signatureThread';

/** The certificate authorities of the channel's member organizations, by MSP id. */
export type ChannelMsps = ReadonlyMap<string, X509Certificate>;

/** A serialized identity whose certificate parsed. */
export interface ResolvedIdentity {
    readonly mspId: string;
    readonly certificate: X509Certificate;
    readonly publicKey: KeyObject;
    /** The MSP id is one of the channel's. */
    readonly knownMsp: boolean;
    /** Issued, and signed, by its MSP's CA. */
    readonly issuedByMsp: boolean;
    /**
     * A valid member for endorsement proposals (msgvalidation.go): issued by its MSP's CA, not itself a CA, and
     * exactly one NodeOU (the MSPs have NodeOUs enabled).
     */
    readonly validMember: boolean;
}

const NODE_OUS = new Set(['client', 'admin', 'peer', 'orderer']);

/** Identities a busy devnet remembers; beyond that the oldest are forgotten (and worked out again if seen). */
const DEFAULT_CAPACITY = 10_000;

/** The channel's MSPs with a memory of the identities they have seen. */
export class MemberIdentities {
    private readonly known = new Map<string, ResolvedIdentity | undefined>();

    public constructor(
        public readonly msps: ChannelMsps,
        private readonly capacity = DEFAULT_CAPACITY,
    ) {}

    /** The identity serialized in `bytes`, undefined if it is malformed (not a SerializedIdentity with an X.509 certificate). */
    public resolve(bytes: Uint8Array): ResolvedIdentity | undefined {
        const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
        if (this.known.has(key)) {
            return this.known.get(key);
        }
        const resolved = this.work(bytes);
        if (this.known.size >= this.capacity) {
            const oldest = this.known.keys().next();
            if (oldest.done !== true) {
                this.known.delete(oldest.value);
            }
        }
        this.known.set(key, resolved);
        return resolved;
    }

    /** Whether `signature` is a low-S ECDSA signature of `identity` over `data` (SHA-256). */
    public static verifies(identity: ResolvedIdentity, data: Uint8Array, signature: Uint8Array): boolean {
        try {
            return isLowS(signature) && verifySignature('sha256', data, identity.publicKey, signature);
        } catch {
            return false;
        }
    }

    /**
     * {@link verifies}, with the ECDSA verification on the devnet's signature thread (signatureThread.ts): the main
     * thread, which serves every request and runs every commit, only hands the work over.
     */
    public static verifiesOffThread(identity: ResolvedIdentity, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
        try {
            if (!isLowS(signature)) {
                return Promise.resolve(false);
            }
        } catch {
            return Promise.resolve(false);
        }
        return verifyOffThread(identity.publicKey, data, signature);
    }

    private work(bytes: Uint8Array): ResolvedIdentity | undefined {
        let mspId: string;
        let certificate: X509Certificate;
        try {
            const identity = protos.msp.SerializedIdentity.deserializeBinary(bytes);
            mspId = identity.getMspid();
            certificate = new X509Certificate(Buffer.from(identity.getIdBytes_asU8()));
        } catch {
            return undefined;
        }
        const ca = this.msps.get(mspId);
        const issuedByMsp = ca !== undefined && certificate.checkIssued(ca) && certificate.verify(ca.publicKey);
        const ous = certificate.subject.split('\n').filter((line) => line.startsWith('OU=')).map((line) => line.slice(3));
        return {
            mspId,
            certificate,
            publicKey: certificate.publicKey,
            knownMsp: ca !== undefined,
            issuedByMsp,
            validMember: issuedByMsp && !certificate.ca && ous.filter((ou) => NODE_OUS.has(ou)).length === 1,
        };
    }
}
