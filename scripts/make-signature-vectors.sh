#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Golden vectors for chaincode/src/core/signature.ts (SPEC §5), made without any ledgerwork code:
# payload bytes are built by python3 (struct.pack('>I', len), see make-signature-vectors.py) and
# signed by the openssl CLI (`openssl dgst -sha256 -sign`, DER output) with a P-256 key from
# `openssl ecparam -name prime256v1 -genkey`. Output: test/fixtures/vectors/signature/*.json
# (one file per case, plus fields.json for the bare field encoding), tested by
# test/core/signature.vectors.test.ts.
#
# Usage:
#   scripts/make-signature-vectors.sh            regenerate the vectors with the committed key
#   scripts/make-signature-vectors.sh --new-key  regenerate with a fresh key (replaces test-key.pem)
#   scripts/make-signature-vectors.sh --check    write nothing: rebuild every payload from the recorded
#                                                inputs, compare with the recorded hex, and verify every
#                                                recorded signature (and its low-S form) with openssl
#
# The key: test-key.pem next to the vectors is a throwaway test key (PKCS#8, no passphrase; it signs
# nothing but these vectors). It is committed so that regenerating keeps the public key, and with it
# every field except the signatures, stable. OpenSSL 3.0 signs with a random nonce (deterministic
# RFC 6979 nonces need OpenSSL 3.2+), so every run produces new signatures; the script re-signs the
# `high-s` case until openssl emits s > n/2 and the `low-s` case until it emits s <= n/2, so both
# kinds are always present. Every signature and its low-S twin are verified with openssl before
# anything is written.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$root/test/fixtures/vectors/signature"
key="$out/test-key.pem"
helper=(python3 "$here/make-signature-vectors.py")
mode="${1:-generate}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

verify() { # verify PUBLIC_PEM SIGNATURE PAYLOAD
    openssl dgst -sha256 -verify "$1" -signature "$2" "$3" >/dev/null \
        || { echo "openssl does not verify $2" >&2; exit 1; }
}

verify_all() { # verify_all PUBLIC_PEM: every WORK/*.bin against its .sig and .low.sig
    local payload
    for payload in "$work"/*.bin; do
        verify "$1" "$payload.sig" "$payload"
        verify "$1" "$payload.low.sig" "$payload"
    done
}

sign_until() { # sign_until PAYLOAD high|low: re-sign (random nonce) until S has the wanted form
    local attempt
    for attempt in $(seq 1 64); do
        openssl dgst -sha256 -sign "$key" -out "$1.sig" "$1"
        if "${helper[@]}" is-high "$1.sig"; then [[ $2 == high ]] && return 0; else [[ $2 == low ]] && return 0; fi
    done
    echo "no $2-S signature after $attempt attempts" >&2
    exit 1
}

case "$mode" in
    --check)
        "${helper[@]}" check "$out" "$work"
        openssl pkey -in "$key" -pubout -out "$work/from-key.pem"
        cmp -s "$work/from-key.pem" "$work/public.pem" || { echo 'vectors do not carry the public key of test-key.pem' >&2; exit 1; }
        verify_all "$work/public.pem"
        echo "signature vectors check out ($(ls "$work"/*.bin | wc -l) signed payloads)"
        exit 0
        ;;
    --new-key)
        mkdir -p "$out"
        openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "$key"
        ;;
    generate)
        [[ -f $key ]] || { echo "$key is missing; run with --new-key" >&2; exit 1; }
        ;;
    *)
        echo "usage: $0 [--new-key | --check]" >&2
        exit 2
        ;;
esac

openssl pkey -in "$key" -pubout -out "$work/public.pem"
"${helper[@]}" plan "$work"
for payload in "$work"/*.bin; do
    case "$(basename "$payload")" in
        high-s.combined.bin) sign_until "$payload" high ;;
        low-s.combined.bin) sign_until "$payload" low ;;
        *) openssl dgst -sha256 -sign "$key" -out "$payload.sig" "$payload" ;;
    esac
done
"${helper[@]}" lows "$work"
verify_all "$work/public.pem"
"${helper[@]}" write "$work" "$out" "$work/public.pem" "scripts/make-signature-vectors.sh: python3 $(python3 -c 'import platform; print(platform.python_version())'), $(openssl version | cut -d' ' -f1-2)"
echo "wrote $(ls "$out"/*.json | wc -l) vector files to ${out#"$root"/}"
