// A generated VM's utilization sample, as the benchmarks post them to POST /api/v1/samples.

/** A VM's sample at `timestamp` when it uses a share `util` (0–1) of its vCPUs: memory and dirty rate follow. */
export function vmSample(vm: { id: string; vcpus: number; memoryMib: number }, util: number, timestamp: number) {
  return {
    vmId: vm.id,
    timestamp,
    cpuMhz: Math.round(util * vm.vcpus * 2600),
    memoryActiveMib: Math.round(vm.memoryMib * (0.15 + 0.5 * util)),
    memoryConsumedMib: Math.round(vm.memoryMib * 0.85),
    memoryDirtyMibPerSecond: Math.round(5 + 100 * util),
  };
}
