// Runs the queue: starts queued migrations as slots free up, drives each through its driver outside
// any transaction, records the outcome, retries transient failures, and settles what a crash left running.
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { Database } from '../database/database.service';
import { HostEntity } from '../inventory/host.entity';
import { VmEntity } from '../inventory/vm.entity';
import {
  gbpsToMibPerSecond,
  type AdoptedEnd,
  type MigrationDriver,
  type MigrationHandle,
  type MigrationJob,
  type MigrationOutcome,
  type MigrationProgress,
  type VmLocation,
} from './drivers';
import { LiveMigrationEntity, MigrationState } from './live-migration.entity';
import { engineSettings, MIGRATION_DRIVER, MigrationEngineSettings } from './migration-settings';
import { EventsService } from '../events/events.service';
import { ClusterPolicyEntity } from '../policies/cluster-policy.entity';
import { CommitGroup } from './commit-group';
import { migrationEvent } from './migration-events';
import { retryDelayMs, SlotBook, SlotClaim, SlotLimits } from './slots';

/** Candidates read per look at the queue; more are read while some of them could start. */
const CANDIDATES_PER_READ = 64;
/** Migrations reconciled with the driver at once after a restart. */
const RECOVERY_CONCURRENCY = 8;
/** The dirty rate handed to the driver is the mean over this window of the VM's samples. */
const DIRTY_RATE_WINDOW_MS = 300_000;
/** Tries at recording the end of an attempt before leaving it to the next start's reconciliation. */
const END_WRITE_ATTEMPTS = 5;
const TARGET_DELETED =
  'the driver finished, but the target host was deleted from the inventory meanwhile: the VM stays recorded on its source until the next inventory sync';

interface RunningMigration {
  claim: SlotClaim;
  attempt: number;
  maxAttempts: number;
  controller: AbortController;
  /** Aborted at shutdown when the driver's work outlives the service: it is left running, not stopped. */
  detach: AbortController;
  cancelRequested: boolean;
  timedOut: boolean;
  settled: Promise<void>;
  latest?: MigrationProgress;
  lastWriteMs: number;
  writing?: Promise<void>;
}

type Failure = { error: string; transient: boolean };

type VmRef = Pick<VmEntity, 'id' | 'name' | 'clusterId' | 'hostId' | 'memoryMib'>;
type HostRef = Pick<HostEntity, 'id' | 'name' | 'address' | 'state' | 'migrationGbps'>;

interface WithParties {
  migration: LiveMigrationEntity;
  vm: VmRef | null;
  source: HostRef | null;
  target: HostRef | null;
}

interface Claimed {
  migration: LiveMigrationEntity;
  attempt: number;
  vm: VmRef;
  source: HostRef;
  target: HostRef;
}

type Write = (m: EntityManager) => Promise<unknown>;
/** A write and the cluster whose balancing inputs (the VM's host, the migrations in flight) it changes. */
type ClusterWrite = { clusterId: string; write: Write };

/** Values written when an attempt ends, whatever its outcome: no estimate survives it, nor the handle of its work. */
const ATTEMPT_OVER = { etaSeconds: null, remainingMib: null, handle: null } as const;

