// SPDX-License-Identifier: Apache-2.0
import { X509Certificate, createHash } from 'node:crypto';
import { ErrorCode, LedgerworkError } from './errors';

/** What ledgerwork needs from a caller's X.509 certificate. */
export interface CertificateFacts {
    /** OpenSSL's one-attribute-per-line rendering of the subject (control characters escaped). */
    readonly subject: string;
    readonly issuer: string;
    readonly organizationalUnits: readonly string[];
}

const factsCache = new Map<string, CertificateFacts>();
const FACTS_CACHE_LIMIT = 1024;

/**
 * Parses a PEM certificate with node:crypto. fabric-shim's ClientIdentity.getID() escapes only the
 * first '/' of each DN value, so two different subjects can render to the same id; OpenSSL's
 * multi-line rendering escapes control characters, so lines are unambiguous. Results are cached by
 * certificate text: the function is pure, so the cache cannot change what any peer computes.
 * @throws {LedgerworkError} INVALID_ARGUMENT when the bytes are not a certificate
 */
export function certificateFacts(pem: string): CertificateFacts {
    const cached = factsCache.get(pem);
    if (cached) {
        return cached;
    }
    let certificate: X509Certificate;
    try {
        certificate = new X509Certificate(pem);
    } catch {
        throw new LedgerworkError(ErrorCode.InvalidArgument, 'the caller certificate cannot be parsed');
    }
    const organizationalUnits = certificate.subject
        .split('\n')
        .filter((line) => line.startsWith('OU='))
        .map((line) => line.slice(3));
    const facts: CertificateFacts = { subject: certificate.subject, issuer: certificate.issuer, organizationalUnits };
    if (factsCache.size >= FACTS_CACHE_LIMIT) {
        const oldest = factsCache.keys().next();
        if (!oldest.done) {
            factsCache.delete(oldest.value);
        }
    }
    factsCache.set(pem, facts);
    return facts;
}

/**
 * The account of an identity: SHA-256 (hex) of its MSP id, subject and issuer. Stable across
 * certificate renewal (same subject and issuer), distinct across MSPs.
 */
export function accountOf(mspId: string, facts: CertificateFacts): string {
    return createHash('sha256').update(`${mspId}\n${facts.subject}\n${facts.issuer}`, 'utf8').digest('hex');
}
