// Issue target: mixed API traffic on a 1,000-host / 20,000-VM inventory, the scheduler running:
// at least 2,000 reads/s with a p99 under 50 ms and no errors. Writes (sample batches) and plan
// calls run alongside and are reported too. Baseline in the same run: GET /health on the same
// server, alone (the ceiling of a route through the whole stack), and the ratio to it.
//
// The server runs in a child process (the load generator does not share its event loop); autocannon
// drives one instance per route at once, reads closed-loop (as fast as answers come back), samples
// and plans at a fixed rate.
//
//   npm run bench:load                    60 s of mixed load (the target's measurement)
//   npm run bench:load -- --duration 15   a quick run
// Options: --duration S (default 60), --clusters N (default 20; the hosts and VMs are split evenly),
// --connections N (read connections per read route, default 3), --samples-rate R (sample batches/s,
// default 1), --plan-rate R (plan calls/s, default 1), --baseline-duration S (default duration/6, 5..10),
// --only a,b (run only the routes whose names contain one of these: for profiling one route),
// --runs N (default 1: baseline and mixed load N times on the same server; the verdicts take medians).
// BENCH_PROFILE=/tmp/load.cpuprofile writes a CPU profile of the server during the mixed load;
// BENCH_SERVER_NODE_ARGS passes node options to the server process; BENCH_KEEP_DB=1 keeps the database.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadTrace, Trace, utilizationAt } from '../src/simulator/trace';
import { generateInventory } from '../test/helpers/inventory-generator';
import { call } from './lib/boot';
import { median, percentile, printTable } from './lib/stats';

// autocannon ships no types; the part used here.
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest, context: unknown) => AutocannonRequest;
}
interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, ms: number) => void): void;
  on(event: 'reqError', listener: (error: Error) => void): void;
  stop(): void;
}
type Autocannon = (options: Record<string, unknown>) => AutocannonInstance;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- autocannon ships no types: the ones declared above stand in
const autocannon: Autocannon = require('autocannon');

const { values: argv } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    clusters: { type: 'string', default: '20' },
    connections: { type: 'string', default: '3' },
    'samples-rate': { type: 'string', default: '1' },
    'plan-rate': { type: 'string', default: '1' },
    'baseline-duration': { type: 'string' },
    only: { type: 'string' },
    runs: { type: 'string', default: '1' },
  },
});

const DURATION = Number(argv.duration);
const CLUSTERS = Number(argv.clusters);
const READ_CONNECTIONS = Number(argv.connections);
const SAMPLES_RATE = Number(argv['samples-rate']);
const PLAN_RATE = Number(argv['plan-rate']);
const RUNS = Number(argv.runs);
const BASELINE_DURATION = Number(argv['baseline-duration'] ?? Math.min(10, Math.max(5, Math.round(DURATION / 6))));
const TOTAL_HOSTS = 1_000;
const TOTAL_VMS = 20_000;
const HOSTS = Math.round(TOTAL_HOSTS / CLUSTERS);
const VMS = Math.round(TOTAL_VMS / CLUSTERS);
/** vCenter's real-time statistics interval: each VM reports every 20 s. */
const SAMPLE_INTERVAL_S = 20;
const DEMAND_WINDOW_S = 300;
const TARGET_READS_PER_SECOND = 2_000;
const TARGET_P99_MS = 50;

