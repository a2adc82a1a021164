import { Column, Entity, Index, PrimaryGeneratedColumn, VersionColumn } from 'typeorm';

export const RECOMMENDATION_STATUSES = ['pending', 'applied', 'dismissed', 'superseded', 'expired'] as const;
export type RecommendationStatus = (typeof RECOMMENDATION_STATUSES)[number];

/** One move a pass proposed, and what became of it. */
@Entity('recommendations')
@Index('IDX_recommendations_cluster_status', ['clusterId', 'status'])
@Index('IDX_recommendations_vm', ['vmId'])
// Lists newest first (of a cluster, with a status such as pending, or all): a page without sorting
// every recommendation ever made.
@Index('IDX_recommendations_cluster_created', ['clusterId', 'createdAt'])
@Index('IDX_recommendations_status_created', ['status', 'createdAt'])
@Index('IDX_recommendations_created', ['createdAt'])
export class RecommendationEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('varchar')
  clusterId: string;

  @Column('varchar')
  passId: string;

  @Column('varchar')
  vmId: string;

  @Column('varchar', { length: 200 })
  vmName: string;

  @Column('varchar')
  fromHostId: string;

  @Column('varchar')
  toHostId: string;

  @Column('integer')
  priority: number;

  @Column('varchar', { length: 32 })
  reason: string;

  @Column('varchar', { length: 2000 })
  explanation: string;

  @Column('real')
  gain: number;

  @Column('real')
  cost: number;

  @Column('real')
  imbalanceAfter: number;

  /** VMs of a hard affinity group move together: their recommendations share this id. */
  @Column('varchar', { nullable: true })
  groupId: string | null;

  @Column('varchar', { length: 16 })
  status: RecommendationStatus;

  @Column('varchar', { nullable: true })
  migrationId: string | null;

  /** Epoch ms. */
  @Column('integer')
  createdAt: number;

  @Column('integer', { nullable: true })
  decidedAt: number | null;

  @VersionColumn()
  version: number;
}
