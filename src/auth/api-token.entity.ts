import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** How a token's secret is stored: `hmac-sha256` under the service's token key; `scrypt` for tokens made before it, upgraded on first use. */
export const HASH_SCHEMES = ['hmac-sha256', 'scrypt'] as const;
export type HashScheme = (typeof HASH_SCHEMES)[number];

/**
 * An API token. Only a keyed hash of its secret is stored; the token itself is shown once, when it
 * is created. `keyId` is the token's public part, used to find the row.
 */
@Entity('api_tokens')
@Index('IDX_api_tokens_key', ['keyId'], { unique: true })
export class ApiTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('varchar', { length: 32 })
  keyId: string;

  @Column('varchar', { length: 200 })
  name: string;

  @Column('varchar', { length: 16 })
  role: Role;

  @Column('varchar', { length: 16, default: 'scrypt' })
  hashScheme: HashScheme;

  /** Hex; scrypt's salt, empty for HMAC (the secret is random, the key is the service's). */
  @Column('varchar', { length: 64 })
  salt: string;

  /** Hex hash of the secret, made as hashScheme says. */
  @Column('varchar', { length: 128 })
  hash: string;

  /** Epoch ms. */
  @Column('integer')
  createdAt: number;

  @Column('integer', { nullable: true })
  revokedAt: number | null;
}
