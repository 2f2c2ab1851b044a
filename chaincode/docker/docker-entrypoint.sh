#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Starts the chaincode server the peer's ccaas builder connects to.
set -euo pipefail
: "${CHAINCODE_SERVER_ADDRESS:?set CHAINCODE_SERVER_ADDRESS, e.g. 0.0.0.0:9999}"
: "${CHAINCODE_ID:?set CHAINCODE_ID to the installed package id}"
exec npx --no-install fabric-chaincode-node server --chaincode-address="${CHAINCODE_SERVER_ADDRESS}" --chaincode-id="${CHAINCODE_ID}"
