import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { EntityManager, In, IsNull } from 'typeorm';
import { Clock } from '../common/clock';
import { findOr404 } from '../common/database-helpers';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Page } from '../common/pagination';
import { jsonPage, JsonText } from '../common/json-page';
import { Database } from '../database/database.service';
import { findVm, moveLookup } from '../inventory/inventory.repository';
import { CreateMigrationDto, ListMigrationsQuery, MigrationView } from './dto/migration.dto';
import { Actor } from '../events/actor';
import { EventsService } from '../events/events.service';
import { ACTIVE_MIGRATION_STATES, LiveMigrationEntity, MigrationState, MigrationTrigger } from './live-migration.entity';
import { cancelAction } from './attempt-outcome';
import { migrationEvent } from './migration-events';
import { MigrationDispatcher } from './migration-dispatcher';
import { countsByClusterAndState } from './migrations.repository';
import { MoveCheckPort } from './move-check-port';
import { MIGRATION_ITEM, toMigrationView } from './views';

/** A move to carry out, from whoever decided it. */
export interface MigrationRequest {
  vmId: string;
  targetHostId: string;
  trigger: MigrationTrigger;
  reason: string;
  /** 1–5, lower first; defaults: evacuation 1, manual 2, recommendation 3. */
  priority?: number;
  recommendationId?: string | null;
  /** Who asked through the API: named in the events of the request (queued, recommendation applied). */
  actor?: Actor | null;
  /**
   * The caller's own writes that stand or fall with the queued migration, run in its transaction
   * after the row is in (e.g. marking the recommendation it applies); throwing undoes the enqueue.
   */
  alongside?: (m: EntityManager, migration: LiveMigrationEntity) => Promise<void>;
}

/** A queued or running migration as the balancer accounts for it. */
export interface InFlightMigration {
  id: string;
  vmId: string;
  sourceHostId: string;
  targetHostId: string;
  /** Reserved on the target until the migration ends. */
  memoryMib: number;
  state: Extract<MigrationState, 'queued' | 'running'>;
}

const DEFAULT_PRIORITY: Record<MigrationTrigger, number> = { evacuation: 1, manual: 2, recommendation: 3 };
/** How long a cancel request waits for a running migration's driver to stop before answering 202. */
const CANCEL_WAIT_MS = 5000;

