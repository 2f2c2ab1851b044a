#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Golden vectors for chaincode/src/core/nodeSelection.ts, computed independently.

Does not import or run any ledgerwork TypeScript; it re-implements the byte-level definition in the
header of nodeSelection.ts with hashlib:
  stream(seed): block i = SHA-256(seed || uint32be(i)), eight uint32be words per block, in order;
  next_int(k): draw words until one is < 2^32 - (2^32 mod k), return it mod k;
  selection stream of shard s = stream(frame(b'ledgerwork/select/v1') || frame(seed) || frame(s)),
  replacement stream        = stream(frame(b'ledgerwork/replace/v1') || frame(seed) || frame(s)),
  frame(b) = uint32be(len(b)) || b, strings UTF-8;
  choose c of sorted candidates a: for i in 0..c-1 swap a[i], a[i + next_int(len - i)]; take a[:c];
  split M over S shards: earlier shards take the remainder; ranks dealt round-robin over shards.

Usage: python3 scripts/gen_selection_vectors.py   (writes test/fixtures/vectors/selection/*.json)
"""
import hashlib
import json
import pathlib
import struct

OUT = pathlib.Path(__file__).resolve().parent.parent / 'test' / 'fixtures' / 'vectors' / 'selection'
TWO_32 = 1 << 32


class Stream:
    def __init__(self, seed: bytes):
        assert seed
        self.seed, self.counter, self.words = seed, 0, []
        self.drawn = 0  # words consumed, to show that rejection sampling was exercised

    def word(self):
        if not self.words:
            block = hashlib.sha256(self.seed + struct.pack('>I', self.counter)).digest()
            self.counter += 1
            self.words = list(struct.unpack('>8I', block))
        self.drawn += 1
        return self.words.pop(0)

    def next_int(self, bound):
        assert 1 <= bound <= TWO_32
        limit = TWO_32 - TWO_32 % bound
        while True:
            value = self.word()
            if value < limit:
                return value % bound


def seed_bytes(seed):
    return seed.encode('utf-8') if isinstance(seed, str) else bytes(seed)


def frame(data: bytes) -> bytes:
    return struct.pack('>I', len(data)) + data


def stream_for(purpose, seed, shard):
    return Stream(frame(purpose.encode()) + frame(seed_bytes(seed)) + frame(shard.encode()))


def split(nodes, shards):
    return [nodes // shards + (1 if i < nodes % shards else 0) for i in range(shards)]


def choose(shard, candidates, count, seed):
    pool = sorted(candidates)
    assert len(set(pool)) == len(pool) and len(pool) >= count
    rng = stream_for('ledgerwork/select/v1', seed, shard)
    for i in range(count):
        j = i + rng.next_int(len(pool) - i)
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:count]


def select(nodes, shards, candidates, seed):
    counts = split(nodes, len(shards))
    chosen = [choose(s, candidates.get(s, []), c, seed) for s, c in zip(shards, counts)]
    out = []
    for round_ in range(max(counts)):
        for shard, picks in zip(shards, chosen):
            if round_ < len(picks):
                out.append({'rank': len(out) + 1, 'shard': shard, 'executorId': picks[round_]})
    assert len(out) == nodes
    return out


def replacement(candidates, exclude, seed, shard):
    pool = [c for c in sorted(candidates) if c not in exclude]
    assert pool
    return pool[stream_for('ledgerwork/replace/v1', seed, shard).next_int(len(pool))]


TX_A = '4f1c2a9b7e3d5c6a8b9f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f7'
TX_B = 'c0ffee00deadbeef0123456789abcdef0123456789abcdef0123456789abcdef'
TX_C = '9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9'
BYTES_SEED = bytes(range(32))


def scrambled(prefix, count, step=7):
    """count ids in a non-sorted order (step is coprime with count)."""
    return [f'{prefix}{(i * step) % count:02d}' for i in range(count)]


def seed_field(seed):
    return {'seed': seed} if isinstance(seed, str) else {'seedHex': seed.hex()}


def rng_vectors():
    cases = [
        (TX_A, [6] * 24),
        (TX_B, [TWO_32] * 8),
        (TX_C, [1, 1, 2, 3, 1000003, 4096, 7, 7]),
        (BYTES_SEED, [3 << 30] * 40),  # 25% of words are rejected for this bound
        ('a', [10] * 12),
    ]
    out = []
    for seed, bounds in cases:
        rng = Stream(seed_bytes(seed))
        values = [rng.next_int(b) for b in bounds]
        out.append({**seed_field(seed), 'bounds': bounds, 'values': values, 'wordsDrawn': rng.drawn})
    assert out[3]['wordsDrawn'] > len(out[3]['bounds']), 'rejection sampling must be exercised'
    return out


def choose_vectors():
    cases = [
        ('Org1MSP', scrambled('exec-a', 10), 4, TX_A),
        ('Org1MSP', scrambled('exec-a', 10), 10, TX_A),
        ('Org2MSP', ['zeta', 'Alpha', 'alpha', 'B-2', 'b.1', 'beta_3'], 3, TX_B),
        ('Org2MSP', ['only'], 1, BYTES_SEED),
        ('Org3MSP', ['x1', 'x2'], 0, TX_C),
    ]
    return [
        {'shard': shard, 'candidates': cands, 'count': count, **seed_field(seed), 'chosen': choose(shard, cands, count, seed)}
        for shard, cands, count, seed in cases
    ]


def select_vectors():
    cases = [
        ('spec example: 8 nodes over 3 shards', 8, ['Org1MSP', 'Org2MSP', 'Org3MSP'],
         {'Org1MSP': scrambled('o1-exec-', 5, 3), 'Org2MSP': scrambled('o2-exec-', 4, 3), 'Org3MSP': ['o3-b', 'o3-a']}, TX_A),
        ('4 nodes over 2 shards, exact supply', 4, ['OrgBMSP', 'OrgAMSP'],
         {'OrgAMSP': ['a2', 'a1'], 'OrgBMSP': ['b1', 'b2'], 'UnnamedMSP': ['u1']}, TX_B),
        ('16 nodes over 3 shards, large pools', 16, ['Org1MSP', 'Org2MSP', 'Org3MSP'],
         {'Org1MSP': scrambled('p1-', 20), 'Org2MSP': scrambled('p2-', 20), 'Org3MSP': scrambled('p3-', 13, 5)}, TX_C),
        ('one node, one shard', 1, ['SoloMSP'], {'SoloMSP': ['s3', 's1', 's2']}, TX_A),
        ('2 nodes over 3 shards, third gets none', 2, ['Org1MSP', 'Org2MSP', 'Org3MSP'],
         {'Org1MSP': ['m', 'k'], 'Org2MSP': ['n']}, TX_B),
        ('byte seed, 8 nodes over 2 shards', 8, ['Org1MSP', 'Org2MSP'],
         {'Org1MSP': scrambled('q1-', 9, 2), 'Org2MSP': scrambled('q2-', 6, 5)}, BYTES_SEED),
    ]
    return [
        {'name': name, 'nodeCount': nodes, 'shards': shards, 'candidates': cands, **seed_field(seed),
         'counts': split(nodes, len(shards)), 'assignments': select(nodes, shards, cands, seed)}
        for name, nodes, shards, cands, seed in cases
    ]


def replacement_vectors():
    cases = [
        (scrambled('exec-a', 10), ['exec-a03', 'exec-a07'], TX_A, 'Org1MSP'),
        (scrambled('exec-a', 10), [], TX_B, 'Org1MSP'),
        (['r1', 'r2', 'r3'], ['r1', 'r3'], TX_C, 'Org2MSP'),
        (['c', 'a', 'b'], ['zz'], BYTES_SEED, 'Org3MSP'),
    ]
    return [
        {'shard': shard, 'candidates': cands, 'exclude': exclude, **seed_field(seed),
         'chosen': replacement(cands, set(exclude), seed, shard)}
        for cands, exclude, seed, shard in cases
    ]


def split_vectors():
    cases = [(8, 3), (8, 1), (1, 3), (4, 4), (7, 2), (16, 3), (4096, 64), (5, 7), (64, 5)]
    return [{'nodeCount': m, 'shardCount': s, 'counts': split(m, s)} for m, s in cases]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    files = {
        'random.json': rng_vectors(),
        'choose.json': choose_vectors(),
        'select.json': select_vectors(),
        'replacement.json': replacement_vectors(),
        'split.json': split_vectors(),
    }
    for name, vectors in files.items():
        (OUT / name).write_text(json.dumps(vectors, indent=2) + '\n')
    print(f'wrote {len(files)} selection vector files to {OUT}')


if __name__ == '__main__':
    main()
