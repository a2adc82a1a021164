// The service's own secret key, and the keys each feature derives from it. One 32-byte key, given in
// SERVICE_KEY or kept in a file the service creates; features never use it directly, each derives its
// own with HKDF under a purpose name, so that one purpose's key says nothing about another's.
import { createSecretKey, hkdfSync, KeyObject, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const SERVICE_KEY_BYTES = 32;
/** Each use of the key has a purpose name; add one here to derive another key. */
export const KEY_PURPOSES = { apiTokenHmac: 'api-token-hmac', connectorCredentials: 'connector-credentials' } as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[keyof typeof KEY_PURPOSES];

const HKDF_SALT = Buffer.from('drs-scheduler service key', 'utf8');

export class ServiceKeyError extends Error {
  override name = 'ServiceKeyError';
}

/** The key itself never leaves this object: it is neither printed, nor serialised, nor inspected. */
export class ServiceKey {
  readonly #key: KeyObject;

  constructor(
    key: Buffer,
    /** Where the key came from (`SERVICE_KEY` or the file's path), for messages. */
    readonly source: string,
  ) {
    if (key.length !== SERVICE_KEY_BYTES)
      throw new ServiceKeyError(`The service key from ${source} must be ${SERVICE_KEY_BYTES} bytes, not ${key.length}`);
    this.#key = createSecretKey(Buffer.from(key));
  }

  /**
   * A key for one purpose (HKDF-SHA-256); the same purpose always gives the same key. A KeyObject,
   * which createHmac and createCipheriv take as it is and which prints no key material if logged.
   */
  derive(purpose: string, bytes = 32): KeyObject {
    return createSecretKey(Buffer.from(hkdfSync('sha256', this.#key, HKDF_SALT, purpose, bytes)));
  }

  toJSON(): string {
    return `[ServiceKey from ${this.source}]`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toJSON();
  }
}

export interface ServiceKeySettings {
  /** Base64 of 32 bytes, or empty to use the file. */
  SERVICE_KEY: string;
  /** Empty: `service.key` in the folder of DATABASE_PATH. */
  SERVICE_KEY_FILE: string;
  DATABASE_PATH: string;
}

export function serviceKeyFile(settings: Pick<ServiceKeySettings, 'SERVICE_KEY_FILE' | 'DATABASE_PATH'>): string {
  return resolve(settings.SERVICE_KEY_FILE || join(dirname(resolve(settings.DATABASE_PATH)), 'service.key'));
}

/** The key from SERVICE_KEY, else from its file, which is created (mode 0600) when missing. */
export function loadServiceKey(settings: ServiceKeySettings): ServiceKey {
  if (settings.SERVICE_KEY) return new ServiceKey(Buffer.from(settings.SERVICE_KEY, 'base64'), 'SERVICE_KEY');
  return loadOrCreateKeyFile(serviceKeyFile(settings));
}

export function loadOrCreateKeyFile(path: string): ServiceKey {
  const existing = readKeyFile(path);
  if (existing) return existing;
  // Written under a temporary name, then linked into place: link refuses to replace a file, so when
  // two processes start at once (the service and the token CLI) both end up with the one key that won.
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, randomBytes(SERVICE_KEY_BYTES));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  const created = readKeyFile(path);
  if (!created) throw new ServiceKeyError(`The service key file ${path} vanished while it was being created`);
  return created;
}

function readKeyFile(path: string): ServiceKey | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ServiceKeyError(`The service key file ${path} cannot be read: ${(error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ServiceKeyError(`The service key file ${path} is not a regular file`);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      throw new ServiceKeyError(
        `The service key file ${path} can be read by others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}): ` +
          `run \`chmod 600 ${path}\` if nobody else has read it, else replace the key (existing API tokens then stop working)`,
      );
    }
    if (stat.size !== SERVICE_KEY_BYTES) {
      throw new ServiceKeyError(
        `The service key file ${path} holds ${stat.size} bytes, not ${SERVICE_KEY_BYTES}: it is not a key this service wrote`,
      );
    }
    const key = Buffer.alloc(SERVICE_KEY_BYTES);
    if (readSync(fd, key, 0, SERVICE_KEY_BYTES, 0) !== SERVICE_KEY_BYTES)
      throw new ServiceKeyError(`The service key file ${path} could not be read whole`);
    return new ServiceKey(key, path);
  } finally {
    closeSync(fd);
  }
}
