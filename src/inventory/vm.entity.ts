import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../database/base.entity';
import { ClusterEntity } from './cluster.entity';
import { HostEntity } from './host.entity';

export const POWER_STATES = ['poweredOn', 'poweredOff', 'suspended'] as const;
export type PowerState = (typeof POWER_STATES)[number];
export const VM_AUTOMATION = ['default', 'manual', 'disabled'] as const;
export type VmAutomation = (typeof VM_AUTOMATION)[number];

/** A VM's own columns, for reads that select them as plain rows (the balancer's snapshot, the VM list). */
export const VM_FIELDS = [
  'id',
  'clusterId',
  'hostId',
  'name',
  'vcpus',
  'memoryMib',
  'powerState',
  'automation',
  'cpuReservationMhz',
  'cpuLimitMhz',
  'memoryReservationMib',
  'memoryLimitMib',
  'heldBy',
] as const;

@Entity('vms')
@Index('UQ_vms_cluster_name', ['clusterId', 'name'], { unique: true })
// The list of all VMs in name order, a page at a time.
@Index('IDX_vms_name', ['name', 'id'])
export class VmEntity extends BaseEntity {
  @Column('varchar')
  clusterId: string;

  @ManyToOne(() => ClusterEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'clusterId' })
  cluster?: ClusterEntity;

  /** The one host the VM runs on; it changes only when a migration succeeds. */
  @Index('IDX_vms_host')
  @Column('varchar')
  hostId: string;

  @ManyToOne(() => HostEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'hostId' })
  host?: HostEntity;

  @Column('varchar', { length: 200 })
  name: string;

  @Column('integer')
  vcpus: number;

  @Column('integer')
  memoryMib: number;

  @Column('varchar', { length: 16, default: 'poweredOn' })
  powerState: PowerState;

  @Column('varchar', { length: 16, default: 'default' })
  automation: VmAutomation;

  @Column('integer', { default: 0 })
  cpuReservationMhz: number;

  @Column('integer', { nullable: true })
  cpuLimitMhz: number | null;

  @Column('integer', { default: 0 })
  memoryReservationMib: number;

  @Column('integer', { nullable: true })
  memoryLimitMib: number | null;

  /**
   * Why the VM's platform does not let this service move it (locked, a template, local disks, a container,
   * HA-managed while the platform rebalances those itself…), as its connector last found; null: it may move.
   * Such a VM counts for load and never moves.
   */
  @Column('varchar', { length: 500, nullable: true })
  heldBy: string | null;
}
