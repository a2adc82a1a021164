// Demand-estimation benchmark: what measuring each VM's swing (the σ of its CPU samples) over the swing
// window (policy swingWindowSeconds, 3 h by default) costs, against measuring it over the demand window
// as before (the shipped 5 minutes, and an hour). Times one cluster-wide demand estimation as a pass or
// a balance report makes it, BalancerService.snapshot (SnapshotBuilder → DemandService.demandOf: the SQL
// summary per VM for mean/max, every sample for p80), with the swings read from the samples, and with
// them reused (DemandService keeps a cluster's swings for a minute, SWING_REUSE_MS, and then reads only
// the window).
//
// Setup: the real app on a temporary SQLite file, one cluster of 1,000 VMs on 40 hosts, and 3 hours of
// history ingested through POST /api/v1/samples (batches of 5,000): one sample per VM every 20 s, ending
// at now, CPU from the PlanetLab trace with a deterministic jitter (540,000 rows). The retention job is
// kept from running (SAMPLE_RETENTION_INTERVAL_SECONDS = 1 day), so no roll-up writes meet the timings;
// the window slides with the clock meanwhile, so the oldest ticks leave each window (printed; each slid
// estimate moves the app's clock 61 s further on top, 30 minutes in all, and the VMs' samples go on up to
// it, untimed): with
// BENCH_VMS far above the default, the timings outlast the 5-minute window and case 4a reads nothing.
// "Rows scanned" counts the samples in what the main query reads (a slid case also reads the up to 15
// minutes of samples the ledger's buckets do not hold). Each run times every case once, in a rotating order, after a warm-up of each case on every reader.
// The ratio is of medians against the baseline measured in the same runs. No target: figures only.
//
// Options: BENCH_RUNS (default 7), BENCH_VMS (1000), BENCH_HOSTS (40), BENCH_HOURS of history (3).
// Run: npm run bench:demand
import { statSync } from 'node:fs';
import { BalancerService } from '../src/balancer/balancer.service';
import { Clock } from '../src/common/clock';
import { Database } from '../src/database/database.service';
import { SWING_REUSE_MS } from '../src/samples/demand.service';
import { BalancingPolicy } from '../src/policies/balancing-policy';
import { DemandStatistic, swingSeconds } from '../src/samples/demand';
import { loadTrace, utilizationAt } from '../src/simulator/trace';
import { generateInventory } from '../test/helpers/inventory-generator';
import { seededRandom } from '../src/balancer/core';
import { bootApp, call } from './lib/boot';
import { vmSample } from './lib/vm-sample';
import { median, printTable } from './lib/stats';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const VMS = Number(process.env.BENCH_VMS ?? 1_000);
const HOSTS = Number(process.env.BENCH_HOSTS ?? 40);
const HOURS = Number(process.env.BENCH_HOURS ?? 3);
const BATCH = 5_000;
const SAMPLE_INTERVAL_MS = 20_000;
/** Warm-up rounds of every case: at least one per read connection (Database has three). */
const WARMUP = 3;

const gc = (global as { gc?: () => void }).gc;

interface Case {
  name: string;
  statistic: DemandStatistic;
  windowSeconds: number;
  swingWindowSeconds: number;
  /**
   * How the cluster's swings are come by when the swing window is longer than the window: 'read' (a
   * swing window no estimate used before, one second longer each time: read from the samples) or
   * 'reused' (timed right after an estimate with the same swing window: DemandService reuses its swings)
   * or 'slid' (timed with the app's clock moved on past the reuse: worked out from the swing ledger).
   */
  swings?: 'read' | 'reused' | 'slid';
  /** The case whose median this one is compared with (itself for a baseline). */
  baseline: string;
}

