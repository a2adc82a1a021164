import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API tokens say how their secret is hashed (rows made before are scrypt, upgraded to HMAC on first
 * use); events say who caused them. Columns are added in place: copying the events table, as a
 * generated migration would, takes as long as the audit trail is big.
 */
export class TokenHmacEventActors1796900000001 implements MigrationInterface {
  name = 'TokenHmacEventActors1796900000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "api_tokens" ADD COLUMN "hashScheme" varchar(16) NOT NULL DEFAULT ('scrypt')`);
    await queryRunner.query(`ALTER TABLE "events" ADD COLUMN "actor" text`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "actor"`);
    await queryRunner.query(`ALTER TABLE "api_tokens" DROP COLUMN "hashScheme"`);
  }
}
