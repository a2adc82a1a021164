import { Injectable } from '@nestjs/common';
import { EntityManager, MoreThanOrEqual } from 'typeorm';
import type { Plan } from '../balancer/core';
import { BalancerService } from '../balancer/balancer.service';
import { Clock } from '../common/clock';
import { findOr404 } from '../common/database-helpers';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Page } from '../common/pagination';
import { jsonOf, jsonPage, type JsonSql, JsonText } from '../common/json-page';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { EventsService } from '../events/events.service';
import { findVm } from '../inventory/inventory.repository';
import { MigrationRequests } from './migration-requests';
import { RecommendationEntity, RecommendationStatus } from './recommendation.entity';
import { countsByClusterAndStatus } from './recommendations.repository';

export interface RecommendationQuery {
  clusterId?: string;
  status?: RecommendationStatus;
  vmId?: string;
  passId?: string;
  limit?: number;
  offset?: number;
}

/** A recommendation as the API shows it (its columns as stored), built by SQLite for list pages. */
const RECOMMENDATION_ITEM = jsonOf.object({
  id: jsonOf.column('id'),
  clusterId: jsonOf.column('clusterId'),
  passId: jsonOf.column('passId'),
  vmId: jsonOf.column('vmId'),
  vmName: jsonOf.column('vmName'),
  fromHostId: jsonOf.column('fromHostId'),
  toHostId: jsonOf.column('toHostId'),
  priority: jsonOf.column('priority'),
  reason: jsonOf.column('reason'),
  explanation: jsonOf.column('explanation'),
  gain: jsonOf.real('gain'),
  cost: jsonOf.real('cost'),
  imbalanceAfter: jsonOf.real('imbalanceAfter'),
  groupId: jsonOf.column('groupId'),
  status: jsonOf.column('status'),
  migrationId: jsonOf.column('migrationId'),
  createdAt: jsonOf.column('createdAt'),
  decidedAt: jsonOf.column('decidedAt'),
  version: jsonOf.column('version'),
} satisfies Record<keyof RecommendationEntity, JsonSql>);

