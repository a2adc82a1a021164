// The migration engine's reads and writes (the MigrationQueue port, see migration-queue.ts): the queue
// (live_migrations, each change with its audit event in the same transaction); the VM's host when a
// migration succeeds, the policies' caps and the samples' dirty rates come from their owners.
import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { EntityManager, In, IsNull, Not } from 'typeorm';
import { Database } from '../database/database.service';
import { execute, placeholdersFor, selectRows } from '../database/dialect';
import { EventsService } from '../events/events.service';
import { hostExists, migrationParties, vmHostId } from '../inventory/inventory.repository';
import { allPolicySettings } from '../policies/policies.repository';
import { averageDirtyRate } from '../samples/samples.repository';
import { claimDecision, type RecordedEnd, type VmRef } from './attempt-outcome';
import { CommitGroup } from './commit-group';
import type { MigrationHandle, MigrationProgress } from './drivers';
import { type Claimed, type ClaimResult, MigrationQueue, type PolicyCaps, type WithParties, type WrittenEnd } from './migration-queue';
import { LiveMigrationEntity } from './live-migration.entity';
import { migrationEvent } from './migration-events';
import type { SlotClaim } from './slots';
import { VmsService } from '../inventory/vms.service';
import { ClusterOwnership } from '../replicas/cluster-ownership';

/** Tries at recording the end of an attempt before leaving it to the next start's reconciliation. */
const END_WRITE_ATTEMPTS = 5;
export const TARGET_DELETED =
  'the driver finished, but the target host was deleted from the inventory meanwhile: the VM stays recorded on its source until the next inventory sync';
/** Values written when an attempt ends, whatever its outcome: no estimate survives it, nor the handle of its work. */
const ATTEMPT_OVER = { etaSeconds: null, remainingMib: null, handle: null } as const;

type Write = (m: EntityManager) => Promise<unknown>;
/** A write and the cluster whose balancing inputs (the VM's host, the migrations in flight) it changes. */
type ClusterWrite = { clusterId: string; write: Write };

@Injectable()
export class MigrationQueueRepository extends MigrationQueue {
  private readonly logger = new Logger('LiveMigration');
  /** Ends of migrations, and progress, each group-committed: a burst costs one transaction. */
  private readonly endings: CommitGroup<ClusterWrite>;
  private readonly progressWrites: CommitGroup<Write>;

