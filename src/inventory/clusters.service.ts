import { Injectable } from '@nestjs/common';
import { assertNameFree, assertVersion, findOr404 } from '../common/database-helpers';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Page } from '../common/pagination';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { changeEvent, setFields } from '../events/change-events';
import { EventsService } from '../events/events.service';
import { InventoryGuards } from './inventory-ports';
import { ClusterEntity } from './cluster.entity';
import { ClusterView, CreateClusterDto, ListClustersQuery, UpdateClusterDto } from './dto/cluster.dto';
import { GroupEntity } from './group.entity';
import { HostEntity } from './host.entity';
import { VmEntity } from './vm.entity';
import { toClusterView } from './views';

@Injectable()
export class ClustersService {
  constructor(
    private readonly db: Database,
    private readonly events: EventsService,
    private readonly guards: InventoryGuards,
  ) {}

  /** `actor`: who asked through the API; null for the service's own (the demo, a replay). */
  create(dto: CreateClusterDto, actor: Actor | null): Promise<ClusterView> {
    return this.db.transaction(async (m) => {
      await assertNameFree(m, ClusterEntity, {}, 'cluster', dto.name);
      const saved = await m.save(m.create(ClusterEntity, { name: dto.name, description: dto.description ?? '' }));
      await this.events.recordIn(m, changeEvent('cluster', 'created', saved, actor));
      return toClusterView(saved);
    });
  }

  async list(query: ListClustersQuery): Promise<Page<ClusterView>> {
    const { limit = 50, offset = 0 } = query;
    const [rows, total] = await this.db.reader.findAndCount(ClusterEntity, {
      where: query.name ? { name: query.name } : {},
      order: { name: 'ASC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items: rows.map(toClusterView), total, limit, offset };
  }

  /** Every cluster's id and name, by name: for figures reported per cluster. */
  names(): Promise<{ id: string; name: string }[]> {
    return this.db.reader.find(ClusterEntity, { select: { id: true, name: true }, order: { name: 'ASC' } });
  }

  async get(id: string): Promise<ClusterView> {
    return toClusterView(await findOr404(this.db.reader, ClusterEntity, id, 'Cluster'));
  }

  update(id: string, dto: UpdateClusterDto, actor: Actor): Promise<ClusterView> {
    return this.db.transaction(async (m) => {
      const cluster = await findOr404(m, ClusterEntity, id, 'Cluster');
      assertVersion(cluster, dto.version, 'Cluster');
      if (dto.name !== undefined && dto.name !== cluster.name) {
        await assertNameFree(m, ClusterEntity, {}, 'cluster', dto.name, id);
        cluster.name = dto.name;
      }
      if (dto.description !== undefined) cluster.description = dto.description;
      const saved = await m.save(cluster);
      await this.events.recordIn(m, changeEvent('cluster', 'updated', saved, actor, setFields(dto)));
      return toClusterView(saved);
    });
  }

  /** A cluster that still has hosts or VMs is not deleted; its groups and rules go with it. */
  remove(id: string, actor: Actor): Promise<void> {
    return this.db.transaction(async (m) => {
      const cluster = await findOr404(m, ClusterEntity, id, 'Cluster');
      const hosts = await m.count(HostEntity, { where: { clusterId: id } });
      const vms = await m.count(VmEntity, { where: { clusterId: id } });
      if (hosts > 0 || vms > 0) {
        throw new DomainError(
          ErrorCode.InUse,
          `Cluster ${id} still has ${hosts} host(s) and ${vms} VM(s); remove them first (or sync an empty inventory with prune)`,
        );
      }
      await this.guards.deleteCluster(m, id);
      await m.delete(GroupEntity, { clusterId: id });
      await m.delete(ClusterEntity, { id });
      await this.events.recordIn(m, changeEvent('cluster', 'deleted', cluster, actor));
    });
  }
}
