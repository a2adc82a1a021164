// Compaction of the greedy's balancing moves on clusters too large for the small-cluster search.
// The greedy reaches a final state F with k moves; many of them are chains (A→B→C), undone later,
// or small corrections. Here F is reduced to its net effect (which VM ends where), moves that do
// not matter are dropped, and — within an evaluation budget — a local search replaces pairs of
// moves by one and swaps moves for better ones, looking for a placement as balanced as F with
// fewer moves (then better balanced at that count). The result is then re-sequenced so that every
// intermediate state passes every constraint and every move lowers I (move-ordering.ts).
import { PlanAttempt } from '../attempt';
import { TIE_EPSILON } from '../balancing';
import { sequence } from './move-ordering';
import { QUALITY_EPSILON, sameHosts, UnitPlacement } from './unit-placement';

export interface CompactionOptions {
  /** Candidate (unit, host) evaluations the local search may spend; 0 disables it. */
  localSearchBudget: number;
}

export function compactBalancing(attempt: PlanAttempt, mHost: Int32Array, unitList: Int32Array, options: CompactionOptions): void {
  const greedySteps = attempt.steps.filter((s) => s.kind === 'balance');
  if (greedySteps.length === 0) return;
  const c = new UnitPlacement(attempt, mHost, unitList);
  const greedyFinal = c.save();
  dropUselessMoves(c);
  const afterDrop = c.save();
  if (options.localSearchBudget > 0) localSearch(c, options.localSearchBudget);
  const greedyMoves = c.movedIn(greedyFinal);
  let steps = sequence(c);
  if (steps === null) {
    // The best placement found cannot be reached one I-lowering move at a time. Keep the longest
    // prefix that can, when it is at least as balanced as the greedy with no more moves.
    const partial = sequence(c, true);
    if (partial !== null && partial.length <= greedyMoves && c.acceptable()) steps = partial;
    else c.restore(afterDrop);
  }
  if (steps === null && !sameHosts(c.save(), afterDrop)) steps = sequence(c);
  if (steps === null) {
    c.restore(afterDrop);
    steps = sequence(c);
  }
  if (steps === null) {
    c.restore(greedyFinal);
    return;
  }
  attempt.replaceBalancingSteps(steps);
}

function localSearch(p: UnitPlacement, budget: number): void {
  const perScan = p.unitList.length * p.connectedHosts.length;
  if (perScan === 0 || perScan * Math.max(1, p.moved().length) > budget) return;
  for (let round = 0; round < 100 && p.evaluations <= budget; round++) {
    if (dropUselessMoves(p)) continue;
    if (mergePairs(p, budget)) continue;
    if (!swapMoves(p, budget)) break;
  }
}

/** Undo every move whose undoing keeps the plan at least as balanced. */
export function dropUselessMoves(p: UnitPlacement): boolean {
  let changed = false;
  for (const u of p.moved()) {
    const from = p.where(u);
    if (!p.canPlace(u, p.home(u))) continue;
    p.place(u, p.home(u));
    if (p.acceptable()) changed = true;
    else p.place(u, from);
  }
  return changed;
}

/**
 * The best single change (unit v to host t) in the current state by (moves after, then
 * I + λ·cost), among those `accept` takes. Counts as |units| × |hosts| evaluations.
 */
function bestChange(
  p: UnitPlacement,
  movesNow: number,
  costNow: number,
  accept: (moves: number, imbalance: number, objective: number) => boolean,
): { unit: number; to: number; moves: number; objective: number } | null {
  const state = p.state;
  let best: { unit: number; to: number; moves: number; objective: number } | null = null;
  p.evaluations += p.unitList.length * p.connectedHosts.length;
  for (const v of p.unitList) {
    const cur = p.where(v);
    const home = p.home(v);
    const cpu = state.unitCpu[v];
    const mem = state.unitMem[v];
    const cost = state.unitCost[v];
    for (const t of p.connectedHosts) {
      if (t === cur) continue;
      const after = state.imbalanceAfter(cpu, mem, cur, t);
      const moves = movesNow + (cur === home ? 1 : t === home ? -1 : 0);
      const objective = p.worth.spread(after) + p.worth.penalty(costNow + (cur === home ? cost : t === home ? -cost : 0));
      if (!accept(moves, after, objective)) continue;
      if (best !== null) {
        if (moves > best.moves) continue;
        if (moves === best.moves) {
          if (objective > best.objective + TIE_EPSILON) continue;
          if (objective >= best.objective - TIE_EPSILON && (v > best.unit || (v === best.unit && t > best.to))) continue;
        }
      }
      if (!p.canPlace(v, t)) continue;
      best = { unit: v, to: t, moves, objective };
    }
  }
  return best;
}

/** Try a change; keep it if the state stays acceptable. */
function commit(p: UnitPlacement, change: { unit: number; to: number }): boolean {
  const from = p.where(change.unit);
  p.place(change.unit, change.to);
  if (p.acceptable()) return true;
  p.place(change.unit, from);
  return false;
}

/** Undo u; then the best change that gets back to ≤ k moves with a lower objective, or to fewer moves. */
function swapMoves(p: UnitPlacement, budget: number): boolean {
  let changed = false;
  for (const u of p.moved()) {
    if (p.evaluations > budget) break;
    if (p.where(u) === p.home(u)) continue;
    const k0 = p.moved().length;
    const j0 = p.worth.spread(p.state.imbalance()) + p.worth.penalty(p.movedCost());
    const from = p.where(u);
    if (!p.canPlace(u, p.home(u))) continue;
    p.place(u, p.home(u));
    const change = bestChange(p, k0 - 1, p.movedCost(), (moves, after, objective) => {
      if (after > p.quality + QUALITY_EPSILON) return false;
      return moves < k0 || objective < j0 - 1e-12;
    });
    if (change && !(change.unit === u && change.to === from) && commit(p, change)) {
      changed = true;
      continue;
    }
    p.place(u, from);
  }
  return changed;
}

/** Undo two moves and make at most one other: k − 1 moves (or fewer) at no loss of balance. */
function mergePairs(p: UnitPlacement, budget: number): boolean {
  const moved = p.moved();
  for (let i = 0; i < moved.length; i++) {
    for (let j = i + 1; j < moved.length; j++) {
      if (p.evaluations > budget) return false;
      const u1 = moved[i];
      const u2 = moved[j];
      const from1 = p.where(u1);
      const from2 = p.where(u2);
      if (!p.canPlace(u1, p.home(u1))) continue;
      p.place(u1, p.home(u1));
      if (!p.canPlace(u2, p.home(u2))) {
        p.place(u1, from1);
        continue;
      }
      p.place(u2, p.home(u2));
      if (p.acceptable()) return true;
      const k = moved.length - 2;
      const change = bestChange(p, k, p.movedCost(), (moves, after) => moves <= k + 1 && after <= p.quality + QUALITY_EPSILON);
      if (change && commit(p, change)) return true;
      p.place(u2, from2);
      p.place(u1, from1);
    }
  }
  return false;
}
