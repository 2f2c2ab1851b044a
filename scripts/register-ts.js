// SPDX-License-Identifier: Apache-2.0
'use strict';

/**
 * A CommonJS require hook that runs the repository's TypeScript as is: `node -r ./scripts/register-ts.js file.ts`.
 *
 * Each .ts file is transpiled on load with typescript.transpileModule and the root tsconfig's compiler options
 * (experimentalDecorators and emitDecoratorMetadata, which fabric-contract-api's decorators need and which
 * esbuild-based runners such as tsx do not emit), as CommonJS. No type checking: `npm run typecheck` does that.
 */
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');

function compilerOptions() {
    const configPath = path.join(root, 'tsconfig.json');
    const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
    if (error !== undefined) {
        throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
    }
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, configPath);
    return {
        ...parsed.options,
        module: ts.ModuleKind.CommonJS,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        noEmit: false,
        declaration: false,
        sourceMap: false,
        inlineSourceMap: true,
        inlineSources: true,
    };
}

const options = compilerOptions();

require.extensions['.ts'] = function loadTypeScript(module, filename) {
    const source = fs.readFileSync(filename, 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: options, fileName: filename });
    module._compile(outputText, filename);
};

// Stack traces point into the .ts sources through the inline source maps.
process.setSourceMapsEnabled(true);
