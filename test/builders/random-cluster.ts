// Seeded random clusters for the balancer's tests and benchmarks (no dependency, deterministic).
import { ClusterSnapshot, HostSnapshot, RuleSnapshot, VmSnapshot } from '../../src/balancer/core/model';

export { seededRandom } from '../../src/balancer/core/random';
import { seededRandom } from '../../src/balancer/core/random';

export interface RandomClusterOptions {
  hosts: number;
  vms: number;
  seed: number;
  /** Equal hosts, or a mix of three sizes. */
  hostKinds?: 'equal' | 'mixed';
  /** Mean utilization the cluster should run at (both resources), default 0.55. */
  fill?: number;
  /** How unevenly VMs land: 0 = uniformly at random, 2 = a few hosts carry most. Default 1. */
  skew?: number;
  antiAffinityRules?: number;
  affinityRules?: number;
  vmHostRules?: number;
  /** Share of rules that are soft. */
  softShare?: number;
  /** Hosts put into entering-maintenance. */
  enteringMaintenance?: number;
  /** Share of VMs powered off, disabled, in cooldown. */
  poweredOffShare?: number;
  disabledShare?: number;
  cooldownShare?: number;
}

const pad = (i: number, width: number) => String(i).padStart(width, '0');

export function randomCluster(opts: RandomClusterOptions): ClusterSnapshot {
  const rnd = seededRandom(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const fill = opts.fill ?? 0.55;
  const skew = opts.skew ?? 1;
  const hw = Math.max(3, String(opts.hosts).length);
  const vw = Math.max(4, String(opts.vms).length);

  const vms: VmSnapshot[] = [];
  let totalCpu = 0;
  let totalMem = 0;
  for (let i = 0; i < opts.vms; i++) {
    const vcpus = pick([1, 1, 2, 2, 2, 4, 4, 8, 16]);
    const configuredMemoryMib = 1024 * pick([2, 4, 4, 8, 8, 16, 32, 64]);
    const poweredOn = rnd() >= (opts.poweredOffShare ?? 0);
    const vm: VmSnapshot = {
      id: `vm-${pad(i, vw)}`,
      name: `vm-${pad(i, vw)}`,
      hostId: '',
      poweredOn,
      cpuMhz: Math.round(vcpus * 2600 * (0.1 + 0.8 * rnd())),
      memoryMib: Math.round(configuredMemoryMib * (0.3 + 0.7 * rnd())),
      configuredMemoryMib,
      automation: rnd() < (opts.disabledShare ?? 0) ? 'disabled' : rnd() < 0.05 ? 'manual' : 'default',
      migrating: false,
      inCooldown: rnd() < (opts.cooldownShare ?? 0),
    };
    if (poweredOn) {
      totalCpu += vm.cpuMhz;
      totalMem += vm.memoryMib;
    }
    vms.push(vm);
  }

  const factors = Array.from({ length: opts.hosts }, () => (opts.hostKinds === 'mixed' ? pick([0.5, 1, 1.5]) : 1));
  const factorSum = factors.reduce((a, b) => a + b, 0);
  const cpuUnit = Math.max(totalCpu, 1) / (factorSum * fill);
  const memUnit = Math.max(totalMem, 1) / (factorSum * fill);
  const hosts: HostSnapshot[] = factors.map((f, i) => ({
    id: `host-${pad(i, hw)}`,
    name: `host-${pad(i, hw)}`,
    state: 'connected',
    cpuCapacityMhz: Math.round(cpuUnit * f),
    memoryCapacityMib: Math.round(memUnit * f),
    migrationGbps: 10,
  }));

  // Uneven placement: host weights exp(skew·z); a VM goes to a weighted-random host it fits on.
  const weights = hosts.map(() => Math.exp(skew * gaussian(rnd)));
  const cpuUsed = new Float64Array(hosts.length);
  const memUsed = new Float64Array(hosts.length);
  const wsum = weights.reduce((a, b) => a + b, 0);
  for (const vm of vms) {
    let placed = -1;
    for (let attempt = 0; attempt < 20 && placed < 0; attempt++) {
      let r = rnd() * wsum;
      let h = 0;
      while (h < hosts.length - 1 && r > weights[h]) r -= weights[h++];
      if (
        !vm.poweredOn ||
        (cpuUsed[h] + vm.cpuMhz <= hosts[h].cpuCapacityMhz * 0.98 && memUsed[h] + vm.memoryMib <= hosts[h].memoryCapacityMib * 0.98)
      )
        placed = h;
    }
    if (placed < 0) {
      // Fall back to the host with the most free memory.
      placed = 0;
      for (let h = 1; h < hosts.length; h++) {
        if (hosts[h].memoryCapacityMib - memUsed[h] > hosts[placed].memoryCapacityMib - memUsed[placed]) placed = h;
      }
    }
    vm.hostId = hosts[placed].id;
    if (vm.poweredOn) {
      cpuUsed[placed] += vm.cpuMhz;
      memUsed[placed] += vm.memoryMib;
    }
  }

  const rules: RuleSnapshot[] = [];
  const enforcement = () => (rnd() < (opts.softShare ?? 0.3) ? 'soft' : 'hard');
  const someVms = (k: number) => {
    const ids = new Set<string>();
    while (ids.size < Math.min(k, vms.length)) ids.add(pick(vms).id);
    return [...ids];
  };
  for (let i = 0; i < (opts.antiAffinityRules ?? 0); i++) {
    rules.push({
      id: `rule-anti-${pad(i, 3)}`,
      name: `keep-apart-${i}`,
      kind: 'anti-affinity',
      enforcement: enforcement(),
      vmIds: someVms(2 + Math.floor(rnd() * 2)),
    });
  }
  for (let i = 0; i < (opts.affinityRules ?? 0); i++) {
    rules.push({
      id: `rule-aff-${pad(i, 3)}`,
      name: `keep-together-${i}`,
      kind: 'affinity',
      enforcement: enforcement(),
      vmIds: someVms(2),
    });
  }
  for (let i = 0; i < (opts.vmHostRules ?? 0); i++) {
    const hostIds = hosts.filter(() => rnd() < 0.5).map((h) => h.id);
    rules.push({
      id: `rule-host-${pad(i, 3)}`,
      name: `host-rule-${i}`,
      kind: 'vm-host',
      enforcement: enforcement(),
      vmIds: someVms(1 + Math.floor(rnd() * 2)),
      hostIds: hostIds.length > 0 ? hostIds : [hosts[0].id],
      relation: rnd() < 0.5 ? 'run-on' : 'not-run-on',
    });
  }
  for (let i = 0; i < (opts.enteringMaintenance ?? 0) && i < hosts.length; i++) hosts[i].state = 'entering-maintenance';
  return { clusterId: `cluster-${opts.seed}`, hosts, vms, rules, inFlight: [] };
}

function gaussian(rnd: () => number): number {
  const u = Math.max(rnd(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}
