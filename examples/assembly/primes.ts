// SPDX-License-Identifier: Apache-2.0
// Prime counting over a range. task: stdin "<lo> <hi>" (0 ≤ lo ≤ hi ≤ 2^32) → stdout "<count>\n", the
// number of primes p with lo ≤ p < hi (segmented sieve of Eratosthenes). merge: the sum of the counts.
import { fail, isMerge, Numbers, readAll, splitMerge, writeText } from "./common";

const SEGMENT: u64 = 1 << 16;

function isqrt(n: u64): u64 {
  let r = <u64>Math.sqrt(<f64>n);
  while (r * r > n) r--;
  while ((r + 1) * (r + 1) <= n) r++;
  return r;
}

function countPrimes(lo: u64, hi: u64): u64 {
  if (hi <= 2 || lo >= hi) return 0;
  if (lo < 2) lo = 2;
  const root = isqrt(hi - 1);
  // small primes up to root
  const small = new Uint8Array(<i32>root + 1);
  const primes = new Array<u64>(0);
  for (let i: u64 = 2; i <= root; i++) {
    if (small[<i32>i] == 0) {
      primes.push(i);
      for (let j = i * i; j <= root; j += i) small[<i32>j] = 1;
    }
  }
  let count: u64 = 0;
  const seg = new Uint8Array(<i32>SEGMENT);
  const base = seg.dataStart;
  for (let start = lo; start < hi; start += SEGMENT) {
    const end = start + SEGMENT < hi ? start + SEGMENT : hi;
    const len = <u32>(end - start);
    memory.fill(base, 0, <usize>len);
    for (let k = 0; k < primes.length; k++) {
      const p = unchecked(primes[k]);
      if (p * p >= end) break;
      let first = ((start + p - 1) / p) * p;
      if (first < p * p) first = p * p;
      const step = <u32>p;
      for (let o = <u32>(first - start); o < len; o += step) store<u8>(base + <usize>o, 1);
    }
    let zeros: u32 = 0;
    for (let i: u32 = 0; i < len; i++) zeros += <u32>(load<u8>(base + <usize>i) == 0);
    count += <u64>zeros;
  }
  return count;
}

function task(input: Uint8Array): void {
  const nums = new Numbers(input);
  const lo = nums.next();
  const hi = nums.next();
  nums.end();
  if (lo > hi || hi > (<u64>1 << 32)) {
    fail("expected 0 <= lo <= hi <= 2^32");
    return;
  }
  writeText(countPrimes(lo, hi).toString() + "\n");
}

function merge(input: Uint8Array): void {
  const parts = splitMerge(input);
  let total: u64 = 0;
  for (let i = 0; i < 2; i++) {
    const nums = new Numbers(parts[i]);
    total += nums.next();
    nums.end();
  }
  writeText(total.toString() + "\n");
}

const input = readAll();
if (isMerge()) merge(input);
else task(input);
