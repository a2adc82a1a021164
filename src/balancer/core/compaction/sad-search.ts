// The search in SAD terms behind the small-cluster planner (small-cluster-search.ts): at a given
// count of moved VMs, the placement with the lowest SAD (sum of absolute deviations from the mean
// utilization, sad-objective.ts), by first-improvement descent over three neighbourhoods and
// iterated local search (kicks), keeping the best few placements found.
import { SadPlacement } from './sad-objective';
import { sameHosts } from './unit-placement';

/** A search at one move count stops after this many kicks without a better placement. */
const STALL_KICKS = 60;
/** Placements per move count kept as candidates (the best local optima of the search). */
const POOL_SIZE = 4;
/** Most units that change sides at once in a repartition of two hosts. */
const REPARTITION_UNITS = 4;

/** Makes the moves (unit, host) if they lower the objective to `after` and are allowed; whether it did. */
type Accept = (moves: [number, number][], after: number, dCount: number) => boolean;

/**
 * Two moves made together, in either order: a pair such as a swap may be refused in one order (the
 * first move alone would not fit) and allowed in the other.
 */
function eitherOrder(accept: Accept, first: [number, number], second: [number, number], after: number, dCount: number): boolean {
  return accept([first, second], after, dCount) || accept([second, first], after, dCount);
}

export class SadSearch extends SadPlacement {
  /** Pends moving unit u's load from host a to host t (scored by sadAfterChanges, nothing moves). */
  private shift(u: number, a: number, t: number): void {
    this.change(a, -this.state.unitCpu[u], -this.state.unitMem[u]);
    this.change(t, this.state.unitCpu[u], this.state.unitMem[u]);
  }

