import { Column, Entity, Index, JoinColumn, JoinTable, ManyToMany, ManyToOne, RelationId } from 'typeorm';
import { BaseEntity } from '../database/base.entity';
import { ClusterEntity } from './cluster.entity';
import { HostEntity } from './host.entity';
import { VmEntity } from './vm.entity';

export const GROUP_KINDS = ['vm', 'host'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

/** The platforms rules and groups are imported from (read-only here); null: made through the API. */
export const PLATFORM_SOURCES = ['vsphere', 'proxmox'] as const;
export type PlatformSource = (typeof PLATFORM_SOURCES)[number];

/** A named set of VMs or of hosts that rules refer to. Memberships vanish with their VM or host. */
@Entity('groups')
@Index('UQ_groups_cluster_name', ['clusterId', 'name'], { unique: true })
export class GroupEntity extends BaseEntity {
  @Column('varchar')
  clusterId: string;

  @ManyToOne(() => ClusterEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'clusterId' })
  cluster?: ClusterEntity;

  @Column('varchar', { length: 200 })
  name: string;

  @Column('varchar', { length: 8 })
  kind: GroupKind;

  /** Imported from the cluster's platform by its connector, and changed only there; null when made through the API. */
  @Column('varchar', { length: 16, nullable: true })
  source: PlatformSource | null;

  @ManyToMany(() => VmEntity, { onDelete: 'CASCADE' })
  @JoinTable({
    name: 'vm_group_members',
    joinColumn: { name: 'groupId', referencedColumnName: 'id' },
    inverseJoinColumn: { name: 'vmId', referencedColumnName: 'id' },
  })
  vms?: VmEntity[];

  @RelationId((group: GroupEntity) => group.vms)
  vmIds: string[];

  @ManyToMany(() => HostEntity, { onDelete: 'CASCADE' })
  @JoinTable({
    name: 'host_group_members',
    joinColumn: { name: 'groupId', referencedColumnName: 'id' },
    inverseJoinColumn: { name: 'hostId', referencedColumnName: 'id' },
  })
  hosts?: HostEntity[];

  @RelationId((group: GroupEntity) => group.hosts)
  hostIds: string[];
}
