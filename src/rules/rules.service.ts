import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { assertNameFree, assertNotImported, assertVersion, findOr404 } from '../common/database-helpers';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Page } from '../common/pagination';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { changeEvent, setFields } from '../events/change-events';
import { EventsService } from '../events/events.service';
import type { GroupKind } from '../inventory/group.entity';
import { GroupsService } from '../inventory/groups.service';
import { requireCluster } from '../inventory/hosts.service';
import { findGroupKind } from '../inventory/inventory.repository';
import { CreateRuleDto, ListRulesQuery, RuleView, UpdateRuleDto } from './dto/rule.dto';
import { importedName, type PlatformRules } from './platform-rules';
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
    source: r.source ?? null,
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
    private readonly groups: GroupsService,
  ) {}

  /**
   * Makes the cluster's imported rules and groups of one platform what the platform has now, in one
   * transaction: created, changed or removed by name; a rule naming a group the platform did not list is
   * left out. Records one event when anything changed. Returns whether anything did.
   */
  importFromPlatform(clusterId: string, imported: PlatformRules): Promise<boolean> {
    const { source } = imported;
    const groups = imported.groups.map((g) => ({ ...g, name: importedName(source, g.name) }));
    const kinds = new Map(groups.map((g) => [g.name, g.kind]));
    const rules = imported.rules
      .map((r) => ({
        ...r,
        name: importedName(source, r.name),
        vmGroup: importedName(source, r.vmGroup),
        hostGroup: r.hostGroup && importedName(source, r.hostGroup),
      }))
      .filter(
        (r) => kinds.get(r.vmGroup) === 'vm' && (r.kind !== 'vm-host' || (r.hostGroup && kinds.get(r.hostGroup) === 'host' && r.relation)),
      );
    return this.db.transaction(async (m) => {
      await requireCluster(m, clusterId);
      const wanted = new Map(rules.map((r) => [r.name, r]));
      const current = await m.find(RuleEntity, { where: { clusterId, source } });
      // A group that changes kind is made again: the rules on it go first, and come back below.
      const remade = new Set(
        (await this.groups.importedGroups(m, clusterId, source))
          .filter((g) => kinds.has(g.name) && kinds.get(g.name) !== g.kind)
          .map((g) => g.id),
      );
      const gone = current.filter(
        (r) => !wanted.has(r.name) || remade.has(r.vmGroupId) || (r.hostGroupId !== null && remade.has(r.hostGroupId)),
      );
      if (gone.length > 0) await m.delete(RuleEntity, { id: In(gone.map((r) => r.id)) });
      const synced = await this.groups.syncImported(m, clusterId, source, groups);
      let changed = gone.length > 0 || synced.changed;
      const kept = new Map(current.filter((r) => !gone.includes(r)).map((r) => [r.name, r]));
      for (const rule of rules) {
        // A group the import could not make (its name is the operator's, or it changed kind under the operator's rule).
        if (!synced.ids.has(rule.vmGroup) || (rule.kind === 'vm-host' && !synced.ids.has(rule.hostGroup!))) continue;
        const fields = {
          kind: rule.kind,
          vmGroupId: synced.ids.get(rule.vmGroup)!,
          hostGroupId: rule.kind === 'vm-host' ? synced.ids.get(rule.hostGroup!)! : null,
          relation: rule.kind === 'vm-host' ? rule.relation! : null,
          enforcement: rule.enforcement,
          enabled: rule.enabled,
        };
        const existing = kept.get(rule.name);
        if (existing && Object.entries(fields).every(([key, value]) => existing[key as keyof typeof fields] === value)) continue;
        const nameTaken = !existing && (await m.findOne(RuleEntity, { where: { clusterId, name: rule.name }, select: { id: true } }));
        if (nameTaken) continue;
        await m.save(existing ? Object.assign(existing, fields) : m.create(RuleEntity, { clusterId, name: rule.name, source, ...fields }));
        changed = true;
      }
      const removedGroups = await this.groups.removeImported(m, clusterId, source, new Set(synced.ids.values()));
      changed ||= removedGroups > 0;
      if (changed) {
        await this.events.recordIn(m, {
          clusterId,
          subjectType: 'cluster',
          subjectId: clusterId,
          type: 'rules.imported',
          message: `Rules imported from ${source}: ${rules.length} rule(s) on ${groups.length} group(s), read-only here`,
          data: { source, rules: rules.length, groups: groups.length },
          actor: null,
        });
      }
      return changed;
    });
  }

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
      assertNotImported(rule, 'Rule');
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
      assertNotImported(rule, 'Rule');
      await m.delete(RuleEntity, { id });
      await this.events.recordIn(m, changeEvent('rule', 'deleted', rule, actor));
    });
  }
}
