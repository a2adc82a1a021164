// Issue target: 1,000 simulated migrations (time-scaled) through the engine, with the event loop
// staying responsive (p99 delay < 50 ms while they run). Baseline, measured in the same run: the same
// jobs through the same simulated driver and the same caps, in memory, with no database.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gbpsToMibPerSecond, MigrationJob, SimulatedMigrationDriver } from '../src/live-migration/drivers';
import { LiveMigrationService } from '../src/live-migration/live-migration.service';
import { SlotBook, SlotClaim } from '../src/live-migration/slots';
import { bootApp, call } from './lib/boot';
import { percentile, printTable } from './lib/stats';

const MIGRATIONS = Number(process.env.BENCH_MIGRATIONS ?? 1000);
const CLUSTERS = 4;
const HOSTS_PER_CLUSTER = 16;
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE ?? 100);
const PER_HOST = 4;
const PER_CLUSTER = 16;
const VM_MEMORY_MIB = 4096;
const HOST_GBPS = 10;
const TARGET_P99_MS = 50;

interface Move extends SlotClaim {
  vmName: string;
  sourceName: string;
  targetName: string;
}

/** The same jobs through the driver alone: a pool honouring the same caps, no queue table, no transactions. */
async function baseline(moves: Move[]): Promise<number> {
  const driver = new SimulatedMigrationDriver({ timeScale: TIME_SCALE, progressIntervalMs: 500 });
  const slots = new SlotBook({ perHost: PER_HOST, perCluster: PER_CLUSTER });
  const link = gbpsToMibPerSecond(HOST_GBPS);
  const pending = [...moves];
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let running = 0;
    const fill = () => {
      for (let i = 0; i < pending.length; i++) {
        const move = pending[i];
        if (slots.blocker(move)) continue;
        pending.splice(i--, 1);
        slots.take(move);
        running++;
        const job: MigrationJob = {
          migrationId: move.id,
          vm: { id: move.vmId, name: move.vmName, memoryMib: VM_MEMORY_MIB },
          source: { id: move.sourceHostId, name: move.sourceName, migrationGbps: HOST_GBPS },
          target: { id: move.targetHostId, name: move.targetName, migrationGbps: HOST_GBPS },
          bandwidthMibPerSecond: () => link / Math.max(1, slots.hostLoad(move.sourceHostId), slots.hostLoad(move.targetHostId)),
        };
        void driver
          .migrate(job, new AbortController().signal, () => undefined)
          .then(() => {
            slots.release(move.id);
            running--;
            if (pending.length === 0 && running === 0) resolve();
            else fill();
          });
      }
    };
    fill();
  });
  return (performance.now() - started) / 1000;
}

