import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';
import { ClusterEntity } from '../inventory/cluster.entity';

export const CONNECTOR_STATES = ['unknown', 'ok', 'degraded'] as const;
export type ConnectorState = (typeof CONNECTOR_STATES)[number];

/**
 * The connector of one cluster: which platform (kind), how to reach it (settings), the sealed
 * credentials, and what the sync and collection loops last saw. `version` counts configuration
 * changes only: the loops' status writes leave it alone.
 */
@Entity('cluster_connectors')
export class ConnectorEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('UQ_cluster_connectors_cluster', { unique: true })
  @Column('varchar')
  clusterId: string;

  @ManyToOne(() => ClusterEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'clusterId' })
  cluster?: ClusterEntity;

  @Column('varchar', { length: 32 })
  kind: string;

  @Column('simple-json')
  settings: Record<string, unknown>;

  /** Sealed with the connector-credentials key (see credentials.ts); null when none were given. */
  @Column('text', { nullable: true })
  credentials: string | null;

  @Column('varchar', { length: 16, default: 'unknown' })
  state: ConnectorState;

  @Column('varchar', { length: 2000, nullable: true })
  lastError: string | null;

  /** Epoch ms of the last sync that completed (degraded or not). */
  @Column('integer', { nullable: true })
  lastSyncAt: number | null;

  /** Epoch ms of the last collection that completed. */
  @Column('integer', { nullable: true })
  lastCollectAt: number | null;

  /** Why the platform balances the cluster itself, as the last sync found (every replica reads it here). */
  @Column('varchar', { length: 2000, nullable: true })
  balancedBy: string | null;

  /** The platform's notes from the last sync (e.g. which guests its own balancer keeps). */
  @Column('simple-json', { nullable: true })
  platformNotes: string[] | null;

  @CreateDateColumn()
  createdAt: Date;

  @UpdateDateColumn()
  updatedAt: Date;

  @VersionColumn()
  version: number;
}
