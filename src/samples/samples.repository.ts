// The samples' SQL: ingestion, history, demand summaries, roll-up and retention. Each function takes
// the caller's EntityManager (a write transaction, or a read connection). The SQL is written for both
// databases; what differs is in DIALECT, below.
import { EntityManager } from 'typeorm';
import { Dialect, dialectOf, execute, placeholdersFor, selectRows } from '../database/dialect';
import { UsagePoint } from './demand';

/** Raw samples older than the raw retention are averaged into buckets of this size. */
export const ROLLUP_BUCKET_MS = 300_000;

const COLUMNS = [
  'clusterId',
  'timestamp',
  'subjectId',
  'subjectKind',
  'cpuMhz',
  'memoryActiveMib',
  'memoryConsumedMib',
  'memoryDirtyMibPerSecond',
  'cpuReadyPercent',
];
const KEY = ['clusterId', 'timestamp', 'subjectId'];
const q = (column: string) => `"${column}"`;
/** PostgreSQL's type of each column as the JSON batch gives it as text. */
const PG_TYPES = ['text', 'bigint', 'text', 'text', 'float8', 'float8', 'float8', 'float8', 'float8'];

/**
 * What differs between the databases. The whole sample batch is bound as one JSON text and unpacked by
 * the database (json_each, json_array_elements): binding tens of thousands of separate parameters
 * costs more than the insert itself. A sample sent twice replaces the earlier one, within a batch too.
 */
const DIALECT: Record<Dialect, { insertFromJson: string; greatest: string }> = {
  sqlite: {
    insertFromJson: `INSERT OR REPLACE INTO samples (${COLUMNS.map(q).join(', ')})
  SELECT ${COLUMNS.map((_, i) => `value->>${i}`).join(', ')} FROM json_each(?)`,
    greatest: 'MAX',
  },
  postgres: {
    // ON CONFLICT may not touch a row twice in one statement: the batch's last sample of a key is kept.
    insertFromJson: `INSERT INTO samples (${COLUMNS.map(q).join(', ')})
  SELECT DISTINCT ON (${KEY.map((_, i) => i + 1).join(', ')}) ${COLUMNS.map((_, i) => `(value->>${i})::${PG_TYPES[i]}`).join(', ')}
    FROM json_array_elements(?::json) WITH ORDINALITY AS batch(value, position)
   ORDER BY ${KEY.map((_, i) => i + 1).join(', ')}, position DESC
  ON CONFLICT (${KEY.map(q).join(', ')}) DO UPDATE SET ${COLUMNS.filter((c) => !KEY.includes(c))
    .map((c) => `${q(c)} = excluded.${q(c)}`)
    .join(', ')}`,
    greatest: 'GREATEST',
  },
};

export interface HistoryPoint {
  timestamp: number;
  cpuMhz: number;
  memoryActiveMib: number;
  memoryConsumedMib: number;
  memoryDirtyMibPerSecond: number | null;
  cpuReadyPercent: number | null;
  sampleCount: number;
}

export async function insertSamples(m: EntityManager, rows: unknown[][]): Promise<void> {
  await execute(m, DIALECT[dialectOf(m)].insertFromJson, [JSON.stringify(rows)]);
}

