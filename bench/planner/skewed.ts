// Skewed clusters of issue "Balancer II": a quarter of the hosts at 90–95 % CPU and memory, the rest
// near 40 %, equal hosts (128 cores at 2.6 GHz, 3 TiB by default), VM sizes spread like real fleets
// (log-normal: most VMs small, a few of hundreds of GiB).
import { ClusterSnapshot, seededRandom, VmSnapshot } from '../../src/balancer/core';

export const SKEW_HOST = { cpuCapacityMhz: 128 * 2600, memoryCapacityMib: 3072 * 1024 };

export function skewedCluster(hosts: number, vms: number, seed: number, host = SKEW_HOST): ClusterSnapshot {
  const rnd = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const hot = Math.round(hosts / 4);
  const target = (h: number) => (h < hot ? 0.9 + 0.05 * rnd() : 0.4 + 0.06 * (rnd() - 0.5));
  const tCpu = Array.from({ length: hosts }, (_, h) => target(h));
  const tMem = Array.from({ length: hosts }, (_, h) => target(h));
  const weight = tCpu.map((t, h) => (t + tMem[h]) / 2);
  const total = weight.reduce((a, b) => a + b, 0);
  const counts = weight.map((w) => Math.max(1, Math.floor((vms * w) / total)));
  for (let h = 0, left = vms - counts.reduce((a, b) => a + b, 0); left > 0; h = (h + 1) % hosts, left--) counts[h]++;
  const out: VmSnapshot[] = [];
  for (let h = 0; h < hosts; h++) {
    const sc = Array.from({ length: counts[h] }, () => Math.exp(0.8 * normal()));
    const sm = sc.map((s) => s * Math.exp(0.4 * normal()));
    const sumC = sc.reduce((a, b) => a + b, 0);
    const sumM = sm.reduce((a, b) => a + b, 0);
    for (let i = 0; i < counts[h]; i++) {
      const memoryMib = Math.round((tMem[h] * host.memoryCapacityMib * sm[i]) / sumM);
      out.push({
        id: `vm-${String(out.length).padStart(6, '0')}`,
        name: `vm-${out.length}`,
        hostId: hostId(h),
        poweredOn: true,
        cpuMhz: (tCpu[h] * host.cpuCapacityMhz * sc[i]) / sumC,
        memoryMib,
        configuredMemoryMib: Math.max(512, Math.round(memoryMib * 1.25)),
        automation: 'default',
        migrating: false,
      });
    }
  }
  return {
    clusterId: `skewed-${hosts}-${vms}`,
    hosts: Array.from({ length: hosts }, (_, h) => ({
      id: hostId(h),
      name: hostId(h),
      state: 'connected' as const,
      ...host,
      migrationGbps: 25,
    })),
    vms: out,
    rules: [],
    inFlight: [],
  };
}

function hostId(h: number): string {
  return `host-${String(h).padStart(4, '0')}`;
}
