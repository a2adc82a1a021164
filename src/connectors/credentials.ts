// Connector credentials at rest: AES-256-GCM under a key derived from the service key for this purpose
// alone. A sealed value is "v1.<iv>.<tag>.<ciphertext>" (base64url): the version names the scheme, so
// that another one can come later; the tag makes any change to the stored text fail to open.
import { createCipheriv, createDecipheriv, KeyObject, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class CredentialsError extends Error {
  override name = 'CredentialsError';
}

/** The cluster id is bound in as associated data: credentials copied onto another cluster's row do not open. */
export class CredentialCipher {
  constructor(private readonly key: KeyObject) {}

  seal(credentials: Record<string, unknown>, clusterId: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(clusterId, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify(credentials), 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  /** Throws CredentialsError (never the plaintext, never the key) when the value was altered, sealed for another cluster or under another key. */
  open(sealed: string, clusterId: string): Record<string, unknown> {
    const [version, iv, tag, body, ...rest] = sealed.split('.');
    if (version !== VERSION || rest.length > 0 || body === undefined)
      throw new CredentialsError('The stored credentials are not in a known format');
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES)
      throw new CredentialsError('The stored credentials are not in a known format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(clusterId, 'utf8'));
      decipher.setAuthTag(tagBytes);
      const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new CredentialsError(
        'The stored credentials cannot be opened: they were altered, or sealed under another service key (set the credentials again with PUT …/connector)',
      );
    }
  }
}
