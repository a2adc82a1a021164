// Whether a balancing move is worth its migration, in units that do not shrink with the cluster.
//
// The drop in I that one move brings shrinks like 1/N with the number of hosts N, while the cost of
// the migration does not: measured in I, the bigger the cluster, the less it balances. The benefit
// is therefore the drop of the spread S = N·I² (Σ over hosts of the weighted squared deviations
// from the mean), which for a given move does not depend on N, and the cost is the memory copied as
// a share of a mean host's memory, which does not depend on how big the hosts are:
//
//     benefit = S_before − S_after        cost = λ · GiB copied / mean host GiB
//
// For a VM holding a share x of its host's CPU and memory, moved between hosts whose utilizations
// differ by g, benefit ≈ 2x·(g − x): the move pays when g − x > λ/2 (see the README's calibration).
import { PlanningState } from './planning-state';

export class MoveWorth {
  /** Connected hosts. */
  readonly n: number;
  /** Mean memory of the connected hosts, GiB. */
  readonly hostGiB: number;
  /** λ per GiB copied, in spread units. */
  readonly penaltyPerGiB: number;

  constructor(state: PlanningState) {
    this.n = state.connectedCount;
    let gib = 0;
    let hosts = 0;
    for (let h = 0; h < state.hostCount; h++) {
      if (!state.connected[h]) continue;
      gib += state.capMem[h] / 1024;
      hosts++;
    }
    this.hostGiB = hosts > 0 && gib > 0 ? gib / hosts : 1;
    this.penaltyPerGiB = state.policy.costWeight / this.hostGiB;
  }

  /** N·I². */
  spread(imbalance: number): number {
    return this.n * imbalance * imbalance;
  }

  /** Drop of the spread when I goes from `before` to `after`. */
  benefit(before: number, after: number): number {
    return this.n * (before * before - after * after);
  }

  /** A migration copying `gib` GiB, in spread units. */
  penalty(gib: number): number {
    return this.penaltyPerGiB * gib;
  }
}

const cache = new WeakMap<PlanningState, MoveWorth>();

export function moveWorth(state: PlanningState): MoveWorth {
  let worth = cache.get(state);
  if (!worth) cache.set(state, (worth = new MoveWorth(state)));
  return worth;
}
