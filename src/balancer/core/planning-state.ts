// The planner's mutable, index-based copy of a snapshot: host loads, running sums Σu and Σu² per
// resource over the connected hosts, rule indexes and affinity units (rule-index.ts). A candidate move is scored
// in O(resources) from the sums; applying a move touches two hosts.
import { ClusterSnapshot, HostSnapshot, PlannerPolicy, VmSnapshot } from './model';
import { affinityUnits, IndexedRule, indexRules } from './rule-index';
import { capacityOf, compareByName, estimateVariance, gapLimitFor, imbalanceTarget, isBalanced, samplingNoise } from './scoring';

export interface StateOptions {
  /** Attempt 1 treats soft rules like hard ones; the relaxed attempt ignores them. */
  enforceSoftRules: boolean;
}

export type MovePurpose = 'mandatory' | 'balance' | 'placement';

/** A VM or a group of VMs moving together from one host to another (from = -1: initial placement). */
export interface Move {
  vms: readonly number[];
  from: number;
  to: number;
  purpose: MovePurpose;
}

export const UNPLACED = -1;

export class PlanningState {
  readonly hosts: readonly HostSnapshot[];
  readonly vms: readonly VmSnapshot[];
  readonly hostIndexById = new Map<string, number>();
  readonly vmIndexById = new Map<string, number>();
  readonly hostCount: number;
  readonly vmCount: number;
  readonly wCpu: number;
  readonly wMem: number;

  readonly connected: Uint8Array;
  /** Sources a VM can be migrated away from (the host answers): everything but disconnected. */
  readonly reachable: Uint8Array;
  readonly capCpu: Float64Array;
  readonly capMem: Float64Array;
  readonly loadCpu: Float64Array;
  readonly loadMem: Float64Array;
  readonly reservedMem: Float64Array;
  readonly uCpu: Float64Array;
  readonly uMem: Float64Array;

  readonly vmHost: Int32Array;
  /** Load the VM puts on its host: its entitlement when powered on, 0 otherwise. */
  readonly vmCpu: Float64Array;
  readonly vmMem: Float64Array;
  /** σ² of the VM's CPU demand (MHz²), and its sum per host (VMs independent): forecast.ts. */
  readonly vmCpuVar: Float64Array;
  readonly hostCpuVar: Float64Array;
  /** Variance of the VM's CPU demand estimate (σ²/k, scoring.ts estimateVariance), and its sum per host. */
  readonly vmEstimateVar: Float64Array;
  readonly hostEstimateVar: Float64Array;
  /** GiB copied by a live migration (0 for a powered-off VM). */
  readonly vmCostGiB: Float64Array;
  readonly vmMigrating: Uint8Array;
  readonly vmDisabled: Uint8Array;
  readonly vmCooldown: Uint8Array;

  readonly rules: IndexedRule[];
  /** Active anti-affinity rules of each VM. */
  readonly antiRulesOfVm: number[][];
  /** Per rule index: member count per host (anti-affinity rules only). */
  readonly antiCount: (Int32Array | null)[];
  /** Active vm-host rules of each VM. */
  readonly hostRulesOfVm: number[][];
  /** Combined active vm-host restriction per VM (null: any host). */
  readonly allowedHosts: (Uint8Array | null)[];

  /** Affinity units: VMs tied by active affinity rules, members ascending; singletons otherwise. */
  readonly units: number[][];
  readonly unitOfVm: Int32Array;
  readonly unitCpu: Float64Array;
  readonly unitMem: Float64Array;
  readonly unitCost: Float64Array;
  /** Active affinity rules that formed each unit (empty for singletons). */
  readonly unitRules: number[][];

  private dirty = true;
  private n = 0;
  private s1Cpu = 0;
  private s1Mem = 0;
  private imbalance2Value = 0;
  private gapValue = 0;
  private noiseValue = 0;

