// SPDX-License-Identifier: Apache-2.0
import { CommitError, EndorseError, GatewayError } from '@hyperledger/fabric-gateway';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { parseWireMessage } from '@ledgerwork/core';
import type { ErrorCode } from '@ledgerwork/core';
import { GatewayCode } from './codes';

/**
 * Errors of the ledgerwork gateway. Chaincode failures cross the boundary as `CODE: message` text
 * inside fabric-gateway's errors; `retype` reads that text once, here, and nowhere else.
 */
export class LedgerworkGatewayError extends Error {
    override readonly name: string = 'LedgerworkGatewayError';

    constructor(
        message: string,
        /** Where it failed: the chaincode said no, the transport failed, the commit was invalidated, or the setup is wrong. */
        readonly stage: 'chaincode' | 'transport' | 'commit' | 'config',
        options: { cause?: unknown; transactionId?: string } = {},
    ) {
        super(message, options.cause === undefined ? undefined : { cause: options.cause });
        if (options.transactionId !== undefined) {
            this.transactionId = options.transactionId;
        }
    }

    transactionId?: string;
}

/**
 * The chaincode refused the call (thrown `CODE: message`), or committed a rejection of a signed
 * result (reply outcome "rejected"). `code` is from docs/errors.md.
 */
export class ChaincodeError extends LedgerworkGatewayError {
    override readonly name = 'ChaincodeError';

    constructor(
        readonly code: ErrorCode | typeof GatewayCode.RUNTIME,
        readonly detail: string,
        options: { cause?: unknown; transactionId?: string; committed?: boolean } = {},
    ) {
        super(`${code}: ${detail}`, 'chaincode', options);
        this.committed = options.committed ?? false;
    }

    /** True for a rejection the chaincode recorded (the transaction committed; the attempt counts). */
    readonly committed: boolean;
}

/** The transaction was ordered but invalidated at commit (e.g. MVCC_READ_CONFLICT). */
export class CommitFailedError extends LedgerworkGatewayError {
    override readonly name = 'CommitFailedError';

    constructor(
        readonly validationCode: string,
        transactionId: string,
        options: { cause?: unknown } = {},
    ) {
        super(`transaction ${transactionId} was invalidated: ${validationCode}`, 'commit', { ...options, transactionId });
    }

    /** A conflict with a concurrent transaction: re-running the step with a new proposal may succeed. */
    get conflict(): boolean {
        return this.validationCode === 'MVCC_READ_CONFLICT' || this.validationCode === 'PHANTOM_READ_CONFLICT';
    }
}

/** The network could not be reached or did not answer in time; `ambiguous` when the transaction may have been ordered. */
export class TransportError extends LedgerworkGatewayError {
    override readonly name = 'TransportError';

    constructor(
        message: string,
        readonly grpcCode: number,
        readonly ambiguous: boolean,
        options: { cause?: unknown; transactionId?: string } = {},
    ) {
        super(message, 'transport', options);
    }
}

/** Settings are missing or wrong (files, endpoint, identity). */
export class ConfigError extends LedgerworkGatewayError {
    override readonly name = 'ConfigError';

    constructor(message: string, options: { cause?: unknown } = {}) {
        super(message, 'config', options);
    }
}

/** Turns anything fabric-gateway (or gRPC) throws into a LedgerworkGatewayError. */
export function retype(err: unknown): LedgerworkGatewayError {
    if (err instanceof LedgerworkGatewayError) {
        return err;
    }
    if (err instanceof CommitError) {
        return new CommitFailedError(validationCodeName(err.code), err.transactionId, { cause: err });
    }
    if (err instanceof GatewayError) {
        return retypeGatewayError(err);
    }
    return new LedgerworkGatewayError(err instanceof Error ? err.message : String(err), 'transport', { cause: err });
}

