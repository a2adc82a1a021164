// Plain best-gain greedy, for comparison: our planner's scoring and constraints, but no compaction,
// no local search, and a VM may move again. Runs until `done` (by default: balanced), stuck, or the
// pass budget; returns the final placement and whether it got stuck first.
import { ClusterSnapshot, incrementalSearch, PlannerPolicy, PlanningState, SearchContext } from '../../src/balancer/core';

export function plainGreedy(
  snapshot: ClusterSnapshot,
  policy: PlannerPolicy,
  done: (state: PlanningState) => boolean = (state) => state.balanced(),
): { moves: number; finalHost: Map<string, string>; imbalance: number; stuck: boolean } {
  const state = new PlanningState(snapshot, policy, { enforceSoftRules: true });
  const units: number[] = [];
  for (let u = 0; u < state.units.length; u++) {
    const h = state.unitHost(u);
    if (h >= 0 && state.connected[h] && state.units[u].every((v) => state.vmMovable(v) && !state.vmCooldown[v])) units.push(u);
  }
  const targets: number[] = [];
  for (let h = 0; h < state.hostCount; h++) if (state.connected[h]) targets.push(h);
  const hostMovesLeft = new Int32Array(state.hostCount).fill(1 << 30);
  let moves = 0;
  let stuck = false;
  while (moves < policy.maxMovesPerPass && !done(state)) {
    const ctx: SearchContext = { units: Int32Array.from(units), targets: Int32Array.from(targets), hostMovesLeft, passMovesLeft: 1 << 30 };
    const best = incrementalSearch(state, ctx);
    if (!best) {
      stuck = true;
      break;
    }
    state.applyMove({ vms: state.units[best.unit], from: best.from, to: best.to, purpose: 'balance' });
    moves += state.units[best.unit].length;
  }
  const finalHost = new Map<string, string>();
  state.vms.forEach((vm, v) => finalHost.set(vm.id, state.hosts[state.vmHost[v]].id));
  return { moves, finalHost, imbalance: state.imbalance(), stuck };
}
