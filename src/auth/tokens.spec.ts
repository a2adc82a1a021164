import { createHash, createSecretKey, randomBytes } from 'node:crypto';
import { bearerOf, hmacMatches, isLoopback, issueToken, legacyScryptHash, parseToken, roleAllows, scryptMatches } from './tokens';
import { listenDecision } from './listen-policy';

/** The secret with its last character changed. */
const altered = (secret: string) => secret.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));

describe('API tokens', () => {
  const key = createSecretKey(randomBytes(32));

  it('issues tokens whose secret matches only its own keyed hash, and only under the key it was made with', () => {
    const a = issueToken(key);
    const b = issueToken(key);
    const parsed = parseToken(a.token)!;
    expect(parsed.keyId).toBe(a.keyId);
    expect(a.keyId).not.toBe(b.keyId);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash).not.toContain(parsed.secret);
    // keyed: not a plain digest anyone holding the database could test guesses against
    expect(a.hash).not.toBe(createHash('sha256').update(parsed.secret).digest('hex'));
    expect(hmacMatches(parsed.secret, a.hash, key)).toBe(true);
    expect(hmacMatches(parsed.secret, b.hash, key)).toBe(false);
    expect(hmacMatches(altered(parsed.secret), a.hash, key)).toBe(false);
    expect(hmacMatches(parsed.secret, a.hash, createSecretKey(randomBytes(32)))).toBe(false);
    // a stored hash that is cut short or empty matches nothing
    expect(hmacMatches(parsed.secret, a.hash.slice(0, 32), key)).toBe(false);
    expect(hmacMatches(parsed.secret, '', key)).toBe(false);
  });

  it('still verifies secrets stored with scrypt before HMAC, each against its own salt', async () => {
    const secret = parseToken(issueToken(key).token)!.secret;
    const a = await legacyScryptHash(secret);
    const b = await legacyScryptHash(secret);
    expect(a.salt).not.toBe(b.salt);
    expect(a.hash).not.toBe(b.hash);
    expect(await scryptMatches(secret, a.salt, a.hash)).toBe(true);
    expect(await scryptMatches(secret, b.salt, b.hash)).toBe(true);
    expect(await scryptMatches(secret, b.salt, a.hash)).toBe(false);
    expect(await scryptMatches(altered(secret), a.salt, a.hash)).toBe(false);
  });

  it('parses only the drs_<key>_<secret> form', () => {
    expect(parseToken(`drs_${'a'.repeat(16)}_${'B'.repeat(43)}`)).toEqual({ keyId: 'a'.repeat(16), secret: 'B'.repeat(43) });
    for (const bad of [
      '',
      'drs_',
      `drs_${'a'.repeat(15)}_${'B'.repeat(43)}`,
      `drs_${'a'.repeat(16)}_${'B'.repeat(42)}`,
      `xyz_${'a'.repeat(16)}_${'B'.repeat(43)}`,
    ]) {
      expect(parseToken(bad)).toBeUndefined();
    }
  });

  it('reads the bearer scheme only', () => {
    expect(bearerOf('Bearer abc')).toBe('abc');
    expect(bearerOf('bearer  abc ')).toBe('abc');
    expect(bearerOf('Basic abc')).toBeUndefined();
    expect(bearerOf('Bearer')).toBeUndefined();
    expect(bearerOf(undefined)).toBeUndefined();
  });

  it('orders roles: admin can do what an operator can, an operator what a viewer can', () => {
    expect(roleAllows('admin', 'operator')).toBe(true);
    expect(roleAllows('operator', 'viewer')).toBe(true);
    expect(roleAllows('viewer', 'operator')).toBe(false);
    expect(roleAllows('operator', 'admin')).toBe(false);
  });
});

describe('where the service may listen', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '128.0.0.1', 'example.org', '1270.0.0.1']) expect(isLoopback(host)).toBe(false);
  });

  it('listens beyond loopback only with a token', () => {
    expect(listenDecision('127.0.0.1', 0)).toMatchObject({ allowed: true, message: expect.stringMatching(/access control is off/) });
    expect(listenDecision('0.0.0.0', 0)).toMatchObject({ allowed: false, message: expect.stringMatching(/HOST=0\.0\.0\.0/) });
    expect(listenDecision('0.0.0.0', 2)).toMatchObject({ allowed: true, message: expect.stringMatching(/2 active API token/) });
  });
});
