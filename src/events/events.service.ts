import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { Page } from '../common/pagination';
import { jsonOf, jsonPage, type JsonSql, JsonText } from '../common/json-page';
import { Database } from '../database/database.service';
import { EventsSettings } from './events.settings';
import { Actor } from './actor';
import { EventEntity } from './event.entity';

export interface NewEvent {
  clusterId?: string | null;
  subjectType: string;
  subjectId?: string | null;
  type: string;
  message: string;
  data?: Record<string, unknown>;
  /** Who made the change, when an API request did (see RequestActor); background work leaves it out. */
  actor?: Actor | null;
}

export interface EventQuery {
  clusterId?: string;
  subjectId?: string;
  type?: string;
  from?: number;
  to?: number;
  limit?: number;
  offset?: number;
}

const PRUNE_JOB = 'event-retention';
const PRUNE_EVERY_MS = 3_600_000;

/** An event as the list shows it (the entity's columns; `data` and `actor` as the JSON they hold), built by SQLite. */
const EVENT_ITEM = jsonOf.object({
  id: jsonOf.column('id'),
  timestamp: jsonOf.column('timestamp'),
  clusterId: jsonOf.column('clusterId'),
  subjectType: jsonOf.column('subjectType'),
  subjectId: jsonOf.column('subjectId'),
  type: jsonOf.column('type'),
  message: jsonOf.column('message'),
  data: jsonOf.jsonText('data'),
  actor: jsonOf.jsonText('actor'),
} satisfies Record<keyof EventEntity, JsonSql>);

/** Records every decision and state change; old events are pruned after the configured retention. */
@Injectable()
export class EventsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Events');

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly settings: EventsSettings,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval(
      PRUNE_JOB,
      setInterval(() => void this.prune().catch((err: unknown) => this.logger.error({ err }, 'event pruning failed')), PRUNE_EVERY_MS),
    );
  }

  onApplicationShutdown(): void {
    if (this.scheduler.doesExist('interval', PRUNE_JOB)) this.scheduler.deleteInterval(PRUNE_JOB);
  }

  /** Inside a caller's transaction, so the event and the change it describes commit together. */
  async recordIn(m: EntityManager, events: NewEvent | NewEvent[]): Promise<void> {
    const list = Array.isArray(events) ? events : [events];
    if (list.length === 0) return;
    const timestamp = this.clock.now();
    for (let i = 0; i < list.length; i += 500) {
      await m.insert(
        EventEntity,
        list.slice(i, i + 500).map((e) => ({
          timestamp,
          clusterId: e.clusterId ?? null,
          subjectType: e.subjectType,
          subjectId: e.subjectId ?? null,
          type: e.type,
          message: e.message.slice(0, 2000),
          data: e.data ?? null,
          actor: e.actor ?? null,
        })) as never, // simple-json columns take plain objects; TypeORM's insert typing does not see that
      );
    }
    for (const e of list)
      this.logger.log({ clusterId: e.clusterId, subjectId: e.subjectId, event: e.type, actor: e.actor ?? undefined }, e.message);
  }

  record(events: NewEvent | NewEvent[]): Promise<void> {
    return this.db.transaction((m) => this.recordIn(m, events), { affects: [] });
  }

  list(query: EventQuery): Promise<JsonText<Page<EventEntity>>> {
    const { limit = 50, offset = 0 } = query;
    const conditions: [string, ...unknown[]][] = [];
    if (query.type) conditions.push(['type = ? OR type LIKE ?', query.type, `${query.type}.%`]);
    if (query.from !== undefined) conditions.push(['"timestamp" >= ?', query.from]);
    if (query.to !== undefined) conditions.push(['"timestamp" <= ?', query.to]);
    return jsonPage(this.db, {
      table: 'events',
      item: EVENT_ITEM,
      filters: { clusterId: query.clusterId || undefined, subjectId: query.subjectId || undefined },
      conditions,
      orderBy: '"timestamp" DESC, id DESC',
      limit,
      offset,
    });
  }

  async prune(): Promise<number> {
    const cutoff = this.clock.now() - this.settings.EVENT_RETENTION_DAYS * 86_400_000;
    return this.db.transaction(
      async (m) =>
        (await m.createQueryBuilder().delete().from(EventEntity).where('"timestamp" < :cutoff', { cutoff }).execute()).affected ?? 0,
    );
  }
}