  constructor(
    private readonly db: Database,
    private readonly events: EventsService,
    private readonly vms: VmsService,
    private readonly ownership: ClusterOwnership,
  ) {
    super();
    this.endings = new CommitGroup((writes: ClusterWrite[]) =>
      this.db.transaction(
        async (m) => {
          for (const { write } of writes) await write(m);
        },
        { affects: writes.map((w) => w.clusterId) },
      ),
    );
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

  async policyCaps(): Promise<PolicyCaps[]> {
    const rows = await allPolicySettings(this.db.reader);
    return rows.map(({ clusterId, settings }) => ({
      clusterId,
      ...(typeof settings.maxConcurrentPerHost === 'number' ? { perHost: settings.maxConcurrentPerHost } : {}),
      ...(typeof settings.maxConcurrentPerCluster === 'number' ? { perCluster: settings.maxConcurrentPerCluster } : {}),
    }));
  }

  async due(
    nowMs: number,
    full: { hostIds: string[]; clusterIds: string[] },
    limit: number,
    clusters: string[] | null,
  ): Promise<SlotClaim[]> {
    const params: unknown[] = [nowMs];
    const notIn = (column: string, ids: string[]) => {
      if (ids.length === 0) return '';
      params.push(...ids);
      return ` AND "${column}" NOT IN (${placeholdersFor(ids.length)})`;
    };
    let where = notIn('clusterId', full.clusterIds) + notIn('sourceHostId', full.hostIds) + notIn('targetHostId', full.hostIds);
    if (clusters !== null) {
      if (clusters.length === 0) return [];
      params.push(...clusters);
      where += ` AND "clusterId" IN (${placeholdersFor(clusters.length)})`;
    }
    params.push(limit);
    return selectRows(
      this.db.reader,
      `SELECT id, "clusterId", "vmId", "sourceHostId", "targetHostId" FROM live_migrations
        WHERE state = 'queued' AND ("nextAttemptAt" IS NULL OR "nextAttemptAt" <= ?)${where}
        ORDER BY priority, "createdAt", id LIMIT ?`,
      params,
    );
  }

  async claim(driverNames: ReadonlyMap<string, string>, now: number): Promise<ClaimResult> {
    const ids = [...driverNames.keys()];
    const ended: ClaimResult['ended'] = [];
    const affects = new Set<string>();
    const started = await this.db.transaction(
      async (m) => {
        // Written again when the transaction is retried (PostgreSQL, a conflicting writer elsewhere).
        ended.length = 0;
        const result = new Map<string, Claimed>();
        const fenced = new Map<string, boolean>();
        for (const { migration, vm, source, target } of await this.partiesOf(m, ids)) {
          if (migration.state !== 'queued') continue;
          // A replica that lost the cluster's lease (paused, cut off) starts nothing there: the new owner does.
          if (!fenced.has(migration.clusterId)) fenced.set(migration.clusterId, await this.ownership.fenced(m, migration.clusterId));
          if (fenced.get(migration.clusterId)) continue;
          affects.add(migration.clusterId);
          const decision = claimDecision(migration, { vm, source, target });
          if (!decision.start) {
            const error = decision.error !== null ? { error: decision.error } : {};
            await m.update(
              LiveMigrationEntity,
              { id: migration.id, state: 'queued' },
              { state: decision.state, finishedAt: now, updatedAt: now, nextAttemptAt: null, ...error, ...ATTEMPT_OVER },
            );
            const name = vm?.name ?? migration.vmId;
            const message =
              decision.error === null ? `Migration of ${name} cancelled` : `Migration of ${name} could not start: ${decision.error}`;
            await this.events.recordIn(m, migrationEvent(migration, decision.state, message));
            ended.push({ migration, state: decision.state, error: decision.error });
            continue;
          }
          const attempt = migration.attempts + 1;
          result.set(migration.id, { migration, attempt, vm: vm!, source: source!, target: target! });
          await this.events.recordIn(
            m,
            migrationEvent(
              migration,
              'started',
              `${vm!.name} is migrating from ${source!.name} to ${target!.name} (attempt ${attempt}): ${migration.reason}`,
            ),
          );
        }
        const byDriver = new Map<string, string[]>();
        for (const id of result.keys()) {
          const name = driverNames.get(id)!;
          byDriver.set(name, [...(byDriver.get(name) ?? []), id]);
        }
        for (const [driverName, startedIds] of byDriver) {
          await execute(
            m,
            `UPDATE live_migrations SET state = 'running', attempts = attempts + 1, "startedAt" = ?, "finishedAt" = NULL,
             "nextAttemptAt" = NULL, "updatedAt" = ?, driver = ?, "progressPercent" = 0, "precopyRound" = 0, "copiedMib" = 0,
             "remainingMib" = NULL, "etaSeconds" = NULL, handle = NULL, version = version + 1
           WHERE state = 'queued' AND id IN (${placeholdersFor(startedIds.length)})`,
            [now, now, driverName, ...startedIds],
          );
        }
        return result;
      },
      { affects },
    );
    return { started, ended };
  }

  async recordHandle(id: string, clusterId: string, attempt: number | null, handle: MigrationHandle, now: number): Promise<boolean> {
    const result = await this.db.transaction(
      async (m) =>
        (await this.ownership.fenced(m, clusterId))
          ? { affected: 0 }
          : m.update(
              LiveMigrationEntity,
              { id, state: 'running', ...(attempt !== null ? { attempts: attempt } : {}) },
              { handle, updatedAt: now },
            ),
      { affects: [] },
    );
    return Boolean(result.affected);
  }

  recordProgress(id: string, clusterId: string, attempt: number, p: MigrationProgress, now: number): Promise<void> {
    return this.progressWrites.add(async (m) => {
      if (await this.ownership.fenced(m, clusterId)) return;
      await m.update(
        LiveMigrationEntity,
        { id, state: 'running', attempts: attempt },
        {
          progressPercent: p.percent,
          precopyRound: p.round,
          copiedMib: p.copiedMib,
          remainingMib: p.remainingMib,
          etaSeconds: p.etaSeconds,
          updatedAt: now,
        },
      );
    });
  }

  async recordEnd(migration: LiveMigrationEntity, end: RecordedEnd, now: number): Promise<WrittenEnd> {
    let written: WrittenEnd = { state: end.state, error: end.state === 'succeeded' ? end.note : end.error };
    await this.withRetries(migration.clusterId, async (m) => {
      // Another replica owns the cluster now: it settled, or settles, this migration from what the driver says.
      if (await this.ownership.fenced(m, migration.clusterId)) {
        written = { state: 'running', error: null, fenced: true };
        return;
      }
      if (end.state === 'succeeded') written = await this.succeed(m, migration, end, now);
      else if (end.state === 'queued') await this.requeue(m, migration, end.nextAttemptAt, end.error, now);
      else await this.endAs(m, migration, end.state, end.error, now);
    });
    return written;
  }

  async nextRetryAt(nowMs: number): Promise<number | null> {
    const [{ next }] = await selectRows<{ next: number | null }>(
      this.db.reader,
      `SELECT MIN("nextAttemptAt") AS next FROM live_migrations WHERE state = 'queued' AND "nextAttemptAt" > ?`,
      [nowMs],
    );
    return next;
  }

  leftRunning(clusterId: string | null): Promise<LiveMigrationEntity[]> {
    const where = clusterId === null ? { state: 'running' as const } : { state: 'running' as const, clusterId };
    return this.db.reader.find(LiveMigrationEntity, { where, order: { createdAt: 'ASC' } });
  }

  async withParties(id: string): Promise<WithParties> {
    const [found] = await this.partiesOf(this.db.reader, [id]);
    return found;
  }

  async cancelRequested(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.reader.find(LiveMigrationEntity, {
      where: { id: In(ids), state: 'running', cancelRequestedAt: Not(IsNull()) },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  async dirtyRate(vm: VmRef, sinceMs: number): Promise<number | undefined> {
    return averageDirtyRate(this.db.reader, vm.clusterId, vm.id, sinceMs);
  }

  async drain(): Promise<void> {
    await this.progressWrites.drain();
    await this.endings.drain();
  }

  /**
   * The end of an attempt must reach the database, or the migration would look running until the
   * next start: a failed write (the disk busy or full) is tried again a few times.
   */
  private async withRetries(clusterId: string, write: Write): Promise<void> {
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

  /**
   * The VM changes host in the same transaction that marks the migration succeeded. If the target
   * was deleted from the inventory meanwhile, the VM cannot be recorded there: the migration fails,
   * saying so, and the VM stays recorded on its source until the next inventory sync.
   */
  private async succeed(
    m: EntityManager,
    migration: LiveMigrationEntity,
    { outcome, note }: Extract<RecordedEnd, { state: 'succeeded' }>,
    now: number,
  ): Promise<WrittenEnd> {
    const targetGone = !(await hostExists(m, migration.targetHostId));
    if (targetGone) {
      await m.update(
        LiveMigrationEntity,
        { id: migration.id, state: 'running' },
        { state: 'failed', finishedAt: now, updatedAt: now, error: TARGET_DELETED, ...ATTEMPT_OVER },
      );
      await this.events.recordIn(m, migrationEvent(migration, 'failed', `Migration of VM ${migration.vmId} failed: ${TARGET_DELETED}`));
      return { state: 'failed', error: TARGET_DELETED };
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
    return { state: 'succeeded', error: note };
  }

  private async moveVm(m: EntityManager, migration: LiveMigrationEntity): Promise<void> {
    const hostId = await vmHostId(m, migration.vmId);
    if (hostId === null) {
      this.logger.warn({ migrationId: migration.id, vmId: migration.vmId }, 'migrated VM was deleted meanwhile; nothing to move');
      return;
    }
    if (hostId === migration.targetHostId) return;
    if (hostId !== migration.sourceHostId) {
      this.logger.warn(
        { migrationId: migration.id, vmId: migration.vmId, recordedHostId: hostId },
        'VM was recorded on another host than the migration source; the driver put it on the target',
      );
    }
    await this.vms.recordHost(m, migration.vmId, migration.targetHostId);
  }

  private async endAs(
    m: EntityManager,
    migration: LiveMigrationEntity,
    state: 'failed' | 'cancelled',
    error: string | null,
    now: number,
  ): Promise<void> {
    await m.update(
      LiveMigrationEntity,
      { id: migration.id, state: 'running' },
      { state, finishedAt: now, updatedAt: now, error, ...ATTEMPT_OVER },
    );
    const message = `Migration of VM ${migration.vmId} ${state}${error ? `: ${error}` : ''}; it stays on its source`;
    await this.events.recordIn(m, migrationEvent(migration, state, message));
  }

  private async requeue(
    m: EntityManager,
    migration: LiveMigrationEntity,
    nextAttemptAt: number | null,
    error: string,
    now: number,
  ): Promise<void> {
    await m.update(
      LiveMigrationEntity,
      { id: migration.id, state: 'running' },
      { state: 'queued', nextAttemptAt, updatedAt: now, error, progressPercent: 0, precopyRound: null, copiedMib: 0, ...ATTEMPT_OVER },
    );
    await this.events.recordIn(m, migrationEvent(migration, 'retry', `Migration of VM ${migration.vmId} will be tried again: ${error}`));
  }

  /** The migrations with their VM and hosts (null where deleted). */
  private async partiesOf(m: EntityManager, ids: string[]): Promise<WithParties[]> {
    const out: WithParties[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const migrations = await m.find(LiveMigrationEntity, { where: { id: In(ids.slice(i, i + 500)) } });
      const { vms, hosts } = await migrationParties(
        m,
        [...new Set(migrations.map((x) => x.vmId))],
        [...new Set(migrations.flatMap((x) => [x.sourceHostId, x.targetHostId]))],
      );
      for (const migration of migrations) {
        out.push({
          migration,
          vm: vms.get(migration.vmId) ?? null,
          source: hosts.get(migration.sourceHostId) ?? null,
          target: hosts.get(migration.targetHostId) ?? null,
        });
      }
    }
    return out;
  }
}
