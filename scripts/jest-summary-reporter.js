// SPDX-License-Identifier: Apache-2.0
'use strict';

/** Prints one plain closing line, `jest: N passed, N failed[, N skipped]`, that any CI log reader understands. */
class SummaryReporter {
    onRunComplete(_contexts, results) {
        const skipped = results.numPendingTests + results.numTodoTests;
        const failedSuites = results.numFailedTestSuites + results.numRuntimeErrorTestSuites;
        const failed = results.numFailedTests + (failedSuites > 0 && results.numFailedTests === 0 ? failedSuites : 0);
        process.stdout.write(`jest: ${results.numPassedTests} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
    }
}

module.exports = SummaryReporter;
