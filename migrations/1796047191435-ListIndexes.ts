import { MigrationInterface, QueryRunner } from 'typeorm';

export class ListIndexes1796047191435 implements MigrationInterface {
  name = 'ListIndexes1796047191435';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "IDX_hosts_name" ON "hosts" ("name", "id") `);
    await queryRunner.query(`CREATE INDEX "IDX_vms_name" ON "vms" ("name", "id") `);
    await queryRunner.query(`CREATE INDEX "IDX_live_migrations_cluster_state" ON "live_migrations" ("clusterId", "state") `);
    await queryRunner.query(`CREATE INDEX "IDX_live_migrations_created" ON "live_migrations" ("createdAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_recommendations_created" ON "recommendations" ("createdAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_recommendations_status_created" ON "recommendations" ("status", "createdAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_recommendations_cluster_created" ON "recommendations" ("clusterId", "createdAt") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_recommendations_cluster_created"`);
    await queryRunner.query(`DROP INDEX "IDX_recommendations_status_created"`);
    await queryRunner.query(`DROP INDEX "IDX_recommendations_created"`);
    await queryRunner.query(`DROP INDEX "IDX_live_migrations_created"`);
    await queryRunner.query(`DROP INDEX "IDX_live_migrations_cluster_state"`);
    await queryRunner.query(`DROP INDEX "IDX_vms_name"`);
    await queryRunner.query(`DROP INDEX "IDX_hosts_name"`);
  }
}
