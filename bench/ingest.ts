// Issue target: >= 50,000 samples/s through POST /api/v1/samples (median of several runs, batches of
// 5,000), and at least a third of the ceiling: raw batched INSERTs into the same SQLite file.
// BENCH_SOAK_SAMPLES=10000000 also pushes that many samples and prints the heap along the way.
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';
import { generateInventory } from '../test/helpers/inventory-generator';
import { bootApp, call } from './lib/boot';
import { median, printTable } from './lib/stats';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BATCH = 5_000;
const BATCHES_PER_RUN = Number(process.env.BENCH_BATCHES ?? 20);
const SOAK_SAMPLES = Number(process.env.BENCH_SOAK_SAMPLES ?? 0);
const VMS = 2_000;
const TARGET_PER_SECOND = 50_000;
const SAMPLE_INTERVAL_MS = 20_000;

const gc = (global as { gc?: () => void }).gc;

interface Batch {
  samples: {
    vmId: string;
    timestamp: number;
    cpuMhz: number;
    memoryActiveMib: number;
    memoryConsumedMib: number;
    memoryDirtyMibPerSecond: number;
  }[];
}

/** Batch n: every VM reports once per 20 s tick, ticks counting forward from `start`. */
function makeBatch(vmIds: string[], n: number, start: number): Batch {
  const samples = [];
  for (let i = 0; i < BATCH; i++) {
    const k = n * BATCH + i;
    const tick = Math.floor(k / vmIds.length);
    samples.push({
      vmId: vmIds[k % vmIds.length],
      timestamp: start + tick * SAMPLE_INTERVAL_MS + (k % 1000),
      cpuMhz: 100 + (k % 3000),
      memoryActiveMib: 512 + (k % 2048),
      memoryConsumedMib: 4096,
      memoryDirtyMibPerSecond: k % 50,
    });
  }
  return { samples };
}

async function rawCeiling(databasePath: string, batches: Batch[], clusterId: string): Promise<number> {
  const source = new DataSource(dataSourceOptions({ path: databasePath, busyTimeoutMs: 10_000 }, 'raw'));
  await source.initialize();
  try {
    // The fastest raw way found: the batch bound as one JSON text and unpacked by SQLite.
    const insert = `INSERT OR REPLACE INTO samples (clusterId, timestamp, subjectId, subjectKind, cpuMhz, memoryActiveMib, memoryConsumedMib, memoryDirtyMibPerSecond)
      SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7 FROM json_each(?)`;
    const started = performance.now();
    let count = 0;
    for (const batch of batches) {
      const rows = batch.samples.map((s) => [
        clusterId,
        s.timestamp - 1,
        s.vmId,
        'vm',
        s.cpuMhz,
        s.memoryActiveMib,
        s.memoryConsumedMib,
        s.memoryDirtyMibPerSecond,
      ]);
      await source.transaction((m) => m.query(insert, [JSON.stringify(rows)]));
      count += batch.samples.length;
    }
    return count / ((performance.now() - started) / 1000);
  } finally {
    await source.destroy();
  }
}

