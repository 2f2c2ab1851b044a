// SPDX-License-Identifier: Apache-2.0
/**
 * `ledgerwork devnet …`: the devnet's own CLI (`ledgerwork-devnet`, network/devnet/src/cli.ts),
 * loaded from the @ledgerwork/devnet package only when this command runs.
 */
import type * as DevnetCli from '@ledgerwork/devnet/dist/cli';
import { ConfigError } from '../../client/errors';
import { UsageError } from '../args';
import type { CommandContext } from '../context';

/** Runs `ledgerwork-devnet` with `argv`; resolves to its exit code (2 for its usage text). */
export async function delegate(argv: readonly string[]): Promise<number> {
    let devnet: typeof DevnetCli;
    try {
        devnet = await import('@ledgerwork/devnet/dist/cli');
    } catch (err) {
        throw new ConfigError(`the devnet is not built or not installed (npm run build -w @ledgerwork/devnet): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const before = process.exitCode;
    await devnet.main(argv);
    const code = process.exitCode;
    if (code !== before) {
        process.exitCode = before;
        return typeof code === 'number' ? code : Number(code ?? 0);
    }
    return 0;
}

/** Through main's table: `devnet` is dispatched by `delegate` before flags are parsed. */
export function run(_ctx: CommandContext): Promise<void> {
    return Promise.reject(new UsageError('ledgerwork devnet up|down|env|user add …'));
}
