/**
 * Its kills aim at requests in flight, at fractions of how long such requests took earlier in the run: with
 * the other worker's spec beside it (the libvirt e2e's QEMU migrations), a child took 16 s to start and a
 * kill found nothing in flight (CI, 2026-12-07). It has the machine to itself (test/helpers/machine-lock-environment.js).
 *
 * @machine exclusive
 */
// Chaos: the app runs in a child process and is killed with SIGKILL at random moments, each kill
// landing in turn during one of four activities: balancing passes (fully automated), simulated
// migrations in flight, bulk inventory syncs (3,000 VMs) and bulk sample ingestion (12,000 samples,
// some of them old enough to be rolled up by the retention job running every second). It is then
// started again on the same SQLite file. A ledger of every request and its answer is kept.
// (Each start costs ~1.5–3 s, most of it loading modules: see helpers/ts-cached-register.js.)
//
// After each kill, on the file as the crash left it:
//   - PRAGMA integrity_check is ok and no foreign key is broken;
//   - every VM is on exactly one existing host of its own cluster, and no VM was lost;
//   - in the cluster moved only by migrations, each VM is where its succeeded migrations put it;
//   - every acknowledged (2xx) write is there: synced hosts and VMs with the synced values, every
//     sample counted (raw or rolled up), queued and cancelled migrations, passes with their
//     applied moves;
//   - the request in flight at the kill is all there or not at all (a sync number carried by every
//     VM of a sync; a marker value carried by every sample of a batch).
// After each restart: no migration and no pass is left running from before the crash, and no
// recommendation is still pending when its migration was queued. At the end the queue drains.
//
// Randomness is seeded: CHAOS_SEED=<n> replays the same choices (the timing of the machine aside);
// CHAOS_KILLS_PER_ACTIVITY changes the number of kills (5 per activity, 20 in all, by default),
// CHAOS_ACTIVITIES=pass,sync keeps some activities only, CHAOS_VERBOSE=1 logs each kill.
import { join } from 'node:path';
import { call, CallResult, ChildApp, FileReader, killApp, openFile, query, sleep, startApp } from './helpers/child-app';
import { onPostgres } from './helpers/test-database';
import { makeTempDir, removeTempDir } from './helpers/test-app';
import { seededRandom } from '../src/balancer/core';

jest.setTimeout(300_000);

const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const KILLS_PER_ACTIVITY = Number(process.env.CHAOS_KILLS_PER_ACTIVITY ?? 5);
const ALL_ACTIVITIES = ['migrations', 'sync', 'samples', 'pass'] as const;
type Activity = (typeof ALL_ACTIVITIES)[number];
/** CHAOS_ACTIVITIES=pass,sync narrows the rounds to some activities (to chase a bug). */
const ACTIVITIES: Activity[] = process.env.CHAOS_ACTIVITIES
  ? (process.env.CHAOS_ACTIVITIES.split(',') as Activity[]).filter((a) => ALL_ACTIVITIES.includes(a))
  : [...ALL_ACTIVITIES];
const VERBOSE = Boolean(process.env.CHAOS_VERBOSE);

// Kept small: every restart reads this file, and the child's start is the dominant cost.
const BAL_HOSTS = 8;
const BAL_VMS = 120;
const MIG_HOSTS = 6;
const MIG_VMS = 60;
/** Migrations queued or running in the migration cluster while its activity runs (12 run at once). */
const MIG_ACTIVE = 20;
const SYNC_HOSTS = 8;
const SYNC_VMS = 3000;
const SYNC_EXTRA_VMS = 20;
/** Per VM and batch: recent samples (stay raw) and old ones (rolled up by the retention job). */
const RECENT_PER_VM = 150;
const OLD_PER_VM = 50;
const BATCH_RECENT = MIG_VMS * RECENT_PER_VM;
const BATCH_SIZE = MIG_VMS * (RECENT_PER_VM + OLD_PER_VM);
/** A kill is given up waiting for the activity it aims at after this long, and fired anyway. */
const KILL_FALLBACK_MS = 20_000;

const random = seededRandom(SEED);
const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();

const median = (xs: number[]) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

interface KillRecord {
  round: number;
  activity: Activity;
  /** Child start (spawn to serving), ms. */
  startMs: number;
  /** From the start of the activity in this child to the kill, ms. */
  afterMs: number;
  /** The request of the activity that had not answered when the kill came, and for how long it had been waiting. */
  inFlight?: string;
  inFlightMs?: number;
  /** What the crash left of that request: all of it or none of it. */
  outcome?: 'present' | 'absent';
  /** Migrations running when the kill came (read from the file afterwards). */
  running: number;
  /** Requests of the activity answered in this child before the one the kill aimed at. */
  warmups?: number;
  /** For a pass: its record was written (status running), so the kill came while it applied its moves. */
  passRecorded?: boolean;
  /** The kill waited for the request's first commit (Op.committed), then struck at random. */
  aimedPastCommit?: boolean;
  acked: number;
}

interface SyncOp {
  k: number;
  acked: boolean;
}
interface SampleBatch {
  b: number;
  acked: boolean;
  /** Known once a check has seen it (an unacknowledged batch may go either way, but only once). */
  present?: boolean;
}
interface PassOp {
  id: string;
  movesApplied: number;
}

