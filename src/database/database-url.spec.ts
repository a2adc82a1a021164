import { loadSettings } from '../config/settings';
import { maskDatabaseUrl } from './database-url';
import { DatabaseSettings } from './database.settings';

const load = (env: Record<string, string>) => loadSettings([DatabaseSettings], env)[0];
const problemOf = (env: Record<string, string>) => {
  try {
    load(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the settings were accepted');
};

describe('DATABASE_URL', () => {
  it('is unset by default: the SQLite file is the database', () => {
    expect(load({})).toMatchObject({ DATABASE_URL: null, DATABASE_PATH: './data/drs.sqlite', DATABASE_POOL_SIZE: 10 });
  });

  it('takes postgres:// and postgresql:// URLs, and a pool size', () => {
    for (const url of ['postgres://drs:s3cret@db.example:5432/drs', 'postgresql://drs@127.0.0.1/drs?sslmode=require']) {
      expect(load({ DATABASE_URL: url, DATABASE_POOL_SIZE: '25' })).toMatchObject({ DATABASE_URL: url, DATABASE_POOL_SIZE: 25 });
    }
  });

  it.each([
    ['mysql://drs:Hunter2-pw@db/drs', /DATABASE_URL.*scheme "mysql": only postgres and postgresql/],
    ['not a url Hunter2-pw', /DATABASE_URL.*is not a URL/],
    ['postgres://drs:Hunter2-pw@db.example:5432', /DATABASE_URL.*names no database/],
  ])('refuses %s at boot, naming DATABASE_URL and never its password', (url, reason) => {
    const message = problemOf({ DATABASE_URL: url });
    expect(message).toMatch(reason);
    expect(message).not.toContain('Hunter2-pw');
  });

  it('refuses a pool of no connection', () => {
    expect(problemOf({ DATABASE_URL: 'postgres://db/drs', DATABASE_POOL_SIZE: '0' })).toMatch(/DATABASE_POOL_SIZE/);
  });

  it('is shown with its password masked', () => {
    expect(maskDatabaseUrl('postgres://drs:Hunter2-pw@db.example:5432/drs')).toBe('postgres://drs:***@db.example:5432/drs');
    expect(maskDatabaseUrl('postgres://drs@db.example/drs')).toBe('postgres://drs@db.example/drs');
    expect(maskDatabaseUrl('nonsense Hunter2-pw')).not.toContain('Hunter2-pw');
  });
});
