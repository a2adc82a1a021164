import { MigrationInterface, QueryRunner } from 'typeorm';

/** Replicas, the leases by which one of them owns each cluster: its passes, connector loops and migrations. */
export class PostgresReplicaLeases1796900000102 implements MigrationInterface {
  name = 'PostgresReplicaLeases1796900000102';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "replicas" ("id" character varying(200) NOT NULL, "hostname" character varying(200) NOT NULL, "pid" bigint NOT NULL,
        "startedAt" bigint NOT NULL, "heartbeatAt" bigint NOT NULL, CONSTRAINT "PK_replicas" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "cluster_leases" ("clusterId" character varying NOT NULL, "replicaId" character varying(200) NOT NULL, "epoch" bigint NOT NULL,
        "acquiredAt" bigint NOT NULL, "expiresAt" bigint NOT NULL, CONSTRAINT "PK_cluster_leases" PRIMARY KEY ("clusterId"))`,
    );
    await queryRunner.query(`ALTER TABLE "passes" ADD COLUMN "requestedBy" text`);
    // The platform's own view of a cluster, kept where every replica reads it (it was in the owner's memory only).
    await queryRunner.query(`ALTER TABLE "cluster_connectors" ADD COLUMN "balancedBy" character varying(2000)`);
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