@Injectable()
export class RecommendationsService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly events: EventsService,
    private readonly migrations: MigrationRequests,
    private readonly balancer: BalancerService,
  ) {}

  list(query: RecommendationQuery): Promise<JsonText<Page<RecommendationEntity>>> {
    const { limit = 50, offset = 0, clusterId, status, vmId, passId } = query;
    return jsonPage(this.db, {
      table: 'recommendations',
      item: RECOMMENDATION_ITEM,
      filters: { clusterId, status, vmId, passId },
      orderBy: '"createdAt" DESC, priority ASC, id ASC',
      // Unfiltered, SQLite would rather sort the whole table than walk the createdAt index (three sort keys).
      indexedBy: [clusterId, status, vmId, passId].every((f) => f === undefined) ? 'IDX_recommendations_created' : undefined,
      limit,
      offset,
    });
  }

  get(id: string): Promise<RecommendationEntity> {
    return findOr404(this.db.reader, RecommendationEntity, id, 'Recommendation');
  }

  /**
   * Starts the migration of a pending recommendation (with the rest of its affinity group). A
   * recommendation whose VM has left its source meanwhile is expired instead: acting on it would
   * be acting on a world that is gone. An operator's apply, which may come long after the pass,
   * is checked again against room and hard rules; a pass applies its own plan as planned.
   */
  async apply(id: string, options: { recheck: boolean; actor: Actor | null }): Promise<RecommendationEntity> {
    const rec = await this.requirePending(id, 'apply');
    if (options.recheck && !rec.groupId) {
      const check = await this.balancer.checkMove(rec.vmId, rec.toHostId);
      if (!check.allowed) {
        throw new DomainError(
          check.status === 409 ? ErrorCode.Conflict : ErrorCode.Unprocessable,
          `${rec.vmName} cannot move as recommended any more: ${check.reasons.join('; ')}`,
          [],
          { reasons: check.reasons },
        );
      }
    }
    const group = rec.groupId
      ? await this.db.reader.find(RecommendationEntity, {
          where: { groupId: rec.groupId, passId: rec.passId, status: 'pending' },
          order: { vmName: 'ASC' },
        })
      : [rec];
    for (const member of group) {
      const vm = await findVm(this.db.reader, member.vmId);
      if (!vm || vm.hostId !== member.fromHostId) {
        await this.settle(
          member,
          'expired',
          null,
          `${member.vmName} is no longer on the host the recommendation moves it from`,
          options.actor,
        );
        throw new DomainError(
          ErrorCode.Conflict,
          `Recommendation ${member.id} expired: ${member.vmName} has moved or gone since it was made`,
        );
      }
    }
    for (const member of group) {
      const migrationId = await this.migrations.request({
        vmId: member.vmId,
        targetHostId: member.toHostId,
        trigger: member.reason === 'maintenance' ? 'evacuation' : 'recommendation',
        priority: member.priority,
        reason: member.explanation,
        recommendationId: member.id,
        actor: options.actor,
      });
      await this.settle(member, 'applied', migrationId, `Applied: ${member.explanation}`, options.actor);
    }
    return this.get(id);
  }

  async dismiss(id: string, actor: Actor): Promise<RecommendationEntity> {
    const rec = await this.requirePending(id, 'dismiss');
    await this.settle(rec, 'dismissed', null, `Dismissed: move of ${rec.vmName}`, actor);
    return this.get(id);
  }

  /** Marks the outcome, if it is still pending (a concurrent pass may have superseded it). */
  async settle(
    rec: RecommendationEntity,
    status: RecommendationStatus,
    migrationId: string | null,
    message: string,
    actor: Actor | null = null,
  ): Promise<void> {
    await this.db.transaction(
      async (m) => {
        const result = await m.update(
          RecommendationEntity,
          { id: rec.id, status: 'pending' },
          { status, migrationId, decidedAt: this.clock.now() },
        );
        if (!result.affected) return;
        await this.events.recordIn(m, {
          clusterId: rec.clusterId,
          subjectType: 'recommendation',
          subjectId: rec.id,
          type: `recommendation.${status}`,
          message,
          data: { vmId: rec.vmId, fromHostId: rec.fromHostId, toHostId: rec.toHostId, migrationId },
          actor,
        });
      },
      { affects: [] },
    ); // a recommendation's status is no input of the balance; its migration is queued apart
  }

  private async requirePending(id: string, action: string): Promise<RecommendationEntity> {
    const rec = await this.get(id);
    if (rec.status !== 'pending') {
      throw new DomainError(
        ErrorCode.Conflict,
        `Recommendation ${id} is ${rec.status}; only a pending one can be ${action === 'apply' ? 'applied' : 'dismissed'}`,
      );
    }
    return rec;
  }

  /**
   * A pass's moves become its recommendations, in the pass's transaction; pending ones of earlier
   * passes are superseded. Returned in the order of `moves`.
   */
  async recordForPass(
    m: EntityManager,
    clusterId: string,
    passId: string,
    moves: Plan['moves'],
    at: number,
  ): Promise<RecommendationEntity[]> {
    await m.update(RecommendationEntity, { clusterId, status: 'pending' }, { status: 'superseded', decidedAt: at });
    return m.save(
      moves.map((move) =>
        m.create(RecommendationEntity, {
          clusterId,
          passId,
          vmId: move.vmId,
          vmName: move.vmName,
          fromHostId: move.fromHostId,
          toHostId: move.toHostId,
          priority: move.priority,
          reason: move.reason,
          explanation: move.explanation,
          gain: move.gain,
          cost: move.cost,
          imbalanceAfter: move.imbalanceAfter,
          groupId: move.groupId ?? null,
          status: 'pending',
          migrationId: null,
          createdAt: at,
          decidedAt: null,
        }),
      ),
      { chunk: 200 },
    );
  }

  /** How many recommendations each cluster has in each status. */
  countsByStatus(): Promise<{ clusterId: string; key: string; count: number }[]> {
    return countsByClusterAndStatus(this.db.reader);
  }

  countApplied(passId: string): Promise<number> {
    return this.db.reader.count(RecommendationEntity, { where: { passId, status: 'applied' } });
  }

  /** VMs whose recommendation was applied at or after `since` (epoch ms). */
  async appliedSince(clusterId: string, since: number): Promise<Set<string>> {
    const rows = await this.db.reader.find(RecommendationEntity, {
      where: { clusterId, status: 'applied', decidedAt: MoreThanOrEqual(since) },
      select: { vmId: true },
    });
    return new Set(rows.map((r) => r.vmId));
  }
}
