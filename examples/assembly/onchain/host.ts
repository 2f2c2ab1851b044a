// SPDX-License-Identifier: Apache-2.0
// The host functions the chaincode offers to programs on the ledger, and integer-only helpers.
// These modules run inside the endorsing peers: no WASI, no floats, no start function — so no
// global with a computed initial value and no allocation through the runtime: byte strings are
// (start, length) pairs in linear memory handed out by `reserve`.

@external("ledgerwork", "read_input")
declare function read_input(ptr: usize, max: u32): u32;
@external("ledgerwork", "read_result")
declare function read_result(ptr: usize, max: u32): u32;
@external("ledgerwork", "write_output")
declare function write_output(ptr: usize, len: u32): void;

let top: usize = 0;

/** Reserves `n` bytes after the heap base, growing memory when needed (past its maximum the runtime stops the program). */
export function reserve(n: u32): usize {
  if (top == 0) top = (__heap_base + 15) & ~15;
  const start = top;
  top += (<usize>n + 15) & ~15;
  const pages = <i32>((top + 0xffff) >> 16);
  const have = memory.size();
  if (pages > have) memory.grow(pages - have);
  return start;
}

export let inputStart: usize = 0;
export let inputLength: u32 = 0;
export let resultStart: usize = 0;
export let resultLength: u32 = 0;

/** Copies read_input's bytes (the task input, or a merge's left child) to inputStart/inputLength. */
export function loadInput(): void {
  inputLength = read_input(0, 0);
  inputStart = reserve(inputLength);
  read_input(inputStart, inputLength);
}

/** Copies read_result's bytes (the result under test, or a merge's right child) to resultStart/resultLength. */
export function loadResult(): void {
  resultLength = read_result(0, 0);
  resultStart = reserve(resultLength);
  read_result(resultStart, resultLength);
}

export function byteAt(start: usize, i: u32): u32 {
  return <u32>load<u8>(start + <usize>i);
}

/** Writes ASCII text as the output (a validator's reason). */
export function say(text: string): void {
  const n = <u32>text.length;
  const start = reserve(n);
  for (let i: u32 = 0; i < n; i++) store<u8>(start + <usize>i, <u8>text.charCodeAt(<i32>i));
  write_output(start, n);
}

/** Writes `value` in decimal and a newline as the output (a merge's value). */
export function sayNumber(value: u64): void {
  const start = reserve(24);
  let digits: u32 = 0;
  let v = value;
  do {
    digits++;
    v /= 10;
  } while (v != 0);
  v = value;
  for (let i = digits; i > 0; i--) {
    store<u8>(start + <usize>(i - 1), <u8>(48 + <u32>(v % 10)));
    v /= 10;
  }
  store<u8>(start + <usize>digits, 10);
  write_output(start, digits + 1);
}

// A cursor over decimal numbers separated by ASCII whitespace in (scanStart, scanLength);
// scanOk turns false on anything else.
let scanStart: usize = 0;
let scanLength: u32 = 0;
let scanPos: u32 = 0;
export let scanOk: bool = true;

export function scan(start: usize, length: u32): void {
  scanStart = start;
  scanLength = length;
  scanPos = 0;
  scanOk = true;
}

function skipSpace(): void {
  while (scanPos < scanLength) {
    const c = byteAt(scanStart, scanPos);
    if (c != 32 && c != 9 && c != 10 && c != 13) break;
    scanPos++;
  }
}

/** The next decimal number (at most 19 digits). */
export function nextNumber(): u64 {
  skipSpace();
  let value: u64 = 0;
  let digits = 0;
  while (scanPos < scanLength) {
    const c = byteAt(scanStart, scanPos);
    if (c < 48 || c > 57) break;
    if (digits == 19) {
      scanOk = false;
      return 0;
    }
    value = value * 10 + <u64>(c - 48);
    digits++;
    scanPos++;
  }
  if (digits == 0) scanOk = false;
  return value;
}

/** True when only whitespace is left. */
export function scanAtEnd(): bool {
  skipSpace();
  return scanPos == scanLength;
}

/** Bits needed to write x (0 for 0). */
export function bitLength(x: u64): u64 {
  return 64 - clz<u64>(x);
}
