// Reference implementation for the speed benchmark: the same planner (same mandatory phase, greedy,
// compaction, tie-breaks), but every candidate is scored by recomputing I over all hosts and every
// (unit, target) pair of a round is evaluated — no running sums, no pruning. Its plans must be
// identical to planMoves'.
import {
  admissible,
  allowed,
  BalancingCandidate,
  BalancingSearch,
  ClusterSnapshot,
  DEFAULT_ENGINE,
  isBetter,
  Move,
  perVm,
  Plan,
  PlannerEngine,
  PlannerPolicy,
  planWith,
  PlanningState,
} from '../../src/balancer/core';

/** I after moving (cpu, mem) from a to b, recomputed from every connected host's utilization. */
class NaiveScoringState extends PlanningState {
  override imbalanceAfter(cpu: number, mem: number, a: number, b: number): number {
    let n = 0;
    let sc = 0;
    let sm = 0;
    const uc = (h: number) => (this.loadCpu[h] - (h === a ? cpu : 0) + (h === b ? cpu : 0)) / this.capCpu[h];
    const um = (h: number) => (this.loadMem[h] - (h === a ? mem : 0) + (h === b ? mem : 0)) / this.capMem[h];
    for (let h = 0; h < this.hostCount; h++) {
      if (!this.connected[h]) continue;
      n++;
      sc += uc(h);
      sm += um(h);
    }
    if (n === 0) return 0;
    const mc = sc / n;
    const mm = sm / n;
    let vc = 0;
    let vm = 0;
    for (let h = 0; h < this.hostCount; h++) {
      if (!this.connected[h]) continue;
      vc += (uc(h) - mc) ** 2;
      vm += (um(h) - mm) ** 2;
    }
    return Math.sqrt((this.wCpu * vc) / n + (this.wMem * vm) / n);
  }
}

const naiveSearch: BalancingSearch = (state, ctx) => {
  if (state.connectedCount < 2 || ctx.targets.length < 2) return null;
  const I = state.imbalance();
  const n = state.connectedCount;
  const { minGain, costWeight } = state.policy;
  // Benefit: the drop of N·I²; cost: λ × GiB copied / the connected hosts' mean memory in GiB.
  let hostGiB = 0;
  for (let h = 0; h < state.hostCount; h++) if (state.connected[h]) hostGiB += state.capMem[h] / 1024 / n;
  let best: BalancingCandidate | null = null;
  for (const u of ctx.units) {
    const members = state.units[u];
    const a = state.vmHost[members[0]];
    const size = members.length;
    if (ctx.hostMovesLeft[a] < size || ctx.passMovesLeft < size) continue;
    for (const b of ctx.targets) {
      if (b === a || ctx.hostMovesLeft[b] < size) continue;
      const after = state.imbalanceAfter(state.unitCpu[u], state.unitMem[u], a, b);
      const gain = n * (I * I - after * after);
      const net = gain - (costWeight * state.unitCost[u]) / hostGiB;
      const rate = perVm(net, size);
      if (!admissible(gain, net, minGain) || !isBetter(rate, u, b, best)) continue;
      const move: Move = { vms: members, from: a, to: b, purpose: 'balance' };
      if (!allowed(move, state)) continue;
      best = { unit: u, from: a, to: b, imbalanceAfter: after, gain, net, rate };
    }
  }
  return best;
};

export const REFERENCE_ENGINE: PlannerEngine = {
  ...DEFAULT_ENGINE,
  search: naiveSearch,
  createState: (snapshot, policy, options) => new NaiveScoringState(snapshot, policy, options),
};

export function referencePlanMoves(snapshot: ClusterSnapshot, policy: PlannerPolicy): Plan {
  return planWith(snapshot, policy, REFERENCE_ENGINE);
}