for (const [name, value] of Object.entries({ RUNS, DURATION, CLUSTERS, READ_CONNECTIONS, SAMPLES_RATE, PLAN_RATE, BASELINE_DURATION })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bad option ${name}=${value}`);
}

interface Server {
  baseUrl: string;
  port: number;
  /** CPU time the server process has used so far (all its threads), ms; and its event-loop delays since the last call. */
  usage(): Promise<{ cpuMs: number; loop: { p50: number; p99: number; max: number } }>;
  /** Starts a CPU profile of the server; the returned function stops it and writes it to `file`. */
  profile(file: string): () => Promise<void>;
  stop(): Promise<void>;
}

/** The real app (AppModule.forRoot + configureApp) in a child process, on a temporary SQLite file. */
async function startServer(env: Record<string, unknown>): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'drs-bench-load-'));
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '-r',
      'ts-node/register/transpile-only',
      join(__dirname, 'lib', 'app-process.ts'),
      JSON.stringify({ DATABASE_PATH: join(dir, 'load.sqlite'), ...env }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, TZ: 'UTC' } },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening`)));
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    usage: () =>
      new Promise((resolve) => {
        const done = (message: { usage?: NodeJS.CpuUsage; loop?: { p50: number; p99: number; max: number } }) => {
          if (!message?.usage) return;
          child.off('message', done);
          resolve({ cpuMs: (message.usage.user + message.usage.system) / 1000, loop: message.loop! });
        };
        child.on('message', done);
        child.send('usage');
      }),
    profile: (file) => {
      child.send({ profile: 'start' });
      return () =>
        new Promise<void>((resolve) => {
          const done = (message: { profiled?: string }) => {
            if (message?.profiled !== file) return;
            child.off('message', done);
            resolve();
          };
          child.on('message', done);
          child.send({ profile: 'stop', file });
        });
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.connected) child.send('shutdown');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      if (process.env.BENCH_KEEP_DB) console.log(`database kept: ${join(dir, 'load.sqlite')}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function must(baseUrl: string, method: string, path: string, body: unknown, status: number) {
  const res = await call(baseUrl, method, path, body);
  if (res.status !== status) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body;
}

interface SeededCluster {
  id: string;
  vms: { id: string; vcpus: number; memoryMib: number; trace: number }[];
}

/** One round of samples for every VM of a cluster at `timestamp`, CPU demand from the PlanetLab trace. */
function sampleRound(trace: Trace, cluster: SeededCluster, timestamp: number, traceSeconds: number) {
  return cluster.vms.map((vm) => {
    const util = utilizationAt(trace, vm.trace, traceSeconds) / 100;
    return {
      vmId: vm.id,
      timestamp,
      cpuMhz: Math.round(util * vm.vcpus * 2600),
      memoryActiveMib: Math.round(vm.memoryMib * (0.15 + 0.5 * util)),
      memoryConsumedMib: Math.round(vm.memoryMib * 0.85),
      memoryDirtyMibPerSecond: Math.round(5 + 100 * util),
    };
  });
}

async function seed(baseUrl: string, trace: Trace, traceStart: number): Promise<SeededCluster[]> {
  const clusters: SeededCluster[] = [];
  const started = performance.now();
  for (let c = 0; c < CLUSTERS; c++) {
    const cluster = await must(baseUrl, 'POST', '/api/v1/clusters', { name: `load-${String(c).padStart(2, '0')}` }, 201);
    const inventory = generateInventory(HOSTS, VMS, `c${c}-`);
    await must(baseUrl, 'PUT', `/api/v1/clusters/${cluster.id}/inventory`, inventory, 200);
    // Passes every 20–39 s, staggered so that they do not all fall on the same tick; a quarter of the
    // clusters fully automated, so that migrations run (and VMs change hosts) under the load.
    await must(
      baseUrl,
      'PUT',
      `/api/v1/clusters/${cluster.id}/policy`,
      {
        passIntervalSeconds: 20 + (c % 20),
        automationLevel: c % 4 === 0 ? 'fully-automated' : 'partially-automated',
        cooldownSeconds: 600,
      },
      200,
    );
    const spec = new Map(inventory.vms.map((v) => [v.name, v]));
    const vms: SeededCluster['vms'] = [];
    for (let offset = 0; offset < VMS; offset += 1000) {
      const page = await must(baseUrl, 'GET', `/api/v1/vms?clusterId=${cluster.id}&limit=1000&offset=${offset}`, undefined, 200);
      for (const vm of page.items as { id: string; name: string }[]) {
        const s = spec.get(vm.name)!;
        vms.push({ id: vm.id, vcpus: s.vcpus, memoryMib: s.memoryMib, trace: (c * VMS + vms.length) % trace.names.length });
      }
    }
    clusters.push({ id: cluster.id, vms });
  }
  const inventorySeconds = (performance.now() - started) / 1000;
  // A full demand window of history: every VM, every 20 s, for the last 5 minutes.
  const now = Date.now();
  let samples = 0;
  const sampleStarted = performance.now();
  for (const cluster of clusters) {
    let batch: unknown[] = [];
    for (let t = DEMAND_WINDOW_S - SAMPLE_INTERVAL_S; t >= 0; t -= SAMPLE_INTERVAL_S) {
      batch.push(...sampleRound(trace, cluster, now - t * 1000, traceStart - t));
      if (batch.length >= 5000) {
        await must(baseUrl, 'POST', '/api/v1/samples', { samples: batch }, 201);
        samples += batch.length;
        batch = [];
      }
    }
    if (batch.length > 0) {
      await must(baseUrl, 'POST', '/api/v1/samples', { samples: batch }, 201);
      samples += batch.length;
    }
  }
  console.log(
    `Seeded ${CLUSTERS} clusters × ${HOSTS} hosts × ${VMS.toLocaleString('en-US')} VMs in ${inventorySeconds.toFixed(1)} s; ` +
      `${samples.toLocaleString('en-US')} samples (5 min of history) in ${((performance.now() - sampleStarted) / 1000).toFixed(1)} s`,
  );
  return clusters;
}

interface Load {
  name: string;
  kind: 'read' | 'write' | 'plan' | 'baseline';
  connections: number;
  /** Requests per second over all connections; closed-loop when absent. */
  rate?: number;
  method: 'GET' | 'POST';
  /** Path (and body) of the n-th request. */
  next: (n: number) => { path: string; body?: string };
  expect: number;
}

interface Measured {
  load: Load;
  latencies: number[];
  statuses: Map<number, number>;
  errors: number;
  seconds: number;
}

function run(baseUrl: string, load: Load, seconds: number): Promise<Measured> {
  let n = 0;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let errors = 0;
  const instance = autocannon({
    url: baseUrl,
    connections: load.connections,
    duration: seconds,
    timeout: 10,
    ...(load.rate ? { overallRate: load.rate } : {}),
    requests: [
      {
        method: load.method,
        headers: load.method === 'POST' ? { 'content-type': 'application/json' } : {},
        setupRequest: (req: AutocannonRequest) => {
          const { path, body } = load.next(n++);
          return { ...req, path, ...(body === undefined ? {} : { body }) };
        },
      },
    ],
  });
  const started = performance.now();
  instance.on('response', (_client, status, _bytes, ms) => {
    latencies.push(ms);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  instance.on('reqError', () => errors++);
  return Promise.resolve(instance).then((result) => ({
    load,
    latencies,
    statuses,
    errors: Math.max(errors, result.errors),
    seconds: (performance.now() - started) / 1000,
  }));
}

const maxOf = (values: number[]) => values.reduce((a, b) => (b > a ? b : a), 0);

function row(m: Measured, label = m.load.name): Record<string, string | number> {
  const count = m.latencies.length;
  const unexpected = [...m.statuses].filter(([s]) => s !== m.load.expect).reduce((sum, [, c]) => sum + c, 0);
  return {
    route: label,
    conns: m.load.connections,
    offered: m.load.rate ? `${m.load.rate}/s` : 'max',
    requests: count,
    'req/s': count / m.seconds,
    'p50 ms': count ? percentile(m.latencies, 50) : 0,
    'p99 ms': count ? percentile(m.latencies, 99) : 0,
    'max ms': maxOf(m.latencies),
    errors: m.errors,
    'non-2xx': unexpected,
    'x /health': '',
  };
}

interface RunResult {
  measured: Measured[];
  baseline: Measured;
  readsPerSecond: number;
  readP99: number;
  readFailures: number;
  healthPerSecond: number;
  rows: Record<string, string | number>[];
  loadCores: number;
  loadCpuPerRequest: number;
  healthCores: number;
  healthCpuPerRequest: number;
  loop: { p50: number; p99: number; max: number };
  loadAverage: number;
}

const failures = (m: Measured) => m.errors + [...m.statuses].filter(([s]) => s !== m.load.expect).reduce((a, [, c]) => a + c, 0);

/** GET /health alone (the ceiling), then the mixed load, on the same server. */
async function measure(server: Server, reads: Load[], others: Load[], health: Load, profile?: string): Promise<RunResult> {
  const before = await server.usage();
  const baseline = await run(server.baseUrl, health, BASELINE_DURATION);
  const afterBaseline = await server.usage();
  const only = argv.only?.split(',').filter(Boolean);
  const selected = [...reads, ...others].filter((l) => !only || only.some((o) => l.name.includes(o)));
  const stopProfile = profile ? server.profile(profile) : undefined;
  const loadStart = await server.usage();
  const measured = await Promise.all(selected.map((l) => run(server.baseUrl, l, DURATION)));
  const loadEnd = await server.usage();
  const loadAverage = loadavg()[0];
  if (stopProfile) {
    await stopProfile();
    console.log(`CPU profile of the server during the load: ${profile}`);
  }

  const readResults = measured.filter((m) => m.load.kind === 'read');
  const allReadLatencies = readResults.flatMap((m) => m.latencies);
  const readsPerSecond = readResults.length ? allReadLatencies.length / Math.max(...readResults.map((m) => m.seconds)) : 0;
  const readP99 = allReadLatencies.length ? percentile(allReadLatencies, 99) : 0;
  const readErrors = readResults.reduce((s, m) => s + m.errors, 0);
  const readFailures = readResults.reduce((sum, m) => sum + failures(m), 0);
  const healthPerSecond = baseline.latencies.length / baseline.seconds;
  const requestsServed = measured.reduce((sum, m) => sum + m.latencies.length, 0);
  const rows = [
    ...measured.map((m) => row(m)),
    {
      route: 'all reads',
      conns: reads.length * READ_CONNECTIONS,
      offered: 'max',
      requests: allReadLatencies.length,
      'req/s': readsPerSecond,
      'p50 ms': percentile(allReadLatencies, 50),
      'p99 ms': readP99,
      'max ms': maxOf(allReadLatencies),
      errors: readErrors,
      'non-2xx': readFailures - readErrors,
      'x /health': (readsPerSecond / healthPerSecond).toFixed(2),
    },
    { ...row(baseline), 'x /health': '1.00' },
  ];
  return {
    measured,
    baseline,
    readsPerSecond,
    readP99,
    readFailures,
    healthPerSecond,
    rows,
    loadCores: (loadEnd.cpuMs - loadStart.cpuMs) / 1000 / DURATION,
    loadCpuPerRequest: (loadEnd.cpuMs - loadStart.cpuMs) / requestsServed,
    healthCores: (afterBaseline.cpuMs - before.cpuMs) / 1000 / baseline.seconds,
    healthCpuPerRequest: (afterBaseline.cpuMs - before.cpuMs) / baseline.latencies.length,
    loop: loadEnd.loop,
    loadAverage,
  };
}

async function main(): Promise<void> {
  const trace = loadTrace();
  const traceStart = 10 * 3600; // 10:00 in the trace day: a busy hour
  const server = await startServer({
    DEMO_ENABLED: false,
    SCHEDULER_ENABLED: true,
    SCHEDULER_TICK_MS: 1000,
    RATE_LIMIT_MAX: 0,
    // Simulated migrations at 20× so that fully automated clusters finish moves within the run.
    MIGRATION_TIME_SCALE: 20,
  });
  try {
    console.log(
      `Layout: ${CLUSTERS} cluster(s) of ${HOSTS} hosts / ${VMS.toLocaleString('en-US')} VMs` +
        (CLUSTERS > 1
          ? ` — DRS clusters hold at most 96 hosts, so 1,000 hosts are many clusters in practice; 50 hosts / 1,000 VMs is a typical large one.`
          : ` — one cluster bigger than any DRS cluster (max 96 hosts): the worst case for per-cluster work.`),
    );
    const clusters = await seed(server.baseUrl, trace, traceStart);
    const ids = clusters.map((c) => c.id);
    const pick = (n: number) => ids[n % ids.length];
    const loadStarted = Date.now();

    const reads: Load[] = [
      { name: 'GET /clusters/{id}/balance', path: (n: number) => `/api/v1/clusters/${pick(n)}/balance` },
      {
        name: 'GET /vms?clusterId&limit=50',
        path: (n: number) => `/api/v1/vms?clusterId=${pick(n)}&limit=50&offset=${50 * (Math.floor(n / ids.length) % Math.ceil(VMS / 50))}`,
      },
      { name: 'GET /hosts?clusterId', path: (n: number) => `/api/v1/hosts?clusterId=${pick(n)}&limit=50` },
      { name: 'GET /recommendations?clusterId', path: (n: number) => `/api/v1/recommendations?clusterId=${pick(n)}&limit=50` },
      {
        name: 'GET /migrations',
        path: (n: number) => (n % 2 ? `/api/v1/migrations?clusterId=${pick(n)}&limit=50` : '/api/v1/migrations?limit=50'),
      },
      { name: 'GET /events', path: (n: number) => (n % 2 ? `/api/v1/events?clusterId=${pick(n)}&limit=50` : '/api/v1/events?limit=50') },
    ].map((r) => ({
      name: r.name,
      kind: 'read' as const,
      connections: READ_CONNECTIONS,
      method: 'GET' as const,
      next: (n: number) => ({ path: r.path(n) }),
      expect: 200,
    }));

    // Each batch: one cluster's VMs, one sample each, stamped now (at 1/s with 20 clusters, every VM every 20 s).
    const samples: Load = {
      name: `POST /samples (${VMS.toLocaleString('en-US')}/batch)`,
      kind: 'write',
      connections: 1,
      rate: SAMPLES_RATE,
      method: 'POST',
      next: (n) => {
        const now = Date.now();
        return {
          path: '/api/v1/samples',
          body: JSON.stringify({
            samples: sampleRound(trace, clusters[n % clusters.length], now, traceStart + (now - loadStarted) / 1000),
          }),
        };
      },
      expect: 201,
    };
    const plans: Load = {
      name: 'POST /clusters/{id}/plan',
      kind: 'plan',
      connections: 1,
      rate: PLAN_RATE,
      method: 'POST',
      next: (n) => ({ path: `/api/v1/clusters/${pick(n)}/plan`, body: '{}' }),
      expect: 200,
    };
    const health: Load = {
      name: 'GET /health (alone)',
      kind: 'baseline',
      connections: reads.length * READ_CONNECTIONS,
      method: 'GET',
      next: () => ({ path: '/health' }),
      expect: 200,
    };

    // Warm-up: a few requests of each kind (JIT, prepared statements), not measured.
    await Promise.all([...reads, plans].map((l) => run(server.baseUrl, { ...l, rate: undefined, connections: 1 }, 2)));

    console.log(
      `Each run: GET /health alone for ${BASELINE_DURATION} s, then ${DURATION} s of mixed load: ${reads.length} read routes × ${READ_CONNECTIONS} connections ` +
        `(closed loop), sample batches at ${SAMPLES_RATE}/s, plans at ${PLAN_RATE}/s, scheduler passes every 20–39 s per cluster (a quarter fully automated).`,
    );
    const results: RunResult[] = [];
    for (let i = 0; i < RUNS; i++) {
      results.push(await measure(server, reads, [samples, plans], health, i === 0 ? process.env.BENCH_PROFILE : undefined));
      if (RUNS > 1)
        console.log(
          `run ${i + 1}/${RUNS}: ${Math.round(results[i].readsPerSecond)} reads/s, p99 ${results[i].readP99.toFixed(1)} ms, GET /health alone ${Math.round(results[i].healthPerSecond)}/s`,
        );
    }
    // The run with the median read throughput stands for all; the verdicts take the median of each figure.
    const byReads = [...results].sort((a, b) => a.readsPerSecond - b.readsPerSecond);
    const shown = byReads[Math.floor((byReads.length - 1) / 2)];
    printTable(
      `Mixed API load, ${DURATION} s, ${CLUSTERS} × ${HOSTS} hosts / ${VMS.toLocaleString('en-US')} VMs, scheduler on` +
        `${RUNS > 1 ? ` (the median of ${RUNS} runs by reads/s)` : ''}; client-side latency in ms; baseline: GET /health alone, ${BASELINE_DURATION} s, same server`,
      shown.rows,
    );
    if (RUNS > 1) {
      printTable(
        `All ${RUNS} runs`,
        results.map((r, i) => ({
          run: i + 1,
          'reads/s': r.readsPerSecond,
          'reads p99 ms': r.readP99,
          'read failures': r.readFailures,
          'GET /health alone /s': r.healthPerSecond,
          'x /health': (r.readsPerSecond / r.healthPerSecond).toFixed(2),
          'load average': r.loadAverage.toFixed(1),
        })),
      );
    }

    const statusSummary = (m: Measured) => [...m.statuses].map(([s, c]) => `${s}×${c}`).join(', ') || 'none';
    console.log(`\nstatuses: ${shown.measured.map((m) => `${m.load.name.split(' ')[1]} ${statusSummary(m)}`).join('; ')}`);
    console.log(
      `server CPU (all its threads): ${shown.loadCores.toFixed(2)} cores during the mixed load, ${shown.loadCpuPerRequest.toFixed(2)} ms per request; ` +
        `${shown.healthCores.toFixed(2)} cores, ${shown.healthCpuPerRequest.toFixed(2)} ms per GET /health alone`,
    );
    console.log(
      `server event-loop delay during the mixed load: p50 ${shown.loop.p50.toFixed(1)} ms, p99 ${shown.loop.p99.toFixed(1)} ms, max ${shown.loop.max.toFixed(1)} ms; ` +
        `machine load average ${shown.loadAverage.toFixed(1)} at the end of the load, ${availableParallelism()} CPUs (the load generator runs on them too)`,
    );

    const readsPerSecond = median(results.map((r) => r.readsPerSecond));
    const readP99 = median(results.map((r) => r.readP99));
    const healthPerSecond = median(results.map((r) => r.healthPerSecond));
    const readFailures = results.reduce((s, r) => s + r.readFailures, 0);
    const of = RUNS > 1 ? ` (median of ${RUNS} runs)` : '';
    console.log(
      `\n${readsPerSecond >= TARGET_READS_PER_SECOND ? 'PASS' : 'FAIL'}: ${Math.round(readsPerSecond).toLocaleString('en-US')} reads/s${of} (target >= ${TARGET_READS_PER_SECOND.toLocaleString('en-US')}); ` +
        `${(readsPerSecond / healthPerSecond).toFixed(2)} of GET /health alone (${Math.round(healthPerSecond).toLocaleString('en-US')}/s, the ceiling of this server here)`,
    );
    console.log(`${readP99 < TARGET_P99_MS ? 'PASS' : 'FAIL'}: reads p99 ${readP99.toFixed(1)} ms${of} (target < ${TARGET_P99_MS} ms)`);
    console.log(
      `${readFailures === 0 ? 'PASS' : 'FAIL'}: ${readFailures} read errors or non-2xx answers${RUNS > 1 ? ' in all runs' : ''} (target 0)`,
    );
    const writes = shown.measured.find((m) => m.load.kind === 'write');
    const planned = shown.measured.find((m) => m.load.kind === 'plan');
    if (writes) {
      console.log(
        `info: samples ${Math.round((writes.latencies.length * VMS) / writes.seconds).toLocaleString('en-US')}/s in ${writes.latencies.length} batches, ` +
          `p99 ${percentile(writes.latencies, 99).toFixed(1)} ms, ${failures(writes)} failed`,
      );
    }
    if (planned) console.log(`info: plans p99 ${percentile(planned.latencies, 99).toFixed(1)} ms, ${failures(planned)} failed`);
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
