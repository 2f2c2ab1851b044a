// SPDX-License-Identifier: Apache-2.0
/**
 * The chaincode runtime's loggers at the devnet's default level (silent): the loggers themselves are silent, so that
 * winston does not format every transaction's log entries only for a muted transport to drop them; another level
 * makes them log again.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from '@jest/globals';
import { ShimRuntime } from '../src/shimRuntime';

const FOLDER = path.resolve(__dirname, 'fixtures/asset-transfer-basic');

interface Logger {
    silent?: boolean;
    level: string;
}
interface LoggerModule {
    getLogger(name?: string): Logger;
}

describe('the chaincode runtime\'s loggers', () => {
    it('are silent at level silent, and log again at another level', () => {
        const runtime = ShimRuntime.of(FOLDER);
        const shimRequire = createRequire(createRequire(path.join(FOLDER, 'package.json')).resolve('fabric-shim'));
        const shimLoggers = shimRequire('./lib/logger.js') as LoggerModule;
        const contractLoggers = createRequire(shimRequire.resolve('fabric-contract-api'))('./lib/logger.js') as LoggerModule;
        // Loggers created at load time (the shim's message handler) and later (a contract's own).
        const handlerLogger = shimLoggers.getLogger('lib/handler.js');
        const later = contractLoggers.getLogger('a contract of the test');
        runtime.setLogLevel('silent');
        expect(handlerLogger.silent).toBe(true);
        expect(later.silent).toBe(true);
        expect(shimLoggers.getLogger('created while silent').silent).toBe(true);
        runtime.setLogLevel('info');
        expect(handlerLogger.silent).toBe(false);
        expect(later.silent).toBe(false);
        expect(later.level).toBe('info');
        runtime.setLogLevel('silent');
    });
});
