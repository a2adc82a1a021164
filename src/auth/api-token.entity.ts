import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * An API token. Only a salted scrypt hash of its secret is stored; the token itself is shown once,
 * when it is created. `keyId` is the token's public part, used to find the row.
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

  /** Hex. */
  @Column('varchar', { length: 64 })
  salt: string;

  /** Hex scrypt hash of the secret. */
  @Column('varchar', { length: 128 })
  hash: string;

  /** Epoch ms. */
  @Column('integer')
  createdAt: number;

  @Column('integer', { nullable: true })
  revokedAt: number | null;
}
