// The attempts this process runs or follows: the slots they hold, cancel, progress writes, and the record
// of how each ends. The dispatch loop starts attempts here; recovery hands it the work it adopts.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { AttemptEnd, HostRef, VmRef } from './attempt-outcome';
import { gbpsToMibPerSecond, type MigrationJob, type MigrationProgress } from './drivers';
import type { LiveMigrationEntity, MigrationState } from './live-migration.entity';
import { MigrationQueue } from './migration-queue';
import { MIGRATION_SETTINGS, type MigrationEngineSettings } from './migration-settings';
import { SlotBook, type SlotClaim } from './slots';

export interface RunningMigration {
  claim: SlotClaim;
  attempt: number;
  maxAttempts: number;
  controller: AbortController;
  /** Aborted at shutdown when the driver's work outlives the service: it is left running, not stopped. */
  detach: AbortController;
  /** Its driver's work outlives the service and a restart adopts it: shutdown detaches rather than aborts. */
  adoptable: boolean;
  cancelRequested: boolean;
  timedOut: boolean;
  settled: Promise<void>;
  latest?: MigrationProgress;
  lastWriteMs: number;
  writing?: Promise<void>;
}

/** What the dispatch loop hears from here: slots were freed, a retry is due at some time. */
export interface RunListener {
  freed(): void;
  retryDueAt(atMs: number): void;
}

@Injectable()
export class RunningMigrations {
  private readonly logger = new Logger('LiveMigration');
  readonly slots: SlotBook;
  private readonly runs = new Map<string, RunningMigration>();
  /** Cancels that arrived while their migration was being claimed. */
  private readonly earlyCancels = new Set<string>();
  private listener: RunListener = { freed: () => undefined, retryDueAt: () => undefined };

  constructor(
    private readonly queue: MigrationQueue,
    private readonly clock: Clock,
    @Inject(MIGRATION_SETTINGS) private readonly settings: MigrationEngineSettings,
  ) {
    this.slots = new SlotBook({ perHost: settings.maxPerHost, perCluster: settings.maxPerCluster });
  }

  listen(listener: RunListener): void {
    this.listener = listener;
  }

  /**
   * Runs `work` as the attempt of a migration whose slots are already taken; they are freed once it
   * settles. A cancel that came while the migration was being claimed applies when `early` says so.
   */
  start(
    claim: SlotClaim,
    attempt: { number: number; maxAttempts: number; cancelRequested: boolean; takeEarlyCancel: boolean; adoptable: boolean },
    work: (run: RunningMigration) => Promise<void>,
    onError: string,
  ): RunningMigration {
    const run: RunningMigration = {
      claim,
      attempt: attempt.number,
      maxAttempts: attempt.maxAttempts,
      controller: new AbortController(),
      detach: new AbortController(),
      adoptable: attempt.adoptable,
      cancelRequested: attempt.cancelRequested,
      timedOut: false,
      settled: Promise.resolve(),
      lastWriteMs: performance.now(),
    };
    this.runs.set(claim.id, run);
    if (attempt.takeEarlyCancel && this.earlyCancels.delete(claim.id)) run.cancelRequested = true;
    if (run.cancelRequested) run.controller.abort();
    run.settled = work(run)
      .catch((err: unknown) => this.logger.error({ err, migrationId: claim.id }, onError))
      .finally(() => {
        this.runs.delete(claim.id);
        this.slots.release(claim.id);
        this.listener.freed();
      });
    return run;
  }

  /** Aborts a running migration; false when this process does not run it (a claim under way then honours it). */
  abort(id: string): boolean {
    const run = this.runs.get(id);
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
    return this.runs.get(id)?.settled ?? Promise.resolve();
  }

  all(): RunningMigration[] {
    return [...this.runs.values()];
  }

  /** At most one progress write per migration every progressWriteIntervalMs, never two at once. */
  onProgress(run: RunningMigration, progress: MigrationProgress): void {
    run.latest = progress;
    const nowMs = performance.now();
    if (run.writing || nowMs - run.lastWriteMs < this.settings.progressWriteIntervalMs) return;
    run.lastWriteMs = nowMs;
    run.writing = this.queue
      .recordProgress(run.claim.id, run.claim.clusterId, run.attempt, progress, this.clock.now())
      .then(
        () => undefined,
        (err: unknown) => this.logger.warn({ err, migrationId: run.claim.id }, 'could not record migration progress'),
      )
      .finally(() => (run.writing = undefined));
  }

  /** Records how an attempt ended (nothing when it is left running for the next start). */
  async end(
    migration: LiveMigrationEntity,
    end: AttemptEnd,
    log: { attempts?: number; leftRunning?: string; pid?: number } = {},
  ): Promise<void> {
    const ids = { migrationId: migration.id, clusterId: migration.clusterId, vmId: migration.vmId };
    if (end.state === 'running') {
      const message =
        log.leftRunning ??
        (end.because === 'detached'
          ? 'migration left running at shutdown; the next start adopts it'
          : 'migration interrupted by shutdown; it is reconciled at the next start');
      this.logger.log({ ...ids, ...(log.pid !== undefined ? { pid: log.pid } : {}) }, message);
      return;
    }
    const written = await this.queue.recordEnd(migration, end, this.clock.now());
    if (written.fenced) {
      this.logger.warn(ids, "the attempt's end was not recorded: another replica owns the cluster now and settles the migration");
    } else if (written.state === 'succeeded') {
      const outcome = end.state === 'succeeded' ? end.outcome : null;
      this.logState(
        migration,
        'succeeded',
        outcome ? { downtimeMs: outcome.downtimeMs, durationSeconds: outcome.durationSeconds } : { note: written.error },
      );
    } else if (end.state === 'queued') {
      const retryAt = end.nextAttemptAt;
      this.logState(migration, 'queued', {
        error: end.error,
        attempts: log.attempts ?? migration.attempts,
        ...(retryAt !== null ? { retryAt: new Date(retryAt).toISOString() } : {}),
      });
      if (retryAt !== null) this.listener.retryDueAt(retryAt);
    } else if (written.state !== 'running') {
      this.logState(migration, written.state, written.error ? { error: written.error } : {});
    }
  }

  jobFor(migration: LiveMigrationEntity, vm: VmRef, source: HostRef, target: HostRef, dirtyRateMibPerSecond?: number): MigrationJob {
    const linkMibPerSecond = gbpsToMibPerSecond(Math.min(source.migrationGbps, target.migrationGbps));
    return {
      migrationId: migration.id,
      vm: { id: vm.id, name: vm.name, memoryMib: vm.memoryMib, ...(dirtyRateMibPerSecond !== undefined ? { dirtyRateMibPerSecond } : {}) },
      source: { id: source.id, name: source.name, address: source.address, migrationGbps: source.migrationGbps },
      target: { id: target.id, name: target.name, address: target.address, migrationGbps: target.migrationGbps },
      // The slower link, shared with the other migrations on the busier of the two hosts.
      bandwidthMibPerSecond: () => linkMibPerSecond / Math.max(1, this.slots.hostLoad(source.id), this.slots.hostLoad(target.id)),
    };
  }

  logState(
    migration: Pick<LiveMigrationEntity, 'id' | 'clusterId' | 'vmId'>,
    state: MigrationState,
    extra: Record<string, unknown> = {},
  ): void {
    this.logger.log(
      { migrationId: migration.id, clusterId: migration.clusterId, vmId: migration.vmId, state, ...extra },
      `migration ${state}`,
    );
  }
}
