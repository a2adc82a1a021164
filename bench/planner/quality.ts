// Section 2 of the planner benchmark: quality against the MILP optimum (HiGHS) on 20 small clusters with hard rules.
import { applyPlan, planMoves, seededRandom } from '../../src/balancer/core';
import { benchCluster } from './clusters';
import {
  hostDeviations,
  MilpAnswer,
  minDeviationWithMoves,
  minMovesForDeviation,
  minMovesForHostDeviations,
  sumAbsDeviation,
} from './milp';
import { plainGreedy } from './plain-greedy';
import { median, table, verdict } from './table';
import { fmt, KEEP_GOING, time } from './policies';

/**
 * Moves over the least possible. `feasible` is a move count known to reach the bound (the plan's own
 * placement), so the least is at most that even when the solver stopped at its time limit (the
 * ratio is then a lower bound).
 */
function movesRatio(moves: number, least: MilpAnswer, feasible: number): number {
  const m = Number.isFinite(least.value) ? Math.min(least.value, feasible) : feasible;
  if (m === 0) return moves === 0 ? 1 : Infinity;
  return moves / m;
}

/**
 * Section 2. `seedBase` picks the 20 clusters (seeds seedBase … seedBase + 19); the default 900 is the
 * committed set, another base checks that the planner is not fitted to it.
 */
