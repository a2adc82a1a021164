import { MigrationInterface, QueryRunner } from 'typeorm';

/** CPU ready: the share of time a VM's vCPUs were ready to run and waited for a physical CPU (vSphere's cpu.ready), when the platform says. */
export class SampleCpuReady1796900000006 implements MigrationInterface {
  name = 'SampleCpuReady1796900000006';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "samples" ADD COLUMN "cpuReadyPercent" real`);
    await queryRunner.query(`ALTER TABLE "sample_rollups" ADD COLUMN "cpuReadyPercent" real`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sample_rollups" DROP COLUMN "cpuReadyPercent"`);
    await queryRunner.query(`ALTER TABLE "samples" DROP COLUMN "cpuReadyPercent"`);
  }
}
