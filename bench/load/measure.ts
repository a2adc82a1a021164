// The load benchmark's measurements: one autocannon instance per route at once, the table rows, and a run of the
// baseline (GET /health alone) then the mixed load on the same server.
import { loadavg } from 'node:os';
import { percentile } from '../lib/stats';
import { argv, BASELINE_DURATION, DURATION, READ_CONNECTIONS } from './options';
import { Server } from './server';

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

export interface Load {
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

export interface Measured {
  load: Load;
  latencies: number[];
  statuses: Map<number, number>;
  errors: number;
  seconds: number;
}

export function run(baseUrl: string, load: Load, seconds: number): Promise<Measured> {
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

export const maxOf = (values: number[]) => values.reduce((a, b) => (b > a ? b : a), 0);

export function row(m: Measured, label = m.load.name): Record<string, string | number> {
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

export interface RunResult {
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

export const failures = (m: Measured) => m.errors + [...m.statuses].filter(([s]) => s !== m.load.expect).reduce((a, [, c]) => a + c, 0);

/** GET /health alone (the ceiling), then the mixed load, on the same server. */
export async function measure(server: Server, reads: Load[], others: Load[], health: Load, profile?: string): Promise<RunResult> {
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
