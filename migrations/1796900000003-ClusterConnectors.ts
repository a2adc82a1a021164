import { MigrationInterface, QueryRunner } from 'typeorm';

/** Each cluster may have a connector: the platform it is read from, its sealed credentials and the loops' last state. */
export class ClusterConnectors1796900000003 implements MigrationInterface {
  name = 'ClusterConnectors1796900000003';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "cluster_connectors" ("id" varchar PRIMARY KEY NOT NULL, "clusterId" varchar NOT NULL, "kind" varchar(32) NOT NULL, "settings" text NOT NULL, "credentials" text, "state" varchar(16) NOT NULL DEFAULT ('unknown'), "lastError" varchar(2000), "lastSyncAt" integer, "lastCollectAt" integer, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, CONSTRAINT "FK_c1485ab511f30227d4e8739b1ea" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_cluster_connectors_cluster" ON "cluster_connectors" ("clusterId") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "UQ_cluster_connectors_cluster"`);
    await queryRunner.query(`DROP TABLE "cluster_connectors"`);
  }
}
