import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { randomBytes } from 'node:crypto';
import { loadSettings } from '../config/settings';
import { SecretsSettings } from './secrets.settings';
import { KEY_PURPOSES, loadServiceKey, ServiceKey, serviceKeyFile } from './service-key';

describe('service key', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'drs-key-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const settings = (over: Partial<Parameters<typeof loadServiceKey>[0]> = {}) => ({
    SERVICE_KEY: '',
    SERVICE_KEY_FILE: '',
    DATABASE_PATH: join(dir, 'db', 'drs.sqlite'),
    ...over,
  });

  it('is created on first start beside the database, readable by the owner only, and reused after', () => {
    const first = loadServiceKey(settings());
    const file = join(dir, 'db', 'service.key');
    expect(first.source).toBe(file);
    const stat = statSync(file);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(stat.size).toBe(32);
    const bytes = readFileSync(file);

    const second = loadServiceKey(settings());
    expect(readFileSync(file)).toEqual(bytes);
    expect(second.derive(KEY_PURPOSES.apiTokenHmac).export()).toEqual(first.derive(KEY_PURPOSES.apiTokenHmac).export());
    // another database folder, another key
    const elsewhere = loadServiceKey(settings({ DATABASE_PATH: join(dir, 'other', 'drs.sqlite') }));
    expect(elsewhere.derive(KEY_PURPOSES.apiTokenHmac).export()).not.toEqual(first.derive(KEY_PURPOSES.apiTokenHmac).export());
  });

  it('uses SERVICE_KEY_FILE when given, and SERVICE_KEY before any file', () => {
    const file = join(dir, 'keys', 'my.key');
    expect(serviceKeyFile(settings({ SERVICE_KEY_FILE: file }))).toBe(file);
    const fromFile = loadServiceKey(settings({ SERVICE_KEY_FILE: file }));
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const raw = readFileSync(file);
    const fromEnv = loadServiceKey(settings({ SERVICE_KEY: raw.toString('base64'), SERVICE_KEY_FILE: join(dir, 'never.key') }));
    expect(fromEnv.source).toBe('SERVICE_KEY');
    expect(fromEnv.derive(KEY_PURPOSES.apiTokenHmac).export()).toEqual(fromFile.derive(KEY_PURPOSES.apiTokenHmac).export());
    expect(() => statSync(join(dir, 'never.key'))).toThrow();
  });

  it('refuses a key file others may read, or of the wrong size, naming the file', () => {
    const file = join(dir, 'service.key');
    loadServiceKey(settings({ SERVICE_KEY_FILE: file }));
    for (const mode of [0o644, 0o640, 0o604]) {
      chmodSync(file, mode);
      expect(() => loadServiceKey(settings({ SERVICE_KEY_FILE: file }))).toThrow(new RegExp(`${file}.*chmod 600`));
    }
    chmodSync(file, 0o600);
    expect(() => loadServiceKey(settings({ SERVICE_KEY_FILE: file }))).not.toThrow();

    const short = join(dir, 'short.key');
    writeFileSync(short, 'too short', { mode: 0o600 });
    expect(() => loadServiceKey(settings({ SERVICE_KEY_FILE: short }))).toThrow(new RegExp(`${short} holds 9 bytes, not 32`));
    // and it is left as it was, not overwritten with a new key
    expect(readFileSync(short, 'utf8')).toBe('too short');
  });

  it('derives a different key for each purpose, and never shows the key itself', () => {
    const key = new ServiceKey(Buffer.alloc(32, 7), 'test');
    const tokens = key.derive(KEY_PURPOSES.apiTokenHmac).export();
    const other = key.derive('platform-credentials-aes-gcm').export();
    expect(tokens).toHaveLength(32);
    expect(other).toHaveLength(32);
    expect(tokens).not.toEqual(other);
    expect(tokens).not.toEqual(Buffer.alloc(32, 7));
    expect(key.derive(KEY_PURPOSES.apiTokenHmac).export()).toEqual(tokens);
    // a derived key prints no key material either
    expect(inspect(key.derive(KEY_PURPOSES.apiTokenHmac))).not.toContain(tokens.toString('hex'));
    const shown = `${inspect(key)} ${JSON.stringify({ key })} ${String(Object.keys(key))}`;
    expect(shown).not.toContain(Buffer.alloc(32, 7).toString('hex'));
    expect(shown).not.toContain(Buffer.alloc(32, 7).toString('base64'));
    expect(shown).not.toMatch(/0707|BwcH/);
  });

  it('accepts SERVICE_KEY only as the base64 of 32 bytes, and never repeats a bad value in the error', () => {
    const good = randomBytes(32).toString('base64');
    expect(loadSettings([SecretsSettings], { SERVICE_KEY: good })[0].SERVICE_KEY).toBe(good);
    for (const bad of [randomBytes(16).toString('base64'), randomBytes(33).toString('base64'), `${good.slice(0, -2)}!=`]) {
      let message = '';
      try {
        loadSettings([SecretsSettings], { SERVICE_KEY: bad });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/SERVICE_KEY=\(hidden\): SERVICE_KEY must be the base64 of 32 random bytes/);
      expect(message).not.toContain(bad);
    }
  });
});
