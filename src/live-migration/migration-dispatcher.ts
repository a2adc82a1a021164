// Runs the queue: starts queued migrations as slots free up and drives each through its driver outside
// any transaction. How an attempt ends is decided in attempt-outcome.ts, written by the MigrationQueue;
// what a crash left running is settled by MigrationRecovery before the first start.
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../common/clock';
import { attemptEnd } from './attempt-outcome';
import { attemptLimitFor, ClusterDrivers, type LeasedDriver } from './cluster-drivers';
import type { MigrationDriver, MigrationHandle, MigrationOutcome } from './drivers';
import { MigrationQueue, type Claimed } from './migration-queue';
import { MigrationRecovery } from './migration-recovery';
import { MIGRATION_SETTINGS, type MigrationEngineSettings } from './migration-settings';
import { RunningMigrations, type RunningMigration } from './running-migrations';
import type { SlotClaim, SlotLimits } from './slots';
import { ClusterOwnership } from '../replicas/cluster-ownership';

/** Candidates read per look at the queue; more are read while some of them could start. */
const CANDIDATES_PER_READ = 64;
/** Shared database: how often the attempts running here look for cancels asked through other replicas. */
const CANCEL_FOLLOW_MS = 1000;
/** The dirty rate handed to the driver is the mean over this window of the VM's samples. */
const DIRTY_RATE_WINDOW_MS = 300_000;

