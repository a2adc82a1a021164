// Move ordering: the compacted placement is reached from the post-mandatory one in an order where
// every step passes every constraint and lowers I, as the greedy's own moves do; the steps are
// what the plan lists.
import { Step } from '../attempt';
import { TIE_EPSILON, isBetter, perVm } from '../balancing';
import { allowed } from '../constraints';
import { UnitPlacement } from './unit-placement';

/**
 * Order the moves from the post-mandatory state to the current one: each step takes the
 * remaining move with the best net gain per migrated VM (as the greedy ranks them) among those
 * the constraints allow that lower I.
 * Returns null (and leaves the state as it found it) when no such order exists, or with
 * keepPrefix the steps of the longest such order found (the state left after them).
 */
export function sequence(p: UnitPlacement, keepPrefix = false): Step[] | null {
  const state = p.state;
  const final = p.save();
  const pending = p.moved();
  const target = new Map(pending.map((u) => [u, p.where(u)]));
  for (const u of pending) p.place(u, p.home(u));
  const steps: Step[] = [];
  const remaining = new Set(pending);
  while (remaining.size > 0) {
    const I = state.imbalance();
    let best: { unit: number; from: number; to: number; imbalanceAfter: number; gain: number; rate: number } | null = null;
    for (const u of remaining) {
      const from = p.where(u);
      const to = target.get(u)!;
      const after = state.imbalanceAfter(state.unitCpu[u], state.unitMem[u], from, to);
      const gain = I - after;
      const rate = perVm(p.worth.benefit(I, after) - p.worth.penalty(state.unitCost[u]), state.units[u].length);
      if (!(gain > TIE_EPSILON) || !isBetter(rate, u, to, best)) continue;
      if (!allowed({ vms: state.units[u], from, to, purpose: 'balance' }, state)) continue;
      best = { unit: u, from, to, imbalanceAfter: after, gain, rate };
    }
    if (best === null) {
      if (keepPrefix) return steps;
      p.restore(final);
      return null;
    }
    p.place(best.unit, best.to);
    remaining.delete(best.unit);
    steps.push({ vms: [...state.units[best.unit]], from: best.from, to: best.to, kind: 'balance', reason: null });
  }
  return steps;
}

/**
 * Like sequence(), but when the best-gain order gets stuck, a depth-first search over orders
 * (best rate first, failed remainders remembered) within a node budget.
 */
export function sequenceDeep(p: UnitPlacement, nodeBudget: number): Step[] | null {
  const quick = sequence(p);
  if (quick !== null) return quick;
  const state = p.state;
  const final = p.save();
  const pending = p.moved();
  const target = new Map(pending.map((u) => [u, p.where(u)]));
  for (const u of pending) p.place(u, p.home(u));
  const failed = new Set<string>();
  const order: number[] = [];
  const done = new Uint8Array(pending.length);
  let nodes = 0;
  const dfs = (): boolean => {
    if (order.length === pending.length) return true;
    const key = String(Array.from(done).join(''));
    if (failed.has(key) || ++nodes > nodeBudget) return false;
    const I = state.imbalance();
    const options: { i: number; rate: number }[] = [];
    pending.forEach((u, i) => {
      if (done[i]) return;
      const from = p.where(u);
      const to = target.get(u)!;
      const after = state.imbalanceAfter(state.unitCpu[u], state.unitMem[u], from, to);
      if (!(I - after > TIE_EPSILON) || !allowed({ vms: state.units[u], from, to, purpose: 'balance' }, state)) return;
      options.push({ i, rate: perVm(p.worth.benefit(I, after) - p.worth.penalty(state.unitCost[u]), state.units[u].length) });
    });
    options.sort((x, y) => y.rate - x.rate || x.i - y.i);
    for (const { i } of options) {
      const u = pending[i];
      const from = p.where(u);
      p.place(u, target.get(u)!);
      done[i] = 1;
      order.push(i);
      if (dfs()) return true;
      order.pop();
      done[i] = 0;
      p.place(u, from);
    }
    failed.add(key);
    return false;
  };
  if (!dfs()) {
    p.restore(final);
    return null;
  }
  for (const u of pending) p.place(u, p.home(u));
  const steps: Step[] = [];
  for (const i of order) {
    const u = pending[i];
    const from = p.where(u);
    p.place(u, target.get(u)!);
    steps.push({ vms: [...state.units[u]], from, to: target.get(u)!, kind: 'balance', reason: null });
  }
  return steps;
}
