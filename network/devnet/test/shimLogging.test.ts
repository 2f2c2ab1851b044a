// SPDX-License-Identifier: Apache-2.0
/**
 * The chaincode runtime's loggers at the devnet's default level (silent): the loggers themselves are silent, so that
 * winston does not format every transaction's log entries only for a muted transport to drop them; another level
 * makes them log again.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { runInThisContext } from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import { MUTE_LOGGER } from '../src/chaincodeWorker';
import { ShimRuntime } from '../src/shimRuntime';

const FOLDER = path.resolve(__dirname, 'fixtures/asset-transfer-basic');

interface Logger {
    silent?: boolean;
    level: string;
}
interface LoggerModule {
    getLogger(name?: string): Logger;
}

interface WinstonLogger extends Logger {
    readonly levels: Record<string, number>;
    write(entry: unknown): boolean;
    log(level: string, message: string): WinstonLogger;
    info(message: string): WinstonLogger;
    debug(message: string, detail: unknown): WinstonLogger;
    error(message: string): WinstonLogger;
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

describe('a chaincode worker\'s muted loggers', () => {
    const mute = runInThisContext(`(${MUTE_LOGGER})`) as (logger: WinstonLogger) => WinstonLogger;
    const shimRequire = createRequire(createRequire(path.join(FOLDER, 'package.json')).resolve('fabric-shim'));
    const loggers = shimRequire('./lib/logger.js') as { getLogger(name: string): WinstonLogger };

    /** How many entries reach `logger`'s stream while `log` runs. */
    function entriesWritten(logger: WinstonLogger, log: () => void): number {
        const write = logger.write.bind(logger);
        let written = 0;
        logger.write = (entry: unknown): boolean => {
            written++;
            return write(entry);
        };
        log();
        return written;
    }

    it('write no entry, at any level, where a silent logger still streams each one', () => {
        const silent = loggers.getLogger('silent, not muted');
        silent.silent = true;
        expect(entriesWritten(silent, () => { silent.info('an entry'); silent.error('another'); })).toBe(2);

        const muted = mute(loggers.getLogger('muted'));
        expect(muted.silent).toBe(true);
        expect(entriesWritten(muted, () => {
            expect(muted.info('an entry')).toBe(muted);
            expect(muted.debug('an entry with', { detail: 1 })).toBe(muted);
            expect(muted.error('an error')).toBe(muted);
            expect(muted.log('warn', 'a warning')).toBe(muted);
            const { warn } = muted as unknown as { warn: (message: string) => unknown };
            expect(warn('called unbound, as winston allows')).toBe(muted);
        })).toBe(0);
        const methods = muted as unknown as Record<string, unknown>;
        for (const level of Object.keys(muted.levels)) {
            expect(methods[level]).toBe(methods.log);
        }
    });
});
