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

/** Averages the cluster's raw samples before `sliceEnd` into roll-up buckets (merged with any there) and deletes them; the buckets written. */
export async function rollUpSlice(m: EntityManager, clusterId: string, sliceEnd: number): Promise<number> {
  const written = await execute(
    m,
    `INSERT INTO sample_rollups ("subjectId", "timestamp", "subjectKind", "clusterId", "cpuMhz", "memoryActiveMib", "memoryConsumedMib",
       "memoryDirtyMibPerSecond", "cpuReadyPercent", "sampleCount")
     SELECT "subjectId", ("timestamp" / ${ROLLUP_BUCKET_MS}) * ${ROLLUP_BUCKET_MS}, MIN("subjectKind"), MIN("clusterId"),
    AVG("cpuMhz"), AVG("memoryActiveMib"), AVG("memoryConsumedMib"), AVG("memoryDirtyMibPerSecond"), AVG("cpuReadyPercent"), COUNT(*)
       FROM samples WHERE "clusterId" = ? AND "timestamp" < ?
      GROUP BY "subjectId", 2
     ON CONFLICT ("subjectId", "timestamp") DO UPDATE SET
       "cpuMhz" = ${merged('cpuMhz')},
       "memoryActiveMib" = ${merged('memoryActiveMib')},
       "memoryConsumedMib" = ${merged('memoryConsumedMib')},
       "memoryDirtyMibPerSecond" = COALESCE(${merged('memoryDirtyMibPerSecond')}, sample_rollups."memoryDirtyMibPerSecond", excluded."memoryDirtyMibPerSecond"),
       "cpuReadyPercent" = COALESCE(${merged('cpuReadyPercent')}, sample_rollups."cpuReadyPercent", excluded."cpuReadyPercent"),
       "sampleCount" = sample_rollups."sampleCount" + excluded."sampleCount"`,
    [clusterId, sliceEnd],
  );
  await execute(m, 'DELETE FROM samples WHERE "clusterId" = ? AND "timestamp" < ?', [clusterId, sliceEnd]);
  return written;
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
 * per sample as memoryDemandMib has it): one row per VM instead of one per sample.
 */
export function vmDemandSummaries(
  m: EntityManager,
  fn: 'AVG' | 'MAX',
  idleTax: number,
  clusterId: string,
  since: number,
  only?: string[],
): Promise<{ subjectId: string; n: number; cpu: number; mem: number }[]> {
  const greatest = DIALECT[dialectOf(m)].greatest;
  return selectRows(
    m,
    `SELECT "subjectId", COUNT(*) AS n, ${fn}("cpuMhz") AS cpu,
            ${fn}("memoryActiveMib" + CAST(? AS DOUBLE PRECISION) * ${greatest}(0, "memoryConsumedMib" - "memoryActiveMib")) AS mem
       FROM samples
      WHERE "clusterId" = ? AND "timestamp" > ? AND "subjectKind" = 'vm'${onlyThese(only)}
      GROUP BY "subjectId"`,
    [idleTax, clusterId, since, ...(only ?? [])],
  );
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
