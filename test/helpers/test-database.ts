// The specs' databases. By default each is a SQLite file at a path the spec chooses. With
// TEST_DATABASE_URL (a postgres:// URL to a maintenance database, e.g. …/postgres), each such path
// stands for a PostgreSQL database of its own instead: drs_t_<run>_<hash of the path>, created on first
// use and dropped with the path's temporary directory (removeTempDir) or at the end of the run
// (test/helpers/drop-test-databases.js). The same path always names the same database, so that a spec
// that restarts the app on its file finds its data again.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Client, defaults } from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
/** The specs run on PostgreSQL. */
export const onPostgres = TEST_DATABASE_URL !== undefined;

// As the app's data source does (parseInt8): counts and epoch milliseconds are numbers, as SQLite gives them.
defaults.parseInt8 = true;

/** Set once per jest run (drop-test-databases.js); a process started otherwise gets its own. */
const RUN = (process.env.DRS_TEST_RUN ||= randomBytes(4).toString('hex'));
const PREFIX = `drs_t_${RUN}_`;
const created = new Map<string, string>();

export function databaseNameFor(path: string): string {
  return PREFIX + createHash('sha256').update(resolve(path)).digest('hex').slice(0, 20);
}

export function databaseUrlFor(path: string): string {
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${databaseNameFor(path)}`;
  return url.toString();
}

async function maintenance<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Migrated once per run by the global setup (drop-test-databases.js); unset when a spec runs without it. */
const TEMPLATE = process.env.DRS_TEST_TEMPLATE;

/**
 * Creates the database standing for `path` unless it exists; its URL. It is a copy of the run's
 * migrated template, or `empty` (for a spec of the migrations themselves).
 */
export async function ensureDatabase(path: string, options: { empty?: boolean } = {}): Promise<string> {
  const name = databaseNameFor(path);
  if (!created.has(name)) {
    const from = TEMPLATE && !options.empty ? ` TEMPLATE "${TEMPLATE}"` : '';
    await maintenance(async (client) => {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (!rowCount) await client.query(`CREATE DATABASE "${name}"${from}`);
    });
    created.set(name, resolve(path));
  }
  return databaseUrlFor(path);
}

/** ensureDatabase for code that cannot wait (a spec's synchronous CLI run): the same, in a child process. */
export function ensureDatabaseSync(path: string): string {
  const name = databaseNameFor(path);
  if (!created.has(name)) {
    const from = TEMPLATE ? ` TEMPLATE "${TEMPLATE}"` : '';
    const script = `const { Client } = require('pg'); (async () => { const c = new Client({ connectionString: process.env.TEST_DATABASE_URL });
      await c.connect(); const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [process.argv[1]]);
      if (!r.rowCount) await c.query('CREATE DATABASE "' + process.argv[1] + '"${from}'); await c.end(); })().catch((e) => { console.error(e.message); process.exit(1); });`;
    const result = spawnSync(process.execPath, ['-e', script, name], { cwd: __dirname, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`could not create ${name}: ${result.stderr}`);
    created.set(name, resolve(path));
  }
  return databaseUrlFor(path);
}

/** DATABASE_URL for an app or CLI on `path` when the specs run on PostgreSQL; nothing otherwise. */
export async function databaseEnv(path: string): Promise<{ DATABASE_URL?: string }> {
  return onPostgres ? { DATABASE_URL: await ensureDatabase(path) } : {};
}

export function databaseEnvSync(path: string): { DATABASE_URL?: string } {
  return onPostgres ? { DATABASE_URL: ensureDatabaseSync(path) } : {};
}

/**
 * Drops the databases of the paths under `dir` (connections still open to them are ended). Best
 * effort: one that cannot be dropped now (an autovacuum worker on it, which a role that is no superuser
 * may not end) is left to the run's global teardown.
 */
export async function dropDatabasesUnder(dir: string): Promise<void> {
  const root = resolve(dir);
  const names = [...created].filter(([, path]) => path === root || path.startsWith(`${root}/`)).map(([name]) => name);
  if (names.length === 0) return;
  await maintenance(async (client) => {
    for (const name of names) {
      created.delete(name);
      for (let attempt = 1; attempt <= 5; attempt++) {
        try {
          await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
    }
  }).catch(() => undefined);
}

/**
 * SQL written for SQLite as the specs write it, for PostgreSQL: mixed-case column names quoted (it folds
 * unquoted ones to lower case) and `?` placeholders numbered. Texts in quotes are left as they are.
 */
export function postgresSql(sql: string): string {
  let n = 0;
  return sql
    .split(/('(?:[^']|'')*'|"[^"]*")/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\b([a-z]+[A-Z][A-Za-z0-9]*)\b/g, '"$1"').replace(/\?/g, () => `$${++n}`)))
    .join('');
}
