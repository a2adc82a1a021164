// The small-cluster search's objective, in the quality metric's own terms: SAD, the sum over
// resources of the weighted absolute deviations from the mean utilization (the L1 counterpart of
// I), plus a small quadratic term preferring the lower I among equal SADs. Candidates are scored
// from the hosts they change, without moving anything.
import { UnitPlacement } from './unit-placement';

/** Per-host term of the small-cluster objective: |d| plus a small d² tie-break towards lower I. */
const L2_WEIGHT = 0.1;
function dev(d: number): number {
  return Math.abs(d) + L2_WEIGHT * d * d;
}

/** A unit placement that scores itself and candidate changes by SAD. */
export class SadPlacement extends UnitPlacement {
  /** Σ_r w_r Σ_h |u_r(h) − mean_r| over the connected hosts: the L1 counterpart of I. */
  sad(): number {
    return this.sadWith(-1, 0, 0, -1, 0, 0);
  }

  /** SAD once host a's load changes by (ca, ma) and host b's by (cb, mb); O(hosts). */
  protected sadWith(a: number, ca: number, ma: number, b: number, cb: number, mb: number): number {
    const state = this.state;
    const hosts = this.connectedHosts;
    const n = hosts.length;
    if (n === 0) return 0;
    const uc = (h: number) =>
      h === a ? (state.loadCpu[h] + ca) / state.capCpu[h] : h === b ? (state.loadCpu[h] + cb) / state.capCpu[h] : state.uCpu[h];
    const um = (h: number) =>
      h === a ? (state.loadMem[h] + ma) / state.capMem[h] : h === b ? (state.loadMem[h] + mb) / state.capMem[h] : state.uMem[h];
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

  protected change(h: number, cpu: number, mem: number): void {
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

  /** All connected hosts have the same capacities: then moves keep the means, and deltas are local. */
  protected equalCapacities(): boolean {
    if (this.uniformCaps === null) {
      const state = this.state;
      const hs = this.connectedHosts;
      this.uniformCaps = hs.every((h) => state.capCpu[h] === state.capCpu[hs[0]] && state.capMem[h] === state.capMem[hs[0]]);
    }
    return this.uniformCaps;
  }

  /** SAD after the pending changes (then cleared), given the current SAD and means. */
  protected sadAfterChanges(sadNow: number, meanCpu: number, meanMem: number): number {
    const state = this.state;
    this.evaluations++;
    const m = this.chCount;
    this.chCount = 0;
    if (this.equalCapacities()) {
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

  protected means(): { cpu: number; mem: number } {
    let c = 0;
    let m = 0;
    for (const h of this.connectedHosts) {
      c += this.state.uCpu[h];
      m += this.state.uMem[h];
    }
    const n = this.connectedHosts.length;
    return { cpu: c / n, mem: m / n };
  }
}
