import { MigrationInterface, QueryRunner } from 'typeorm';

export class ApiTokens1796045466087 implements MigrationInterface {
  name = 'ApiTokens1796045466087';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "api_tokens" ("id" varchar PRIMARY KEY NOT NULL, "keyId" varchar(32) NOT NULL, "name" varchar(200) NOT NULL, "role" varchar(16) NOT NULL, "salt" varchar(64) NOT NULL, "hash" varchar(128) NOT NULL, "createdAt" integer NOT NULL, "revokedAt" integer)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_api_tokens_key" ON "api_tokens" ("keyId") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_api_tokens_key"`);
    await queryRunner.query(`DROP TABLE "api_tokens"`);
  }
}
