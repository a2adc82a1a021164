import { MigrationInterface, QueryRunner } from 'typeorm';

/** Replicas, the leases by which one of them owns each cluster (used on PostgreSQL; a SQLite file has one process). */
export class ReplicaLeases1796900000007 implements MigrationInterface {
  name = 'ReplicaLeases1796900000007';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "replicas" ("id" varchar(200) PRIMARY KEY NOT NULL, "hostname" varchar(200) NOT NULL, "pid" integer NOT NULL, "startedAt" integer NOT NULL, "heartbeatAt" integer NOT NULL)`,
    );
    await queryRunner.query(
      `CREATE TABLE "cluster_leases" ("clusterId" varchar PRIMARY KEY NOT NULL, "replicaId" varchar(200) NOT NULL, "epoch" integer NOT NULL, "acquiredAt" integer NOT NULL, "expiresAt" integer NOT NULL)`,
    );
    await queryRunner.query(`ALTER TABLE "passes" ADD COLUMN "requestedBy" text`);
    // The platform's own view of a cluster, kept where every replica reads it (it was in the owner's memory only).
    await queryRunner.query(`ALTER TABLE "cluster_connectors" ADD COLUMN "balancedBy" varchar(2000)`);
    await queryRunner.query(`ALTER TABLE "cluster_connectors" ADD COLUMN "platformNotes" text`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "cluster_connectors" DROP COLUMN "platformNotes"`);
    await queryRunner.query(`ALTER TABLE "cluster_connectors" DROP COLUMN "balancedBy"`);
    await queryRunner.query(`ALTER TABLE "passes" DROP COLUMN "requestedBy"`);
    await queryRunner.query(`DROP TABLE "cluster_leases"`);
    await queryRunner.query(`DROP TABLE "replicas"`);
  }
}
