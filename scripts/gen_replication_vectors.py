#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Golden vectors for chaincode/src/core/replication.ts, computed independently.

Does not import or run any ledgerwork TypeScript. It rebuilds from the documented definitions
(docs/chaincode.md, "Replicated verification"):
- the commitment SHA-256(len-prefixed fields "ledgerwork/v1/commit", channel, chaincode, subject,
  executor id, SHA-256(result), salt), with hashlib and struct;
- the credibility function e(r) = 10 / (50 + r) for r >= 0, 1/2 below 0, with fractions.Fraction;
- a value's credibility L(v) / (sum of L(w) over revealed values + L(none));
- the settlement rule of quorum and credibility;
- the worked table: agreeing replicas needed at trust 0.999 by reputation.

Usage: python3 scripts/gen_replication_vectors.py   (writes test/fixtures/vectors/replication.json)
"""
import hashlib
import json
import pathlib
import struct
from fractions import Fraction

OUT = pathlib.Path(__file__).resolve().parent.parent / 'test' / 'fixtures' / 'vectors' / 'replication.json'


def field(data):
    if isinstance(data, str):
        data = data.encode('utf-8')
    return struct.pack('>I', len(data)) + data


def commitment(channel, chaincode, subject, executor, result, salt):
    preimage = b''.join(field(f) for f in ['ledgerwork/v1/commit', channel, chaincode, subject, executor,
                                             hashlib.sha256(result).digest(), salt])
    return hashlib.sha256(preimage).hexdigest()


def error_rate(reputation):
    return Fraction(1, 2) if reputation < 0 else Fraction(10, 50 + reputation)


def likelihood(votes, value):
    product = Fraction(1)
    for _shard, sha, rep in votes:
        e = error_rate(rep)
        product *= (1 - e) if sha == value else e
    return product


def credibility(votes, value):
    values = sorted({sha for _s, sha, _r in votes})
    total = sum(likelihood(votes, w) for w in values) + likelihood(votes, None)
    return (likelihood(votes, value) if value in values else Fraction(0)) / total


def settle(policy, replicas):
    revealed = [r for r in replicas if r['state'] == 'revealed']
    flying = [r for r in replicas if r['state'] in ('claimed', 'committed')]
    unused = max(0, policy['maxReplicas'] - len(replicas))
    values = sorted({r['sha256'] for r in revealed})

    def accepted(value):
        return {'kind': 'accepted', 'sha256': value,
                'agreeing': sorted(r['executorId'] for r in revealed if r['sha256'] == value),
                'disagreeing': sorted(r['executorId'] for r in revealed if r['sha256'] != value),
                'superseded': sorted(r['executorId'] for r in flying)}

    if policy['policy'] == 'quorum':
        k = policy['k']
        shards = {v: len({r['shard'] for r in revealed if r['sha256'] == v}) for v in values}
        for v in values:
            if shards[v] >= k:
                return accepted(v)
        best = max(shards.values(), default=0)
        if best + len(flying) + unused < k:
            return {'kind': 'failed', 'superseded': sorted(r['executorId'] for r in flying)}
        return {'kind': 'open', 'openSlots': min(unused, max(0, k - best - len(flying)))}
    trust = Fraction(policy['trust'])
    votes = [(r['shard'], r['sha256'], r['reputation']) for r in revealed]
    for v in values:
        if credibility(votes, v) >= trust:
            return accepted(v)
    if not flying and unused == 0:
        return {'kind': 'failed', 'superseded': []}
    return {'kind': 'open', 'openSlots': 1 if not flying else 0}


def replicas_needed(reputation, trust, limit=64):
    """Agreeing replicas of one reputation needed to reach trust (no disagreement)."""
    for n in range(1, limit + 1):
        votes = [('S%d' % i, 'v', reputation) for i in range(n)]
        if credibility(votes, 'v') >= trust:
            return n
    return None


def main():
    h = lambda s: hashlib.sha256(s.encode()).hexdigest()
    commitments = []
    for channel, chaincode, subject, executor, result, salt in [
        ('mychannel', 'ledgerwork', 'task-1', 'exec-a', b'42', bytes(range(16))),
        ('mychannel', 'ledgerwork', 'task-1', 'exec-b', b'42', bytes(range(16))),
        ('mychannel', 'ledgerwork', 'task-1', 'exec-a', b'43', bytes(range(16))),
        ('mychannel', 'ledgerwork', 'task-1', 'exec-a', b'42', bytes(range(1, 17))),
        ('other', 'ledgerwork', 'task-1', 'exec-a', b'42', bytes(range(16))),
        ('mychannel', 'ledgerwork', 'job-7/2/1', 'exec-a', b'', bytes(64)),
        ('ch\u00e9', 'cc', 't', 'e', b'\x00' * 100, b'\xff' * 32),
    ]:
        commitments.append({'channel': channel, 'chaincode': chaincode, 'subject': subject, 'executorId': executor,
                            'resultHex': result.hex(), 'saltHex': salt.hex(),
                            'commitment': commitment(channel, chaincode, subject, executor, result, salt)})

    reputations = [-1000, -1, 0, 1, 10, 100, 500, 1000, 9950, 10000, 1000000000]
    rates = [{'reputation': r, 'errorNumerator': error_rate(r).numerator, 'errorDenominator': error_rate(r).denominator,
              'credibilityPpm': ((1 - error_rate(r)) * 1000000).numerator // ((1 - error_rate(r)) * 1000000).denominator}
             for r in reputations]

    vote_cases = [
        ([('A', h('x'), 0), ('B', h('x'), 0)], h('x')),
        ([('A', h('x'), 0), ('B', h('y'), 0)], h('x')),
        ([('A', h('x'), 1000), ('B', h('x'), 0), ('C', h('y'), 0)], h('x')),
        ([('A', h('x'), 10000)], h('x')),
        ([('A', h('x'), 9950)], h('x')),
        ([('A', h('x'), 9949)], h('x')),
        ([('A', h('x'), -30), ('B', h('x'), 0), ('C', h('x'), 0)], h('x')),
        ([('A', h('x'), 0)] * 1 + [('B', h('x'), 0), ('C', h('x'), 0), ('D', h('x'), 0), ('E', h('x'), 0)], h('x')),
        ([('A', h('x'), 0), ('B', h('x'), 0), ('C', h('x'), 0), ('D', h('x'), 0)], h('x')),
        ([('A', h('x'), 0), ('B', h('y'), 0)], h('z')),
    ]
    trusts = ['0.5', '0.9', '0.99', '0.999', '0.999999']
    credibility_cases = []
    for votes, value in vote_cases:
        c = credibility(votes, value)
        credibility_cases.append({'votes': [{'shard': s, 'sha256': v, 'reputation': r} for s, v, r in votes], 'sha256': value,
                                  'numerator': str(c.numerator), 'denominator': str(c.denominator),
                                  'meets': {t: c >= Fraction(t) for t in trusts}})

    def rep(executor, shard, state, sha=None, reputation=0):
        r = {'executorId': executor, 'shard': shard, 'state': state, 'reputation': reputation}
        if sha is not None:
            r['sha256'] = sha
        return r

    quorum2 = {'policy': 'quorum', 'k': 2, 'maxReplicas': 4}
    quorum3 = {'policy': 'quorum', 'k': 3, 'maxReplicas': 3}
    cred = {'policy': 'credibility', 'trust': '0.999', 'maxReplicas': 5}
    settle_cases = [
        (quorum2, []),
        (quorum2, [rep('a', 'A', 'claimed')]),
        (quorum2, [rep('a', 'A', 'claimed'), rep('b', 'B', 'committed')]),
        (quorum2, [rep('a', 'A', 'revealed', h('x')), rep('b', 'B', 'revealed', h('x'))]),
        (quorum2, [rep('a', 'A', 'revealed', h('x')), rep('b', 'B', 'revealed', h('y'))]),
        (quorum2, [rep('a', 'A', 'revealed', h('x')), rep('b', 'B', 'revealed', h('y')), rep('c', 'C', 'revealed', h('y'))]),
        (quorum2, [rep('a', 'A', 'revealed', h('x')), rep('b', 'B', 'abandoned')]),
        (quorum2, [rep('a', 'A', 'revealed', h('x')), rep('b', 'B', 'revealed', h('y')), rep('c', 'C', 'revealed', h('z')), rep('d', 'D', 'committed')]),
        (quorum2, [rep('a', 'A', 'revealed', h('x')), rep('b', 'B', 'revealed', h('y')), rep('c', 'C', 'revealed', h('z')), rep('d', 'D', 'revealed', h('w'))]),
        (quorum2, [rep('a', 'A', 'rejected'), rep('b', 'B', 'abandoned'), rep('c', 'C', 'failed')]),
        (quorum2, [rep('a', 'A', 'rejected'), rep('b', 'B', 'abandoned'), rep('c', 'C', 'failed'), rep('d', 'D', 'revealed', h('x'))]),
        (quorum2, [rep('a', 'A', 'revealed', h('x')), rep('b', 'A', 'revealed', h('x'))]),
        (quorum2, [rep('a', 'A', 'revealed', h('x')), rep('b', 'B', 'revealed', h('x')), rep('c', 'C', 'committed')]),
        (quorum3, [rep('a', 'A', 'revealed', h('x')), rep('b', 'B', 'revealed', h('y'))]),
        (cred, []),
        (cred, [rep('a', 'A', 'committed')]),
        (cred, [rep('a', 'A', 'revealed', h('x'))]),
        (cred, [rep('a', 'A', 'revealed', h('x'), 10000)]),
        (cred, [rep('a', 'A', 'revealed', h('x'), 1000), rep('b', 'B', 'revealed', h('x'), 1000)]),
        (cred, [rep(c, c.upper(), 'revealed', h('x')) for c in 'abcd']),
        (cred, [rep(c, c.upper(), 'revealed', h('x')) for c in 'abcde']),
        (cred, [rep(c, c.upper(), 'revealed', h('x')) for c in 'abcd'] + [rep('e', 'E', 'revealed', h('y'))]),
        (cred, [rep('a', 'A', 'revealed', h('x'), 1000), rep('b', 'B', 'revealed', h('x')), rep('c', 'C', 'revealed', h('x'))]),
    ]
    settlements = [{'policy': p, 'replicas': r, 'settlement': settle(p, r)} for p, r in settle_cases]

    clean_results = [0, 1, 5, 10, 20, 50, 100, 200, 500, 995, 1000]
    table = []
    for results in clean_results:
        reputation = results * 10
        e = error_rate(reputation)
        table.append({'cleanResults': results, 'reputation': reputation,
                      'errorNumerator': e.numerator, 'errorDenominator': e.denominator,
                      'credibilityPpm': ((1 - e) * 1000000).numerator // ((1 - e) * 1000000).denominator,
                      'needed': {t: replicas_needed(reputation, Fraction(t)) for t in ['0.99', '0.999', '0.9999']}})

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({'commitments': commitments, 'errorRates': rates, 'credibility': credibility_cases,
                               'settlements': settlements, 'table': table}, indent=1, ensure_ascii=False) + '\n')
    print('wrote', OUT)
    for row in table:
        print(row['cleanResults'], row['reputation'], row['credibilityPpm'], row['needed'])


if __name__ == '__main__':
    main()