  constructor(
    snapshot: ClusterSnapshot,
    readonly policy: PlannerPolicy,
    readonly options: StateOptions,
  ) {
    this.hosts = [...snapshot.hosts].sort(compareByName);
    this.vms = [...snapshot.vms].sort(compareByName);
    const H = (this.hostCount = this.hosts.length);
    const V = (this.vmCount = this.vms.length);
    this.wCpu = policy.cpuWeight;
    this.wMem = policy.memoryWeight;
    this.hosts.forEach((h, i) => this.hostIndexById.set(h.id, i));
    this.vms.forEach((v, i) => this.vmIndexById.set(v.id, i));

    this.connected = new Uint8Array(H);
    this.reachable = new Uint8Array(H);
    this.capCpu = new Float64Array(H);
    this.capMem = new Float64Array(H);
    this.loadCpu = new Float64Array(H);
    this.loadMem = new Float64Array(H);
    this.reservedMem = new Float64Array(H);
    this.uCpu = new Float64Array(H);
    this.uMem = new Float64Array(H);
    this.hosts.forEach((h, i) => {
      this.connected[i] = h.state === 'connected' ? 1 : 0;
      this.reachable[i] = h.state === 'disconnected' ? 0 : 1;
      this.capCpu[i] = capacityOf(h.cpuCapacityMhz);
      this.capMem[i] = capacityOf(h.memoryCapacityMib);
    });

    this.vmHost = new Int32Array(V);
    this.vmCpu = new Float64Array(V);
    this.vmMem = new Float64Array(V);
    this.vmCpuVar = new Float64Array(V);
    this.hostCpuVar = new Float64Array(H);
    this.vmEstimateVar = new Float64Array(V);
    this.hostEstimateVar = new Float64Array(H);
    this.vmCostGiB = new Float64Array(V);
    this.vmMigrating = new Uint8Array(V);
    this.vmDisabled = new Uint8Array(V);
    this.vmCooldown = new Uint8Array(V);
    this.vms.forEach((vm, i) => {
      const h = this.hostIndexById.get(vm.hostId);
      this.vmHost[i] = h === undefined ? UNPLACED : h;
      this.vmCpu[i] = vm.poweredOn ? Math.max(0, vm.cpuMhz) : 0;
      this.vmMem[i] = vm.poweredOn ? Math.max(0, vm.memoryMib) : 0;
      this.vmCpuVar[i] = vm.poweredOn ? Math.max(0, vm.cpuSigmaMhz ?? 0) ** 2 : 0;
      this.vmEstimateVar[i] = estimateVariance(vm);
      this.vmCostGiB[i] = vm.poweredOn ? Math.max(0, vm.configuredMemoryMib) / 1024 : 0;
      this.vmMigrating[i] = vm.migrating ? 1 : 0;
      this.vmDisabled[i] = vm.automation === 'disabled' ? 1 : 0;
      this.vmCooldown[i] = vm.inCooldown ? 1 : 0;
      if (h !== undefined) {
        this.loadCpu[h] += this.vmCpu[i];
        this.loadMem[h] += this.vmMem[i];
        this.hostCpuVar[h] += this.vmCpuVar[i];
        this.hostEstimateVar[h] += this.vmEstimateVar[i];
      }
    });
    for (const m of snapshot.inFlight) {
      const to = this.hostIndexById.get(m.toHostId);
      if (to !== undefined) this.reservedMem[to] += Math.max(0, m.memoryMib);
      const vm = this.vmIndexById.get(m.vmId);
      if (vm !== undefined) this.vmMigrating[vm] = 1;
    }
    for (let h = 0; h < H; h++) {
      this.loadMem[h] += this.reservedMem[h];
      this.uCpu[h] = this.loadCpu[h] / this.capCpu[h];
      this.uMem[h] = this.loadMem[h] / this.capMem[h];
    }

    const ruleIndexes = indexRules(snapshot.rules, this.vmIndexById, this.hostIndexById, H, this.vmHost, options.enforceSoftRules);
    this.rules = ruleIndexes.rules;
    this.antiRulesOfVm = ruleIndexes.antiRulesOfVm;
    this.antiCount = ruleIndexes.antiCount;
    this.hostRulesOfVm = ruleIndexes.hostRulesOfVm;
    this.allowedHosts = ruleIndexes.allowedHosts;
    const units = affinityUnits(this.rules, this.vmCpu, this.vmMem, this.vmCostGiB);
    this.units = units.units;
    this.unitOfVm = units.unitOfVm;
    this.unitCpu = units.unitCpu;
    this.unitMem = units.unitMem;
    this.unitCost = units.unitCost;
    this.unitRules = units.unitRules;
  }

  // ---- moving VMs ----

