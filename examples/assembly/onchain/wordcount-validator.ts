// SPDX-License-Identifier: Apache-2.0
// Validator for the wordcount program: the result is lines "<word>\t<count>\n" and the counts add up
// to the number of words in the input (a word is a maximal run of ASCII letters and digits and bytes
// >= 0x80, as the program counts them).
import { byteAt, inputLength, inputStart, loadInput, loadResult, resultLength, resultStart, say } from "./host";

function isWordByte(c: u32): bool {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 0x80;
}

function countWords(start: usize, length: u32): u64 {
  let words: u64 = 0;
  let inWord = false;
  for (let i: u32 = 0; i < length; i++) {
    const w = isWordByte(byteAt(start, i));
    if (w && !inWord) words++;
    inWord = w;
  }
  return words;
}

/** The sum of the counts, or -1 when a line is malformed. */
function sumCounts(start: usize, length: u32): i64 {
  let total: i64 = 0;
  let i: u32 = 0;
  while (i < length) {
    const wordStart = i;
    while (i < length && byteAt(start, i) != 9 && byteAt(start, i) != 10) i++;
    if (i == wordStart || i >= length || byteAt(start, i) != 9) return -1;
    i++;
    let count: i64 = 0;
    let digits = 0;
    while (i < length && byteAt(start, i) >= 48 && byteAt(start, i) <= 57 && digits < 18) {
      count = count * 10 + <i64>(byteAt(start, i) - 48);
      digits++;
      i++;
    }
    if (digits == 0 || count == 0 || i >= length || byteAt(start, i) != 10) return -1;
    i++;
    total += count;
  }
  return total;
}

export function validate(): i32 {
  loadInput();
  loadResult();
  const words = countWords(inputStart, inputLength);
  const total = sumCounts(resultStart, resultLength);
  if (total < 0) {
    say("the result is not lines of \"<word>\\t<count>\\n\"");
    return 0;
  }
  if (<u64>total != words) {
    say("the counts do not add up to the input's words");
    return 0;
  }
  return 1;
}
