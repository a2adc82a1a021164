// Contention, as DRS's VM happiness: per VM the share of its demand its host can serve, per host the
// demand left unserved, per cluster a score. Pure and O(VMs + hosts): the planner, the API, the
// metrics and the replay all call it on whole snapshots.
import { ClusterSnapshot, HostSnapshot, PlannerPolicy, VmSnapshot } from './model';

export type ContentionCeilings = Pick<PlannerPolicy, 'cpuCeiling' | 'memoryCeiling'>;

export interface HostContention {
  hostId: string;
  hostName: string;
  /** Σ CPU demand of the powered-on VMs, and what the host serves: capacity × CPU ceiling. */
  cpuDemandMhz: number;
  cpuUsableMhz: number;
  cpuDemandUnmetMhz: number;
  /** Σ active memory of the powered-on VMs, against capacity × memory ceiling; above it the host swaps. */
  memoryActiveMib: number;
  memoryUsableMib: number;
  memoryDemandUnmetMib: number;
  poweredOnVms: number;
  contendedVms: number;
}

export interface VmContention {
  vmId: string;
  vmName: string;
  hostId: string;
  cpuDemandMhz: number;
  /** Served / demand, 0..1 (1 when the VM demands nothing). */
  cpuServedShare: number;
  memoryActiveMib: number;
  memoryServedShare: number;
  /** 1 − min(CPU share, memory share): 0 = fully served. */
  contention: number;
}

export interface ContentionReport {
  /** 0..100: the demand-weighted mean of the VMs' served shares (min of CPU and memory) × 100. */
  score: number;
  cpuDemandMhz: number;
  cpuDemandUnmetMhz: number;
  memoryActiveMib: number;
  memoryDemandUnmetMib: number;
  /** Powered-on VMs short of CPU or memory. */
  contendedVms: number;
  poweredOnVms: number;
  hosts: HostContention[];
  /** The most contended VMs, most contended first; only VMs short of something. */
  mostContendedVms: VmContention[];
}

/** A VM counts as contended above this (float noise of the proportional split stays below it). */
export const CONTENDED_ABOVE = 1e-9;
export const DEFAULT_TOP_VMS = 20;

export const cpuDemandOf = (vm: VmSnapshot): number => Math.max(0, vm.cpuDemandMhz ?? vm.cpuMhz);
export const memoryActiveOf = (vm: VmSnapshot): number => Math.max(0, vm.memoryActiveMib ?? vm.memoryMib);
const reservedOf = (vm: VmSnapshot, demand: number): number => Math.min(demand, Math.max(0, vm.cpuReservationMhz ?? 0));

/**
 * How a host short of CPU splits it: each VM first gets what it reserved (scaled down alike if the
 * reservations alone exceed the host), then the rest in proportion to its unreserved demand — DRS's
 * shares with equal shares per MHz demanded. Returns the factors applied to the reserved and the
 * unreserved part of every VM's demand.
 */
export function cpuSplit(usableMhz: number, demandMhz: number, reservedMhz: number): { reserved: number; unreserved: number } {
  if (demandMhz <= usableMhz) return { reserved: 1, unreserved: 1 };
  if (reservedMhz >= usableMhz) return { reserved: reservedMhz > 0 ? Math.max(0, usableMhz) / reservedMhz : 0, unreserved: 0 };
  return { reserved: 1, unreserved: (usableMhz - reservedMhz) / (demandMhz - reservedMhz) };
}

/** Share of active memory a host holds in RAM: usable / Σ active when it swaps, else 1. */
export function memoryShare(usableMib: number, activeMib: number): number {
  return activeMib <= usableMib ? 1 : Math.max(0, usableMib) / activeMib;
}

