// The samples' SQL: ingestion, history, demand summaries, roll-up and retention. Each function takes
// the caller's EntityManager (a write transaction, or a read connection).
import { EntityManager } from 'typeorm';
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
/**
 * The whole batch is bound as one JSON text and unpacked by SQLite (json_each): binding tens of
 * thousands of separate parameters costs more than the insert itself.
 */
const INSERT_FROM_JSON = `INSERT OR REPLACE INTO samples (${COLUMNS.join(', ')})
  SELECT ${COLUMNS.map((_, i) => `value->>${i}`).join(', ')} FROM json_each(?)`;
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
  await m.query(INSERT_FROM_JSON, [JSON.stringify(rows)]);
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
      SELECT timestamp, cpuMhz, memoryActiveMib, memoryConsumedMib, memoryDirtyMibPerSecond, cpuReadyPercent, 1 AS n
        FROM samples WHERE clusterId = ? AND timestamp BETWEEN ? AND ? AND subjectId = ?
      UNION ALL
      SELECT timestamp, cpuMhz, memoryActiveMib, memoryConsumedMib, memoryDirtyMibPerSecond, cpuReadyPercent, sampleCount AS n
        FROM sample_rollups WHERE subjectId = ? AND timestamp BETWEEN ? AND ?`;
  const params = [clusterId, from, to, subjectId, subjectId, from, to];
  const sql = stepMs
    ? `SELECT (timestamp / ${stepMs}) * ${stepMs} AS timestamp,
           SUM(cpuMhz * n) / SUM(n) AS cpuMhz,
           SUM(memoryActiveMib * n) / SUM(n) AS memoryActiveMib,
           SUM(memoryConsumedMib * n) / SUM(n) AS memoryConsumedMib,
           SUM(memoryDirtyMibPerSecond * n) / NULLIF(SUM(CASE WHEN memoryDirtyMibPerSecond IS NULL THEN 0 ELSE n END), 0) AS memoryDirtyMibPerSecond,
           SUM(cpuReadyPercent * n) / NULLIF(SUM(CASE WHEN cpuReadyPercent IS NULL THEN 0 ELSE n END), 0) AS cpuReadyPercent,
           SUM(n) AS sampleCount
         FROM (${source}) GROUP BY 1 ORDER BY 1 LIMIT ${limit}`
    : `SELECT timestamp, cpuMhz, memoryActiveMib, memoryConsumedMib, memoryDirtyMibPerSecond, cpuReadyPercent, n AS sampleCount
         FROM (${source}) ORDER BY timestamp LIMIT ${limit}`;
  return m.query(sql, params);
}

export async function clustersWithSamplesBefore(m: EntityManager, cutoff: number): Promise<string[]> {
  const rows: { clusterId: string }[] = await m.query('SELECT DISTINCT clusterId FROM samples WHERE timestamp < ?', [cutoff]);
  return rows.map((r) => r.clusterId);
}

export async function oldestSample(m: EntityManager, clusterId: string): Promise<number | null> {
  const [{ oldest }] = await m.query<{ oldest: number | null }[]>('SELECT MIN(timestamp) AS oldest FROM samples WHERE clusterId = ?', [
    clusterId,
  ]);
  return oldest;
}

/** Averages the cluster's raw samples before `sliceEnd` into roll-up buckets (merged with any there) and deletes them; the buckets written. */
export async function rollUpSlice(m: EntityManager, clusterId: string, sliceEnd: number): Promise<number> {
  await m.query(
    `INSERT INTO sample_rollups (subjectId, timestamp, subjectKind, clusterId, cpuMhz, memoryActiveMib, memoryConsumedMib, memoryDirtyMibPerSecond, cpuReadyPercent, sampleCount)
     SELECT subjectId, (timestamp / ${ROLLUP_BUCKET_MS}) * ${ROLLUP_BUCKET_MS}, subjectKind, clusterId,
    AVG(cpuMhz), AVG(memoryActiveMib), AVG(memoryConsumedMib), AVG(memoryDirtyMibPerSecond), AVG(cpuReadyPercent), COUNT(*)
       FROM samples WHERE clusterId = ? AND timestamp < ?
      GROUP BY subjectId, 2
     ON CONFLICT (subjectId, timestamp) DO UPDATE SET
       cpuMhz = (cpuMhz * sampleCount + excluded.cpuMhz * excluded.sampleCount) / (sampleCount + excluded.sampleCount),
       memoryActiveMib = (memoryActiveMib * sampleCount + excluded.memoryActiveMib * excluded.sampleCount) / (sampleCount + excluded.sampleCount),
       memoryConsumedMib = (memoryConsumedMib * sampleCount + excluded.memoryConsumedMib * excluded.sampleCount) / (sampleCount + excluded.sampleCount),
       memoryDirtyMibPerSecond = COALESCE((memoryDirtyMibPerSecond * sampleCount + excluded.memoryDirtyMibPerSecond * excluded.sampleCount) / (sampleCount + excluded.sampleCount), memoryDirtyMibPerSecond, excluded.memoryDirtyMibPerSecond),
       cpuReadyPercent = COALESCE((cpuReadyPercent * sampleCount + excluded.cpuReadyPercent * excluded.sampleCount) / (sampleCount + excluded.sampleCount), cpuReadyPercent, excluded.cpuReadyPercent),
       sampleCount = sampleCount + excluded.sampleCount`,
    [clusterId, sliceEnd],
  );
  const [{ n }] = await m.query<{ n: number }[]>('SELECT changes() AS n');
  await m.query('DELETE FROM samples WHERE clusterId = ? AND timestamp < ?', [clusterId, sliceEnd]);
  return n;
}

export async function oldestRollup(m: EntityManager): Promise<number | null> {
  const [{ oldest }] = await m.query<{ oldest: number | null }[]>('SELECT MIN(timestamp) AS oldest FROM sample_rollups');
  return oldest;
}

/** Deletes roll-ups before `sliceEnd`; how many. */
export async function pruneRollups(m: EntityManager, sliceEnd: number): Promise<number> {
  await m.query('DELETE FROM sample_rollups WHERE timestamp < ?', [sliceEnd]);
  const [{ n }] = await m.query<{ n: number }[]>('SELECT changes() AS n');
  return n;
}

/**
 * Per VM of the cluster, samples after `since` summarized by SQLite (mean or max; memory demand per
 * sample as memoryDemandMib has it): one row per VM instead of one per sample.
 */
export function vmDemandSummaries(
  m: EntityManager,
  fn: 'AVG' | 'MAX',
  idleTax: number,
  clusterId: string,
  since: number,
  only?: string[],
): Promise<{ subjectId: string; n: number; cpu: number; mem: number }[]> {
  return m.query(
    `SELECT subjectId, COUNT(*) AS n, ${fn}(cpuMhz) AS cpu, ${fn}(memoryActiveMib + ? * MAX(0, memoryConsumedMib - memoryActiveMib)) AS mem
       FROM samples
      WHERE clusterId = ? AND timestamp > ? AND subjectKind = 'vm'${only ? ` AND subjectId IN (${only.map(() => '?').join(',')})` : ''}
      GROUP BY subjectId`,
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
  return m.query(
    `SELECT subjectId, timestamp, cpuMhz, memoryActiveMib, memoryConsumedMib FROM samples
      WHERE clusterId = ? AND timestamp > ? AND subjectKind = 'vm'${only ? ` AND subjectId IN (${only.map(() => '?').join(',')})` : ''}
      ORDER BY subjectId, timestamp`,
    [clusterId, since, ...(only ?? [])],
  );
}

/** The VM's mean dirty rate (MiB/s) over samples after `sinceMs`, or undefined without any. */
export async function averageDirtyRate(m: EntityManager, clusterId: string, vmId: string, sinceMs: number): Promise<number | undefined> {
  const [row] = await m.query<{ rate: number | null }[]>(
    `SELECT AVG(memoryDirtyMibPerSecond) AS rate FROM samples
      WHERE clusterId = ? AND timestamp > ? AND subjectId = ? AND memoryDirtyMibPerSecond IS NOT NULL`,
    [clusterId, sinceMs, vmId],
  );
  return typeof row?.rate === 'number' ? row.rate : undefined;
}