/** Raw samples and 5-minute roll-ups of one subject, averaged into buckets of `stepMs` when it is not 0; at most `limit`. */
export function historyPoints(
  m: EntityManager,
  clusterId: string,
  subjectId: string,
  from: number,
  to: number,
  stepMs: number,
  limit: number,
): Promise<HistoryPoint[]> {
  const source = `
      SELECT "timestamp", "cpuMhz", "memoryActiveMib", "memoryConsumedMib", "memoryDirtyMibPerSecond", "cpuReadyPercent", 1 AS n
        FROM samples WHERE "clusterId" = ? AND "timestamp" BETWEEN ? AND ? AND "subjectId" = ?
      UNION ALL
      SELECT "timestamp", "cpuMhz", "memoryActiveMib", "memoryConsumedMib", "memoryDirtyMibPerSecond", "cpuReadyPercent", "sampleCount" AS n
        FROM sample_rollups WHERE "subjectId" = ? AND "timestamp" BETWEEN ? AND ?`;
  const params = [clusterId, from, to, subjectId, subjectId, from, to];
  // Sums of integers are CAST: PostgreSQL's SUM of a bigint is a numeric, which its driver hands over as text.
  const sql = stepMs
    ? `SELECT ("timestamp" / ${stepMs}) * ${stepMs} AS "timestamp",
           SUM("cpuMhz" * n) / SUM(n) AS "cpuMhz",
           SUM("memoryActiveMib" * n) / SUM(n) AS "memoryActiveMib",
           SUM("memoryConsumedMib" * n) / SUM(n) AS "memoryConsumedMib",
           SUM("memoryDirtyMibPerSecond" * n) / NULLIF(SUM(CASE WHEN "memoryDirtyMibPerSecond" IS NULL THEN 0 ELSE n END), 0) AS "memoryDirtyMibPerSecond",
           SUM("cpuReadyPercent" * n) / NULLIF(SUM(CASE WHEN "cpuReadyPercent" IS NULL THEN 0 ELSE n END), 0) AS "cpuReadyPercent",
           CAST(SUM(n) AS INTEGER) AS "sampleCount"
         FROM (${source}) AS points GROUP BY 1 ORDER BY 1 LIMIT ${limit}`
    : `SELECT "timestamp", "cpuMhz", "memoryActiveMib", "memoryConsumedMib", "memoryDirtyMibPerSecond", "cpuReadyPercent", n AS "sampleCount"
         FROM (${source}) AS points ORDER BY "timestamp" LIMIT ${limit}`;
  return selectRows(m, sql, params);
}

export async function clustersWithSamplesBefore(m: EntityManager, cutoff: number): Promise<string[]> {
  const rows = await selectRows<{ clusterId: string }>(m, 'SELECT DISTINCT "clusterId" FROM samples WHERE "timestamp" < ?', [cutoff]);
  return rows.map((r) => r.clusterId);
}

export async function oldestSample(m: EntityManager, clusterId: string): Promise<number | null> {
  const [{ oldest }] = await selectRows<{ oldest: number | null }>(
    m,
    'SELECT MIN("timestamp") AS oldest FROM samples WHERE "clusterId" = ?',
    [clusterId],
  );
  return oldest;
}

/** new = (old × its count + excluded × its count) / both counts, for a roll-up column merged with one written again. */
const merged = (c: string) =>
  `(sample_rollups."${c}" * sample_rollups."sampleCount" + excluded."${c}" * excluded."sampleCount") / (sample_rollups."sampleCount" + excluded."sampleCount")`;

/** Averages the raw samples of `source` matching `where` into roll-up buckets, merged with any already there. */
const rollUpFrom = (source: string, where: string) =>
  `INSERT INTO sample_rollups ("subjectId", "timestamp", "subjectKind", "clusterId", "cpuMhz", "memoryActiveMib", "memoryConsumedMib",
       "memoryDirtyMibPerSecond", "cpuReadyPercent", "sampleCount")
     SELECT "subjectId", ("timestamp" / ${ROLLUP_BUCKET_MS}) * ${ROLLUP_BUCKET_MS}, MIN("subjectKind"), MIN("clusterId"),
    AVG("cpuMhz"), AVG("memoryActiveMib"), AVG("memoryConsumedMib"), AVG("memoryDirtyMibPerSecond"), AVG("cpuReadyPercent"), COUNT(*)
       FROM ${source}${where}
      GROUP BY "subjectId", 2
     ON CONFLICT ("subjectId", "timestamp") DO UPDATE SET
       "cpuMhz" = ${merged('cpuMhz')},
       "memoryActiveMib" = ${merged('memoryActiveMib')},
       "memoryConsumedMib" = ${merged('memoryConsumedMib')},
       "memoryDirtyMibPerSecond" = COALESCE(${merged('memoryDirtyMibPerSecond')}, sample_rollups."memoryDirtyMibPerSecond", excluded."memoryDirtyMibPerSecond"),
       "cpuReadyPercent" = COALESCE(${merged('cpuReadyPercent')}, sample_rollups."cpuReadyPercent", excluded."cpuReadyPercent"),
       "sampleCount" = sample_rollups."sampleCount" + excluded."sampleCount"`;

