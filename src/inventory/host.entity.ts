import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../database/base.entity';
import { ClusterEntity } from './cluster.entity';

export const HOST_STATES = ['connected', 'maintenance', 'entering-maintenance', 'disconnected'] as const;
export type HostState = (typeof HOST_STATES)[number];

@Entity('hosts')
@Index('UQ_hosts_cluster_name', ['clusterId', 'name'], { unique: true })
// The list of all hosts in name order, a page at a time.
@Index('IDX_hosts_name', ['name', 'id'])
export class HostEntity extends BaseEntity {
  @Column('varchar')
  clusterId: string;

  @ManyToOne(() => ClusterEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'clusterId' })
  cluster?: ClusterEntity;

  @Column('varchar', { length: 200 })
  name: string;

  /**
   * DNS name or IP literal the migration command connects to ({sourceHost}/{targetHost}); null: the
   * name is used when it is itself such an address.
   */
  @Column('varchar', { length: 255, nullable: true })
  address: string | null;

  @Column('integer')
  cpuCores: number;

  /** Total CPU capacity of the host (all cores). */
  @Column('integer')
  cpuMhz: number;

  @Column('integer')
  memoryMib: number;

  @Column('real', { default: 10 })
  migrationGbps: number;

  @Index('IDX_hosts_state')
  @Column('varchar', { length: 32, default: 'connected' })
  state: HostState;
}
