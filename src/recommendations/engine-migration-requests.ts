import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Actor } from '../events/actor';
import { EventsService } from '../events/events.service';
import { LiveMigrationEntity } from '../live-migration/live-migration.entity';
import { LiveMigrationService } from '../live-migration/live-migration.service';
import { MigrationRequests, MoveRequest } from './migration-requests';
import { RecommendationEntity } from './recommendation.entity';

/** Recommendations become migrations through the engine's queue. */
@Injectable()
export class EngineMigrationRequests extends MigrationRequests {
  constructor(
    private readonly engine: LiveMigrationService,
    private readonly events: EventsService,
  ) {
    super();
  }

  async request(move: MoveRequest): Promise<string> {
    const migration = await this.engine.enqueue({
      ...move,
      alongside: (m, queued) => this.markApplied(m, move.recommendationId, queued, move.actor ?? null),
    });
    return migration.id;
  }

  /**
   * A recommendation is marked applied in the transaction that queues its migration: with two
   * transactions, a crash (or a failed write) between them left it pending, then superseded, while
   * its move went ahead, and kept its VM out of the cooldown that stops the balancer moving it back.
   */
  private async markApplied(m: EntityManager, id: string, migration: LiveMigrationEntity, actor: Actor | null): Promise<void> {
    const rec = await m.findOne(RecommendationEntity, { where: { id } });
    if (!rec) throw DomainError.unprocessable(`Recommendation ${id} does not exist`, 'recommendationId');
    if (rec.status !== 'pending') {
      throw new DomainError(ErrorCode.Conflict, `Recommendation ${id} is ${rec.status}; only a pending one can be applied`, [
        { field: 'recommendationId', message: `the recommendation is ${rec.status}` },
      ]);
    }
    await m.update(
      RecommendationEntity,
      { id: rec.id, status: 'pending' },
      { status: 'applied', migrationId: migration.id, decidedAt: migration.createdAt },
    );
    await this.events.recordIn(m, {
      clusterId: rec.clusterId,
      subjectType: 'recommendation',
      subjectId: rec.id,
      type: 'recommendation.applied',
      message: `Applied: ${rec.explanation}`,
      data: { vmId: rec.vmId, fromHostId: rec.fromHostId, toHostId: rec.toHostId, migrationId: migration.id },
      actor,
    });
  }
}
