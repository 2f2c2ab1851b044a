// SPDX-License-Identifier: Apache-2.0
/** Small helpers for HTML built as strings: everything from the ledger goes through escapeHtml. */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** An account or hash shortened for display. */
export function short(hex: string): string {
    return hex.length > 14 ? `${hex.slice(0, 6)}…${hex.slice(-4)}` : hex;
}

/** 1234567 → "1 234 567" with thin spaces (locale-free, so pages and tests agree). */
export function grouped(value: bigint | number): string {
    const text = value.toString();
    const negative = text.startsWith('-');
    const digits = negative ? text.slice(1) : text;
    const groups: string[] = [];
    for (let end = digits.length; end > 0; end -= 3) {
        groups.unshift(digits.slice(Math.max(0, end - 3), end));
    }
    return `${negative ? '−' : ''}${groups.join('\u2009')}`;
}

/** A time in ms as `2026-12-01 10:15 UTC`. */
export function utc(ms: number): string {
    return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function percent(part: number, whole: number): number {
    return whole <= 0 ? 0 : Math.round((part / whole) * 1000) / 10;
}
