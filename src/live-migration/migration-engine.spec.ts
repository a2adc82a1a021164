// The dispatch loop and recovery against an in-memory queue store and a driver the test drives by hand.
import { Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { claimDecision, type Parties, type RecordedEnd } from './attempt-outcome';
import { ClusterDrivers } from './cluster-drivers';
import type { AdoptedEnd, MigrationDriver, MigrationHandle, MigrationJob, MigrationOutcome, VmLocation } from './drivers';
import type { LiveMigrationEntity } from './live-migration.entity';
import { MigrationDispatcher } from './migration-dispatcher';
import { MigrationQueue, type ClaimResult, type Claimed, type PolicyCaps, type WithParties, type WrittenEnd } from './migration-queue';
import { MigrationRecovery } from './migration-recovery';
import type { MigrationEngineSettings } from './migration-settings';
import { RunningMigrations } from './running-migrations';
import type { SlotClaim } from './slots';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

class InMemoryQueue extends MigrationQueue {
  readonly rows = new Map<string, LiveMigrationEntity>();
  readonly parties = new Map<string, Parties>();

  add(id: string, over: Partial<LiveMigrationEntity> = {}, vmHost = 'h1'): LiveMigrationEntity {
    const row = {
      id,
      clusterId: 'c1',
      vmId: `vm-${id}`,
      sourceHostId: 'h1',
      targetHostId: `t-${id}`,
      state: 'queued',
      priority: 3,
      createdAt: NOW - 1000 + this.rows.size,
      attempts: 0,
      maxAttempts: 3,
      nextAttemptAt: null,
      cancelRequestedAt: null,
      startedAt: null,
      handle: null,
      driver: 'fake',
      error: null,
      reason: 'test',
      progressPercent: 0,
      ...over,
    } as LiveMigrationEntity;
    this.rows.set(id, row);
    const host = (hostId: string) => ({ id: hostId, name: hostId, address: null, state: 'connected', migrationGbps: 10 });
    this.parties.set(id, {
      vm: { id: row.vmId, name: row.vmId, clusterId: 'c1', hostId: vmHost, memoryMib: 1024 },
      source: host(row.sourceHostId),
      target: host(row.targetHostId),
    });
    return row;
  }

  row(id: string): LiveMigrationEntity {
    return this.rows.get(id)!;
  }

  async policyCaps(): Promise<PolicyCaps[]> {
    return [];
  }

  async due(nowMs: number, full: { hostIds: string[]; clusterIds: string[] }, limit: number): Promise<SlotClaim[]> {
    return [...this.rows.values()]
      .filter((r) => r.state === 'queued' && (r.nextAttemptAt === null || r.nextAttemptAt <= nowMs))
      .filter(
        (r) => !full.clusterIds.includes(r.clusterId) && !full.hostIds.includes(r.sourceHostId) && !full.hostIds.includes(r.targetHostId),
      )
      .sort((a, b) => a.priority - b.priority || a.createdAt - b.createdAt)
      .slice(0, limit)
      .map(({ id, clusterId, vmId, sourceHostId, targetHostId }) => ({ id, clusterId, vmId, sourceHostId, targetHostId }));
  }

  async claim(driverNames: ReadonlyMap<string, string>, nowMs: number): Promise<ClaimResult> {
    const started = new Map<string, Claimed>();
    const ended: ClaimResult['ended'] = [];
    for (const [id, driverName] of driverNames) {
      const row = this.rows.get(id)!;
      const parties = this.parties.get(id)!;
      if (row.state !== 'queued') continue;
      const decision = claimDecision(row, parties);
      if (!decision.start) {
        Object.assign(row, { state: decision.state, finishedAt: nowMs, error: decision.error ?? row.error });
        ended.push({ migration: { ...row }, state: decision.state, error: decision.error });
        continue;
      }
      Object.assign(row, {
        state: 'running',
        attempts: row.attempts + 1,
        startedAt: nowMs,
        nextAttemptAt: null,
        driver: driverName,
        handle: null,
      });
      const { vm, source, target } = parties;
      started.set(id, {
        migration: { ...row, attempts: row.attempts - 1 },
        attempt: row.attempts,
        vm: vm!,
        source: source!,
        target: target!,
      });
    }
    return { started, ended };
  }

  async recordHandle(id: string, _clusterId: string, attempt: number | null, handle: MigrationHandle): Promise<boolean> {
    const row = this.rows.get(id)!;
    if (row.state !== 'running' || (attempt !== null && row.attempts !== attempt)) return false;
    row.handle = handle;
    return true;
  }

  async recordProgress(id: string, _clusterId: string, attempt: number, progress: { percent: number }): Promise<void> {
    const row = this.rows.get(id)!;
    if (row.state === 'running' && row.attempts === attempt) row.progressPercent = progress.percent;
  }

  async recordEnd(migration: LiveMigrationEntity, end: RecordedEnd, nowMs: number): Promise<WrittenEnd> {
    const row = this.rows.get(migration.id)!;
    if (row.state !== 'running') throw new Error(`${migration.id} is ${row.state}, not running`);
    row.handle = null;
    row.updatedAt = nowMs;
    if (end.state === 'succeeded') {
      Object.assign(row, { state: 'succeeded', error: end.note, finishedAt: nowMs, progressPercent: 100 });
      this.parties.get(migration.id)!.vm!.hostId = row.targetHostId;
      return { state: 'succeeded', error: end.note };
    }
    if (end.state === 'queued') Object.assign(row, { state: 'queued', error: end.error, nextAttemptAt: end.nextAttemptAt });
    else Object.assign(row, { state: end.state, error: end.error, finishedAt: nowMs });
    return { state: end.state, error: end.error };
  }

  async nextRetryAt(nowMs: number): Promise<number | null> {
    const later = [...this.rows.values()].filter((r) => r.state === 'queued' && r.nextAttemptAt !== null && r.nextAttemptAt > nowMs);
    return later.length ? Math.min(...later.map((r) => r.nextAttemptAt!)) : null;
  }

  async leftRunning(): Promise<LiveMigrationEntity[]> {
    return [...this.rows.values()].filter((r) => r.state === 'running').map((r) => ({ ...r }));
  }

  async withParties(id: string): Promise<WithParties> {
    return { migration: { ...this.row(id) }, ...this.parties.get(id)! };
  }

  async cancelRequested(ids: string[]): Promise<string[]> {
    return ids.filter((id) => this.rows.get(id)?.state === 'running' && this.rows.get(id)?.cancelRequestedAt != null);
  }

  async dirtyRate(): Promise<number | undefined> {
    return undefined;
  }

  async drain(): Promise<void> {}
}

/** A driver whose runs end when the test says so; an abort ends a run cancelled, like the real ones. */
class HandDriver implements MigrationDriver {
  readonly name = 'fake';
  readonly runs: { job: MigrationJob; signal: AbortSignal; end: (outcome: MigrationOutcome) => void }[] = [];
  readonly adopted: { handle: MigrationHandle; signal: AbortSignal; end: (end: AdoptedEnd) => void }[] = [];
  location: VmLocation = 'source';
  launched: MigrationHandle | null = null;
  adopt?: MigrationDriver['adopt'];
  findLaunched?: MigrationDriver['findLaunched'];

  constructor(outlivesService: boolean) {
    if (!outlivesService) return;
    this.adopt = (_job, handle, signal) =>
      new Promise<AdoptedEnd>((resolve) => {
        this.adopted.push({ handle, signal, end: resolve });
        if (signal.aborted) resolve({ status: 'cancelled', output: '' });
        signal.addEventListener('abort', () => resolve({ status: 'cancelled', output: '' }));
      });
    this.findLaunched = async () => this.launched;
  }

  migrate(job: MigrationJob, signal: AbortSignal): Promise<MigrationOutcome> {
    return new Promise((resolve) => {
      this.runs.push({ job, signal, end: resolve });
      if (signal.aborted) resolve({ status: 'cancelled' });
      signal.addEventListener('abort', () => resolve({ status: 'cancelled' }));
    });
  }

  async reconcile(): Promise<VmLocation> {
    return this.location;
  }
}

const settings: MigrationEngineSettings = {
  maxPerHost: 1,
  maxPerCluster: 10,
  maxAttempts: 3,
  retryBackoffSeconds: 30,
  attemptLimitMs: 600_000,
  attemptLimitText: '600 s',
  progressWriteIntervalMs: 0,
  pollIntervalMs: 600_000,
  killSignal: 'SIGTERM',
};

const handle: MigrationHandle = { kind: 'process', pid: 4242, startTime: 991, pgid: 4242, bootId: 'boot-1' };
const succeeded: MigrationOutcome = { status: 'succeeded', downtimeMs: 80, rounds: 2, copiedMib: 2048, durationSeconds: 12 };

/** Lets the engine run what it has to do now (its promises settle; no timer fires). */
async function idle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Lets the engine's promises (and its short real timers, such as a 20 ms attempt limit) run until
 * `done` holds. Bounded by time, not by turns of the event loop: a fast loop can turn thousands of
 * times before a 20 ms timer is due.
 */
async function until(done: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  if (!done()) throw new Error('the engine never got there');
}

describe('migration engine (dispatch loop and recovery on an in-memory queue)', () => {
  let queue: InMemoryQueue;
  let driver: HandDriver;
  let now: number;
  let dispatcher: MigrationDispatcher;

  beforeAll(() => Logger.overrideLogger(false));

  function engine(outlivesService = false, over: Partial<MigrationEngineSettings> = {}): MigrationDispatcher {
    driver = new HandDriver(outlivesService);
    const clock: Clock = { now: () => now };
    const s = { ...settings, ...over };
    const running = new RunningMigrations(queue, clock, s);
    const drivers = new ClusterDrivers(driver);
    // One process on its own database: it owns every cluster (what ClusterOwnership is on SQLite).
    const ownership = { shared: false, listen: async () => undefined, nudge: () => undefined };
    dispatcher = new MigrationDispatcher(
      queue,
      clock,
      s,
      drivers,
      running,
      new MigrationRecovery(queue, clock, s, drivers, running),
      ownership,
    );
    return dispatcher;
  }

  beforeEach(() => {
    queue = new InMemoryQueue();
    now = NOW;
  });

  afterEach(async () => {
    for (const run of driver.runs) run.end({ status: 'cancelled' });
    for (const run of driver.adopted) run.end({ status: 'detached' });
    await dispatcher.beforeApplicationShutdown();
  });

  describe('dispatch loop', () => {
    it('starts no more migrations on a host than its slots allow, and the next one as soon as one ends', async () => {
      queue.add('a');
      queue.add('b');
      await engine().onApplicationBootstrap();
      await until(() => driver.runs.length === 1);
      await idle();
      expect(driver.runs).toHaveLength(1);
      expect(driver.runs[0].job.migrationId).toBe('a');
      expect(queue.row('b').state).toBe('queued');

      driver.runs[0].end(succeeded);
      await until(() => driver.runs.length === 2);
      expect(queue.row('a').state).toBe('succeeded');
      expect(queue.parties.get('a')!.vm!.hostId).toBe('t-a');
      expect(driver.runs[1].job.migrationId).toBe('b');
      expect(queue.row('b').state).toBe('running');
    });

    it('queues a transient failure for a retry that starts once its backoff has passed, not before', async () => {
      queue.add('a');
      await engine().onApplicationBootstrap();
      await until(() => driver.runs.length === 1);
      driver.runs[0].end({ status: 'failed', error: 'ssh: connection reset', transient: true });
      await until(() => queue.row('a').state === 'queued');
      expect(queue.row('a')).toMatchObject({ error: 'ssh: connection reset', nextAttemptAt: NOW + 30_000, attempts: 1 });

      now = NOW + 29_000;
      dispatcher.wake();
      await idle();
      expect(driver.runs).toHaveLength(1);

      now = NOW + 30_000;
      dispatcher.wake();
      await until(() => driver.runs.length === 2);
      expect(queue.row('a')).toMatchObject({ state: 'running', attempts: 2 });
    });

    it('fails a migration whose VM was deleted while it was queued, without calling the driver', async () => {
      queue.add('a');
      queue.parties.get('a')!.vm = null;
      await engine().onApplicationBootstrap();
      await until(() => queue.row('a').state !== 'queued');
      expect(queue.row('a')).toMatchObject({ state: 'failed', error: 'its VM was deleted while the migration was queued' });
      expect(driver.runs).toHaveLength(0);
    });

    it('cancels a running migration through its driver and frees its slot', async () => {
      queue.add('a');
      queue.add('b');
      await engine().onApplicationBootstrap();
      await until(() => driver.runs.length === 1);
      expect(dispatcher.abort('a')).toBe(true);
      expect(driver.runs[0].signal.aborted).toBe(true);
      await dispatcher.settled('a');
      expect(queue.row('a')).toMatchObject({ state: 'cancelled', error: null });
      await until(() => driver.runs.length === 2);
      expect(driver.runs[1].job.migrationId).toBe('b');
    });

    it('says a migration it does not run cannot be aborted here', async () => {
      queue.add('a', { state: 'succeeded' });
      await engine().onApplicationBootstrap();
      expect(dispatcher.abort('a')).toBe(false);
    });

    it('stops an attempt at the time limit and fails it, naming the limit', async () => {
      queue.add('a');
      await engine(false, { attemptLimitMs: 20, attemptLimitText: '0.02 s' }).onApplicationBootstrap();
      await until(() => driver.runs.length === 1);
      await until(() => queue.row('a').state !== 'running');
      expect(driver.runs[0].signal.aborted).toBe(true);
      expect(queue.row('a')).toMatchObject({
        state: 'failed',
        error: 'timed out: attempt 1 did not finish within 0.02 s; the VM stays on its source',
      });
    });

    it('leaves running migrations running at shutdown, for the next start', async () => {
      queue.add('a');
      await engine().onApplicationBootstrap();
      await until(() => driver.runs.length === 1);
      await dispatcher.beforeApplicationShutdown();
      expect(driver.runs[0].signal.aborted).toBe(true);
      expect(queue.row('a').state).toBe('running');
    });
  });

  describe('recovery at start', () => {
    it('adopts work still running through its stored handle, holding its slots until it ends', async () => {
      queue.add('a', { state: 'running', attempts: 1, handle, startedAt: NOW - 5000 });
      queue.add('b');
      await engine(true).onApplicationBootstrap();
      await until(() => driver.adopted.length === 1);
      expect(driver.adopted[0].handle).toEqual(handle);
      dispatcher.wake();
      await idle();
      expect(driver.runs).toHaveLength(0);
      expect(queue.row('b').state).toBe('queued');

      driver.location = 'target';
      driver.adopted[0].end({ status: 'ended', output: '' });
      await until(() => driver.runs.length === 1);
      expect(queue.row('a').state).toBe('succeeded');
      expect(queue.row('a').error).toContain('the command it had started (pid 4242) ended');
      expect(driver.runs[0].job.migrationId).toBe('b');
    });

    it('adopts work a crash left before its handle was stored, and stores the handle', async () => {
      queue.add('a', { state: 'running', attempts: 1, startedAt: NOW - 5000 });
      engine(true);
      driver.launched = handle;
      await dispatcher.onApplicationBootstrap();
      await until(() => driver.adopted.length === 1);
      expect(queue.row('a').handle).toEqual(handle);
      expect(queue.row('a').state).toBe('running');
    });

    it('retries, after the backoff, a migration whose adopted command ended with the VM still on its source', async () => {
      queue.add('a', { state: 'running', attempts: 1, handle, startedAt: NOW - 5000 });
      await engine(true).onApplicationBootstrap();
      await until(() => driver.adopted.length === 1);
      driver.adopted[0].end({ status: 'ended', output: 'lost connection' });
      await until(() => queue.row('a').state === 'queued');
      await idle();
      expect(queue.row('a').nextAttemptAt).toBe(NOW + 30_000);
      expect(driver.runs).toHaveLength(0);
    });

    it('stops an adopted command at once when a cancel was asked before the crash', async () => {
      queue.add('a', { state: 'running', attempts: 1, handle, startedAt: NOW - 5000, cancelRequestedAt: NOW - 1000 });
      await engine(true).onApplicationBootstrap();
      await until(() => driver.adopted.length === 1);
      expect(driver.adopted[0].signal.aborted).toBe(true);
      await until(() => queue.row('a').state !== 'running');
      expect(queue.row('a').state).toBe('cancelled');
      expect(queue.row('a').error).toContain('was stopped (SIGTERM) as asked');
    });

    it('lets a cancel stop an adopted command', async () => {
      queue.add('a', { state: 'running', attempts: 1, handle, startedAt: NOW - 5000 });
      await engine(true).onApplicationBootstrap();
      await until(() => driver.adopted.length === 1);
      expect(dispatcher.abort('a')).toBe(true);
      await dispatcher.settled('a');
      expect(queue.row('a').state).toBe('cancelled');
    });

    it('runs again at once a migration with no work left behind whose VM stayed on its source', async () => {
      queue.add('a', { state: 'running', attempts: 1, startedAt: NOW - 5000 });
      await engine(true).onApplicationBootstrap();
      await until(() => driver.runs.length === 1);
      expect(driver.adopted).toHaveLength(0);
      expect(queue.row('a')).toMatchObject({ state: 'running', attempts: 2 });
      expect(queue.row('a').error).toContain('interrupted by a restart during attempt 1');
    });

    it('fails a migration left running on its last attempt when the driver cannot tell where the VM is', async () => {
      queue.add('a', { state: 'running', attempts: 3, maxAttempts: 3, startedAt: NOW - 5000 });
      engine(false);
      driver.location = 'unknown';
      await dispatcher.onApplicationBootstrap();
      expect(queue.row('a').state).toBe('failed');
      expect(queue.row('a').error).toContain('could not tell where the VM runs');
      expect(driver.runs).toHaveLength(0);
    });
  });
});
