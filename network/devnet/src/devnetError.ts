// SPDX-License-Identifier: Apache-2.0
/** The devnet's refusals: a gRPC status code as Fabric's gateway uses it, plus what each endorsing peer answered. */
import { status } from '@grpc/grpc-js';

/** What one endorsing peer answered (gateway.ErrorDetail). */
export interface EndorserErrorDetail {
    readonly mspId: string;
    /** The endpoint of the org's peer that answered (`peer0.org2.example.com:9051`). */
    readonly address?: string;
    readonly message: string;
}

/** Why a request was refused, with the gRPC status code Fabric's gateway uses. */
export class DevnetError extends Error {
    /**
     * @param code gRPC status code (grpc-js `status`)
     * @param details per-endorser error details (gateway.ErrorDetail)
     */
    public constructor(
        public readonly code: status,
        message: string,
        public readonly details: readonly EndorserErrorDetail[] = [],
    ) {
        super(message);
        this.name = 'DevnetError';
    }
}

/** gRPC status codes used by the gateway service. */
export const Code = {
    UNKNOWN: status.UNKNOWN,
    INVALID_ARGUMENT: status.INVALID_ARGUMENT,
    NOT_FOUND: status.NOT_FOUND,
    PERMISSION_DENIED: status.PERMISSION_DENIED,
    FAILED_PRECONDITION: status.FAILED_PRECONDITION,
    ABORTED: status.ABORTED,
    UNAVAILABLE: status.UNAVAILABLE,
} as const;
