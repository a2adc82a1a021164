import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { assertNameFree, assertVersion, findOr404 } from '../common/database-helpers';
import { DomainError, ErrorCode, FieldProblem } from '../common/domain-error';
import { Page } from '../common/pagination';
import { Database } from '../database/database.service';
import { CreateVmDto, ListVmsQuery, UpdateVmDto, VmView } from './dto/vm.dto';
import { HostEntity } from './host.entity';
import { requireCluster } from './hosts.service';
import { VmEntity } from './vm.entity';
import { toVmView } from './views';

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
  constructor(private readonly db: Database) {}

  create(dto: CreateVmDto): Promise<VmView> {
    return this.db.transaction(async (m) => {
      await requireCluster(m, dto.clusterId);
      await requireHostInCluster(m, dto.hostId, dto.clusterId);
      await assertNameFree(m, VmEntity, { clusterId: dto.clusterId }, 'VM in this cluster', dto.name);
      const vm = m.create(VmEntity, {
        powerState: 'poweredOn',
        automation: 'default',
        cpuReservationMhz: 0,
        cpuLimitMhz: null,
        memoryReservationMib: 0,
        memoryLimitMib: null,
        ...dto,
      });
      assertVmBounds(vm);
      return toVmView(await m.save(vm));
    });
  }

  async list(query: ListVmsQuery): Promise<Page<VmView>> {
    const { limit = 50, offset = 0, clusterId, hostId, powerState, name } = query;
    const [rows, total] = await this.db.reader.findAndCount(VmEntity, {
      where: { clusterId, hostId, powerState, name },
      order: { name: 'ASC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items: rows.map(toVmView), total, limit, offset };
  }

  async get(id: string): Promise<VmView> {
    return toVmView(await findOr404(this.db.reader, VmEntity, id, 'VM'));
  }

  update(id: string, dto: UpdateVmDto): Promise<VmView> {
    return this.db.transaction(async (m) => {
      const vm = await findOr404(m, VmEntity, id, 'VM');
      assertVersion(vm, dto.version, 'VM');
      const { version: _version, ...changes } = dto;
      if (changes.name !== undefined && changes.name !== vm.name) {
        await assertNameFree(m, VmEntity, { clusterId: vm.clusterId }, 'VM in this cluster', changes.name, id);
      }
      Object.assign(vm, changes);
      assertVmBounds(vm);
      return toVmView(await m.save(vm));
    });
  }

  remove(id: string): Promise<void> {
    return this.db.transaction(async (m) => {
      await findOr404(m, VmEntity, id, 'VM');
      await m.delete(VmEntity, { id });
    });
  }
}
