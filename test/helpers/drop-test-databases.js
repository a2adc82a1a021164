// Jest's global setup and teardown when the specs run on PostgreSQL (TEST_DATABASE_URL, see
// test-database.ts): one tag for the run's databases and a template database migrated once, which
// every spec's database is copied from (a copy takes a fraction of the time the migrations take); at
// the end the run's databases still there are dropped (a spec that failed before its cleanup, a killed
// app's), leaving other runs' databases alone.
const { execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

async function withClient(work) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

module.exports.setup = async function setup() {
  if (!process.env.TEST_DATABASE_URL) return;
  process.env.DRS_TEST_RUN ||= randomBytes(4).toString('hex');
  const template = `drs_t_${process.env.DRS_TEST_RUN}_template`;
  // Fails the run at once when the server cannot be reached, rather than in every spec.
  await withClient((client) => client.query(`CREATE DATABASE "${template}"`));
  // Migrated by the app's own code: the token CLI migrates the database before anything else.
  const url = new URL(process.env.TEST_DATABASE_URL);
  url.pathname = `/${template}`;
  const dir = mkdtempSync(join(tmpdir(), 'drs-template-'));
  try {
    execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/auth/token-cli.ts', 'list'], {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, DATABASE_URL: url.toString(), DATABASE_PATH: join(dir, 'drs.sqlite') },
      stdio: 'pipe',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.env.DRS_TEST_TEMPLATE = template;
};

module.exports.teardown = async function teardown() {
  if (!process.env.TEST_DATABASE_URL || !process.env.DRS_TEST_RUN) return;
  await withClient(async (client) => {
    const { rows } = await client.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `drs\\_t\\_${process.env.DRS_TEST_RUN}\\_%`,
    ]);
    for (const { datname } of rows) {
      // An autovacuum worker on it cannot be ended by a role that is no superuser: it is let finish.
      for (let attempt = 1; ; attempt++) {
        try {
          await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
          break;
        } catch (err) {
          if (attempt === 10) throw err;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    }
  });
};
