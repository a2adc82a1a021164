// ProxLB's balancing as its documentation describes it, for information next to the greedy
// baseline: one resource (memory, its default method, by use), guests taken once each, largest
// first; a guest moves only while its node is the most loaded, to the least loaded node, and the
// sweep ends when the spread between the most and least loaded node is within `balanciness`
// (10 points by default). It does not look at CPU or at our I. Same hard checks as our planner.
import { allowed, ClusterSnapshot, PlannerPolicy, PlanningState } from '../../src/balancer/core';
import { BaselineResult } from './greedy-baseline';

export function proxlbBaseline(snapshot: ClusterSnapshot, policy: PlannerPolicy, balanciness = 0.1): BaselineResult {
  const state = new PlanningState(snapshot, policy, { enforceSoftRules: true });
  const imbalanceBefore = state.imbalance();
  const connected: number[] = [];
  for (let h = 0; h < state.hostCount; h++) if (state.connected[h]) connected.push(h);
  const mostAndLeast = () => {
    let most = connected[0];
    let least = connected[0];
    for (const h of connected) {
      if (state.uMem[h] > state.uMem[most]) most = h;
      if (state.uMem[h] < state.uMem[least]) least = h;
    }
    return { most, least };
  };
  // Groups that move together: single guests first, then by memory, largest first.
  const order = state.units
    .map((_, u) => u)
    .sort((a, b) => state.units[a].length - state.units[b].length || state.unitMem[b] - state.unitMem[a] || a - b);
  const moves: BaselineResult['moves'] = [];
  for (const u of order) {
    const { most, least } = mostAndLeast();
    if (state.uMem[most] - state.uMem[least] <= balanciness) break;
    const from = state.unitHost(u);
    if (from !== most || least === most || state.unitMem[u] === 0) continue;
    const move = { vms: state.units[u], from, to: least, purpose: 'balance' as const };
    if (!allowed(move, state)) continue;
    state.applyMove(move);
    moves.push({
      vmIds: state.units[u].map((v) => state.vms[v].id),
      fromHostId: state.hosts[from].id,
      toHostId: state.hosts[least].id,
      imbalanceAfter: state.imbalance(),
    });
  }
  return { moves, imbalanceBefore, imbalanceAfter: state.imbalance() };
}
