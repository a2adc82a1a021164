// Small clusters: instead of compacting the greedy's moves, a search over final placements for the
// one with the lowest SAD (sum of absolute deviations from the mean utilization, sad-objective.ts)
// at each count of moved VMs — seeded iterated local search — then the candidate closest to that
// frontier whose moves can be ordered so that each one is allowed and lowers I (move-ordering.ts).
import { PlanAttempt } from '../attempt';
import { admissible, BalancingSearch, TIE_EPSILON } from '../balancing';
import { seededRandom } from '../random';
import { sequence, sequenceDeep } from './move-ordering';
import { SadSearch } from './sad-search';
import { QUALITY_EPSILON } from './unit-placement';
import { moveWorth } from '../worth';

/** Candidate evaluations the small-cluster search may spend in all. */
export const SMALL_SEARCH_BUDGET = 2_000_000;
/**
 * Rounds of searches over the move counts (up, then down): a search at k starts from the best
 * placement at k − 1 going up and at k + 1 coming down, so later rounds start from better ones.
 */
const ROUNDS = 2;
/** The frontier goes this many VM moves beyond the greedy's plan. */
const SMALL_EXTRA_MOVES = 4;

/**
 * Small clusters: a search over final placements in the quality metric's own terms (SAD, the sum
 * of absolute deviations from the mean utilization), with moves counted in VMs. First a frontier:
 * for k = 1 … kMax VM moves, the lowest SAD found with at most k (iterated local search, seeded
 * from the frontier's neighbours at k − 1, then again from k + 1). Each frontier placement is then
 * completed by the planner's greedy (so that no VM left in place has a move that pays) and becomes
 * a candidate. The candidate closest to the frontier wins (then fewer moves, then the lowest SAD),
 * provided its moves can be ordered so that each one is allowed and lowers I. Returns false (state
 * untouched) when the cluster is not small or nothing beats the greedy's own plan.
 */
export function solveSmallCluster(
  attempt: PlanAttempt,
  mHost: Int32Array,
  unitList: Int32Array,
  search: BalancingSearch,
  budget = SMALL_SEARCH_BUDGET,
): boolean {
  if (!attempt.steps.some((s) => s.kind === 'balance')) return false;
  const c = new SmallClusterSearch(attempt, mHost, unitList);
  if (!c.small()) return false;
  const planned = c.save();
  const kPlan = c.movedCount();
  const homes = Int32Array.from(unitList, (u) => c.home(u));
  let totalVms = 0;
  for (const u of unitList) totalVms += attempt.state.units[u].length;
  const kMax = Math.min(totalVms, kPlan + SMALL_EXTRA_MOVES);
  const rnd = seededRandom(0x51ed270b ^ (unitList.length * 7919 + c.hostCount()));
  // frontier[j]: the lowest SAD seen with at most j moved VMs (our estimate of the optimum).
  const frontier: number[] = new Array<number>(totalVms + 1).fill(Infinity);
  const seen = (k: number, sad: number) => {
    for (let j = k; j < frontier.length; j++) if (sad < frontier[j]) frontier[j] = sad;
  };
  const plannedSad = c.sad();
  seen(kPlan, plannedSad);
  const best: (Int32Array | null)[] = new Array<Int32Array | null>(kMax + 1).fill(null);
  const bestJ = new Float64Array(kMax + 1).fill(Infinity);
  const pools: Int32Array[][] = Array.from({ length: kMax + 1 }, () => []);
  // The searches share what is left of the budget in proportion to k (a descent's last neighbourhood
  // costs k × units × hosts), so that the budget a quick one leaves goes to the later ones.
  let weightLeft = ROUNDS * kMax * kMax;
  const explore = (k: number, from: Int32Array) => {
    c.restore(from);
    const J = c.searchSad(k, rnd, c.spent() + ((budget - c.spent()) * k) / Math.max(weightLeft, 1));
    weightLeft -= k;
    if (J < bestJ[k] - 1e-12) {
      bestJ[k] = J;
      best[k] = c.save();
    }
    seen(c.movedCount(), c.sad());
    for (const p of c.pool) pools[k].push(p.hosts);
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 1; k <= kMax; k++) explore(k, best[k - 1] ?? homes);
    for (let k = kMax - 1; k >= 1; k--) {
      if (best[k + 1]) explore(k, best[k + 1]!);
      else weightLeft -= k;
    }
  }
  const candidates: { hosts: Int32Array; k: number; sad: number }[] = [{ hosts: planned, k: kPlan, sad: plannedSad }];
  const keys = new Set<string>();
  const consider = () => {
    const hosts = c.save();
    const key = hosts.join(',');
    if (keys.has(key)) return;
    keys.add(key);
    const done = { hosts, k: c.movedCount(), sad: c.sad() };
    seen(done.k, done.sad);
    candidates.push(done);
  };
  for (let k = 1; k <= kMax; k++) {
    for (const hosts of pools[k]) {
      c.restore(hosts);
      c.completeBySad();
      consider();
      c.restore(hosts);
      c.complete(search);
      consider();
    }
  }
  // The candidate closest to the frontier: SAD over the frontier's at its move count, and moves
  // over the fewest with which the frontier reaches its SAD (weighted 1 : 1/2), then fewer moves.
  const score = (x: { k: number; sad: number }) => {
    let kmin = x.k;
    while (kmin > 1 && frontier[kmin - 1] <= x.sad + QUALITY_EPSILON) kmin--;
    const f = frontier[x.k];
    return Math.max(f > QUALITY_EPSILON ? x.sad / f - 1 : 0, (x.k / Math.max(kmin, 1) - 1) / 2);
  };
  const order = candidates
    .map((x, i) => ({ x, i, s: score(x), repaired: false }))
    .sort((p, q) => p.s - q.s || p.x.k - q.x.k || p.x.sad - q.x.sad || p.i - q.i);
  for (let n = 0; n < order.length; n++) {
    const { x, i, repaired } = order[n];
    if (i === 0) {
      c.restore(planned);
      return false;
    }
    c.restore(x.hosts);
    const steps = sequenceDeep(c, 2_000);
    if (steps !== null) {
      attempt.replaceBalancingSteps(steps);
      return true;
    }
    if (repaired) continue;
    // No order of these moves lowers I at every step (one only pays once another is made, or a swap
    // that neither order allows): keep the longest order that does, complete it both ways, and rank
    // those placements with the rest.
    c.restore(x.hosts);
    sequence(c, true);
    const prefix = c.save();
    for (const bySad of [true, false]) {
      c.restore(prefix);
      if (bySad) c.completeBySad();
      else c.complete(search);
      const hosts = c.save();
      const key = hosts.join(',');
      if (keys.has(key)) continue;
      keys.add(key);
      const fixed = { hosts, k: c.movedCount(), sad: c.sad() };
      seen(fixed.k, fixed.sad);
      const entry = { x: fixed, i: candidates.length, s: score(fixed), repaired: true };
      candidates.push(fixed);
      let at = n + 1;
      while (at < order.length && (order[at].s < entry.s || (order[at].s === entry.s && order[at].x.k <= fixed.k))) at++;
      order.splice(at, 0, entry);
    }
  }
  c.restore(planned);
  return false;
}

