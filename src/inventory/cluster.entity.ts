import { Column, Entity, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

@Entity('clusters')
export class ClusterEntity extends BaseEntity {
  @Index('UQ_clusters_name', { unique: true })
  @Column('varchar', { length: 200 })
  name: string;

  @Column('varchar', { length: 2000, default: '' })
  description: string;
}
