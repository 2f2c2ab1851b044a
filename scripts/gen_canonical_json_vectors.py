#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes test/fixtures/vectors/canonical-json.json with Python's json module as the independent
encoder: sorted keys, no whitespace, UTF-8 text. Python sorts keys by code point and ledgerwork by
UTF-16 code unit; the two agree for keys without astral characters, which is all these vectors use
(the astral case has its own test)."""
import json
import pathlib

CASES = [
    ("empty object", {}),
    ("empty array", []),
    ("nested objects sort at every level", {"b": {"z": 1, "a": [2, {"y": True, "x": None}]}, "a": "first"}),
    ("integers at the safe limits", {"max": 9007199254740991, "min": -9007199254740991, "zero": 0}),
    ("escapes", {"s": "quote\" backslash\\ slash/ tab\t newline\n nul\u0000 unit\u001f del\u007f"}),
    ("non-ASCII stays literal", {"€": "日本語", "é": "ü"}),
    ("keys that look like numbers sort as strings", {"10": 1, "9": 2, "1": 3, "a": 4, "A": 5, "_": 6}),
    ("a task record", {"id": "job1-t1", "jobId": "job1", "reward": "10", "attempts": 0, "state": "published",
                       "requirements": {"skills": ["simd", "wasm"], "minReputation": -1000000000}}),
]

def main() -> None:
    out = [{"name": name, "value": value,
            "canonical": json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)}
           for name, value in CASES]
    path = pathlib.Path(__file__).resolve().parent.parent / "test/fixtures/vectors/canonical-json.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

if __name__ == "__main__":
    main()