/** Averages the cluster's raw samples before `sliceEnd` into roll-up buckets (merged with any there) and deletes them; the buckets written. */
export async function rollUpSlice(m: EntityManager, clusterId: string, sliceEnd: number): Promise<number> {
  const written = await execute(m, rollUpFrom('samples', ' WHERE "clusterId" = ? AND "timestamp" < ?'), [clusterId, sliceEnd]);
  await execute(m, 'DELETE FROM samples WHERE "clusterId" = ? AND "timestamp" < ?', [clusterId, sliceEnd]);
  return written;
}

// PostgreSQL keeps `samples` and `sample_rollups` partitioned by UTC day (RANGE on "timestamp", one
// partition per day, e.g. samples_p20261206 for [2026-12-06T00:00Z, 2026-12-07T00:00Z)); SQLite keeps
// plain tables, and there the functions below find no partition and create none. Partition names are
// made here from a day, never from input.

export const DAY_MS = 86_400_000;
export type PartitionedTable = 'samples' | 'sample_rollups';

/** The start (epoch ms, UTC midnight) of the day holding `ms`. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

/** The table's partition for the day starting at `day`: `samples_p20261206`. */
export function partitionName(table: PartitionedTable, day: number): string {
  return `${table}_p${new Date(day).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/** The day a partition name stands for, or undefined for a name that is not one of ours. */
function dayOfPartition(table: PartitionedTable, name: string): number | undefined {
  const match = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  return match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : undefined;
}

/** The tables are partitioned by day on this database. */
export const partitionedByDay = (m: EntityManager): boolean => dialectOf(m) === 'postgres';

/** The days (their start) the table has a partition for, oldest first; none on SQLite. */
export async function partitionDays(m: EntityManager, table: PartitionedTable): Promise<number[]> {
  if (!partitionedByDay(m)) return [];
  const rows = await selectRows<{ name: string }>(
    m,
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = CAST(? AS regclass)`,
    [table],
  );
  return rows
    .map((r) => dayOfPartition(table, r.name))
    .filter((day) => day !== undefined)
    .sort((a, b) => a - b);
}

async function partitionExists(m: EntityManager, name: string): Promise<boolean> {
  const [row] = await selectRows<{ found: string | null }>(m, 'SELECT to_regclass(?) AS found', [`"${name}"`]);
  return row?.found != null;
}

/**
 * Creates the table's partition of each day unless there is one. Each statement commits on its own:
 * `m` is to be outside any transaction. Another process creating the same partition at the same
 * time is no error (IF NOT EXISTS can still lose that race: then the partition exists, and that is enough).
 */
export async function createDayPartitions(m: EntityManager, table: PartitionedTable, days: Iterable<number>): Promise<void> {
  if (!partitionedByDay(m)) return;
  for (const day of new Set([...days].map(dayOf))) {
    const name = partitionName(table, day);
    try {
      await execute(m, `CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF "${table}" FOR VALUES FROM (${day}) TO (${day + DAY_MS})`);
    } catch (err) {
      if (!(await partitionExists(m, name))) throw err;
    }
  }
}

/**
 * PostgreSQL: rolls up the whole day of raw samples starting at `day` (every sample in it older than
 * the raw retention) in one INSERT … SELECT from its partition, merged with any roll-ups already there
 * as rollUpSlice does, then drops the partition; the buckets written. The partition is locked first
 * (before the transaction's snapshot): a sample another process writes into that day meanwhile waits,
 * and is rolled up too or lands after the drop, never dropped unseen. The drop, which locks the
 * whole table, comes last, just before the commit.
 */
