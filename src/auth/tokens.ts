// Token format, hashing and role checks: plain functions, no framework.
import { createHash, createHmac, KeyObject, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { KEY_PURPOSES, ServiceKey } from '../secrets/service-key';
import { Role, ROLES } from './api-token.entity';

const PREFIX = 'drs';
const KEY_BYTES = 8;
const SECRET_BYTES = 32;
const HASH_BYTES = 32;
/** scrypt cost of the tokens made before HMAC: N = 2^14, r = 8 (about 16 MiB and a few tens of ms). */
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export interface IssuedToken {
  token: string;
  keyId: string;
  /** What is stored of the secret: its HMAC under the service's token key. */
  hash: string;
}

export interface ParsedToken {
  keyId: string;
  secret: string;
}

/** The key token secrets are hashed with, derived from the service key: the service and the CLI use the same. */
export function tokenHmacKey(serviceKey: ServiceKey): KeyObject {
  return serviceKey.derive(KEY_PURPOSES.apiTokenHmac);
}

/**
 * The secret is 256 random bits, so a keyed hash is as strong as a slow one and costs microseconds
 * on the event loop instead of tens of milliseconds of the thread pool (which sqlite3 shares): wrong
 * guesses cost the service no more than unknown key ids do. The key (HKDF from the service key)
 * keeps a copied database from being enough to test guesses offline.
 */
export function hmacHex(secret: string, key: KeyObject): string {
  return createHmac('sha256', key).update(secret, 'utf8').digest('hex');
}

function scryptHex(secret: string, salt: string): Promise<string> {
  return new Promise((resolve, reject) =>
    scrypt(secret, Buffer.from(salt, 'hex'), HASH_BYTES, SCRYPT, (err, key) => (err ? reject(err) : resolve(key.toString('hex')))),
  );
}

/** A legacy (scrypt) hash of a secret; new tokens are never stored this way. Exported for tests of the upgrade. */
export async function legacyScryptHash(secret: string): Promise<{ salt: string; hash: string }> {
  const salt = randomBytes(16).toString('hex');
  return { salt, hash: await scryptHex(secret, salt) };
}

/** A new token `drs_<keyId>_<secret>` and what is stored of it (never the secret). */
export function issueToken(hmacKey: KeyObject): IssuedToken {
  const keyId = randomBytes(KEY_BYTES).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { token: `${PREFIX}_${keyId}_${secret}`, keyId, hash: hmacHex(secret, hmacKey) };
}

export function parseToken(token: string): ParsedToken | undefined {
  const match = /^drs_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(token);
  return match ? { keyId: match[1], secret: match[2] } : undefined;
}

function equalHex(expectedHex: string, actualHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const actual = Buffer.from(actualHex, 'hex');
  return expected.length === actual.length && expected.length > 0 && timingSafeEqual(expected, actual);
}

/** Whether the secret is the one an HMAC row was made from: constant time. */
export function hmacMatches(secret: string, hash: string, hmacKey: KeyObject): boolean {
  return equalHex(hash, hmacHex(secret, hmacKey));
}

/** Whether the secret is the one a legacy scrypt row was made from (tens of ms in the thread pool). */
export async function scryptMatches(secret: string, salt: string, hash: string): Promise<boolean> {
  return equalHex(hash, await scryptHex(secret, salt));
}

/** A one-way digest, for keeping verified tokens in memory without keeping the tokens. */
export function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Whether a token of role `held` may do what needs `needed`: admin ⊇ operator ⊇ viewer. */
export function roleAllows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** The bearer token of an Authorization header, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}