  /**
   * First-improvement descent on SAD with at most k moved units over four neighbourhoods: move a
   * unit, exchange two units, send a moved unit home while moving another, and, once these are
   * exhausted, repartition two hosts (several of their units change sides at once).
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
      // At the move limit with equal capacities, the single moves' deltas (those over the limit too)
      // are kept for the trades below, valid as long as nothing is accepted in this sweep.
      const keep = moved >= k && this.equalCapacities();
      if (keep) this.sizeMoveTables();
      let kept = 0;
      for (const v of units) {
        for (const t of hosts) {
          const a = this.where(v);
          if (t === a) continue;
          const dCount = this.countChange(v, t);
          if (moved + dCount > k && !keep) continue;
          this.shift(v, a, t);
          const after = this.sadAfterChanges(J, mean.cpu, mean.mem);
          if (keep) {
            this.moveDelta[kept] = after - J;
            this.moveUnit[kept] = v;
            this.moveTo[kept++] = t;
          }
          if (moved + dCount <= k && after < J - 1e-12) accept([[v, t]], after, dCount);
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
          if (after < J - 1e-12) eitherOrder(accept, [v, b], [w, a], after, dCount);
        }
      }
      // Trading a moved unit for another costs moved × units × hosts evaluations, far more than the
      // other two: only once they are exhausted.
      if (!improved && moved >= k && keep) this.trade(k, moved, J, mean, kept, accept);
      else if (!improved && moved >= k) {
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
              this.shift(w, b, hw);
              this.shift(v, a, t);
              const after = this.sadAfterChanges(J, mean.cpu, mean.mem);
              if (after < J - 1e-12 && eitherOrder(accept, [w, hw], [v, t], after, dCount)) break;
            }
            if (this.where(w) === hw) break;
          }
        }
      }
      if (!improved && this.repartition(k, moved, J, mean, accept, limit)) {
        moved = this.movedCount();
        improved = true;
      }
      if (!improved) return;
    }
  }

  /**
   * Repartition of two hosts: two to REPARTITION_UNITS of the units on hosts a and b change sides at
   * once (two leaving the same host for one, two for two, three for one…; one unit alone is a
   * single move, one each way a swap, both searched before). With equal capacities a candidate's
   * objective comes from the two hosts' terms alone. Stops at the first that lowers the objective
   * within k moved VMs and is allowed in some order, or when the evaluations reach `limit`.
   */
  private repartition(k: number, moved: number, J: number, mean: { cpu: number; mem: number }, accept: Accept, limit: number): boolean {
    const state = this.state;
    const hosts = this.connectedHosts;
    const on: number[] = [];
    const pick: number[] = [];
    // homeward[x]: VMs of the units on[x…] that would change sides to their home host.
    const homeward: number[] = [];
    let a = -1;
    let b = -1;
    // Units of `on` from index `from` on may join `pick`; (dc, dm) is the load a gains, dCount the moved-VM change.
    const visit = (from: number, dc: number, dm: number, dCount: number, fromA: number): boolean => {
      if (pick.length >= 2 && !(pick.length === 2 && fromA === 1) && moved + dCount <= k) {
        this.change(a, dc, dm);
        this.change(b, -dc, -dm);
        const after = this.sadAfterChanges(J, mean.cpu, mean.mem);
        if (after < J - 1e-12) {
          const outOfA = pick.filter((u) => this.where(u) === a).map((u): [number, number] => [u, b]);
          const outOfB = pick.filter((u) => this.where(u) === b).map((u): [number, number] => [u, a]);
          if (accept([...outOfA, ...outOfB], after, dCount) || accept([...outOfB, ...outOfA], after, dCount)) return true;
        }
      }
      if (pick.length >= REPARTITION_UNITS || this.evaluations >= limit) return false;
      // Over k moved VMs, only units going home can bring the count back: none left, nothing to find.
      if (moved + dCount - homeward[from] > k) return false;
      for (let x = from; x < on.length; x++) {
        const u = on[x];
        const leavesA = this.where(u) === a;
        const sign = leavesA ? -1 : 1;
        pick.push(u);
        const hit = visit(
          x + 1,
          dc + sign * state.unitCpu[u],
          dm + sign * state.unitMem[u],
          dCount + this.countChange(u, leavesA ? b : a),
          fromA + (leavesA ? 1 : 0),
        );
        pick.pop();
        if (hit) return true;
      }
      return false;
    };
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        a = hosts[i];
        b = hosts[j];
        on.length = 0;
        for (const u of this.unitList) {
          const w = this.where(u);
          if (w === a || w === b) on.push(u);
        }
        homeward.length = on.length + 1;
        homeward[on.length] = 0;
        for (let x = on.length - 1; x >= 0; x--) {
          const u = on[x];
          const home = this.home(u);
          const goesHome = (this.where(u) === a && home === b) || (this.where(u) === b && home === a);
          homeward[x] = homeward[x + 1] + (goesHome ? state.units[u].length : 0);
        }
        if (visit(0, 0, 0, 0, 0)) return true;
        if (this.evaluations >= limit) return false;
      }
    }
    return false;
  }

  // Single moves' objective deltas from the last sweep, for trade().
  private moveDelta = new Float64Array(0);
  private moveUnit = new Int32Array(0);
  private moveTo = new Int32Array(0);
  private moveOrder = new Int32Array(0);

  private sizeMoveTables(): void {
    const n = this.unitList.length * this.connectedHosts.length;
    if (this.moveDelta.length === n) return;
    this.moveDelta = new Float64Array(n);
    this.moveUnit = new Int32Array(n);
    this.moveTo = new Int32Array(n);
    this.moveOrder = new Int32Array(n);
  }

  /**
   * The trade neighbourhood at equal capacities: send a moved unit w home (b → hw) and move another
   * unit v (a → t). With equal capacities the mean stays, so when {b, hw} and {a, t} are disjoint
   * the trade's delta is the sum of the two moves' own: those come from the sorted single-move
   * deltas (the best first, stopping at the first that cannot pay), and only the trades sharing a
   * host are evaluated one by one. Same trades as the plain scan over moved × units × hosts, at
   * about moved × 4 units evaluations. Stops at the first accepted trade.
   */
  private trade(k: number, moved: number, J: number, mean: { cpu: number; mem: number }, kept: number, accept: Accept): void {
    const order = this.moveOrder.subarray(0, kept);
    for (let i = 0; i < kept; i++) order[i] = i;
    const delta = this.moveDelta;
    order.sort((x, y) => delta[x] - delta[y] || x - y);
    for (const w of this.moved()) {
      const b = this.where(w);
      const hw = this.home(w);
      const dw = this.countChange(w, hw);
      this.shift(w, b, hw);
      const homeDelta = this.sadAfterChanges(J, mean.cpu, mean.mem) - J;
      for (const i of order) {
        const d = homeDelta + delta[i];
        if (!(d < -1e-12)) break;
        const v = this.moveUnit[i];
        const t = this.moveTo[i];
        const a = this.where(v);
        if (v === w || a === b || a === hw || t === b || t === hw) continue;
        const dCount = dw + this.countChange(v, t);
        if (moved + dCount <= k && eitherOrder(accept, [w, hw], [v, t], J + d, dCount)) return;
      }
      for (const v of this.unitList) {
        if (v === w) continue;
        const a = this.where(v);
        for (const t of this.connectedHosts) {
          if (t === a || (a !== b && a !== hw && t !== b && t !== hw)) continue;
          const dCount = dw + this.countChange(v, t);
          if (moved + dCount > k) continue;
          this.shift(w, b, hw);
          this.shift(v, a, t);
          const after = this.sadAfterChanges(J, mean.cpu, mean.mem);
          if (after < J - 1e-12 && eitherOrder(accept, [w, hw], [v, t], after, dCount)) return;
        }
      }
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
        if (after < bestAfter) {
          best = u;
          bestAfter = after;
        }
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
        const v = units[Math.floor(rnd() * units.length)];
        const t = hosts[Math.floor(rnd() * hosts.length)];
        if (t === this.where(v)) continue;
        // At the move limit a kick trades a moved unit for this one (else it would change nothing
        // and the descent would only confirm the same optimum).
        const moved = this.moved();
        if (moved.length > 0 && (rnd() < 0.5 || this.movedCount() + this.countChange(v, t) > k)) {
          const w = moved[Math.floor(rnd() * moved.length)];
          if (w !== v && this.canPlace(w, this.home(w))) this.place(w, this.home(w));
        }
        if (this.movedCount() + this.countChange(v, t) > k) continue;
        if (this.canPlace(v, t)) {
          this.place(v, t);
          this.kicked.add(v);
        }
      }
      // First a descent that keeps the kicked units where the kick put them (else its first step is
      // often to move one straight back, and the kick leads nowhere new), then a free one.
      if (this.kicked.size > 0) {
        this.descend(k, limit);
        this.kicked.clear();
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

  /** Units a kick just moved: the descent right after it may not move them (see searchSad). */
  private readonly kicked = new Set<number>();

  override canPlace(u: number, to: number): boolean {
    return !this.kicked.has(u) && super.canPlace(u, to);
  }
}
