import { MigrationInterface, QueryRunner } from 'typeorm';

export class SchedulerPoliciesEvents1795586324643 implements MigrationInterface {
  name = 'SchedulerPoliciesEvents1795586324643';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "events" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "timestamp" integer NOT NULL, "clusterId" varchar, "subjectType" varchar(32) NOT NULL, "subjectId" varchar, "type" varchar(64) NOT NULL, "message" varchar(2000) NOT NULL, "data" text)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_events_time" ON "events" ("timestamp") `);
    await queryRunner.query(`CREATE INDEX "IDX_events_cluster_time" ON "events" ("clusterId", "timestamp") `);
    await queryRunner.query(
      `CREATE TABLE "cluster_policies" ("clusterId" varchar PRIMARY KEY NOT NULL, "settings" text NOT NULL, "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL)`,
    );
    await queryRunner.query(
      `CREATE TABLE "recommendations" ("id" varchar PRIMARY KEY NOT NULL, "clusterId" varchar NOT NULL, "passId" varchar NOT NULL, "vmId" varchar NOT NULL, "vmName" varchar(200) NOT NULL, "fromHostId" varchar NOT NULL, "toHostId" varchar NOT NULL, "priority" integer NOT NULL, "reason" varchar(32) NOT NULL, "explanation" varchar(2000) NOT NULL, "gain" real NOT NULL, "cost" real NOT NULL, "imbalanceAfter" real NOT NULL, "groupId" varchar, "status" varchar(16) NOT NULL, "migrationId" varchar, "createdAt" integer NOT NULL, "decidedAt" integer, "version" integer NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_recommendations_vm" ON "recommendations" ("vmId") `);
    await queryRunner.query(`CREATE INDEX "IDX_recommendations_cluster_status" ON "recommendations" ("clusterId", "status") `);
    await queryRunner.query(
      `CREATE TABLE "passes" ("id" varchar PRIMARY KEY NOT NULL, "clusterId" varchar NOT NULL, "trigger" varchar(16) NOT NULL, "status" varchar(16) NOT NULL, "startedAt" integer NOT NULL, "finishedAt" integer, "imbalanceBefore" real, "imbalanceAfter" real, "target" real, "movesRecommended" integer NOT NULL DEFAULT (0), "movesApplied" integer NOT NULL DEFAULT (0), "movesSkipped" integer NOT NULL DEFAULT (0), "skipped" text NOT NULL, "notes" varchar(2000) NOT NULL DEFAULT (''))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_passes_cluster_started" ON "passes" ("clusterId", "startedAt") `);
    await queryRunner.query(
      `CREATE TABLE "temporary_cluster_policies" ("clusterId" varchar PRIMARY KEY NOT NULL, "settings" text NOT NULL, "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, CONSTRAINT "FK_6dd16d83cb20cf5b6e5db504a0e" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_cluster_policies"("clusterId", "settings", "updatedAt", "version") SELECT "clusterId", "settings", "updatedAt", "version" FROM "cluster_policies"`,
    );
    await queryRunner.query(`DROP TABLE "cluster_policies"`);
    await queryRunner.query(`ALTER TABLE "temporary_cluster_policies" RENAME TO "cluster_policies"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "cluster_policies" RENAME TO "temporary_cluster_policies"`);
    await queryRunner.query(
      `CREATE TABLE "cluster_policies" ("clusterId" varchar PRIMARY KEY NOT NULL, "settings" text NOT NULL, "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL)`,
    );
    await queryRunner.query(
      `INSERT INTO "cluster_policies"("clusterId", "settings", "updatedAt", "version") SELECT "clusterId", "settings", "updatedAt", "version" FROM "temporary_cluster_policies"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_cluster_policies"`);
    await queryRunner.query(`DROP INDEX "IDX_passes_cluster_started"`);
    await queryRunner.query(`DROP TABLE "passes"`);
    await queryRunner.query(`DROP INDEX "IDX_recommendations_cluster_status"`);
    await queryRunner.query(`DROP INDEX "IDX_recommendations_vm"`);
    await queryRunner.query(`DROP TABLE "recommendations"`);
    await queryRunner.query(`DROP TABLE "cluster_policies"`);
    await queryRunner.query(`DROP INDEX "IDX_events_cluster_time"`);
    await queryRunner.query(`DROP INDEX "IDX_events_time"`);
    await queryRunner.query(`DROP TABLE "events"`);
  }
}
