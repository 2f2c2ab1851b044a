// SPDX-License-Identifier: Apache-2.0

/** Returns `value`, or throws if it is undefined or null (an internal invariant was broken). */
export function defined<T>(value: T | undefined | null, what = 'value'): T {
    if (value === undefined || value === null) {
        throw new Error(`internal error: ${what} is missing`);
    }
    return value;
}
