// SPDX-License-Identifier: Apache-2.0
// Validator for the primes program: input "<lo> <hi>", result "<count>\n". Accepts when the count is
// within what the range allows: at most 2y / ln y primes in any y consecutive integers
// (Montgomery–Vaughan), and at least pi_low(hi - 1) - pi_high(lo - 1), with the bounds
// x / ln x < pi(x) (x >= 17) and pi(x) < 1.25506 x / ln x (x > 1) of Rosser and Schoenfeld. The
// logarithms are bracketed with integers only: (bits(x) - 1) * 0.693 <= ln x <= bits(x) * 0.6932.
import { bitLength, byteAt, loadInput, loadResult, inputLength, inputStart, nextNumber, resultLength, resultStart, say, scan, scanAtEnd, scanOk } from "./host";

/** A lower bound on pi(x). */
function piLow(x: u64): u64 {
  if (x < 17) return 0;
  return (x * 10000) / (bitLength(x) * 6932);
}

/** An upper bound on pi(x). */
function piHigh(x: u64): u64 {
  if (x < 2) return 0;
  const den = (bitLength(x) - 1) * 69300;
  return (x * 125506 + den - 1) / den;
}

export function validate(): i32 {
  loadInput();
  scan(inputStart, inputLength);
  const lo = nextNumber();
  const hi = nextNumber();
  if (!scanOk || !scanAtEnd() || lo > hi || hi > (<u64>1 << 32)) {
    say("the input is not \"<lo> <hi>\" with 0 <= lo <= hi <= 2^32");
    return 0;
  }
  loadResult();
  scan(resultStart, resultLength);
  const count = nextNumber();
  if (!scanOk || !scanAtEnd() || byteAt(resultStart, resultLength - 1) != 10) {
    say("the result is not \"<count>\\n\"");
    return 0;
  }
  const y = hi - lo;
  let most = y < 2 ? y : y / 2 + 1;
  if (y >= 4) {
    const mv = (2 * y * 1000) / ((bitLength(y) - 1) * 693);
    if (mv < most) most = mv;
  }
  if (count > most) {
    say("more primes than the range can hold");
    return 0;
  }
  const high = hi == 0 ? 0 : piLow(hi - 1);
  const low = lo == 0 ? 0 : piHigh(lo - 1);
  if (high > low && count < high - low) {
    say("fewer primes than the known density guarantees");
    return 0;
  }
  return 1;
}
