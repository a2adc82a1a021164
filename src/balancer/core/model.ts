// Snapshot model of a cluster as the balancer sees it, the planner policy, and the plan it returns.
// Everything here is plain data: the Nest adapter builds snapshots from the database.

export type Resource = 'cpu' | 'memory';
export const RESOURCES: readonly Resource[] = ['cpu', 'memory'];

export type HostState = 'connected' | 'maintenance' | 'entering-maintenance' | 'disconnected';
export type VmAutomation = 'default' | 'manual' | 'disabled';

export interface HostSnapshot {
  id: string;
  name: string;
  state: HostState;
  cpuCapacityMhz: number;
  /** Already net of host overhead. */
  memoryCapacityMib: number;
  migrationGbps: number;
}

export interface VmSnapshot {
  id: string;
  name: string;
  hostId: string;
  poweredOn: boolean;
  /** Entitlement used by the load model (demand clamped to reservation/limit, or configured size). */
  cpuMhz: number;
  memoryMib: number;
  /** Memory a live migration has to copy (GiB copied = configuredMemoryMib / 1024). */
  configuredMemoryMib: number;
  /**
   * 'disabled': counts for load, never moves. 'manual': the planner may move it; the scheduler
   * does not apply such moves automatically.
   */
  automation: VmAutomation;
  /** Why the VM's platform holds it where it is (automation is then 'disabled'): said in explanations. */
  heldBy?: string;
  /** In-flight migration: never moved. */
  migrating: boolean;
  /** Moved recently: not moved for balancing (mandatory moves still allowed). */
  inCooldown?: boolean;
  /**
   * What the VM asks for now, for contention (contention.ts): CPU demand capped by its limit but not
   * raised to its reservation (a reservation is a promise, not a need); absent, cpuMhz stands in.
   */
  cpuDemandMhz?: number;
  /** CPU the VM is promised first when its host runs short; absent, 0. */
  cpuReservationMhz?: number;
  /** Memory the VM touches (active plus the idle tax, capped by its limit); absent, memoryMib stands in. */
  memoryActiveMib?: number;
  /**
   * The VM's swing: standard deviation of its CPU samples over the swing window (MHz, at least the
   * demand window): how far its next interval may stray from cpuMhz. Absent or 0: a steady VM (forecast.ts).
   */
  cpuSigmaMhz?: number;
  /** How many samples cpuMhz comes from (the demand window's); absent with no samples. */
  cpuSampleCount?: number;
}

/** Only enabled rules are passed; groups are already resolved to member ids. */
export interface RuleSnapshot {
  id: string;
  name: string;
  kind: 'affinity' | 'anti-affinity' | 'vm-host';
  enforcement: 'hard' | 'soft';
  vmIds: string[];
  hostIds?: string[];
  relation?: 'run-on' | 'not-run-on';
}

/** The target holds `memoryMib` as reserved until the migration ends; the VM still counts on its source. */
export interface InFlightMigration {
  vmId: string;
  fromHostId: string;
  toHostId: string;
  memoryMib: number;
  cpuMhz: number;
}

export interface ClusterSnapshot {
  clusterId: string;
  hosts: HostSnapshot[];
  vms: VmSnapshot[];
  rules: RuleSnapshot[];
  inFlight: InFlightMigration[];
}

export interface PlannerPolicy {
  /** 1..5. 1 = mandatory moves only; 3 = default; 5 = balance as far as moves pay for themselves. */
  migrationThreshold: number;
  /** cpuWeight + memoryWeight = 1. */
  cpuWeight: number;
  memoryWeight: number;
  /** VM moves per pass, mandatory moves included (mandatory moves are never refused for budget). */
  maxMovesPerPass: number;
  /** VM moves per pass with a given host as source or target. */
  maxMovesPerHost: number;
  /** λ: drop of N·I² a balancing move must bring per mean host's memory it copies (worth.ts). */
  costWeight: number;
  /** Minimum drop of N·I² for a balancing move. */
  minGain: number;
  /** Fraction of capacity no move may push a target beyond. */
  cpuCeiling: number;
  memoryCeiling: number;
}

/**
 * Defaults, and why:
 * - maxMovesPerPass 100: enough for a 100-host cluster to converge in one pass; the migration
 *   engine's concurrency caps pace the execution anyway, and the next pass (5 min later) continues.
 * - maxMovesPerHost 32: 8 rounds of the default 4 concurrent migrations per host, which fits a
 *   5-minute pass interval for VMs of a few GiB on 10 GbE.
 * - costWeight 0.02 and minGain 1e-5, in units that do not depend on the cluster's size (worth.ts):
 *   a move's benefit is the drop of N·I², its cost λ × the memory it copies as a share of a mean
 *   host's. A VM holding a share x of its host's CPU and memory, moved between hosts whose
 *   utilizations differ by g, gains ≈ 2x(g − x) and costs 0.02·x: it moves when the gap exceeds its
 *   own share by more than one point, at 4 hosts as at 1,000 and on 256 GiB hosts as on 4 TiB ones.
 *   Churn (moves between hosts a point apart) is refused; crumbs below 1e-5 never move; a host
 *   above the band is relieved whatever the cost (relief.ts); and the planner stops as soon as the
 *   cluster counts as balanced for the threshold.
 */
