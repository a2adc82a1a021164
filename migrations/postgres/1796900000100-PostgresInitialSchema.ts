import { MigrationInterface, QueryRunner } from 'typeorm';

// The schema every SQLite migration in migrations/ produces, in one step, for PostgreSQL. SQLite's
// INTEGER and REAL are 8 bytes: here bigint (epoch milliseconds outgrow integer) and double precision.
// Texts compare byte by byte (COLLATE "C"), as SQLite's do: names list in the same order on both.
// Ids stay texts (ids that are no UUID are looked up, not refused), made by the database when not given.
const ID = `character varying COLLATE "C" NOT NULL DEFAULT gen_random_uuid()`;
const REF = `character varying COLLATE "C"`;
const TEXT = (length?: number) => `character varying${length ? `(${length})` : ''} COLLATE "C"`;
const STAMPS = `"createdAt" timestamp with time zone NOT NULL DEFAULT now(), "updatedAt" timestamp with time zone NOT NULL DEFAULT now(), "version" bigint NOT NULL`;

const TABLES: string[] = [
  `CREATE TABLE "clusters" ("id" ${ID}, ${STAMPS}, "name" ${TEXT(200)} NOT NULL, "description" ${TEXT(2000)} NOT NULL DEFAULT '',
    CONSTRAINT "PK_clusters" PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "UQ_clusters_name" ON "clusters" ("name")`,

  `CREATE TABLE "hosts" ("id" ${ID}, ${STAMPS}, "clusterId" ${REF} NOT NULL, "name" ${TEXT(200)} NOT NULL, "cpuCores" bigint NOT NULL,
    "cpuMhz" bigint NOT NULL, "memoryMib" bigint NOT NULL, "migrationGbps" double precision NOT NULL DEFAULT 10,
    "state" ${TEXT(32)} NOT NULL DEFAULT 'connected', "address" ${TEXT(255)},
    CONSTRAINT "PK_hosts" PRIMARY KEY ("id"),
    CONSTRAINT "FK_185fde7a99f53ece6f1a4dfd491" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE INDEX "IDX_hosts_state" ON "hosts" ("state")`,
  `CREATE UNIQUE INDEX "UQ_hosts_cluster_name" ON "hosts" ("clusterId", "name")`,
  `CREATE INDEX "IDX_hosts_name" ON "hosts" ("name", "id")`,

  `CREATE TABLE "vms" ("id" ${ID}, ${STAMPS}, "clusterId" ${REF} NOT NULL, "hostId" ${REF} NOT NULL, "name" ${TEXT(200)} NOT NULL,
    "vcpus" bigint NOT NULL, "memoryMib" bigint NOT NULL, "powerState" ${TEXT(16)} NOT NULL DEFAULT 'poweredOn',
    "automation" ${TEXT(16)} NOT NULL DEFAULT 'default', "cpuReservationMhz" bigint NOT NULL DEFAULT 0, "cpuLimitMhz" bigint,
    "memoryReservationMib" bigint NOT NULL DEFAULT 0, "memoryLimitMib" bigint, "heldBy" ${TEXT(500)},
    CONSTRAINT "PK_vms" PRIMARY KEY ("id"),
    CONSTRAINT "FK_0e9a9c996bc73806585f55e678e" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION,
    CONSTRAINT "FK_8d83031d5041521d7b9dea315e9" FOREIGN KEY ("hostId") REFERENCES "hosts" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE INDEX "IDX_vms_host" ON "vms" ("hostId")`,
  `CREATE UNIQUE INDEX "UQ_vms_cluster_name" ON "vms" ("clusterId", "name")`,
  `CREATE INDEX "IDX_vms_name" ON "vms" ("name", "id")`,

  `CREATE TABLE "groups" ("id" ${ID}, ${STAMPS}, "clusterId" ${REF} NOT NULL, "name" ${TEXT(200)} NOT NULL, "kind" ${TEXT(8)} NOT NULL,
    "source" ${TEXT(16)},
    CONSTRAINT "PK_groups" PRIMARY KEY ("id"),
    CONSTRAINT "FK_70fdbcf872ddf93260bade16dbf" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE UNIQUE INDEX "UQ_groups_cluster_name" ON "groups" ("clusterId", "name")`,

  `CREATE TABLE "rules" ("id" ${ID}, ${STAMPS}, "clusterId" ${REF} NOT NULL, "name" ${TEXT(200)} NOT NULL, "kind" ${TEXT(16)} NOT NULL,
    "vmGroupId" ${REF} NOT NULL, "hostGroupId" ${REF}, "relation" ${TEXT(16)}, "enforcement" ${TEXT(8)} NOT NULL,
    "enabled" boolean NOT NULL DEFAULT true, "source" ${TEXT(16)},
    CONSTRAINT "PK_rules" PRIMARY KEY ("id"),
    CONSTRAINT "FK_a34bfc7bd4c1c940d0d1380be4a" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION,
    CONSTRAINT "FK_3c3b700ceb6ad4556c2ed4598ba" FOREIGN KEY ("vmGroupId") REFERENCES "groups" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION,
    CONSTRAINT "FK_4697ae173f09c6ababce060e652" FOREIGN KEY ("hostGroupId") REFERENCES "groups" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE UNIQUE INDEX "UQ_rules_cluster_name" ON "rules" ("clusterId", "name")`,

  `CREATE TABLE "vm_group_members" ("groupId" ${REF} NOT NULL, "vmId" ${REF} NOT NULL,
    CONSTRAINT "PK_vm_group_members" PRIMARY KEY ("groupId", "vmId"),
    CONSTRAINT "FK_b54201ba73dc176afbd09bc625b" FOREIGN KEY ("groupId") REFERENCES "groups" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "FK_bc97329ddb698b3348e135ab275" FOREIGN KEY ("vmId") REFERENCES "vms" ("id") ON DELETE CASCADE ON UPDATE CASCADE)`,
  `CREATE INDEX "IDX_b54201ba73dc176afbd09bc625" ON "vm_group_members" ("groupId")`,
  `CREATE INDEX "IDX_bc97329ddb698b3348e135ab27" ON "vm_group_members" ("vmId")`,

  `CREATE TABLE "host_group_members" ("groupId" ${REF} NOT NULL, "hostId" ${REF} NOT NULL,
    CONSTRAINT "PK_host_group_members" PRIMARY KEY ("groupId", "hostId"),
    CONSTRAINT "FK_8d1227ecfe4a854339c1ca47252" FOREIGN KEY ("groupId") REFERENCES "groups" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "FK_05defbdb6cf296b9d71ca72fea8" FOREIGN KEY ("hostId") REFERENCES "hosts" ("id") ON DELETE CASCADE ON UPDATE CASCADE)`,
  `CREATE INDEX "IDX_8d1227ecfe4a854339c1ca4725" ON "host_group_members" ("groupId")`,
  `CREATE INDEX "IDX_05defbdb6cf296b9d71ca72fea" ON "host_group_members" ("hostId")`,

  `CREATE TABLE "samples" ("clusterId" ${REF} NOT NULL, "timestamp" bigint NOT NULL, "subjectId" ${REF} NOT NULL, "subjectKind" ${TEXT(4)} NOT NULL,
    "cpuMhz" double precision NOT NULL, "memoryActiveMib" double precision NOT NULL, "memoryConsumedMib" double precision NOT NULL,
    "memoryDirtyMibPerSecond" double precision, "cpuReadyPercent" double precision,
    CONSTRAINT "PK_samples" PRIMARY KEY ("clusterId", "timestamp", "subjectId"))`,

  `CREATE TABLE "sample_rollups" ("subjectId" ${REF} NOT NULL, "timestamp" bigint NOT NULL, "subjectKind" ${TEXT(4)} NOT NULL,
    "clusterId" ${REF} NOT NULL, "cpuMhz" double precision NOT NULL, "memoryActiveMib" double precision NOT NULL,
    "memoryConsumedMib" double precision NOT NULL, "memoryDirtyMibPerSecond" double precision, "sampleCount" bigint NOT NULL,
    "cpuReadyPercent" double precision,
    CONSTRAINT "PK_sample_rollups" PRIMARY KEY ("subjectId", "timestamp"))`,
  `CREATE INDEX "IDX_sample_rollups_time" ON "sample_rollups" ("timestamp")`,

  `CREATE TABLE "events" ("id" bigserial NOT NULL, "timestamp" bigint NOT NULL, "clusterId" ${REF}, "subjectType" ${TEXT(32)} NOT NULL,
    "subjectId" ${REF}, "type" ${TEXT(64)} NOT NULL, "message" ${TEXT(2000)} NOT NULL, "data" text, "actor" text,
    CONSTRAINT "PK_events" PRIMARY KEY ("id"))`,
  `CREATE INDEX "IDX_events_time" ON "events" ("timestamp")`,
  `CREATE INDEX "IDX_events_cluster_time" ON "events" ("clusterId", "timestamp")`,

  `CREATE TABLE "recommendations" ("id" ${ID}, "clusterId" ${REF} NOT NULL, "passId" ${REF} NOT NULL, "vmId" ${REF} NOT NULL,
    "vmName" ${TEXT(200)} NOT NULL, "fromHostId" ${REF} NOT NULL, "toHostId" ${REF} NOT NULL, "priority" bigint NOT NULL,
    "reason" ${TEXT(32)} NOT NULL, "explanation" ${TEXT(2000)} NOT NULL, "gain" double precision NOT NULL, "cost" double precision NOT NULL,
    "imbalanceAfter" double precision NOT NULL, "groupId" ${REF}, "status" ${TEXT(16)} NOT NULL, "migrationId" ${REF},
    "createdAt" bigint NOT NULL, "decidedAt" bigint, "version" bigint NOT NULL,
    CONSTRAINT "PK_recommendations" PRIMARY KEY ("id"))`,
  `CREATE INDEX "IDX_recommendations_vm" ON "recommendations" ("vmId")`,
  `CREATE INDEX "IDX_recommendations_cluster_status" ON "recommendations" ("clusterId", "status")`,
  `CREATE INDEX "IDX_recommendations_created" ON "recommendations" ("createdAt")`,
  `CREATE INDEX "IDX_recommendations_status_created" ON "recommendations" ("status", "createdAt")`,
  `CREATE INDEX "IDX_recommendations_cluster_created" ON "recommendations" ("clusterId", "createdAt")`,

  `CREATE TABLE "passes" ("id" ${ID}, "clusterId" ${REF} NOT NULL, "trigger" ${TEXT(16)} NOT NULL, "status" ${TEXT(16)} NOT NULL,
    "startedAt" bigint NOT NULL, "finishedAt" bigint, "imbalanceBefore" double precision, "imbalanceAfter" double precision,
    "target" double precision, "movesRecommended" bigint NOT NULL DEFAULT 0, "movesApplied" bigint NOT NULL DEFAULT 0,
    "movesSkipped" bigint NOT NULL DEFAULT 0, "skipped" text NOT NULL, "notes" ${TEXT(2000)} NOT NULL DEFAULT '',
    CONSTRAINT "PK_passes" PRIMARY KEY ("id"))`,
  `CREATE INDEX "IDX_passes_cluster_started" ON "passes" ("clusterId", "startedAt")`,

  `CREATE TABLE "cluster_policies" ("clusterId" ${REF} NOT NULL, "settings" text NOT NULL,
    "updatedAt" timestamp with time zone NOT NULL DEFAULT now(), "version" bigint NOT NULL,
    CONSTRAINT "PK_cluster_policies" PRIMARY KEY ("clusterId"),
    CONSTRAINT "FK_6dd16d83cb20cf5b6e5db504a0e" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,

  `CREATE TABLE "live_migrations" ("id" ${ID}, "clusterId" ${REF} NOT NULL, "vmId" ${REF} NOT NULL, "sourceHostId" ${REF} NOT NULL,
    "targetHostId" ${REF} NOT NULL, "state" ${TEXT(16)} NOT NULL, "memoryMib" bigint NOT NULL, "trigger" ${TEXT(16)} NOT NULL,
    "reason" text NOT NULL DEFAULT '', "priority" bigint NOT NULL DEFAULT 3, "recommendationId" ${REF}, "driver" ${TEXT(32)} NOT NULL,
    "attempts" bigint NOT NULL DEFAULT 0, "maxAttempts" bigint NOT NULL, "createdAt" bigint NOT NULL, "updatedAt" bigint NOT NULL,
    "startedAt" bigint, "finishedAt" bigint, "nextAttemptAt" bigint, "cancelRequestedAt" bigint,
    "progressPercent" double precision NOT NULL DEFAULT 0, "precopyRound" bigint, "copiedMib" double precision NOT NULL DEFAULT 0,
    "remainingMib" double precision, "etaSeconds" double precision, "downtimeMs" double precision, "durationSeconds" double precision,
    "error" text, "version" bigint NOT NULL, "handle" text,
    CONSTRAINT "PK_live_migrations" PRIMARY KEY ("id"))`,
  `CREATE INDEX "IDX_live_migrations_vm" ON "live_migrations" ("vmId")`,
  `CREATE INDEX "IDX_live_migrations_cluster_created" ON "live_migrations" ("clusterId", "createdAt")`,
  `CREATE INDEX "IDX_live_migrations_state" ON "live_migrations" ("state")`,
  `CREATE INDEX "IDX_live_migrations_cluster_state" ON "live_migrations" ("clusterId", "state")`,
  `CREATE INDEX "IDX_live_migrations_created" ON "live_migrations" ("createdAt")`,

  `CREATE TABLE "api_tokens" ("id" ${ID}, "keyId" ${TEXT(32)} NOT NULL, "name" ${TEXT(200)} NOT NULL, "role" ${TEXT(16)} NOT NULL,
    "salt" ${TEXT(64)} NOT NULL, "hash" ${TEXT(128)} NOT NULL, "createdAt" bigint NOT NULL, "revokedAt" bigint,
    "hashScheme" ${TEXT(16)} NOT NULL DEFAULT 'scrypt',
    CONSTRAINT "PK_api_tokens" PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "IDX_api_tokens_key" ON "api_tokens" ("keyId")`,

  `CREATE TABLE "cluster_connectors" ("id" ${ID}, "clusterId" ${REF} NOT NULL, "kind" ${TEXT(32)} NOT NULL, "settings" text NOT NULL,
    "credentials" text, "state" ${TEXT(16)} NOT NULL DEFAULT 'unknown', "lastError" ${TEXT(2000)}, "lastSyncAt" bigint, "lastCollectAt" bigint,
    ${STAMPS},
    CONSTRAINT "PK_cluster_connectors" PRIMARY KEY ("id"),
    CONSTRAINT "FK_c1485ab511f30227d4e8739b1ea" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
  `CREATE UNIQUE INDEX "UQ_cluster_connectors_cluster" ON "cluster_connectors" ("clusterId")`,
];

/** In the order they can be dropped: those that reference others first. */
const DROP_ORDER = [
  'cluster_connectors',
  'api_tokens',
  'live_migrations',
  'cluster_policies',
  'passes',
  'recommendations',
  'events',
  'sample_rollups',
  'samples',
  'host_group_members',
  'vm_group_members',
  'rules',
  'groups',
  'vms',
  'hosts',
  'clusters',
];

export class PostgresInitialSchema1796900000100 implements MigrationInterface {
  name = 'PostgresInitialSchema1796900000100';

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of TABLES) await queryRunner.query(statement);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of DROP_ORDER) await queryRunner.query(`DROP TABLE "${table}"`);
  }
}
