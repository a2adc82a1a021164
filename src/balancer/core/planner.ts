// planMoves: mandatory moves first (never capped), then greedy hill-climbing on the imbalance I,
// then compaction of the balancing moves. Deterministic: everything is indexed in id order and
// ties are broken by ids.
import { movePurpose, PlanAttempt } from './attempt';
import { BalancingSearch, incrementalSearch, SearchContext } from './balancing';
import { compactBalancing } from './compaction/large-cluster';
import { SMALL_SEARCH_BUDGET, solveSmallCluster } from './compaction/small-cluster-search';
import { isSmallCluster } from './compaction/unit-placement';
import { describeStep, explainStuckVms, StepFigures } from './explain';
import { cpuPeak } from './forecast';
import { fixSoftRules, runMandatory } from './mandatory';
import { ClusterSnapshot, DEFAULT_PLANNER_POLICY, MoveReason, Plan, PlannedMove, PlannerPolicy } from './model';
import { PlanningState, StateOptions } from './planning-state';
import { peakLine, relievePeaks } from './peak-relief';
import { relieveAboveBand, relieveContention } from './relief';
import { balanceReport, balancingPriority } from './scoring';

/**
 * How the planner scores and searches. The benchmark's reference implementation swaps in naive
 * whole-cluster rescoring here; everything else is shared.
 */
export interface PlannerEngine {
  search: BalancingSearch;
  createState(snapshot: ClusterSnapshot, policy: PlannerPolicy, options: StateOptions): PlanningState;
  /** Candidate evaluations the compaction's local search may spend (it runs on small clusters only). */
  localSearchBudget: number;
  /** Candidate evaluations the small-cluster search may spend (solveSmallCluster). */
  smallSearchBudget: number;
}

export const DEFAULT_ENGINE: PlannerEngine = {
  search: incrementalSearch,
  createState: (snapshot, policy, options) => new PlanningState(snapshot, policy, options),
  localSearchBudget: 2_000_000,
  smallSearchBudget: SMALL_SEARCH_BUDGET,
};

/**
 * The default engine with its searches' budgets cut to `share` (0 < share ≤ 1) of their own: a quicker plan, which
 * may make a move or two more for the same balance (PlanRunner uses it while plans wait behind one).
 */
export function engineWithSearchShare(share: number): PlannerEngine {
  if (!(share > 0 && share <= 1)) throw new RangeError(`search share must be in (0, 1], not ${share}`);
  if (share === 1) return DEFAULT_ENGINE;
  return {
    ...DEFAULT_ENGINE,
    localSearchBudget: Math.floor(DEFAULT_ENGINE.localSearchBudget * share),
    smallSearchBudget: Math.floor(DEFAULT_ENGINE.smallSearchBudget * share),
  };
}

/** Greedy rounds interleaved with compaction, at most this many times. */
const COMPACTION_ROUNDS = 3;
/** Soft-rule fixes after balancing, each followed by greedy balancing, at most this many times. */
const SOFT_FIX_ROUNDS = 4;

export function planMoves(snapshot: ClusterSnapshot, policy: PlannerPolicy = DEFAULT_PLANNER_POLICY): Plan {
  return planWith(snapshot, policy, DEFAULT_ENGINE);
}

export function planWith(snapshot: ClusterSnapshot, policy: PlannerPolicy, engine: PlannerEngine): Plan {
  const softRules = snapshot.rules.filter((r) => r.enforcement === 'soft');
  let attempt = runAttempt(snapshot, policy, engine, true);
  let relaxed = false;
  if (softRules.length > 0) {
    const kept = shortfall(attempt.state);
    if (kept.debt > 0 || kept.hosts > 0) {
      const other = runAttempt(snapshot, policy, engine, false);
      const without = shortfall(other.state);
      const better =
        without.debt < kept.debt ||
        (without.debt === kept.debt &&
          (without.hosts < kept.hosts || (without.hosts === kept.hosts && without.excess < kept.excess - 1e-9)));
      if (better) {
        attempt = other;
        relaxed = true;
      }
    }
  }
  const plan = writePlan(snapshot, policy, attempt);
  if (relaxed) plan.softRulesRelaxed = softRules.map((r) => r.id).sort();
  return plan;
}

/**
 * What a final state leaves undone: mandatory work (VMs left on hosts entering maintenance, broken
 * hard rules) and hosts over a ceiling. Soft rules are relaxed only when that does less of it.
 */