@Injectable()
export class MigrationDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LiveMigration');
  private readonly settings: MigrationEngineSettings;
  private readonly slots: SlotBook;
  private readonly running = new Map<string, RunningMigration>();
  /** Cancels that arrived while their migration was being claimed. */
  private readonly earlyCancels = new Set<string>();
  private accepting = false;
  private stopping = false;
  private refilling: Promise<void> | undefined;
  private refillAgain = false;
  private poller: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAtMs = Infinity;
  /** Ends of migrations, and progress, each group-committed: a burst costs one transaction. */
  private readonly endings: CommitGroup<ClusterWrite>;
  private readonly progressWrites: CommitGroup<Write>;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    config: AppConfig,
    @Inject(MIGRATION_DRIVER) private readonly driver: MigrationDriver,
    private readonly events: EventsService,
  ) {
    this.settings = engineSettings(config);
    this.slots = new SlotBook({ perHost: this.settings.maxPerHost, perCluster: this.settings.maxPerCluster });
    const inOneTransaction = (writes: ClusterWrite[]) =>
      this.db.transaction(
        async (m) => {
          for (const { write } of writes) await write(m);
        },
        { affects: writes.map((w) => w.clusterId) },
      );
    this.endings = new CommitGroup(inOneTransaction);
    // Progress (percent, round, bytes copied) is no input of the balance: cached balance reports stay.
    this.progressWrites = new CommitGroup((writes: Write[]) =>
      this.db.transaction(
        async (m) => {
          for (const write of writes) await write(m);
        },
        { affects: [] },
      ),
    );
  }

  get driverName(): string {
    return this.driver.name;
  }

  get maxAttempts(): number {
    return this.settings.maxAttempts;
  }

  /** The driver's work goes on without the service and is adopted after a restart. */
  private get outlivesService(): boolean {
    return typeof this.driver.adopt === 'function';
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.recover();
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
    for (const run of this.running.values()) {
      if (this.outlivesService) run.detach.abort();
      else run.controller.abort();
    }
    await Promise.all([...this.running.values()].map((run) => run.settled));
    await this.progressWrites.drain();
    await this.endings.drain();
  }

  /** Something was queued or freed: look at the queue soon. */
  wake(): void {
    void this.refill();
  }

  /** Aborts a running migration; false when this process does not run it. */
  abort(id: string): boolean {
    const run = this.running.get(id);
    if (!run) {
      this.earlyCancels.add(id);
      return false;
    }
    run.cancelRequested = true;
    run.controller.abort();
    return true;
  }

  /** Resolves once the migration is no longer running here (immediately if it is not). */
  settled(id: string): Promise<void> {
    return this.running.get(id)?.settled ?? Promise.resolve();
  }

  // ---- dispatching -------------------------------------------------------------------------------

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
    this.slots.setClusterLimits(await this.policyCaps());
    for (;;) {
      const full = this.slots.full();
      const params: unknown[] = [this.clock.now()];
      const notIn = (column: string, ids: string[]) => {
        if (ids.length === 0) return '';
        params.push(...ids);
        return ` AND ${column} NOT IN (${ids.map(() => '?').join(',')})`;
      };
      const where =
        notIn('clusterId', full.clusterIds) + notIn('sourceHostId', full.hostIds) + notIn('targetHostId', full.hostIds);
      params.push(CANDIDATES_PER_READ);
      const candidates: SlotClaim[] = await this.db.reader.query(
        `SELECT id, clusterId, vmId, sourceHostId, targetHostId FROM live_migrations
          WHERE state = 'queued' AND (nextAttemptAt IS NULL OR nextAttemptAt <= ?)${where}
          ORDER BY priority, createdAt, id LIMIT ?`,
        params,
      );
      const startable: SlotClaim[] = [];
      for (const candidate of candidates) {
        if (!this.accepting || this.slots.blocker(candidate)) continue;
        this.slots.take(candidate);
        startable.push(candidate);
      }
      if (startable.length > 0) {
        let claimed: Map<string, Claimed>;
        try {
          claimed = await this.claim(startable);
        } catch (err) {
          for (const c of startable) this.slots.release(c.id);
          throw err;
        }
        for (const c of startable) {
          const started = claimed.get(c.id);
          if (started) this.launch(c, started);
          else this.slots.release(c.id);
        }
      }
      if (candidates.length < CANDIDATES_PER_READ || startable.length === 0 || !this.accepting) return;
    }
  }

  /**
   * Moves the given migrations from queued to running in one transaction; those that can no longer
   * start (VM moved or deleted, target gone or not connected) fail instead, and those cancelled
   * meanwhile are skipped.
   */
  private async claim(claims: SlotClaim[]): Promise<Map<string, Claimed>> {
    const now = this.clock.now();
    const refused: [LiveMigrationEntity, string | null][] = [];
    const affects = new Set<string>();
    const claimed = await this.db.transaction(async (m) => {
      const result = new Map<string, Claimed>();
      const found = await this.withParties(m, claims.map((c) => c.id));
      for (const { migration, vm, source, target } of found) {
        if (migration.state !== 'queued') continue;
        affects.add(migration.clusterId);
        if (migration.cancelRequestedAt !== null) {
          // Asked to cancel while an attempt was ending and went back to the queue.
          await m.update(
            LiveMigrationEntity,
            { id: migration.id, state: 'queued' },
            { state: 'cancelled', finishedAt: now, updatedAt: now, nextAttemptAt: null, ...ATTEMPT_OVER },
          );
          await this.events.recordIn(m, migrationEvent(migration, 'cancelled', `Migration of ${vm?.name ?? migration.vmId} cancelled`));
          refused.push([migration, null]);
          continue;
        }
        const refusal = startRefusal(migration, vm, source, target);
        if (refusal) {
          await m.update(
            LiveMigrationEntity,
            { id: migration.id, state: 'queued' },
            { state: 'failed', finishedAt: now, updatedAt: now, nextAttemptAt: null, error: refusal, ...ATTEMPT_OVER },
          );
          await this.events.recordIn(m, migrationEvent(migration, 'failed', `Migration of ${vm?.name ?? migration.vmId} could not start: ${refusal}`));
          refused.push([migration, refusal]);
          continue;
        }
        result.set(migration.id, { migration, attempt: migration.attempts + 1, vm: vm!, source: source!, target: target! });
        await this.events.recordIn(
          m,
          migrationEvent(migration, 'started', `${vm!.name} is migrating from ${source!.name} to ${target!.name} (attempt ${migration.attempts + 1}): ${migration.reason}`),
        );
      }
      const ids = [...result.keys()];
      if (ids.length > 0) {
        await m.query(
          `UPDATE live_migrations SET state = 'running', attempts = attempts + 1, startedAt = ?, finishedAt = NULL,
             nextAttemptAt = NULL, updatedAt = ?, driver = ?, progressPercent = 0, precopyRound = 0, copiedMib = 0,
             remainingMib = NULL, etaSeconds = NULL, handle = NULL, version = version + 1
           WHERE state = 'queued' AND id IN (${ids.map(() => '?').join(',')})`,
          [now, now, this.driver.name, ...ids],
        );
      }
      return result;
    }, { affects });
    for (const [migration, error] of refused) {
      if (error === null) this.logState(migration, 'cancelled');
      else this.logState(migration, 'failed', { error });
    }
    return claimed;
  }

  /** Runs a claimed migration through the driver; its slots are freed once its end is recorded. */
  private launch(claim: SlotClaim, { migration, attempt, vm, source, target }: Claimed): void {
    // Left `running`: the next start reconciles it like any migration a crash interrupted.
    if (this.stopping) return;
    const run: RunningMigration = {
      claim,
      attempt,
      maxAttempts: migration.maxAttempts,
      controller: new AbortController(),
      detach: new AbortController(),
      cancelRequested: false,
      timedOut: false,
      settled: Promise.resolve(),
      lastWriteMs: performance.now(),
    };
    this.running.set(claim.id, run);
    if (this.earlyCancels.delete(claim.id)) {
      run.cancelRequested = true;
      run.controller.abort();
    }
    this.logState(migration, 'running', { attempt, sourceHostId: source.id, targetHostId: target.id });
    run.settled = this.execute(run, migration, vm, source, target)
      .catch((err) =>
        this.logger.error({ err, migrationId: claim.id }, 'could not record the end of a migration; it is reconciled at the next start'),
      )
      .finally(() => {
        this.running.delete(claim.id);
        this.slots.release(claim.id);
        void this.refill();
      });
  }

  private async execute(
    run: RunningMigration,
    migration: LiveMigrationEntity,
    vm: VmRef,
    source: HostRef,
    target: HostRef,
  ): Promise<void> {
    const job = this.jobFor(migration, vm, source, target, await this.dirtyRate(vm));
    const deadline = setTimeout(() => {
      run.timedOut = true;
      run.controller.abort();
    }, this.settings.attemptLimitMs);
    let outcome: MigrationOutcome;
    try {
      outcome = await this.driver.migrate(job, run.controller.signal, (progress) => this.onProgress(run, progress), {
        onLaunched: (handle) => this.recordHandle(run, migration, handle),
        detach: run.detach.signal,
      });
    } catch (error) {
      outcome = { status: 'failed', error: `driver error: ${(error as Error).message}`, transient: false };
    } finally {
      clearTimeout(deadline);
    }
    await run.writing;
    await this.finish(run, migration, outcome);
  }

  /**
   * Stores what the driver started before it counts as started. The claim already marked the
   * migration running (so a crash before this write leaves no queued row that would start a second
   * command); a crash between the launch and this write is covered by the driver's findLaunched.
   */
  private async recordHandle(run: RunningMigration, migration: LiveMigrationEntity, handle: MigrationHandle): Promise<void> {
    const result = await this.db.transaction(
      (m) =>
        m.update(LiveMigrationEntity, { id: migration.id, state: 'running', attempts: run.attempt }, { handle, updatedAt: this.clock.now() }),
      { affects: [] },
    );
    if (!result.affected) throw new Error('the migration is no longer running');
  }

  private async finish(run: RunningMigration, migration: LiveMigrationEntity, outcome: MigrationOutcome): Promise<void> {
    if (outcome.status === 'succeeded') {
      await this.succeed(migration, outcome);
      return;
    }
    if (outcome.status === 'detached') {
      this.logger.log(
        { migrationId: migration.id, clusterId: migration.clusterId, vmId: migration.vmId },
        'migration left running at shutdown; the next start adopts it',
      );
      return;
    }
    if (this.stopping && !run.cancelRequested) {
      this.logger.log(
        { migrationId: migration.id, clusterId: migration.clusterId, vmId: migration.vmId },
        'migration interrupted by shutdown; it is reconciled at the next start',
      );
      return;
    }
    let failure: Failure;
    if (run.timedOut) {
      failure = {
        error: `timed out: attempt ${run.attempt} did not finish within ${this.settings.attemptLimitText}; the VM stays on its source`,
        transient: false,
      };
    } else if (outcome.status === 'cancelled') {
      if (run.cancelRequested) {
        await this.endAs(migration, 'cancelled', null);
        return;
      }
      failure = { error: 'the driver stopped the migration without being asked to', transient: true };
    } else {
      failure = { error: outcome.error, transient: outcome.transient };
    }
    if (run.cancelRequested) {
      await this.endAs(migration, 'cancelled', failure.error);
    } else if (failure.transient && run.attempt < run.maxAttempts) {
      await this.retryLater(
        { ...migration, attempts: run.attempt },
        this.clock.now() + retryDelayMs(this.settings.retryBackoffSeconds, run.attempt),
        failure.error,
      );
    } else {
      await this.endAs(migration, 'failed', failure.error);
    }
  }

  /**
   * The VM changes host in the same transaction that marks the migration succeeded. If the target
   * was deleted from the inventory meanwhile, the VM cannot be recorded there: the migration fails,
   * saying so, and the VM stays recorded on its source until the next inventory sync.
   */
  private async succeed(
    migration: LiveMigrationEntity,
    outcome: Extract<MigrationOutcome, { status: 'succeeded' }> | null,
    note: string | null = null,
  ): Promise<void> {
    const now = this.clock.now();
    let targetGone = false;
    await this.recordEnd(migration.clusterId, async (m) => {
      targetGone = (await m.query('SELECT 1 FROM hosts WHERE id = ?', [migration.targetHostId])).length === 0;
      if (targetGone) {
        await m.update(
          LiveMigrationEntity,
          { id: migration.id, state: 'running' },
          { state: 'failed', finishedAt: now, updatedAt: now, error: TARGET_DELETED, ...ATTEMPT_OVER },
        );
        await this.events.recordIn(m, migrationEvent(migration, 'failed', `Migration of VM ${migration.vmId} failed: ${TARGET_DELETED}`));
        return;
      }
      await this.moveVm(m, migration);
      await this.events.recordIn(
        m,
        migrationEvent(
          migration,
          'succeeded',
          `Migration of VM ${migration.vmId} succeeded` +
            (outcome ? ` in ${outcome.durationSeconds.toFixed(1)} s, ${Math.round(outcome.downtimeMs)} ms switch-over` : '') +
            (note ? `: ${note}` : ''),
          outcome ? { downtimeMs: outcome.downtimeMs, durationSeconds: outcome.durationSeconds } : {},
        ),
      );
      await m.update(
        LiveMigrationEntity,
        { id: migration.id, state: 'running' },
        {
          state: 'succeeded',
          finishedAt: now,
          updatedAt: now,
          progressPercent: 100,
          remainingMib: 0,
          etaSeconds: 0,
          ...(outcome
            ? {
                precopyRound: Math.max(0, outcome.rounds - 1),
                copiedMib: outcome.copiedMib,
                downtimeMs: outcome.downtimeMs,
                durationSeconds: outcome.durationSeconds,
              }
            : {}),
          error: note,
        },
      );
    });
    if (targetGone) this.logState(migration, 'failed', { error: TARGET_DELETED });
    else this.logState(migration, 'succeeded', outcome ? { downtimeMs: outcome.downtimeMs, durationSeconds: outcome.durationSeconds } : { note });
  }

  private async moveVm(m: EntityManager, migration: LiveMigrationEntity): Promise<void> {
    const [vm]: { hostId: string }[] = await m.query('SELECT hostId FROM vms WHERE id = ?', [migration.vmId]);
    if (!vm) {
      this.logger.warn({ migrationId: migration.id, vmId: migration.vmId }, 'migrated VM was deleted meanwhile; nothing to move');
      return;
    }
    if (vm.hostId === migration.targetHostId) return;
    if (vm.hostId !== migration.sourceHostId) {
      this.logger.warn(
        { migrationId: migration.id, vmId: migration.vmId, recordedHostId: vm.hostId },
        'VM was recorded on another host than the migration source; the driver put it on the target',
      );
    }
    await m.update(VmEntity, { id: migration.vmId }, { hostId: migration.targetHostId });
  }

  private async endAs(migration: LiveMigrationEntity, state: 'failed' | 'cancelled', error: string | null): Promise<void> {
    const now = this.clock.now();
    await this.recordEnd(migration.clusterId, async (m) => {
      await m.update(
        LiveMigrationEntity,
        { id: migration.id, state: 'running' },
        { state, finishedAt: now, updatedAt: now, error, ...ATTEMPT_OVER },
      );
      await this.events.recordIn(m, migrationEvent(migration, state, `Migration of VM ${migration.vmId} ${state}${error ? `: ${error}` : ''}; it stays on its source`));
    });
    this.logState(migration, state, error ? { error } : {});
  }

  /** Back to the queue; it may start again from `nextAttemptAt` (null: as soon as a slot is free). */
  private async retryLater(migration: LiveMigrationEntity, nextAttemptAt: number | null, error: string): Promise<void> {
    const now = this.clock.now();
    await this.recordEnd(migration.clusterId, async (m) => {
      await m.update(
        LiveMigrationEntity,
        { id: migration.id, state: 'running' },
        { state: 'queued', nextAttemptAt, updatedAt: now, error, progressPercent: 0, precopyRound: null, copiedMib: 0, ...ATTEMPT_OVER },
      );
      await this.events.recordIn(m, migrationEvent(migration, 'retry', `Migration of VM ${migration.vmId} will be tried again: ${error}`));
    });
    this.logState(migration, 'queued', {
      error,
      attempts: migration.attempts,
      ...(nextAttemptAt !== null ? { retryAt: new Date(nextAttemptAt).toISOString() } : {}),
    });
    if (nextAttemptAt !== null) this.wakeAt(nextAttemptAt);
  }

  /**
   * The end of an attempt must reach the database, or the migration would look running until the
   * next start: a failed write (the disk busy or full) is tried again a few times.
   */
  private async recordEnd(clusterId: string, write: Write): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.endings.add({ clusterId, write });
        return;
      } catch (err) {
        if (attempt >= END_WRITE_ATTEMPTS) throw err;
        this.logger.warn({ err }, 'could not record the end of a migration; trying again');
        await delay(250 * attempt);
      }
    }
  }

  /** At most one progress write per migration every progressWriteIntervalMs, never two at once. */
  private onProgress(run: RunningMigration, progress: MigrationProgress): void {
    run.latest = progress;
    const nowMs = performance.now();
    if (run.writing || nowMs - run.lastWriteMs < this.settings.progressWriteIntervalMs) return;
    run.lastWriteMs = nowMs;
    const p = progress;
    run.writing = this.progressWrites
      .add((m) =>
        m.update(
          LiveMigrationEntity,
          { id: run.claim.id, state: 'running', attempts: run.attempt },
          {
            progressPercent: p.percent,
            precopyRound: p.round,
            copiedMib: p.copiedMib,
            remainingMib: p.remainingMib,
            etaSeconds: p.etaSeconds,
            updatedAt: this.clock.now(),
          },
        ),
      )
      .then(
        () => undefined,
        (err) => this.logger.warn({ err, migrationId: run.claim.id }, 'could not record migration progress'),
      )
      .finally(() => (run.writing = undefined));
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
    const [{ next }] = await this.db.reader.query(
      `SELECT MIN(nextAttemptAt) AS next FROM live_migrations WHERE state = 'queued' AND nextAttemptAt > ?`,
      [this.clock.now()],
    );
    if (next !== null) this.wakeAt(next);
  }

  // ---- recovery ----------------------------------------------------------------------------------

  /**
   * Migrations left `running` by a crash or a shutdown. Work the driver started that still runs (a
   * command) is adopted: the engine waits for it, and cancel stops it, before anything is decided.
   * Otherwise the driver says where each VM is, and each ends succeeded (VM on the target), back in
   * the queue (VM on its source, attempts left), or failed.
   */
  private async recover(): Promise<void> {
    const stuck = await this.db.reader.find(LiveMigrationEntity, { where: { state: 'running' }, order: { createdAt: 'ASC' } });
    if (stuck.length === 0) return;
    this.logger.log({ migrations: stuck.length }, 'reconciling migrations left running by the previous run');
    for (let i = 0; i < stuck.length; i += RECOVERY_CONCURRENCY) {
      await Promise.all(stuck.slice(i, i + RECOVERY_CONCURRENCY).map((migration) => this.recoverOne(migration)));
    }
  }

  private async recoverOne(migration: LiveMigrationEntity): Promise<void> {
    const [{ vm, source, target }] = await this.withParties(this.db.reader, [migration.id]);
    const interrupted = `interrupted by a restart during attempt ${migration.attempts}`;
    if (vm && source && target && this.driver.adopt) {
      const job = this.jobFor(migration, vm, source, target);
      // Without a stored handle: maybe started just before the crash, before its identity was stored.
      // A handle whose command has ended meanwhile goes through adopt too, which reads its last output.
      const handle = migration.handle ?? (await this.driver.findLaunched?.(job).catch(() => null)) ?? null;
      if (handle) {
        if (!migration.handle) await this.recordAdopted(migration, handle);
        this.adopt(migration, job, handle);
        return;
      }
    }
    let location: VmLocation;
    let missing: string | null = null;
    if (vm && vm.hostId === migration.targetHostId) location = 'target';
    else if (!vm || !source || !target) {
      location = 'unknown';
      missing = !vm ? 'its VM no longer exists' : 'one of its hosts no longer exists';
    } else {
      location = await this.driver.reconcile(this.jobFor(migration, vm, source, target)).catch((): VmLocation => 'unknown');
    }
    // A handle the configured driver cannot follow (the driver was changed): its work may still run.
    const ran = migration.handle ? `; the ${migration.driver} driver's work (pid ${migration.handle.pid}) cannot be followed, it may still run` : '';
    await this.decide(migration, location, {
      why: `${interrupted}${missing ? `; ${missing}` : ran}`,
      cancelled: migration.cancelRequestedAt !== null,
      // No backoff when nothing ran: the service failed, not the migration.
      retryAt: migration.handle ? this.clock.now() + retryDelayMs(this.settings.retryBackoffSeconds, migration.attempts) : null,
      whereFrom: vm && vm.hostId === migration.targetHostId ? 'the inventory already had' : `the ${this.driver.name} driver found`,
      unknownBecause: missing ? null : `the ${this.driver.name} driver could not tell where the VM runs`,
    });
  }

  private async recordAdopted(migration: LiveMigrationEntity, handle: MigrationHandle): Promise<void> {
    await this.db.transaction(
      (m) => m.update(LiveMigrationEntity, { id: migration.id, state: 'running' }, { handle, updatedAt: this.clock.now() }),
      { affects: [] },
    );
  }

  /** Follows work a previous run started, holding its slots as if this run had started it. */
  private adopt(migration: LiveMigrationEntity, job: MigrationJob, handle: MigrationHandle): void {
    const claim: SlotClaim = {
      id: migration.id,
      clusterId: migration.clusterId,
      vmId: migration.vmId,
      sourceHostId: migration.sourceHostId,
      targetHostId: migration.targetHostId,
    };
    this.slots.take(claim);
    const run: RunningMigration = {
      claim,
      attempt: migration.attempts,
      maxAttempts: migration.maxAttempts,
      controller: new AbortController(),
      detach: new AbortController(),
      cancelRequested: migration.cancelRequestedAt !== null,
      timedOut: false,
      settled: Promise.resolve(),
      lastWriteMs: performance.now(),
    };
    // Cancel was asked before the crash: stop it now.
    if (run.cancelRequested) run.controller.abort();
    this.running.set(claim.id, run);
    this.logger.log(
      { migrationId: migration.id, clusterId: migration.clusterId, vmId: migration.vmId, pid: handle.pid },
      'migration adopted: waiting for the command the previous run started',
    );
    run.settled = this.followAdopted(run, migration, job, handle)
      .catch((err) => this.logger.error({ err, migrationId: claim.id }, 'could not settle an adopted migration; it is reconciled at the next start'))
      .finally(() => {
        this.running.delete(claim.id);
        this.slots.release(claim.id);
        void this.refill();
      });
  }

  private async followAdopted(run: RunningMigration, migration: LiveMigrationEntity, job: MigrationJob, handle: MigrationHandle): Promise<void> {
    const deadlineMs = migration.startedAt !== null ? migration.startedAt + this.settings.attemptLimitMs : null;
    let ended: AdoptedEnd;
    try {
      ended = await this.driver.adopt!(job, handle, run.controller.signal, (progress) => this.onProgress(run, progress), {
        detach: run.detach.signal,
        deadlineMs,
      });
    } catch (error) {
      ended = { status: 'ended', output: `driver error: ${(error as Error).message}` };
    }
    await run.writing;
    if (ended.status === 'detached') {
      this.logger.log({ migrationId: migration.id, pid: handle.pid }, 'adopted migration left running at shutdown');
      return;
    }
    const hows: Record<Exclude<AdoptedEnd['status'], 'detached'>, string> = {
      ended: 'ended',
      cancelled: `was stopped (${this.settings.killSignal}) as asked`,
      'timed-out': `ran past the time limit (${this.settings.attemptLimitText}) and was stopped`,
    };
    const how = hows[ended.status];
    const output = ended.output ? ` (its last output: ${ended.output.slice(-500)})` : '';
    const location = await this.driver.reconcile(job).catch((): VmLocation => 'unknown');
    await this.decide(migration, location, {
      why:
        `interrupted by a restart during attempt ${migration.attempts}; ` +
        `the command it had started (pid ${handle.pid}) ${how}, its exit status unknown${output}`,
      cancelled: run.cancelRequested,
      retryAt: this.clock.now() + retryDelayMs(this.settings.retryBackoffSeconds, migration.attempts),
      whereFrom: `the ${this.driver.name} driver found`,
      unknownBecause: `the ${this.driver.name} driver could not tell where the VM runs`,
    });
  }

  /** Where a recovered migration's VM is decides how it ends. */
  private async decide(
    migration: LiveMigrationEntity,
    location: VmLocation,
    context: { why: string; cancelled: boolean; retryAt: number | null; whereFrom: string; unknownBecause: string | null },
  ): Promise<void> {
    const { why } = context;
    if (location === 'target') {
      // Downtime and duration were not seen: they stay unknown.
      await this.succeed(migration, null, `${why}; ${context.whereFrom} the VM on the target`);
    } else if (location === 'source') {
      if (context.cancelled) {
        await this.endAs(migration, 'cancelled', `${why}; cancelled as asked, the VM stayed on its source`);
      } else if (migration.attempts < migration.maxAttempts) {
        await this.retryLater(migration, context.retryAt, `${why}; the VM stayed on its source, so it runs again`);
      } else {
        await this.endAs(migration, 'failed', `${why}, its last; the VM stayed on its source`);
      }
    } else {
      const check = context.unknownBecause ? `; ${context.unknownBecause}, so it stays recorded on its source: check it and sync the inventory` : '';
      await this.endAs(migration, context.cancelled ? 'cancelled' : 'failed', `${why}${context.cancelled ? '; cancelled as asked' : ''}${check}`);
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /** The migrations with their VM and hosts (null where deleted), in one read. */
  private async withParties(m: EntityManager, ids: string[]): Promise<WithParties[]> {
    const out: WithParties[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows: Record<string, any>[] = await m.query(
        `SELECT m.*,
                v.id AS vm_id, v.name AS vm_name, v.clusterId AS vm_clusterId, v.hostId AS vm_hostId, v.memoryMib AS vm_memoryMib,
                s.id AS source_id, s.name AS source_name, s.address AS source_address, s.state AS source_state, s.migrationGbps AS source_migrationGbps,
                t.id AS target_id, t.name AS target_name, t.address AS target_address, t.state AS target_state, t.migrationGbps AS target_migrationGbps
           FROM live_migrations m
           LEFT JOIN vms v ON v.id = m.vmId
           LEFT JOIN hosts s ON s.id = m.sourceHostId
           LEFT JOIN hosts t ON t.id = m.targetHostId
          WHERE m.id IN (${chunk.map(() => '?').join(',')})`,
        chunk,
      );
      for (const row of rows) {
        const pick = <T>(prefix: string, keys: string[]): T | null =>
          row[`${prefix}_id`] === null ? null : (Object.fromEntries(keys.map((k) => [k, row[`${prefix}_${k}`]])) as T);
        out.push({
          migration: row as unknown as LiveMigrationEntity,
          vm: pick<VmRef>('vm', ['id', 'name', 'clusterId', 'hostId', 'memoryMib']),
          source: pick<HostRef>('source', ['id', 'name', 'address', 'state', 'migrationGbps']),
          target: pick<HostRef>('target', ['id', 'name', 'address', 'state', 'migrationGbps']),
        });
      }
    }
    return out;
  }

  private jobFor(
    migration: LiveMigrationEntity,
    vm: VmRef,
    source: HostRef,
    target: HostRef,
    dirtyRateMibPerSecond?: number,
  ): MigrationJob {
    const linkMibPerSecond = gbpsToMibPerSecond(Math.min(source.migrationGbps, target.migrationGbps));
    return {
      migrationId: migration.id,
      vm: { id: vm.id, name: vm.name, memoryMib: vm.memoryMib, ...(dirtyRateMibPerSecond !== undefined ? { dirtyRateMibPerSecond } : {}) },
      source: { id: source.id, name: source.name, address: source.address, migrationGbps: source.migrationGbps },
      target: { id: target.id, name: target.name, address: target.address, migrationGbps: target.migrationGbps },
      // The slower link, shared with the other migrations on the busier of the two hosts.
      bandwidthMibPerSecond: () =>
        linkMibPerSecond / Math.max(1, this.slots.hostLoad(source.id), this.slots.hostLoad(target.id)),
    };
  }

  /** The concurrency caps cluster policies set (maxConcurrentPerHost / maxConcurrentPerCluster). */
  private async policyCaps(): Promise<Map<string, SlotLimits>> {
    const rows = await this.db.reader.find(ClusterPolicyEntity);
    const caps = new Map<string, SlotLimits>();
    for (const { clusterId, settings } of rows) {
      const perHost = settings.maxConcurrentPerHost;
      const perCluster = settings.maxConcurrentPerCluster;
      if (typeof perHost !== 'number' && typeof perCluster !== 'number') continue;
      caps.set(clusterId, {
        perHost: typeof perHost === 'number' ? perHost : this.settings.maxPerHost,
        perCluster: typeof perCluster === 'number' ? perCluster : this.settings.maxPerCluster,
      });
    }
    return caps;
  }

  /** Mean dirty rate of the VM's recent samples, when it reports one. */
  private async dirtyRate(vm: VmRef): Promise<number | undefined> {
    const [row] = await this.db.reader.query(
      `SELECT AVG(memoryDirtyMibPerSecond) AS rate FROM samples
        WHERE clusterId = ? AND timestamp > ? AND subjectId = ? AND memoryDirtyMibPerSecond IS NOT NULL`,
      [vm.clusterId, this.clock.now() - DIRTY_RATE_WINDOW_MS, vm.id],
    );
    return typeof row?.rate === 'number' ? row.rate : undefined;
  }

  private logState(migration: LiveMigrationEntity, state: MigrationState, extra: Record<string, unknown> = {}): void {
    this.logger.log(
      { migrationId: migration.id, clusterId: migration.clusterId, vmId: migration.vmId, state, ...extra },
      `migration ${state}`,
    );
  }
}

/** Why a queued migration can no longer start, or null. Checked when it leaves the queue. */
function startRefusal(
  migration: LiveMigrationEntity,
  vm: VmRef | null,
  source: HostRef | null,
  target: HostRef | null,
): string | null {
  if (!vm) return 'its VM was deleted while the migration was queued';
  if (!target) return 'its target host was deleted while the migration was queued';
  if (vm.hostId === migration.targetHostId) return `${vm.name} already runs on ${target.name}`;
  if (vm.hostId !== migration.sourceHostId || !source) return `${vm.name} moved to another host while the migration was queued`;
  if (target.state !== 'connected') return `target ${target.name} is ${target.state}`;
  return null;
}