/** Highest number running at once per key, from the records' [startedAt, finishedAt) intervals. */
function peak<R extends { startedAt: string; finishedAt: string }>(records: R[], keysOf: (r: R) => string[]): number {
  const events: [number, number, string][] = [];
  for (const r of records) {
    for (const key of keysOf(r)) events.push([Date.parse(r.startedAt), 1, key], [Date.parse(r.finishedAt), -1, key]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const current = new Map<string, number>();
  let max = 0;
  for (const [, delta, key] of events) {
    const n = (current.get(key) ?? 0) + delta;
    current.set(key, n);
    max = Math.max(max, n);
  }
  return max;
}

async function main(): Promise<void> {
  const bench = await bootApp({
    MIGRATION_TIME_SCALE: TIME_SCALE,
    MIGRATION_MAX_PER_HOST: PER_HOST,
    MIGRATION_MAX_PER_CLUSTER: PER_CLUSTER,
    SCHEDULER_ENABLED: false,
  });
  try {
    const moves: Move[] = [];
    const perCluster = Math.ceil(MIGRATIONS / CLUSTERS);
    for (let c = 0; c < CLUSTERS; c++) {
      const cluster = await call(bench.baseUrl, 'POST', '/api/v1/clusters', { name: `bench-${c}` });
      const hosts = Array.from({ length: HOSTS_PER_CLUSTER }, (_, i) => ({
        name: `c${c}-esx-${i}`,
        cpuCores: 64,
        cpuMhz: 64 * 2600,
        memoryMib: 1024 * 1024,
        migrationGbps: HOST_GBPS,
      }));
      const vms = Array.from({ length: perCluster }, (_, i) => ({
        name: `c${c}-vm-${i}`,
        hostName: hosts[i % HOSTS_PER_CLUSTER].name,
        vcpus: 1,
        memoryMib: VM_MEMORY_MIB,
      }));
      const sync = await call(bench.baseUrl, 'PUT', `/api/v1/clusters/${cluster.body.id}/inventory`, { hosts, vms });
      if (sync.status !== 200) throw new Error(`inventory sync answered ${sync.status}`);
      const hostList = (await call(bench.baseUrl, 'GET', `/api/v1/hosts?clusterId=${cluster.body.id}&limit=100`)).body.items;
      const hostByName = new Map<string, { id: string; name: string }>(hostList.map((h: { id: string; name: string }) => [h.name, h]));
      const vmList = (await call(bench.baseUrl, 'GET', `/api/v1/vms?clusterId=${cluster.body.id}&limit=1000`)).body.items;
      for (const vm of vmList as { id: string; name: string; hostId: string }[]) {
        if (moves.length >= MIGRATIONS) break;
        const i = Number(vm.name.split('-').pop());
        // Each VM goes to a host a few places along, so that hosts both send and receive.
        const target = hostByName.get(hosts[(i + 1 + (i % 3)) % HOSTS_PER_CLUSTER].name)!;
        const source = hostList.find((h: { id: string }) => h.id === vm.hostId);
        moves.push({
          id: `m-${moves.length}`,
          clusterId: cluster.body.id,
          vmId: vm.id,
          vmName: vm.name,
          sourceHostId: vm.hostId,
          sourceName: source.name,
          targetHostId: target.id,
          targetName: target.name,
        });
      }
    }

    const baselineSeconds = await baseline(moves);

    const service = bench.app.get(LiveMigrationService);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const started = performance.now();
    for (const move of moves) {
      await service.enqueue({ vmId: move.vmId, targetHostId: move.targetHostId, trigger: 'recommendation', reason: 'bench' });
    }
    const enqueueSeconds = (performance.now() - started) / 1000;
    // A client watching the queue meanwhile, as the dashboard would.
    const pollLatencies: number[] = [];
    for (;;) {
      const t0 = performance.now();
      const page = await call(bench.baseUrl, 'GET', '/api/v1/migrations?state=queued,running&limit=1');
      pollLatencies.push(performance.now() - t0);
      if (page.body.total === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const engineSeconds = (performance.now() - started) / 1000;
    loop.disable();

    const records: {
      state: string;
      startedAt: string;
      finishedAt: string;
      sourceHostId: string;
      targetHostId: string;
      clusterId: string;
    }[] = [];
    for (let offset = 0; offset < MIGRATIONS; offset += 1000) {
      records.push(...(await call(bench.baseUrl, 'GET', `/api/v1/migrations?limit=1000&offset=${offset}`)).body.items);
    }
    const succeeded = records.filter((r) => r.state === 'succeeded').length;
    const p99 = loop.percentile(99) / 1e6;
    const realDurations = records.map((r) => (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000);

    printTable(
      `Live migrations: ${MIGRATIONS.toLocaleString('en-US')} simulated (time scale ${TIME_SCALE}), ${CLUSTERS} clusters × ${HOSTS_PER_CLUSTER} hosts, caps ${PER_HOST}/host and ${PER_CLUSTER}/cluster`,
      [
        {
          path: 'driver + caps in memory (baseline)',
          seconds: baselineSeconds,
          'migrations/s': MIGRATIONS / baselineSeconds,
          'x baseline': 1,
          'loop p99 ms': '-',
        },
        {
          path: 'engine: queue table, transactions, API',
          seconds: engineSeconds,
          'migrations/s': MIGRATIONS / engineSeconds,
          'x baseline': baselineSeconds / engineSeconds,
          'loop p99 ms': p99,
        },
      ],
    );
    printTable('While they ran', [
      {
        'enqueue (s)': enqueueSeconds,
        'migration median (s)': percentile(realDurations, 50),
        'migration p99 (s)': percentile(realDurations, 99),
        'loop max ms': loop.max / 1e6,
        'GET p99 ms': percentile(pollLatencies, 99),
      },
    ]);
    const hostPeak = peak(records, (r) => [r.sourceHostId, r.targetHostId]);
    const clusterPeak = peak(records, (r) => [r.clusterId]);
    console.log(`\n${succeeded === MIGRATIONS ? 'PASS' : 'FAIL'}: ${succeeded} of ${MIGRATIONS} migrations succeeded`);
    console.log(
      `${hostPeak <= PER_HOST && clusterPeak <= PER_CLUSTER ? 'PASS' : 'FAIL'}: at most ${hostPeak} at once per host (cap ${PER_HOST}), ${clusterPeak} per cluster (cap ${PER_CLUSTER})`,
    );
    console.log(
      `${p99 < TARGET_P99_MS ? 'PASS' : 'FAIL'}: event-loop delay p99 ${p99.toFixed(1)} ms while they ran (target < ${TARGET_P99_MS} ms)`,
    );
    console.log(
      `INFO: ${(MIGRATIONS / engineSeconds).toFixed(1)} migrations/s, ${(baselineSeconds / engineSeconds).toFixed(2)} of the in-memory baseline`,
    );
  } finally {
    await bench.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