@Injectable()
export class MigrationDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LiveMigration');
  private accepting = false;
  private stopping = false;
  private refilling: Promise<void> | undefined;
  private refillAgain = false;
  private poller: NodeJS.Timeout | undefined;
  private cancelFollower: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAtMs = Infinity;
  /** The last reason each cluster's driver could not be had, so that it is logged once, not at every look. */
  private readonly unavailable = new Map<string, string>();
  /**
   * Shared database: the clusters this replica owns whose left-running migrations are settled, so that new ones may
   * start (null: a single process, which settles all of them before the first start).
   */
  private ready: Set<string> | null = null;
  /** Clusters being let go of: their attempts end as at a shutdown, left running for the new owner. */
  private readonly lettingGo = new Set<string>();

  constructor(
    private readonly queue: MigrationQueue,
    private readonly clock: Clock,
    @Inject(MIGRATION_SETTINGS) private readonly settings: MigrationEngineSettings,
    private readonly drivers: ClusterDrivers,
    private readonly running: RunningMigrations,
    private readonly recovery: MigrationRecovery,
    @Inject(ClusterOwnership) private readonly ownership: Pick<ClusterOwnership, 'shared' | 'listen' | 'nudge'>,
  ) {
    running.listen({ freed: () => void this.refill(), retryDueAt: (atMs) => this.wakeAt(atMs) });
  }

  /** The configured driver's name; a cluster whose connector moves its VMs records the connector's at the start of each attempt. */
  get driverName(): string {
    return this.drivers.configured.name;
  }

  get maxAttempts(): number {
    return this.settings.maxAttempts;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.ownership.shared) {
      // Each cluster this replica comes to own: what its previous owner left running is settled (adopted through its
      // handle, or reconciled with the driver) before any of its queued migrations starts here.
      this.ready = new Set();
      await this.ownership.listen({ acquired: (clusterId) => this.takeOver(clusterId), lost: (clusterId) => this.letGo(clusterId) });
    } else {
      await this.recovery.recover();
    }
    this.accepting = true;
    this.poller = setInterval(() => void this.refill(), this.settings.pollIntervalMs);
    if (this.ready !== null) {
      this.cancelFollower = setInterval(() => void this.followCancels(), CANCEL_FOLLOW_MS);
      this.cancelFollower.unref();
    }
    this.poller.unref();
    void this.refill();
  }

  /**
   * Stops starting migrations. Work that outlives the service (the command and libvirt drivers' processes) is
   * left running: stopping a live migration halfway helps nobody, and the next start adopts it. The
   * simulated driver's runs are aborted. Either way they stay `running` in the database and are
   * settled at the next start, exactly as after a crash; one that finished meanwhile is recorded.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.accepting = false;
    clearInterval(this.poller);
    clearInterval(this.cancelFollower);
    clearTimeout(this.wakeTimer);
    await this.refilling;
    const runs = this.running.all();
    for (const run of runs) {
      if (run.adoptable) run.detach.abort();
      else run.controller.abort();
    }
    await Promise.all(runs.map((run) => run.settled));
    await this.queue.drain();
  }

  private async takeOver(clusterId: string): Promise<void> {
    await this.recovery.recover(clusterId);
    this.ready?.add(clusterId);
    void this.refill();
  }

  /**
   * Another replica owns the cluster now: nothing more starts here, and what runs here is let go of as at a
   * shutdown (work that outlives the process is left to the new owner to adopt); its ends are not recorded (fenced).
   */
  private async letGo(clusterId: string): Promise<void> {
    this.ready?.delete(clusterId);
    this.lettingGo.add(clusterId);
    try {
      const runs = this.running.all().filter((run) => run.claim.clusterId === clusterId);
      for (const run of runs) {
        if (run.adoptable) run.detach.abort();
        else run.controller.abort();
      }
      await Promise.all(runs.map((run) => run.settled));
    } finally {
      this.lettingGo.delete(clusterId);
    }
  }

  /** Shared database: a cancel asked through another replica reaches the attempt running here. */
  private async followCancels(): Promise<void> {
    const runs = this.running.all().filter((run) => !run.cancelRequested);
    if (runs.length === 0) return;
    try {
      for (const id of await this.queue.cancelRequested(runs.map((run) => run.claim.id))) this.running.abort(id);
    } catch (err) {
      this.logger.warn({ err }, 'could not look for cancels asked through other replicas');
    }
  }

  /** Something was queued or freed: look at the queue soon (and, on a shared database, at the leases: a new cluster may have no owner yet). */
  wake(): void {
    this.ownership.nudge();
    void this.refill();
  }

  /** Aborts a running migration; false when this process does not run it. */
  abort(id: string): boolean {
    return this.running.abort(id);
  }

  /** Resolves once the migration is no longer running here (immediately if it is not). */
  settled(id: string): Promise<void> {
    return this.running.settled(id);
  }

  /** One refill at a time; calls meanwhile make it look again once it is done. */
  private refill(): Promise<void> {
    if (!this.accepting) return Promise.resolve();
    if (this.refilling) {
      this.refillAgain = true;
      return this.refilling;
    }
    this.refilling = (async () => {
      try {
        do {
          this.refillAgain = false;
          await this.fillFreeSlots();
        } while (this.refillAgain && this.accepting);
      } catch (err) {
        this.logger.error({ err }, 'migration dispatch failed; trying again shortly');
        this.wakeAt(this.clock.now() + 1000);
      } finally {
        this.refilling = undefined;
      }
    })();
    return this.refilling;
  }

  /**
   * Starts queued migrations, best priority then oldest first, skipping those whose hosts or cluster
   * have no free slot: a refill, so a migration starts as soon as one ends, not in batches.
   */
  private async fillFreeSlots(): Promise<void> {
    const slots = this.running.slots;
    slots.setClusterLimits(await this.policyCaps());
    for (;;) {
      const clusters = this.ready === null ? null : [...this.ready];
      const candidates = await this.queue.due(this.clock.now(), slots.full(), CANDIDATES_PER_READ, clusters);
      const startable: SlotClaim[] = [];
      const leases = new Map<string, LeasedDriver>();
      for (const candidate of candidates) {
        if (!this.accepting || slots.blocker(candidate)) continue;
        const leased = await this.leaseDriver(candidate.clusterId);
        if (!leased) continue;
        slots.take(candidate);
        startable.push(candidate);
        leases.set(candidate.id, leased);
      }
      if (startable.length > 0) {
        let claimed: Map<string, Claimed>;
        try {
          const result = await this.queue.claim(new Map(startable.map((c) => [c.id, leases.get(c.id)!.driver.name])), this.clock.now());
          for (const { migration, state, error } of result.ended) this.running.logState(migration, state, error === null ? {} : { error });
          claimed = result.started;
        } catch (err) {
          for (const c of startable) {
            slots.release(c.id);
            leases.get(c.id)!.release();
          }
          throw err;
        }
        for (const c of startable) {
          const started = claimed.get(c.id);
          if (started) this.launch(c, started, leases.get(c.id)!);
          else {
            slots.release(c.id);
            leases.get(c.id)!.release();
          }
        }
      }
      if (candidates.length < CANDIDATES_PER_READ || startable.length === 0 || !this.accepting) return;
    }
  }

  /** The driver of the cluster's migrations; null (logged once per reason) when it cannot be had now: its migrations wait in the queue. */
  private async leaseDriver(clusterId: string): Promise<LeasedDriver | null> {
    try {
      const leased = await this.drivers.lease(clusterId);
      this.unavailable.delete(clusterId);
      return leased;
    } catch (err) {
      const reason = (err as Error).message;
      if (this.unavailable.get(clusterId) !== reason) {
        this.unavailable.set(clusterId, reason);
        this.logger.warn({ clusterId, error: reason }, "the cluster's migrations wait: its migration driver cannot be had");
      }
      return null;
    }
  }

  /** Runs a claimed migration through its driver; its slots are freed once its end is recorded. */
  private launch(claim: SlotClaim, claimed: Claimed, leased: LeasedDriver): void {
    // Left `running`: the next start reconciles it like any migration a crash interrupted.
    if (this.stopping) {
      leased.release();
      return;
    }
    const { migration, attempt, source, target } = claimed;
    const { driver } = leased;
    this.running.logState(migration, 'running', { attempt, sourceHostId: source.id, targetHostId: target.id, driver: driver.name });
    this.running.start(
      claim,
      {
        number: attempt,
        maxAttempts: migration.maxAttempts,
        cancelRequested: false,
        takeEarlyCancel: true,
        adoptable: typeof driver.adopt === 'function',
      },
      (run) => this.execute(run, claimed, driver).finally(() => leased.release()),
      'could not record the end of a migration; it is reconciled at the next start',
    );
  }

  private async execute(run: RunningMigration, { migration, vm, source, target }: Claimed, driver: MigrationDriver): Promise<void> {
    const dirtyRate = await this.queue.dirtyRate(vm, this.clock.now() - DIRTY_RATE_WINDOW_MS);
    const job = this.running.jobFor(migration, vm, source, target, dirtyRate);
    const limit = attemptLimitFor(driver, this.settings);
    const deadline = setTimeout(() => {
      run.timedOut = true;
      run.controller.abort();
    }, limit.attemptLimitMs);
    let outcome: MigrationOutcome;
    try {
      outcome = await driver.migrate(job, run.controller.signal, (progress) => this.running.onProgress(run, progress), {
        onLaunched: (handle) => this.recordHandle(run, handle),
        detach: run.detach.signal,
      });
    } catch (error) {
      outcome = { status: 'failed', error: `driver error: ${(error as Error).message}`, transient: false };
    } finally {
      clearTimeout(deadline);
    }
    await run.writing;
    const end = attemptEnd(
      {
        attempt: run.attempt,
        maxAttempts: run.maxAttempts,
        cancelRequested: run.cancelRequested,
        timedOut: run.timedOut,
        stopping: this.stopping || this.lettingGo.has(run.claim.clusterId),
      },
      outcome,
      { ...this.settings, ...limit },
      this.clock.now(),
    );
    await this.running.end(migration, end, { attempts: run.attempt });
  }

  /**
   * Stores what the driver started before it counts as started. The claim already marked the
   * migration running (so a crash before this write leaves no queued row that would start a second
   * command); a crash between the launch and this write is covered by the driver's findLaunched.
   */
  private async recordHandle(run: RunningMigration, handle: MigrationHandle): Promise<void> {
    if (!(await this.queue.recordHandle(run.claim.id, run.claim.clusterId, run.attempt, handle, this.clock.now()))) {
      throw new Error('the migration is no longer running');
    }
  }

  /** The concurrency caps cluster policies set (maxConcurrentPerHost / maxConcurrentPerCluster). */
  private async policyCaps(): Promise<Map<string, SlotLimits>> {
    const caps = new Map<string, SlotLimits>();
    for (const { clusterId, perHost, perCluster } of await this.queue.policyCaps()) {
      if (perHost === undefined && perCluster === undefined) continue;
      caps.set(clusterId, { perHost: perHost ?? this.settings.maxPerHost, perCluster: perCluster ?? this.settings.maxPerCluster });
    }
    return caps;
  }

  private wakeAt(atMs: number): void {
    if (!this.accepting || atMs >= this.wakeAtMs) return;
    clearTimeout(this.wakeTimer);
    this.wakeAtMs = atMs;
    this.wakeTimer = setTimeout(() => void this.onWake(), Math.max(0, atMs - this.clock.now()));
    this.wakeTimer.unref();
  }

  private async onWake(): Promise<void> {
    this.wakeAtMs = Infinity;
    await this.refill();
    if (!this.accepting) return;
    try {
      const next = await this.queue.nextRetryAt(this.clock.now());
      if (next !== null) this.wakeAt(next);
    } catch (err) {
      // The database is away (a restart, say): the poller looks at the queue again anyway.
      this.logger.warn({ err }, 'could not read when the next retry is due');
    }
  }
}
