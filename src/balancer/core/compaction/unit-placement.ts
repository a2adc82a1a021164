// Bookkeeping shared by the compaction algorithms: each balancing unit's home (its host after the
// mandatory moves) and where it is now, moving units within the move budgets, saving and restoring
// placements, and the test a compacted placement must pass (no less balanced than the greedy's).
import { PlanAttempt } from '../attempt';
import { allowed } from '../constraints';
import { Move, PlanningState } from '../planning-state';
import { moveWorth, MoveWorth } from '../worth';

export const QUALITY_EPSILON = 1e-12;
/** Clusters with units × hosts up to this get the small-cluster search (solveSmallCluster). */
export const SMALL_CLUSTER = 2_000;

/** True when solveSmallCluster will search this cluster (then the compaction rounds are skipped). */
export function isSmallCluster(state: PlanningState, unitList: Int32Array): boolean {
  let H = 0;
  for (let h = 0; h < state.hostCount; h++) if (state.connected[h]) H++;
  return unitList.length > 0 && H >= 2 && unitList.length * H <= SMALL_CLUSTER;
}

/** Per-host and per-pass move counts of the current set of balancing moves, for budget checks. */
export class MoveBudget {
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

export function sameHosts(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The balancing units of an attempt, movable one at a time; `evaluations` counts the searches' work. */
export class UnitPlacement {
  readonly state: PlanningState;
  /** The cost–benefit test of worth.ts. */
  readonly worth: MoveWorth;
  /** Imbalance the compacted plan must not exceed: the greedy's. */
  readonly quality: number;
  private readonly mustStayBalanced: boolean;
  readonly budget: MoveBudget;
  readonly connectedHosts: number[] = [];
  evaluations = 0;

  constructor(
    readonly attempt: PlanAttempt,
    private readonly mHost: Int32Array,
    readonly unitList: Int32Array,
  ) {
    this.state = attempt.state;
    this.worth = moveWorth(this.state);
    this.quality = this.state.imbalance();
    this.mustStayBalanced = this.state.balanced();
    for (let h = 0; h < this.state.hostCount; h++) if (this.state.connected[h]) this.connectedHosts.push(h);
    this.budget = new MoveBudget(
      attempt,
      (u) => this.home(u),
      (u) => this.where(u),
      unitList,
    );
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

  place(u: number, to: number): void {
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

  moved(): number[] {
    const out: number[] = [];
    for (const u of this.unitList) if (this.where(u) !== this.home(u)) out.push(u);
    return out;
  }

  movedCost(): number {
    let cost = 0;
    for (const u of this.unitList) if (this.where(u) !== this.home(u)) cost += this.state.unitCost[u];
    return cost;
  }

  canPlace(u: number, to: number): boolean {
    const from = this.where(u);
    const move: Move = { vms: this.state.units[u], from, to, purpose: 'balance' };
    return this.budget.fits(u, from, to) && allowed(move, this.state);
  }

  acceptable(): boolean {
    return this.state.imbalance() <= this.quality + QUALITY_EPSILON && (!this.mustStayBalanced || this.state.balanced());
  }

  /** Moved VMs (a unit counts its members). */
  movedCount(): number {
    let n = 0;
    for (const u of this.unitList) if (this.where(u) !== this.home(u)) n += this.state.units[u].length;
    return n;
  }

  /** Moved-VM count change if unit u goes to t. */
  countChange(u: number, t: number): number {
    const home = this.home(u);
    const at = this.where(u);
    return ((t === home ? 0 : 1) - (at === home ? 0 : 1)) * this.state.units[u].length;
  }

  /** Place units in order, each checked against the constraints; all or nothing. */
  tryPlace(moves: [number, number][]): boolean {
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
}
