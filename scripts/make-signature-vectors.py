# SPDX-License-Identifier: Apache-2.0
"""Helper of scripts/make-signature-vectors.sh: everything except the openssl calls.

Builds SPEC §5 payloads with nothing but the Python standard library (struct.pack('>I', len)),
so the golden vectors do not depend on ledgerwork's TypeScript encoder, and does the small
amount of DER arithmetic needed to classify a signature as high-S or low-S and to produce
its low-S twin (r, n - s).

Subcommands (WORK is the script's scratch directory, OUT the fixtures directory):
  plan WORK          write WORK/plan.json and one WORK/<case>.<kind>.bin payload per signature
  is-high SIG        exit 0 if the DER signature in file SIG has s > n/2, 1 if not
  lows WORK          write WORK/<case>.<kind>.low.sig (low-S form) next to every .sig
  write WORK OUT PUB  assemble OUT/<case>.json from the plan, the payloads, the signatures
                     and the public key PEM file PUB
  check OUT WORK     recompute every payload of the committed OUT/*.json from its inputs,
                     compare with the recorded hex, and write the recorded signatures as
                     WORK/<case>.<kind>.{bin,sig,low.sig} for openssl to verify again
"""

import base64
import hashlib
import json
import struct
import sys
from pathlib import Path

# Order of the P-256 base point (SEC 2, secp256r1).
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

DOMAIN = {
    'input': 'ledgerwork/v1/input',
    'result': 'ledgerwork/v1/result',
    'combined': 'ledgerwork/v1/combined',
}
KINDS = ('input', 'result', 'combined')


def field(value):
    data = value.encode('utf-8') if isinstance(value, str) else bytes(value)
    return struct.pack('>I', len(data)) + data


def encode(fields):
    return b''.join(field(f) for f in fields)


def sha256(data):
    return hashlib.sha256(data).digest()


def payloads(case):
    """The three SPEC §5 payloads of a case, from its recorded inputs only."""
    channel = case['binding']['channel']
    chaincode = case['binding']['chaincode']
    subject = case['subjectId']
    input_hash = bytes.fromhex(case['input']['sha256Hex'])
    result_hash = bytes.fromhex(case['result']['sha256Hex'])
    return {
        'input': encode([DOMAIN['input'], channel, chaincode, subject, input_hash]),
        'result': encode([DOMAIN['result'], channel, chaincode, subject, result_hash]),
        'combined': encode([DOMAIN['combined'], channel, chaincode, subject, input_hash, result_hash]),
    }


def data_part(data):
    return {'bytesHex': data.hex(), 'sha256Hex': sha256(data).hex()}


def task_case(name, description, channel, chaincode, subject, input_bytes, result_bytes):
    return {
        'name': name,
        'description': description,
        'binding': {'channel': channel, 'chaincode': chaincode},
        'subjectId': subject,
        'input': data_part(input_bytes),
        'result': data_part(result_bytes),
    }


def merge_case():
    job_id, y, x = 'job-0042', 1, 3
    left = sha256(b'partial result of the left child')
    right = sha256(b'partial result of the right child')
    case = task_case(
        'merge-slot',
        'Merge slot (1, 3) of job-0042: subject is the slot id "<jobId>/<y>/<x>", the "input" is '
        'left child result hash || right child result hash, so the input hash is SHA-256 of that.',
        'mychannel', 'ledgerwork', f'{job_id}/{y}/{x}', left + right, b'merged partial result 1/3',
    )
    case['merge'] = {'jobId': job_id, 'y': y, 'x': x, 'leftResultHashHex': left.hex(), 'rightResultHashHex': right.hex()}
    return case


def plan_cases():
    return [
        task_case('task-basic', 'A task in the default channel: every payload kind signed once by openssl.',
                  'mychannel', 'ledgerwork', 'task-0001', b'hello ledgerwork input\n', b'42\n'),
        task_case('task-empty-data', 'Empty input and empty result (their hashes are SHA-256 of nothing).',
                  'orders-channel.eu', 'ledgerwork_v2-test', 'T.9_z-', b'', b''),
        merge_case(),
        task_case('high-s', 'openssl was run until its combined signature had s > n/2; opensslDer is that '
                  'high-S signature (ledgerwork rejects it with HIGH_S), lowSDer its (r, n - s) twin.',
                  'mychannel', 'ledgerwork', 'task-high-s', b'input of the high-S vector', b'result of the high-S vector'),
        task_case('low-s', 'openssl was run until its combined signature had s <= n/2; opensslDer is '
                  'accepted as it is and lowSDer equals it.',
                  'mychannel', 'ledgerwork', 'task-low-s', b'input of the low-S vector', b'result of the low-S vector'),
    ]


def field_vectors():
    """Unsigned encodeFields vectors: empty list, empty string, multi-byte UTF-8, raw bytes."""
    lists = [
        [],
        [''],
        ['a', 'bc'],
        ['é', '€', '𝄞'],
        [{'hex': '00ff'}, {'hex': ''}, 'x'],
        [DOMAIN['input']],
    ]
    vectors = []
    for fields in lists:
        raw = [bytes.fromhex(f['hex']) if isinstance(f, dict) else f for f in fields]
        vectors.append({'fields': fields, 'encodedHex': encode(raw).hex()})
    return vectors


def der_integer(data, offset):
    assert data[offset] == 0x02, 'not an INTEGER'
    length = data[offset + 1]
    start = offset + 2
    return int.from_bytes(data[start:start + length], 'big'), start + length