export async function rollUpDay(m: EntityManager, day: number): Promise<number> {
  const name = partitionName('samples', dayOf(day));
  await execute(m, `LOCK TABLE "${name}" IN SHARE MODE`);
  const written = await execute(m, rollUpFrom(`"${name}"`, ''));
  await execute(m, `DROP TABLE "${name}"`);
  return written;
}

/** PostgreSQL: drops the table's partition of the day starting at `day`. */
export async function dropDayPartition(m: EntityManager, table: PartitionedTable, day: number): Promise<void> {
  await execute(m, `DROP TABLE IF EXISTS "${partitionName(table, dayOf(day))}"`);
}

/** PostgreSQL's error for a row whose day has no partition (dropped by another process since it was cached). */
export function isMissingPartition(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown }; message?: unknown } | null | undefined;
  const code = e?.driverError?.code ?? e?.code;
  return code === '23514' && typeof e?.message === 'string' && e.message.includes('no partition of relation');
}

export async function oldestRollup(m: EntityManager): Promise<number | null> {
  const [{ oldest }] = await selectRows<{ oldest: number | null }>(m, 'SELECT MIN("timestamp") AS oldest FROM sample_rollups');
  return oldest;
}

/** Deletes roll-ups before `sliceEnd`; how many. */
export function pruneRollups(m: EntityManager, sliceEnd: number): Promise<number> {
  return execute(m, 'DELETE FROM sample_rollups WHERE "timestamp" < ?', [sliceEnd]);
}

const onlyThese = (only?: string[]) => (only ? ` AND "subjectId" IN (${placeholdersFor(only.length)})` : '');

/**
 * Per VM of the cluster, samples after `since` summarized by the database (mean or max; memory demand
 * per sample as memoryDemandMib has it; the CPU samples' mean and mean square): one row per VM instead
 * of one per sample.
 */
export function vmDemandSummaries(
  m: EntityManager,
  fn: 'AVG' | 'MAX',
  idleTax: number,
  clusterId: string,
  since: number,
  swingSince: number,
  only?: string[],
): Promise<{ subjectId: string; n: number; cpu: number | null; mem: number | null; cpuavg: number; cpusq: number }[]> {
  const greatest = DIALECT[dialectOf(m)].greatest;
  // n, cpu and mem over the window (after `since`); cpuavg and cpusq (the mean of the squares) over the
  // swing window (after `swingSince`), for the CPU samples' variance whatever fn is. One scan of the
  // longer of the two: a VM with samples in the swing window only has n = 0.
  const inWindow = (expression: string) => `CASE WHEN "timestamp" > ? THEN ${expression} END`;
  return selectRows(
    m,
    `SELECT "subjectId", COUNT(${inWindow('1')}) AS n, ${fn}(${inWindow('"cpuMhz"')}) AS cpu,
            AVG(CAST("cpuMhz" AS DOUBLE PRECISION)) AS cpuavg,
            AVG(CAST("cpuMhz" AS DOUBLE PRECISION) * "cpuMhz") AS cpusq,
            ${fn}(${inWindow(`"memoryActiveMib" + CAST(? AS DOUBLE PRECISION) * ${greatest}(0, "memoryConsumedMib" - "memoryActiveMib")`)}) AS mem
       FROM samples
      WHERE "clusterId" = ? AND "timestamp" > ? AND "subjectKind" = 'vm'${onlyThese(only)}
      GROUP BY "subjectId"`,
    [since, since, since, idleTax, clusterId, Math.min(since, swingSince), ...(only ?? [])],
  );
}

/**
 * Per VM and bucket of `bucketMs` (aligned to multiples of it), the count, sum and sum of squares of the
 * VM's CPU samples from `from` (inclusive) to `to` (exclusive): the kept buckets of a swing ledger.
 */