export const DEFAULT_PLANNER_POLICY: Readonly<PlannerPolicy> = Object.freeze({
  migrationThreshold: 3,
  cpuWeight: 0.5,
  memoryWeight: 0.5,
  maxMovesPerPass: 100,
  maxMovesPerHost: 32,
  costWeight: 0.02,
  minGain: 1e-5,
  cpuCeiling: 1.0,
  memoryCeiling: 1.0,
});

export interface HostUtilization {
  hostId: string;
  hostName: string;
  state: HostState;
  /** Fractions of capacity (1 = 100 %). */
  cpu: number;
  memory: number;
}

export interface BalanceReport {
  hosts: HostUtilization[];
  /** Population standard deviations over connected hosts. */
  sigmaCpu: number;
  sigmaMemory: number;
  /** I = sqrt(w_cpu σ_cpu² + w_mem σ_mem²). */
  imbalance: number;
  /**
   * The part of I the demand estimates' sampling error alone accounts for (scoring.ts, samplingNoise):
   * 0 without CPU spreads. Balanced compares sqrt(I² − samplingNoise²) with the target.
   */
  samplingNoise: number;
  /** (5 − L) / (10 √N). */
  target: number;
  /** sqrt(I² − samplingNoise²) ≤ target, and the max–min gap within its limit. */
  balanced: boolean;
  /** Balanced although I itself is above the target: the sampling noise accounts for the rest. */
  balancedWithinNoise: boolean;
  /** Max over resources of (max u − min u) over connected hosts. */
  maxMinGap: number;
  /** 0.30 / 0.20 / 0.10 / 0.05 for L = 2 / 3 / 4 / 5; null at L = 1 (no gap condition). */
  gapLimit: number | null;
  connectedHosts: number;
}

export type MoveReason =
  | 'maintenance'
  | 'rule-violation'
  | 'overcommit'
  | 'contention'
  | 'above-band'
  | 'forecast-peak'
  | 'balance-cpu'
  | 'balance-memory'
  | 'placement';

export const MANDATORY_PRIORITY = 1;

export interface PlannedMove {
  vmId: string;
  vmName: string;
  fromHostId: string;
  toHostId: string;
  /** 1 = mandatory, 2..5 = balancing (6 − ceil(10·I·√N)); soft-rule fixes are 2. */
  priority: number;
  reason: MoveReason;
  explanation: string;
  /** Drop in I caused by this move (for a group, by the whole group). Negative when a mandatory move costs balance. */
  gain: number;
  /** GiB of memory copied by this VM's migration (0 for a powered-off VM). */
  cost: number;
  /** I after this move (for a group, after the whole group). */
  imbalanceAfter: number;
  /** Set on VMs of a hard affinity group that must migrate together: same id for the whole group. */
  groupId?: string;
  /** The rule a rule-violation move fixes. */
  ruleId?: string;
}

export type NotMovedReason =
  'pinned' | 'no-room' | 'rule-forbids' | 'not-worth-cost' | 'no-gain' | 'cooldown' | 'migrating' | 'budget' | 'host-unreachable';

export interface NotMovedVm {
  vmId: string;
  vmName: string;
  hostId: string;
  reason: NotMovedReason;
  explanation: string;
}

export interface Plan {
  clusterId: string;
  before: BalanceReport;
  after: BalanceReport;
  moves: PlannedMove[];
  notMoved: NotMovedVm[];
  /**
   * Ids of the soft rules the plan ignores: keeping them left a host over its ceiling, or blocked a
   * mandatory move (an evacuation, a hard-rule fix).
   */
  softRulesRelaxed?: string[];
  /**
   * Set when the plan's search was cut because other plans waited behind it (PlanRunner's searchShareFor): the share
   * of the search budgets it had, and how many plans waited.
   */
  searchCut?: { share: number; waiting: number };
}

/** Why a VM with automation 'disabled' stays: its platform's hold when it has one, else the setting. */
export function pinnedWhy(vm: Pick<VmSnapshot, 'name' | 'heldBy'>): string {
  return vm.heldBy ? `${vm.name} is held where it is by its platform: ${vm.heldBy}` : `${vm.name} has automation disabled`;
}
