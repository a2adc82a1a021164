import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { assertNameFree, assertVersion, findOr404 } from '../common/database-helpers';
import { DomainError, ErrorCode, FieldProblem } from '../common/domain-error';
import { Page } from '../common/pagination';
import { jsonOf, jsonPage, type JsonSql, JsonText } from '../common/json-page';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { changeEvent, setFields } from '../events/change-events';
import { EventsService } from '../events/events.service';
import { InventoryGuards } from './inventory-ports';
import { ClusterEntity } from './cluster.entity';
import { CreateHostDto, HostView, ListHostsQuery, UpdateHostDto } from './dto/host.dto';
import { HostEntity, HostState } from './host.entity';
import { VmEntity } from './vm.entity';
import { toHostView } from './views';

/** A host as toHostView shows it, built by SQLite for list pages. */
const HOST_ITEM = jsonOf.object({
  id: jsonOf.column('id'),
  clusterId: jsonOf.column('clusterId'),
  name: jsonOf.column('name'),
  address: jsonOf.column('address'),
  cpuCores: jsonOf.column('cpuCores'),
  cpuMhz: jsonOf.column('cpuMhz'),
  memoryMib: jsonOf.column('memoryMib'),
  migrationGbps: jsonOf.real('migrationGbps'),
  state: jsonOf.column('state'),
  version: jsonOf.column('version'),
  createdAt: jsonOf.datetime('createdAt'),
  updatedAt: jsonOf.datetime('updatedAt'),
} satisfies Record<keyof HostView, JsonSql>);

/** The cluster named in a request body must exist: otherwise a 422 naming `clusterId`. */
export async function requireCluster(m: EntityManager, clusterId: string): Promise<ClusterEntity> {
  const cluster = await m.findOne(ClusterEntity, { where: { id: clusterId } });
  if (!cluster) throw DomainError.unprocessable(`Cluster ${clusterId} does not exist`, 'clusterId');
  return cluster;
}

function assertNoProblems(problems: FieldProblem[]): void {
  if (problems.length > 0) throw new DomainError(ErrorCode.Unprocessable, problems[0].message, problems);
}

@Injectable()
export class HostsService {
  constructor(
    private readonly db: Database,
    private readonly events: EventsService,
    private readonly guards: InventoryGuards,
  ) {}

  create(dto: CreateHostDto, actor: Actor): Promise<HostView> {
    assertNoProblems(this.guards.hostProblems(dto));
    return this.db.transaction(async (m) => {
      await requireCluster(m, dto.clusterId);
      await assertNameFree(m, HostEntity, { clusterId: dto.clusterId }, 'host in this cluster', dto.name);
      const host = m.create(HostEntity, { migrationGbps: 10, state: 'connected', ...dto });
      const saved = await m.save(host);
      await this.events.recordIn(m, changeEvent('host', 'created', saved, actor));
      return toHostView(saved);
    });
  }

  list(query: ListHostsQuery): Promise<JsonText<Page<HostView>>> {
    const { limit = 50, offset = 0, clusterId, state, name } = query;
    return jsonPage(this.db, {
      table: 'hosts',
      item: HOST_ITEM,
      filters: { clusterId, state, name },
      orderBy: 'name ASC, id ASC',
      limit,
      offset,
    });
  }

  async get(id: string): Promise<HostView> {
    return toHostView(await findOr404(this.db.reader, HostEntity, id, 'Host'));
  }

  update(id: string, dto: UpdateHostDto, actor: Actor): Promise<HostView> {
    return this.db.transaction(async (m) => {
      const host = await findOr404(m, HostEntity, id, 'Host');
      assertVersion(host, dto.version, 'Host');
      const { version: _version, ...changes } = dto;
      if (changes.name !== undefined && changes.name !== host.name) {
        await assertNameFree(m, HostEntity, { clusterId: host.clusterId }, 'host in this cluster', changes.name, id);
      }
      Object.assign(host, changes);
      if (changes.name !== undefined || changes.address !== undefined) assertNoProblems(this.guards.hostProblems(host));
      const saved = await m.save(host);
      await this.events.recordIn(m, changeEvent('host', 'updated', saved, actor, setFields(changes)));
      return toHostView(saved);
    });
  }

  /**
   * Moves a host between connected and the maintenance states, in the caller's transaction (maintenance
   * mode and the passes that finish it); only from `from` when given. True when the host changed.
   */
  async changeState(m: EntityManager, hostId: string, state: HostState, from?: HostState): Promise<boolean> {
    const changed = await m.update(HostEntity, from ? { id: hostId, state: from } : { id: hostId }, { state });
    return (changed.affected ?? 0) > 0;
  }

  /** A host that still runs VMs is not deleted: they would be lost. */
  remove(id: string, actor: Actor): Promise<void> {
    return this.db.transaction(async (m) => {
      const host = await findOr404(m, HostEntity, id, 'Host');
      const vms = await m.count(VmEntity, { where: { hostId: id } });
      if (vms > 0) {
        throw new DomainError(ErrorCode.InUse, `Host ${id} still runs ${vms} VM(s); migrate them away first`);
      }
      await this.guards.assertHostUnused(m, id);
      await m.delete(HostEntity, { id });
      await this.events.recordIn(m, changeEvent('host', 'deleted', host, actor));
    });
  }
}
