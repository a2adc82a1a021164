// Settles, at start, the migrations a crash or a shutdown left `running`: work the driver started that
// still runs is adopted and followed to its end; otherwise the driver says where each VM is.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { adoptedDeadlineMs, adoptedEnd, interruptedEnd, knownLocation, mayAdopt } from './attempt-outcome';
import { attemptLimitFor, ClusterDrivers, type LeasedDriver } from './cluster-drivers';
import type { AdoptedEnd, MigrationDriver, MigrationHandle, MigrationJob, VmLocation } from './drivers';
import type { LiveMigrationEntity } from './live-migration.entity';
import { MigrationQueue } from './migration-queue';
import { MIGRATION_SETTINGS, type MigrationEngineSettings } from './migration-settings';
import { RunningMigrations, type RunningMigration } from './running-migrations';

/** Migrations reconciled with the driver at once after a restart. */
const RECOVERY_CONCURRENCY = 8;

@Injectable()
export class MigrationRecovery {
  private readonly logger = new Logger('LiveMigration');

  constructor(
    private readonly queue: MigrationQueue,
    private readonly clock: Clock,
    @Inject(MIGRATION_SETTINGS) private readonly settings: MigrationEngineSettings,
    private readonly drivers: ClusterDrivers,
    private readonly running: RunningMigrations,
  ) {}

  /**
   * Migrations left `running` by a crash or a shutdown. Work the driver started that still runs (a
   * command) is adopted: the engine waits for it, and cancel stops it, before anything is decided.
   * Otherwise the driver says where each VM is, and each ends succeeded (VM on the target), back in
   * the queue (VM on its source, attempts left), or failed. `clusterId`: those of one cluster, when this
   * replica takes it over from another (shared database); null: all of them, at the start of a single process.
   */
  async recover(clusterId: string | null = null): Promise<void> {
    const stuck = await this.queue.leftRunning(clusterId);
    if (stuck.length === 0) return;
    this.logger.log(
      { migrations: stuck.length, ...(clusterId !== null ? { clusterId } : {}) },
      clusterId === null
        ? 'reconciling migrations left running by the previous run'
        : "reconciling migrations the cluster's previous owner left running",
    );
    for (let i = 0; i < stuck.length; i += RECOVERY_CONCURRENCY) {
      await Promise.all(stuck.slice(i, i + RECOVERY_CONCURRENCY).map((migration) => this.recoverOne(migration)));
    }
  }

  private async recoverOne(migration: LiveMigrationEntity): Promise<void> {
    let leased: LeasedDriver;
    try {
      leased = await this.drivers.lease(migration.clusterId);
    } catch (err) {
      // Another driver could not tell where the VM is and might start a second migration of it: left running.
      this.logger.error(
        { migrationId: migration.id, clusterId: migration.clusterId, vmId: migration.vmId, error: (err as Error).message },
        "migration left running: its cluster's migration driver cannot be had; it is reconciled at the next start",
      );
      return;
    }
    let adopted = false;
    try {
      adopted = await this.settle(migration, leased.driver, () => leased.release());
    } finally {
      if (!adopted) leased.release();
    }
  }

  /** True when the work was adopted (its lease is released once that work is over). */
  private async settle(migration: LiveMigrationEntity, driver: MigrationDriver, release: () => void): Promise<boolean> {
    const parties = await this.queue.withParties(migration.id);
    const { vm, source, target } = parties;
    if (vm && source && target && mayAdopt(parties, typeof driver.adopt === 'function')) {
      const job = this.running.jobFor(migration, vm, source, target);
      // Without a stored handle: maybe started just before the crash, before its identity was stored.
      // A handle whose command has ended meanwhile goes through adopt too, which reads its last output.
      const handle = migration.handle ?? (await driver.findLaunched?.(job).catch(() => null)) ?? null;
      if (handle) {
        if (!migration.handle) await this.queue.recordHandle(migration.id, migration.clusterId, null, handle, this.clock.now());
        this.adopt(migration, job, handle, driver, release);
        return true;
      }
    }
    let driverLocation: VmLocation = 'unknown';
    if (knownLocation(migration, parties) === null) {
      driverLocation = await driver.reconcile(this.running.jobFor(migration, vm!, source!, target!)).catch((): VmLocation => 'unknown');
    }
    await this.running.end(migration, interruptedEnd(migration, parties, driverLocation, driver.name, this.settings, this.clock.now()));
    return false;
  }

  /** Follows work a previous run started, holding its slots as if this run had started it. */
  private adopt(
    migration: LiveMigrationEntity,
    job: MigrationJob,
    handle: MigrationHandle,
    driver: MigrationDriver,
    release: () => void,
  ): void {
    const claim = {
      id: migration.id,
      clusterId: migration.clusterId,
      vmId: migration.vmId,
      sourceHostId: migration.sourceHostId,
      targetHostId: migration.targetHostId,
    };
    this.running.slots.take(claim);
    this.logger.log(
      { migrationId: migration.id, clusterId: migration.clusterId, vmId: migration.vmId, pid: handle.pid },
      'migration adopted: waiting for the command the previous run started',
    );
    // A cancel asked before the crash stops the work now.
    this.running.start(
      claim,
      {
        number: migration.attempts,
        maxAttempts: migration.maxAttempts,
        cancelRequested: migration.cancelRequestedAt !== null,
        takeEarlyCancel: false,
        adoptable: true,
      },
      (run) => this.followAdopted(run, migration, job, handle, driver).finally(release),
      'could not settle an adopted migration; it is reconciled at the next start',
    );
  }

  private async followAdopted(
    run: RunningMigration,
    migration: LiveMigrationEntity,
    job: MigrationJob,
    handle: MigrationHandle,
    driver: MigrationDriver,
  ): Promise<void> {
    const limit = attemptLimitFor(driver, this.settings);
    let ended: AdoptedEnd;
    try {
      ended = await driver.adopt!(job, handle, run.controller.signal, (progress) => this.running.onProgress(run, progress), {
        detach: run.detach.signal,
        deadlineMs: adoptedDeadlineMs(migration, limit.attemptLimitMs),
      });
    } catch (error) {
      ended = { status: 'ended', output: `driver error: ${(error as Error).message}` };
    }
    await run.writing;
    if (ended.status === 'detached') {
      await this.running.end(
        migration,
        { state: 'running', because: 'detached' },
        { leftRunning: 'adopted migration left running at shutdown', pid: handle.pid },
      );
      return;
    }
    const location = await driver.reconcile(job).catch((): VmLocation => 'unknown');
    const end = adoptedEnd(
      migration,
      handle,
      ended,
      location,
      run.cancelRequested,
      { driverName: driver.name, settings: { ...this.settings, ...limit } },
      this.clock.now(),
    );
    await this.running.end(migration, end);
  }
}
