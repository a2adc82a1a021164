// One round of greedy balancing: the admissible (unit, target) pair with the best net gain per
// migrated VM (a group that must move together is as many migrations as it has members).
// Each candidate is scored in O(resources) from the running sums, and a per-unit upper bound on
// the gain (computed from per-round minima over the targets) skips units that cannot win, so a
// round costs O(units + hosts) plus full target scans for the few promising units.
import { allowed } from './constraints';
import { Move, PlanningState } from './planning-state';
import { targetClasses } from './target-classes';
import { moveWorth } from './worth';

export interface BalancingCandidate {
  unit: number;
  from: number;
  to: number;
  imbalanceAfter: number;
  /** Drop of the spread N·I² (worth.ts). */
  gain: number;
  /** gain − λ·cost, both in spread units. */
  net: number;
  /**
   * net per VM migrated, what candidates are ranked by: an affinity group of n VMs takes n
   * migrations (and n of the pass's and hosts' move budgets), so it must pay n times as much as a
   * single VM to come first. For a single VM it is the net gain.
   */
  rate: number;
}

export interface SearchContext {
  /** Units that may move for balancing, ascending. */
  units: Int32Array;
  /** Connected hosts that may still receive moves, ascending. */
  targets: Int32Array;
  /** VM moves each host may still take part in. */
  hostMovesLeft: Int32Array;
  /** VM moves the pass may still make. */
  passMovesLeft: number;
}

/** A search strategy: the planner's own, or the benchmark's naive reference. */
export type BalancingSearch = (state: PlanningState, ctx: SearchContext) => BalancingCandidate | null;

/** Net gains closer than this are ties, broken by unit then host index (both follow id order). */
export const TIE_EPSILON = 1e-12;

/** Net gain per VM migrated (BalancingCandidate.rate). */
export function perVm(net: number, vms: number): number {
  return vms > 1 ? net / vms : net;
}

/** Whether a candidate with this rate (net gain per VM, perVm) ranks before `best`. */
export function isBetter(rate: number, unit: number, to: number, best: Pick<BalancingCandidate, 'rate' | 'unit' | 'to'> | null): boolean {
  if (best === null) return true;
  if (rate > best.rate + TIE_EPSILON) return true;
  if (rate < best.rate - TIE_EPSILON) return false;
  return unit < best.unit || (unit === best.unit && to < best.to);
}

/** A candidate the greedy may take: it lowers the spread N·I² by at least minGain and pays for its migration cost. */
export function admissible(gain: number, net: number, minGain: number): boolean {
  return gain >= minGain && gain > TIE_EPSILON && net > 0;
}