async function pushBatches(baseUrl: string, batches: Batch[]): Promise<number> {
  const bodies = batches.map((b) => JSON.stringify(b));
  const started = performance.now();
  for (const body of bodies) {
    const res = await fetch(`${baseUrl}/api/v1/samples`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (res.status !== 201) throw new Error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    await res.arrayBuffer();
  }
  return (batches.length * BATCH) / ((performance.now() - started) / 1000);
}

async function soak(baseUrl: string, vmIds: string[]): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  const total = Math.ceil(SOAK_SAMPLES / BATCH);
  // Steady ingestion up to now: the oldest raw samples age past the raw retention and get rolled up meanwhile.
  const start = Date.now() - Math.ceil(SOAK_SAMPLES / vmIds.length) * SAMPLE_INTERVAL_MS - 60_000;
  const started = performance.now();
  for (let n = 0; n < total; n++) {
    await pushBatches(baseUrl, [makeBatch(vmIds, n, start)]);
    if (n % Math.max(1, Math.floor(total / 10)) === 0 || n === total - 1) {
      gc?.();
      const mem = process.memoryUsage();
      rows.push({
        'samples ingested': (n + 1) * BATCH,
        'heap MiB': mem.heapUsed / 2 ** 20,
        'rss MiB': mem.rss / 2 ** 20,
        'samples/s so far': ((n + 1) * BATCH) / ((performance.now() - started) / 1000),
      });
    }
  }
  printTable(`Soak: ${SOAK_SAMPLES.toLocaleString('en-US')} samples (heap after GC; app and client in one process)`, rows);
  const heaps = rows.map((r) => r['heap MiB'] as number);
  const early = heaps[Math.min(1, heaps.length - 1)];
  const last = heaps[heaps.length - 1];
  console.log(
    `${last <= early * 1.25 + 8 ? 'PASS' : 'FAIL'}: heap ${early.toFixed(1)} MiB after the first tenth, ${last.toFixed(1)} MiB at the end`,
  );
}

async function main(): Promise<void> {
  const bench = await bootApp({ SAMPLE_RETENTION_INTERVAL_SECONDS: 30 });
  try {
    const cluster = await call(bench.baseUrl, 'POST', '/api/v1/clusters', { name: 'ingest' });
    await call(bench.baseUrl, 'PUT', `/api/v1/clusters/${cluster.body.id}/inventory`, generateInventory(50, VMS));
    const vms = await call(bench.baseUrl, 'GET', `/api/v1/vms?clusterId=${cluster.body.id}&limit=1000`);
    const vms2 = await call(bench.baseUrl, 'GET', `/api/v1/vms?clusterId=${cluster.body.id}&limit=1000&offset=1000`);
    const vmIds: string[] = [...vms.body.items, ...vms2.body.items].map((v: { id: string }) => v.id);

    const api: number[] = [];
    const raw: number[] = [];
    // Every timed sample lies in the past (the API refuses the future), the newest about a minute ago.
    const ticks = Math.ceil((RUNS * BATCHES_PER_RUN * BATCH) / vmIds.length);
    const start = Date.now() - ticks * SAMPLE_INTERVAL_MS - 60_000;
    for (let run = 0; run < RUNS; run++) {
      const batches = Array.from({ length: BATCHES_PER_RUN }, (_, n) => makeBatch(vmIds, run * BATCHES_PER_RUN + n, start));
      api.push(await pushBatches(bench.baseUrl, batches));
      raw.push(await rawCeiling(bench.databasePath, batches, cluster.body.id));
    }
    const apiMedian = median(api);
    const rawMedian = median(raw);
    printTable(`Sample ingestion: ${RUNS} runs of ${BATCHES_PER_RUN} batches × ${BATCH.toLocaleString('en-US')} samples (samples/s)`, [
      {
        path: 'raw batched INSERT (ceiling)',
        median: Math.round(rawMedian),
        min: Math.round(Math.min(...raw)),
        max: Math.round(Math.max(...raw)),
        'x ceiling': 1,
      },
      {
        path: 'POST /api/v1/samples',
        median: Math.round(apiMedian),
        min: Math.round(Math.min(...api)),
        max: Math.round(Math.max(...api)),
        'x ceiling': apiMedian / rawMedian,
      },
    ]);
    console.log(
      `\n${apiMedian >= TARGET_PER_SECOND ? 'PASS' : 'FAIL'}: ${Math.round(apiMedian).toLocaleString('en-US')} samples/s through the API (target >= ${TARGET_PER_SECOND.toLocaleString('en-US')})`,
    );
    console.log(
      `${apiMedian >= rawMedian / 3 ? 'PASS' : 'FAIL'}: ${(apiMedian / rawMedian).toFixed(2)} of the raw ceiling (target >= 0.33)`,
    );
    if (SOAK_SAMPLES > 0) await soak(bench.baseUrl, vmIds);
  } finally {
    await bench.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