export async function vmCpuSumsByBucket(
  m: EntityManager,
  clusterId: string,
  from: number,
  to: number,
  bucketMs: number,
): Promise<{ subjectId: string; bucket: number; n: number; s1: number; s2: number }[]> {
  const rows = await selectRows<{ subjectId: string; bucket: number | string; n: number | string; s1: number; s2: number }>(
    m,
    `SELECT "subjectId", ("timestamp" / ${bucketMs}) * ${bucketMs} AS bucket, COUNT(*) AS n,
            SUM(CAST("cpuMhz" AS DOUBLE PRECISION)) AS s1, SUM(CAST("cpuMhz" AS DOUBLE PRECISION) * "cpuMhz") AS s2
       FROM samples
      WHERE "clusterId" = ? AND "timestamp" >= ? AND "timestamp" < ? AND "subjectKind" = 'vm'
      GROUP BY "subjectId", ("timestamp" / ${bucketMs}) * ${bucketMs}`,
    [clusterId, from, to],
  );
  // PostgreSQL answers bigint columns as text.
  return rows.map((r) => ({ subjectId: r.subjectId, bucket: Number(r.bucket), n: Number(r.n), s1: Number(r.s1), s2: Number(r.s2) }));
}

/**
 * Per VM, the count, sum and sum of squares of the CPU samples a swing ledger does not keep: after
 * `after` and before `before` (the swing window's head), and from `from` on (its tail).
 */
export async function vmCpuSumsOutside(
  m: EntityManager,
  clusterId: string,
  after: number,
  before: number,
  from: number,
): Promise<{ subjectId: string; n: number; s1: number; s2: number }[]> {
  const rows = await selectRows<{ subjectId: string; n: number | string; s1: number; s2: number }>(
    m,
    `SELECT "subjectId", COUNT(*) AS n, SUM(x) AS s1, SUM(x * x) AS s2
       FROM (SELECT "subjectId", CAST("cpuMhz" AS DOUBLE PRECISION) AS x FROM samples
              WHERE "clusterId" = ? AND "timestamp" > ? AND "timestamp" < ? AND "subjectKind" = 'vm'
             UNION ALL
             SELECT "subjectId", CAST("cpuMhz" AS DOUBLE PRECISION) AS x FROM samples
              WHERE "clusterId" = ? AND "timestamp" >= ? AND "subjectKind" = 'vm') AS outside
      GROUP BY "subjectId"`,
    [clusterId, after, before, clusterId, from],
  );
  return rows.map((r) => ({ subjectId: r.subjectId, n: Number(r.n), s1: Number(r.s1), s2: Number(r.s2) }));
}

/** Every VM sample of the cluster after `since`, by VM and time. */
export function vmUsagePoints(
  m: EntityManager,
  clusterId: string,
  since: number,
  only?: string[],
): Promise<(UsagePoint & { subjectId: string })[]> {
  return selectRows(
    m,
    `SELECT "subjectId", "timestamp", "cpuMhz", "memoryActiveMib", "memoryConsumedMib" FROM samples
      WHERE "clusterId" = ? AND "timestamp" > ? AND "subjectKind" = 'vm'${onlyThese(only)}
      ORDER BY "subjectId", "timestamp"`,
    [clusterId, since, ...(only ?? [])],
  );
}

/** The VM's mean dirty rate (MiB/s) over samples after `sinceMs`, or undefined without any. */
export async function averageDirtyRate(m: EntityManager, clusterId: string, vmId: string, sinceMs: number): Promise<number | undefined> {
  const [row] = await selectRows<{ rate: number | null }>(
    m,
    `SELECT AVG("memoryDirtyMibPerSecond") AS rate FROM samples
      WHERE "clusterId" = ? AND "timestamp" > ? AND "subjectId" = ? AND "memoryDirtyMibPerSecond" IS NOT NULL`,
    [clusterId, sinceMs, vmId],
  );
  return typeof row?.rate === 'number' ? row.rate : undefined;
}
