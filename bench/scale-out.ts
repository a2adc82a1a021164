// Issue 19: 1,000 simulated clusters (10 hosts / 100 VMs each: 10,000 hosts, 100,000 VMs) across three replicas on
// one PostgreSQL database; every VM sampled once a minute, a pass per cluster every 5 minutes. Prints pass latency,
// lag behind schedule, reads/s across the replicas (against one replica alone, same run), and the failover time
// after a SIGKILL (target: at most two lease periods). Exits non-zero if failover took longer or a pass ran twice.
//
//   npm run bench:scale-out                                     the issue's size, a 12-minute measured window
//   npm run bench:scale-out -- --clusters 30 --minutes 2 --interval 30   a quick run
// Options: --clusters N (1000), --minutes M (12: every cluster passes twice and the failed-over ones once after the
// kill), --interval S (passIntervalSeconds, 300), --automation manual|partially-automated|fully-automated
// (manual: see below), --read-seconds S (20), --in-flight N (32).
// BENCH_DATABASE_URL: a maintenance URL of the PostgreSQL server (default postgres://drs_ci:drs_ci@127.0.0.1:5432/postgres);
// the bench drops and creates the database drs_bench_scaleout there. BENCH_KEEP_DB=1 keeps it afterwards.
// Why manual by default: at the full size with fully-automated clusters (run on 2 CPUs, 2026-12-06) applying the moves
// drowned the replicas: interval passes took 235 s (median; p95 405 s), only 681 of the 1,000 clusters had their
// first pass within 12 minutes and none a second one. Manual passes plan and record recommendations but start no
// migration; --automation fully-automated measures the other case.
// Parts in bench/scale-out/: replicas.ts (processes, database), workload.ts (clusters, samples, reads), analysis.ts.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { Client } from 'pg';
import { call } from './lib/boot';
import { median, percentile, printTable } from './lib/stats';
import { failoverPasses, firstPasses, intervalPasses, spread } from './scale-out/analysis';
import {
  clusterCreation,
  DB_NOW,
  dbNow,
  dropDatabase,
  freshDatabase,
  killReplica,
  leases,
  passes,
  redact,
  Replica,
  running,
  startReplica,
  stopReplica,
} from './scale-out/replicas';
import { createClusters, HOSTS, readLoad, ReadResult, startSampler, VMS } from './scale-out/workload';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const CLUSTERS = Number(option('clusters', '1000'));
const MINUTES = Number(option('minutes', '12'));
const INTERVAL_S = Number(option('interval', '300'));
const AUTOMATION = option('automation', 'manual');
const READ_SECONDS = Number(option('read-seconds', '20'));
const IN_FLIGHT = Number(option('in-flight', '32'));
const MAINTENANCE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://drs_ci:drs_ci@127.0.0.1:5432/postgres';
const DATABASE = 'drs_bench_scaleout';
const LEASE_TTL_MS = 10_000;
const LEASE_RENEW_MS = 2_000;
const REPLICAS = ['r1', 'r2', 'r3'];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const s = (ms: number) => ms / 1000;
const statusText = (m: Map<number, number>) => [...m].map(([k, v]) => `${k === 0 ? 'error' : k}×${v}`).join(', ') || 'none';

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

