// SPDX-License-Identifier: Apache-2.0
import { ErrorCode, LedgerworkError } from '../core/errors';

/** Default allowed distance between a transaction's timestamp and the endorsing peer's clock. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * A transaction's timestamp is chosen by its client and Fabric 2.5 endorsers do not check it, so a
 * client could back-date a claim or forward-date a lease expiry. Each endorser therefore compares it
 * with its own clock. This is the only use of the peer clock: it can only make an endorsement fail
 * (fail closed), never change what is written. The bound is per peer, from
 * LEDGERWORK_MAX_CLOCK_SKEW_MS (milliseconds; 0 disables the check).
 * @throws {LedgerworkError} CLOCK_SKEW
 */
export function checkClockSkew(txTimeMs: number): void {
    const maxSkew = configuredSkew();
    if (maxSkew === 0) {
        return;
    }
    // eslint-disable-next-line no-restricted-properties -- the peer clock, used only to refuse endorsement
    const peerNow = Date.now();
    const skew = Math.abs(txTimeMs - peerNow);
    if (skew > maxSkew) {
        throw new LedgerworkError(ErrorCode.ClockSkew, `the transaction timestamp is ${skew} ms from this peer's clock; at most ${maxSkew} ms is allowed`);
    }
}

let injectedSkew: number | undefined;

/**
 * Sets the bound for this process in place of LEDGERWORK_MAX_CLOCK_SKEW_MS (`undefined` goes back to the
 * environment): for peer simulators whose transaction clock is virtual, without touching process.env.
 */
export function setMaxClockSkew(maxSkewMs: number | undefined): void {
    if (maxSkewMs !== undefined && !(Number.isSafeInteger(maxSkewMs) && maxSkewMs >= 0)) {
        throw new RangeError(`the clock skew bound must be a non-negative integer of milliseconds, not ${maxSkewMs}`);
    }
    injectedSkew = maxSkewMs;
}

function configuredSkew(): number {
    if (injectedSkew !== undefined) {
        return injectedSkew;
    }
    // eslint-disable-next-line no-restricted-properties -- a per-peer setting that can only refuse endorsement
    const text = process.env.LEDGERWORK_MAX_CLOCK_SKEW_MS;
    if (text === undefined || text === '') {
        return DEFAULT_MAX_CLOCK_SKEW_MS;
    }
    const value = Number(text);
    return Number.isSafeInteger(value) && value >= 0 ? value : DEFAULT_MAX_CLOCK_SKEW_MS;
}
