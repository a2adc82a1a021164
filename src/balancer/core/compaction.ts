// Post-pass compaction of the greedy's balancing moves. The greedy reaches a final state F with k
// moves; many of them are chains (A→B→C), undone later, or small corrections. Here F is reduced to
// its net effect (which VM ends where), moves that do not matter are dropped, and a search looks
// for a placement as balanced as F with fewer moves (then better balanced at that count): seeded
// simulated annealing on small clusters, otherwise — within an evaluation budget — a local search
// replacing pairs of moves by one and swapping moves for better ones. The result is then
// re-sequenced so that every intermediate state passes every constraint and every move lowers I.
import { admissible, BalancingSearch, isBetter, TIE_EPSILON } from './balancing';
import { allowed } from './constraints';
import { PlanAttempt, Step } from './attempt';
import { Move, PlanningState } from './planning-state';
import { seededRandom } from './random';

export interface CompactionOptions {
  /** Candidate (unit, host) evaluations the local search may spend; 0 disables it. */
  localSearchBudget: number;
}

const QUALITY_EPSILON = 1e-12;
/** Clusters with units × hosts up to this get the small-cluster search (solveSmallCluster). */
export const SMALL_CLUSTER = 2_000;

/** True when solveSmallCluster will search this cluster (then the compaction rounds are skipped). */
export function isSmallCluster(state: PlanningState, unitList: Int32Array): boolean {
  let H = 0;
  for (let h = 0; h < state.hostCount; h++) if (state.connected[h]) H++;
  return unitList.length > 0 && H >= 2 && unitList.length * H <= SMALL_CLUSTER;
}

/** Per-host and per-pass move counts of the current set of balancing moves, for budget checks. */
class MoveBudget {
  private readonly base: Int32Array;
  private readonly baseTotal: number;
  private readonly used: Int32Array;
  private usedTotal = 0;

  constructor(
    private readonly attempt: PlanAttempt,
    private readonly home: (u: number) => number,
    private readonly where: (u: number) => number,
    units: Int32Array,
  ) {
    const state = attempt.state;
    this.base = new Int32Array(state.hostCount);
    let total = 0;
    for (const s of attempt.steps) {
      if (s.kind === 'balance') continue;
      total += s.vms.length;
      if (s.from >= 0) this.base[s.from] += s.vms.length;
      this.base[s.to] += s.vms.length;
    }
    this.baseTotal = total;
    this.used = new Int32Array(state.hostCount);
    for (const u of units) if (where(u) !== home(u)) this.add(u, where(u), 1);
  }

  private add(u: number, at: number, sign: number): void {
    const size = this.attempt.state.units[u].length * sign;
    this.used[this.home(u)] += size;
    this.used[at] += size;
    this.usedTotal += size;
  }

  /** Update after unit u moved from `from` to `to`. */
  moved(u: number, from: number, to: number): void {
    if (from !== this.home(u)) this.add(u, from, -1);
    if (to !== this.home(u)) this.add(u, to, 1);
  }

  /** VM moves left per host and for the pass. */
  left(): { host: Int32Array; pass: number } {
    const p = this.attempt.policy;
    const host = new Int32Array(this.used.length);
    for (let h = 0; h < host.length; h++) host[h] = p.maxMovesPerHost - this.base[h] - this.used[h];
    return { host, pass: p.maxMovesPerPass - this.baseTotal - this.usedTotal };
  }

  /** Would moving unit u (now on `from`) to `to` stay within the budgets? */
  fits(u: number, from: number, to: number): boolean {
    const home = this.home(u);
    if (to === home) return true;
    const size = this.attempt.state.units[u].length;
    const p = this.attempt.policy;
    if (this.base[to] + this.used[to] + size > p.maxMovesPerHost) return false;
    if (from === home) {
      if (this.base[home] + this.used[home] + size > p.maxMovesPerHost) return false;
      if (this.baseTotal + this.usedTotal + size > p.maxMovesPerPass) return false;
    }
    return true;
  }
}

