#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Golden vectors for afterAccept in chaincode/src/core/mergeTree.ts: what the acceptance of a
number's value opens in a ranked job verified by replicas.

Does not import or run any ledgerwork TypeScript. The tree's kinds are built bottom-up from the
leaves (1..N real, N+1..M ZERO): a number whose right subtree is all ZERO passes its left child's
value through; one with two real children is a merge. Accepting a real number (y, x) then either
completes the job (the number is the root), files the parent as a pass-through, or — the parent
being a merge — waits for the sibling (y, x xor-pair) so the parent's merge task can be published.

Usage: python3 scripts/gen_replicated_tree_vectors.py
       (writes test/fixtures/vectors/replicated-tree/after-accept.json)
"""
import json
import pathlib

TASK_COUNTS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 17]
OUT = pathlib.Path(__file__).resolve().parent.parent / 'test' / 'fixtures' / 'vectors' / 'replicated-tree'


def kinds_of(n_tasks):
    nodes = 1
    while nodes < n_tasks:
        nodes *= 2
    rows = [['leaf' if r <= n_tasks else 'zero' for r in range(1, nodes + 1)]]
    while len(rows[-1]) > 1:
        below = rows[-1]
        row = []
        for i in range(0, len(below), 2):
            left, right = below[i], below[i + 1]
            row.append('zero' if left == 'zero' else 'pass-through' if right == 'zero' else 'merge')
        rows.append(row)
    return rows


def vector(n_tasks):
    rows = kinds_of(n_tasks)
    height = len(rows)
    cases = []
    for y in range(1, height + 1):
        for x in range(1, len(rows[y - 1]) + 1):
            if rows[y - 1][x - 1] == 'zero':
                continue
            if y == height:
                after = {'action': 'complete'}
            else:
                px = (x + 1) // 2
                parent_kind = rows[y][px - 1]
                if parent_kind == 'pass-through':
                    assert x % 2 == 1, 'only a left child can pass through'
                    after = {'action': 'pass-through', 'into': [y + 1, px]}
                else:
                    assert parent_kind == 'merge'
                    sibling = x + 1 if x % 2 == 1 else x - 1
                    after = {'action': 'merge', 'into': [y + 1, px], 'sibling': [y, sibling]}
            cases.append({'number': [y, x], 'after': after})
    return {'taskCount': n_tasks, 'height': height, 'cases': cases}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    data = {'generator': 'scripts/gen_replicated_tree_vectors.py', 'trees': [vector(n) for n in TASK_COUNTS]}
    (OUT / 'after-accept.json').write_text(json.dumps(data, indent=1) + '\n')


if __name__ == '__main__':
    main()
