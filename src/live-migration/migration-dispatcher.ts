// Runs the queue: starts queued migrations as slots free up and drives each through its driver outside
// any transaction. How an attempt ends is decided in attempt-outcome.ts, written by the MigrationQueue;
// what a crash left running is settled by MigrationRecovery before the first start.
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../common/clock';
import { attemptEnd } from './attempt-outcome';
import type { MigrationDriver, MigrationHandle, MigrationOutcome } from './drivers';
import { MigrationQueue, type Claimed } from './migration-queue';
import { MigrationRecovery } from './migration-recovery';
import { MIGRATION_DRIVER, MIGRATION_SETTINGS, type MigrationEngineSettings } from './migration-settings';
import { RunningMigrations, type RunningMigration } from './running-migrations';
import type { SlotClaim, SlotLimits } from './slots';

/** Candidates read per look at the queue; more are read while some of them could start. */
const CANDIDATES_PER_READ = 64;
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
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAtMs = Infinity;

  constructor(
    private readonly queue: MigrationQueue,
    private readonly clock: Clock,
    @Inject(MIGRATION_SETTINGS) private readonly settings: MigrationEngineSettings,
    @Inject(MIGRATION_DRIVER) private readonly driver: MigrationDriver,
    private readonly running: RunningMigrations,
    private readonly recovery: MigrationRecovery,
  ) {
    running.listen({ freed: () => void this.refill(), retryDueAt: (atMs) => this.wakeAt(atMs) });
  }

  get driverName(): string {
    return this.driver.name;
  }

  get maxAttempts(): number {
    return this.settings.maxAttempts;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.recovery.recover();
    this.accepting = true;
    this.poller = setInterval(() => void this.refill(), this.settings.pollIntervalMs);
    this.poller.unref();
    void this.refill();
  }

  /**
   * Stops starting migrations. Work that outlives the service (the command driver's processes) is
   * left running: stopping a live migration halfway helps nobody, and the next start adopts it. The
   * simulated driver's runs are aborted. Either way they stay `running` in the database and are
   * settled at the next start, exactly as after a crash; one that finished meanwhile is recorded.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.accepting = false;
    clearInterval(this.poller);
    clearTimeout(this.wakeTimer);
    await this.refilling;
    const runs = this.running.all();
    for (const run of runs) {
      if (typeof this.driver.adopt === 'function') run.detach.abort();
      else run.controller.abort();
    }
    await Promise.all(runs.map((run) => run.settled));
    await this.queue.drain();
  }

  /** Something was queued or freed: look at the queue soon. */
  wake(): void {
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
      const candidates = await this.queue.due(this.clock.now(), slots.full(), CANDIDATES_PER_READ);
      const startable: SlotClaim[] = [];
      for (const candidate of candidates) {
        if (!this.accepting || slots.blocker(candidate)) continue;
        slots.take(candidate);
        startable.push(candidate);
      }
      if (startable.length > 0) {
        let claimed: Map<string, Claimed>;
        try {
          const result = await this.queue.claim(
            startable.map((c) => c.id),
            this.clock.now(),
            this.driver.name,
          );
          for (const { migration, state, error } of result.ended) this.running.logState(migration, state, error === null ? {} : { error });
          claimed = result.started;
        } catch (err) {
          for (const c of startable) slots.release(c.id);
          throw err;
        }
        for (const c of startable) {
          const started = claimed.get(c.id);
          if (started) this.launch(c, started);
          else slots.release(c.id);
        }
      }
      if (candidates.length < CANDIDATES_PER_READ || startable.length === 0 || !this.accepting) return;
    }
  }

  /** Runs a claimed migration through the driver; its slots are freed once its end is recorded. */
  private launch(claim: SlotClaim, claimed: Claimed): void {
    // Left `running`: the next start reconciles it like any migration a crash interrupted.
    if (this.stopping) return;
    const { migration, attempt, source, target } = claimed;
    this.running.logState(migration, 'running', { attempt, sourceHostId: source.id, targetHostId: target.id });
    this.running.start(
      claim,
      { number: attempt, maxAttempts: migration.maxAttempts, cancelRequested: false, takeEarlyCancel: true },
      (run) => this.execute(run, claimed),
      'could not record the end of a migration; it is reconciled at the next start',
    );
  }

  private async execute(run: RunningMigration, { migration, vm, source, target }: Claimed): Promise<void> {
    const dirtyRate = await this.queue.dirtyRate(vm, this.clock.now() - DIRTY_RATE_WINDOW_MS);
    const job = this.running.jobFor(migration, vm, source, target, dirtyRate);
    const deadline = setTimeout(() => {
      run.timedOut = true;
      run.controller.abort();
    }, this.settings.attemptLimitMs);
    let outcome: MigrationOutcome;
    try {
      outcome = await this.driver.migrate(job, run.controller.signal, (progress) => this.running.onProgress(run, progress), {
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
        stopping: this.stopping,
      },
      outcome,
      this.settings,
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
    if (!(await this.queue.recordHandle(run.claim.id, run.attempt, handle, this.clock.now()))) {
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
    const next = await this.queue.nextRetryAt(this.clock.now());
    if (next !== null) this.wakeAt(next);
  }
}
