import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { assertNameFree, assertVersion, findOr404 } from '../common/database-helpers';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Page } from '../common/pagination';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { changeEvent, setFields } from '../events/change-events';
import { EventsService } from '../events/events.service';
import type { GroupKind } from '../inventory/group.entity';
import { requireCluster } from '../inventory/hosts.service';
import { findGroupKind } from '../inventory/inventory.repository';
import { CreateRuleDto, ListRulesQuery, RuleView, UpdateRuleDto } from './dto/rule.dto';
import { RuleEntity } from './rule.entity';

export function toRuleView(r: RuleEntity): RuleView {
  return {
    id: r.id,
    clusterId: r.clusterId,
    name: r.name,
    kind: r.kind,
    vmGroupId: r.vmGroupId,
    hostGroupId: r.hostGroupId,
    relation: r.relation,
    enforcement: r.enforcement,
    enabled: r.enabled,
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

type RuleShape = Pick<RuleEntity, 'clusterId' | 'kind' | 'vmGroupId' | 'hostGroupId' | 'relation'>;

/** A rule refers to groups of its own cluster, of the right kind; vm-host rules, and only they, name a host group and a relation. */
async function assertRuleShape(m: EntityManager, rule: RuleShape): Promise<void> {
  const invalid = (field: string, message: string) => new DomainError(ErrorCode.Invalid, message, [{ field, message }]);
  if (rule.kind === 'vm-host') {
    if (!rule.hostGroupId) throw invalid('hostGroupId', 'hostGroupId is required for a vm-host rule');
    if (!rule.relation) throw invalid('relation', 'relation (run-on or not-run-on) is required for a vm-host rule');
  } else {
    if (rule.hostGroupId) throw invalid('hostGroupId', `hostGroupId is only for vm-host rules, not ${rule.kind}`);
    if (rule.relation) throw invalid('relation', `relation is only for vm-host rules, not ${rule.kind}`);
  }
  await requireGroup(m, rule.clusterId, rule.vmGroupId, 'vm', 'vmGroupId');
  if (rule.hostGroupId) await requireGroup(m, rule.clusterId, rule.hostGroupId, 'host', 'hostGroupId');
}

async function requireGroup(m: EntityManager, clusterId: string, id: string, kind: GroupKind, field: string): Promise<void> {
  const group = await findGroupKind(m, id);
  if (!group) throw DomainError.unprocessable(`Group ${id} does not exist`, field);
  if (group.clusterId !== clusterId) throw DomainError.unprocessable(`Group ${id} belongs to another cluster`, field);
  if (group.kind !== kind) throw DomainError.unprocessable(`Group ${id} is a ${group.kind} group; ${field} needs a ${kind} group`, field);
}

@Injectable()
export class RulesService {
  constructor(
    private readonly db: Database,
    private readonly events: EventsService,
  ) {}

  create(dto: CreateRuleDto, actor: Actor): Promise<RuleView> {
    return this.db.transaction(async (m) => {
      await requireCluster(m, dto.clusterId);
      await assertNameFree(m, RuleEntity, { clusterId: dto.clusterId }, 'rule in this cluster', dto.name);
      const rule = m.create(RuleEntity, { hostGroupId: null, relation: null, enabled: true, ...dto });
      await assertRuleShape(m, rule);
      const saved = await m.save(rule);
      await this.events.recordIn(m, changeEvent('rule', 'created', saved, actor));
      return toRuleView(saved);
    });
  }

  async list(query: ListRulesQuery): Promise<Page<RuleView>> {
    const { limit = 50, offset = 0, clusterId, kind, name } = query;
    const [rows, total] = await this.db.reader.findAndCount(RuleEntity, {
      where: { clusterId, kind, name },
      order: { name: 'ASC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items: rows.map(toRuleView), total, limit, offset };
  }

  async get(id: string): Promise<RuleView> {
    return toRuleView(await findOr404(this.db.reader, RuleEntity, id, 'Rule'));
  }

  update(id: string, dto: UpdateRuleDto, actor: Actor): Promise<RuleView> {
    return this.db.transaction(async (m) => {
      const rule = await findOr404(m, RuleEntity, id, 'Rule');
      assertVersion(rule, dto.version, 'Rule');
      const { version: _version, ...changes } = dto;
      if (changes.name !== undefined && changes.name !== rule.name) {
        await assertNameFree(m, RuleEntity, { clusterId: rule.clusterId }, 'rule in this cluster', changes.name, id);
      }
      Object.assign(rule, changes);
      await assertRuleShape(m, rule);
      const saved = await m.save(rule);
      await this.events.recordIn(m, changeEvent('rule', 'updated', saved, actor, setFields(changes)));
      return toRuleView(saved);
    });
  }

  remove(id: string, actor: Actor): Promise<void> {
    return this.db.transaction(async (m) => {
      const rule = await findOr404(m, RuleEntity, id, 'Rule');
      await m.delete(RuleEntity, { id });
      await this.events.recordIn(m, changeEvent('rule', 'deleted', rule, actor));
    });
  }
}
