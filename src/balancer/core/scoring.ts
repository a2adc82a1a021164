// The load model and the imbalance metric of DESIGN.md, computed from scratch over a snapshot.
// The planner keeps running sums instead (see planning-state.ts); both must agree.
import { BalanceReport, ClusterSnapshot, HostSnapshot, HostUtilization, PlannerPolicy, VmSnapshot } from './model';

/** Guard against a zero capacity: such a host reads as full as soon as anything is on it. */
export function capacityOf(value: number): number {
  return value > 0 ? value : 1e-9;
}

export function countsInImbalance(host: Pick<HostSnapshot, 'state'>): boolean {
  return host.state === 'connected';
}

/** (5 − L) / (10 √N): the largest imbalance still counted as balanced at threshold L. */
export function imbalanceTarget(threshold: number, connectedHosts: number): number {
  if (connectedHosts <= 0) return Infinity;
  return (5 - threshold) / (10 * Math.sqrt(connectedHosts));
}

/** Max–min utilization gap allowed at threshold L (L ≥ 2); null at L = 1, which has no gap condition. */
export function gapLimitFor(threshold: number): number | null {
  switch (Math.round(threshold)) {
    case 2:
      return 0.3;
    case 3:
      return 0.2;
    case 4:
      return 0.1;
    case 5:
      return 0.05;
    default:
      return threshold >= 5 ? 0.05 : null;
  }
}

/** Priority of a balancing move made while the imbalance is I: 6 − ceil(10·I·√N), clamped to 2..5. */
export function balancingPriority(imbalance: number, connectedHosts: number): number {
  const p = 6 - Math.ceil(10 * imbalance * Math.sqrt(Math.max(connectedHosts, 0)));
  return Math.min(5, Math.max(2, p));
}

/** Population standard deviation (divides by N, not N − 1). */
export function populationStdDev(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return Math.sqrt(squares / n);
}

export function combineImbalance(sigmaCpu: number, sigmaMemory: number, policy: Pick<PlannerPolicy, 'cpuWeight' | 'memoryWeight'>): number {
  return Math.sqrt(policy.cpuWeight * sigmaCpu * sigmaCpu + policy.memoryWeight * sigmaMemory * sigmaMemory);
}

/**
 * u_r(h) = Σ entitlements of the powered-on VMs on h / capacity; memory reserved on h by in-flight
 * migrations towards h counts on its memory (the VM itself still counts on its source).
 */
export function hostUtilizations(snapshot: ClusterSnapshot): HostUtilization[] {
  const cpu = new Map<string, number>();
  const memory = new Map<string, number>();
  for (const vm of snapshot.vms) {
    if (!vm.poweredOn) continue;
    cpu.set(vm.hostId, (cpu.get(vm.hostId) ?? 0) + vm.cpuMhz);
    memory.set(vm.hostId, (memory.get(vm.hostId) ?? 0) + vm.memoryMib);
  }
  for (const m of snapshot.inFlight) memory.set(m.toHostId, (memory.get(m.toHostId) ?? 0) + m.memoryMib);
  return [...snapshot.hosts].sort(compareByName).map((h) => ({
    hostId: h.id,
    hostName: h.name,
    state: h.state,
    cpu: (cpu.get(h.id) ?? 0) / capacityOf(h.cpuCapacityMhz),
    memory: (memory.get(h.id) ?? 0) / capacityOf(h.memoryCapacityMib),
  }));
}

/**
 * Variance (MHz²) of a VM's CPU demand estimate as an estimate of its mean demand: σ²/k for the mean of
 * k samples with standard deviation σ (samples taken as independent). 0 for a powered-off VM or one
 * without a spread or with fewer than two samples. σ is the VM's swing, measured over the swing window
 * (3 hours by default), k the demand window's samples: where demand drifts within the swing window,
 * σ is larger than the spread of the k samples themselves and this overstates the error. For the other
 * demand statistics (p80, max, EWMA) the estimate's error is as large or larger than σ²/k, which then
 * understates it.
 */
