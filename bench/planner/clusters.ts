// Benchmark clusters: imbalanced placements, with hard rules the initial placement already keeps
// (so that every planner starts from the same legal state and only balancing is compared).
import { ClusterSnapshot, RuleSnapshot, seededRandom } from '../../src/balancer/core';
import { randomCluster } from '../../test/builders/random-cluster';

export interface BenchClusterOptions {
  hosts: number;
  vms: number;
  seed: number;
  hostKinds?: 'equal' | 'mixed';
  skew?: number;
  fill?: number;
  antiAffinity?: number;
  affinity?: number;
  vmHost?: number;
  soft?: boolean;
}

/** A legal start: no host above 100 % of a resource (the random placement may overflow; then reseed). */
function legal(snap: ClusterSnapshot): boolean {
  return snap.hosts.every((h) => {
    const on = snap.vms.filter((v) => v.poweredOn && v.hostId === h.id);
    return on.reduce((a, v) => a + v.cpuMhz, 0) <= h.cpuCapacityMhz && on.reduce((a, v) => a + v.memoryMib, 0) <= h.memoryCapacityMib;
  });
}

export function benchCluster(o: BenchClusterOptions): ClusterSnapshot {
  let snap = randomCluster({
    hosts: o.hosts,
    vms: o.vms,
    seed: o.seed,
    hostKinds: o.hostKinds ?? 'equal',
    skew: o.skew ?? 1,
    fill: o.fill ?? 0.55,
  });
  for (let attempt = 1; attempt < 50 && !legal(snap); attempt++) {
    snap = randomCluster({
      hosts: o.hosts,
      vms: o.vms,
      seed: o.seed + attempt * 100_003,
      hostKinds: o.hostKinds ?? 'equal',
      skew: o.skew ?? 1,
      fill: o.fill ?? 0.55,
    });
  }
  for (const vm of snap.vms) vm.automation = 'default';
  snap.rules = consistentRules(snap, o.seed * 7919 + 1, o);
  return snap;
}

/** Rules the current placement satisfies: anti-affinity across hosts, affinity within one, run-on incl. the current host. */
function consistentRules(snap: ClusterSnapshot, seed: number, o: BenchClusterOptions): RuleSnapshot[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const rules: RuleSnapshot[] = [];
  const used = new Set<string>();
  const free = () => snap.vms.filter((v) => !used.has(v.id));
  const enforcement = (): 'hard' | 'soft' => (o.soft && rnd() < 0.3 ? 'soft' : 'hard');
  for (let i = 0; i < (o.antiAffinity ?? 0); i++) {
    const a = pick(free());
    const b = free().find((v) => v.hostId !== a.hostId && v.id !== a.id && rnd() < 0.3) ?? free().find((v) => v.hostId !== a.hostId);
    if (!a || !b) break;
    used.add(a.id).add(b.id);
    rules.push({ id: `anti-${i}`, name: `apart-${i}`, kind: 'anti-affinity', enforcement: enforcement(), vmIds: [a.id, b.id] });
  }
  for (let i = 0; i < (o.affinity ?? 0); i++) {
    const a = pick(free());
    const b = free().find((v) => v.hostId === a.hostId && v.id !== a.id);
    if (!a || !b) continue;
    used.add(a.id).add(b.id);
    rules.push({ id: `aff-${i}`, name: `together-${i}`, kind: 'affinity', enforcement: enforcement(), vmIds: [a.id, b.id] });
  }
  for (let i = 0; i < (o.vmHost ?? 0); i++) {
    const a = pick(free());
    if (!a) break;
    used.add(a.id);
    const hostIds = [...new Set([a.hostId, ...snap.hosts.filter(() => rnd() < 0.5).map((h) => h.id)])];
    rules.push({
      id: `host-${i}`,
      name: `pinned-group-${i}`,
      kind: 'vm-host',
      enforcement: enforcement(),
      vmIds: [a.id],
      hostIds,
      relation: 'run-on',
    });
  }
  return rules;
}
