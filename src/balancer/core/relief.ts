// Relief of hot hosts, which the cost–benefit test alone must never leave hot.
// - Contention first: before any balancing move, a host whose VMs are or may soon be short of CPU
//   (forecast peak, forecast.ts, above the CPU ceiling; memory above its ceiling is a mandatory move
//   already) sheds VMs until it is back under the ceiling, the most contended host first: priority 2,
//   reason 'contention'.
// - Above the band: after balancing, a host still more than (5 − L)/10 above the cluster's mean in a
//   resource (the deviation at which one host alone makes the cluster unbalanced) sheds the unit
//   whose move lowers the imbalance most among those that leave their target inside the band, even
//   when the migration costs more than it gains (λ decides which moves pay inside the band; threshold
//   5 has no band): reason 'above-band', a balancing priority. Both respect budgets, rules, ceilings
//   and cooldown.
import { PlanAttempt } from './attempt';
import { cpuPeak, cpuVarianceOf } from './forecast';
import { bestTarget, bestUnitMove, isRefusal, reliefUnitsOn } from './move-targets';
import { PlanningState } from './planning-state';

const EPS = 1e-9;

function unitsOn(state: PlanningState, h: number, attempt: PlanAttempt): number[] {
  const out: number[] = [];
  for (let v = 0; v < state.vmCount; v++) {
    if (state.vmHost[v] !== h || state.vmCpu[v] + state.vmMem[v] <= 0) continue;
    if (attempt.fixedUnits[state.unitOfVm[v]]) continue;
    out.push(v);
  }
  return out;
}

/** Hosts whose forecast CPU peak (forecast.ts) exceeds the ceiling, by how far (most contended first). */
export function contendedHosts(state: PlanningState): number[] {
  const ceiling = state.policy.cpuCeiling;
  const out: number[] = [];
  const peak = new Float64Array(state.hostCount);
  for (let h = 0; h < state.hostCount; h++) {
    peak[h] = cpuPeak(state, h);
    if (state.connected[h] && peak[h] > ceiling + EPS) out.push(h);
  }
  return out.sort((a, b) => peak[b] - peak[a] || a - b);
}

export function relieveContention(attempt: PlanAttempt): void {
  const state = attempt.state;
  const ceiling = state.policy.cpuCeiling;
  for (const h of contendedHosts(state)) {
    while (cpuPeak(state, h) > ceiling + EPS) {
      if (attempt.totalMoves >= state.policy.maxMovesPerPass) return;
      if (attempt.hostMoves[h] >= state.policy.maxMovesPerHost) break;
      // Only hosts whose forecast peak stays under the ceiling with the unit can take it (checked
      // here cheaply, before the constraints write out why every full host refuses).
      const hasRoom = (vms: readonly number[], t: number) =>
        cpuPeak(state, t, state.moveLoad(vms).cpu, cpuVarianceOf(state, vms)) <= ceiling + EPS;
      const choice = bestUnitMove(attempt, unitsOn(state, h, attempt), 'relief', hasRoom);
      if (isRefusal(choice)) break;
      attempt.record({ vms: choice.vms, from: choice.from, to: choice.to, kind: 'relief', reason: 'contention' });
    }
  }
}

/** Half-width of the band around the mean: (5 − L)/10, the deviation of one host that alone breaks "balanced". */
export function bandHalfWidth(threshold: number): number {
  return Math.max(0, (5 - threshold) / 10);
}

/**
 * The band's upper lines, per resource: the cluster's mean utilization + the band, at most the
 * resource's ceiling. Above-band relief keeps its targets' means under them; peak relief keeps its
 * targets' memory under the memory line (its CPU line is drawn from the hosts' peaks, peak-relief.ts).
 */
export function bandLimits(state: PlanningState): { cpu: number; mem: number } {
  const band = bandHalfWidth(state.policy.migrationThreshold);
  const n = state.connectedCount;
  return {
    cpu: Math.min(state.sumCpu / n + band, state.policy.cpuCeiling),
    mem: Math.min(state.sumMem / n + band, state.policy.memoryCeiling),
  };
}

/** Connected hosts above mean + band in CPU or memory, the furthest first. */
export function hostsAboveBand(state: PlanningState): number[] {
  const n = state.connectedCount;
  if (n < 2) return [];
  const band = bandHalfWidth(state.policy.migrationThreshold);
  const muC = state.sumCpu / n;
  const muM = state.sumMem / n;
  const over = (h: number) => Math.max(state.uCpu[h] - muC, state.uMem[h] - muM) - band;
  const out: number[] = [];
  for (let h = 0; h < state.hostCount; h++) if (state.connected[h] && over(h) > EPS) out.push(h);
  return out.sort((a, b) => over(b) - over(a) || a - b);
}

export function relieveAboveBand(attempt: PlanAttempt): void {
  const state = attempt.state;
  const band = bandHalfWidth(state.policy.migrationThreshold);
  // At threshold 5 the band is the mean itself: there, only moves that pay are made.
  if (band <= 0) return;
  const stuck = new Set<number>();
  const previous = attempt.freezeMoved;
  attempt.freezeMoved = true;
  try {
    for (;;) {
      if (attempt.totalMoves >= state.policy.maxMovesPerPass) return;
      const h = hostsAboveBand(state).find((x) => !stuck.has(x) && attempt.hostMoves[x] < state.policy.maxMovesPerHost);
      if (h === undefined) return;
      // Inside the band and under the ceilings (checked here cheaply, before the constraints write
      // out why every full host refuses).
      const limit = bandLimits(state);
      const inBand = (vms: readonly number[], t: number): boolean => {
        const load = state.moveLoad(vms);
        const c = state.uCpu[t] + load.cpu / state.capCpu[t];
        const m = state.uMem[t] + load.mem / state.capMem[t];
        return c <= limit.cpu + EPS && m <= limit.mem + EPS;
      };
      const choice = lowestImbalanceMove(attempt, h, inBand);
      if (choice === null || choice.imbalanceAfter >= state.imbalance() - EPS) {
        stuck.add(h);
        continue;
      }
      attempt.record({ vms: choice.vms, from: choice.from, to: choice.to, kind: 'balance', reason: 'above-band' });
      // The move changed the mean and two hosts: a host found stuck before may have a way out now.
      // Every move lowers I, so this ends.
      stuck.clear();
    }
  } finally {
    attempt.freezeMoved = previous;
  }
}

/** The move of a unit off h, to a target `accept` allows, that leaves the lowest imbalance (cost aside). */
function lowestImbalanceMove(
  attempt: PlanAttempt,
  h: number,
  accept: (vms: readonly number[], t: number) => boolean,
): { vms: number[]; from: number; to: number; imbalanceAfter: number } | null {
  const state = attempt.state;
  let best: { vms: number[]; from: number; to: number; imbalanceAfter: number } | null = null;
  for (const u of reliefUnitsOn(attempt, h, (v) => state.vmCpu[v] + state.vmMem[v] > 0)) {
    const members = state.units[u];
    const choice = bestTarget(attempt, members, h, 'relief', (t) => accept(members, t));
    if (isRefusal(choice)) continue;
    if (best === null || choice.imbalanceAfter < best.imbalanceAfter - 1e-12) best = { vms: [...members], from: h, ...choice };
  }
  return best;
}
