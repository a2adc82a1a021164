import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { assertNameFree, assertNotImported, assertVersion, findOr404 } from '../common/database-helpers';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Page } from '../common/pagination';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { changeEvent, setFields } from '../events/change-events';
import { EventsService } from '../events/events.service';
import { InventoryGuards } from './inventory-ports';
import { CreateGroupDto, GroupView, ListGroupsQuery, UpdateGroupDto } from './dto/group.dto';
import { GroupEntity, GroupKind, type PlatformSource } from './group.entity';
import { HostEntity } from './host.entity';
import { requireCluster } from './hosts.service';
import { VmEntity } from './vm.entity';
import { toGroupView } from './views';

const SQLITE_IN_CHUNK = 900;

/** Every member must be a VM (or host) of the group's own cluster; otherwise a 422 naming them. */
async function assertMembers(m: EntityManager, clusterId: string, kind: GroupKind, ids: string[]): Promise<void> {
  const entity = kind === 'vm' ? VmEntity : HostEntity;
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += SQLITE_IN_CHUNK) {
    const rows = await m.find(entity, {
      select: { id: true },
      where: { id: In(ids.slice(i, i + SQLITE_IN_CHUNK)), clusterId },
    });
    rows.forEach((r) => found.add(r.id));
  }
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) {
    const what = kind === 'vm' ? 'VM' : 'host';
    throw new DomainError(
      ErrorCode.Unprocessable,
      `${missing.length} member(s) are not ${what}s of this cluster: ${missing.slice(0, 10).join(', ')}`,
      [{ field: 'memberIds', message: `not ${what}s of cluster ${clusterId}: ${missing.slice(0, 10).join(', ')}` }],
    );
  }
}

function memberRelation(kind: GroupKind, ids: string[]): Partial<GroupEntity> {
  const refs = ids.map((id) => ({ id }));
  return kind === 'vm' ? { vms: refs as VmEntity[] } : { hosts: refs as HostEntity[] };
}

@Injectable()
export class GroupsService {
  constructor(
    private readonly db: Database,
    private readonly events: EventsService,
    private readonly guards: InventoryGuards,
  ) {}

  create(dto: CreateGroupDto, actor: Actor): Promise<GroupView> {
    return this.db.transaction(async (m) => {
      await requireCluster(m, dto.clusterId);
      await assertNameFree(m, GroupEntity, { clusterId: dto.clusterId }, 'group in this cluster', dto.name);
      const memberIds = dto.memberIds ?? [];
      await assertMembers(m, dto.clusterId, dto.kind, memberIds);
      const saved = await m.save(
        m.create(GroupEntity, { clusterId: dto.clusterId, name: dto.name, kind: dto.kind, ...memberRelation(dto.kind, memberIds) }),
      );
      await this.events.recordIn(m, changeEvent('group', 'created', saved, actor));
      return toGroupView(await findOr404(m, GroupEntity, saved.id, 'Group'));
    });
  }

