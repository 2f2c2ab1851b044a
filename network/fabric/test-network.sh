#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# ledgerwork on fabric-samples' test-network (Docker), with the chaincode as a service.
#   FABRIC_SAMPLES=~/fabric-samples network/fabric/test-network.sh up       # 2 orgs + channel
#   FABRIC_SAMPLES=~/fabric-samples network/fabric/test-network.sh deploy   # build image, install, approve, commit
#   FABRIC_SAMPLES=~/fabric-samples network/fabric/test-network.sh down
# Then: eval "$(network/fabric/gateway-env.sh test-network 1)" and use any fabric-gateway client.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
chaincode_dir="$(cd "${here}/../../chaincode" && pwd)"
: "${FABRIC_SAMPLES:?set FABRIC_SAMPLES to your fabric-samples checkout (with its bin/ and config/)}"
channel="${CHANNEL_NAME:-mychannel}"
name="${CHAINCODE_NAME:-ledgerwork}"
version="${CHAINCODE_VERSION:-1.0}"
sequence="${CHAINCODE_SEQUENCE:-1}"

cd "${FABRIC_SAMPLES}/test-network"
case "${1:-}" in
    up)
        ./network.sh up createChannel -c "${channel}" -ca
        ;;
    deploy)
        # deployCCAAS builds chaincode/Dockerfile and starts one container per peer; the default
        # endorsement policy is a majority of the channel's organizations.
        ./network.sh deployCCAAS -c "${channel}" -ccn "${name}" -ccp "${chaincode_dir}" -ccv "${version}" -ccs "${sequence}"
        ;;
    down)
        ./network.sh down
        ;;
    *)
        echo "usage: FABRIC_SAMPLES=… $0 up|deploy|down" >&2
        exit 2
        ;;
esac
