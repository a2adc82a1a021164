import { bearerOf, isLoopback, issueToken, parseToken, roleAllows, secretMatches } from './tokens';
import { listenDecision } from './listen-policy';

describe('API tokens', () => {
  it('issues tokens whose secret matches only its own salted hash', async () => {
    const a = await issueToken();
    const b = await issueToken();
    const parsed = parseToken(a.token)!;
    expect(parsed.keyId).toBe(a.keyId);
    expect(a.hash).not.toContain(parsed.secret);
    expect(await secretMatches(parsed.secret, a.salt, a.hash)).toBe(true);
    expect(await secretMatches(parsed.secret, b.salt, b.hash)).toBe(false);
    expect(await secretMatches(parsed.secret.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), a.salt, a.hash)).toBe(false);
    expect(a.salt).not.toBe(b.salt);
  });

  it('parses only the drs_<key>_<secret> form', () => {
    expect(parseToken(`drs_${'a'.repeat(16)}_${'B'.repeat(43)}`)).toEqual({ keyId: 'a'.repeat(16), secret: 'B'.repeat(43) });
    for (const bad of ['', 'drs_', `drs_${'a'.repeat(15)}_${'B'.repeat(43)}`, `drs_${'a'.repeat(16)}_${'B'.repeat(42)}`, `xyz_${'a'.repeat(16)}_${'B'.repeat(43)}`]) {
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
