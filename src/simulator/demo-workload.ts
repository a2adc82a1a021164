// The demo cluster (pure): hosts, VMs sized like CloudSim's VM types, each following one trace row.
import { Trace, utilizationAt } from './trace';

/** CloudSim's VM types: MIPS (taken as MHz) and memory. */
export const VM_TYPES = [
  { cpuMhz: 2500, memoryMib: 870 },
  { cpuMhz: 2000, memoryMib: 1740 },
  { cpuMhz: 1000, memoryMib: 1740 },
  { cpuMhz: 500, memoryMib: 613 },
] as const;

export const DEMO_HOST = { cpuCores: 4, mhzPerCore: 2000, memoryMib: 16_384, migrationGbps: 10 };

export interface DemoVm {
  name: string;
  hostName: string;
  vcpus: number;
  memoryMib: number;
  /** CPU the VM can use at 100 % of its trace. */
  cpuMhz: number;
  traceRow: number;
}

export interface DemoInventory {
  hosts: { name: string; cpuCores: number; cpuMhz: number; memoryMib: number; migrationGbps: number }[];
  vms: DemoVm[];
}

/**
 * `vmCount` VMs on `hostCount` hosts, deliberately started on the first half of the hosts only, so
 * that the balancer has something to do the moment the demo starts. Trace rows are spread evenly
 * over the trace, so the demo sees its whole variety.
 */
export function demoInventory(trace: Trace, hostCount: number, vmCount: number): DemoInventory {
  const hosts = Array.from({ length: hostCount }, (_, i) => ({
    name: `esx-${String(i + 1).padStart(2, '0')}`,
    cpuCores: DEMO_HOST.cpuCores,
    cpuMhz: DEMO_HOST.cpuCores * DEMO_HOST.mhzPerCore,
    memoryMib: DEMO_HOST.memoryMib,
    migrationGbps: DEMO_HOST.migrationGbps,
  }));
  const loaded = Math.max(1, Math.ceil(hostCount / 2));
  const stride = trace.utilization.length / vmCount;
  const vms = Array.from({ length: vmCount }, (_, i) => {
    const type = VM_TYPES[i % VM_TYPES.length];
    return {
      name: `vm-${String(i + 1).padStart(3, '0')}`,
      // Consecutive VMs share a host, so that every loaded host gets every VM type.
      hostName: hosts[Math.floor(i / VM_TYPES.length) % loaded].name,
      vcpus: Math.ceil(type.cpuMhz / DEMO_HOST.mhzPerCore),
      memoryMib: type.memoryMib,
      cpuMhz: type.cpuMhz,
      traceRow: Math.floor(i * stride) % trace.utilization.length,
    };
  });
  return { hosts, vms };
}

export interface DemoSample {
  cpuMhz: number;
  memoryActiveMib: number;
  memoryConsumedMib: number;
  memoryDirtyMibPerSecond: number;
}

/** What a demo VM reports at `traceSeconds`: CPU from its trace row; memory and dirty rate follow its activity. */
export function demoSample(trace: Trace, vm: DemoVm, traceSeconds: number): DemoSample {
  const busy = Math.min(100, utilizationAt(trace, vm.traceRow, traceSeconds)) / 100;
  const consumed = 0.7 * vm.memoryMib;
  return {
    cpuMhz: Math.round(busy * vm.cpuMhz),
    memoryConsumedMib: Math.round(consumed),
    memoryActiveMib: Math.round(consumed * (0.25 + 0.5 * busy)),
    memoryDirtyMibPerSecond: Math.round(2 + 30 * busy),
  };
}
