// A require hook for the app's TypeScript in child processes that are started many times (crash and
// chaos tests): like `ts-node/register/transpile-only` (per-file transpilation, no type check), but
// each file's output is cached on disk, keyed by its content and the compiler options. The first start
// pays for transpiling the app (~5 s here); every later start only loads JavaScript (~1.5 s).
// Usage: node -r ./test/helpers/ts-cached-register.js <entry.ts>
'use strict';
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');
const CACHE = process.env.TS_CACHE_DIR || join(tmpdir(), 'drs-ts-cache');
let ts;
let compilerOptions;
let optionsKey;

function loadCompiler() {
  ts = require('typescript');
  const configPath = join(ROOT, 'tsconfig.json');
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
  compilerOptions = ts.parseJsonConfigFileContent(config, ts.sys, ROOT).options;
  Object.assign(compilerOptions, { sourceMap: false, inlineSourceMap: false, declaration: false, incremental: false, noEmit: false });
  delete compilerOptions.tsBuildInfoFile;
  delete compilerOptions.outDir;
}

function configKey() {
  // The tsconfig and the compiler version decide the output as much as the file does.
  optionsKey ??= createHash('sha1')
    .update(readFileSync(join(ROOT, 'tsconfig.json')))
    .update(require('typescript/package.json').version)
    .digest('hex');
  return optionsKey;
}

function transpile(source, filename) {
  const key = createHash('sha1').update(configKey()).update(filename).update('\0').update(source).digest('hex');
  const cached = join(CACHE, `${key}.js`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    // Not cached yet.
  }
  if (!ts) loadCompiler();
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename, reportDiagnostics: false });
  mkdirSync(CACHE, { recursive: true });
  // Write then rename: two children starting at once never read half a file.
  const partial = `${cached}.${process.pid}.tmp`;
  writeFileSync(partial, outputText);
  renameSync(partial, cached);
  return outputText;
}

require.extensions['.ts'] = function compileTs(module, filename) {
  module._compile(transpile(readFileSync(filename, 'utf8'), filename), filename);
};