export function compactBalancing(attempt: PlanAttempt, mHost: Int32Array, unitList: Int32Array, options: CompactionOptions): void {
  const greedySteps = attempt.steps.filter((s) => s.kind === 'balance');
  if (greedySteps.length === 0) return;
  const c = new Compactor(attempt, mHost, unitList);
  const greedyFinal = c.save();
  c.dropPass();
  const afterDrop = c.save();
  if (options.localSearchBudget > 0) c.localSearch(options.localSearchBudget);
  const greedyMoves = c.movedIn(greedyFinal);
  let steps = c.sequence();
  if (steps === null) {
    // The best placement found cannot be reached one I-lowering move at a time. Keep the longest
    // prefix that can, when it is at least as balanced as the greedy with no more moves.
    const partial = c.sequence(true);
    if (partial !== null && partial.length <= greedyMoves && c.acceptable()) steps = partial;
    else c.restore(afterDrop);
  }
  if (steps === null && !sameHosts(c.save(), afterDrop)) steps = c.sequence();
  if (steps === null) {
    c.restore(afterDrop);
    steps = c.sequence();
  }
  if (steps === null) {
    c.restore(greedyFinal);
    return;
  }
  attempt.replaceBalancingSteps(steps);
}

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
export function solveSmallCluster(attempt: PlanAttempt, mHost: Int32Array, unitList: Int32Array, search: BalancingSearch, budget = SMALL_SEARCH_BUDGET): boolean {
  if (!attempt.steps.some((s) => s.kind === 'balance')) return false;
  const c = new Compactor(attempt, mHost, unitList);
  if (!c.small()) return false;
  const planned = c.save();
  const kPlan = c.movedCount();
  const homes = Int32Array.from(unitList, (u) => c.home(u));
  let totalVms = 0;
  for (const u of unitList) totalVms += attempt.state.units[u].length;
  const kMax = Math.min(totalVms, kPlan + SMALL_EXTRA_MOVES);
  const rnd = seededRandom(0x51ed270b ^ (unitList.length * 7919 + c.hostCount()));
  // frontier[j]: the lowest SAD seen with at most j moved VMs (our estimate of the optimum).
  const frontier: number[] = new Array(totalVms + 1).fill(Infinity);
  const seen = (k: number, sad: number) => {
    for (let j = k; j < frontier.length; j++) if (sad < frontier[j]) frontier[j] = sad;
  };
  const plannedSad = c.sad();
  seen(kPlan, plannedSad);
  const best: (Int32Array | null)[] = new Array(kMax + 1).fill(null);
  const bestJ = new Float64Array(kMax + 1).fill(Infinity);
  const pools: Int32Array[][] = Array.from({ length: kMax + 1 }, () => []);
  const perK = budget / (2 * Math.max(kMax, 1));
  const explore = (k: number, from: Int32Array) => {
    c.restore(from);
    const J = c.searchSad(k, rnd, c.spent() + perK);
    if (J < bestJ[k] - 1e-12) {
      bestJ[k] = J;
      best[k] = c.save();
    }
    seen(c.movedCount(), c.sad());
    for (const p of c.pool) pools[k].push(p.hosts);
  };
  for (let k = 1; k <= kMax; k++) explore(k, best[k - 1] ?? homes);
  for (let k = kMax - 1; k >= 1; k--) if (best[k + 1]) explore(k, best[k + 1]!);
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
    .map((x, i) => ({ x, i, s: score(x) }))
    .sort((p, q) => p.s - q.s || p.x.k - q.x.k || p.x.sad - q.x.sad || p.i - q.i);
  for (const { x, i } of order) {
    if (i === 0) {
      c.restore(planned);
      return false;
    }
    c.restore(x.hosts);
    const steps = c.sequenceDeep(2_000);
    if (steps === null) continue;
    attempt.replaceBalancingSteps(steps);
    return true;
  }
  c.restore(planned);
  return false;
}