const CASES: Case[] = [
  { name: '1 mean, window 1 h, swing 1 h (baseline)', statistic: 'mean', windowSeconds: 3600, swingWindowSeconds: 3600, baseline: '1' },
  {
    name: '2a mean, window 1 h, swing 3 h read',
    statistic: 'mean',
    windowSeconds: 3600,
    swingWindowSeconds: 10_800,
    swings: 'read',
    baseline: '1',
  },
  {
    name: '2b mean, window 1 h, swing 3 h reused',
    statistic: 'mean',
    windowSeconds: 3600,
    swingWindowSeconds: 10_800,
    swings: 'reused',
    baseline: '1',
  },
  {
    name: '2c mean, window 1 h, swing 3 h slid',
    statistic: 'mean',
    windowSeconds: 3600,
    swingWindowSeconds: 10_800,
    swings: 'slid',
    baseline: '1',
  },
  { name: '3 p80, window 1 h, swing 1 h (baseline)', statistic: 'p80', windowSeconds: 3600, swingWindowSeconds: 3600, baseline: '3' },
  {
    name: '3a p80, window 1 h, swing 3 h read',
    statistic: 'p80',
    windowSeconds: 3600,
    swingWindowSeconds: 10_800,
    swings: 'read',
    baseline: '3',
  },
  {
    name: '3b p80, window 1 h, swing 3 h reused',
    statistic: 'p80',
    windowSeconds: 3600,
    swingWindowSeconds: 10_800,
    swings: 'reused',
    baseline: '3',
  },
  {
    name: '3c p80, window 1 h, swing 3 h slid',
    statistic: 'p80',
    windowSeconds: 3600,
    swingWindowSeconds: 10_800,
    swings: 'slid',
    baseline: '3',
  },
  // The shipped demand window is 5 minutes (DEFAULT_DEMAND_WINDOW_SECONDS): before the swing window, the
  // swing was measured over those 5 minutes.
  { name: '4 mean, window 5 min, swing 5 min (baseline)', statistic: 'mean', windowSeconds: 300, swingWindowSeconds: 300, baseline: '4' },
  {
    name: '4a mean, window 5 min, swing 3 h read (defaults)',
    statistic: 'mean',
    windowSeconds: 300,
    swingWindowSeconds: 10_800,
    swings: 'read',
    baseline: '4',
  },
  {
    name: '4b mean, window 5 min, swing 3 h reused (defaults)',
    statistic: 'mean',
    windowSeconds: 300,
    swingWindowSeconds: 10_800,
    swings: 'reused',
    baseline: '4',
  },
  {
    name: '4c mean, window 5 min, swing 3 h slid (defaults)',
    statistic: 'mean',
    windowSeconds: 300,
    swingWindowSeconds: 10_800,
    swings: 'slid',
    baseline: '4',
  },
];
const idOf = (c: Case) => c.name.split(' ')[0];

