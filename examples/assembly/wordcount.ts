// SPDX-License-Identifier: Apache-2.0
// Word count over a text shard. task: stdin = text (bytes) → stdout = one line "<word>\t<count>\n" per
// distinct word, sorted by the word's bytes. A word is a maximal run of ASCII letters, ASCII digits and
// bytes ≥ 0x80 (so UTF-8 letters stay inside words); ASCII letters are lower-cased; every other byte
// separates words. merge: the union of two such listings with counts summed, in the same format.
import { fail, isMerge, readAll, splitMerge, writeBytes } from "./common";

/** A string whose UTF-16 code units are the word's bytes, so string order is byte order. */
function key(bytes: Uint8Array, start: i32, end: i32): string {
  const len = end - start;
  const s = changetype<string>(__new(<usize>len << 1, idof<string>()));
  const src = bytes.dataStart + <usize>start;
  const dst = changetype<usize>(s);
  for (let i = 0; i < len; i++) {
    store<u16>(dst + (<usize>i << 1), <u16>load<u8>(src + <usize>i));
  }
  return s;
}

function isWordByte(b: u32): bool {
  return (b >= 48 && b <= 57) || (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || b >= 128;
}

class Output {
  buf: Uint8Array = new Uint8Array(4096);
  len: i32 = 0;

  byte(b: u32): void {
    if (this.len == this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.len++] = <u8>b;
  }

  key(k: string): void {
    for (let i = 0; i < k.length; i++) this.byte(k.charCodeAt(i));
  }

  number(n: u64): void {
    const s = n.toString();
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }
}

function emit(counts: Map<string, u64>): void {
  const keys = counts.keys();
  keys.sort();
  const out = new Output();
  for (let i = 0; i < keys.length; i++) {
    out.key(keys[i]);
    out.byte(9);
    out.number(counts.get(keys[i]));
    out.byte(10);
  }
  writeBytes(out.buf.subarray(0, out.len));
}

function add(counts: Map<string, u64>, word: string, n: u64): void {
  if (counts.has(word)) counts.set(word, counts.get(word) + n);
  else counts.set(word, n);
}

function task(input: Uint8Array): void {
  // lower-case ASCII letters in place
  for (let i = 0; i < input.length; i++) {
    const b = input[i];
    if (b >= 65 && b <= 90) input[i] = b + 32;
  }
  const counts = new Map<string, u64>();
  let i = 0;
  const n = input.length;
  while (i < n) {
    while (i < n && !isWordByte(input[i])) i++;
    const start = i;
    while (i < n && isWordByte(input[i])) i++;
    if (i > start) add(counts, key(input, start, i), 1);
  }
  emit(counts);
}

function parseListing(part: Uint8Array, counts: Map<string, u64>): void {
  let i = 0;
  const n = part.length;
  while (i < n) {
    const start = i;
    while (i < n && part[i] != 9 && part[i] != 10) i++;
    if (i == start || i >= n || part[i] != 9) {
      fail("merge input: expected <word>\\t<count>\\n lines");
      return;
    }
    const word = key(part, start, i);
    i++;
    let value: u64 = 0;
    const digits = i;
    while (i < n && part[i] >= 48 && part[i] <= 57) {
      value = value * 10 + <u64>(part[i] - 48);
      i++;
    }
    if (i == digits || i - digits > 19 || i >= n || part[i] != 10) {
      fail("merge input: bad count");
      return;
    }
    i++;
    add(counts, word, value);
  }
}

function merge(input: Uint8Array): void {
  const parts = splitMerge(input);
  const counts = new Map<string, u64>();
  parseListing(parts[0], counts);
  parseListing(parts[1], counts);
  emit(counts);
}

const input = readAll();
if (isMerge()) merge(input);
else task(input);
