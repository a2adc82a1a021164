import { MigrationInterface, QueryRunner } from 'typeorm';

/** Rules and groups imported from a cluster's platform (vSphere DRS rules, Proxmox HA rules) say so, and are read-only here. */
export class PlatformRules1796900000004 implements MigrationInterface {
  name = 'PlatformRules1796900000004';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "groups" ADD COLUMN "source" varchar(16)`);
    await queryRunner.query(`ALTER TABLE "rules" ADD COLUMN "source" varchar(16)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rules" DROP COLUMN "source"`);
    await queryRunner.query(`ALTER TABLE "groups" DROP COLUMN "source"`);
  }
}