/** The cluster's contention now; `topVms` bounds mostContendedVms. */
export function contentionReport(snapshot: ClusterSnapshot, ceilings: ContentionCeilings, topVms = DEFAULT_TOP_VMS): ContentionReport {
  const { hosts, vms } = snapshot;
  const n = hosts.length;
  const indexOf = new Map<string, number>();
  for (let i = 0; i < n; i++) indexOf.set(hosts[i].id, i);
  const cpuDemand = new Float64Array(n);
  const cpuReserved = new Float64Array(n);
  const memActive = new Float64Array(n);
  const poweredOn = new Uint32Array(n);
  const contended = new Uint32Array(n);
  // Each VM's host index (−1: powered off or on a host not in the snapshot, left out).
  const at = new Int32Array(vms.length).fill(-1);
  const vmDemand = new Float64Array(vms.length);
  const vmReserved = new Float64Array(vms.length);
  const vmActive = new Float64Array(vms.length);
  let totalCpu = 0;
  let totalMem = 0;
  for (let v = 0; v < vms.length; v++) {
    const vm = vms[v];
    const i = vm.poweredOn ? indexOf.get(vm.hostId) : undefined;
    if (i === undefined) continue;
    at[v] = i;
    const demand = (vmDemand[v] = cpuDemandOf(vm));
    const active = (vmActive[v] = memoryActiveOf(vm));
    cpuDemand[i] += demand;
    cpuReserved[i] += vmReserved[v] = reservedOf(vm, demand);
    memActive[i] += active;
    poweredOn[i]++;
    totalCpu += demand;
    totalMem += active;
  }

  const reservedFactor = new Float64Array(n);
  const unreservedFactor = new Float64Array(n);
  const memFactor = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const split = cpuSplit(hosts[i].cpuCapacityMhz * ceilings.cpuCeiling, cpuDemand[i], cpuReserved[i]);
    reservedFactor[i] = split.reserved;
    unreservedFactor[i] = split.unreserved;
    memFactor[i] = memoryShare(hosts[i].memoryCapacityMib * ceilings.memoryCeiling, memActive[i]);
  }

  // A VM's weight: the mean of its fractions of the cluster's CPU and memory demand (a resource nobody
  // demands drops out), so that neither unit dominates the score.
  const cpuWeight = totalCpu > 0 ? (totalMem > 0 ? 0.5 : 1) / totalCpu : 0;
  const memWeight = totalMem > 0 ? (totalCpu > 0 ? 0.5 : 1) / totalMem : 0;
  let weighted = 0;
  let weights = 0;
  let contendedVms = 0;
  const top = new TopContended(topVms);
  for (let v = 0; v < vms.length; v++) {
    const i = at[v];
    if (i < 0) continue;
    const demand = vmDemand[v];
    const active = vmActive[v];
    const reserved = vmReserved[v];
    const served = reserved * reservedFactor[i] + (demand - reserved) * unreservedFactor[i];
    const cpuShare = demand > 0 ? Math.min(1, served / demand) : 1;
    const memShare = active > 0 ? memFactor[i] : 1;
    const share = Math.min(cpuShare, memShare);
    const weight = demand * cpuWeight + active * memWeight;
    weighted += weight * share;
    weights += weight;
    const contention = 1 - share;
    if (contention <= CONTENDED_ABOVE) continue;
    contended[i]++;
    contendedVms++;
    const vm = vms[v];
    top.offer(contention, () => ({
      vmId: vm.id,
      vmName: vm.name,
      hostId: vm.hostId,
      cpuDemandMhz: demand,
      cpuServedShare: cpuShare,
      memoryActiveMib: active,
      memoryServedShare: memShare,
      contention,
    }));
  }

  let cpuUnmet = 0;
  let memUnmet = 0;
  const hostReports = hosts.map((host: HostSnapshot, i): HostContention => {
    const cpuUsableMhz = host.cpuCapacityMhz * ceilings.cpuCeiling;
    const memoryUsableMib = host.memoryCapacityMib * ceilings.memoryCeiling;
    const cpuDemandUnmetMhz = Math.max(0, cpuDemand[i] - Math.max(0, cpuUsableMhz));
    const memoryDemandUnmetMib = Math.max(0, memActive[i] - Math.max(0, memoryUsableMib));
    cpuUnmet += cpuDemandUnmetMhz;
    memUnmet += memoryDemandUnmetMib;
    return {
      hostId: host.id,
      hostName: host.name,
      cpuDemandMhz: cpuDemand[i],
      cpuUsableMhz,
      cpuDemandUnmetMhz,
      memoryActiveMib: memActive[i],
      memoryUsableMib,
      memoryDemandUnmetMib,
      poweredOnVms: poweredOn[i],
      contendedVms: contended[i],
    };
  });

  return {
    score: weights > 0 ? (100 * weighted) / weights : 100,
    cpuDemandMhz: totalCpu,
    cpuDemandUnmetMhz: cpuUnmet,
    memoryActiveMib: totalMem,
    memoryDemandUnmetMib: memUnmet,
    contendedVms,
    poweredOnVms: hostReports.reduce((sum, h) => sum + h.poweredOnVms, 0),
    hosts: hostReports,
    mostContendedVms: top.sorted(),
  };
}

/** One host's figures, with the VMs given as its own (the planner's view of a host after a move, say). */
export function hostContention(host: HostSnapshot, vms: readonly VmSnapshot[], ceilings: ContentionCeilings): HostContention {
  const own = vms.filter((vm) => vm.hostId === host.id);
  return contentionReport({ clusterId: '', hosts: [host], vms: own, rules: [], inFlight: [] }, ceilings, 0).hosts[0];
}

/** The k most contended VMs seen, kept sorted (k is small: an insertion per VM that makes the cut). */
class TopContended {
  private readonly kept: VmContention[] = [];

  constructor(private readonly k: number) {}

  offer(contention: number, make: () => VmContention): void {
    if (this.k <= 0) return;
    if (this.kept.length === this.k && contention <= this.kept[this.k - 1].contention) return;
    const entry = make();
    let at = this.kept.length;
    while (at > 0 && this.kept[at - 1].contention < contention) at--;
    this.kept.splice(at, 0, entry);
    if (this.kept.length > this.k) this.kept.pop();
  }

  sorted(): VmContention[] {
    return this.kept;
  }
}
