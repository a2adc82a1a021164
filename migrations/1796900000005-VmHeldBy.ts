import { MigrationInterface, QueryRunner } from 'typeorm';

/** A VM's platform may hold it where it is (locked, a template, local disks…): its connector says why, and the VM never moves. */
export class VmHeldBy1796900000005 implements MigrationInterface {
  name = 'VmHeldBy1796900000005';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "vms" ADD COLUMN "heldBy" varchar(500)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "vms" DROP COLUMN "heldBy"`);
  }
}
