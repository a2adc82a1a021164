import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Actor } from './actor';

/** The audit trail: one row per decision or state change, kept for a configurable time. */
@Entity('events')
@Index('IDX_events_cluster_time', ['clusterId', 'timestamp'])
@Index('IDX_events_time', ['timestamp'])
export class EventEntity {
  @PrimaryGeneratedColumn('increment')
  id: number;

  /** Epoch milliseconds. */
  @Column('integer')
  timestamp: number;

  @Column('varchar', { nullable: true })
  clusterId: string | null;

  /** What the event is about: cluster, host, vm, pass, recommendation, migration, policy. */
  @Column('varchar', { length: 32 })
  subjectType: string;

  @Column('varchar', { nullable: true })
  subjectId: string | null;

  /** Dotted type, e.g. `pass.completed`, `migration.succeeded`, `host.maintenance.entered`. */
  @Column('varchar', { length: 64 })
  type: string;

  @Column('varchar', { length: 2000 })
  message: string;

  @Column('simple-json', { nullable: true })
  data: Record<string, unknown> | null;

  /** Who made the change through the API; null for background work. */
  @Column('simple-json', { nullable: true })
  actor: Actor | null;
}
