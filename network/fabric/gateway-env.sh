#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Prints the fabric-gateway settings of one organization of a fabric-samples network as shell
# exports:  eval "$(network/fabric/gateway-env.sh test-network 1 [User1|Admin])"
#           eval "$(network/fabric/gateway-env.sh nano-bash 2)"
set -euo pipefail

network="${1:-}"
org="${2:-}"
user="${3:-User1}"
case "${network}:${org}" in
    test-network:[123] | nano-bash:[12]) ;;
    *) echo "usage: $0 test-network 1|2|3 | nano-bash 1|2  [User1|Admin]" >&2; exit 2 ;;
esac
: "${FABRIC_SAMPLES:?set FABRIC_SAMPLES to your fabric-samples checkout}"
case "${network}:${org}" in
    test-network:1) base="${FABRIC_SAMPLES}/test-network/organizations"; endpoint=localhost:7051 ;;
    test-network:2) base="${FABRIC_SAMPLES}/test-network/organizations"; endpoint=localhost:9051 ;;
    test-network:3) base="${FABRIC_SAMPLES}/test-network/organizations"; endpoint=localhost:11051 ;;
    nano-bash:1) base="${FABRIC_SAMPLES}/test-network-nano-bash/crypto-config"; endpoint=127.0.0.1:7051 ;;
    *) base="${FABRIC_SAMPLES}/test-network-nano-bash/crypto-config"; endpoint=127.0.0.1:7055 ;;
esac
domain="org${org}.example.com"
msp="${base}/peerOrganizations/${domain}/users/${user}@${domain}/msp"
[ -d "${msp}" ] || { echo "no identity at ${msp}: is the network up?" >&2; exit 1; }
cat <<SETTINGS
export PEER_ENDPOINT=${endpoint}
export PEER_HOST_ALIAS=peer0.${domain}
export TLS_CERT_PATH=${base}/peerOrganizations/${domain}/peers/peer0.${domain}/tls/ca.crt
export MSP_ID=Org${org}MSP
export CERT_DIRECTORY_PATH=${msp}/signcerts
export KEY_DIRECTORY_PATH=${msp}/keystore
export CHANNEL_NAME=${CHANNEL_NAME:-mychannel}
export CHAINCODE_NAME=${CHAINCODE_NAME:-ledgerwork}
SETTINGS
