import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795582180891 implements MigrationInterface {
  name = 'InitialSchema1795582180891';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "clusters" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "name" varchar(200) NOT NULL, "description" varchar(2000) NOT NULL DEFAULT (''))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_clusters_name" ON "clusters" ("name") `);
    await queryRunner.query(
      `CREATE TABLE "hosts" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "name" varchar(200) NOT NULL, "cpuCores" integer NOT NULL, "cpuMhz" integer NOT NULL, "memoryMib" integer NOT NULL, "migrationGbps" real NOT NULL DEFAULT (10), "state" varchar(32) NOT NULL DEFAULT ('connected'))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_hosts_state" ON "hosts" ("state") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_hosts_cluster_name" ON "hosts" ("clusterId", "name") `);
    await queryRunner.query(
      `CREATE TABLE "vms" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "hostId" varchar NOT NULL, "name" varchar(200) NOT NULL, "vcpus" integer NOT NULL, "memoryMib" integer NOT NULL, "powerState" varchar(16) NOT NULL DEFAULT ('poweredOn'), "automation" varchar(16) NOT NULL DEFAULT ('default'), "cpuReservationMhz" integer NOT NULL DEFAULT (0), "cpuLimitMhz" integer, "memoryReservationMib" integer NOT NULL DEFAULT (0), "memoryLimitMib" integer)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_vms_host" ON "vms" ("hostId") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_vms_cluster_name" ON "vms" ("clusterId", "name") `);
    await queryRunner.query(
      `CREATE TABLE "groups" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "name" varchar(200) NOT NULL, "kind" varchar(8) NOT NULL)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_groups_cluster_name" ON "groups" ("clusterId", "name") `);
    await queryRunner.query(
      `CREATE TABLE "rules" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "name" varchar(200) NOT NULL, "kind" varchar(16) NOT NULL, "vmGroupId" varchar NOT NULL, "hostGroupId" varchar, "relation" varchar(16), "enforcement" varchar(8) NOT NULL, "enabled" boolean NOT NULL DEFAULT (1))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_rules_cluster_name" ON "rules" ("clusterId", "name") `);
    await queryRunner.query(
      `CREATE TABLE "vm_group_members" ("groupId" varchar NOT NULL, "vmId" varchar NOT NULL, PRIMARY KEY ("groupId", "vmId"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_b54201ba73dc176afbd09bc625" ON "vm_group_members" ("groupId") `);
    await queryRunner.query(`CREATE INDEX "IDX_bc97329ddb698b3348e135ab27" ON "vm_group_members" ("vmId") `);
    await queryRunner.query(
      `CREATE TABLE "host_group_members" ("groupId" varchar NOT NULL, "hostId" varchar NOT NULL, PRIMARY KEY ("groupId", "hostId"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_8d1227ecfe4a854339c1ca4725" ON "host_group_members" ("groupId") `);
    await queryRunner.query(`CREATE INDEX "IDX_05defbdb6cf296b9d71ca72fea" ON "host_group_members" ("hostId") `);
    await queryRunner.query(`DROP INDEX "IDX_hosts_state"`);
    await queryRunner.query(`DROP INDEX "UQ_hosts_cluster_name"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_hosts" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "name" varchar(200) NOT NULL, "cpuCores" integer NOT NULL, "cpuMhz" integer NOT NULL, "memoryMib" integer NOT NULL, "migrationGbps" real NOT NULL DEFAULT (10), "state" varchar(32) NOT NULL DEFAULT ('connected'), CONSTRAINT "FK_185fde7a99f53ece6f1a4dfd491" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_hosts"("id", "createdAt", "updatedAt", "version", "clusterId", "name", "cpuCores", "cpuMhz", "memoryMib", "migrationGbps", "state") SELECT "id", "createdAt", "updatedAt", "version", "clusterId", "name", "cpuCores", "cpuMhz", "memoryMib", "migrationGbps", "state" FROM "hosts"`,
    );
    await queryRunner.query(`DROP TABLE "hosts"`);
    await queryRunner.query(`ALTER TABLE "temporary_hosts" RENAME TO "hosts"`);
    await queryRunner.query(`CREATE INDEX "IDX_hosts_state" ON "hosts" ("state") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_hosts_cluster_name" ON "hosts" ("clusterId", "name") `);
    await queryRunner.query(`DROP INDEX "IDX_vms_host"`);
    await queryRunner.query(`DROP INDEX "UQ_vms_cluster_name"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_vms" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "hostId" varchar NOT NULL, "name" varchar(200) NOT NULL, "vcpus" integer NOT NULL, "memoryMib" integer NOT NULL, "powerState" varchar(16) NOT NULL DEFAULT ('poweredOn'), "automation" varchar(16) NOT NULL DEFAULT ('default'), "cpuReservationMhz" integer NOT NULL DEFAULT (0), "cpuLimitMhz" integer, "memoryReservationMib" integer NOT NULL DEFAULT (0), "memoryLimitMib" integer, CONSTRAINT "FK_0e9a9c996bc73806585f55e678e" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION, CONSTRAINT "FK_8d83031d5041521d7b9dea315e9" FOREIGN KEY ("hostId") REFERENCES "hosts" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_vms"("id", "createdAt", "updatedAt", "version", "clusterId", "hostId", "name", "vcpus", "memoryMib", "powerState", "automation", "cpuReservationMhz", "cpuLimitMhz", "memoryReservationMib", "memoryLimitMib") SELECT "id", "createdAt", "updatedAt", "version", "clusterId", "hostId", "name", "vcpus", "memoryMib", "powerState", "automation", "cpuReservationMhz", "cpuLimitMhz", "memoryReservationMib", "memoryLimitMib" FROM "vms"`,
    );
    await queryRunner.query(`DROP TABLE "vms"`);
    await queryRunner.query(`ALTER TABLE "temporary_vms" RENAME TO "vms"`);
    await queryRunner.query(`CREATE INDEX "IDX_vms_host" ON "vms" ("hostId") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_vms_cluster_name" ON "vms" ("clusterId", "name") `);
    await queryRunner.query(`DROP INDEX "UQ_groups_cluster_name"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_groups" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "name" varchar(200) NOT NULL, "kind" varchar(8) NOT NULL, CONSTRAINT "FK_70fdbcf872ddf93260bade16dbf" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_groups"("id", "createdAt", "updatedAt", "version", "clusterId", "name", "kind") SELECT "id", "createdAt", "updatedAt", "version", "clusterId", "name", "kind" FROM "groups"`,
    );
    await queryRunner.query(`DROP TABLE "groups"`);
    await queryRunner.query(`ALTER TABLE "temporary_groups" RENAME TO "groups"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_groups_cluster_name" ON "groups" ("clusterId", "name") `);
    await queryRunner.query(`DROP INDEX "UQ_rules_cluster_name"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_rules" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "name" varchar(200) NOT NULL, "kind" varchar(16) NOT NULL, "vmGroupId" varchar NOT NULL, "hostGroupId" varchar, "relation" varchar(16), "enforcement" varchar(8) NOT NULL, "enabled" boolean NOT NULL DEFAULT (1), CONSTRAINT "FK_a34bfc7bd4c1c940d0d1380be4a" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION, CONSTRAINT "FK_3c3b700ceb6ad4556c2ed4598ba" FOREIGN KEY ("vmGroupId") REFERENCES "groups" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION, CONSTRAINT "FK_4697ae173f09c6ababce060e652" FOREIGN KEY ("hostGroupId") REFERENCES "groups" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_rules"("id", "createdAt", "updatedAt", "version", "clusterId", "name", "kind", "vmGroupId", "hostGroupId", "relation", "enforcement", "enabled") SELECT "id", "createdAt", "updatedAt", "version", "clusterId", "name", "kind", "vmGroupId", "hostGroupId", "relation", "enforcement", "enabled" FROM "rules"`,
    );
    await queryRunner.query(`DROP TABLE "rules"`);
    await queryRunner.query(`ALTER TABLE "temporary_rules" RENAME TO "rules"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_rules_cluster_name" ON "rules" ("clusterId", "name") `);
    await queryRunner.query(`DROP INDEX "IDX_b54201ba73dc176afbd09bc625"`);
    await queryRunner.query(`DROP INDEX "IDX_bc97329ddb698b3348e135ab27"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_vm_group_members" ("groupId" varchar NOT NULL, "vmId" varchar NOT NULL, CONSTRAINT "FK_b54201ba73dc176afbd09bc625b" FOREIGN KEY ("groupId") REFERENCES "groups" ("id") ON DELETE CASCADE ON UPDATE CASCADE, CONSTRAINT "FK_bc97329ddb698b3348e135ab275" FOREIGN KEY ("vmId") REFERENCES "vms" ("id") ON DELETE CASCADE ON UPDATE CASCADE, PRIMARY KEY ("groupId", "vmId"))`,
    );
    await queryRunner.query(`INSERT INTO "temporary_vm_group_members"("groupId", "vmId") SELECT "groupId", "vmId" FROM "vm_group_members"`);
    await queryRunner.query(`DROP TABLE "vm_group_members"`);
    await queryRunner.query(`ALTER TABLE "temporary_vm_group_members" RENAME TO "vm_group_members"`);
    await queryRunner.query(`CREATE INDEX "IDX_b54201ba73dc176afbd09bc625" ON "vm_group_members" ("groupId") `);
    await queryRunner.query(`CREATE INDEX "IDX_bc97329ddb698b3348e135ab27" ON "vm_group_members" ("vmId") `);
    await queryRunner.query(`DROP INDEX "IDX_8d1227ecfe4a854339c1ca4725"`);
    await queryRunner.query(`DROP INDEX "IDX_05defbdb6cf296b9d71ca72fea"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_host_group_members" ("groupId" varchar NOT NULL, "hostId" varchar NOT NULL, CONSTRAINT "FK_8d1227ecfe4a854339c1ca47252" FOREIGN KEY ("groupId") REFERENCES "groups" ("id") ON DELETE CASCADE ON UPDATE CASCADE, CONSTRAINT "FK_05defbdb6cf296b9d71ca72fea8" FOREIGN KEY ("hostId") REFERENCES "hosts" ("id") ON DELETE CASCADE ON UPDATE CASCADE, PRIMARY KEY ("groupId", "hostId"))`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_host_group_members"("groupId", "hostId") SELECT "groupId", "hostId" FROM "host_group_members"`,
    );
    await queryRunner.query(`DROP TABLE "host_group_members"`);
    await queryRunner.query(`ALTER TABLE "temporary_host_group_members" RENAME TO "host_group_members"`);
    await queryRunner.query(`CREATE INDEX "IDX_8d1227ecfe4a854339c1ca4725" ON "host_group_members" ("groupId") `);
    await queryRunner.query(`CREATE INDEX "IDX_05defbdb6cf296b9d71ca72fea" ON "host_group_members" ("hostId") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_05defbdb6cf296b9d71ca72fea"`);
    await queryRunner.query(`DROP INDEX "IDX_8d1227ecfe4a854339c1ca4725"`);
    await queryRunner.query(`ALTER TABLE "host_group_members" RENAME TO "temporary_host_group_members"`);
    await queryRunner.query(
      `CREATE TABLE "host_group_members" ("groupId" varchar NOT NULL, "hostId" varchar NOT NULL, PRIMARY KEY ("groupId", "hostId"))`,
    );
    await queryRunner.query(
      `INSERT INTO "host_group_members"("groupId", "hostId") SELECT "groupId", "hostId" FROM "temporary_host_group_members"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_host_group_members"`);
    await queryRunner.query(`CREATE INDEX "IDX_05defbdb6cf296b9d71ca72fea" ON "host_group_members" ("hostId") `);
    await queryRunner.query(`CREATE INDEX "IDX_8d1227ecfe4a854339c1ca4725" ON "host_group_members" ("groupId") `);
    await queryRunner.query(`DROP INDEX "IDX_bc97329ddb698b3348e135ab27"`);
    await queryRunner.query(`DROP INDEX "IDX_b54201ba73dc176afbd09bc625"`);
    await queryRunner.query(`ALTER TABLE "vm_group_members" RENAME TO "temporary_vm_group_members"`);
    await queryRunner.query(
      `CREATE TABLE "vm_group_members" ("groupId" varchar NOT NULL, "vmId" varchar NOT NULL, PRIMARY KEY ("groupId", "vmId"))`,
    );
    await queryRunner.query(`INSERT INTO "vm_group_members"("groupId", "vmId") SELECT "groupId", "vmId" FROM "temporary_vm_group_members"`);
    await queryRunner.query(`DROP TABLE "temporary_vm_group_members"`);
    await queryRunner.query(`CREATE INDEX "IDX_bc97329ddb698b3348e135ab27" ON "vm_group_members" ("vmId") `);
    await queryRunner.query(`CREATE INDEX "IDX_b54201ba73dc176afbd09bc625" ON "vm_group_members" ("groupId") `);
    await queryRunner.query(`DROP INDEX "UQ_rules_cluster_name"`);
    await queryRunner.query(`ALTER TABLE "rules" RENAME TO "temporary_rules"`);
    await queryRunner.query(
      `CREATE TABLE "rules" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "name" varchar(200) NOT NULL, "kind" varchar(16) NOT NULL, "vmGroupId" varchar NOT NULL, "hostGroupId" varchar, "relation" varchar(16), "enforcement" varchar(8) NOT NULL, "enabled" boolean NOT NULL DEFAULT (1))`,
    );
    await queryRunner.query(
      `INSERT INTO "rules"("id", "createdAt", "updatedAt", "version", "clusterId", "name", "kind", "vmGroupId", "hostGroupId", "relation", "enforcement", "enabled") SELECT "id", "createdAt", "updatedAt", "version", "clusterId", "name", "kind", "vmGroupId", "hostGroupId", "relation", "enforcement", "enabled" FROM "temporary_rules"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_rules"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_rules_cluster_name" ON "rules" ("clusterId", "name") `);
    await queryRunner.query(`DROP INDEX "UQ_groups_cluster_name"`);
    await queryRunner.query(`ALTER TABLE "groups" RENAME TO "temporary_groups"`);
    await queryRunner.query(
      `CREATE TABLE "groups" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "name" varchar(200) NOT NULL, "kind" varchar(8) NOT NULL)`,
    );
    await queryRunner.query(
      `INSERT INTO "groups"("id", "createdAt", "updatedAt", "version", "clusterId", "name", "kind") SELECT "id", "createdAt", "updatedAt", "version", "clusterId", "name", "kind" FROM "temporary_groups"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_groups"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_groups_cluster_name" ON "groups" ("clusterId", "name") `);
    await queryRunner.query(`DROP INDEX "UQ_vms_cluster_name"`);
    await queryRunner.query(`DROP INDEX "IDX_vms_host"`);
    await queryRunner.query(`ALTER TABLE "vms" RENAME TO "temporary_vms"`);
    await queryRunner.query(
      `CREATE TABLE "vms" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "hostId" varchar NOT NULL, "name" varchar(200) NOT NULL, "vcpus" integer NOT NULL, "memoryMib" integer NOT NULL, "powerState" varchar(16) NOT NULL DEFAULT ('poweredOn'), "automation" varchar(16) NOT NULL DEFAULT ('default'), "cpuReservationMhz" integer NOT NULL DEFAULT (0), "cpuLimitMhz" integer, "memoryReservationMib" integer NOT NULL DEFAULT (0), "memoryLimitMib" integer)`,
    );
    await queryRunner.query(
      `INSERT INTO "vms"("id", "createdAt", "updatedAt", "version", "clusterId", "hostId", "name", "vcpus", "memoryMib", "powerState", "automation", "cpuReservationMhz", "cpuLimitMhz", "memoryReservationMib", "memoryLimitMib") SELECT "id", "createdAt", "updatedAt", "version", "clusterId", "hostId", "name", "vcpus", "memoryMib", "powerState", "automation", "cpuReservationMhz", "cpuLimitMhz", "memoryReservationMib", "memoryLimitMib" FROM "temporary_vms"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_vms"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_vms_cluster_name" ON "vms" ("clusterId", "name") `);
    await queryRunner.query(`CREATE INDEX "IDX_vms_host" ON "vms" ("hostId") `);
    await queryRunner.query(`DROP INDEX "UQ_hosts_cluster_name"`);
    await queryRunner.query(`DROP INDEX "IDX_hosts_state"`);
    await queryRunner.query(`ALTER TABLE "hosts" RENAME TO "temporary_hosts"`);
    await queryRunner.query(
      `CREATE TABLE "hosts" ("id" varchar PRIMARY KEY NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "version" integer NOT NULL, "clusterId" varchar NOT NULL, "name" varchar(200) NOT NULL, "cpuCores" integer NOT NULL, "cpuMhz" integer NOT NULL, "memoryMib" integer NOT NULL, "migrationGbps" real NOT NULL DEFAULT (10), "state" varchar(32) NOT NULL DEFAULT ('connected'))`,
    );
    await queryRunner.query(
      `INSERT INTO "hosts"("id", "createdAt", "updatedAt", "version", "clusterId", "name", "cpuCores", "cpuMhz", "memoryMib", "migrationGbps", "state") SELECT "id", "createdAt", "updatedAt", "version", "clusterId", "name", "cpuCores", "cpuMhz", "memoryMib", "migrationGbps", "state" FROM "temporary_hosts"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_hosts"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_hosts_cluster_name" ON "hosts" ("clusterId", "name") `);
    await queryRunner.query(`CREATE INDEX "IDX_hosts_state" ON "hosts" ("state") `);
    await queryRunner.query(`DROP INDEX "IDX_05defbdb6cf296b9d71ca72fea"`);
    await queryRunner.query(`DROP INDEX "IDX_8d1227ecfe4a854339c1ca4725"`);
    await queryRunner.query(`DROP TABLE "host_group_members"`);
    await queryRunner.query(`DROP INDEX "IDX_bc97329ddb698b3348e135ab27"`);
    await queryRunner.query(`DROP INDEX "IDX_b54201ba73dc176afbd09bc625"`);
    await queryRunner.query(`DROP TABLE "vm_group_members"`);
    await queryRunner.query(`DROP INDEX "UQ_rules_cluster_name"`);
    await queryRunner.query(`DROP TABLE "rules"`);
    await queryRunner.query(`DROP INDEX "UQ_groups_cluster_name"`);
    await queryRunner.query(`DROP TABLE "groups"`);
    await queryRunner.query(`DROP INDEX "UQ_vms_cluster_name"`);
    await queryRunner.query(`DROP INDEX "IDX_vms_host"`);
    await queryRunner.query(`DROP TABLE "vms"`);
    await queryRunner.query(`DROP INDEX "UQ_hosts_cluster_name"`);
    await queryRunner.query(`DROP INDEX "IDX_hosts_state"`);
    await queryRunner.query(`DROP TABLE "hosts"`);
    await queryRunner.query(`DROP INDEX "UQ_clusters_name"`);
    await queryRunner.query(`DROP TABLE "clusters"`);
  }
}
