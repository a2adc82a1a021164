import { Column, Entity, Index, JoinColumn, JoinTable, ManyToMany, ManyToOne, RelationId } from 'typeorm';
import { BaseEntity } from '../database/base.entity';
import { ClusterEntity } from './cluster.entity';
import { HostEntity } from './host.entity';
import { VmEntity } from './vm.entity';

export const GROUP_KINDS = ['vm', 'host'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

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
