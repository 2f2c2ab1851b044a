// SPDX-License-Identifier: Apache-2.0
// SHA-256 Merkle root of fixed-size chunks. task: stdin = data → stdout = the root as 64 lower-case hex
// digits and "\n". The data is cut into 1024-byte chunks (the last may be shorter; empty data is one
// empty chunk); leaf = SHA-256(0x00 ‖ chunk); a node = SHA-256(0x01 ‖ left ‖ right); each level pairs
// nodes left to right and an odd last node moves up unchanged. merge: stdin = two such roots (hex
// lines) → SHA-256(0x01 ‖ left ‖ right), in the same format: a node over the two shards' subtrees.
import { fail, isMerge, readAll, splitMerge, writeText } from "./common";

const CHUNK: i32 = 1024;

// @ts-ignore: decorator
@lazy const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const W = new StaticArray<u32>(64);
const H = new StaticArray<u32>(8);

function compress(block: usize): void {
  for (let t = 0; t < 16; t++) W[t] = bswap<u32>(load<u32>(block + (<usize>t << 2)));
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15];
    const w2 = W[t - 2];
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    W[t] = W[t - 16] + s0 + W[t - 7] + s1;
  }
  let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
  for (let t = 0; t < 64; t++) {
    const S1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = h + S1 + ch + K[t] + W[t];
    const S0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = S0 + maj;
    h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
}

/** SHA-256 of prefix byte ‖ data[start, end), into out (32 bytes). */
function sha256(prefix: u8, data: Uint8Array, start: i32, end: i32, out: Uint8Array): void {
  H[0] = 0x6a09e667; H[1] = 0xbb67ae85; H[2] = 0x3c6ef372; H[3] = 0xa54ff53a;
  H[4] = 0x510e527f; H[5] = 0x9b05688c; H[6] = 0x1f83d9ab; H[7] = 0x5be0cd19;
  const len = end - start + 1;
  const total = ((len + 8) >> 6) + 1;
  const msg = new Uint8Array(total << 6);
  msg[0] = prefix;
  memory.copy(msg.dataStart + 1, data.dataStart + <usize>start, <usize>(end - start));
  msg[len] = 0x80;
  store<u64>(msg.dataStart + <usize>(total << 6) - 8, bswap<u64>(<u64>len << 3));
  for (let i = 0; i < total; i++) compress(msg.dataStart + (<usize>i << 6));
  for (let i = 0; i < 8; i++) store<u32>(out.dataStart + (<usize>i << 2), bswap<u32>(H[i]));
}

function node(left: Uint8Array, right: Uint8Array): Uint8Array {
  const both = new Uint8Array(64);
  both.set(left, 0);
  both.set(right, 32);
  const out = new Uint8Array(32);
  sha256(1, both, 0, 64, out);
  return out;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    s += (b < 16 ? "0" : "") + b.toString(16);
  }
  return s;
}

function unhex(part: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  let n = part.length;
  if (n == 65 && part[64] == 10) n = 64;
  if (n != 64) {
    fail("merge input: expected 64 hex digits");
    return out;
  }
  for (let i = 0; i < 64; i++) {
    const c = <u32>part[i];
    let v: u32 = 0;
    if (c >= 48 && c <= 57) v = c - 48;
    else if (c >= 97 && c <= 102) v = c - 87;
    else {
      fail("merge input: expected lower-case hex");
      return out;
    }
    out[i >> 1] = <u8>((out[i >> 1] << 4) | v);
  }
  return out;
}

function task(input: Uint8Array): void {
  let level = new Array<Uint8Array>(0);
  const n = input.length;
  let at = 0;
  do {
    const end = at + CHUNK < n ? at + CHUNK : n;
    const leaf = new Uint8Array(32);
    sha256(0, input, at, end, leaf);
    level.push(leaf);
    at = end;
  } while (at < n);
  while (level.length > 1) {
    const next = new Array<Uint8Array>(0);
    for (let i = 0; i + 1 < level.length; i += 2) next.push(node(level[i], level[i + 1]));
    if (level.length & 1) next.push(level[level.length - 1]);
    level = next;
  }
  writeText(hex(level[0]) + "\n");
}

function merge(input: Uint8Array): void {
  const parts = splitMerge(input);
  writeText(hex(node(unhex(parts[0]), unhex(parts[1]))) + "\n");
}

const input = readAll();
if (isMerge()) merge(input);
else task(input);