export async function quality(verdicts: string[], seedBase = 900): Promise<void> {
  console.log(
    `\n## 2. Quality against the MILP optimum (HiGHS), 20 clusters of 4–8 equal hosts, ≤ 40 VMs, hard rules (anti-affinity, affinity, run-on; seeds ${seedBase}–${seedBase + 19})`,
  );
  console.log(
    'Objective: SAD = Σ_r w_r Σ_h |u_r(h) − mean_r| over CPU and memory with the weights 0.5 / 0.5 (the planner minimizes I, not SAD).',
  );
  console.log('Policy for both planners: threshold 5, budgets 1000, λ and minGain at their defaults ("keep going while moves pay").');
  console.log('opt@k: least SAD with at most k moves.');
  console.log("kmin/host: fewest moves that bring every host as close to the mean as the plan does (|u_r(h) − mean_r| ≤ the plan's, for");
  console.log("each host and resource): the issue's words, and the verdict's measure. A plan that wastes moves (a VM moved twice, moves");
  console.log('that cancel, a detour) needs more than that minimum.');
  console.log("kmin: fewest moves reaching a SAD ≤ the plan's, a stricter reading (any placement as good in total, not host by host),");
  console.log('shown for information.\n');
  const rows: (string | number)[][] = [];
  const sadRatios: number[] = [];
  const moveRatios: number[] = [];
  const greedyRatios: number[] = [];
  const hostMoveRatios: number[] = [];
  const hostGreedyRatios: number[] = [];
  let allOptimal = true;
  let hostUnproven = 0;
  let sadUnproven = 0;
  // Where the solver stopped at its limit, its proven bound caps the ratio from above.
  const sadUppers: number[] = [];
  const hostUppers: number[] = [];
  const planMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const rnd = seededRandom(seedBase + i);
    const hosts = 4 + Math.floor(rnd() * 5);
    const vms = Math.min(40, hosts * (3 + Math.floor(rnd() * 3)));
    const snap = benchCluster({ hosts, vms, seed: seedBase + i, skew: 1.5, antiAffinity: 2, affinity: 1, vmHost: 1 });
    const { value: plan, ms } = time(() => planMoves(snap, KEEP_GOING));
    planMs.push(ms);
    const after = applyPlan(snap, plan);
    const hostOf = new Map(after.vms.map((v) => [v.id, v.hostId]));
    const k = new Set(plan.moves.map((m) => m.vmId)).size;
    const sad = sumAbsDeviation(snap, (id) => hostOf.get(id)!, KEEP_GOING);
    const optAtK = await minDeviationWithMoves(snap, KEEP_GOING, k);
    const kmin = await minMovesForDeviation(snap, KEEP_GOING, sad);
    const kminHost = await minMovesForHostDeviations(
      snap,
      KEEP_GOING,
      hostDeviations(snap, (id) => hostOf.get(id)!),
    );
    const g = plainGreedy(snap, KEEP_GOING);
    const gSad = sumAbsDeviation(snap, (id) => g.finalHost.get(id)!, KEEP_GOING);
    const gChanged = snap.vms.filter((v) => g.finalHost.get(v.id) !== v.hostId).length;
    const gmin = await minMovesForDeviation(snap, KEEP_GOING, gSad);
    const gminHost = await minMovesForHostDeviations(
      snap,
      KEEP_GOING,
      hostDeviations(snap, (id) => g.finalHost.get(id)!),
    );
    allOptimal &&= optAtK.optimal && kmin.optimal && gmin.optimal && kminHost.optimal && gminHost.optimal;
    // The plan's own placement is a solution with k moves, so the optimum is at most its SAD; a solve
    // stopped by the time limit gives min(incumbent, plan), and the ratio is then a lower bound.
    const best = Number.isFinite(optAtK.value) ? Math.min(optAtK.value, sad) : sad;
    const sadRatio = best > 1e-12 ? sad / best : 1;
    if (!optAtK.optimal) sadUnproven++;
    sadUppers.push(optAtK.optimal ? sadRatio : optAtK.bound > 1e-12 ? sad / optAtK.bound : Infinity);
    const moveRatio = movesRatio(k, kmin, k);
    const greedyRatio = movesRatio(g.moves, gmin, gChanged);
    sadRatios.push(sadRatio);
    moveRatios.push(moveRatio);
    greedyRatios.push(greedyRatio);
    hostMoveRatios.push(movesRatio(k, kminHost, k));
    hostGreedyRatios.push(movesRatio(g.moves, gminHost, gChanged));
    if (!kminHost.optimal) hostUnproven++;
    hostUppers.push(kminHost.optimal ? hostMoveRatios[i] : kminHost.bound > 0 ? k / kminHost.bound : Infinity);
    rows.push([
      `#${i + 1} ${hosts}h/${vms}vm`,
      fmt(sumAbsDeviation(snap, (id) => snap.vms.find((v) => v.id === id)!.hostId, KEEP_GOING)),
      k,
      fmt(sad),
      fmt(optAtK.value) + (optAtK.optimal ? '' : '*'),
      sadRatio.toFixed(3),
      kmin.value + (kmin.optimal ? '' : '*'),
      moveRatio.toFixed(2),
      kminHost.value + (kminHost.optimal ? '' : '*'),
      hostMoveRatios[i].toFixed(2),
      `${g.moves} (${gChanged})`,
      fmt(gSad),
      gmin.value + (gmin.optimal ? '' : '*'),
      greedyRatio.toFixed(2),
      hostGreedyRatios[i].toFixed(2),
      ms.toFixed(0),
    ]);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const summary = (label: string, f: (xs: number[]) => number, digits: number[]) => [
    label,
    '',
    '',
    '',
    '',
    f(sadRatios).toFixed(digits[0]),
    '',
    f(moveRatios).toFixed(2),
    '',
    f(hostMoveRatios).toFixed(2),
    '',
    '',
    '',
    f(greedyRatios).toFixed(2),
    f(hostGreedyRatios).toFixed(2),
    f(planMs).toFixed(0),
  ];
  rows.push(summary('mean', mean, [3]));
  rows.push(summary('min', (xs) => Math.min(...xs), [3]));
  rows.push(summary('max', (xs) => Math.max(...xs), [3]));
  console.log(
    table(
      [
        'cluster',
        'SAD start',
        'k ours',
        'SAD ours',
        'opt@k',
        'ours/opt',
        'kmin',
        'k/kmin',
        'kmin/host',
        'k/kmin/host',
        'greedy moves (VMs)',
        'SAD greedy',
        'greedy kmin',
        'greedy/kmin',
        'greedy/kmin/host',
        'plan ms',
      ],
      rows,
    ),
  );
  if (!allOptimal)
    console.log(
      "(* = 60 s time limit reached: best solution found so far (NaN: none), so the true optimum may be lower; the ratios use the plan's own placement when it is better)",
    );
  // Per cluster the ratio is against the best placement known (HiGHS's incumbent or the plan's own when
  // the solver stopped at its limit), as the table shows: where the optimum is unproven the true ratio
  // may be higher, hence the caveat.
  const worstSad = Math.max(...sadRatios);
  verdicts.push(
    verdict(
      mean(sadRatios) <= 1.05 && worstSad <= 1.2,
      `(2a) SAD at the plan's k ≤ 1.05 × the optimum on average and ≤ 1.2 × on every cluster: mean ratio ${mean(sadRatios).toFixed(3)}, ` +
        `max ${worstSad.toFixed(3)} (#${sadRatios.indexOf(worstSad) + 1})` +
        (sadUnproven > 0
          ? `; optimum not proven on ${sadUnproven} clusters within the time limit: their ratios are lower bounds` +
            (mean(sadUppers) <= 1.05
              ? `, and the solver's bound proves the mean ≤ ${mean(sadUppers).toFixed(3)}`
              : ` (the solver's bound is too weak to cap them)`) +
            (Math.max(...sadUppers) <= 1.2 ? ` and every cluster ≤ ${Math.max(...sadUppers).toFixed(3)}` : '')
          : ''),
    ),
  );
  verdicts.push(`INFO  (2) plan time on these clusters: median ${median(planMs).toFixed(0)} ms, max ${Math.max(...planMs).toFixed(0)} ms`);
  verdicts.push(
    verdict(
      Math.max(...hostUppers) <= 1.2,
      `(2b) moves ≤ 1.2 × the minimum bringing every host as close to the mean as the plan: max ${Math.max(...hostMoveRatios).toFixed(2)}, mean ${mean(hostMoveRatios).toFixed(2)}` +
        `${hostUnproven > 0 ? ` (minimum not proven on ${hostUnproven} clusters; with the solver's bound, max ${Math.max(...hostUppers).toFixed(2)})` : ''}; ` +
        `plain best-gain greedy ${Math.min(...hostGreedyRatios).toFixed(2)} to ${Math.max(...hostGreedyRatios).toFixed(2)}, mean ${mean(hostGreedyRatios).toFixed(2)}`,
    ),
  );
  verdicts.push(
    `INFO  (2b), stricter reading, against the fewest moves reaching the plan's SAD: ours max ${Math.max(...moveRatios).toFixed(2)}, mean ${mean(moveRatios).toFixed(2)}; ` +
      `plain best-gain greedy ${Math.min(...greedyRatios).toFixed(2)} to ${Math.max(...greedyRatios).toFixed(2)}, mean ${mean(greedyRatios).toFixed(2)}`,
  );
}
