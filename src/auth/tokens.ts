// Token format, hashing and role checks: plain functions, no framework.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { Role, ROLES } from './api-token.entity';

const PREFIX = 'drs';
const KEY_BYTES = 8;
const SECRET_BYTES = 32;
const HASH_BYTES = 32;
/** scrypt cost: N = 2^14, r = 8 (about 16 MiB and a few tens of ms), the node:crypto defaults made explicit. */
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export interface IssuedToken {
  token: string;
  keyId: string;
  salt: string;
  hash: string;
}

export interface ParsedToken {
  keyId: string;
  secret: string;
}

function scryptHex(secret: string, salt: string): Promise<string> {
  return new Promise((resolve, reject) =>
    scrypt(secret, Buffer.from(salt, 'hex'), HASH_BYTES, SCRYPT, (err, key) => (err ? reject(err) : resolve(key.toString('hex')))),
  );
}

/** A new token `drs_<keyId>_<secret>` and what is stored of it (never the secret). */
export async function issueToken(): Promise<IssuedToken> {
  const keyId = randomBytes(KEY_BYTES).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const salt = randomBytes(16).toString('hex');
  return { token: `${PREFIX}_${keyId}_${secret}`, keyId, salt, hash: await scryptHex(secret, salt) };
}

export function parseToken(token: string): ParsedToken | undefined {
  const match = /^drs_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(token);
  return match ? { keyId: match[1], secret: match[2] } : undefined;
}

export async function secretMatches(secret: string, salt: string, hash: string): Promise<boolean> {
  const expected = Buffer.from(hash, 'hex');
  const actual = Buffer.from(await scryptHex(secret, salt), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
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
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}
