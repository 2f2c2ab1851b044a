#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# ledgerwork on fabric-samples' test-network-nano-bash: peers and orderers as plain processes, the
# chaincode run by the nano network's `node` external builder (no Docker). Start the network first
# (in test-network-nano-bash: ./configureExternalBuilders.sh, then ./network.sh start), then:
#   FABRIC_SAMPLES=~/fabric-samples network/fabric/nano-bash.sh deploy
# The builder npm-installs the package (production dependencies, from its lockfile) and runs its
# `start` script, so the compiled dist/ must be inside the package: this script builds it first.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
chaincode_dir="$(cd "${here}/../../chaincode" && pwd)"
: "${FABRIC_SAMPLES:?set FABRIC_SAMPLES to your fabric-samples checkout (with its bin/ and config/)}"
channel="${CHANNEL_NAME:-mychannel}"
name="${CHAINCODE_NAME:-ledgerwork}"
version="${CHAINCODE_VERSION:-1}"
sequence="${CHAINCODE_SEQUENCE:-1}"
nano="${FABRIC_SAMPLES}/test-network-nano-bash"
orderer_ca="${nano}/crypto-config/ordererOrganizations/example.com/orderers/orderer.example.com/tls/ca.crt"

[ "${1:-}" = deploy ] || { echo "usage: FABRIC_SAMPLES=… $0 deploy" >&2; exit 2; }

(cd "${chaincode_dir}" && npm ci --no-audit --no-fund && npm run build)

package="$(mktemp -d)/${name}.tar.gz"
cd "${nano}"
# shellcheck source=/dev/null
. ./peer1admin.sh
peer lifecycle chaincode package "${package}" --path "${chaincode_dir}" --lang node --label "${name}_${version}"
package_id="$(peer lifecycle chaincode calculatepackageid "${package}")"

# One peer admin per organization installs and approves (peer1: Org1, peer3: Org2).
for admin in peer1admin.sh peer3admin.sh; do
    # shellcheck source=/dev/null
    . "./${admin}"
    peer lifecycle chaincode install "${package}"
    peer lifecycle chaincode approveformyorg -o 127.0.0.1:6050 --tls --cafile "${orderer_ca}" \
        --channelID "${channel}" --name "${name}" --version "${version}" --package-id "${package_id}" --sequence "${sequence}"
done
peer lifecycle chaincode commit -o 127.0.0.1:6050 --tls --cafile "${orderer_ca}" \
    --channelID "${channel}" --name "${name}" --version "${version}" --sequence "${sequence}"
echo "deployed ${name} (${package_id}) on ${channel}"