  placeVm(v: number, to: number): void {
    const from = this.vmHost[v];
    if (from === to) return;
    const c = this.vmCpu[v];
    const m = this.vmMem[v];
    if (from >= 0) {
      this.loadCpu[from] -= c;
      this.loadMem[from] -= m;
      this.hostCpuVar[from] -= this.vmCpuVar[v];
      this.hostEstimateVar[from] -= this.vmEstimateVar[v];
      this.uCpu[from] = this.loadCpu[from] / this.capCpu[from];
      this.uMem[from] = this.loadMem[from] / this.capMem[from];
    }
    if (to >= 0) {
      this.loadCpu[to] += c;
      this.loadMem[to] += m;
      this.hostCpuVar[to] += this.vmCpuVar[v];
      this.hostEstimateVar[to] += this.vmEstimateVar[v];
      this.uCpu[to] = this.loadCpu[to] / this.capCpu[to];
      this.uMem[to] = this.loadMem[to] / this.capMem[to];
    }
    for (const r of this.antiRulesOfVm[v]) {
      const counts = this.antiCount[r]!;
      if (from >= 0) counts[from]--;
      if (to >= 0) counts[to]++;
    }
    this.vmHost[v] = to;
    this.dirty = true;
  }

  applyMove(move: Move): void {
    for (const v of move.vms) this.placeVm(v, move.to);
  }

  /** The host all members of a unit are on, or -2 when the unit is split across hosts. */
  unitHost(u: number): number {
    const members = this.units[u];
    const h = this.vmHost[members[0]];
    for (let i = 1; i < members.length; i++) if (this.vmHost[members[i]] !== h) return -2;
    return h;
  }

  /** Members of unit u currently on host h. */
  unitMembersOn(u: number, h: number): number[] {
    return this.units[u].filter((v) => this.vmHost[v] === h);
  }

  moveLoad(vms: readonly number[]): { cpu: number; mem: number; cost: number } {
    let cpu = 0;
    let mem = 0;
    let cost = 0;
    for (const v of vms) {
      cpu += this.vmCpu[v];
      mem += this.vmMem[v];
      cost += this.vmCostGiB[v];
    }
    return { cpu, mem, cost };
  }

  // ---- scoring ----

  private refresh(): void {
    if (!this.dirty) return;
    let n = 0;
    let s1c = 0;
    let s1m = 0;
    let minC = Infinity;
    let maxC = -Infinity;
    let minM = Infinity;
    let maxM = -Infinity;
    const H = this.hostCount;
    for (let h = 0; h < H; h++) {
      if (!this.connected[h]) continue;
      n++;
      const c = this.uCpu[h];
      const m = this.uMem[h];
      s1c += c;
      s1m += m;
      if (c < minC) minC = c;
      if (c > maxC) maxC = c;
      if (m < minM) minM = m;
      if (m > maxM) maxM = m;
    }
    let varC = 0;
    let varM = 0;
    let estimates = 0;
    if (n > 0) {
      const mc = s1c / n;
      const mm = s1m / n;
      for (let h = 0; h < H; h++) {
        if (!this.connected[h]) continue;
        const dc = this.uCpu[h] - mc;
        const dm = this.uMem[h] - mm;
        varC += dc * dc;
        varM += dm * dm;
        if (this.hostEstimateVar[h] > 0) estimates += this.hostEstimateVar[h] / (this.capCpu[h] * this.capCpu[h]);
      }
      varC /= n;
      varM /= n;
    }
    this.n = n;
    this.s1Cpu = s1c;
    this.s1Mem = s1m;
    this.imbalance2Value = this.wCpu * varC + this.wMem * varM;
    this.gapValue = n === 0 ? 0 : Math.max(maxC - minC, maxM - minM);
    this.noiseValue = samplingNoise(estimates, n, this.wCpu);
    this.dirty = false;
  }

  get connectedCount(): number {
    this.refresh();
    return this.n;
  }

  get meanCpu(): number {
    this.refresh();
    return this.n ? this.s1Cpu / this.n : 0;
  }

  get meanMem(): number {
    this.refresh();
    return this.n ? this.s1Mem / this.n : 0;
  }

  get sumCpu(): number {
    this.refresh();
    return this.s1Cpu;
  }

