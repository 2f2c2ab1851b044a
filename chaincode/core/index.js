// SPDX-License-Identifier: Apache-2.0
// @ledgerwork/core: the chaincode's pure core, compiled by the chaincode's own build into ../dist/core.
'use strict';

module.exports = require('../dist/core/index.js');