function shortfall(state: PlanningState): { debt: number; hosts: number; excess: number } {
  let debt = 0;
  for (let v = 0; v < state.vmCount; v++) {
    const h = state.vmHost[v];
    if (h >= 0 && state.hosts[h].state === 'entering-maintenance') debt++;
  }
  for (const rule of state.rules) {
    if (!rule.hard) continue;
    const hosts = rule.vms.map((v) => state.vmHost[v]).filter((h) => h >= 0);
    if (rule.kind === 'anti-affinity') debt += hosts.length - new Set(hosts).size;
    else if (rule.kind === 'affinity') debt += new Set(hosts).size - 1 > 0 ? new Set(hosts).size - 1 : 0;
    else for (const h of hosts) if ((rule.relation === 'run-on') !== (rule.hostMask![h] === 1)) debt++;
  }
  return { debt, ...state.overload() };
}

function runAttempt(snapshot: ClusterSnapshot, policy: PlannerPolicy, engine: PlannerEngine, enforceSoftRules: boolean): PlanAttempt {
  const state = engine.createState(snapshot, policy, { enforceSoftRules });
  const attempt = new PlanAttempt(state, engine.search);
  runMandatory(attempt);
  if (policy.migrationThreshold >= 2) {
    relieveContention(attempt);
    runBalancing(attempt, engine);
    relieveAboveBand(attempt);
    relievePeaks(attempt);
  }
  return attempt;
}

/** Units that may move for balancing: together on a connected host, movable, not in cooldown, carrying load. */
function balancingUnits(attempt: PlanAttempt): Int32Array {
  const state = attempt.state;
  const out: number[] = [];
  for (let u = 0; u < state.units.length; u++) {
    if (attempt.fixedUnits[u]) continue;
    if (state.unitCpu[u] + state.unitMem[u] <= 0) continue;
    const h = state.unitHost(u);
    if (h < 0 || !state.connected[h]) continue;
    if (state.units[u].some((v) => !state.vmMovable(v) || state.vmCooldown[v])) continue;
    out.push(u);
  }
  return Int32Array.from(out);
}

function runBalancing(attempt: PlanAttempt, engine: PlannerEngine): void {
  const state = attempt.state;
  const units = balancingUnits(attempt);
  if (units.length === 0) return;
  const mHost = Int32Array.from(state.vmHost);
  let added = greedy(attempt, units, mHost);
  const any = added > 0;
  if (isSmallCluster(state, units)) {
    // Small clusters: a search over final placements replaces the compaction rounds.
    if (any) solveSmallCluster(attempt, mHost, units, attempt.search, engine.smallSearchBudget);
  } else {
    for (let round = 0; round < COMPACTION_ROUNDS && added > 0; round++) {
      compactBalancing(attempt, mHost, units, { localSearchBudget: engine.localSearchBudget });
      added = greedy(attempt, units, mHost);
    }
  }
  // A soft-rule fix that found no room before balancing may fit now; then balance around it. That
  // balancing may free room for another fix, so repeat while fixes land (else the next pass would
  // make them, and rebalance what this one just balanced).
  if (state.options.enforceSoftRules && state.rules.some((r) => r.active && !r.hard)) {
    for (let round = 0; round < SOFT_FIX_ROUNDS; round++) {
      const before = attempt.steps.length;
      attempt.freezeMoved = true;
      fixSoftRules(attempt);
      attempt.freezeMoved = false;
      if (attempt.steps.length === before) break;
      greedy(attempt, units, mHost);
    }
  }
}

/**
 * Greedy hill-climbing: take the best admissible move until balanced, stuck, or out of budget.
 * A unit already away from its post-mandatory host is not moved again (no A→B→C chains; the
 * compaction's local search may still retarget it).
 */
function greedy(attempt: PlanAttempt, allUnits: Int32Array, mHost: Int32Array): number {
  const state = attempt.state;
  const policy = attempt.policy;
  let added = 0;
  const hostMovesLeft = new Int32Array(state.hostCount);
  let units = allUnits.filter((u) => state.vmHost[state.units[u][0]] === mHost[state.units[u][0]]);
  for (;;) {
    if (state.balanced()) break;
    const passMovesLeft = policy.maxMovesPerPass - attempt.totalMoves;
    if (passMovesLeft <= 0) break;
    const targets: number[] = [];
    for (let h = 0; h < state.hostCount; h++) {
      hostMovesLeft[h] = policy.maxMovesPerHost - attempt.hostMoves[h];
      if (state.connected[h] && hostMovesLeft[h] > 0) targets.push(h);
    }
    const ctx: SearchContext = { units, targets: Int32Array.from(targets), hostMovesLeft, passMovesLeft };
    const best = attempt.search(state, ctx);
    if (best === null) break;
    attempt.record({ vms: [...state.units[best.unit]], from: best.from, to: best.to, kind: 'balance', reason: null });
    units = units.filter((u) => u !== best.unit);
    added++;
  }
  return added;
}

