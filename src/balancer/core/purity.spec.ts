// The planner core stays pure and closed: no file under src/balancer/core/ imports a framework, the
// database layer, worker threads or anything outside core/, and no file elsewhere in the project
// reaches past core/index.ts into the core's internals.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

const CORE = __dirname;
const ROOT = resolve(CORE, '../../..');
/** Package imports the core may not use (the framework, the database layer, threads). */
const FORBIDDEN = [/^@nestjs\//, /^typeorm(\/|$)/, /^(node:)?worker_threads$/];
/** Project folders the tsconfig's baseUrl would let an import name without a relative path. */
const PROJECT_PATH = /^(src|test|bench|tools|migrations)\//;
/** The core's test builders (snapshots, random clusters, a bare planning attempt): test code that works with core internals. */
const BUILDERS = resolve(ROOT, 'test', 'builders');

/** Module specifiers of a TypeScript source: import/export … from, import(), require(), jest.mock(). */
function specifiersOf(source: string): string[] {
  const pattern =
    /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bjest\.(?:mock|requireActual)\s*\(\s*|^\s*import\s+)(['"])([^'"\n]+)\1/gm;
  return [...source.matchAll(pattern)].map((m) => m[2]);
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : tsFilesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Where a specifier written in `file` points, or null for a package. */
function target(file: string, specifier: string): string | null {
  if (specifier.startsWith('.')) return resolve(dirname(file), specifier);
  if (PROJECT_PATH.test(specifier)) return resolve(ROOT, specifier);
  return null;
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return !rel.startsWith('..') && !isAbsolute(rel);
}

const insideCore = (path: string) => inside(CORE, path);

/** Why an import written in a core file is not allowed, or null. */
function coreViolation(file: string, specifier: string): string | null {
  if (FORBIDDEN.some((p) => p.test(specifier))) return 'a framework, database or thread import';
  const to = target(file, specifier);
  if (to === null || insideCore(to)) return null;
  // The core's own specs build their inputs with the builders; the code they test stays closed.
  if (file.endsWith('.spec.ts') && inside(BUILDERS, to)) return null;
  return 'a path leaving core/';
}

/** Why an import written outside the core is not allowed, or null: only core/ itself (its index) may be named. */
function outsideViolation(file: string, specifier: string): string | null {
  const to = target(file, specifier);
  if (to === null || !insideCore(to) || inside(BUILDERS, file)) return null;
  const rel = relative(CORE, to);
  return rel === '' || rel === 'index' ? null : 'an internal file of the core (import it through core/index.ts)';
}

function violations(files: string[], check: (file: string, specifier: string) => string | null): string[] {
  const found: string[] = [];
  for (const file of files) {
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      const why = check(file, specifier);
      if (why) found.push(`${relative(ROOT, file)} imports '${specifier}': ${why}`);
    }
  }
  return found;
}

describe('planner core purity', () => {
  it('finds the imports of a source, in every form the project writes them', () => {
    // Built from pieces so that this spec's own text holds no such import.
    const nest = '@nest' + 'js/common';
    const up = '..';
    const source = [
      `import { Injectable } from '${nest}';`,
      `export { x } from "${up}/outside";`,
      `import type { Y } from './model';`,
      `const w = require('node:worker_${'threads'}');`,
      `jest.mock('${up}/${up}/db/x', () => ({}));`,
      `import '${'type' + 'orm'}';`,
    ].join('\n');
    expect(specifiersOf(source)).toEqual([nest, '../outside', './model', 'node:worker_threads', '../../db/x', 'typeorm']);
  });

  it('refuses framework, database and thread imports and paths leaving core/, and allows the rest', () => {
    const file = join(CORE, 'compaction', 'some-file.ts');
    expect(coreViolation(file, '@nestjs/' + 'common')).not.toBeNull();
    expect(coreViolation(file, 'type' + 'orm')).not.toBeNull();
    expect(coreViolation(file, 'worker_' + 'threads')).not.toBeNull();
    expect(coreViolation(file, '../../balancer.service')).not.toBeNull();
    expect(coreViolation(file, 'src/common/clock')).not.toBeNull();
    expect(coreViolation(file, '../planning-state')).toBeNull();
    expect(coreViolation(file, './unit-placement')).toBeNull();
    expect(coreViolation(file, 'fast-check')).toBeNull();
    expect(coreViolation(file, '../../../../test/builders/builders')).not.toBeNull();
    expect(coreViolation(join(CORE, 'compaction', 'some-file.spec.ts'), '../../../../test/builders/builders')).toBeNull();
    expect(coreViolation(join(CORE, 'compaction', 'some-file.spec.ts'), '../../../../test/helpers/test-app')).not.toBeNull();
  });

  it('refuses an outside import of a core-internal file, and allows the core index', () => {
    const file = join(ROOT, 'src', 'scheduler', 'some-file.ts');
    expect(outsideViolation(file, '../balancer/core/planning-state')).not.toBeNull();
    expect(outsideViolation(file, '../balancer/core')).toBeNull();
    expect(outsideViolation(file, '../balancer/core/index')).toBeNull();
    expect(outsideViolation(file, '../balancer/balancer.service')).toBeNull();
  });

  it('no file under src/balancer/core/ imports @nestjs/*, typeorm, worker_threads or a path outside core/', () => {
    const files = tsFilesUnder(CORE);
    expect(files.length).toBeGreaterThan(20);
    expect(violations(files, coreViolation)).toEqual([]);
  });

  it('no file outside the core (src/, test/, bench/) imports a core file other than core/index.ts', () => {
    const files = ['src', 'test', 'bench'].flatMap((dir) => tsFilesUnder(join(ROOT, dir))).filter((f) => !insideCore(f));
    expect(files.length).toBeGreaterThan(50);
    expect(violations(files, outsideViolation)).toEqual([]);
  });
});