def parse_der(der):
    """Parses a short-form DER ECDSA-Sig-Value as openssl emits it."""
    assert der[0] == 0x30 and der[1] == len(der) - 2, 'not a DER SEQUENCE'
    r, offset = der_integer(der, 2)
    s, offset = der_integer(der, offset)
    assert offset == len(der), 'trailing bytes'
    return r, s


def der_int_bytes(value):
    data = value.to_bytes((value.bit_length() + 7) // 8 or 1, 'big')
    return b'\x00' + data if data[0] & 0x80 else data


def encode_der(r, s):
    body = b''
    for value in (r, s):
        data = der_int_bytes(value)
        body += bytes([0x02, len(data)]) + data
    return bytes([0x30, len(body)]) + body


def low_s(der):
    r, s = parse_der(der)
    return encode_der(r, N - s) if s > N // 2 else der


def cmd_plan(work):
    cases = plan_cases()
    for case in cases:
        for kind, payload in payloads(case).items():
            (work / f"{case['name']}.{kind}.bin").write_bytes(payload)
    (work / 'plan.json').write_text(json.dumps(cases))


def cmd_is_high(sig):
    r, s = parse_der(Path(sig).read_bytes())
    sys.exit(0 if s > N // 2 else 1)


def cmd_lows(work):
    for sig in sorted(work.glob('*.sig')):
        if not sig.name.endswith('.low.sig'):
            sig.with_name(sig.name[:-len('.sig')] + '.low.sig').write_bytes(low_s(sig.read_bytes()))


def b64(data):
    return base64.b64encode(data).decode('ascii')


def signature_entry(work, name, kind):
    der = (work / f'{name}.{kind}.bin.sig').read_bytes()
    low = (work / f'{name}.{kind}.bin.low.sig').read_bytes()
    r, s = parse_der(der)
    return {
        'opensslDer': b64(der),
        'highS': s > N // 2,
        'rHex': format(r, '064x'),
        'sHex': format(s, '064x'),
        'lowSDer': b64(low),
    }


def cmd_write(work, out, pub, generator):
    public_pem = Path(pub).read_text()
    cases = json.loads((work / 'plan.json').read_text())
    high = []
    for case in cases:
        case['payloadsHex'] = {kind: (work / f"{case['name']}.{kind}.bin").read_bytes().hex() for kind in KINDS}
        case['publicKeyPem'] = public_pem
        case['signatures'] = {kind: signature_entry(work, case['name'], kind) for kind in KINDS}
        case['generator'] = generator
        high.extend(entry['highS'] for entry in case['signatures'].values())
        (out / f"{case['name']}.json").write_text(json.dumps(case, indent=2, ensure_ascii=False) + '\n')
    assert True in high and False in high, 'need at least one high-S and one low-S signature'
    fields = {'description': 'encodeFields: each field prefixed with its UTF-8/byte length as 4-byte big-endian; '
              '{"hex": ...} marks a raw byte field', 'generator': generator, 'vectors': field_vectors()}
    (out / 'fields.json').write_text(json.dumps(fields, indent=2, ensure_ascii=False) + '\n')


def cmd_check(out, work):
    keys = set()
    for path in sorted(out.glob('*.json')):
        case = json.loads(path.read_text())
        if path.name == 'fields.json':
            assert case['vectors'] == field_vectors(), f'{path.name}: encodeFields vectors differ'
            continue
        for part in ('input', 'result'):
            data = bytes.fromhex(case[part]['bytesHex'])
            assert case[part]['sha256Hex'] == sha256(data).hex(), f'{path.name}: {part} hash'
        if 'merge' in case:
            merge = case['merge']
            assert case['subjectId'] == f"{merge['jobId']}/{merge['y']}/{merge['x']}", f'{path.name}: slot id'
            children = bytes.fromhex(merge['leftResultHashHex']) + bytes.fromhex(merge['rightResultHashHex'])
            assert case['input']['bytesHex'] == children.hex(), f'{path.name}: merge input'
        for kind, payload in payloads(case).items():
            assert case['payloadsHex'][kind] == payload.hex(), f'{path.name}: {kind} payload differs'
            entry = case['signatures'][kind]
            der = base64.b64decode(entry['opensslDer'], validate=True)
            r, s = parse_der(der)
            assert entry['highS'] == (s > N // 2), f'{path.name}: {kind} highS flag'
            assert base64.b64decode(entry['lowSDer'], validate=True) == low_s(der), f'{path.name}: {kind} low-S form'
            (work / f"{case['name']}.{kind}.bin").write_bytes(payload)
            (work / f"{case['name']}.{kind}.bin.sig").write_bytes(der)
            (work / f"{case['name']}.{kind}.bin.low.sig").write_bytes(low_s(der))
        keys.add(case['publicKeyPem'])
    assert len(keys) == 1, 'every vector must carry the same public key'
    (work / 'public.pem').write_text(keys.pop())


def main(argv):
    command, args = argv[1], argv[2:]
    if command == 'plan':
        cmd_plan(Path(args[0]))
    elif command == 'is-high':
        cmd_is_high(args[0])
    elif command == 'lows':
        cmd_lows(Path(args[0]))
    elif command == 'write':
        cmd_write(Path(args[0]), Path(args[1]), args[2], args[3])
    elif command == 'check':
        cmd_check(Path(args[0]), Path(args[1]))
    else:
        sys.exit(f'unknown command {command}')


if __name__ == '__main__':
    main(sys.argv)
