// SPDX-License-Identifier: Apache-2.0
// The primes merge as a program on the ledger, re-executed by the endorsing peers: left child
// "<a>\n" (read_input), right child "<b>\n" (read_result) → "<a + b>\n". Returns 0 on success, 1
// when a child is malformed.
import { inputLength, inputStart, loadInput, loadResult, nextNumber, resultLength, resultStart, sayNumber, scan, scanAtEnd, scanOk } from "./host";

/** The one number in (start, length), or -1 when it holds anything else. */
function countIn(start: usize, length: u32): i64 {
  scan(start, length);
  const value = nextNumber();
  if (!scanOk || !scanAtEnd() || value >= (<u64>1 << 62)) return -1;
  return <i64>value;
}

export function merge(): i32 {
  loadInput();
  loadResult();
  const a = countIn(inputStart, inputLength);
  const b = countIn(resultStart, resultLength);
  if (a < 0 || b < 0) return 1;
  sayNumber(<u64>(a + b));
  return 0;
}
