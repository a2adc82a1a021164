import { Column, Entity, Index, PrimaryGeneratedColumn, VersionColumn } from 'typeorm';
import type { MigrationHandle } from './drivers/migration-driver';

export const MIGRATION_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];
/** Queued and running migrations hold their target's memory and keep their VM from moving again. */
export const ACTIVE_MIGRATION_STATES: readonly MigrationState[] = ['queued', 'running'];

export const MIGRATION_TRIGGERS = ['manual', 'recommendation', 'evacuation'] as const;
export type MigrationTrigger = (typeof MIGRATION_TRIGGERS)[number];

/**
 * One live migration, from the request to its end: `queued → running → succeeded | failed | cancelled`
 * (a transient failure puts it back to `queued` until its attempts run out). Times are epoch
 * milliseconds. No foreign keys: the history outlives deleted VMs and hosts.
 */
@Entity('live_migrations')
@Index('IDX_live_migrations_state', ['state'])
@Index('IDX_live_migrations_cluster_created', ['clusterId', 'createdAt'])
@Index('IDX_live_migrations_vm', ['vmId'])
// The list of all migrations, newest first; a cluster's migrations in flight (every balance snapshot).
@Index('IDX_live_migrations_created', ['createdAt'])
@Index('IDX_live_migrations_cluster_state', ['clusterId', 'state'])
export class LiveMigrationEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('varchar')
  clusterId: string;

  @Column('varchar')
  vmId: string;

  @Column('varchar')
  sourceHostId: string;

  @Column('varchar')
  targetHostId: string;

  @Column('varchar', { length: 16 })
  state: MigrationState;

  /** The VM's configured memory, reserved on the target while the migration is queued or running. */
  @Column('integer')
  memoryMib: number;

  /** Who asked. */
  @Column('varchar', { length: 16 })
  trigger: MigrationTrigger;

  /** Why, in words. */
  @Column('text', { default: '' })
  reason: string;

  /** 1 (mandatory: evacuation, hard rule) to 5; lower runs first, then older first. */
  @Column('integer', { default: 3 })
  priority: number;

  @Column('varchar', { nullable: true })
  recommendationId: string | null;

  /** The driver that ran (or runs) it, from configuration. */
  @Column('varchar', { length: 32 })
  driver: string;

  /** Attempts started so far. */
  @Column('integer', { default: 0 })
  attempts: number;

  @Column('integer')
  maxAttempts: number;

  @Column('integer')
  createdAt: number;

  @Column('integer')
  updatedAt: number;

  /** Start of the latest attempt. */
  @Column('integer', { nullable: true })
  startedAt: number | null;

  @Column('integer', { nullable: true })
  finishedAt: number | null;

  /** A queued retry waits until then. */
  @Column('integer', { nullable: true })
  nextAttemptAt: number | null;

  /** Someone asked to cancel it while it ran; it ends as cancelled once the driver has stopped. */
  @Column('integer', { nullable: true })
  cancelRequestedAt: number | null;

  @Column('real', { default: 0 })
  progressPercent: number;

  /** Pre-copy round in progress (0 = the full memory copy). */
  @Column('integer', { nullable: true })
  precopyRound: number | null;

  @Column('real', { default: 0 })
  copiedMib: number;

  @Column('real', { nullable: true })
  remainingMib: number | null;

  /** Wall-clock seconds left, as the driver estimates them. */
  @Column('real', { nullable: true })
  etaSeconds: number | null;

  /** Switch-over stun of the successful attempt. */
  @Column('real', { nullable: true })
  downtimeMs: number | null;

  /** Pre-copy plus switch-over of the successful attempt, as the driver reports it (simulated seconds for the simulated driver). */
  @Column('real', { nullable: true })
  durationSeconds: number | null;

  /**
   * What the driver started for the running attempt ({kind: 'process', pid, startTime, pgid, bootId}
   * for the command driver), stored before the attempt counts as started: after a restart the engine
   * waits for that work instead of starting another. Null once the attempt is over.
   */
  @Column('simple-json', { nullable: true })
  handle: MigrationHandle | null;

  /** Why the latest attempt failed (kept when a retry is queued). */
  @Column('text', { nullable: true })
  error: string | null;

  @VersionColumn()
  version: number;
}
