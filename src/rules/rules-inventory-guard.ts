import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { InventoryGuard, InventoryGuards } from '../inventory/inventory-ports';
import { RuleEntity } from './rule.entity';

/** Rules hang on groups and clusters: a group a rule names stays; a deleted cluster takes its rules along. */
@Injectable()
export class RulesInventoryGuard implements InventoryGuard, OnModuleInit {
  constructor(private readonly guards: InventoryGuards) {}

  onModuleInit(): void {
    this.guards.register(this);
  }

  async groupInUse(m: EntityManager, groupId: string): Promise<string | null> {
    const rules = await m.find(RuleEntity, { where: [{ vmGroupId: groupId }, { hostGroupId: groupId }], select: { name: true } });
    if (rules.length === 0) return null;
    return `Group ${groupId} is used by rule(s) ${rules.map((r) => `"${r.name}"`).join(', ')}; delete or change them first`;
  }

  async deleteCluster(m: EntityManager, clusterId: string): Promise<void> {
    await m.delete(RuleEntity, { clusterId });
  }
}