function writePlan(snapshot: ClusterSnapshot, policy: PlannerPolicy, attempt: PlanAttempt): Plan {
  const replay = new PlanningState(snapshot, policy, attempt.state.options);
  const moves: PlannedMove[] = [];
  const movedVms = new Set<number>();
  for (const step of attempt.steps) {
    const I0 = replay.imbalance();
    const n = replay.connectedCount;
    const load = replay.moveLoad(step.vms);
    const deltas = replay.resourceDeltas(load.cpu, load.mem, step.from, step.to);
    const rule = step.ruleIndex !== undefined ? replay.rules[step.ruleIndex] : undefined;
    const figures: StepFigures = {
      imbalanceBefore: I0,
      imbalanceAfter: 0,
      fromCpu: step.from >= 0 ? replay.uCpu[step.from] : 0,
      fromCpuPeak: step.from >= 0 ? cpuPeak(replay, step.from) : undefined,
      peakLine: step.reason === 'forecast-peak' ? peakLine(replay) : undefined,
      fromMem: step.from >= 0 ? replay.uMem[step.from] : 0,
      toCpuBefore: replay.uCpu[step.to],
      toMemBefore: replay.uMem[step.to],
      toCpuAfter: 0,
      toMemAfter: 0,
      fromMemAfter: 0,
      meanCpu: replay.meanCpu,
      meanMem: replay.meanMem,
      companions: rule?.kind === 'anti-affinity' ? rule.vms.filter((v) => replay.vmHost[v] === step.from && !step.vms.includes(v)) : [],
    };
    replay.applyMove({ vms: step.vms, from: step.from, to: step.to, purpose: movePurpose(step.kind) });
    const I1 = replay.imbalance();
    figures.imbalanceAfter = I1;
    figures.toCpuAfter = replay.uCpu[step.to];
    figures.toMemAfter = replay.uMem[step.to];
    figures.fromMemAfter = step.from >= 0 ? replay.uMem[step.from] : 0;
    const reason: MoveReason = step.reason ?? (deltas.cpu <= deltas.mem ? 'balance-cpu' : 'balance-memory');
    const priority = step.kind === 'mandatory' ? 1 : step.kind === 'soft' || step.kind === 'relief' ? 2 : balancingPriority(I0, n);
    const explanation = describeStep(replay, step, reason, figures);
    const groupRule = step.vms.length > 1 ? replay.rules[replay.unitRules[replay.unitOfVm[step.vms[0]]][0]] : undefined;
    for (const v of step.vms) {
      const vm = replay.vms[v];
      movedVms.add(v);
      const move: PlannedMove = {
        vmId: vm.id,
        vmName: vm.name,
        fromHostId: step.from >= 0 ? replay.hosts[step.from].id : vm.hostId,
        toHostId: replay.hosts[step.to].id,
        priority,
        reason,
        explanation,
        gain: I0 - I1,
        cost: replay.vmCostGiB[v],
        imbalanceAfter: I1,
      };
      if (groupRule) move.groupId = `${groupRule.id}:${replay.vms[step.vms[0]].id}`;
      if (rule) move.ruleId = rule.id;
      moves.push(move);
    }
  }
  const after = applyPlan(snapshot, { moves });
  const notMoved = [...attempt.notMoved.entries()].filter(([v]) => !movedVms.has(v)).map(([, entry]) => entry);
  notMoved.push(...explainStuckVms(attempt, movedVms));
  return {
    clusterId: snapshot.clusterId,
    before: balanceReport(snapshot, policy),
    after: balanceReport(after, policy),
    moves,
    notMoved,
  };
}

/** Applies a plan's moves to a snapshot (what the cluster looks like once every move succeeded). */
export function applyPlan(snapshot: ClusterSnapshot, plan: Pick<Plan, 'moves'>): ClusterSnapshot {
  const finalHost = new Map<string, string>();
  for (const m of plan.moves) finalHost.set(m.vmId, m.toHostId);
  return { ...snapshot, vms: snapshot.vms.map((vm) => (finalHost.has(vm.id) ? { ...vm, hostId: finalHost.get(vm.id)! } : vm)) };
}
