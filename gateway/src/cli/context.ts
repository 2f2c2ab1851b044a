// SPDX-License-Identifier: Apache-2.0
import { LedgerworkClient, connectGateway, resolveSettings } from '../client';
import type { ConnectionSettings, GatewayConnection } from '../client';
import type { Flags } from './args';
import type { CliIo, Output } from './output';

/** Flags every command that talks to the network accepts (fabric-samples' variables in kebab case). */
export const CONNECTION_FLAGS = [
    'config',
    'peer-endpoint',
    'peer-host-alias',
    'tls-cert-path',
    'msp-id',
    'cert-path',
    'key-path',
    'cert-directory-path',
    'key-directory-path',
    'channel-name',
    'chaincode-name',
] as const;

/** What a command gets: its flags (positionals without the command word), output, and a lazy connection. */
export interface CommandContext {
    readonly flags: Flags;
    readonly out: Output;
    readonly io: CliIo;
    /** Connects on first use (flags > environment > `--config`/LEDGERWORK_CONFIG file); main closes it. */
    client(): LedgerworkClient;
    /** The settings the connection uses (resolving them if not yet done). */
    settings(): ConnectionSettings;
}

/** A command module: `commands/<verb>.ts` exports `run`. */
export interface CommandModule {
    run(ctx: CommandContext): Promise<void>;
}

/** Builds the context; `close()` ends the connection if one was opened. */
export function createContext(flags: Flags, out: Output, io: CliIo): CommandContext & { close(): void } {
    let settings: ConnectionSettings | undefined;
    let connection: GatewayConnection | undefined;
    let client: LedgerworkClient | undefined;
    const resolve = (): ConnectionSettings => {
        if (settings === undefined) {
            const explicit: Record<string, string | undefined> = {};
            for (const name of CONNECTION_FLAGS) {
                if (name !== 'config') {
                    explicit[name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = flags.string(name);
                }
            }
            const configFile = flags.string('config') ?? io.env.LEDGERWORK_CONFIG;
            settings = resolveSettings({ env: io.env, explicit, ...(configFile === undefined || configFile === '' ? {} : { configFile }) });
        }
        return settings;
    };
    return {
        flags,
        out,
        io,
        settings: resolve,
        client: () => {
            if (client === undefined) {
                const resolved = resolve();
                connection = connectGateway(resolved);
                client = new LedgerworkClient(connection.network, resolved.chaincodeName);
            }
            return client;
        },
        close: () => {
            connection?.close();
        },
    };
}

/** Every item of a paged list query, following bookmarks (at most `limit` items). */
export async function allPages<T>(fetchPage: (bookmark: string) => Promise<{ items: T[]; bookmark: string }>, limit = Infinity): Promise<T[]> {
    const items: T[] = [];
    let bookmark = '';
    do {
        const page = await fetchPage(bookmark);
        items.push(...page.items);
        bookmark = page.bookmark;
    } while (bookmark !== '' && items.length < limit);
    return items.slice(0, limit);
}
