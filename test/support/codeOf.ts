// SPDX-License-Identifier: Apache-2.0
import { LedgerworkError } from '../../chaincode/src/core/errors';

/** The catalogue code `action` throws, undefined if it returns, or a marker for an untyped throw. */
export function codeOf(action: () => unknown): string | undefined {
    try {
        action();
    } catch (err) {
        return err instanceof LedgerworkError ? err.code : `not a LedgerworkError: ${String(err)}`;
    }
    return undefined;
}
