// Peaks above the band: after balancing (which scores the mean), a host whose forecast CPU peak
// (forecast.ts: the mean plus z × the swing of its VMs, the 90th percentile of its next interval) is
// more than the band above the hosts' mean forecast peak sheds VMs, as a host above the band on its
// mean does (relief.ts): peaks are compared with peaks, as balancing compares loads with the mean load.
// When every VM swings, an ordinary host's peak is above the cluster's mean load by its ordinary
// swing; a line drawn from the mean load would relieve hosts that swing only as much as the others,
// and pass the swing on from host to host. The band is the deviation at which one host alone makes
// the cluster unbalanced, and a host whose peak stands that far above the others' is where the next
// contention comes from. The line is at most the CPU ceiling. Each move goes to a host whose own
// forecast peak stays under the line; among the units that bring the source under it it takes the
// noisiest (the largest σ: what makes the peak, and what will make it again), or, when none does, the
// one that lowers the source's peak most. A host counts only when its peak is above the line by more
// than the next sample may change it (forecastNoise): no VM moves for a gain the next sample erases.
// Budgets, rules, ceilings and cooldown hold; a unit moves at most once, so this ends. The moves carry
// the reason 'forecast-peak' and a balancing priority.
import { PlanAttempt } from './attempt';
import { cpuPeak, cpuVarianceOf, forecastNoise } from './forecast';
import { bestTarget, isRefusal, reliefUnitsOn } from './move-targets';
import { PlanningState } from './planning-state';
import { bandHalfWidth, bandLimits } from './relief';

const EPS = 1e-9;

interface PeakChoice {
  vms: number[];
  from: number;
  to: number;
  imbalanceAfter: number;
  sourcePeakAfter: number;
  variance: number;
}

/**
 * Connected hosts whose forecast CPU peak is above `limit` by more than the next sample may change it
 * (forecastNoise), the highest first.
 */
function peaksAbove(state: PlanningState, limit: number, skip: ReadonlySet<number>): number[] {
  const peaks: { h: number; peak: number }[] = [];
  const noise = forecastNoise(state);
  for (let h = 0; h < state.hostCount; h++) {
    if (!state.connected[h] || skip.has(h)) continue;
    const peak = cpuPeak(state, h);
    if (peak > limit + (noise ? noise[h] : 0) + EPS) peaks.push({ h, peak });
  }
  return peaks.sort((a, b) => b.peak - a.peak || a.h - b.h).map((x) => x.h);
}

/** Peak relief's CPU line (a fraction of capacity), and the hosts' mean forecast peak it is drawn from. */
export interface PeakLine {
  /** min(meanPeak + band, CPU ceiling). */
  line: number;
  /** The connected hosts' forecast CPU peaks (cpuPeak), averaged. */
  meanPeak: number;
}

/** The line above which a host's forecast CPU peak is relieved, for the current placement. O(hosts). */
export function peakLine(state: PlanningState): PeakLine {
  let sum = 0;
  for (let h = 0; h < state.hostCount; h++) if (state.connected[h]) sum += cpuPeak(state, h);
  const meanPeak = sum / state.connectedCount;
  return { line: Math.min(meanPeak + bandHalfWidth(state.policy.migrationThreshold), state.policy.cpuCeiling), meanPeak };
}

export function relievePeaks(attempt: PlanAttempt): void {
  const state = attempt.state;
  const band = bandHalfWidth(state.policy.migrationThreshold);
  // Without any VM's spread a peak is the mean, which relieveAboveBand has already dealt with.
  if (band <= 0 || state.connectedCount < 2 || !state.vmCpuVar.some((x) => x > 0)) return;
  const previous = attempt.freezeMoved;
  attempt.freezeMoved = true;
  const stuck = new Set<number>();
  try {
    for (;;) {
      if (attempt.totalMoves >= state.policy.maxMovesPerPass) return;
      // A move changes the two hosts' peaks, so the mean peak, and the line with it.
      const cpuLimit = peakLine(state).line;
      const memLimit = bandLimits(state).mem;
      const h = peaksAbove(state, cpuLimit, stuck).find((x) => attempt.hostMoves[x] < state.policy.maxMovesPerHost);
      if (h === undefined) return;
      const choice = peakMove(attempt, h, cpuLimit, memLimit);
      if (choice === null) {
        stuck.add(h);
        continue;
      }
      attempt.record({ vms: choice.vms, from: choice.from, to: choice.to, kind: 'balance', reason: 'forecast-peak' });
      stuck.clear();
    }
  } finally {
    attempt.freezeMoved = previous;
  }
}

function peakMove(attempt: PlanAttempt, h: number, cpuLimit: number, memLimit: number): PeakChoice | null {
  const state = attempt.state;
  const peakNow = cpuPeak(state, h);
  let best: PeakChoice | null = null;
  const better = (c: PeakChoice): boolean => {
    if (best === null) return true;
    const inC = c.sourcePeakAfter <= cpuLimit + EPS;
    const inB = best.sourcePeakAfter <= cpuLimit + EPS;
    if (inC !== inB) return inC;
    if (inC)
      return c.variance > best.variance + 1e-9 || (c.variance >= best.variance - 1e-9 && c.imbalanceAfter < best.imbalanceAfter - 1e-12);
    return c.sourcePeakAfter < best.sourcePeakAfter - 1e-12;
  };
  for (const u of reliefUnitsOn(attempt, h, (v) => state.vmCpu[v] > 0)) {
    const members = state.units[u];
    const load = state.moveLoad(members);
    const variance = cpuVarianceOf(state, members);
    const sourcePeakAfter = cpuPeak(state, h, -load.cpu, -variance);
    if (sourcePeakAfter >= peakNow - EPS) continue;
    const fits = (t: number): boolean =>
      cpuPeak(state, t, load.cpu, variance) <= cpuLimit + EPS && (state.loadMem[t] + load.mem) / state.capMem[t] <= memLimit + EPS;
    const target = bestTarget(attempt, members, h, 'relief', fits);
    if (isRefusal(target)) continue;
    const choice = { vms: [...members], from: h, to: target.to, imbalanceAfter: target.imbalanceAfter, sourcePeakAfter, variance };
    if (better(choice)) best = choice;
  }
  return best;
}