describe('chaos: SIGKILL during passes, migrations, inventory syncs and sample ingestion', () => {
  const dir = makeTempDir();
  const databasePath = join(dir, 'drs.sqlite');
  const env = {
    DATABASE_PATH: databasePath,
    DEMO_ENABLED: false,
    SCHEDULER_ENABLED: false,
    RATE_LIMIT_MAX: 0,
    // A 4 GiB VM takes 0.4–2 s to move (its hosts' bandwidth shared by up to 4 migrations).
    MIGRATION_TIME_SCALE: 10,
    MIGRATION_MAX_PER_HOST: 4,
    MIGRATION_MAX_PER_CLUSTER: 12,
    MIGRATION_MAX_ATTEMPTS: 10,
    MIGRATION_RETRY_BACKOFF_SECONDS: 0.1,
    // Roll-ups run all the time, so that kills land in them too: raw samples are kept an hour, so the
    // old ones (3 hours back) are rolled up and the recent ones (30 minutes) stay raw.
    SAMPLE_RETENTION_INTERVAL_SECONDS: 1,
    SAMPLE_RAW_RETENTION_SECONDS: 3600,
  };
  const T0 = Date.now();
  const RECENT_FROM = T0 - 31 * 60_000;

  let child: ChildApp | undefined;
  const ids = { bal: '', mig: '', sync: '' };
  let migHostIds: string[] = [];
  let migVmIds: string[] = [];
  const migInitialHost = new Map<string, string>();

  // The ledger.
  const syncOps: SyncOp[] = [];
  /** The sync whose content the cluster holds, as last established. */
  let syncConfirmed = 0;
  let nextSync = 1;
  const batches: SampleBatch[] = [];
  const passes: PassOp[] = [];
  const ackedMigrations: string[] = [];
  /** Queued migrations whose cancel was acknowledged: they stay cancelled. */
  const ackedCancels: string[] = [];
  /** How long requests took: the first of a fresh child (cold), and later ones. */
  const durations: Record<Activity, { first: number[]; later: number[] }> = {
    migrations: { first: [], later: [] },
    sync: { first: [], later: [] },
    samples: { first: [], later: [] },
    pass: { first: [], later: [] },
  };
  const kills: KillRecord[] = [];
  const starts: number[] = [];

  afterAll(async () => {
    if (child) await killApp(child);
    removeTempDir(dir);
  });

  // ---- what the requests carry -------------------------------------------------------------------

  const balHosts = Array.from({ length: BAL_HOSTS }, (_, h) => ({
    name: `bh-${h}`,
    cpuCores: 64,
    cpuMhz: 166_400,
    memoryMib: 1 << 20,
    migrationGbps: 10,
  }));
  /** Every VM piled on two hosts: a pass has many moves to make. */
  const balPile = () => ({
    hosts: [],
    vms: Array.from({ length: BAL_VMS }, (_, i) => ({ name: `bv-${i}`, hostName: `bh-${i % 2}`, vcpus: 1, memoryMib: 4096 })),
  });

  const syncHost = (name: string, k: number) => ({ name, cpuCores: 64, cpuMhz: 100_000 + k, memoryMib: 1 << 20, migrationGbps: 10 });
  /** Sync k: every VM carries k (cpuReservationMhz), moves host, and the previous sync's extra host and VMs are pruned. */
  function syncBody(k: number) {
    const hosts = Array.from({ length: SYNC_HOSTS }, (_, h) => syncHost(`sh-${h}`, k));
    hosts.push(syncHost(`sh-extra-${k}`, k));
    const vms = Array.from({ length: SYNC_VMS }, (_, i) => ({
      name: `sv-${i}`,
      hostName: `sh-${(i + k) % SYNC_HOSTS}`,
      vcpus: 1,
      memoryMib: 1024,
      cpuReservationMhz: k,
    }));
    for (let j = 0; j < SYNC_EXTRA_VMS; j++)
      vms.push({ name: `sx-${k}-${j}`, hostName: `sh-extra-${k}`, vcpus: 1, memoryMib: 1024, cpuReservationMhz: k });
    return { hosts, vms, prune: true };
  }

  /** Batch b: its recent samples carry the marker cpuMhz 100 + b; timestamps never repeat across batches. */
  function sampleBody(b: number) {
    const samples: object[] = [];
    for (const vmId of migVmIds) {
      for (let j = 0; j < RECENT_PER_VM; j++) {
        samples.push({
          vmId,
          timestamp: T0 - 30 * 60_000 + (b * RECENT_PER_VM + j) * 100,
          cpuMhz: 100 + b,
          memoryActiveMib: 512,
          memoryConsumedMib: 1024,
        });
      }
      for (let j = 0; j < OLD_PER_VM; j++) {
        samples.push({
          vmId,
          timestamp: T0 - 3 * 3_600_000 + (b * OLD_PER_VM + j) * 1000,
          cpuMhz: 100 + b,
          memoryActiveMib: 512,
          memoryConsumedMib: 1024,
        });
      }
    }
    return { samples };
  }

  // ---- checks --------------------------------------------------------------------------------------

  /** Everything that must hold on the file as a crash left it. Returns the problems found. */
  async function checkFile(stage: string, inFlight?: { activity: Activity; record: KillRecord }): Promise<string[]> {
    const file = openFile(databasePath);
    try {
      return (await checkFileWith(file, inFlight)).map((p) => `${stage}: ${p}`);
    } finally {
      await file.close();
    }
  }

  async function checkFileWith(file: FileReader, inFlight?: { activity: Activity; record: KillRecord }): Promise<string[]> {
    const problems: string[] = [];
    const q = <T>(sql: string, params: unknown[] = []) => file.all<T>(sql, params);

    // The file's own checks. (PostgreSQL has no file to check, and checks every reference on every statement.)
    if (!onPostgres) {
      const integrity = await q<{ integrity_check: string }>('PRAGMA integrity_check');
      if (integrity.length !== 1 || integrity[0].integrity_check !== 'ok')
        problems.push(`integrity_check: ${JSON.stringify(integrity.slice(0, 5))}`);
      const fk = await q<Record<string, unknown>>('PRAGMA foreign_key_check');
      if (fk.length > 0) problems.push(`foreign_key_check: ${JSON.stringify(fk.slice(0, 5))}`);
    }

    // Every VM on exactly one existing host of its own cluster; none lost, none doubled.
    const misplaced = await q<{ id: string; name: string; hostId: string; hostCluster: string | null }>(
      `SELECT v.id, v.name, v.hostId, h.clusterId AS hostCluster FROM vms v LEFT JOIN hosts h ON h.id = v.hostId
        WHERE h.id IS NULL OR h.clusterId <> v.clusterId`,
    );
    if (misplaced.length > 0) problems.push(`VMs not on an existing host of their cluster: ${JSON.stringify(misplaced.slice(0, 5))}`);
    const doubled = await q<{ name: string; n: number }>(
      'SELECT clusterId, name, COUNT(*) AS n FROM vms GROUP BY clusterId, name HAVING COUNT(*) > 1',
    );
    if (doubled.length > 0) problems.push(`VMs recorded twice: ${JSON.stringify(doubled.slice(0, 5))}`);
    const perCluster = new Map(
      (await q<{ clusterId: string; n: number }>('SELECT clusterId, COUNT(*) AS n FROM vms GROUP BY clusterId')).map((r) => [
        r.clusterId,
        r.n,
      ]),
    );
    if (perCluster.get(ids.bal) !== BAL_VMS) problems.push(`the balanced cluster has ${perCluster.get(ids.bal)} VMs, not ${BAL_VMS}`);
    if (perCluster.get(ids.mig) !== MIG_VMS) problems.push(`the migration cluster has ${perCluster.get(ids.mig)} VMs, not ${MIG_VMS}`);

    // The migration cluster: replaying the succeeded migrations from where each VM started gives where it is.
    const succeeded = await q<{ id: string; vmId: string; sourceHostId: string; targetHostId: string }>(
      `SELECT id, vmId, sourceHostId, targetHostId FROM live_migrations WHERE clusterId = ? AND state = 'succeeded' ORDER BY finishedAt, createdAt`,
      [ids.mig],
    );
    const replayed = new Map(migInitialHost);
    for (const m of succeeded) {
      if (replayed.get(m.vmId) !== m.sourceHostId)
        problems.push(`migration ${m.id} moved ${m.vmId} from ${m.sourceHostId}, but it was on ${replayed.get(m.vmId)}`);
      replayed.set(m.vmId, m.targetHostId);
    }
    const migVms = await q<{ id: string; hostId: string }>('SELECT id, hostId FROM vms WHERE clusterId = ?', [ids.mig]);
    const wrongHost = migVms.filter((v) => replayed.get(v.id) !== v.hostId);
    if (wrongHost.length > 0)
      problems.push(`${wrongHost.length} VM(s) not where their migrations put them: ${JSON.stringify(wrongHost.slice(0, 3))}`);

    // Acknowledged migrations exist.
    const known = new Set<string>();
    for (let i = 0; i < ackedMigrations.length; i += 500) {
      const chunk = ackedMigrations.slice(i, i + 500);
      for (const r of await q<{ id: string }>(`SELECT id FROM live_migrations WHERE id IN (${chunk.map(() => '?').join(',')})`, chunk))
        known.add(r.id);
    }
    const lostMigrations = ackedMigrations.filter((id) => !known.has(id));
    if (lostMigrations.length > 0)
      problems.push(`${lostMigrations.length} acknowledged migration(s) missing: ${lostMigrations.slice(0, 3).join(', ')}`);
    const notCancelled: { id: string; state: string }[] = [];
    for (let i = 0; i < ackedCancels.length; i += 500) {
      const chunk = ackedCancels.slice(i, i + 500);
      notCancelled.push(
        ...(await q<{ id: string; state: string }>(
          `SELECT id, state FROM live_migrations WHERE state <> 'cancelled' AND id IN (${chunk.map(() => '?').join(',')})`,
          chunk,
        )),
      );
    }
    const [{ cancelled }] = await q<{ cancelled: number }>(`SELECT COUNT(*) AS cancelled FROM live_migrations WHERE state = 'cancelled'`);
    if (notCancelled.length > 0 || cancelled < ackedCancels.length)
      problems.push(`acknowledged cancels not cancelled: ${JSON.stringify(notCancelled.slice(0, 3))}`);

    // Acknowledged passes exist, completed, with each applied move queued as a migration.
    for (const p of passes) {
      const [row] = await q<{ status: string; movesApplied: number }>('SELECT status, movesApplied FROM passes WHERE id = ?', [p.id]);
      if (!row) problems.push(`acknowledged pass ${p.id} is missing`);
      else if (row.status !== 'completed' || row.movesApplied !== p.movesApplied)
        problems.push(`pass ${p.id} is ${row.status} with ${row.movesApplied} moves applied; it answered completed with ${p.movesApplied}`);
      const [{ n }] = await q<{ n: number }>(`SELECT COUNT(*) AS n FROM recommendations WHERE passId = ? AND status = 'applied'`, [p.id]);
      if (n !== p.movesApplied) problems.push(`pass ${p.id} answered ${p.movesApplied} moves applied; ${n} recommendation(s) are applied`);
    }
    const orphans = await q<{ id: string; migrationId: string | null }>(
      `SELECT r.id, r.migrationId FROM recommendations r LEFT JOIN live_migrations m ON m.id = r.migrationId AND m.recommendationId = r.id
        WHERE r.status = 'applied' AND m.id IS NULL`,
    );
    if (orphans.length > 0) problems.push(`applied recommendation(s) without their migration: ${JSON.stringify(orphans.slice(0, 3))}`);

    problems.push(...(await checkSync(file, inFlight?.activity === 'sync' ? inFlight.record : undefined)));
    problems.push(...(await checkSamples(file, inFlight?.activity === 'samples' ? inFlight.record : undefined)));
    return problems;
  }

  /** The sync cluster holds exactly one sync's content: the last acknowledged one, or the one in flight. */
  async function checkSync(file: FileReader, record?: KillRecord): Promise<string[]> {
    const problems: string[] = [];
    const lastAcked = syncOps.filter((op) => op.acked).at(-1)?.k;
    const unacked = syncOps.filter((op) => !op.acked && op.k > (lastAcked ?? -1) && op.k > syncConfirmed).map((op) => op.k);
    const allowed = new Set([Math.max(lastAcked ?? 0, syncConfirmed), ...unacked]);
    const hosts = await file.all<{ id: string; name: string; cpuMhz: number }>('SELECT id, name, cpuMhz FROM hosts WHERE clusterId = ?', [
      ids.sync,
    ]);
    const vms = await file.all<{ name: string; hostId: string; cpuReservationMhz: number; vcpus: number; memoryMib: number }>(
      'SELECT name, hostId, cpuReservationMhz, vcpus, memoryMib FROM vms WHERE clusterId = ?',
      [ids.sync],
    );
    const marks = [...new Set(vms.map((v) => v.cpuReservationMhz))];
    if (marks.length !== 1)
      return [`sync cluster: VMs carry the numbers of several syncs (${marks.slice(0, 5).join(', ')}): a sync was applied in part`];
    const k = marks[0];
    if (!allowed.has(k))
      problems.push(`sync cluster holds sync ${k}; expected one of ${[...allowed].join(', ')} (last acknowledged ${lastAcked})`);
    const expected = syncBody(k);
    const hostName = new Map(hosts.map((h) => [h.id, h.name]));
    const wantHosts = new Map(expected.hosts.map((h) => [h.name, h]));
    if (hosts.length !== wantHosts.size || hosts.some((h) => wantHosts.get(h.name)?.cpuMhz !== h.cpuMhz)) {
      problems.push(`sync cluster: hosts ${JSON.stringify(hosts.map((h) => [h.name, h.cpuMhz]).slice(0, 10))} are not those of sync ${k}`);
    }
    const wantVms = new Map(expected.vms.map((v) => [v.name, v]));
    const wrong = vms.filter((v) => {
      const want = wantVms.get(v.name);
      return !want || hostName.get(v.hostId) !== want.hostName || v.vcpus !== want.vcpus || v.memoryMib !== want.memoryMib;
    });
    if (vms.length !== wantVms.size || wrong.length > 0) {
      problems.push(
        `sync cluster: ${vms.length} VMs (sync ${k} has ${wantVms.size}), ${wrong.length} differ from it, e.g. ${JSON.stringify(wrong.slice(0, 3))}`,
      );
    }
    if (record && unacked.length > 0) record.outcome = k === unacked.at(-1) ? 'present' : 'absent';
    syncConfirmed = k;
    return problems;
  }

  /** Each batch all there or not at all (acknowledged: there), and every sample counted, raw or rolled up. */
  async function checkSamples(file: FileReader, record?: KillRecord): Promise<string[]> {
    const problems: string[] = [];
    const recent = new Map(
      (
        await file.all<{ marker: number; n: number }>(
          'SELECT cpuMhz AS marker, COUNT(*) AS n FROM samples WHERE clusterId = ? AND timestamp >= ? GROUP BY cpuMhz',
          [ids.mig, RECENT_FROM],
        )
      ).map((r) => [Math.round(r.marker) - 100, r.n]),
    );
    for (const [b, n] of recent) {
      if (!batches[b]) problems.push(`samples of a batch never sent (${b}: ${n})`);
    }
    let expectedTotal = 0;
    for (const batch of batches) {
      const n = recent.get(batch.b) ?? 0;
      if (n !== 0 && n !== BATCH_RECENT)
        problems.push(`batch ${batch.b}: ${n} of its ${BATCH_RECENT} recent samples are there: written in part`);
      const present = n > 0;
      if (batch.acked && !present) problems.push(`acknowledged batch ${batch.b} is missing`);
      if (batch.present !== undefined && batch.present !== present)
        problems.push(`batch ${batch.b} was ${batch.present ? 'present' : 'absent'} and is now ${present ? 'present' : 'absent'}`);
      if (!batch.acked && batch.present === undefined && record) record.outcome = present ? 'present' : 'absent';
      batch.present = present;
      if (present) expectedTotal += BATCH_SIZE;
    }
    const [{ raw }] = await file.all<{ raw: number }>('SELECT COUNT(*) AS raw FROM samples WHERE clusterId = ?', [ids.mig]);
    const [{ rolled }] = await file.all<{ rolled: number }>(
      'SELECT CAST(COALESCE(SUM(sampleCount), 0) AS BIGINT) AS rolled FROM sample_rollups WHERE clusterId = ?',
      [ids.mig],
    );
    if (raw + rolled !== expectedTotal)
      problems.push(`samples: ${raw} raw + ${rolled} rolled up = ${raw + rolled}; the batches present hold ${expectedTotal}`);
    return problems;
  }

  /** Once the app serves again, recovery is done: nothing left running from before the crash. */
  async function checkRecovered(spawnedAt: number): Promise<string[]> {
    const problems: string[] = [];
    const stuck = await query<{ id: string; startedAt: number | null }>(
      databasePath,
      `SELECT id, startedAt FROM live_migrations WHERE state = 'running' AND (startedAt IS NULL OR startedAt < ?)`,
      [spawnedAt],
    );
    if (stuck.length > 0)
      problems.push(`${stuck.length} migration(s) still running from before the crash: ${JSON.stringify(stuck.slice(0, 3))}`);
    const passStuck = await query<{ id: string }>(databasePath, `SELECT id FROM passes WHERE status = 'running' AND startedAt < ?`, [
      spawnedAt,
    ]);
    if (passStuck.length > 0) problems.push(`${passStuck.length} pass(es) still running from before the crash`);
    const pendingButQueued = await query<{ id: string }>(
      databasePath,
      `SELECT r.id FROM recommendations r JOIN live_migrations m ON m.recommendationId = r.id WHERE r.status = 'pending'`,
    );
    if (pendingButQueued.length > 0)
      problems.push(`${pendingButQueued.length} recommendation(s) still pending though their migration was queued`);
    return problems.map((p) => `after restart: ${p}`);
  }

  // ---- activities ----------------------------------------------------------------------------------

  interface Op {
    label: string;
    /** Runs before the request, outside the window the kill aims at. */
    prepare?: () => Promise<void>;
    send: () => Promise<CallResult>;
    /** The request answered (2xx). */
    answered: (res: CallResult) => void;
    /**
     * A read of the file that finds something once the request has made its first commit (a pass:
     * its record, status running). Some kills then aim at what follows that commit.
     */
    committed?: { sql: string; params: unknown[] };
  }

  /** How long requests took from their first commit to their answer (see Op.committed). */
  const afterCommit: number[] = [];

  /**
   * Sends the activity's requests one after another and kills the app while one of them has not
   * answered. A random number of them (0–2) answer first; the kill then aims at the next one, at a
   * random fraction of the typical duration of such a request (the first of a fresh child is slower).
   * When the request answers before its kill, the kill moves to the next one.
   */
  async function killDuring(app: ChildApp, round: number, activity: Activity, next: () => Op): Promise<KillRecord> {
    const began = Date.now();
    const warmups = Math.floor(random() * (activity === 'pass' ? 2 : 3));
    // Half the kills of a request with a first commit aim past it (a pass: while it applies its moves).
    const aimPastCommit = random() < 0.5;
    let watch: { stop: boolean; committedAt?: number } | undefined;
    let current: { label: string; sentAt: number } | undefined;
    let timer: NodeJS.Timeout | undefined;
    let record: KillRecord | undefined;
    let acked = 0;
    const kill = async () => {
      if (record) return;
      record = {
        round,
        activity,
        startMs: app.startMs,
        afterMs: Date.now() - began,
        inFlight: current?.label,
        inFlightMs: current ? Date.now() - current.sentAt : undefined,
        running: 0,
        acked,
        warmups,
        ...(activity === 'pass' ? { aimedPastCommit: aimPastCommit } : {}),
      };
      await killApp(app);
    };
    const fallback = setTimeout(() => void kill(), KILL_FALLBACK_MS);
    try {
      for (let index = 0; !record; index++) {
        const op = next();
        if (op.prepare) {
          try {
            await op.prepare();
          } catch (err) {
            if (record) break; // The fallback killed it meanwhile.
            throw err;
          }
        }
        if (record) break;
        const sentAt = Date.now();
        current = { label: op.label, sentAt };
        const seen = index === 0 ? durations[activity].first : durations[activity].later;
        const estimate = median(seen) ?? median([...durations[activity].first, ...durations[activity].later]);
        if (!timer && !watch && index >= warmups) {
          if (op.committed && aimPastCommit) {
            const w: { stop: boolean; committedAt?: number } = (watch = { stop: false });
            const { sql, params } = op.committed;
            void (async () => {
              const file = openFile(databasePath);
              try {
                while (!w.stop && !record) {
                  if ((await file.all(sql, params)).length > 0) {
                    w.committedAt = Date.now();
                    if (!w.stop) timer = setTimeout(() => void kill(), uniform(0, 1) * (median(afterCommit) ?? 400));
                    return;
                  }
                  await sleep(10);
                }
              } finally {
                await file.close();
              }
            })();
          } else if (estimate !== undefined) {
            // Most of such a request is spent in its transaction (sync: from ~30 %, samples: from ~40 %).
            timer = setTimeout(() => void kill(), uniform(0.15, 0.9) * estimate);
          }
        }
        let res: CallResult;
        try {
          res = await op.send();
        } catch (err) {
          if (record) break; // The kill cut the connection: no answer.
          throw new Error(`${op.label} failed though nobody killed the app: ${(err as Error).message}\n${app.stderr()}`);
        }
        current = undefined;
        seen.push(Date.now() - sentAt);
        if (res.status < 200 || res.status >= 300)
          throw new Error(`${op.label} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
        op.answered(res);
        acked++;
        clearTimeout(timer);
        timer = undefined;
        if (watch) {
          watch.stop = true;
          if (watch.committedAt !== undefined) afterCommit.push(Date.now() - watch.committedAt);
          watch = undefined;
        }
      }
    } finally {
      clearTimeout(fallback);
      clearTimeout(timer);
      if (watch) watch.stop = true;
    }
    if (!record) await kill();
    await killApp(app);
    return record;
  }

  function syncOp(): Op {
    const op: SyncOp = { k: nextSync++, acked: false };
    const body = syncBody(op.k);
    return {
      label: `sync ${op.k}`,
      send: () => {
        syncOps.push(op);
        return call(child!, 'PUT', `/api/v1/clusters/${ids.sync}/inventory`, body);
      },
      answered: () => (op.acked = true),
    };
  }

  function samplesOp(): Op {
    const batch: SampleBatch = { b: batches.length, acked: false };
    const body = sampleBody(batch.b);
    return {
      label: `samples ${batch.b}`,
      send: () => {
        batches.push(batch);
        return call(child!, 'POST', '/api/v1/samples', body);
      },
      answered: (res) => {
        if (res.body.accepted !== BATCH_SIZE) throw new Error(`samples ${batch.b}: accepted ${res.body.accepted}`);
        batch.acked = true;
      },
    };
  }

  function passOp(): Op {
    return {
      label: 'pass',
      prepare: async () => {
        // The moves of earlier passes, still queued (a kill restarts the running ones from scratch),
        // would leave this pass little to move: cancel them, then pile the VMs up again.
        const queued = (await call(child!, 'GET', `/api/v1/migrations?clusterId=${ids.bal}&state=queued&limit=1000`)).body.items as {
          id: string;
        }[];
        for (let i = 0; i < queued.length; i += 8) {
          await Promise.all(
            queued.slice(i, i + 8).map(async ({ id }) => {
              const res = await call(child!, 'POST', `/api/v1/migrations/${id}/cancel`);
              if (res.status === 200 && res.body.state === 'cancelled') ackedCancels.push(id);
              else if (res.status !== 409 && res.status !== 202)
                throw new Error(`cancel answered ${res.status}: ${JSON.stringify(res.body)}`);
            }),
          );
        }
        const res = await call(child!, 'PUT', `/api/v1/clusters/${ids.bal}/inventory`, balPile());
        if (res.status !== 200) throw new Error(`piling the VMs up answered ${res.status}`);
      },
      send: () => call(child!, 'POST', `/api/v1/clusters/${ids.bal}/passes`),
      // Passes a crash interrupted are marked failed at the start: one running is this one.
      committed: { sql: `SELECT 1 FROM passes WHERE clusterId = ? AND status = 'running'`, params: [ids.bal] },
      answered: (res) => {
        if (res.body.status !== 'completed') throw new Error(`pass answered ${JSON.stringify(res.body)}`);
        passes.push({ id: res.body.id, movesApplied: res.body.movesApplied });
      },
    };
  }

  /** Asks to move every VM of the migration cluster that is not migrating, again and again; kills at a random moment. */
  async function killDuringMigrations(app: ChildApp, round: number): Promise<KillRecord> {
    const began = Date.now();
    let killed = false;
    let acked = 0;
    const busy = (async () => {
      while (!killed) {
        const active = (await call(app, 'GET', `/api/v1/migrations?clusterId=${ids.mig}&state=queued,running&limit=1000`)).body.items as {
          vmId: string;
        }[];
        const migrating = new Set(active.map((m) => m.vmId));
        const vms = (await call(app, 'GET', `/api/v1/vms?clusterId=${ids.mig}&limit=1000`)).body.items as { id: string; hostId: string }[];
        // Enough to keep every slot busy, few enough for the queue to drain at the end.
        const idle = vms.filter((v) => !migrating.has(v.id)).slice(0, Math.max(0, MIG_ACTIVE - active.length));
        const ask = async (vm: { id: string; hostId: string }) => {
          const others = migHostIds.filter((h) => h !== vm.hostId);
          const res = await call(app, 'POST', '/api/v1/migrations', {
            vmId: vm.id,
            targetHostId: others[Math.floor(random() * others.length)],
            reason: 'chaos',
          });
          if (res.status === 201) {
            ackedMigrations.push(res.body.id);
            acked++;
          } else if (res.status !== 409) throw new Error(`POST /migrations answered ${res.status}: ${JSON.stringify(res.body)}`);
        };
        for (let i = 0; i < idle.length && !killed; i += 8) await Promise.all(idle.slice(i, i + 8).map(ask));
        await sleep(100);
      }
    })().catch((err) => {
      if (!killed) throw err;
    });
    const afterMs = Math.round(uniform(600, 2200));
    await Promise.race([sleep(afterMs), busy]);
    // On a slower database no migration may be running yet at that moment: the kill waits (10 s at most) for one.
    for (const until = Date.now() + 10_000; Date.now() < until; await sleep(50)) {
      const running = await call(app, 'GET', `/api/v1/migrations?clusterId=${ids.mig}&state=running&limit=1`);
      if (running.status === 200 && (running.body as { total: number }).total > 0) break;
    }
    killed = true;
    await killApp(app);
    await busy;
    return { round, activity: 'migrations', startMs: app.startMs, afterMs: Date.now() - began, running: 0, acked };
  }

  // ---- the run -------------------------------------------------------------------------------------

  async function setup(app: ChildApp): Promise<void> {
    const create = async (name: string) => {
      const res = await call(app, 'POST', '/api/v1/clusters', { name });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    ids.bal = await create('chaos-balance');
    ids.mig = await create('chaos-migrate');
    ids.sync = await create('chaos-sync');
    const policy = await call(app, 'PUT', `/api/v1/clusters/${ids.bal}/policy`, {
      automationLevel: 'fully-automated',
      migrationThreshold: 5,
      cooldownSeconds: 0,
      // Enough moves for a pass to take a while, few enough for the queue to drain between passes.
      maxMovesPerPass: 24,
    });
    expect(policy.status).toBe(200);

    const bal = await call(app, 'PUT', `/api/v1/clusters/${ids.bal}/inventory`, { hosts: balHosts, vms: balPile().vms });
    expect(bal.status).toBe(200);

    const migHosts = Array.from({ length: MIG_HOSTS }, (_, h) => ({
      name: `mh-${h}`,
      cpuCores: 64,
      cpuMhz: 166_400,
      memoryMib: 1 << 20,
      migrationGbps: 10,
    }));
    const migVms = Array.from({ length: MIG_VMS }, (_, i) => ({
      name: `mv-${i}`,
      hostName: `mh-${i % MIG_HOSTS}`,
      vcpus: 1,
      memoryMib: 4096,
    }));
    expect((await call(app, 'PUT', `/api/v1/clusters/${ids.mig}/inventory`, { hosts: migHosts, vms: migVms })).status).toBe(200);
    migHostIds = (await call(app, 'GET', `/api/v1/hosts?clusterId=${ids.mig}&limit=100`)).body.items.map((h: { id: string }) => h.id);
    const vms = (await call(app, 'GET', `/api/v1/vms?clusterId=${ids.mig}&limit=1000`)).body.items as { id: string; hostId: string }[];
    migVmIds = vms.map((v) => v.id);
    for (const v of vms) migInitialHost.set(v.id, v.hostId);

    // Sync 0, and one request of each kind to know how long they take.
    const first = { k: 0, acked: false };
    syncOps.push(first);
    expect((await call(app, 'PUT', `/api/v1/clusters/${ids.sync}/inventory`, syncBody(0))).status).toBe(200);
    first.acked = true;
    for (const make of [syncOp, samplesOp, passOp]) {
      const op = make();
      await op.prepare?.();
      const sentAt = Date.now();
      const res = await op.send();
      const activity: Activity = op.label.startsWith('sync') ? 'sync' : op.label.startsWith('samples') ? 'samples' : 'pass';
      durations[activity].first.push(Date.now() - sentAt);
      expect(res.status).toBeLessThan(300);
      op.answered(res);
    }
    expect(passes[0].movesApplied).toBeGreaterThan(10);
  }

  it('keeps every VM on one host, every acknowledged write, every write whole, and the file sound', async () => {
    const problems: string[] = [];
    const began = Date.now();
    try {
      child = await startApp(env);
      starts.push(child.startMs);
      await setup(child);

      const rounds = KILLS_PER_ACTIVITY * ACTIVITIES.length;
      for (let round = 0; round < rounds; round++) {
        const activity = ACTIVITIES[round % ACTIVITIES.length];
        if (round > 0) {
          const spawnedAt = Date.now();
          child = await startApp(env);
          starts.push(child.startMs);
          problems.push(...(await checkRecovered(spawnedAt)).map((p) => `round ${round}: ${p}`));
        }
        const app = child!;
        if (VERBOSE) process.stderr.write(`round ${round} (${activity}) serving at ${Date.now() - began} ms\n`);
        const record =
          activity === 'migrations'
            ? await killDuringMigrations(app, round)
            : await killDuring(app, round, activity, activity === 'sync' ? syncOp : activity === 'samples' ? samplesOp : passOp);
        child = undefined;
        const [state] = await query<{ running: number; passesRunning: number; pendingQueued: number; queued: number }>(
          databasePath,
          `SELECT (SELECT COUNT(*) FROM live_migrations WHERE state = 'running') AS running,
                  (SELECT COUNT(*) FROM live_migrations WHERE state = 'queued') AS queued,
                  (SELECT COUNT(*) FROM passes WHERE status = 'running') AS passesRunning,
                  (SELECT COUNT(*) FROM recommendations r JOIN live_migrations m ON m.recommendationId = r.id WHERE r.status = 'pending') AS pendingQueued`,
        );
        record.running = state.running;
        if (activity === 'pass') record.passRecorded = state.passesRunning > 0;
        kills.push(record);
        if (VERBOSE) process.stderr.write(`kill ${JSON.stringify({ ...record, ...state })} at ${Date.now() - began} ms\n`);
        problems.push(...(await checkFile(`round ${round} (${activity})`, { activity, record })));
        if (problems.length > 0) break;
      }

      // Last start: recovery, then the queue drains and everything still holds.
      const spawnedAt = Date.now();
      child = await startApp(env);
      starts.push(child.startMs);
      problems.push(...(await checkRecovered(spawnedAt)));
      const deadline = Date.now() + 90_000;
      for (;;) {
        const page = (await call(child, 'GET', `/api/v1/migrations?state=queued,running&limit=1`)).body;
        if (page.total === 0) break;
        if (Date.now() > deadline) {
          problems.push(`the queue did not drain: ${page.total} migration(s) left`);
          break;
        }
        await sleep(200);
      }
      if (VERBOSE) process.stderr.write(`drained at ${Date.now() - began} ms\n`);
      await killApp(child);
      child = undefined;
      problems.push(...(await checkFile('at the end')));
      const states = await query<{ state: string; n: number }>(
        databasePath,
        'SELECT state, COUNT(*) AS n FROM live_migrations GROUP BY state',
      );
      const [stored] = await query<{ raw: number; rolled: number }>(
        databasePath,
        'SELECT (SELECT COUNT(*) FROM samples) AS raw, (SELECT CAST(COALESCE(SUM(sampleCount), 0) AS BIGINT) FROM sample_rollups) AS rolled',
      );
      const active = states.filter((s) => s.state === 'queued' || s.state === 'running');
      if (active.length > 0) problems.push(`at the end: migrations still ${JSON.stringify(active)}`);

      // Every kill landed during its activity: a request of it unanswered, or migrations running.
      const missed = kills.filter((k) =>
        k.activity === 'migrations' ? k.running === 0 : !k.inFlight || !k.inFlight.startsWith(k.activity === 'pass' ? 'pass' : k.activity),
      );
      if (missed.length > 0) problems.push(`kills that missed their activity: ${JSON.stringify(missed)}`);
      expect(problems).toEqual([]);
      expect(kills.length).toBe(rounds);

      const byActivity = Object.fromEntries(ACTIVITIES.map((a) => [a, kills.filter((k) => k.activity === a).length]));
      const outcomes = kills.filter((k) => k.outcome).map((k) => `${k.activity}:${k.outcome}`);
      process.stdout.write(
        `chaos seed ${SEED}: ${kills.length} kills ${JSON.stringify(byActivity)} in ${((Date.now() - began) / 1000).toFixed(1)} s; ` +
          `app start median ${median(starts)} ms (first ${starts[0]} ms); in-flight writes after the kill: ${JSON.stringify(
            outcomes.reduce<Record<string, number>>((acc, o) => ((acc[o] = (acc[o] ?? 0) + 1), acc), {}),
          )}; acknowledged: ${syncOps.filter((o) => o.acked).length} syncs, ${batches.filter((b) => b.acked).length} sample batches, ${passes.length} passes, ${ackedMigrations.length} migrations, ${ackedCancels.length} cancels; ` +
          `samples stored: ${stored.raw} raw + ${stored.rolled} rolled up; migrations: ${JSON.stringify(Object.fromEntries(states.map((x) => [x.state, x.n])))}\n` +
          kills.map((k) => `  ${JSON.stringify(k)}`).join('\n') +
          '\n',
      );
    } catch (err) {
      process.stderr.write(`chaos test failed with seed ${SEED}: rerun with CHAOS_SEED=${SEED}\n`);
      const e = err as Error;
      e.message = `[chaos seed ${SEED}: rerun with CHAOS_SEED=${SEED}]\n${e.message}\nkills: ${JSON.stringify(kills, null, 1)}`;
      throw e;
    }
  });
});
