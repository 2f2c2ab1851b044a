// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the example task programs (AssemblyScript, WASI preview1 via @assemblyscript/wasi-shim).

/** Exit code for malformed input. */
export const EXIT_BAD_INPUT: i32 = 2;

/** Reads the whole of stdin. */
export function readAll(): Uint8Array {
  let buf = new ArrayBuffer(65536);
  let len: i32 = 0;
  while (true) {
    if (len == buf.byteLength) {
      const bigger = new ArrayBuffer(buf.byteLength * 2);
      memory.copy(changetype<usize>(bigger), changetype<usize>(buf), <usize>len);
      buf = bigger;
    }
    const n = process.stdin.read(buf, len);
    if (n <= 0) break;
    len += n;
  }
  return Uint8Array.wrap(buf, 0, len);
}

/** Writes bytes to stdout. */
export function writeBytes(bytes: Uint8Array): void {
  const copy = new ArrayBuffer(bytes.length);
  memory.copy(changetype<usize>(copy), bytes.dataStart, <usize>bytes.length);
  process.stdout.write(copy);
}

/** Writes an ASCII string to stdout. */
export function writeText(text: string): void {
  process.stdout.write(String.UTF8.encode(text));
}

/** Fails with a message on stderr and EXIT_BAD_INPUT. */
export function fail(message: string): void {
  process.stderr.write(String.UTF8.encode(message + "\n"));
  process.exit(EXIT_BAD_INPUT);
}

/** True when the last argument is "merge" (SPEC §9: argv is ["task"] or ["merge"]). */
export function isMerge(): bool {
  const argv = process.argv;
  return argv.length > 0 && argv[argv.length - 1] == "merge";
}

/** Splits merge input (two 4-byte big-endian length-prefixed byte strings) into [left, right]. */
export function splitMerge(input: Uint8Array): Uint8Array[] {
  const out = new Array<Uint8Array>(0);
  let at: i32 = 0;
  for (let i = 0; i < 2; i++) {
    if (at + 4 > input.length) {
      fail("merge input: truncated length prefix");
      return out;
    }
    const n = (<i32>input[at] << 24) | (<i32>input[at + 1] << 16) | (<i32>input[at + 2] << 8) | <i32>input[at + 3];
    at += 4;
    if (n < 0 || at + n > input.length) {
      fail("merge input: length runs past the end");
      return out;
    }
    out.push(input.subarray(at, at + n));
    at += n;
  }
  if (at != input.length) fail("merge input: trailing bytes");
  return out;
}

/** A cursor that parses ASCII decimal unsigned integers separated by whitespace. */
export class Numbers {
  pos: i32 = 0;
  constructor(public bytes: Uint8Array) {}

  /** Next number; calls fail() when there is none or it overflows 64 bits. */
  next(): u64 {
    this.skipSpace();
    const start = this.pos;
    let value: u64 = 0;
    while (this.pos < this.bytes.length) {
      const c = <u32>this.bytes[this.pos];
      if (c < 48 || c > 57) break;
      const digit = <u64>(c - 48);
      if (value > (U64.MAX_VALUE - digit) / 10) {
        fail("number out of range");
        return 0;
      }
      value = value * 10 + digit;
      this.pos++;
    }
    if (this.pos == start) fail("expected a decimal number");
    return value;
  }

  /** Calls fail() unless only whitespace remains. */
  end(): void {
    this.skipSpace();
    if (this.pos != this.bytes.length) fail("unexpected trailing input");
  }

  private skipSpace(): void {
    while (this.pos < this.bytes.length) {
      const c = this.bytes[this.pos];
      if (c != 32 && c != 9 && c != 10 && c != 13) break;
      this.pos++;
    }
  }
}