/**
 * The search at one move count on its own, as solveSmallCluster runs it: from the current
 * placement, the lowest-SAD placement found with at most k moved VMs. Leaves the state there and
 * returns its SAD. For the specs, which check it against a brute force (with `kicks` 0, the
 * descent alone).
 */
export function lowestSadWithin(
  attempt: PlanAttempt,
  mHost: Int32Array,
  unitList: Int32Array,
  k: number,
  budget = SMALL_SEARCH_BUDGET,
  kicks?: number,
): number {
  const c = new SmallClusterSearch(attempt, mHost, unitList);
  c.searchSad(k, seededRandom(0x51ed270b ^ (unitList.length * 7919 + c.hostCount())), budget, kicks);
  return c.sad();
}

/** The search, plus the two ways of completing a placement with the greedy's admissible moves. */
class SmallClusterSearch extends SadSearch {
  /**
   * The planner's greedy from the current placement, over the units still at home: afterwards no
   * unit left in place has an admissible move, so the next pass (moved VMs in cooldown) makes none.
   */
  complete(search: BalancingSearch): void {
    const state = this.state;
    const hostMovesLeft = new Int32Array(state.hostCount);
    for (;;) {
      if (state.balanced()) return;
      const left = this.budget.left();
      if (left.pass <= 0) return;
      const targets: number[] = [];
      for (let h = 0; h < state.hostCount; h++) {
        hostMovesLeft[h] = left.host[h];
        if (state.connected[h] && hostMovesLeft[h] > 0) targets.push(h);
      }
      const units = this.unitList.filter((u) => this.where(u) === this.home(u));
      const best = search(state, { units, targets: Int32Array.from(targets), hostMovesLeft, passMovesLeft: left.pass });
      if (best === null) return;
      this.place(best.unit, best.to);
    }
  }

  /**
   * Like complete(), but of the admissible moves (the greedy's own test: gain ≥ minGain and
   * gain > λ·cost, allowed, within budgets) it takes the one leaving the lowest SAD. Ends, like
   * the greedy, where no unit left in place has an admissible move.
   */
  completeBySad(): void {
    const state = this.state;
    const { minGain } = this.attempt.policy;
    const worth = moveWorth(state);
    for (;;) {
      if (state.balanced()) return;
      const I = state.imbalance();
      let best: { unit: number; to: number; sad: number; net: number } | null = null;
      for (const u of this.unitList) {
        const a = this.where(u);
        if (a !== this.home(u)) continue;
        const c = state.unitCpu[u];
        const m = state.unitMem[u];
        for (const t of this.connectedHosts) {
          if (t === a) continue;
          const gain = worth.benefit(I, state.imbalanceAfter(c, m, a, t));
          const net = gain - worth.penalty(state.unitCost[u]);
          if (!admissible(gain, net, minGain)) continue;
          const sad = this.sadWith(a, -c, -m, t, c, m);
          if (best !== null && (sad > best.sad + TIE_EPSILON || (sad >= best.sad - TIE_EPSILON && net <= best.net))) continue;
          if (!this.canPlace(u, t)) continue;
          best = { unit: u, to: t, sad, net };
        }
      }
      if (best === null) return;
      this.place(best.unit, best.to);
    }
  }
}
