// SPDX-License-Identifier: Apache-2.0

/** Where a command writes, and what it may know of its surroundings (tests pass their own). */
export interface CliIo {
    readonly stdout: (text: string) => void;
    readonly stderr: (text: string) => void;
    /** Whether stderr is a terminal: progress bars redraw in place only then. */
    readonly stderrIsTTY: boolean;
    readonly env: Readonly<Record<string, string | undefined>>;
    /** Aborted on SIGINT/SIGTERM (the bin shim wires the signals; tests abort it themselves). */
    readonly signal: AbortSignal;
    /** Current time in ms (injectable for tests). */
    readonly now: () => number;
    /**
     * Long-running commands call this to turn SIGINT/SIGTERM into `signal` (a second signal exits at
     * once); it returns the function that restores the default handling. A no-op in tests.
     */
    readonly trapSignals: () => () => void;
}

/** The process's own streams, environment, clock and signals. */
export function processIo(): CliIo {
    const controller = new AbortController();
    return {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        stderrIsTTY: process.stderr.isTTY,
        env: process.env,
        signal: controller.signal,
        now: () => Date.now(),
        trapSignals: () => {
            const onSignal = (signal: NodeJS.Signals): void => {
                if (controller.signal.aborted) {
                    process.stderr.write(`\n${signal} again: exiting now; claims left to expire\n`);
                    process.exit(130);
                }
                process.stderr.write(`\n${signal}: finishing work in flight (again to exit at once)\n`);
                controller.abort(new Error(signal));
            };
            process.on('SIGINT', onSignal);
            process.on('SIGTERM', onSignal);
            return () => {
                process.off('SIGINT', onSignal);
                process.off('SIGTERM', onSignal);
            };
        },
    };
}

/** Output of one command run: human text, or one JSON document on stdout with `--json`. */
export class Output {
    constructor(
        readonly io: CliIo,
        readonly json: boolean,
    ) {}

    /** Prints `value` as JSON (in --json mode) or `human()` otherwise. */
    result(value: unknown, human: () => string): void {
        if (this.json) {
            this.io.stdout(`${JSON.stringify(value, jsonReplacer)}\n`);
        } else {
            const text = human();
            this.io.stdout(text.endsWith('\n') || text === '' ? text : `${text}\n`);
        }
    }

    /** A line of information for people, on stderr; silent in --json mode. */
    note(text: string): void {
        if (!this.json) {
            this.io.stderr(`${text}\n`);
        }
    }

    /** A progress display on stderr; a no-op in --json mode. */
    progress(label: string): Progress {
        return this.json ? new Progress(undefined, label, this.io.now) : new Progress(this.io, label, this.io.now);
    }
}

function jsonReplacer(_key: string, value: unknown): unknown {
    return typeof value === 'bigint' ? value.toString() : value;
}

/** Lays out rows under a header, columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
    if (rows.length === 0) {
        return '(none)';
    }
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
    return [line(header), ...rows.map(line)].join('\n');
}

/** `key: value` lines, keys aligned. */
export function fields(entries: readonly (readonly [string, string])[]): string {
    const width = Math.max(...entries.map(([k]) => k.length));
    return entries.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n');
}

const BAR_WIDTH = 24;
/** Without a terminal, a progress line at most this often (and whenever the count is final). */
const PLAIN_EVERY_MS = 5_000;

/**
 * A progress bar on stderr: redrawn in place with `\r` on a terminal, otherwise a plain line when
 * something changed and at most every 5 s. Never writes in --json mode.
 */
export class Progress {
    #lastText = '';
    #lastPlainAt = -Infinity;
    #drawn = false;

    constructor(
        private readonly io: CliIo | undefined,
        private readonly label: string,
        private readonly now: () => number,
    ) {}

    /** Shows `done` of `total`, with an optional note (e.g. the merge level reached). */
    update(done: number, total: number, note = ''): void {
        if (this.io === undefined) {
            return;
        }
        const fraction = total > 0 ? Math.min(1, done / total) : 0;
        const filled = Math.round(fraction * BAR_WIDTH);
        const text = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total}${note === '' ? '' : ` ${note}`}`;
        if (this.io.stderrIsTTY) {
            if (text !== this.#lastText) {
                this.io.stderr(`\r${text}\x1b[K`);
                this.#drawn = true;
            }
        } else if (text !== this.#lastText && (this.now() - this.#lastPlainAt >= PLAIN_EVERY_MS || done >= total)) {
            this.io.stderr(`${text}\n`);
            this.#lastPlainAt = this.now();
        }
        this.#lastText = text;
    }

    /** Ends the display (a newline after an in-place bar). */
    finish(): void {
        if (this.io?.stderrIsTTY === true && this.#drawn) {
            this.io.stderr('\n');
            this.#drawn = false;
        }
    }
}
