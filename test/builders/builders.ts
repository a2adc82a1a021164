// Small builders for hand-written test clusters.
import { ClusterSnapshot, HostSnapshot, RuleSnapshot, VmSnapshot } from '../../src/balancer/core/model';

export function host(
  id: string,
  cpuCapacityMhz = 1000,
  memoryCapacityMib = 1000,
  state: HostSnapshot['state'] = 'connected',
): HostSnapshot {
  return { id, name: id, state, cpuCapacityMhz, memoryCapacityMib, migrationGbps: 10 };
}

export function vm(id: string, hostId: string, cpuMhz: number, memoryMib: number, extra: Partial<VmSnapshot> = {}): VmSnapshot {
  return {
    id,
    name: id,
    hostId,
    poweredOn: true,
    cpuMhz,
    memoryMib,
    configuredMemoryMib: memoryMib,
    automation: 'default',
    migrating: false,
    ...extra,
  };
}

export function cluster(
  hosts: HostSnapshot[],
  vms: VmSnapshot[],
  rules: RuleSnapshot[] = [],
  extra: Partial<ClusterSnapshot> = {},
): ClusterSnapshot {
  return { clusterId: 'c1', hosts, vms, rules, inFlight: [], ...extra };
}
