import { MigrationInterface, QueryRunner } from 'typeorm';

export class UtilizationSamples1795585809110 implements MigrationInterface {
  name = 'UtilizationSamples1795585809110';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "samples" ("clusterId" varchar NOT NULL, "timestamp" integer NOT NULL, "subjectId" varchar NOT NULL, "subjectKind" varchar(4) NOT NULL, "cpuMhz" real NOT NULL, "memoryActiveMib" real NOT NULL, "memoryConsumedMib" real NOT NULL, "memoryDirtyMibPerSecond" real, PRIMARY KEY ("clusterId", "timestamp", "subjectId")) WITHOUT ROWID`,
    );
    await queryRunner.query(
      `CREATE TABLE "sample_rollups" ("subjectId" varchar NOT NULL, "timestamp" integer NOT NULL, "subjectKind" varchar(4) NOT NULL, "clusterId" varchar NOT NULL, "cpuMhz" real NOT NULL, "memoryActiveMib" real NOT NULL, "memoryConsumedMib" real NOT NULL, "memoryDirtyMibPerSecond" real, "sampleCount" integer NOT NULL, PRIMARY KEY ("subjectId", "timestamp")) WITHOUT ROWID`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_sample_rollups_time" ON "sample_rollups" ("timestamp") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_sample_rollups_time"`);
    await queryRunner.query(`DROP TABLE "sample_rollups"`);
    await queryRunner.query(`DROP TABLE "samples"`);
  }
}
