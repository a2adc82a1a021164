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
import { InventoryGuards, VmPlacementPort } from './inventory-ports';
import { GroupEntity } from './group.entity';
import { CreateVmDto, ListVmsQuery, UpdateVmDto, VmView } from './dto/vm.dto';
import { HostEntity } from './host.entity';
import { requireCluster } from './hosts.service';
import { VM_FIELDS, VmEntity } from './vm.entity';
import { toVmView } from './views';

/** A VM as toVmView shows it, built by SQLite for list pages. */
const VM_ITEM = jsonOf.object({
  ...(Object.fromEntries(VM_FIELDS.map((f) => [f, jsonOf.column(f)])) as Record<(typeof VM_FIELDS)[number], JsonSql>),
  version: jsonOf.column('version'),
  createdAt: jsonOf.datetime('createdAt'),
  updatedAt: jsonOf.datetime('updatedAt'),
} satisfies Record<keyof VmView, JsonSql>);

type VmLimits = Pick<VmEntity, 'memoryMib' | 'cpuReservationMhz' | 'cpuLimitMhz' | 'memoryReservationMib' | 'memoryLimitMib'>;

/** Reservations fit under limits and memory size; the problems name the fields (prefixed for bulk input). */
export function vmBoundProblems(vm: VmLimits, prefix = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (vm.cpuLimitMhz != null && vm.cpuReservationMhz > vm.cpuLimitMhz) {
    problems.push({ field: `${prefix}cpuReservationMhz`, message: 'cpuReservationMhz must not exceed cpuLimitMhz' });
  }
  if (vm.memoryLimitMib != null && vm.memoryReservationMib > vm.memoryLimitMib) {
    problems.push({ field: `${prefix}memoryReservationMib`, message: 'memoryReservationMib must not exceed memoryLimitMib' });
  }
  if (vm.memoryReservationMib > vm.memoryMib) {
    problems.push({ field: `${prefix}memoryReservationMib`, message: 'memoryReservationMib must not exceed memoryMib' });
  }
  return problems;
}

function assertVmBounds(vm: VmLimits): void {
  const problems = vmBoundProblems(vm);
  if (problems.length > 0) throw new DomainError(ErrorCode.Invalid, problems[0].message, problems);
}

/** The host must exist and belong to the VM's cluster: a VM never sits on another cluster's host. */
async function requireHostInCluster(m: EntityManager, hostId: string, clusterId: string): Promise<HostEntity> {
  const host = await m.findOne(HostEntity, { where: { id: hostId } });
  if (!host) throw DomainError.unprocessable(`Host ${hostId} does not exist`, 'hostId');
  if (host.clusterId !== clusterId) {
    throw DomainError.unprocessable(`Host ${host.name} belongs to another cluster than the VM`, 'hostId');
  }
  return host;
}

@Injectable()
export class VmsService {
  constructor(
    private readonly db: Database,
    private readonly placement: VmPlacementPort,
    private readonly events: EventsService,
    private readonly guards: InventoryGuards,
  ) {}

  private assertNameUsable(name: string): void {
    const problems = this.guards.vmProblems({ name });
    if (problems.length > 0) throw new DomainError(ErrorCode.Unprocessable, problems[0].message, problems);
  }

  /** Without a host, the balancer chooses one (see VmPlacement). */
  private async place(dto: CreateVmDto): Promise<{ hostId: string; placed: boolean }> {
    if (dto.hostId) return { hostId: dto.hostId, placed: false };
    await requireCluster(this.db.reader, dto.clusterId);
    const hostId = await this.placement.chooseHost(dto.clusterId, {
      name: dto.name,
      vcpus: dto.vcpus,
      memoryMib: dto.memoryMib,
      vmGroupIds: dto.vmGroupIds,
    });
    return { hostId, placed: true };
  }

  async create(dto: CreateVmDto, actor: Actor): Promise<VmView> {
    this.assertNameUsable(dto.name);
    const { hostId, placed } = await this.place(dto);
    return this.db.transaction(async (m) => {
      await requireCluster(m, dto.clusterId);
      await requireHostInCluster(m, hostId, dto.clusterId);
      await assertNameFree(m, VmEntity, { clusterId: dto.clusterId }, 'VM in this cluster', dto.name);
      const { vmGroupIds = [], ...fields } = dto;
      const vm = m.create(VmEntity, {
        powerState: 'poweredOn',
        automation: 'default',
        cpuReservationMhz: 0,
        cpuLimitMhz: null,
        memoryReservationMib: 0,
        memoryLimitMib: null,
        ...fields,
        hostId,
      });
      assertVmBounds(vm);
      const saved = await m.save(vm);
      await this.events.recordIn(m, changeEvent('vm', 'created', saved, actor));
      for (const groupId of vmGroupIds) {
        const group = await m.findOne(GroupEntity, { where: { id: groupId, clusterId: dto.clusterId, kind: 'vm' } });
        if (!group) throw DomainError.unprocessable(`Group ${groupId} is not a VM group of this cluster`, 'vmGroupIds');
        await m.createQueryBuilder().relation(GroupEntity, 'vms').of(groupId).add(saved.id);
        await m.update(GroupEntity, { id: groupId }, { updatedAt: new Date() });
      }
      if (placed) {
        await this.events.recordIn(m, {
          clusterId: dto.clusterId,
          subjectType: 'vm',
          subjectId: saved.id,
          type: 'vm.placed',
          message: `${saved.name} placed on the host that leaves the cluster most even`,
          data: { hostId },
          actor,
        });
      }
      return toVmView(saved);
    });
  }

  list(query: ListVmsQuery): Promise<JsonText<Page<VmView>>> {
    const { limit = 50, offset = 0, clusterId, hostId, powerState, name } = query;
    return jsonPage(this.db, {
      table: 'vms',
      item: VM_ITEM,
      filters: { clusterId, hostId, powerState, name },
      orderBy: 'name ASC, id ASC',
      limit,
      offset,
    });
  }

  async get(id: string): Promise<VmView> {
    return toVmView(await findOr404(this.db.reader, VmEntity, id, 'VM'));
  }

  update(id: string, dto: UpdateVmDto, actor: Actor): Promise<VmView> {
    if (dto.name !== undefined) this.assertNameUsable(dto.name);
    return this.db.transaction(async (m) => {
      const vm = await findOr404(m, VmEntity, id, 'VM');
      assertVersion(vm, dto.version, 'VM');
      const { version: _version, ...changes } = dto;
      if (changes.name !== undefined && changes.name !== vm.name) {
        await assertNameFree(m, VmEntity, { clusterId: vm.clusterId }, 'VM in this cluster', changes.name, id);
      }
      Object.assign(vm, changes);
      assertVmBounds(vm);
      const saved = await m.save(vm);
      await this.events.recordIn(m, changeEvent('vm', 'updated', saved, actor, setFields(changes)));
      return toVmView(saved);
    });
  }

  /** Records that the VM now runs on `hostId`, in the caller's transaction (a migration that succeeded). */
  async recordHost(m: EntityManager, vmId: string, hostId: string): Promise<void> {
    await m.update(VmEntity, { id: vmId }, { hostId });
  }

  remove(id: string, actor: Actor): Promise<void> {
    return this.db.transaction(async (m) => {
      const vm = await findOr404(m, VmEntity, id, 'VM');
      await m.delete(VmEntity, { id });
      await this.events.recordIn(m, changeEvent('vm', 'deleted', vm, actor));
    });
  }
}