export const incrementalSearch: BalancingSearch = (state, ctx) => {
  const n = state.connectedCount;
  if (n < 2 || ctx.targets.length < 2) return null;
  const { capCpu, capMem, uCpu, uMem, unitCpu, unitMem, unitCost, units, vmHost, wCpu, wMem } = state;
  const policy = state.policy;
  const worth = moveWorth(state);
  const penalty = worth.penaltyPerGiB;
  const minGain = policy.minGain;
  const I2 = state.imbalance2();
  const s1c = state.sumCpu;
  const s1m = state.sumMem;
  const muC = s1c / n;
  const muM = s1m / n;
  const k1 = 1 - 1 / n;

  // Target-side minima: lower bounds for every term of Δσ² that depends on the target.
  let minDevC = Infinity;
  let minPC = Infinity;
  let minP2C = Infinity;
  let minDevM = Infinity;
  let minPM = Infinity;
  let minP2M = Infinity;
  const targets = ctx.targets;
  for (let i = 0; i < targets.length; i++) {
    const b = targets[i];
    const pc = 1 / capCpu[b];
    const pm = 1 / capMem[b];
    const dc = pc * (uCpu[b] - muC);
    const dm = pm * (uMem[b] - muM);
    if (dc < minDevC) minDevC = dc;
    if (pc < minPC) minPC = pc;
    if (pc * pc < minP2C) minP2C = pc * pc;
    if (dm < minDevM) minDevM = dm;
    if (pm < minPM) minPM = pm;
    if (pm * pm < minP2M) minP2M = pm * pm;
  }

  const unitList = ctx.units;
  const bound = new Float64Array(unitList.length);
  let top = -1;
  for (let i = 0; i < unitList.length; i++) {
    const u = unitList[i];
    const a = vmHost[units[u][0]];
    const size = units[u].length;
    bound[i] = -Infinity;
    if (ctx.hostMovesLeft[a] < size || ctx.passMovesLeft < size) continue;
    const c = unitCpu[u];
    const m = unitMem[u];
    let lb = 0;
    if (c > 0) {
      const xa = c / capCpu[a];
      lb += (wCpu * (xa * xa * k1 - 2 * xa * (uCpu[a] - muC) + 2 * c * minDevC + (2 * c * xa * minPC) / n + c * c * k1 * minP2C)) / n;
    }
    if (m > 0) {
      const xa = m / capMem[a];
      lb += (wMem * (xa * xa * k1 - 2 * xa * (uMem[a] - muM) + 2 * m * minDevM + (2 * m * xa * minPM) / n + m * m * k1 * minP2M)) / n;
    }
    const gainUpper = -n * lb;
    const netUpper = gainUpper - penalty * unitCost[u];
    if (gainUpper < minGain - TIE_EPSILON || netUpper <= 0) continue;
    bound[i] = perVm(netUpper, size);
    if (top < 0 || bound[i] > bound[top]) top = i;
  }
  if (top < 0) return null;

  let best: BalancingCandidate | null = null;
  const classes = targetClasses(targets, capCpu, capMem, uCpu, uMem);
  const seen = new Int32Array(state.hostCount);
  let stamp = 0;
  const evaluate = (u: number): void => {
    const members = units[u];
    const a = vmHost[members[0]];
    const size = members.length;
    const c = unitCpu[u];
    const m = unitMem[u];
    const cost = penalty * unitCost[u];
    const xaC = c / capCpu[a];
    const xaM = m / capMem[a];
    const aC = xaC * xaC - 2 * uCpu[a] * xaC;
    const aM = xaM * xaM - 2 * uMem[a] * xaM;
    let move: Move | null = null;
    for (const k of classes) {
      // Δσ² = K + (2/n)(α·u_cpu(b) + β·u_mem(b)) for every target b of the class.
      const xbC = c * k.pc;
      const xbM = m * k.pm;
      const dS1C = xbC - xaC;
      const dS1M = xbM - xaM;
      const K =
        (c > 0 ? (wCpu * (aC + xbC * xbC - (2 * s1c * dS1C + dS1C * dS1C) / n)) / n : 0) +
        (m > 0 ? (wMem * (aM + xbM * xbM - (2 * s1m * dS1M + dS1M * dS1M) / n)) / n : 0);
      const alpha = c > 0 ? wCpu * xbC : 0;
      const beta = m > 0 ? wMem * xbM : 0;
      const { byCpu, byMem } = k;
      stamp++;
      for (let i = 0; i < byCpu.length; i++) {
        // Every target not seen yet has α·u_cpu + β·u_mem ≥ this threshold.
        const threshold = alpha * uCpu[byCpu[i]] + beta * uMem[byMem[i]];
        const gainUpper = -n * (K + (2 * threshold) / n);
        const netUpper = gainUpper - cost;
        if (!admissible(gainUpper + TIE_EPSILON, netUpper + TIE_EPSILON, minGain)) break;
        const current = best;
        if (current !== null && perVm(netUpper, size) < current.rate - TIE_EPSILON) break;
        for (let side = 0; side < 2; side++) {
          const b = side === 0 ? byCpu[i] : byMem[i];
          if (seen[b] === stamp) continue;
          seen[b] = stamp;
          if (b === a || ctx.hostMovesLeft[b] < size) continue;
          const delta = K + (2 * (alpha * uCpu[b] + beta * uMem[b])) / n;
          const gain = -n * delta;
          const net = gain - cost;
          const rate = perVm(net, size);
          if (!admissible(gain, net, minGain) || !isBetter(rate, u, b, best)) continue;
          if (move === null) move = { vms: members, from: a, to: b, purpose: 'balance' };
          else move.to = b;
          if (!allowed(move, state)) continue;
          const after2 = I2 + delta;
          best = { unit: u, from: a, to: b, imbalanceAfter: after2 > 0 ? Math.sqrt(after2) : 0, gain, net, rate };
        }
      }
    }
  };

  evaluate(unitList[top]);
  for (let i = 0; i < unitList.length; i++) {
    if (i === top) continue;
    const current = best as BalancingCandidate | null;
    const floor = current === null ? 0 : current.rate - TIE_EPSILON;
    if (bound[i] < floor || bound[i] === -Infinity) continue;
    evaluate(unitList[i]);
  }
  return best;
};