/** Candidate evaluations the small-cluster search may spend in all. */
export const SMALL_SEARCH_BUDGET = 2_000_000;
/** A search at one move count stops after this many kicks without a better placement. */
const STALL_KICKS = 60;
/** Placements per move count kept as candidates (the best local optima of the search). */
const POOL_SIZE = 4;
/** The frontier goes this many VM moves beyond the greedy's plan. */
const SMALL_EXTRA_MOVES = 4;

/** Per-host term of the small-cluster objective: |d| plus a small d² tie-break towards lower I. */
const L2_WEIGHT = 0.1;
function dev(d: number): number {
  return Math.abs(d) + L2_WEIGHT * d * d;
}

function sameHosts(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

class Compactor {
  readonly state: PlanningState;
  private readonly lambda: number;
  /** Imbalance the compacted plan must not exceed: the greedy's. */
  private readonly quality: number;
  private readonly mustStayBalanced: boolean;
  private readonly budget: MoveBudget;
  private readonly connectedHosts: number[] = [];
  private evaluations = 0;

  constructor(
    private readonly attempt: PlanAttempt,
    private readonly mHost: Int32Array,
    private readonly unitList: Int32Array,
  ) {
    this.state = attempt.state;
    this.lambda = attempt.policy.costWeight;
    this.quality = this.state.imbalance();
    this.mustStayBalanced = this.state.balanced();
    for (let h = 0; h < this.state.hostCount; h++) if (this.state.connected[h]) this.connectedHosts.push(h);
    this.budget = new MoveBudget(attempt, (u) => this.home(u), (u) => this.where(u), unitList);
  }

  spent(): number {
    return this.evaluations;
  }

  small(): boolean {
    const U = this.unitList.length;
    const H = this.connectedHosts.length;
    return U > 0 && H >= 2 && U * H <= SMALL_CLUSTER;
  }

  hostCount(): number {
    return this.connectedHosts.length;
  }

  movedIn(saved: Int32Array): number {
    let n = 0;
    this.unitList.forEach((u, i) => {
      if (saved[i] !== this.home(u)) n += this.state.units[u].length;
    });
    return n;
  }


  home(u: number): number {
    return this.mHost[this.state.units[u][0]];
  }

  where(u: number): number {
    return this.state.vmHost[this.state.units[u][0]];
  }

  private place(u: number, to: number): void {
    const from = this.where(u);
    if (from === to) return;
    for (const v of this.state.units[u]) this.state.placeVm(v, to);
    this.budget.moved(u, from, to);
  }

  save(): Int32Array {
    return Int32Array.from(this.unitList, (u) => this.where(u));
  }

  restore(saved: Int32Array): void {
    this.unitList.forEach((u, i) => this.place(u, saved[i]));
  }

  private moved(): number[] {
    const out: number[] = [];
    for (const u of this.unitList) if (this.where(u) !== this.home(u)) out.push(u);
    return out;
  }

  private movedCost(): number {
    let cost = 0;
    for (const u of this.unitList) if (this.where(u) !== this.home(u)) cost += this.state.unitCost[u];
    return cost;
  }

  private canPlace(u: number, to: number): boolean {
    const from = this.where(u);
    const move: Move = { vms: this.state.units[u], from, to, purpose: 'balance' };
    return this.budget.fits(u, from, to) && allowed(move, this.state);
  }

  acceptable(): boolean {
    return this.state.imbalance() <= this.quality + QUALITY_EPSILON && (!this.mustStayBalanced || this.state.balanced());
  }

  /** Undo every move whose undoing keeps the plan at least as balanced. */
  dropPass(): boolean {
    let changed = false;
    for (const u of this.moved()) {
      const from = this.where(u);
      if (!this.canPlace(u, this.home(u))) continue;
      this.place(u, this.home(u));
      if (this.acceptable()) changed = true;
      else this.place(u, from);
    }
    return changed;
  }

  /**
   * The best single change (unit v to host t) in the current state by (moves after, then
   * I + λ·cost), among those `accept` takes. Counts as |units| × |hosts| evaluations.
   */
  private bestChange(
    movesNow: number,
    costNow: number,
    accept: (moves: number, imbalance: number, objective: number) => boolean,
  ): { unit: number; to: number; moves: number; objective: number } | null {
    const state = this.state;
    let best: { unit: number; to: number; moves: number; objective: number } | null = null;
    this.evaluations += this.unitList.length * this.connectedHosts.length;
    for (const v of this.unitList) {
      const cur = this.where(v);
      const home = this.home(v);
      const cpu = state.unitCpu[v];
      const mem = state.unitMem[v];
      const cost = state.unitCost[v];
      for (const t of this.connectedHosts) {
        if (t === cur) continue;
        const after = state.imbalanceAfter(cpu, mem, cur, t);
        const moves = movesNow + (cur === home ? 1 : t === home ? -1 : 0);
        const objective = after + this.lambda * (costNow + (cur === home ? cost : t === home ? -cost : 0));
        if (!accept(moves, after, objective)) continue;
        if (best !== null) {
          if (moves > best.moves) continue;
          if (moves === best.moves) {
            if (objective > best.objective + TIE_EPSILON) continue;
            if (objective >= best.objective - TIE_EPSILON && (v > best.unit || (v === best.unit && t > best.to))) continue;
          }
        }
        if (!this.canPlace(v, t)) continue;
        best = { unit: v, to: t, moves, objective };
      }
    }
    return best;
  }

  /** Try a change; keep it if the state stays acceptable. */
  private commit(change: { unit: number; to: number }): boolean {
    const from = this.where(change.unit);
    this.place(change.unit, change.to);
    if (this.acceptable()) return true;
    this.place(change.unit, from);
    return false;
  }

  /** Undo u; then the best change that gets back to ≤ k moves with a lower objective, or to fewer moves. */
  private swapPass(budget: number): boolean {
    let changed = false;
    for (const u of this.moved()) {
      if (this.evaluations > budget) break;
      if (this.where(u) === this.home(u)) continue;
      const k0 = this.moved().length;
      const j0 = this.state.imbalance() + this.lambda * this.movedCost();
      const from = this.where(u);
      if (!this.canPlace(u, this.home(u))) continue;
      this.place(u, this.home(u));
      const change = this.bestChange(k0 - 1, this.movedCost(), (moves, after, objective) => {
        if (after > this.quality + QUALITY_EPSILON) return false;
        return moves < k0 || objective < j0 - 1e-12;
      });
      if (change && !(change.unit === u && change.to === from) && this.commit(change)) {
        changed = true;
        continue;
      }
      this.place(u, from);
    }
    return changed;
  }

  /** Undo two moves and make at most one other: k − 1 moves (or fewer) at no loss of balance. */
  private pairPass(budget: number): boolean {
    const moved = this.moved();
    for (let i = 0; i < moved.length; i++) {
      for (let j = i + 1; j < moved.length; j++) {
        if (this.evaluations > budget) return false;
        const u1 = moved[i];
        const u2 = moved[j];
        const from1 = this.where(u1);
        const from2 = this.where(u2);
        if (!this.canPlace(u1, this.home(u1))) continue;
        this.place(u1, this.home(u1));
        if (!this.canPlace(u2, this.home(u2))) {
          this.place(u1, from1);
          continue;
        }
        this.place(u2, this.home(u2));
        if (this.acceptable()) return true;
        const k = moved.length - 2;
        const change = this.bestChange(k, this.movedCost(), (moves, after) => moves <= k + 1 && after <= this.quality + QUALITY_EPSILON);
        if (change && this.commit(change)) return true;
        this.place(u2, from2);
        this.place(u1, from1);
      }
    }
    return false;
  }

  /** Σ_r w_r Σ_h |u_r(h) − mean_r| over the connected hosts: the L1 counterpart of I. */
  sad(): number {
    return this.sadWith(-1, 0, 0, -1, 0, 0);
  }

  /** SAD once host a's load changes by (ca, ma) and host b's by (cb, mb); O(hosts). */
  private sadWith(a: number, ca: number, ma: number, b: number, cb: number, mb: number): number {
    const state = this.state;
    const hosts = this.connectedHosts;
    const n = hosts.length;
    if (n === 0) return 0;
    const uc = (h: number) => (h === a ? (state.loadCpu[h] + ca) / state.capCpu[h] : h === b ? (state.loadCpu[h] + cb) / state.capCpu[h] : state.uCpu[h]);
    const um = (h: number) => (h === a ? (state.loadMem[h] + ma) / state.capMem[h] : h === b ? (state.loadMem[h] + mb) / state.capMem[h] : state.uMem[h]);
    let sc = 0;
    let sm = 0;
    for (const h of hosts) {
      sc += uc(h);
      sm += um(h);
    }
    const mc = sc / n;
    const mm = sm / n;
    let dc = 0;
    let dm = 0;
    for (const h of hosts) {
      dc += Math.abs(uc(h) - mc);
      dm += Math.abs(um(h) - mm);
    }
    return state.wCpu * dc + state.wMem * dm;
  }

  /** Moved VMs (a unit counts its members). */
  movedCount(): number {
    let n = 0;
    for (const u of this.unitList) if (this.where(u) !== this.home(u)) n += this.state.units[u].length;
    return n;
  }

  /** The search's objective: SAD, plus a small quadratic term that prefers the lower I among equal SADs. */
  objective(): number {
    const state = this.state;
    const { cpu, mem } = this.means();
    let j = 0;
    for (const h of this.connectedHosts) j += state.wCpu * dev(state.uCpu[h] - cpu) + state.wMem * dev(state.uMem[h] - mem);
    return j;
  }

  // Pending load changes of a candidate (up to four hosts), scored by sadAfterChanges().
  private readonly chHost = new Int32Array(4);
  private readonly chCpu = new Float64Array(4);
  private readonly chMem = new Float64Array(4);
  private chCount = 0;
  private uniformCaps: boolean | null = null;

  private change(h: number, cpu: number, mem: number): void {
    for (let i = 0; i < this.chCount; i++) {
      if (this.chHost[i] === h) {
        this.chCpu[i] += cpu;
        this.chMem[i] += mem;
        return;
      }
    }
    this.chHost[this.chCount] = h;
    this.chCpu[this.chCount] = cpu;
    this.chMem[this.chCount] = mem;
    this.chCount++;
  }

  /** SAD after the pending changes (then cleared), given the current SAD and means. */
  private sadAfterChanges(sadNow: number, meanCpu: number, meanMem: number): number {
    const state = this.state;
    this.evaluations++;
    const m = this.chCount;
    this.chCount = 0;
    if (this.uniformCaps === null) {
      const hs = this.connectedHosts;
      this.uniformCaps = hs.every((h) => state.capCpu[h] === state.capCpu[hs[0]] && state.capMem[h] === state.capMem[hs[0]]);
    }
    if (this.uniformCaps) {
      // Equal capacities: moves keep the mean, so only the changed hosts' terms change.
      let d = 0;
      for (let i = 0; i < m; i++) {
        const h = this.chHost[i];
        const uc = state.uCpu[h];
        const um = state.uMem[h];
        d += state.wCpu * (dev(uc + this.chCpu[i] / state.capCpu[h] - meanCpu) - dev(uc - meanCpu));
        d += state.wMem * (dev(um + this.chMem[i] / state.capMem[h] - meanMem) - dev(um - meanMem));
      }
      return sadNow + d;
    }
    const hosts = this.connectedHosts;
    const n = hosts.length;
    const uc = (h: number) => {
      for (let i = 0; i < m; i++) if (this.chHost[i] === h) return state.uCpu[h] + this.chCpu[i] / state.capCpu[h];
      return state.uCpu[h];
    };
    const um = (h: number) => {
      for (let i = 0; i < m; i++) if (this.chHost[i] === h) return state.uMem[h] + this.chMem[i] / state.capMem[h];
      return state.uMem[h];
    };
    let sc = 0;
    let sm = 0;
    for (const h of hosts) {
      sc += uc(h);
      sm += um(h);
    }
    const mc = sc / n;
    const mm = sm / n;
    let dc = 0;
    let dm = 0;
    for (const h of hosts) {
      dc += dev(uc(h) - mc);
      dm += dev(um(h) - mm);
    }
    return state.wCpu * dc + state.wMem * dm;
  }

  private means(): { cpu: number; mem: number } {
    let c = 0;
    let m = 0;
    for (const h of this.connectedHosts) {
      c += this.state.uCpu[h];
      m += this.state.uMem[h];
    }
    const n = this.connectedHosts.length;
    return { cpu: c / n, mem: m / n };
  }

  /** Moved-VM count change if unit u goes to t. */
  private countChange(u: number, t: number): number {
    const home = this.home(u);
    const at = this.where(u);
    return ((t === home ? 0 : 1) - (at === home ? 0 : 1)) * this.state.units[u].length;
  }

  /** Place units in order, each checked against the constraints; all or nothing. */
  private tryPlace(moves: [number, number][]): boolean {
    const done: [number, number][] = [];
    for (const [u, t] of moves) {
      if (!this.canPlace(u, t)) {
        for (let i = done.length - 1; i >= 0; i--) this.place(done[i][0], done[i][1]);
        return false;
      }
      done.push([u, this.where(u)]);
      this.place(u, t);
    }
    return true;
  }

  /**
   * First-improvement descent on SAD with at most k moved units over three neighbourhoods: move a
   * unit, exchange two units, and send a moved unit home while moving another.
   */
  private descend(k: number, limit: number): void {
    const state = this.state;
    const units = this.unitList;
    const hosts = this.connectedHosts;
    let moved = this.movedCount();
    for (let sweep = 0; sweep < 200 && this.evaluations < limit; sweep++) {
      let improved = false;
      let J = this.objective();
      let mean = this.means();
      const accept = (moves: [number, number][], after: number, dCount: number): boolean => {
        if (!(after < J - 1e-12) || moved + dCount > k || !this.tryPlace(moves)) return false;
        moved += dCount;
        J = this.objective();
        mean = this.means();
        improved = true;
        return true;
      };
      for (const v of units) {
        for (const t of hosts) {
          const a = this.where(v);
          if (t === a) continue;
          const dCount = this.countChange(v, t);
          if (moved + dCount > k) continue;
          this.change(a, -state.unitCpu[v], -state.unitMem[v]);
          this.change(t, state.unitCpu[v], state.unitMem[v]);
          const after = this.sadAfterChanges(J, mean.cpu, mean.mem);
          if (after < J - 1e-12) accept([[v, t]], after, dCount);
        }
      }
      for (let i = 0; i < units.length; i++) {
        for (let j = i + 1; j < units.length; j++) {
          const v = units[i];
          const w = units[j];
          const a = this.where(v);
          const b = this.where(w);
          if (a === b) continue;
          const dCount = this.countChange(v, b) + this.countChange(w, a);
          if (moved + dCount > k) continue;
          const dc = state.unitCpu[w] - state.unitCpu[v];
          const dm = state.unitMem[w] - state.unitMem[v];
          this.change(a, dc, dm);
          this.change(b, -dc, -dm);
          const after = this.sadAfterChanges(J, mean.cpu, mean.mem);
          if (after < J - 1e-12 && !accept([[v, b], [w, a]], after, dCount)) accept([[w, a], [v, b]], after, dCount);
        }
      }
      if (moved >= k) {
        for (const w of this.moved()) {
          const b = this.where(w);
          const hw = this.home(w);
          if (b === hw) continue;
          for (const v of units) {
            if (v === w) continue;
            for (const t of hosts) {
              const a = this.where(v);
              if (t === a) continue;
              const dCount = this.countChange(w, hw) + this.countChange(v, t);
              if (moved + dCount > k) continue;
              this.change(b, -state.unitCpu[w], -state.unitMem[w]);
              this.change(hw, state.unitCpu[w], state.unitMem[w]);
              this.change(a, -state.unitCpu[v], -state.unitMem[v]);
              this.change(t, state.unitCpu[v], state.unitMem[v]);
              const after = this.sadAfterChanges(J, mean.cpu, mean.mem);
              if (after < J - 1e-12 && (accept([[w, hw], [v, t]], after, dCount) || accept([[v, t], [w, hw]], after, dCount))) break;
            }
            if (this.where(w) === hw) break;
          }
        }
      }
      if (!improved) return;
    }
  }

  /** The best distinct placements of the last searchSad(), lowest objective first. */
  pool: { J: number; hosts: Int32Array }[] = [];

  private remember(J: number): void {
    const pool = this.pool;
    if (pool.length >= POOL_SIZE && J >= pool[pool.length - 1].J - 1e-12) return;
    const hosts = this.save();
    for (const p of pool) if (Math.abs(p.J - J) <= 1e-12 && sameHosts(p.hosts, hosts)) return;
    let i = pool.length;
    while (i > 0 && pool[i - 1].J > J) i--;
    pool.splice(i, 0, { J, hosts });
    if (pool.length > POOL_SIZE) pool.pop();
  }

  /**
   * Lowest SAD with at most k moved VMs: trim the current placement to k moves, descend, then
   * iterated local search until the evaluation count reaches `limit` (kicks: send one to three
   * moved units home and move as many others at random, each followed by a descent; the best
   * placement is kept). Leaves the state at the best placement found; returns its objective.
   */
  searchSad(k: number, rnd: () => number, limit: number, maxKicks = 400): number {
    while (this.movedCount() > k) {
      let best = -1;
      let bestAfter = Infinity;
      for (const u of this.moved()) {
        if (!this.canPlace(u, this.home(u))) continue;
        const from = this.where(u);
        this.place(u, this.home(u));
        const after = this.objective();
        this.place(u, from);
        if (after < bestAfter) (best = u), (bestAfter = after);
      }
      if (best < 0) return Infinity;
      this.place(best, this.home(best));
    }
    this.descend(k, limit);
    let best = this.save();
    let bestJ = this.objective();
    this.pool = [];
    this.remember(bestJ);
    const units = this.unitList;
    const hosts = this.connectedHosts;
    let stall = 0;
    for (let r = 0; r < maxKicks && stall < STALL_KICKS && this.evaluations < limit; r++) {
      const steps = 1 + Math.floor(rnd() * 3);
      for (let s = 0; s < steps; s++) {
        const moved = this.moved();
        if (moved.length > 0 && rnd() < 0.5) {
          const w = moved[Math.floor(rnd() * moved.length)];
          if (this.canPlace(w, this.home(w))) this.place(w, this.home(w));
        }
        const v = units[Math.floor(rnd() * units.length)];
        const t = hosts[Math.floor(rnd() * hosts.length)];
        if (t === this.where(v) || this.movedCount() + this.countChange(v, t) > k) continue;
        if (this.canPlace(v, t)) this.place(v, t);
      }
      this.descend(k, limit);
      const J = this.objective();
      this.remember(J);
      stall++;
      if (J < bestJ - 1e-12) {
        bestJ = J;
        best = this.save();
        stall = 0;
      } else if (J > bestJ + 1e-12) this.restore(best);
    }
    this.restore(best);
    return bestJ;
  }

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
    const { minGain, costWeight } = this.attempt.policy;
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
          const gain = I - state.imbalanceAfter(c, m, a, t);
          const net = gain - costWeight * state.unitCost[u];
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

  localSearch(budget: number): void {
    const perScan = this.unitList.length * this.connectedHosts.length;
    if (perScan === 0 || perScan * Math.max(1, this.moved().length) > budget) return;
    for (let round = 0; round < 100 && this.evaluations <= budget; round++) {
      if (this.dropPass()) continue;
      if (this.pairPass(budget)) continue;
      if (!this.swapPass(budget)) break;
    }
  }

  /**
   * Like sequence(), but when the best-gain order gets stuck, a depth-first search over orders
   * (best gain first, failed remainders remembered) within a node budget.
   */
  sequenceDeep(nodeBudget: number): Step[] | null {
    const quick = this.sequence();
    if (quick !== null) return quick;
    const state = this.state;
    const final = this.save();
    const pending = this.moved();
    const target = new Map(pending.map((u) => [u, this.where(u)]));
    for (const u of pending) this.place(u, this.home(u));
    const failed = new Set<string>();
    const order: number[] = [];
    const done = new Uint8Array(pending.length);
    let nodes = 0;
    const dfs = (): boolean => {
      if (order.length === pending.length) return true;
      const key = String(Array.from(done).join(''));
      if (failed.has(key) || ++nodes > nodeBudget) return false;
      const I = state.imbalance();
      const options: { i: number; net: number }[] = [];
      pending.forEach((u, i) => {
        if (done[i]) return;
        const from = this.where(u);
        const to = target.get(u)!;
        const gain = I - state.imbalanceAfter(state.unitCpu[u], state.unitMem[u], from, to);
        if (!(gain > TIE_EPSILON) || !allowed({ vms: state.units[u], from, to, purpose: 'balance' }, state)) return;
        options.push({ i, net: gain - this.lambda * state.unitCost[u] });
      });
      options.sort((x, y) => y.net - x.net || x.i - y.i);
      for (const { i } of options) {
        const u = pending[i];
        const from = this.where(u);
        this.place(u, target.get(u)!);
        done[i] = 1;
        order.push(i);
        if (dfs()) return true;
        order.pop();
        done[i] = 0;
        this.place(u, from);
      }
      failed.add(key);
      return false;
    };
    if (!dfs()) {
      this.restore(final);
      return null;
    }
    for (const u of pending) this.place(u, this.home(u));
    const steps: Step[] = [];
    for (const i of order) {
      const u = pending[i];
      const from = this.where(u);
      this.place(u, target.get(u)!);
      steps.push({ vms: [...state.units[u]], from, to: target.get(u)!, kind: 'balance', reason: null });
    }
    return steps;
  }

  /**
   * Order the moves from the post-mandatory state to the current one: each step takes the
   * remaining move with the best net gain among those the constraints allow that lower I.
   * Returns null (and leaves the state as it found it) when no such order exists, or with
   * keepPrefix the steps of the longest such order found (the state left after them).
   */
  sequence(keepPrefix = false): Step[] | null {
    const state = this.state;
    const final = this.save();
    const pending = this.moved();
    const target = new Map(pending.map((u) => [u, this.where(u)]));
    for (const u of pending) this.place(u, this.home(u));
    const steps: Step[] = [];
    const remaining = new Set(pending);
    while (remaining.size > 0) {
      const I = state.imbalance();
      let best: { unit: number; from: number; to: number; imbalanceAfter: number; gain: number; net: number } | null = null;
      for (const u of remaining) {
        const from = this.where(u);
        const to = target.get(u)!;
        const after = state.imbalanceAfter(state.unitCpu[u], state.unitMem[u], from, to);
        const gain = I - after;
        const net = gain - this.lambda * state.unitCost[u];
        if (!(gain > TIE_EPSILON) || !isBetter(net, u, to, best)) continue;
        if (!allowed({ vms: state.units[u], from, to, purpose: 'balance' }, state)) continue;
        best = { unit: u, from, to, imbalanceAfter: after, gain, net };
      }
      if (best === null) {
        if (keepPrefix) return steps;
        this.restore(final);
        return null;
      }
      this.place(best.unit, best.to);
      remaining.delete(best.unit);
      steps.push({ vms: [...state.units[best.unit]], from: best.from, to: best.to, kind: 'balance', reason: null });
    }
    return steps;
  }
}
