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
// Parts in bench/load/: options.ts, server.ts (the app in a child process), seed.ts (inventory), measure.ts.
import { availableParallelism } from 'node:os';
import { loadTrace } from '../src/simulator/trace';
import { median, percentile, printTable } from './lib/stats';
import { failures, Load, measure, Measured, run, RunResult } from './load/measure';
import {
  BASELINE_DURATION,
  CLUSTERS,
  DURATION,
  HOSTS,
  PLAN_RATE,
  READ_CONNECTIONS,
  RUNS,
  SAMPLES_RATE,
  TARGET_P99_MS,
  TARGET_READS_PER_SECOND,
  VMS,
} from './load/options';
import { sampleRound, seed } from './load/seed';
import { startServer } from './load/server';

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
