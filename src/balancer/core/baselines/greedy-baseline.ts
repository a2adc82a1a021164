// Today's balancers, simplified: repeatedly move the biggest VM of the busiest host to the emptiest
// host, while that lowers I. Same load model and hard checks as our planner (soft rules kept).
// Two readings of "while it lowers I": 'strict' stops as soon as the biggest movable VM would not
// lower I; 'lenient' (a stronger baseline) tries the next biggest VMs before giving up.
import { allowed } from '../constraints';
import { ClusterSnapshot, PlannerPolicy } from '../model';
import { PlanningState } from '../planning-state';

export interface BaselineResult {
  moves: { vmIds: string[]; fromHostId: string; toHostId: string; imbalanceAfter: number }[];
  imbalanceBefore: number;
  imbalanceAfter: number;
}

export function greedyBaseline(
  snapshot: ClusterSnapshot,
  policy: PlannerPolicy,
  variant: 'strict' | 'lenient' = 'strict',
  maxMoves = 10_000,
): BaselineResult {
  const state = new PlanningState(snapshot, policy, { enforceSoftRules: true });
  const imbalanceBefore = state.imbalance();
  const moves: BaselineResult['moves'] = [];
  const connected: number[] = [];
  for (let h = 0; h < state.hostCount; h++) if (state.connected[h]) connected.push(h);
  while (moves.length < maxMoves) {
    const byLoad = [...connected].sort((a, b) => state.weightedLoad(b) - state.weightedLoad(a) || a - b);
    const busiest = byLoad[0];
    const emptiest = byLoad[byLoad.length - 1];
    const units = new Set<number>();
    for (let v = 0; v < state.vmCount; v++) if (state.vmHost[v] === busiest) units.add(state.unitOfVm[v]);
    const size = (u: number) =>
      state.wCpu * (state.unitCpu[u] / state.capCpu[busiest]) + state.wMem * (state.unitMem[u] / state.capMem[busiest]);
    const candidates = [...units].filter((u) => state.unitHost(u) === busiest).sort((a, b) => size(b) - size(a) || a - b);
    const I = state.imbalance();
    let moved = false;
    for (const u of candidates) {
      const move = { vms: state.units[u], from: busiest, to: emptiest, purpose: 'balance' as const };
      if (!allowed(move, state)) continue;
      if (state.imbalanceAfter(state.unitCpu[u], state.unitMem[u], busiest, emptiest) >= I) {
        if (variant === 'strict') break;
        continue;
      }
      state.applyMove(move);
      moves.push({
        vmIds: state.units[u].map((v) => state.vms[v].id),
        fromHostId: state.hosts[busiest].id,
        toHostId: state.hosts[emptiest].id,
        imbalanceAfter: state.imbalance(),
      });
      moved = true;
      break;
    }
    if (!moved) break;
  }
  return { moves, imbalanceBefore, imbalanceAfter: state.imbalance() };
}
