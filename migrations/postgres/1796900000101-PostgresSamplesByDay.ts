import { MigrationInterface, QueryRunner } from 'typeorm';

// `samples` and `sample_rollups` partitioned by UTC day on "timestamp" (epoch ms): one partition per
// day, named <table>_pYYYYMMDD, bounds [the day's start, the next day's start). Same columns, keys and
// indexes as before; the rows move into the partitions their days need. Retention then drops whole
// days (src/samples/retention.service.ts) instead of deleting their rows. `down` restores plain tables.
const REF = `character varying COLLATE "C"`;
const KIND = `character varying(4) COLLATE "C"`;
const DAY_MS = 86_400_000;

interface Table {
  name: 'samples' | 'sample_rollups';
  columns: string;
  key: string;
  indexes: [name: string, columns: string][];
}

const TABLES: Table[] = [
  {
    name: 'samples',
    columns: `"clusterId" ${REF} NOT NULL, "timestamp" bigint NOT NULL, "subjectId" ${REF} NOT NULL, "subjectKind" ${KIND} NOT NULL,
    "cpuMhz" double precision NOT NULL, "memoryActiveMib" double precision NOT NULL, "memoryConsumedMib" double precision NOT NULL,
    "memoryDirtyMibPerSecond" double precision, "cpuReadyPercent" double precision`,
    key: `CONSTRAINT "PK_samples" PRIMARY KEY ("clusterId", "timestamp", "subjectId")`,
    indexes: [],
  },
  {
    name: 'sample_rollups',
    columns: `"subjectId" ${REF} NOT NULL, "timestamp" bigint NOT NULL, "subjectKind" ${KIND} NOT NULL,
    "clusterId" ${REF} NOT NULL, "cpuMhz" double precision NOT NULL, "memoryActiveMib" double precision NOT NULL,
    "memoryConsumedMib" double precision NOT NULL, "memoryDirtyMibPerSecond" double precision, "sampleCount" bigint NOT NULL,
    "cpuReadyPercent" double precision`,
    key: `CONSTRAINT "PK_sample_rollups" PRIMARY KEY ("subjectId", "timestamp")`,
    indexes: [['IDX_sample_rollups_time', '"timestamp"']],
  },
];

const partitionName = (table: string, day: number) => `${table}_p${new Date(day).toISOString().slice(0, 10).replace(/-/g, '')}`;

/** Rebuilds the table, partitioned by day or plain, with its rows: the old one renamed out of the way, copied, dropped. */
async function rebuild(queryRunner: QueryRunner, table: Table, partitioned: boolean): Promise<void> {
  const old = `${table.name}_before`;
  const keyName = /CONSTRAINT "([^"]+)"/.exec(table.key)![1];
  await queryRunner.query(`ALTER TABLE "${table.name}" RENAME TO "${old}"`);
  await queryRunner.query(`ALTER TABLE "${old}" RENAME CONSTRAINT "${keyName}" TO "${keyName}_before"`);
  for (const [index] of table.indexes) await queryRunner.query(`ALTER INDEX "${index}" RENAME TO "${index}_before"`);

  await queryRunner.query(
    `CREATE TABLE "${table.name}" (${table.columns},\n    ${table.key})${partitioned ? ` PARTITION BY RANGE ("timestamp")` : ''}`,
  );
  for (const [index, columns] of table.indexes) await queryRunner.query(`CREATE INDEX "${index}" ON "${table.name}" (${columns})`);
  if (partitioned) {
    const days = (await queryRunner.query(`SELECT DISTINCT floor("timestamp"::numeric / ${DAY_MS}) * ${DAY_MS} AS day FROM "${old}"`)) as {
      day: string | number;
    }[];
    for (const day of days.map((d) => Number(d.day))) {
      await queryRunner.query(
        `CREATE TABLE "${partitionName(table.name, day)}" PARTITION OF "${table.name}" FOR VALUES FROM (${day}) TO (${day + DAY_MS})`,
      );
    }
  }
  const columns = [...table.columns.matchAll(/"(\w+)" (?:character|bigint|double)/g)].map((m) => `"${m[1]}"`).join(', ');
  await queryRunner.query(`INSERT INTO "${table.name}" (${columns}) SELECT ${columns} FROM "${old}"`);
  await queryRunner.query(`DROP TABLE "${old}"`);
}

export class PostgresSamplesByDay1796900000101 implements MigrationInterface {
  name = 'PostgresSamplesByDay1796900000101';

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of TABLES) await rebuild(queryRunner, table, true);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // The partitions go with their table; their rows are copied first.
    for (const table of TABLES) await rebuild(queryRunner, table, false);
  }
}