  async list(query: ListGroupsQuery): Promise<Page<GroupView>> {
    const { limit = 50, offset = 0, clusterId, kind, name } = query;
    const [rows, total] = await this.db.reader.findAndCount(GroupEntity, {
      where: { clusterId, kind, name },
      order: { name: 'ASC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items: rows.map(toGroupView), total, limit, offset };
  }

  async get(id: string): Promise<GroupView> {
    return toGroupView(await findOr404(this.db.reader, GroupEntity, id, 'Group'));
  }

  update(id: string, dto: UpdateGroupDto, actor: Actor): Promise<GroupView> {
    return this.db.transaction(async (m) => {
      const group = await findOr404(m, GroupEntity, id, 'Group');
      assertNotImported(group, 'Group');
      assertVersion(group, dto.version, 'Group');
      if (dto.name !== undefined && dto.name !== group.name) {
        await assertNameFree(m, GroupEntity, { clusterId: group.clusterId }, 'group in this cluster', dto.name, id);
        group.name = dto.name;
      }
      if (dto.memberIds !== undefined) {
        await assertMembers(m, group.clusterId, group.kind, dto.memberIds);
        Object.assign(group, memberRelation(group.kind, dto.memberIds));
        // The version must move even when only the members changed.
        group.updatedAt = new Date();
      }
      await m.save(group);
      await this.events.recordIn(m, changeEvent('group', 'updated', group, actor, setFields(dto)));
      return toGroupView(await findOr404(m, GroupEntity, id, 'Group'));
    });
  }

  /**
   * The groups a connector imported from the platform, as they are there now: created, or given their
   * new members, by name; members are VM or host names of the cluster (names it does not have yet are
   * left out until a sync brings them). Returns the ids by name and whether anything changed.
   * Removing the imported groups no longer listed is `removeImported`'s, once no rule refers to them.
   */
  async syncImported(
    m: EntityManager,
    clusterId: string,
    source: PlatformSource,
    groups: readonly { name: string; kind: GroupKind; members: readonly string[] }[],
  ): Promise<{ ids: Map<string, string>; changed: boolean }> {
    const byName = new Map((await m.find(GroupEntity, { where: { clusterId, source } })).map((g) => [g.name, g]));
    const idsOf = async (kind: GroupKind) => {
      const rows = await m.find(kind === 'vm' ? VmEntity : HostEntity, { where: { clusterId }, select: { id: true, name: true } });
      return new Map(rows.map((r) => [r.name, r.id]));
    };
    const vmIds = await idsOf('vm');
    const hostIds = await idsOf('host');
    const ids = new Map<string, string>();
    let changed = false;
    for (const wanted of groups) {
      const names = wanted.kind === 'vm' ? vmIds : hostIds;
      const memberIds = [...new Set(wanted.members.flatMap((name) => names.get(name) ?? []))].sort();
      let current = byName.get(wanted.name);
      if (!current && (await m.exists(GroupEntity, { where: { clusterId, name: wanted.name } }))) continue; // the operator's own group has that name
      if (current && current.kind !== wanted.kind) {
        // A platform group that changed kind is made again, unless one of the operator's rules still names it.
        if (await this.inUse(m, current.id)) continue;
        await m.delete(GroupEntity, { id: current.id });
        current = undefined;
      }
      if (current && [...(current.kind === 'vm' ? current.vmIds : current.hostIds)].sort().join() === memberIds.join()) {
        ids.set(wanted.name, current.id);
        continue;
      }
      const group = current ?? m.create(GroupEntity, { clusterId, name: wanted.name, kind: wanted.kind, source });
      Object.assign(group, memberRelation(wanted.kind, memberIds));
      group.updatedAt = new Date();
      const saved = await m.save(group);
      ids.set(wanted.name, saved.id);
      changed = true;
    }
    return { ids, changed };
  }

  /** The groups imported from the platform, as stored. */
  importedGroups(m: EntityManager, clusterId: string, source: PlatformSource): Promise<{ id: string; name: string; kind: GroupKind }[]> {
    return m.find(GroupEntity, { where: { clusterId, source }, select: { id: true, name: true, kind: true } });
  }

  /**
   * Imported groups of the platform that are no longer listed there (the platform's rules on them are already
   * gone); one that the operator's own rules still name stays until they no longer do.
   */
  async removeImported(m: EntityManager, clusterId: string, source: PlatformSource, keep: ReadonlySet<string>): Promise<number> {
    const stale = (await m.find(GroupEntity, { where: { clusterId, source }, select: { id: true } })).filter((g) => !keep.has(g.id));
    const unused: string[] = [];
    for (const group of stale) if (!(await this.inUse(m, group.id))) unused.push(group.id);
    if (unused.length > 0) await m.delete(GroupEntity, { id: In(unused) });
    return unused.length;
  }

  private async inUse(m: EntityManager, groupId: string): Promise<boolean> {
    return this.guards.assertGroupUnused(m, groupId).then(
      () => false,
      () => true,
    );
  }

  /** A group that a rule refers to is not deleted: the rule would lose its meaning. */
  remove(id: string, actor: Actor): Promise<void> {
    return this.db.transaction(async (m) => {
      const group = await findOr404(m, GroupEntity, id, 'Group');
      assertNotImported(group, 'Group');
      await this.guards.assertGroupUnused(m, id);
      await m.delete(GroupEntity, { id });
      await this.events.recordIn(m, changeEvent('group', 'deleted', group, actor));
    });
  }
}
