import { ClusterView } from './dto/cluster.dto';
import { GroupView } from './dto/group.dto';
import { HostView } from './dto/host.dto';
import { VmView } from './dto/vm.dto';
import { ClusterEntity } from './cluster.entity';
import { GroupEntity } from './group.entity';
import { HostEntity } from './host.entity';
import { VmEntity } from './vm.entity';

export function toClusterView(c: ClusterEntity): ClusterView {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    version: c.version,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export function toHostView(h: HostEntity): HostView {
  return {
    id: h.id,
    clusterId: h.clusterId,
    name: h.name,
    address: h.address ?? null,
    cpuCores: h.cpuCores,
    cpuMhz: h.cpuMhz,
    memoryMib: h.memoryMib,
    migrationGbps: h.migrationGbps,
    state: h.state,
    version: h.version,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
  };
}

export function toVmView(v: VmEntity): VmView {
  return {
    id: v.id,
    clusterId: v.clusterId,
    hostId: v.hostId,
    name: v.name,
    vcpus: v.vcpus,
    memoryMib: v.memoryMib,
    powerState: v.powerState,
    automation: v.automation,
    cpuReservationMhz: v.cpuReservationMhz,
    cpuLimitMhz: v.cpuLimitMhz,
    memoryReservationMib: v.memoryReservationMib,
    memoryLimitMib: v.memoryLimitMib,
    heldBy: v.heldBy ?? null,
    version: v.version,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
  };
}

export function toGroupView(g: GroupEntity): GroupView {
  return {
    id: g.id,
    clusterId: g.clusterId,
    name: g.name,
    kind: g.kind,
    memberIds: [...(g.kind === 'vm' ? g.vmIds : g.hostIds)].sort(),
    source: g.source ?? null,
    version: g.version,
    createdAt: g.createdAt,
    updatedAt: g.updatedAt,
  };
}
