import { MigrationInterface, QueryRunner } from 'typeorm';

export class LiveMigrations1795586380061 implements MigrationInterface {
  name = 'LiveMigrations1795586380061';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "live_migrations" ("id" varchar PRIMARY KEY NOT NULL, "clusterId" varchar NOT NULL, "vmId" varchar NOT NULL, "sourceHostId" varchar NOT NULL, "targetHostId" varchar NOT NULL, "state" varchar(16) NOT NULL, "memoryMib" integer NOT NULL, "trigger" varchar(16) NOT NULL, "reason" text NOT NULL DEFAULT (''), "priority" integer NOT NULL DEFAULT (3), "recommendationId" varchar, "driver" varchar(32) NOT NULL, "attempts" integer NOT NULL DEFAULT (0), "maxAttempts" integer NOT NULL, "createdAt" integer NOT NULL, "updatedAt" integer NOT NULL, "startedAt" integer, "finishedAt" integer, "nextAttemptAt" integer, "cancelRequestedAt" integer, "progressPercent" real NOT NULL DEFAULT (0), "precopyRound" integer, "copiedMib" real NOT NULL DEFAULT (0), "remainingMib" real, "etaSeconds" real, "downtimeMs" real, "durationSeconds" real, "error" text, "version" integer NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_live_migrations_vm" ON "live_migrations" ("vmId") `);
    await queryRunner.query(`CREATE INDEX "IDX_live_migrations_cluster_created" ON "live_migrations" ("clusterId", "createdAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_live_migrations_state" ON "live_migrations" ("state") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_live_migrations_state"`);
    await queryRunner.query(`DROP INDEX "IDX_live_migrations_cluster_created"`);
    await queryRunner.query(`DROP INDEX "IDX_live_migrations_vm"`);
    await queryRunner.query(`DROP TABLE "live_migrations"`);
  }
}
