import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn, VersionColumn } from 'typeorm';
import { ClusterEntity } from '../inventory/cluster.entity';

/**
 * A cluster's policy, stored as the operator set it (only the fields they chose); defaults fill in
 * the rest when it is read, so a new field gets its default without a data migration.
 */
@Entity('cluster_policies')
export class ClusterPolicyEntity {
  @PrimaryColumn('varchar')
  clusterId: string;

  @OneToOne(() => ClusterEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'clusterId' })
  cluster?: ClusterEntity;

  @Column('simple-json')
  settings: Record<string, unknown>;

  @UpdateDateColumn()
  updatedAt: Date;

  @VersionColumn()
  version: number;
}