/** The migration queue as others see it: enqueue, list, cancel, and what is in flight. */
@Injectable()
export class LiveMigrationService {
  private readonly logger = new Logger('LiveMigration');

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly dispatcher: MigrationDispatcher,
    private readonly moveCheck: MoveCheckPort,
    private readonly events: EventsService,
  ) {}

  /**
   * A manual move from the API: refused with 409 or 422 and the balancer's reasons when the target
   * is not connected, lacks room, or a hard rule forbids it.
   */
  async requestMove(dto: CreateMigrationDto, actor: Actor): Promise<MigrationView> {
    const vm = await findVm(this.db.reader, dto.vmId);
    if (!vm) throw DomainError.unprocessable(`VM ${dto.vmId} does not exist`, 'vmId');
    const active = await this.db.reader.findOne(LiveMigrationEntity, { where: { vmId: vm.id, state: In([...ACTIVE_MIGRATION_STATES]) } });
    if (active) throw alreadyMigrating(vm.name, active.id, active.state);
    const check = await this.moveCheck.checkMove(dto.vmId, dto.targetHostId);
    if (!check.allowed) {
      throw new DomainError(
        check.status === 409 ? ErrorCode.Conflict : ErrorCode.Unprocessable,
        `${vm.name} cannot move to host ${dto.targetHostId}: ${check.reasons.join('; ')}`,
        check.reasons.map((message) => ({ field: 'targetHostId', message })),
        { reasons: check.reasons },
      );
    }
    const migration = await this.enqueue({
      vmId: dto.vmId,
      targetHostId: dto.targetHostId,
      trigger: 'manual',
      reason: dto.reason ?? 'manual move',
      priority: dto.priority,
      actor,
    });
    return toMigrationView(migration);
  }

  /**
   * Queues a move in one transaction. Checks only what keeps the queue sound (the VM and target
   * exist in one cluster, the target is connected, the VM has no other migration queued or running);
   * room and rules are the caller's to check (the balancer plans with them).
   */
  async enqueue(request: MigrationRequest): Promise<LiveMigrationEntity> {
    // Filled in as the VM is found: its cluster gets one more migration in flight.
    const affects = new Set<string>();
    const migration = await this.db.transaction(
      async (m) => {
        // The VM and its target in one read: this runs once per move of every balancing pass.
        const found = await moveLookup(m, request.vmId, request.targetHostId);
        if (!found) throw DomainError.unprocessable(`VM ${request.vmId} does not exist`, 'vmId');
        affects.add(found.clusterId);
        if (found.targetId === null) throw DomainError.unprocessable(`Host ${request.targetHostId} does not exist`, 'targetHostId');
        if (found.targetClusterId !== found.clusterId) {
          throw DomainError.unprocessable(`Host ${found.targetName} is in another cluster than ${found.vmName}`, 'targetHostId');
        }
        if (found.hostId === found.targetId)
          throw DomainError.conflict(`${found.vmName} already runs on ${found.targetName}`, 'targetHostId');
        if (found.targetState !== 'connected')
          throw DomainError.conflict(`Host ${found.targetName} is ${found.targetState}`, 'targetHostId');
        const active = await m.findOne(LiveMigrationEntity, {
          where: { vmId: request.vmId, state: In([...ACTIVE_MIGRATION_STATES]) },
          select: { id: true, state: true },
        });
        if (active) throw alreadyMigrating(found.vmName, active.id, active.state);
        const now = this.clock.now();
        const row: LiveMigrationEntity = {
          id: randomUUID(),
          clusterId: found.clusterId,
          vmId: request.vmId,
          sourceHostId: found.hostId,
          targetHostId: request.targetHostId,
          state: 'queued',
          memoryMib: found.memoryMib,
          trigger: request.trigger,
          reason: request.reason,
          priority: request.priority ?? DEFAULT_PRIORITY[request.trigger],
          recommendationId: request.recommendationId ?? null,
          driver: this.dispatcher.driverName,
          attempts: 0,
          maxAttempts: this.dispatcher.maxAttempts,
          createdAt: now,
          updatedAt: now,
          startedAt: null,
          finishedAt: null,
          nextAttemptAt: null,
          cancelRequestedAt: null,
          progressPercent: 0,
          precopyRound: null,
          copiedMib: 0,
          remainingMib: null,
          etaSeconds: null,
          downtimeMs: null,
          durationSeconds: null,
          handle: null,
          error: null,
          version: 1,
        };
        await m.createQueryBuilder().insert().into(LiveMigrationEntity).values(row).updateEntity(false).execute();
        await request.alongside?.(m, row);
        await this.events.recordIn(m, {
          ...migrationEvent(
            row,
            'queued',
            `${found.vmName}: migration to ${found.targetName} queued (${request.trigger}): ${request.reason}`,
            {
              priority: row.priority,
            },
          ),
          actor: request.actor ?? null,
        });
        return row;
      },
      { affects },
    );
    this.logger.log(
      {
        migrationId: migration.id,
        clusterId: migration.clusterId,
        vmId: migration.vmId,
        state: 'queued',
        trigger: migration.trigger,
        sourceHostId: migration.sourceHostId,
        targetHostId: migration.targetHostId,
      },
      'migration queued',
    );
    this.dispatcher.wake();
    return migration;
  }

  list(query: ListMigrationsQuery): Promise<JsonText<Page<MigrationView>>> {
    const { limit = 50, offset = 0, clusterId, vmId, hostId, state, trigger, from, to } = query;
    const conditions: [string, ...unknown[]][] = [];
    if (hostId) conditions.push(['"sourceHostId" = ? OR "targetHostId" = ?', hostId, hostId]);
    if (state && state.length > 0) conditions.push([`state IN (${state.map(() => '?').join(', ')})`, ...state]);
    if (from !== undefined) conditions.push(['"createdAt" >= ?', from]);
    if (to !== undefined) conditions.push(['"createdAt" < ?', to]);
    return jsonPage(this.db, {
      table: 'live_migrations',
      item: MIGRATION_ITEM,
      filters: { clusterId: clusterId || undefined, vmId: vmId || undefined, trigger: trigger || undefined },
      conditions,
      orderBy: '"createdAt" DESC, id ASC',
      limit,
      offset,
    });
  }

  async get(id: string): Promise<MigrationView> {
    return toMigrationView(await findOr404(this.db.reader, LiveMigrationEntity, id, 'Migration'));
  }

  /**
   * A queued migration is cancelled at once. A running one is aborted through its driver; the answer
   * waits a few seconds for the driver to stop (`final` false if it has not yet: it ends cancelled,
   * or succeeded if the switch-over won the race).
   */
  async cancel(id: string, actor: Actor): Promise<{ migration: MigrationView; final: boolean }> {
    for (;;) {
      const current = await findOr404(this.db.reader, LiveMigrationEntity, id, 'Migration');
      const now = this.clock.now();
      const action = cancelAction(current.state);
      if (action === 'cancel-now') {
        const result = await this.db.transaction(async (m) => {
          const update = await m.update(
            LiveMigrationEntity,
            { id, state: 'queued' },
            { state: 'cancelled', finishedAt: now, updatedAt: now, nextAttemptAt: null, etaSeconds: null, remainingMib: null },
          );
          if (update.affected) {
            await this.events.recordIn(m, {
              ...migrationEvent(current, 'cancelled', `Migration of VM ${current.vmId} cancelled while queued`),
              actor,
            });
          }
          return update;
        });
        if (!result.affected) continue; // It started meanwhile.
        this.logger.log({ migrationId: id, clusterId: current.clusterId, vmId: current.vmId, state: 'cancelled' }, 'migration cancelled');
        return { migration: await this.get(id), final: true };
      }
      if (action === 'request-stop') {
        // The driver ends it later (cancelled, or succeeded if the switch-over wins), with no actor: this event says who asked.
        const result = await this.db.transaction(async (m) => {
          const update = await m.update(
            LiveMigrationEntity,
            { id, state: 'running', cancelRequestedAt: IsNull() },
            { cancelRequestedAt: now, updatedAt: now },
          );
          if (update.affected) {
            const message = `Cancel of the running migration of VM ${current.vmId} requested`;
            await this.events.recordIn(m, { ...migrationEvent(current, 'cancel-requested', message), actor });
          }
          return update;
        });
        if (!result.affected && current.cancelRequestedAt === null) continue; // It ended or went back to the queue meanwhile.
        this.dispatcher.abort(id);
        await Promise.race([this.dispatcher.settled(id), delay(CANCEL_WAIT_MS, undefined, { ref: false })]);
        const after = await this.get(id);
        if (after.state === 'queued') continue; // The attempt failed meanwhile and was queued for a retry.
        return { migration: after, final: after.state !== 'running' };
      }
      throw new DomainError(
        ErrorCode.Conflict,
        `Migration ${id} already ended (${current.state}); only queued or running migrations can be cancelled`,
        [{ field: 'state', message: `the migration is ${current.state}` }],
      );
    }
  }

  /** Queued and running migrations of a cluster: their VMs must not move again, their targets hold the memory. */
  /** How many migrations each cluster has in each state. */
  countsByState(): Promise<{ clusterId: string; key: string; count: number }[]> {
    return countsByClusterAndState(this.db.reader);
  }

  async inFlight(clusterId: string): Promise<InFlightMigration[]> {
    const rows = await this.db.reader.find(LiveMigrationEntity, {
      where: { clusterId, state: In([...ACTIVE_MIGRATION_STATES]) },
      order: { priority: 'ASC', createdAt: 'ASC' },
    });
    return rows.map((r) => ({
      id: r.id,
      vmId: r.vmId,
      sourceHostId: r.sourceHostId,
      targetHostId: r.targetHostId,
      memoryMib: r.memoryMib,
      state: r.state as InFlightMigration['state'],
    }));
  }
}

/** The recommendation a move carries out, if it is still pending: a superseded or dismissed one is not carried out. */
function alreadyMigrating(vmName: string, migrationId: string, state: string): DomainError {
  return new DomainError(
    ErrorCode.Conflict,
    `${vmName} is already migrating (migration ${migrationId} is ${state}); one migration per VM at a time`,
    [{ field: 'vmId', message: `${vmName} already has a ${state} migration` }],
    { migrationId },
  );
}
