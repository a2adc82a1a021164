// Creating, listing and revoking tokens on an EntityManager: shared by the API and the CLI.
import type { KeyObject } from 'node:crypto';
import { EntityManager, IsNull } from 'typeorm';
import { ApiTokenEntity, Role } from './api-token.entity';
import { hmacHex, issueToken } from './tokens';

/** What is shown of a token: never its secret or hash. */
export interface TokenView {
  id: string;
  name: string;
  role: Role;
  createdAt: number;
  revokedAt: number | null;
}

export interface CreatedToken extends TokenView {
  /** The bearer token. Shown this once; only a keyed hash of it is kept. */
  token: string;
}

export function toTokenView(row: ApiTokenEntity): TokenView {
  return { id: row.id, name: row.name, role: row.role, createdAt: row.createdAt, revokedAt: row.revokedAt };
}

/** `hmacKey`: the service key's `api-token-hmac` key (see tokenHmacKey). */
export async function createToken(m: EntityManager, role: Role, name: string, now: number, hmacKey: KeyObject): Promise<CreatedToken> {
  const issued = issueToken(hmacKey);
  const row = await m.save(
    m.create(ApiTokenEntity, {
      keyId: issued.keyId,
      hashScheme: 'hmac-sha256',
      salt: '',
      hash: issued.hash,
      role,
      name,
      createdAt: now,
      revokedAt: null,
    }),
  );
  return { ...toTokenView(row), token: issued.token };
}

/**
 * Stores a legacy row's hash as HMAC, once its secret has been verified with scrypt. Only if the row
 * is still the scrypt row that was checked: a second request verified meanwhile changes nothing.
 */
export async function upgradeToHmac(
  m: EntityManager,
  row: Pick<ApiTokenEntity, 'id' | 'hash'>,
  secret: string,
  hmacKey: KeyObject,
): Promise<boolean> {
  const result = await m.update(
    ApiTokenEntity,
    { id: row.id, hashScheme: 'scrypt', hash: row.hash },
    { hashScheme: 'hmac-sha256', salt: '', hash: hmacHex(secret, hmacKey) },
  );
  return (result.affected ?? 0) > 0;
}

/** Revokes a token: the row, and whether this call revoked it (revoking twice keeps the first time); undefined when there is no such token. */
export async function revokeToken(
  m: EntityManager,
  id: string,
  now: number,
): Promise<{ row: ApiTokenEntity; revoked: boolean } | undefined> {
  const row = await m.findOne(ApiTokenEntity, { where: { id } });
  if (!row) return undefined;
  if (row.revokedAt !== null) return { row, revoked: false };
  await m.update(ApiTokenEntity, { id, revokedAt: IsNull() }, { revokedAt: now });
  row.revokedAt = now;
  return { row, revoked: true };
}

export function countActiveTokens(m: EntityManager): Promise<number> {
  return m.count(ApiTokenEntity, { where: { revokedAt: IsNull() } });
}
