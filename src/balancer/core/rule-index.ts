// The planner's indexes over the rules of a snapshot (by VM, by host, per rule) and its affinity
// units: the VMs that active affinity rules tie together, which every move takes as one.
import { RuleSnapshot } from './model';
import { compareIds } from './scoring';

export interface IndexedRule {
  index: number;
  id: string;
  name: string;
  kind: RuleSnapshot['kind'];
  hard: boolean;
  /** Enforced in this state (hard rules always; soft ones unless relaxed). */
  active: boolean;
  /** Member VM indexes present in the snapshot, ascending. */
  vms: number[];
  /** vm-host rules: the host set, as a mask over host indexes. */
  hostMask: Uint8Array | null;
  relation: 'run-on' | 'not-run-on';
}

export interface RuleIndexes {
  rules: IndexedRule[];
  /** Active anti-affinity rules of each VM. */
  antiRulesOfVm: number[][];
  /** Per rule index: member count per host (anti-affinity rules only). */
  antiCount: (Int32Array | null)[];
  /** Active vm-host rules of each VM. */
  hostRulesOfVm: number[][];
  /** Combined active vm-host restriction per VM (null: any host). */
  allowedHosts: (Uint8Array | null)[];
}

/** Rules in id order, with their members as VM indexes and the per-VM and per-host indexes of the active ones. */
export function indexRules(
  snapshotRules: readonly RuleSnapshot[],
  vmIndexById: ReadonlyMap<string, number>,
  hostIndexById: ReadonlyMap<string, number>,
  hostCount: number,
  vmHost: Int32Array,
  enforceSoftRules: boolean,
): RuleIndexes {
  const H = hostCount;
  const V = vmHost.length;
  const sortedRules = [...snapshotRules].sort((a, b) => compareIds(a.id, b.id));
  const rules: IndexedRule[] = sortedRules.map((r, index) => {
    const vms = [...new Set(r.vmIds)]
      .map((id) => vmIndexById.get(id))
      .filter((i): i is number => i !== undefined)
      .sort((a, b) => a - b);
    let hostMask: Uint8Array | null = null;
    if (r.kind === 'vm-host') {
      hostMask = new Uint8Array(H);
      for (const id of r.hostIds ?? []) {
        const h = hostIndexById.get(id);
        if (h !== undefined) hostMask[h] = 1;
      }
    }
    const hard = r.enforcement === 'hard';
    return {
      index,
      id: r.id,
      name: r.name,
      kind: r.kind,
      hard,
      active: hard || enforceSoftRules,
      vms,
      hostMask,
      relation: r.relation ?? 'run-on',
    };
  });
  const antiRulesOfVm: number[][] = Array.from({ length: V }, () => []);
  const hostRulesOfVm: number[][] = Array.from({ length: V }, () => []);
  const antiCount: (Int32Array | null)[] = rules.map(() => null);
  const allowedHosts: (Uint8Array | null)[] = Array.from({ length: V }, () => null);
  for (const rule of rules) {
    if (!rule.active) continue;
    if (rule.kind === 'anti-affinity') {
      const counts = new Int32Array(H);
      for (const v of rule.vms) {
        antiRulesOfVm[v].push(rule.index);
        if (vmHost[v] >= 0) counts[vmHost[v]]++;
      }
      antiCount[rule.index] = counts;
    } else if (rule.kind === 'vm-host') {
      for (const v of rule.vms) {
        hostRulesOfVm[v].push(rule.index);
        let allowed = allowedHosts[v];
        if (!allowed) {
          allowed = new Uint8Array(H).fill(1);
          allowedHosts[v] = allowed;
        }
        for (let h = 0; h < H; h++) {
          const inSet = rule.hostMask![h] === 1;
          if (rule.relation === 'run-on' ? !inSet : inSet) allowed[h] = 0;
        }
      }
    }
  }
  return { rules, antiRulesOfVm, antiCount, hostRulesOfVm, allowedHosts };
}

export interface AffinityUnits {
  /** VMs tied by active affinity rules, members ascending; singletons otherwise. */
  units: number[][];
  unitOfVm: Int32Array;
  unitCpu: Float64Array;
  unitMem: Float64Array;
  unitCost: Float64Array;
  /** Active affinity rules that formed each unit (empty for singletons). */
  unitRules: number[][];
}

/** Affinity units and their summed load and cost, numbered by their lowest VM index. */
export function affinityUnits(
  rules: readonly IndexedRule[],
  vmCpu: Float64Array,
  vmMem: Float64Array,
  vmCostGiB: Float64Array,
): AffinityUnits {
  const V = vmCpu.length;
  // Affinity units by union-find over the active affinity rules.
  const parent = Int32Array.from({ length: V }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  for (const rule of rules) {
    if (!rule.active || rule.kind !== 'affinity') continue;
    for (let i = 1; i < rule.vms.length; i++) {
      const a = find(rule.vms[0]);
      const b = find(rule.vms[i]);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  }
  const unitOfVm = new Int32Array(V);
  const unitByRoot = new Map<number, number>();
  const units: number[][] = [];
  for (let v = 0; v < V; v++) {
    const root = find(v);
    let u = unitByRoot.get(root);
    if (u === undefined) {
      u = units.length;
      unitByRoot.set(root, u);
      units.push([]);
    }
    units[u].push(v);
    unitOfVm[v] = u;
  }
  const U = units.length;
  const unitCpu = new Float64Array(U);
  const unitMem = new Float64Array(U);
  const unitCost = new Float64Array(U);
  const unitRules: number[][] = Array.from({ length: U }, () => []);
  units.forEach((members, u) => {
    for (const v of members) {
      unitCpu[u] += vmCpu[v];
      unitMem[u] += vmMem[v];
      unitCost[u] += vmCostGiB[v];
    }
  });
  for (const rule of rules) {
    if (rule.active && rule.kind === 'affinity' && rule.vms.length > 0) unitRules[unitOfVm[rule.vms[0]]].push(rule.index);
  }
  return { units, unitOfVm, unitCpu, unitMem, unitCost, unitRules };
}
