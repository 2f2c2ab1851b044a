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
  order sorted candidates a for c ranks: for i in 0..min(c, len)-1 swap a[i], a[i + next_int(len - i)];
  deal c ranks: rounds r = 0, 1, ...; every executor of the order with capacity > r takes the next rank
  (a bare id has capacity 1); too little total capacity is an error;
  split M over S shards: earlier shards take the remainder; ranks dealt round-robin over shards;
  replacement pool: candidates other than the expired holder holding no rank of the job, else those
  holding fewer ranks than their capacity.

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


def as_pair(candidate):
    return (candidate, 1) if isinstance(candidate, str) else (candidate['id'], candidate['capacity'])


def choose(shard, candidates, count, seed):
    pool = sorted((as_pair(c) for c in candidates), key=lambda pair: pair[0].encode('utf-16-be'))
    assert len({i for i, _ in pool}) == len(pool) and sum(cap for _, cap in pool) >= count
    rng = stream_for('ledgerwork/select/v1', seed, shard)
    for i in range(min(count, len(pool))):
        j = i + rng.next_int(len(pool) - i)
        pool[i], pool[j] = pool[j], pool[i]
    dealt, round_ = [], 0
    while len(dealt) < count:
        for ident, cap in pool:
            if len(dealt) < count and cap > round_:
                dealt.append(ident)
        round_ += 1
    return dealt


def replacement_pool(candidates, held, expired):
    others = [as_pair(c) for c in candidates if as_pair(c)[0] != expired]
    idle = [c for c in others if held.get(c[0], 0) == 0]
    return idle if idle else [c for c in others if held.get(c[0], 0) < c[1]]


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
    ids = sorted((as_pair(c)[0] for c in candidates), key=lambda i: i.encode('utf-16-be'))
    pool = [c for c in ids if c not in exclude]
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
        # fewer executors than ranks: dealt round by round, each at most its capacity
        ('Org1MSP', [{'id': 'solo', 'capacity': 8}], 8, TX_A),
        ('Org2MSP', [{'id': 'big', 'capacity': 6}, 'one', {'id': 'two', 'capacity': 2}, {'id': 'Cap3', 'capacity': 3}], 11, TX_B),
        ('Org2MSP', [{'id': 'big', 'capacity': 6}, 'one', {'id': 'two', 'capacity': 2}, {'id': 'Cap3', 'capacity': 3}], 12, TX_B),
        ('Org3MSP', [{'id': f'w{i:02d}', 'capacity': 4} for i in range(16)], 40, TX_C),
        ('Org3MSP', [{'id': 'a', 'capacity': 1024}, {'id': 'b', 'capacity': 2}], 3, BYTES_SEED),
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
        ('16 tasks over 2 shards, one executor per org with capacity 8', 16, ['Org1MSP', 'Org2MSP'],
         {'Org1MSP': [{'id': 'org1-a', 'capacity': 8}], 'Org2MSP': [{'id': 'org2-a', 'capacity': 8}]}, TX_A),
        ('64 nodes over 3 shards, 4 executors each, mixed capacities', 64, ['Org1MSP', 'Org2MSP', 'Org3MSP'],
         {'Org1MSP': [{'id': f'x1-{i}', 'capacity': 8} for i in range(4)],
          'Org2MSP': [{'id': 'x2-0', 'capacity': 1}, {'id': 'x2-1', 'capacity': 20}, {'id': 'x2-2', 'capacity': 2}, 'x2-3'],
          'Org3MSP': [{'id': f'x3-{i}', 'capacity': 6} for i in range(4)]}, TX_C),
        ('8 nodes over 2 shards, one shard dealt, the other distinct', 8, ['Org1MSP', 'Org2MSP'],
         {'Org1MSP': [{'id': 'm1', 'capacity': 3}, {'id': 'm2', 'capacity': 3}], 'Org2MSP': scrambled('n', 7, 3)}, TX_B),
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


def replacement_pool_vectors():
    cases = [
        ('Org1MSP', ['a', 'b', 'c'], {'a': 1, 'b': 1}, 'a', TX_A),
        ('Org1MSP', [{'id': 'a', 'capacity': 4}, {'id': 'b', 'capacity': 4}, {'id': 'c', 'capacity': 2}], {'a': 4, 'b': 3, 'c': 2}, 'a', TX_B),
        ('Org2MSP', [{'id': 'p', 'capacity': 8}, {'id': 'q', 'capacity': 8}, {'id': 'r', 'capacity': 8}], {'p': 8, 'q': 5, 'r': 1}, 'p', TX_C),
        ('Org2MSP', [{'id': 'p', 'capacity': 2}, {'id': 'q', 'capacity': 2}], {'p': 2, 'q': 2}, 'p', TX_A),
        ('Org3MSP', [{'id': 'solo', 'capacity': 16}], {'solo': 16}, 'solo', BYTES_SEED),
    ]
    out = []
    for shard, cands, held, expired, seed in cases:
        pool = replacement_pool(cands, held, expired)
        chosen = replacement([{'id': i, 'capacity': c} for i, c in pool], {expired}, seed, shard) if pool else None
        out.append({'shard': shard, 'candidates': cands, 'held': held, 'expired': expired, **seed_field(seed),
                    'pool': [i for i, _ in pool], 'chosen': chosen})
    return out


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
        'replacement-pool.json': replacement_pool_vectors(),
        'split.json': split_vectors(),
    }
    for name, vectors in files.items():
        (OUT / name).write_text(json.dumps(vectors, indent=2) + '\n')
    print(f'wrote {len(files)} selection vector files to {OUT}')


if __name__ == '__main__':
    main()
