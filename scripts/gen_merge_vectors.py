#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Golden vectors for chaincode/src/core/mergeTree.ts, computed independently from SPEC §6.

Does not import or run any ledgerwork TypeScript. The tree is built bottom-up from its leaves (ranks
1..N real, N+1..M ZERO) and each number's kind follows from its children's; the numbers a rank holds
come from grouping every number under its holder x * 2^(y-1), cross-checked against a simulation of
the merge rule (x even -> merge into (y+1, x/2), x odd -> stop).

Usage: python3 scripts/gen_merge_vectors.py   (writes test/fixtures/vectors/merge/tree-<N>.json)
"""
import json
import pathlib

TASK_COUNTS = [1, 2, 3, 4, 5, 7, 8, 16, 33]
OUT = pathlib.Path(__file__).resolve().parent.parent / 'test' / 'fixtures' / 'vectors' / 'merge'


def combine(left, right):
    zero_l, zero_r = left == 'zero', right == 'zero'
    if zero_l and zero_r:
        return 'zero'
    if zero_r:
        return 'pass-through'
    assert not zero_l, 'a ZERO left subtree with a real right subtree cannot happen'
    return 'merge'


def vector(n_tasks):
    levels = (n_tasks - 1).bit_length()  # ceil(log2 N), 0 for N = 1
    nodes = 1 << levels
    height = levels + 1
    kinds = [['leaf' if r <= n_tasks else 'zero' for r in range(1, nodes + 1)]]
    while len(kinds[-1]) > 1:
        below = kinds[-1]
        kinds.append([combine(below[i], below[i + 1]) for i in range(0, len(below), 2)])
    assert len(kinds) == height

    held = {r: [] for r in range(1, nodes + 1)}
    for y in range(1, height + 1):
        for x in range(1, len(kinds[y - 1]) + 1):
            held[x * 2 ** (y - 1)].append([y, x])
    for r in range(1, nodes + 1):
        held[r].sort()
        y, x, simulated = 1, r, [[1, r]]
        while x % 2 == 0:
            y, x = y + 1, x // 2
            simulated.append([y, x])
        assert simulated == held[r], (n_tasks, r)

    merges = sum(row.count('merge') for row in kinds)
    assert merges == n_tasks - 1
    return {
        'taskCount': n_tasks,
        'levels': levels,
        'nodeCount': nodes,
        'height': height,
        'target': [height, 1],
        'numberCount': sum(len(row) for row in kinds),
        'realMerges': merges,
        'kinds': kinds,
        'held': [held[r] for r in range(1, nodes + 1)],
    }


def render(value):
    """JSON with one line per top-level member and per row of `kinds` and `held`."""
    lines = ['{']
    items = list(value.items())
    for i, (key, member) in enumerate(items):
        comma = ',' if i < len(items) - 1 else ''
        if isinstance(member, list) and member and isinstance(member[0], list):
            rows = [json.dumps(row, separators=(', ', ': ')) for row in member]
            lines.append(f'  {json.dumps(key)}: [')
            lines.extend(f'    {row}{"," if j < len(rows) - 1 else ""}' for j, row in enumerate(rows))
            lines.append(f'  ]{comma}')
        else:
            lines.append(f'  {json.dumps(key)}: {json.dumps(member, separators=(", ", ": "))}{comma}')
    lines.append('}')
    return '\n'.join(lines) + '\n'


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for n_tasks in TASK_COUNTS:
        text = render(vector(n_tasks))
        assert json.loads(text) == vector(n_tasks)
        (OUT / f'tree-{n_tasks}.json').write_text(text)
    print(f'wrote {len(TASK_COUNTS)} merge-tree vectors to {OUT}')


if __name__ == '__main__':
    main()