async function main(): Promise<void> {
  const runStarted = Date.now();
  console.log(
    `Scale-out: ${CLUSTERS.toLocaleString('en-US')} clusters × ${HOSTS} hosts / ${VMS} VMs (${(CLUSTERS * HOSTS).toLocaleString('en-US')} hosts, ` +
      `${(CLUSTERS * VMS).toLocaleString('en-US')} VMs) on ${REPLICAS.length} replicas; a sample per VM per minute; passes every ${INTERVAL_S} s, ${AUTOMATION}; ` +
      `${MINUTES}-minute window; leases ${LEASE_TTL_MS} ms, renewed every ${LEASE_RENEW_MS} ms`,
  );
  console.log(`PostgreSQL: ${redact(MAINTENANCE_URL)} (BENCH_DATABASE_URL), database ${DATABASE} dropped and created by this run`);
  console.log(
    `Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}, load average ${loadavg()[0].toFixed(1)} at the start`,
  );

  const url = await freshDatabase(MAINTENANCE_URL, DATABASE);
  const db = new Client({ connectionString: url });
  const replicas: Replica[] = [];
  let failed = false;
  try {
    const env = {
      DATABASE_URL: url,
      DEMO_ENABLED: false,
      LOG_LEVEL: process.env.BENCH_REPLICA_LOG_LEVEL ?? 'silent',
      SCHEDULER_ENABLED: true,
      RATE_LIMIT_MAX: 0,
      LEASE_TTL_MS,
      LEASE_RENEW_MS,
      // Simulated migrations 10× faster than real time: a pass's moves end within a minute or so.
      MIGRATION_TIME_SCALE: 10,
    };
    let t0 = Date.now();
    replicas.push(...(await Promise.all(REPLICAS.map((name) => startReplica(name, env)))));
    await db.connect();
    await waitFor('three replicas alive', 60_000, async () => {
      const body = (await call(replicas[0].baseUrl, 'GET', '/api/v1/replicas')).body;
      return body?.replicas?.filter((r: { alive: boolean }) => r.alive).length === REPLICAS.length ? true : undefined;
    });
    const startupMs = Date.now() - t0;

    t0 = Date.now();
    const policy = { automationLevel: AUTOMATION, passIntervalSeconds: INTERVAL_S };
    const clusters = await createClusters(replicas, CLUSTERS, policy, 6);
    const setupMs = Date.now() - t0;
    const alive = () => replicas.filter(running);
    const sampler = startSampler(alive, clusters, Math.max(1, Math.min(100, Math.ceil(CLUSTERS / 10))));
    const windowStart = Date.now();
    const shared = await waitFor('every cluster leased', 120_000, async () => {
      const { rows } = await leases(db);
      const live = rows.filter((r) => r.live);
      if (live.length < CLUSTERS) return undefined;
      const by = new Map<string, number>();
      for (const r of live) by.set(r.replicaId, (by.get(r.replicaId) ?? 0) + 1);
      return by;
    });
    console.log(
      `\nstarted 3 replicas in ${s(startupMs).toFixed(1)} s; created ${CLUSTERS} clusters with inventories and policies in ${s(setupMs).toFixed(1)} s; ` +
        `leases: ${[...shared].map(([r, n]) => `${r} ${n}`).join(', ')} (${s(Date.now() - windowStart).toFixed(1)} s after the last cluster)`,
    );
    const cpuAtStart = await Promise.all(replicas.map((r) => r.cpuMs()));
    // Lease monitor: every second, how many clusters have no live lease (a replica that cannot renew in time loses them).
    const monitorDb = new Client({ connectionString: url });
    await monitorDb.connect();
    const unleased: { at: number; count: number }[] = [];
    /** Per replica, the longest its heartbeat went without renewal (seen once a second; the killed one until the kill). */
    const heartbeatGap = new Map<string, number>();
    let monitoring = true;
    const monitor = (async () => {
      while (monitoring) {
        const { rows } = await leases(monitorDb).catch(() => ({ rows: [] as { live: boolean }[] }));
        unleased.push({ at: Date.now(), count: CLUSTERS - rows.filter((r) => r.live).length });
        const beats = await monitorDb
          .query(`SELECT id, ${DB_NOW} - "heartbeatAt" AS age FROM replicas`)
          .then((r) => r.rows as { id: string; age: string }[])
          .catch(() => []);
        for (const b of beats) {
          if (replicas.some((r) => r.name === b.id && running(r)))
            heartbeatGap.set(b.id, Math.max(heartbeatGap.get(b.id) ?? 0, Number(b.age)));
        }
        await sleep(1000);
      }
      await monitorDb.end();
    })();

    // Reads: all three replicas, then one alone (same load, same moment of the run), a minute into the window.
    await sleep(Math.max(0, windowStart + Math.min(60_000, (MINUTES * 60_000) / 4) - Date.now()));
    const warm = await readLoad(replicas, clusters, 2, IN_FLIGHT);
    void warm;
    const readsAll = await readLoad(replicas, clusters, READ_SECONDS, IN_FLIGHT);
    const readsOne = await readLoad([replicas[0]], clusters, READ_SECONDS, IN_FLIGHT);
    console.log(`reads done at ${s(Date.now() - windowStart).toFixed(0)} s into the window`);

    // Failover: kill the replica holding most leases once every cluster has had its first interval pass (or at half the
    // window), so that each taken-over cluster's next pass is due from a pass on record.
    const killAtLeast = windowStart + Math.max((MINUTES * 60_000) / 2, INTERVAL_S * 1000 + 30_000);
    await sleep(Math.max(0, killAtLeast - Date.now()));
    // Kill only while every cluster is leased (a starved replica may have let leases run out: see the lease monitor).
    const before = await waitFor('every cluster leased before the kill', 120_000, async () => {
      const l = await leases(db);
      return l.rows.filter((r) => r.live).length === CLUSTERS ? l : undefined;
    }).catch(async (err) => {
      console.log(`${err.message}: killing anyway`);
      return leases(db);
    });
    const counts = new Map<string, string[]>();
    for (const r of before.rows.filter((l) => l.live)) counts.set(r.replicaId, [...(counts.get(r.replicaId) ?? []), r.clusterId]);
    const [victimName, victimClusters] = [...counts].sort((a, b) => b[1].length - a[1].length)[0];
    const victim = replicas.find((r) => r.name === victimName)!;
    const killedAt = await dbNow(db);
    await killReplica(victim);
    const killedLocal = Date.now();
    const victimSet = new Set(victimClusters);
    let takenOverAt = NaN;
    const newOwners = new Map<string, number>();
    for (;;) {
      const { now, rows } = await leases(db);
      const mine = rows.filter((r) => victimSet.has(r.clusterId));
      if (mine.length === victimSet.size && mine.every((r) => r.live && r.replicaId !== victimName)) {
        takenOverAt = now;
        for (const r of mine) newOwners.set(r.replicaId, (newOwners.get(r.replicaId) ?? 0) + 1);
        break;
      }
      if (Date.now() - killedLocal > 10 * LEASE_TTL_MS) break;
      await sleep(100);
    }
    const failoverMs = takenOverAt - killedAt;
    console.log(
      `killed ${victimName} (SIGKILL, ${victimClusters.length} leases) at ${s(killedLocal - windowStart).toFixed(0)} s into the window; ` +
        (Number.isFinite(failoverMs)
          ? `all its clusters leased again in ${s(failoverMs).toFixed(2)} s (${[...newOwners].map(([r, n]) => `${r} ${n}`).join(', ')})`
          : `NOT all taken over within ${s(10 * LEASE_TTL_MS)} s`),
    );

    await sleep(Math.max(0, windowStart + MINUTES * 60_000 - Date.now()));
    const windowEnd = Date.now();
    const cpuAtEnd = await Promise.all(replicas.map((r) => (running(r) ? r.cpuMs() : Promise.resolve(NaN))));
    await sampler.stop();
    monitoring = false;
    await monitor;
    const all = await passes(db);

    // Figures.
    const interval = intervalPasses(all, INTERVAL_S * 1000);
    const latency = interval.latencies;
    const lag = interval.lags;
    const fo = failoverPasses(all, victimSet, killedAt, takenOverAt, INTERVAL_S * 1000, windowEnd - Math.min(120_000, INTERVAL_S * 1000));
    const firsts = firstPasses(all, await clusterCreation(db), INTERVAL_S * 1000, windowEnd - 60_000);
    const rounds = sampler.rounds;
    const roundSeconds = rounds.map((r) => s(r.ended - r.started));
    const ingestLag = rounds.map((r) => s(r.started - r.due));
    const sampled = rounds.reduce((n, r) => n + r.samples, 0);
    const readsRate = (r: ReadResult) => r.latencies.length / r.seconds;

    const rows: Record<string, string | number>[] = [
      spread('interval pass latency (finishedAt - startedAt), s', latency.map(s)),
      spread('first pass lag (start - (created + interval)), s', firsts.lags.map(s)),
      spread('first pass end lag (end - (created + interval)), s', firsts.endLags.map(s)),
      spread('lag behind schedule (next start - (start + interval)), s', lag.map(s)),
      spread('failed-over clusters: next pass - due, s', fo.lags.map(s)),
      spread(`sample round (${(CLUSTERS * VMS).toLocaleString('en-US')} samples), s`, roundSeconds),
      spread('ingest lag (round start - due), s', ingestLag),
      spread(`reads, ${REPLICAS.length} replicas: latency ms`, readsAll.latencies),
      spread('reads, 1 replica: latency ms', readsOne.latencies),
    ];
    printTable(
      `Scale-out, ${CLUSTERS} clusters / ${(CLUSTERS * VMS).toLocaleString('en-US')} VMs, 3 replicas, ${MINUTES}-minute window`,
      rows,
    );

    const perReplicaCores = replicas.map((r, i) => ({
      replica: r.name,
      'leases at start': shared.get(r.name) ?? 0,
      'longest heartbeat age s': s(heartbeatGap.get(r.name) ?? NaN),
      'CPU cores used (window)': running(r) ? (cpuAtEnd[i] - cpuAtStart[i]) / (windowEnd - windowStart) : 'killed',
    }));
    printTable('Replicas', perReplicaCores);

    const gaps = unleased.filter((u) => u.count > 0 && (u.at < killedLocal || u.at > killedLocal + 2 * LEASE_TTL_MS + 5_000));
    console.log(
      `\nlease monitor (1/s, outside the failover): ${gaps.length} of ${unleased.length} looks found clusters without a live lease` +
        (gaps.length
          ? ` (at most ${Math.max(...gaps.map((g) => g.count))}; first at ${s(gaps[0].at - windowStart).toFixed(0)} s into the window)`
          : ''),
    );
    const statuses = new Map<string, number>();
    for (const p of all) statuses.set(`${p.trigger}/${p.status}`, (statuses.get(`${p.trigger}/${p.status}`) ?? 0) + 1);
    console.log(
      `\npasses recorded: ${[...statuses].map(([k, v]) => `${k} ${v}`).join(', ')}; moves applied ${all.reduce((n, p) => n + p.movesApplied, 0)}`,
    );
    console.log(
      `clusters with >= 2 interval passes: ${interval.clustersWithTwo} of ${CLUSTERS}, without any recorded though due a minute before the end: ${firsts.none} (a pass is recorded once planned: those in progress are not counted); samples posted ${sampled.toLocaleString('en-US')} in ${rounds.length} rounds ` +
        `(${(sampled / s(windowEnd - windowStart)).toFixed(0)}/s over the window), batches: ${statusText(sampler.statuses())}`,
    );
    const notes = new Map<string, number>();
    for (const p of all.filter((p) => p.status !== 'completed')) {
      const note = `${p.status}: ${p.notes.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>').slice(0, 160)}`;
      notes.set(note, (notes.get(note) ?? 0) + 1);
    }
    for (const [note, n] of notes) console.log(`  ${n} × ${note}`);
    const allRate = readsRate(readsAll);
    const oneRate = readsRate(readsOne);
    console.log(
      `reads: ${allRate.toFixed(0)}/s across ${REPLICAS.length} replicas (${statusText(readsAll.statuses)}), ${oneRate.toFixed(0)}/s on one replica ` +
        `(${statusText(readsOne.statuses)}), ${IN_FLIGHT} in flight, ${READ_SECONDS} s each: ratio ${(allRate / oneRate).toFixed(2)} ` +
        `(${availableParallelism()} CPUs shared by the replicas, PostgreSQL and this client)`,
    );
    console.log(`machine load average ${loadavg()[0].toFixed(1)} at the end; whole run ${s(Date.now() - runStarted).toFixed(0)} s`);

    const failoverOk = Number.isFinite(failoverMs) && failoverMs <= 2 * LEASE_TTL_MS;
    console.log(
      `\n${failoverOk ? 'PASS' : 'FAIL'}: failover after SIGKILL ${Number.isFinite(failoverMs) ? `${s(failoverMs).toFixed(2)} s` : 'not done'} ` +
        `= ${(failoverMs / LEASE_TTL_MS).toFixed(2)} lease periods (target <= 2 × ${s(LEASE_TTL_MS)} s)`,
    );
    console.log(
      `${interval.twice === 0 ? 'PASS' : 'FAIL'}: ${interval.twice} interval passes ran twice (two of a cluster < ${INTERVAL_S} s apart; target 0)`,
    );
    console.log(
      `${fo.missing === 0 ? 'PASS' : 'FAIL'}: passes continue on the ${victimSet.size} taken-over clusters: ${fo.lags.length} had their next pass ` +
        `(lag median ${fo.lags.length ? s(median(fo.lags)).toFixed(1) : '-'} s, max ${fo.lags.length ? s(Math.max(...fo.lags)).toFixed(1) : '-'} s), ` +
        `${fo.missing} due before the end of the window had none, ${fo.notDue} not due yet`,
    );
    const lagP95 = lag.length ? percentile(lag, 95) : NaN;
    console.log(`info: lag behind schedule p95 ${s(lagP95).toFixed(1)} s over ${lag.length} pass intervals`);
    if (!failoverOk || interval.twice > 0) failed = true;
  } finally {
    await Promise.all(replicas.map(stopReplica));
    await db.end().catch(() => undefined);
    if (process.env.BENCH_KEEP_DB) console.log(`database kept: ${redact(url)}`);
    else await dropDatabase(MAINTENANCE_URL, DATABASE).catch((err) => console.error(`could not drop ${DATABASE}: ${err}`));
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