function retypeGatewayError(err: GatewayError): LedgerworkGatewayError {
    // EndorseError, SubmitError and CommitStatusError carry the transaction id (SubmitError is exported as a type only).
    const transactionId = 'transactionId' in err && typeof err.transactionId === 'string' ? err.transactionId : undefined;
    const about = { cause: err, ...(transactionId === undefined ? {} : { transactionId }) };
    const texts = [...err.details.map((d) => d.message), err.message];
    for (const text of texts) {
        const parsed = parseWireMessage(text);
        if (parsed !== undefined) {
            return new ChaincodeError(parsed.code, parsed.detail, about);
        }
    }
    const chaincodeText = texts.find((text) => /chaincode response|transaction returned with failure/.test(text));
    if (chaincodeText !== undefined) {
        // fabric-contract-api's own checks (unknown contract, argument count) carry no catalogue code.
        return new ChaincodeError(GatewayCode.RUNTIME, chaincodeText, about);
    }
    const mistake = configurationMistake(err.code, texts);
    if (mistake !== undefined) {
        return new ConfigError(mistake, about);
    }
    // After submit, a deadline leaves the outcome unknown: check the status of the same transaction id.
    const ambiguous = !(err instanceof EndorseError) && transactionId !== undefined && err.code === (GrpcStatus.DEADLINE_EXCEEDED as number);
    const details = err.details.length > 0 ? ` (${err.details.map((d) => `${d.mspId}: ${d.message}`).join('; ')})` : '';
    return new TransportError(`${err.message}${details}`, err.code, ambiguous, about);
}

/**
 * What Fabric's gateway answers when the settings name something the network does not have (these
 * are not network failures: retrying cannot help), as a sentence naming the setting to check.
 */
function configurationMistake(code: number, texts: readonly string[]): string | undefined {
    const all = texts.join('\n');
    const channel = /failed to get config for channel \[([^\]]*)\]/.exec(all);
    if (code === (GrpcStatus.UNAVAILABLE as number) && channel !== null) {
        return `the peer has no channel ${JSON.stringify(channel[1])}: check CHANNEL_NAME (--channel-name)`;
    }
    const chaincode = /no peers available to \w+ chaincode (\S+) in channel (\S+)/.exec(all);
    if (code === (GrpcStatus.FAILED_PRECONDITION as number) && chaincode !== null) {
        return `no chaincode ${JSON.stringify(chaincode[1])} is defined on channel ${chaincode[2] ?? ''}: check CHAINCODE_NAME (--chaincode-name)`;
    }
    if (/creator org unknown, creator is malformed/.test(all)) {
        return 'the channel does not know your organization: check MSP_ID (--msp-id) and that CERT_PATH holds a certificate of that organization';
    }
    const denied = /access denied: channel \[[^\]]*\] creator org \[([^\]]*)\]/.exec(all);
    if (denied !== null) {
        return `${denied[1] ?? 'the organization'} does not accept your signature: check that KEY_PATH holds the private key of the certificate in CERT_PATH, issued by ${denied[1] ?? 'that organization'}'s CA`;
    }
    if (code === (GrpcStatus.PERMISSION_DENIED as number)) {
        return `the peer refused your identity (${texts.at(-1) ?? ''}): check MSP_ID, CERT_PATH and KEY_PATH`;
    }
    return undefined;
}

const validationCodeNames: Readonly<Record<number, string>> = {
    0: 'VALID',
    1: 'NIL_ENVELOPE',
    2: 'BAD_PAYLOAD',
    3: 'BAD_COMMON_HEADER',
    4: 'BAD_CREATOR_SIGNATURE',
    5: 'INVALID_ENDORSER_TRANSACTION',
    6: 'INVALID_CONFIG_TRANSACTION',
    7: 'UNSUPPORTED_TX_PAYLOAD',
    8: 'BAD_PROPOSAL_TXID',
    9: 'DUPLICATE_TXID',
    10: 'ENDORSEMENT_POLICY_FAILURE',
    11: 'MVCC_READ_CONFLICT',
    12: 'PHANTOM_READ_CONFLICT',
    13: 'UNKNOWN_TX_TYPE',
    14: 'TARGET_CHAIN_NOT_FOUND',
    15: 'MARSHAL_TX_ERROR',
    16: 'NIL_TXACTION',
    17: 'EXPIRED_CHAINCODE',
    18: 'CHAINCODE_VERSION_CONFLICT',
    19: 'BAD_HEADER_EXTENSION',
    20: 'BAD_CHANNEL_HEADER',
    21: 'BAD_RESPONSE_PAYLOAD',
    22: 'BAD_RWSET',
    23: 'ILLEGAL_WRITESET',
    24: 'INVALID_WRITESET',
    25: 'INVALID_CHAINCODE',
    254: 'NOT_VALIDATED',
    255: 'INVALID_OTHER_REASON',
};

/** Fabric's TxValidationCode name for a numeric code. */
export function validationCodeName(code: number): string {
    return validationCodeNames[code] ?? `VALIDATION_CODE_${code}`;
}
