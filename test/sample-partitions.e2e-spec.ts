// Samples over several days, rolled up and pruned by the retention job. The history API's answers are
// checked against averages computed here from the posted values, on either database: the same
// expectations hold on SQLite (plain tables) and on PostgreSQL, where the tables are partitioned by UTC
// day and retention drops whole day partitions; there (TEST_DATABASE_URL) the partitions are checked too.
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';
import { Database } from '../src/database/database.service';
import { selectRows } from '../src/database/dialect';
import { RetentionService } from '../src/samples/retention.service';
import { createDayPartitions } from '../src/samples/samples.repository';
import { createCluster, createHost, createVm } from './helpers/fixtures';
import { createTestApp, FakeClock, makeTempDir, removeTempDir, TestApp } from './helpers/test-app';
import { ensureDatabase, onPostgres } from './helpers/test-database';

const MINUTE = 60_000;
const BUCKET = 300_000;
const DAY = 86_400_000;

interface Posted {
  timestamp: number;
  cpuMhz: number;
  cpuReadyPercent: number;
}
type Point = [timestamp: number, cpuMhz: number, cpuReadyPercent: number, sampleCount: number];

/** 5-minute means of the posted samples, as [timestamp, cpu, ready, count], computed here. */
function buckets(samples: Posted[]): Point[] {
  const by = new Map<number, Posted[]>();
  for (const s of samples) {
    const b = Math.floor(s.timestamp / BUCKET) * BUCKET;
    by.set(b, [...(by.get(b) ?? []), s]);
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return [...by]
    .sort(([a], [b]) => a - b)
    .map(([b, list]) => [b, mean(list.map((s) => s.cpuMhz)), mean(list.map((s) => s.cpuReadyPercent)), list.length]);
}

/** The raw points as history answers them without a step: 5-minute roll-ups before `rolledBefore`, raw samples after. */
function rawView(samples: Posted[], rolledBefore: number): Point[] {
  const raw: Point[] = samples.filter((s) => s.timestamp >= rolledBefore).map((s) => [s.timestamp, s.cpuMhz, s.cpuReadyPercent, 1]);
  return [...buckets(samples.filter((s) => s.timestamp < rolledBefore)), ...raw].sort((a, b) => a[0] - b[0]);
}

describe('samples over several days: roll-up and retention', () => {
  // 2026-11-25T12:00Z; raw retention 1 hour (cutoff 11:00), roll-ups 7 days
  const clock = new FakeClock();
  const today = Math.floor(clock.now() / DAY) * DAY;
  let t: TestApp;
  let db: Database;
  let vmId: string;
  const posted: Posted[] = [];

  beforeAll(async () => {
    t = await createTestApp({ clock, env: { SAMPLE_RAW_RETENTION_SECONDS: 3600 } });
    db = t.app.get(Database);
    const cluster = await createCluster(t.http);
    const host = await createHost(t.http, cluster.id, { cpuCores: 8, cpuMhz: 20_000, memoryMib: 65_536 });
    vmId = (await createVm(t.http, cluster.id, host.id, { vcpus: 2, memoryMib: 8192 })).id;
  });
  afterAll(() => t.close());

  /** `count` samples a minute apart from `start`: cpu = base + i, CPU ready i mod 5 (every 5-minute mean exact). */
  const series = (start: number, count: number, base: number): Posted[] =>
    Array.from({ length: count }, (_, i) => ({ timestamp: start + i * MINUTE, cpuMhz: base + i, cpuReadyPercent: i % 5 }));

  async function post(samples: Posted[]): Promise<void> {
    await t.http
      .post('/api/v1/samples')
      .send({ samples: samples.map((s) => ({ vmId, memoryActiveMib: 1024, memoryConsumedMib: 4096, ...s })) })
      .expect(201);
    posted.push(...samples);
  }

  async function history(step?: number): Promise<Point[]> {
    const res = await t.http
      .get(`/api/v1/vms/${vmId}/samples`)
      .query({ from: today - 6 * DAY, to: clock.now(), ...(step ? { step } : {}) })
      .expect(200);
    return res.body.points.map((p: { timestamp: number; cpuMhz: number; cpuReadyPercent: number; sampleCount: number }) => [
      p.timestamp,
      p.cpuMhz,
      p.cpuReadyPercent,
      p.sampleCount,
    ]);
  }

  /** PostgreSQL: the table's partitions by name, with the VM's rows in each. */
  async function partitions(table: 'samples' | 'sample_rollups'): Promise<Record<string, number>> {
    const names = await selectRows<{ name: string }>(
      db.reader,
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = CAST(? AS regclass)`,
      [table],
    );
    const rows = await selectRows<{ name: string; n: number }>(
      db.reader,
      `SELECT tableoid::regclass::text AS name, COUNT(*) AS n FROM ${table} WHERE "subjectId" = ? GROUP BY 1`,
      [vmId],
    );
    const counts = Object.fromEntries(names.map((r) => [r.name, 0]));
    for (const r of rows) counts[r.name] = r.n;
    return counts;
  }

  it('stores samples over several days (PostgreSQL: one partition per day, none by default)', async () => {
    await post([
      ...series(today - 3 * DAY + 10 * 60 * MINUTE, 20, 1000),
      ...series(today - 2 * DAY + 10 * 60 * MINUTE, 20, 2000),
      ...series(today - 1 * DAY + 10 * 60 * MINUTE, 20, 3000),
      // today 10:00 … 11:59: across the raw cutoff (11:00)
      ...series(today + 10 * 60 * MINUTE, 120, 4000),
    ]);
    expect(await history(300)).toEqual(buckets(posted));
    if (!onPostgres) return;

    const kinds = await selectRows<{ name: string; kind: string; defaultPartition: number }>(
      db.reader,
      `SELECT c.relname AS name, c.relkind AS kind, p.partdefid::int AS "defaultPartition"
         FROM pg_class c JOIN pg_partitioned_table p ON p.partrelid = c.oid WHERE c.relname IN ('samples', 'sample_rollups') ORDER BY 1`,
    );
    expect(kinds).toEqual([
      { name: 'sample_rollups', kind: 'p', defaultPartition: 0 },
      { name: 'samples', kind: 'p', defaultPartition: 0 },
    ]);
    // created ahead at start: yesterday, today and the next two days; and the days of the batch
    expect(await partitions('samples')).toEqual({
      samples_p20261122: 20,
      samples_p20261123: 20,
      samples_p20261124: 20,
      samples_p20261125: 120,
      samples_p20261126: 0,
      samples_p20261127: 0,
    });
  });

  it('stores a batch on a day without a partition (PostgreSQL: creating it first)', async () => {
    if (onPostgres) expect(Object.keys(await partitions('samples'))).not.toContain('samples_p20261120');
    await post(series(today - 5 * DAY + 10 * 60 * MINUTE, 10, 500));
    expect(await history(300)).toEqual(buckets(posted));
    if (onPostgres) expect(await partitions('samples')).toMatchObject({ samples_p20261120: 10 });
  });

  it('rolls up whole past days (PostgreSQL: dropping their partitions) and the day at the cutoff slice by slice', async () => {
    await t.app.get(RetentionService).runOnce();
    const cutoff = today + 11 * 60 * MINUTE;
    expect(await history()).toEqual(rawView(posted, cutoff));
    expect(await history(300)).toEqual(buckets(posted));
    // the raw samples left: today's from 11:00
    const [raw] = await selectRows<{ n: number }>(db.reader, 'SELECT COUNT(*) AS n FROM samples WHERE "subjectId" = ?', [vmId]);
    expect(raw.n).toBe(60);
    if (!onPostgres) return;

    expect(await partitions('samples')).toEqual({ samples_p20261125: 60, samples_p20261126: 0, samples_p20261127: 0 });
    expect(await partitions('sample_rollups')).toEqual({
      sample_rollups_p20261120: 2,
      sample_rollups_p20261122: 4,
      sample_rollups_p20261123: 4,
      sample_rollups_p20261124: 4,
      sample_rollups_p20261125: 12,
      sample_rollups_p20261126: 0,
      sample_rollups_p20261127: 0,
    });
  });

  it('merges a late sample on a rolled-up day into the roll-up there (PostgreSQL: its partition made and dropped again)', async () => {
    // 2026-11-24 10:02:30, in the bucket of 3000…3004 (mean 3002): with 3008 the mean of six is 3003
    await post([{ timestamp: today - DAY + 10 * 60 * MINUTE + 150_000, cpuMhz: 3008, cpuReadyPercent: 2 }]);
    if (onPostgres) expect(await partitions('samples')).toMatchObject({ samples_p20261124: 1 });
    await t.app.get(RetentionService).runOnce();
    const cutoff = today + 11 * 60 * MINUTE;
    expect(await history()).toEqual(rawView(posted, cutoff));
    expect((await history()).find(([timestamp]) => timestamp === today - DAY + 10 * 60 * MINUTE)).toEqual([
      today - DAY + 10 * 60 * MINUTE,
      3003,
      2,
      6,
    ]);
    if (onPostgres) expect(Object.keys(await partitions('samples'))).not.toContain('samples_p20261124');

    // running again changes nothing
    await t.app.get(RetentionService).runOnce();
    expect(await history()).toEqual(rawView(posted, cutoff));
  });

  it('prunes roll-ups past their retention (PostgreSQL: dropping whole day partitions, deleting at the boundary day)', async () => {
    // 2026-11-30 10:10: roll-ups before 2026-11-23 10:10 go; every raw sample is rolled up
    clock.advance(4 * DAY + 22 * 60 * MINUTE + 10 * MINUTE);
    await t.app.get(RetentionService).runOnce();
    const rollupCutoff = clock.now() - 7 * DAY;
    expect(rollupCutoff).toBe(today - 2 * DAY + 10 * 60 * MINUTE + 10 * MINUTE);
    const kept = buckets(posted).filter(([timestamp]) => timestamp >= rollupCutoff);
    expect(await history()).toEqual(kept);
    expect(kept.map(([, , , n]) => n).reduce((a, b) => a + b, 0)).toBe(10 + 20 + 1 + 120);
    if (!onPostgres) return;

    const rollupParts = await partitions('sample_rollups');
    expect(Object.keys(rollupParts).sort()[0]).toBe('sample_rollups_p20261123');
    expect(rollupParts).toMatchObject({
      sample_rollups_p20261123: 2,
      sample_rollups_p20261124: 4,
      sample_rollups_p20261125: 24,
    });
    // raw samples: the days ahead only (yesterday is wholly past the raw cutoff, 09:10)
    expect(await partitions('samples')).toEqual({ samples_p20261130: 0, samples_p20261201: 0, samples_p20261202: 0 });
  });
});

if (onPostgres) {
  describe('the migration partitioning samples by day (PostgreSQL)', () => {
    const dir = makeTempDir();
    let postgres: DataSource;

    beforeAll(async () => {
      const url = await ensureDatabase(join(dir, 'partitions-pg'), { empty: true });
      postgres = new DataSource(dataSourceOptions({ path: join(dir, 'partitions-pg'), busyTimeoutMs: 1000, url }));
      await postgres.initialize();
      await postgres.runMigrations();
    });

    afterAll(async () => {
      await postgres?.destroy();
      removeTempDir(dir);
    });

    const contents = async () => ({
      samples: await postgres.query<Record<string, unknown>[]>(
        `SELECT tableoid::regclass::text AS part, "clusterId", "timestamp", "subjectId", "subjectKind", "cpuMhz", "memoryActiveMib",
                "memoryConsumedMib", "memoryDirtyMibPerSecond", "cpuReadyPercent" FROM samples ORDER BY "timestamp"`,
      ),
      rollups: await postgres.query<Record<string, unknown>[]>(
        `SELECT tableoid::regclass::text AS part, "subjectId", "timestamp", "sampleCount", "cpuMhz" FROM sample_rollups ORDER BY "timestamp"`,
      ),
      kinds: await postgres.query<{ name: string; kind: string }[]>(
        `SELECT relname AS name, relkind AS kind FROM pg_class WHERE relname IN ('samples', 'sample_rollups') ORDER BY 1`,
      ),
    });

    /** Reverts the migrations down to and including the one partitioning the samples (later ones first). */
    const undoPartitioning = async () => {
      for (;;) {
        const [last] = await postgres.query<{ name: string }[]>(
          `SELECT name FROM schema_migrations ORDER BY "timestamp" DESC, id DESC LIMIT 1`,
        );
        await postgres.undoLastMigration();
        if (last.name === 'PostgresSamplesByDay1796900000101') return;
      }
    };

    it('moves existing rows into the partitions of their days, and its revert puts them back into plain tables', async () => {
      await undoPartitioning();
      const day1 = Date.UTC(2026, 10, 24, 23, 59, 59, 999);
      const day2 = Date.UTC(2026, 10, 25);
      for (const ts of [day1, day2]) {
        await postgres.query(
          `INSERT INTO samples ("clusterId", "timestamp", "subjectId", "subjectKind", "cpuMhz", "memoryActiveMib", "memoryConsumedMib", "memoryDirtyMibPerSecond", "cpuReadyPercent")
           VALUES ('c1', $1, 'v1', 'vm', 1.5, 2, 3, NULL, 4)`,
          [ts],
        );
        await postgres.query(
          `INSERT INTO sample_rollups ("subjectId", "timestamp", "subjectKind", "clusterId", "cpuMhz", "memoryActiveMib", "memoryConsumedMib", "sampleCount")
           VALUES ('v1', $1, 'vm', 'c1', 7.25, 2, 3, 5)`,
          [ts],
        );
      }
      const plain = await contents();
      expect(plain.kinds).toEqual([
        { name: 'sample_rollups', kind: 'r' },
        { name: 'samples', kind: 'r' },
      ]);

      await postgres.runMigrations();
      const partitioned = await contents();
      expect(partitioned.kinds).toEqual([
        { name: 'sample_rollups', kind: 'p' },
        { name: 'samples', kind: 'p' },
      ]);
      expect(partitioned.samples.map((r) => r.part)).toEqual(['samples_p20261124', 'samples_p20261125']);
      expect(partitioned.rollups.map((r) => r.part)).toEqual(['sample_rollups_p20261124', 'sample_rollups_p20261125']);
      const withoutPart = (rows: Record<string, unknown>[]) => rows.map(({ part: _part, ...rest }) => rest);
      expect(withoutPart(partitioned.samples)).toEqual(withoutPart(plain.samples));
      expect(withoutPart(partitioned.rollups)).toEqual(withoutPart(plain.rollups));

      await undoPartitioning();
      expect(await contents()).toEqual(plain);
      await postgres.runMigrations();
    });

    it('creates a day partition from several connections at once without an error', async () => {
      const day = Date.UTC(2026, 11, 6);
      await Promise.all(Array.from({ length: 6 }, () => createDayPartitions(postgres.manager, 'samples', [day + 3_600_000])));
      const [{ bounds }] = await postgres.query<{ bounds: string }[]>(
        `SELECT pg_get_expr(relpartbound, oid) AS bounds FROM pg_class WHERE relname = 'samples_p20261206'`,
      );
      expect(bounds).toBe(`FOR VALUES FROM ('${day}') TO ('${day + 86_400_000}')`);
    });
  });
}
