// Settings at the entry points: the service stops at boot naming every bad variable of every module's
// section before it creates anything, and each CLI checks the settings it uses.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from './helpers/test-app';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..');
const REGISTER = join(__dirname, 'helpers', 'ts-cached-register.js');

/** Runs a TypeScript entry point the way npm's scripts do, with `env` over a clean environment. */
function run(args: string[], env: Record<string, string>): { status: number | null; output: string } {
  const res = spawnSync(process.execPath, ['-r', REGISTER, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, TS_CACHE_DIR: process.env.TS_CACHE_DIR, ...env },
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

describe('settings at the entry points', () => {
  let dir: string;
  beforeAll(() => (dir = makeTempDir()));
  afterAll(() => removeTempDir(dir));

  it('the service stops at boot naming every bad variable of every area, hides the secret, and creates no database', () => {
    const databasePath = join(dir, 'never.sqlite');
    const badKey = randomBytes(16).toString('base64');
    const password = randomBytes(9).toString('hex');
    const { status, output } = run(['src/main.ts'], {
      DATABASE_PATH: databasePath,
      DATABASE_URL: `mysql://drs:${password}@db.example:3306/drs`,
      PORT: 'abc',
      SAMPLE_RAW_RETENTION_SECONDS: '5',
      PLAN_WHATIF_QUEUE_MAX: '-1',
      MIGRATION_DRIVER: 'teleport',
      SERVICE_KEY: badKey,
    });
    expect(status).toBe(1);
    expect(output).toMatch(/Invalid configuration:/);
    expect(output).toMatch(/PORT="abc": PORT must not be greater than 65535; PORT must not be less than 0; PORT must be an integer number/);
    expect(output).toMatch(/SAMPLE_RAW_RETENTION_SECONDS=5: SAMPLE_RAW_RETENTION_SECONDS must not be less than 300/);
    expect(output).toMatch(/PLAN_WHATIF_QUEUE_MAX=-1: PLAN_WHATIF_QUEUE_MAX must not be less than 0/);
    expect(output).toMatch(/MIGRATION_DRIVER="teleport": MIGRATION_DRIVER must be one of the following values: simulated, command/);
    expect(output).toMatch(/SERVICE_KEY=\(hidden\): SERVICE_KEY must be the base64 of 32 random bytes/);
    expect(output).not.toContain(badKey);
    expect(output).toMatch(/DATABASE_URL=\(hidden\): DATABASE_URL has the scheme "mysql": only postgres and postgresql are supported/);
    expect(output).not.toContain(password);
    expect(output).not.toMatch(/Listening on/);
    expect(existsSync(databasePath)).toBe(false);
  });

  it('the token CLI checks the database and key settings it uses, and no service-only one', () => {
    const databasePath = join(dir, 'tokens.sqlite');
    const bad = run(['src/auth/token-cli.ts', 'list'], { DATABASE_PATH: databasePath, DATABASE_BUSY_TIMEOUT_MS: 'soon' });
    expect(bad.status).toBe(1);
    expect(bad.output).toMatch(/DATABASE_BUSY_TIMEOUT_MS="soon": [^\n]*DATABASE_BUSY_TIMEOUT_MS must be an integer number/);
    expect(existsSync(databasePath)).toBe(false);
    // A listening port and a demo with a real driver are the service's business, not the CLI's.
    const good = run(['src/auth/token-cli.ts', 'list'], { DATABASE_PATH: databasePath, PORT: 'abc', MIGRATION_DRIVER: 'command' });
    expect(good.output).toMatch(/No tokens: access control is off/);
    expect(good.status).toBe(0);
  });

  it('the TypeORM CLI (npm run migration:*) reads DATABASE_PATH and refuses a bad database setting', () => {
    const cli = require.resolve('typeorm/cli.js');
    const databasePath = join(dir, 'cli.sqlite');
    const shown = run([cli, '-d', 'src/database/data-source.ts', 'migration:show'], { DATABASE_PATH: databasePath });
    expect(shown.status).toBe(0);
    // Every migration is listed as pending ("[ ]") on the new, empty file that DATABASE_PATH names.
    expect(shown.output).toMatch(/\[ \] \w+\d{13}/);
    expect(shown.output).not.toMatch(/\[X\]/);
    expect(existsSync(databasePath)).toBe(true);
    const bad = run([cli, '-d', 'src/database/data-source.ts', 'migration:show'], {
      DATABASE_PATH: databasePath,
      DATABASE_BUSY_TIMEOUT_MS: '-5',
    });
    expect(bad.status).not.toBe(0);
    expect(bad.output).toMatch(/DATABASE_BUSY_TIMEOUT_MS=-5: DATABASE_BUSY_TIMEOUT_MS must not be less than 0/);
  });
});
