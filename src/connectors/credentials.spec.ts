import { createSecretKey, randomBytes } from 'node:crypto';
import { CredentialCipher, CredentialsError } from './credentials';

const cluster = '3f1b2c4d-0000-4000-8000-000000000001';
const other = '3f1b2c4d-0000-4000-8000-000000000002';
// The user name has an @, which the sealed text's base64url alphabet cannot hold by chance.
const secret = { username: 'drs@example', password: 'correct horse battery staple' };

describe('connector credentials at rest', () => {
  const cipher = new CredentialCipher(createSecretKey(randomBytes(32)));

  it('opens what it sealed, and the sealed text holds neither the password nor the user', () => {
    const sealed = cipher.seal(secret, cluster);
    expect(cipher.open(sealed, cluster)).toEqual(secret);
    expect(sealed).not.toContain('correct horse');
    expect(sealed).not.toContain(Buffer.from(secret.password).toString('base64'));
    expect(sealed).not.toContain('drs@example');
    expect(sealed.split('.')[0]).toBe('v1');
  });

  it('seals the same credentials differently each time (a fresh IV)', () => {
    expect(cipher.seal(secret, cluster)).not.toEqual(cipher.seal(secret, cluster));
  });

  it('refuses a sealed value with any part altered, without repeating it', () => {
    const sealed = cipher.seal(secret, cluster);
    const parts = sealed.split('.');
    for (const index of [1, 2, 3]) {
      const bytes = Buffer.from(parts[index], 'base64url');
      bytes[bytes.length - 1] ^= 0x01;
      const altered = parts.map((p, i) => (i === index ? bytes.toString('base64url') : p)).join('.');
      expect(() => cipher.open(altered, cluster)).toThrow(CredentialsError);
      let message = '';
      try {
        cipher.open(altered, cluster);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/altered, or sealed under another service key/);
      expect(message).not.toContain(altered);
    }
    expect(() => cipher.open(`v2.${parts.slice(1).join('.')}`, cluster)).toThrow(/not in a known format/);
    expect(() => cipher.open('garbage', cluster)).toThrow(/not in a known format/);
  });

  it('does not open credentials moved onto another cluster, or under another service key', () => {
    const sealed = cipher.seal(secret, cluster);
    expect(() => cipher.open(sealed, other)).toThrow(CredentialsError);
    expect(() => new CredentialCipher(createSecretKey(randomBytes(32))).open(sealed, cluster)).toThrow(CredentialsError);
  });
});