  get sumMem(): number {
    this.refresh();
    return this.s1Mem;
  }

  /** I of the current state. */
  imbalance(): number {
    this.refresh();
    return Math.sqrt(this.imbalance2Value);
  }

  imbalance2(): number {
    this.refresh();
    return this.imbalance2Value;
  }

  /** The part of I the demand estimates' sampling error accounts for (scoring.ts, samplingNoise). */
  samplingNoise(): number {
    this.refresh();
    return this.noiseValue;
  }

  maxMinGap(): number {
    this.refresh();
    return this.gapValue;
  }

  target(): number {
    return imbalanceTarget(this.policy.migrationThreshold, this.connectedCount);
  }

  balanced(): boolean {
    return isBalanced(this.imbalance(), this.target(), this.maxMinGap(), gapLimitFor(this.policy.migrationThreshold), this.samplingNoise());
  }

  /**
   * Change of σ_r² when load e (MHz or MiB) leaves host a for host b, from the running sums:
   * only the two hosts' terms of Σu and Σu² change. Either host may be outside the connected set.
   */
  protected resourceDelta(e: number, a: number, b: number, cap: Float64Array, u: Float64Array, s1: number): number {
    if (e === 0) return 0;
    let dS1 = 0;
    let dS2 = 0;
    if (a >= 0 && this.connected[a]) {
      const x = e / cap[a];
      dS1 -= x;
      dS2 += x * x - 2 * u[a] * x;
    }
    if (b >= 0 && this.connected[b]) {
      const x = e / cap[b];
      dS1 += x;
      dS2 += x * x + 2 * u[b] * x;
    }
    const n = this.n;
    return (dS2 - (2 * s1 * dS1 + dS1 * dS1) / n) / n;
  }

  /** Change of I² (weighted) for moving load (cpu, mem) from a to b. O(resources). */
  deltaImbalance2(cpu: number, mem: number, a: number, b: number): number {
    this.refresh();
    if (this.n === 0) return 0;
    return (
      this.wCpu * this.resourceDelta(cpu, a, b, this.capCpu, this.uCpu, this.s1Cpu) +
      this.wMem * this.resourceDelta(mem, a, b, this.capMem, this.uMem, this.s1Mem)
    );
  }

  /** I after moving load (cpu, mem) from host a to host b, without applying it. */
  imbalanceAfter(cpu: number, mem: number, a: number, b: number): number {
    const next = this.imbalance2() + this.deltaImbalance2(cpu, mem, a, b);
    return next > 0 ? Math.sqrt(next) : 0;
  }

  /** Weighted change of σ_cpu² and σ_mem² separately, to name the resource a move balances. */
  resourceDeltas(cpu: number, mem: number, a: number, b: number): { cpu: number; mem: number } {
    this.refresh();
    if (this.n === 0) return { cpu: 0, mem: 0 };
    return {
      cpu: this.wCpu * this.resourceDelta(cpu, a, b, this.capCpu, this.uCpu, this.s1Cpu),
      mem: this.wMem * this.resourceDelta(mem, a, b, this.capMem, this.uMem, this.s1Mem),
    };
  }

  /** Weighted utilization, used to rank hosts from most to least loaded. */
  weightedLoad(h: number): number {
    return this.wCpu * this.uCpu[h] + this.wMem * this.uMem[h];
  }

  overCeiling(h: number): boolean {
    return this.uCpu[h] > this.policy.cpuCeiling + 1e-9 || this.uMem[h] > this.policy.memoryCeiling + 1e-9;
  }

  /** Connected hosts above a ceiling, and by how much in total. */
  overload(): { hosts: number; excess: number } {
    let hosts = 0;
    let excess = 0;
    for (let h = 0; h < this.hostCount; h++) {
      if (!this.connected[h] || !this.overCeiling(h)) continue;
      hosts++;
      excess += Math.max(0, this.uCpu[h] - this.policy.cpuCeiling) + Math.max(0, this.uMem[h] - this.policy.memoryCeiling);
    }
    return { hosts, excess };
  }

  /** A VM the planner may migrate at all (for any reason). */
  vmMovable(v: number): boolean {
    const h = this.vmHost[v];
    return h >= 0 && this.reachable[h] === 1 && !this.vmDisabled[v] && !this.vmMigrating[v];
  }
}