export function estimateVariance(vm: Pick<VmSnapshot, 'poweredOn' | 'cpuSigmaMhz' | 'cpuSampleCount'>): number {
  const k = vm.cpuSampleCount ?? 0;
  const sigma = vm.cpuSigmaMhz ?? 0;
  return vm.poweredOn && k >= 2 && sigma > 0 ? (sigma * sigma) / k : 0;
}

/**
 * The imbalance that the demand estimates' sampling error alone accounts for. Each connected host's
 * CPU utilization is off by an error of variance s_h² = Σ σ²/k over its VMs / capacity², so the
 * variance of the measured utilizations exceeds the true one by (1 − 1/N)·(1/N)·Σ s_h² on average:
 * the returned noise is sqrt(w_cpu · that). `scaledVariance` is Σ s_h² over the connected hosts.
 */
export function samplingNoise(scaledVariance: number, connectedHosts: number, cpuWeight: number): number {
  const n = connectedHosts;
  if (n < 2 || !(scaledVariance > 0)) return 0;
  return Math.sqrt((cpuWeight * scaledVariance * (1 - 1 / n)) / n);
}

export function balanceReport(snapshot: ClusterSnapshot, policy: PlannerPolicy): BalanceReport {
  const hosts = hostUtilizations(snapshot);
  const counted = hosts.filter((h) => countsInImbalance(h));
  const cpu = counted.map((h) => h.cpu);
  const memory = counted.map((h) => h.memory);
  const sigmaCpu = populationStdDev(cpu);
  const sigmaMemory = populationStdDev(memory);
  const imbalance = combineImbalance(sigmaCpu, sigmaMemory, policy);
  const n = counted.length;
  const target = imbalanceTarget(policy.migrationThreshold, n);
  const maxMinGap = n === 0 ? 0 : Math.max(Math.max(...cpu) - Math.min(...cpu), Math.max(...memory) - Math.min(...memory));
  const gapLimit = gapLimitFor(policy.migrationThreshold);
  const connected = new Map(snapshot.hosts.filter((h) => countsInImbalance(h)).map((h) => [h.id, capacityOf(h.cpuCapacityMhz)]));
  let scaledVariance = 0;
  for (const vm of snapshot.vms) {
    const capacity = connected.get(vm.hostId);
    if (capacity !== undefined) scaledVariance += estimateVariance(vm) / (capacity * capacity);
  }
  const noise = samplingNoise(scaledVariance, n, policy.cpuWeight);
  const balanced = isBalanced(imbalance, target, maxMinGap, gapLimit, noise);
  return {
    hosts,
    sigmaCpu,
    sigmaMemory,
    imbalance,
    samplingNoise: noise,
    target,
    balanced,
    balancedWithinNoise: balanced && noise > 0 && imbalance > target + SCORE_EPSILON,
    maxMinGap,
    gapLimit,
    connectedHosts: n,
  };
}

/** Tolerance for float noise when comparing an imbalance or a utilization with a limit. */
export const SCORE_EPSILON = 1e-12;

export function isBalanced(imbalance: number, target: number, maxMinGap: number, gapLimit: number | null, samplingNoise = 0): boolean {
  const beyondNoise = samplingNoise > 0 ? Math.sqrt(Math.max(0, imbalance * imbalance - samplingNoise * samplingNoise)) : imbalance;
  return beyondNoise <= target + SCORE_EPSILON && (gapLimit === null || maxMinGap <= gapLimit + SCORE_EPSILON);
}

/** Code-point order, independent of locale: the tie-break everywhere in the balancer. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The planner's order of hosts and VMs: by name, then id. Ids are random (UUIDs) while names are the
 * operator's, so the same cluster gets the same plan whatever ids its database gave it (a replay, a
 * what-if on a copy); ties between equally good moves fall the same way every time.
 */
export function compareByName(a: { name: string; id: string }, b: { name: string; id: string }): number {
  return compareIds(a.name, b.name) || compareIds(a.id, b.id);
}
