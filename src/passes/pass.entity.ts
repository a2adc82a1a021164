import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Actor } from '../events/actor';

export const PASS_TRIGGERS = ['interval', 'manual', 'maintenance', 'rule-change'] as const;
export type PassTrigger = (typeof PASS_TRIGGERS)[number];
/**
 * `skipped`: the database was unavailable (locked, disk full), or a guard held the pass back (a degraded connector), so it planned nothing.
 * `requested`: asked of a replica that does not own the cluster (shared database); the owner runs it.
 */
export type PassStatus = 'requested' | 'running' | 'completed' | 'failed' | 'skipped';

export interface SkippedMove {
  vmId: string;
  vmName: string;
  reason: string;
}

/** One balancing pass (a DRS invocation) of one cluster: what it saw, what it decided, what it did. */
@Entity('passes')
@Index('IDX_passes_cluster_started', ['clusterId', 'startedAt'])
export class PassEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('varchar')
  clusterId: string;

  @Column('varchar', { length: 16 })
  trigger: PassTrigger;

  @Column('varchar', { length: 16 })
  status: PassStatus;

  /** Epoch ms. */
  @Column('integer')
  startedAt: number;

  @Column('integer', { nullable: true })
  finishedAt: number | null;

  @Column('real', { nullable: true })
  imbalanceBefore: number | null;

  /** Predicted, if every recommended move is made. */
  @Column('real', { nullable: true })
  imbalanceAfter: number | null;

  @Column('real', { nullable: true })
  target: number | null;

  @Column('integer', { default: 0 })
  movesRecommended: number;

  @Column('integer', { default: 0 })
  movesApplied: number;

  @Column('integer', { default: 0 })
  movesSkipped: number;

  @Column('simple-json')
  skipped: SkippedMove[];

  /** Why the pass did less than it could: a blackout window, dry run, manual automation, an error. */
  @Column('varchar', { length: 2000, default: '' })
  notes: string;

  /** Who asked for a pass another replica runs (the owner of the cluster names them in its events). */
  @Column('simple-json', { nullable: true, select: false })
  requestedBy: Actor | null;
}
