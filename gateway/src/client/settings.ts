// SPDX-License-Identifier: Apache-2.0
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors';

/**
 * Where a gateway connects and as whom. Read from the environment variables fabric-samples
 * applications use, or from a JSON file with the same names in camelCase; explicit values win.
 */
export interface ConnectionSettings {
    /** host:port of the peer's gateway service (PEER_ENDPOINT). */
    readonly peerEndpoint: string;
    /** TLS server name to expect, when it differs from the endpoint's host (PEER_HOST_ALIAS). */
    readonly peerHostAlias?: string;
    /** PEM of the CA that signed the peer's TLS certificate (TLS_CERT_PATH). */
    readonly tlsCertPath: string;
    readonly mspId: string;
    /** The identity's certificate (CERT_PATH, or the only file in CERT_DIRECTORY_PATH). */
    readonly certPath: string;
    /** Its private key (KEY_PATH, or the only file in KEY_DIRECTORY_PATH). */
    readonly keyPath: string;
    readonly channelName: string;
    readonly chaincodeName: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const fileKeys: Record<string, keyof ConnectionSettings | 'certDirectoryPath' | 'keyDirectoryPath'> = {
    PEER_ENDPOINT: 'peerEndpoint',
    PEER_HOST_ALIAS: 'peerHostAlias',
    TLS_CERT_PATH: 'tlsCertPath',
    MSP_ID: 'mspId',
    CERT_PATH: 'certPath',
    CERT_DIRECTORY_PATH: 'certDirectoryPath',
    KEY_PATH: 'keyPath',
    KEY_DIRECTORY_PATH: 'keyDirectoryPath',
    CHANNEL_NAME: 'channelName',
    CHAINCODE_NAME: 'chaincodeName',
};

/**
 * Resolves connection settings: `explicit` (e.g. command-line flags) over `env` over the JSON
 * `configFile`; CHANNEL_NAME defaults to `mychannel` and CHAINCODE_NAME to `ledgerwork`.
 * @throws {ConfigError} naming every missing setting
 */
export function resolveSettings(options: { env?: Env; configFile?: string; explicit?: Readonly<Record<string, string | undefined>> } = {}): ConnectionSettings {
    const fromFile = options.configFile === undefined ? {} : readConfigFile(options.configFile);
    const env = options.env ?? {};
    const value = (name: string): string | undefined => {
        const camel = fileKeys[name] ?? name;
        return nonEmpty(options.explicit?.[camel]) ?? nonEmpty(env[name]) ?? nonEmpty(fromFile[camel]);
    };
    const missing: string[] = [];
    const required = (name: string): string => {
        const found = value(name);
        if (found === undefined) {
            missing.push(name);
            return '';
        }
        return found;
    };
    const certPath = value('CERT_PATH') ?? onlyFileIn(value('CERT_DIRECTORY_PATH'), 'CERT_DIRECTORY_PATH', missing, 'CERT_PATH or CERT_DIRECTORY_PATH');
    const keyPath = value('KEY_PATH') ?? onlyFileIn(value('KEY_DIRECTORY_PATH'), 'KEY_DIRECTORY_PATH', missing, 'KEY_PATH or KEY_DIRECTORY_PATH');
    const hostAlias = value('PEER_HOST_ALIAS');
    const settings: ConnectionSettings = {
        peerEndpoint: required('PEER_ENDPOINT'),
        ...(hostAlias === undefined ? {} : { peerHostAlias: hostAlias }),
        tlsCertPath: required('TLS_CERT_PATH'),
        mspId: required('MSP_ID'),
        certPath,
        keyPath,
        channelName: value('CHANNEL_NAME') ?? 'mychannel',
        chaincodeName: value('CHAINCODE_NAME') ?? 'ledgerwork',
    };
    if (missing.length > 0) {
        throw new ConfigError(`missing connection settings: ${missing.join(', ')} (environment variables, a --config file, or flags)`);
    }
    return settings;
}

function nonEmpty(text: string | undefined): string | undefined {
    return text === undefined || text === '' ? undefined : text;
}

function readConfigFile(file: string): Record<string, string> {
    let text: string;
    try {
        text = readFileSync(file, 'utf8');
    } catch (err) {
        throw new ConfigError(`cannot read the config file ${file}: ${(err as { message?: string }).message ?? String(err)}`, { cause: err });
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (err) {
        throw new ConfigError(`the config file ${file} is not JSON: ${jsonErrorAt(text, err)}`, { cause: err });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new ConfigError(`the config file ${file} must hold a JSON object`);
    }
    const base = path.dirname(path.resolve(file));
    const settings: Record<string, string> = {};
    const known = new Set<string>(Object.values(fileKeys));
    for (const [name, entry] of Object.entries(parsed)) {
        if (!known.has(name)) {
            throw new ConfigError(`unknown setting ${JSON.stringify(name)} in ${file}; the settings are ${[...known].join(', ')}`);
        }
        if (typeof entry !== 'string') {
            throw new ConfigError(`${name} in ${file} must be a string`);
        }
        // Paths in a config file are relative to the file.
        settings[name] = /Path$/.test(name) && !path.isAbsolute(entry) ? path.join(base, entry) : entry;
    }
    return settings;
}

/** JSON.parse's complaint with the line and column it points at (Node 20 gives only the offset). */
function jsonErrorAt(text: string, err: unknown): string {
    const message = (err as { message?: string }).message ?? String(err);
    const offset = /position (\d+)/.exec(message)?.[1];
    if (offset === undefined) {
        return message;
    }
    const before = text.slice(0, Number(offset)).split('\n');
    return `${message.replace(/ in JSON at position \d+.*$/, '')} at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

function onlyFileIn(directory: string | undefined, name: string, missing: string[], expectation: string): string {
    if (directory === undefined) {
        missing.push(expectation);
        return '';
    }
    let files: string[];
    try {
        files = readdirSync(directory).filter((f) => !f.startsWith('.'));
    } catch (err) {
        throw new ConfigError(`${name} ${directory} cannot be read`, { cause: err });
    }
    if (files.length !== 1 || files[0] === undefined) {
        throw new ConfigError(`${name} ${directory} must hold exactly one file, not ${files.length}`);
    }
    return path.join(directory, files[0]);
}
