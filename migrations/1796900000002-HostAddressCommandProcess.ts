import { MigrationInterface, QueryRunner } from 'typeorm';

/** Hosts get the address migration commands connect to; migrations keep the handle of the command they started. */
export class HostAddressCommandProcess1796900000002 implements MigrationInterface {
  name = 'HostAddressCommandProcess1796900000002';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "hosts" ADD COLUMN "address" varchar(255)`);
    await queryRunner.query(`ALTER TABLE "live_migrations" ADD COLUMN "handle" text`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "live_migrations" DROP COLUMN "handle"`);
    await queryRunner.query(`ALTER TABLE "hosts" DROP COLUMN "address"`);
  }
}
