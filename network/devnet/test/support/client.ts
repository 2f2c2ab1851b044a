// SPDX-License-Identifier: Apache-2.0
/**
 * Connects an unmodified fabric-gateway client to a devnet exactly as fabric-samples' applications do: gRPC with
 * TLS (the TLS CA file and a host alias), an X.509 identity and a private-key signer read from files.
 */
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connect, signers, type ConnectOptions, type Gateway } from '@hyperledger/fabric-gateway';
import type { ConnectionSettings } from '../../src';

/** A connected gateway and the gRPC client under it. */
export interface Connected {
    readonly gateway: Gateway;
    readonly client: grpc.Client;
    close(): void;
}

/** Connects with `settings` (what `devnet up` prints). */
export function connectGateway(settings: ConnectionSettings): Connected {
    const credentials = settings.tlsCertPath === ''
        ? grpc.credentials.createInsecure()
        : grpc.credentials.createSsl(readFileSync(settings.tlsCertPath));
    const client = new grpc.Client(settings.peerEndpoint, credentials, { 'grpc.ssl_target_name_override': settings.peerHostAlias });
    const gateway = connect({
        // In the whole-program view (tsc) fabric-gateway's typings name another copy of @grpc/grpc-js; the runtime
        // object is what it expects.
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
        client: client as unknown as ConnectOptions['client'],
        identity: { mspId: settings.mspId, credentials: readFileSync(settings.certPath) },
        signer: signers.newPrivateKeySigner(createPrivateKey(readFileSync(settings.keyPath))),
        evaluateOptions: () => ({ deadline: Date.now() + 10_000 }),
        endorseOptions: () => ({ deadline: Date.now() + 20_000 }),
        submitOptions: () => ({ deadline: Date.now() + 10_000 }),
        commitStatusOptions: () => ({ deadline: Date.now() + 30_000 }),
    });
    return {
        gateway,
        client,
        close: () => {
            gateway.close();
            client.close();
        },
    };
}

/** A fresh temporary directory for a devnet. */
export function tempDir(prefix = 'devnet-'): string {
    return mkdtempSync(path.join(os.tmpdir(), prefix));
}
