// Creating, listing and revoking tokens on an EntityManager: shared by the API and the CLI.
import { EntityManager, IsNull } from 'typeorm';
import { ApiTokenEntity, Role } from './api-token.entity';
import { issueToken } from './tokens';

/** What is shown of a token: never its secret or hash. */
export interface TokenView {
  id: string;
  name: string;
  role: Role;
  createdAt: number;
  revokedAt: number | null;
}

export interface CreatedToken extends TokenView {
  /** The bearer token. Shown this once; only a salted hash of it is kept. */
  token: string;
}

export function toTokenView(row: ApiTokenEntity): TokenView {
  return { id: row.id, name: row.name, role: row.role, createdAt: row.createdAt, revokedAt: row.revokedAt };
}

export async function createToken(m: EntityManager, role: Role, name: string, now: number): Promise<CreatedToken> {
  const issued = await issueToken();
  const row = await m.save(m.create(ApiTokenEntity, { keyId: issued.keyId, salt: issued.salt, hash: issued.hash, role, name, createdAt: now, revokedAt: null }));
  return { ...toTokenView(row), token: issued.token };
}

/** Revokes a token: the row, and whether this call revoked it (revoking twice keeps the first time); undefined when there is no such token. */
export async function revokeToken(m: EntityManager, id: string, now: number): Promise<{ row: ApiTokenEntity; revoked: boolean } | undefined> {
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