async function postSamples(baseUrl: string, samples: unknown[]): Promise<void> {
  const res = await call(baseUrl, 'POST', '/api/v1/samples', { samples });
  if (res.status !== 201) throw new Error(`ingest answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const bench = await bootApp({ SAMPLE_RETENTION_INTERVAL_SECONDS: 86_400 });
  try {
    const clock = bench.app.get(Clock);
    const db = bench.app.get(Database);
    const balancer = bench.app.get(BalancerService);

    const cluster = await call(bench.baseUrl, 'POST', '/api/v1/clusters', { name: 'demand' });
    if (cluster.status !== 201) throw new Error(`cluster: ${cluster.status}`);
    const clusterId: string = cluster.body.id;
    const inventory = generateInventory(HOSTS, VMS);
    const put = await call(bench.baseUrl, 'PUT', `/api/v1/clusters/${clusterId}/inventory`, inventory);
    if (put.status !== 200) throw new Error(`inventory: ${put.status}`);
    const spec = new Map(inventory.vms.map((v) => [v.name, v]));
    const vms: { id: string; vcpus: number; memoryMib: number }[] = [];
    for (let offset = 0; offset < VMS; offset += 1000) {
      const page = await call(bench.baseUrl, 'GET', `/api/v1/vms?clusterId=${clusterId}&limit=1000&offset=${offset}`);
      for (const vm of page.body.items as { id: string; name: string }[]) {
        const s = spec.get(vm.name)!;
        vms.push({ id: vm.id, vcpus: s.vcpus, memoryMib: s.memoryMib });
      }
    }
    if (vms.length !== VMS) throw new Error(`${vms.length} VMs listed, ${VMS} expected`);

    // History: tick 0 is the oldest, the last tick is now (the app's clock); every VM reports each tick.
    const trace = loadTrace();
    const ticks = Math.round((HOURS * 3_600_000) / SAMPLE_INTERVAL_MS);
    const end = clock.now();
    const jitter = seededRandom(42);
    const ingestStarted = performance.now();
    let batch: unknown[] = [];
    let ingested = 0;
    for (let t = 0; t < ticks; t++) {
      const timestamp = end - (ticks - 1 - t) * SAMPLE_INTERVAL_MS;
      for (const [i, vm] of vms.entries()) {
        const util = Math.min(1, (utilizationAt(trace, i % trace.names.length, t * 20) / 100) * (0.8 + 0.4 * jitter()));
        batch.push(vmSample(vm, util, timestamp));
        if (batch.length === BATCH) {
          await postSamples(bench.baseUrl, batch);
          ingested += batch.length;
          batch = [];
        }
      }
    }
    if (batch.length > 0) {
      await postSamples(bench.baseUrl, batch);
      ingested += batch.length;
    }
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;
    console.log(
      `Ingested ${ingested.toLocaleString('en-US')} samples (${VMS.toLocaleString('en-US')} VMs × ${ticks} ticks of 20 s, ${HOURS} h) ` +
        `through POST /api/v1/samples in ${ingestSeconds.toFixed(1)} s (${Math.round(ingested / ingestSeconds).toLocaleString('en-US')}/s)`,
    );

    // From here on the app's clock can be moved on (slid cases), past the minute swings are reused for.
    let offsetMs = 0;
    const realNow = clock.now.bind(clock);
    clock.now = () => realNow() + offsetMs;
    // The VMs go on reporting every 20 s up to the moved clock, as they would between two passes (not timed).
    let nextTick = ticks;
    const extendHistory = async () => {
      const samples: unknown[] = [];
      for (; end + (nextTick - ticks + 1) * SAMPLE_INTERVAL_MS <= clock.now(); nextTick++) {
        const timestamp = end + (nextTick - ticks + 1) * SAMPLE_INTERVAL_MS;
        for (const [i, vm] of vms.entries()) {
          const util = Math.min(1, (utilizationAt(trace, i % trace.names.length, nextTick * 20) / 100) * (0.8 + 0.4 * jitter()));
          samples.push(vmSample(vm, util, timestamp));
        }
      }
      for (let i = 0; i < samples.length; i += BATCH) await postSamples(bench.baseUrl, samples.slice(i, i + BATCH));
    };

    const base = await balancer.policyFor(clusterId);
    let fresh = 0;
    const policyOf = (c: Case): BalancingPolicy => ({
      ...base,
      demandStatistic: c.statistic,
      demandWindowSeconds: c.windowSeconds,
      swingWindowSeconds: c.swingWindowSeconds + (c.swings === 'read' ? ++fresh : 0),
    });
    const rowsScanned = async (c: Case): Promise<number> => {
      const since = clock.now() - (c.swings === 'reused' || c.swings === 'slid' ? c.windowSeconds : swingSeconds(c)) * 1000;
      const [row] = await db.reader.query('SELECT COUNT(*) AS n FROM samples WHERE "clusterId" = ? AND "timestamp" > ?', [
        clusterId,
        since,
      ]);
      return Number(row.n);
    };
    const timeOne = async (c: Case): Promise<number> => {
      if (c.swings === 'reused') await balancer.snapshot(clusterId, policyOf(c));
      if (c.swings === 'slid') {
        offsetMs += SWING_REUSE_MS + 1000;
        await extendHistory();
      }
      gc?.();
      const t0 = performance.now();
      const snapshot = await balancer.snapshot(clusterId, policyOf(c));
      const ms = performance.now() - t0;
      if (snapshot.vms.length !== VMS) throw new Error(`snapshot of ${snapshot.vms.length} VMs`);
      return ms;
    };

    const firstRows = new Map<string, number>();
    for (const c of CASES) firstRows.set(idOf(c), await rowsScanned(c));
    for (let w = 0; w < WARMUP; w++) for (const c of CASES) await timeOne(c);
    const times = new Map<string, number[]>(CASES.map((c) => [idOf(c), []]));
    const timedStarted = performance.now();
    for (let run = 0; run < RUNS; run++) {
      for (let k = 0; k < CASES.length; k++) {
        const c = CASES[(run + k) % CASES.length];
        times.get(idOf(c))!.push(await timeOne(c));
      }
    }
    const timedSeconds = (performance.now() - timedStarted) / 1000;
    const lastRows = new Map<string, number>();
    for (const c of CASES) lastRows.set(idOf(c), await rowsScanned(c));

    const medians = new Map([...times].map(([id, values]) => [id, median(values)]));
    printTable(
      `Cluster-wide demand estimation (BalancerService.snapshot, ${VMS.toLocaleString('en-US')} VMs / ${HOSTS} hosts): ${RUNS} runs, ms`,
      CASES.map((c) => ({
        case: c.name,
        'window s': c.windowSeconds,
        'swing s': c.swingWindowSeconds,
        'rows scanned': `${firstRows.get(idOf(c))!.toLocaleString('en-US')} → ${lastRows.get(idOf(c))!.toLocaleString('en-US')}`,
        median: medians.get(idOf(c))!,
        max: Math.max(...times.get(idOf(c))!),
        'x baseline': medians.get(idOf(c))! / medians.get(c.baseline)!,
      })),
    );

    const [{ n: rows }] = await db.reader.query('SELECT COUNT(*) AS n FROM samples');
    const size = (path: string) => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    console.log(
      `\nsamples table: ${Number(rows).toLocaleString('en-US')} rows; database file ${mib(size(bench.databasePath))} MiB ` +
        `(+ WAL ${mib(size(`${bench.databasePath}-wal`))} MiB); timed runs ${timedSeconds.toFixed(1)} s, ` +
        `whole bench ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const ratio = (a: string, b: string) => (medians.get(a)! / medians.get(b)!).toFixed(2);
    console.log(
      `the defaults (mean over 5 min, swing 3 h) against a swing over the 5-minute window: swings read ×${ratio('4a', '4')}, reused ×${ratio('4b', '4')}, slid ×${ratio('4c', '4')}`,
    );
    console.log(
      `mean over 1 h, swing 3 h against 1 h: swings read ×${ratio('2a', '1')}, reused ×${ratio('2b', '1')}, slid ×${ratio('2c', '1')}`,
    );
    console.log(
      `p80 over 1 h, swing 3 h against 1 h: swings read ×${ratio('3a', '3')}, reused ×${ratio('3b', '3')}, slid ×${ratio('3c', '3')}`,
    );
  } finally {
    await bench.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
