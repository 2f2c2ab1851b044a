// SPDX-License-Identifier: Apache-2.0
// Monte Carlo π. task: stdin "<trials>" → stdout "<hits> <trials>\n", where a trial draws two 26-bit
// integers x, y from random_get (8 bytes: two little-endian u32, each shifted right by 6) and hits
// when x² + y² < 2^52 (exact integer arithmetic, so any implementation reproduces it bit for bit).
// merge: the sums of hits and trials. π ≈ 4 · hits / trials.
import { fail, isMerge, Numbers, readAll, splitMerge, writeText } from "./common";

const BLOCK: i32 = 8192; // trials per random_get call (64 KiB)
const LIMIT: u64 = 1 << 52;

function task(input: Uint8Array): void {
  const nums = new Numbers(input);
  const trials = nums.next();
  nums.end();
  const buf = new Uint8Array(BLOCK * 8);
  let hits: u64 = 0;
  let left = trials;
  while (left > 0) {
    const n = left < <u64>BLOCK ? <i32>left : BLOCK;
    crypto.getRandomValues(buf.subarray(0, n * 8));
    const base = buf.dataStart;
    for (let i = 0; i < n; i++) {
      const x = <u64>(load<u32>(base + (<usize>i << 3)) >>> 6);
      const y = <u64>(load<u32>(base + (<usize>i << 3) + 4) >>> 6);
      if (x * x + y * y < LIMIT) hits++;
    }
    left -= <u64>n;
  }
  writeText(hits.toString() + " " + trials.toString() + "\n");
}

function merge(input: Uint8Array): void {
  const parts = splitMerge(input);
  let hits: u64 = 0;
  let trials: u64 = 0;
  for (let i = 0; i < 2; i++) {
    const nums = new Numbers(parts[i]);
    const h = nums.next();
    const t = nums.next();
    nums.end();
    if (h > t) fail("hits exceed trials");
    hits += h;
    trials += t;
  }
  writeText(hits.toString() + " " + trials.toString() + "\n");
}

const input = readAll();
if (isMerge()) merge(input);
else task(input);
