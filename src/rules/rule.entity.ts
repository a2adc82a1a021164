import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../database/base.entity';
import { ClusterEntity } from '../inventory/cluster.entity';
import { GroupEntity, type PlatformSource } from '../inventory/group.entity';

export const RULE_KINDS = ['affinity', 'anti-affinity', 'vm-host'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const RULE_RELATIONS = ['run-on', 'not-run-on'] as const;
export type RuleRelation = (typeof RULE_RELATIONS)[number];
export const RULE_ENFORCEMENTS = ['hard', 'soft'] as const;
export type RuleEnforcement = (typeof RULE_ENFORCEMENTS)[number];

/**
 * affinity / anti-affinity: the VMs of vmGroupId together / apart.
 * vm-host: the VMs of vmGroupId must (hard) or should (soft) run-on / not-run-on the hosts of hostGroupId.
 */
@Entity('rules')
@Index('UQ_rules_cluster_name', ['clusterId', 'name'], { unique: true })
export class RuleEntity extends BaseEntity {
  @Column('varchar')
  clusterId: string;

  @ManyToOne(() => ClusterEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'clusterId' })
  cluster?: ClusterEntity;

  @Column('varchar', { length: 200 })
  name: string;

  @Column('varchar', { length: 16 })
  kind: RuleKind;

  @Column('varchar')
  vmGroupId: string;

  @ManyToOne(() => GroupEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'vmGroupId' })
  vmGroup?: GroupEntity;

  @Column('varchar', { nullable: true })
  hostGroupId: string | null;

  @ManyToOne(() => GroupEntity, { onDelete: 'RESTRICT', nullable: true })
  @JoinColumn({ name: 'hostGroupId' })
  hostGroup?: GroupEntity | null;

  @Column('varchar', { length: 16, nullable: true })
  relation: RuleRelation | null;

  @Column('varchar', { length: 8 })
  enforcement: RuleEnforcement;

  @Column('boolean', { default: true })
  enabled: boolean;

  /** Imported from the cluster's platform by its connector, and changed only there; null when made through the API. */
  @Column('varchar', { length: 16, nullable: true })
  source: PlatformSource | null;
}
