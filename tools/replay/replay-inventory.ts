// The replayed cluster (pure): hosts sized like the demo's, VMs sized like CloudSim's VM types, each
// following one trace row, spread over all hosts the way a cluster that has run for a while looks.
import { seededRandom } from '../../src/balancer/core';
import { DEMO_HOST, DemoInventory, DemoVm, VM_TYPES } from '../../src/simulator/demo-workload';
import { Trace } from '../../src/simulator/trace';

/**
 * `vmCount` VMs (default: one per trace row) on `hostCount` hosts.
 * - Trace rows: all of them, or `vmCount` spread evenly over the file.
 * - VM types: in blocks of the VM list, as CloudSim's PlanetLab runner assigns them
 *   (type = i / ceil(n / 4)): a quarter of each type.
 * - Placement: round-robin (VM i on host i mod N), so every host starts with the same number of VMs
 *   (±1) and a mix of all types: balanced by configured size, unbalanced only by real demand.
 *   With a `placementSeed`, the same host slots dealt out in a shuffled order (seeded): every host
 *   still starts with the same number of VMs (±1), but which VMs share a host changes. The same day
 *   from several seeds tells a strategy's habits from the luck of one starting placement.
 */
export function replayInventory(
  trace: Trace,
  hostCount: number,
  vmCount = trace.utilization.length,
  placementSeed?: number,
): DemoInventory {
  if (!Number.isInteger(hostCount) || hostCount < 1) throw new Error(`hosts must be a positive integer, got ${hostCount}`);
  const rows = trace.utilization.length;
  if (!Number.isInteger(vmCount) || vmCount < 1 || vmCount > rows) throw new Error(`vms must be an integer in 1..${rows}, got ${vmCount}`);
  const hosts = Array.from({ length: hostCount }, (_, i) => ({
    name: `host-${String(i + 1).padStart(3, '0')}`,
    cpuCores: DEMO_HOST.cpuCores,
    cpuMhz: DEMO_HOST.cpuCores * DEMO_HOST.mhzPerCore,
    memoryMib: DEMO_HOST.memoryMib,
    migrationGbps: DEMO_HOST.migrationGbps,
  }));
  const perType = Math.ceil(vmCount / VM_TYPES.length);
  const stride = rows / vmCount;
  const slots = Array.from({ length: vmCount }, (_, i) => i % hostCount);
  if (placementSeed !== undefined) {
    if (!Number.isInteger(placementSeed) || placementSeed < 0)
      throw new Error(`placement seed must be a non-negative integer, got ${placementSeed}`);
    const random = seededRandom(placementSeed);
    for (let i = slots.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [slots[i], slots[j]] = [slots[j], slots[i]];
    }
  }
  const vms: DemoVm[] = Array.from({ length: vmCount }, (_, i) => {
    const type = VM_TYPES[Math.floor(i / perType)];
    return {
      name: `vm-${String(i + 1).padStart(4, '0')}`,
      hostName: hosts[slots[i]].name,
      vcpus: Math.ceil(type.cpuMhz / DEMO_HOST.mhzPerCore),
      memoryMib: type.memoryMib,
      cpuMhz: type.cpuMhz,
      traceRow: Math.floor(i * stride),
    };
  });
  return { hosts, vms };
}
