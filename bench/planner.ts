// Planner benchmark: speed against a naive reference, quality against the MILP optimum, and moves
// against a simple greedy baseline. Prints tables and one PASS/FAIL line per target.
// Run: npm run bench:planner   (never part of npm test)
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import {
  applyPlan,
  ClusterSnapshot,
  DEFAULT_PLANNER_POLICY,
  Plan,
  PlannerPolicy,
  planMoves,
  PlanningState,
  seededRandom,
} from '../src/balancer/core';
import { benchCluster } from './planner/clusters';
import { greedyBaseline } from './planner/greedy-baseline';
import {
  hostDeviations,
  MilpAnswer,
  minDeviationWithMoves,
  minMovesForDeviation,
  minMovesForHostDeviations,
  minMovesForImbalanceBound,
  sumAbsDeviation,
} from './planner/milp';
import { plainGreedy } from './planner/plain-greedy';
import { proxlbBaseline } from './planner/proxlb-baseline';
import { skewedPasses } from './planner/skewed-passes';
import { referencePlanMoves } from './planner/reference';
import { median, table, verdict } from './planner/table';

setFlagsFromString('--expose-gc');
const gc: () => void = runInNewContext('gc');

/** Balance as far as moves pay for themselves (threshold 5: never "balanced" before that). */
const KEEP_GOING: PlannerPolicy = { ...DEFAULT_PLANNER_POLICY, migrationThreshold: 5, maxMovesPerPass: 1000, maxMovesPerHost: 1000 };
const SPEED: PlannerPolicy = { ...KEEP_GOING, maxMovesPerPass: 200, maxMovesPerHost: 200 };

const verdicts: string[] = [];
const fmt = (x: number, d = 4) => x.toFixed(d);

function time<T>(f: () => T): { value: T; ms: number } {
  const t = process.hrtime.bigint();
  const value = f();
  return { value, ms: Number(process.hrtime.bigint() - t) / 1e6 };
}

function samePlans(a: Plan, b: Plan): boolean {
  if (a.moves.length !== b.moves.length) return false;
  return a.moves.every((m, i) => {
    const n = b.moves[i];
    return (
      m.vmId === n.vmId &&
      m.fromHostId === n.fromHostId &&
      m.toHostId === n.toHostId &&
      m.reason === n.reason &&
      m.priority === n.priority &&
      m.groupId === n.groupId &&
      Math.abs(m.gain - n.gain) < 1e-9 &&
      Math.abs(m.imbalanceAfter - n.imbalanceAfter) < 1e-9
    );
  });
}

function speed(): void {
  console.log('\n## 1. Speed (policy: threshold 5, up to 200 moves, λ and minGain at their defaults)\n');
  const big = benchCluster({ hosts: 96, vms: 10_000, seed: 42, antiAffinity: 40, affinity: 20, vmHost: 20 });
  const runs = Array.from({ length: 7 }, () => time(() => planMoves(big, SPEED)));
  const plan = runs[0].value;
  const med = median(runs.map((r) => r.ms));
  console.log(
    table(
      ['cluster', 'moves', 'I before', 'I after', 'runs (ms)', 'median ms'],
      [
        [
          '96 hosts / 10,000 VMs',
          plan.moves.length,
          fmt(plan.before.imbalance),
          fmt(plan.after.imbalance),
          runs.map((r) => r.ms.toFixed(0)).join(' '),
          med.toFixed(0),
        ],
      ],
    ),
  );
  verdicts.push(
    verdict(
      med <= 1000 && plan.moves.length === 200,
      `96 hosts / 10,000 VMs, ${plan.moves.length} moves: median ${med.toFixed(0)} ms (target ≤ 1000 ms)`,
    ),
  );

  console.log('\nAgainst the reference (same algorithm, every candidate rescored over all hosts):\n');
  const sizes: [number, number, number][] = [
    [16, 400, 200],
    [32, 1000, 200],
    [48, 3000, 200],
    [96, 10_000, 20],
  ];
  const rows: (string | number)[][] = [];
  let minRatio = Infinity;
  let allSame = true;
  let smallRatio = 0;
  for (const [hosts, vms, maxMoves] of sizes) {
    const snap = benchCluster({ hosts, vms, seed: hosts * 1000 + vms, antiAffinity: 8, affinity: 4, vmHost: 4 });
    const policy = { ...SPEED, maxMovesPerPass: maxMoves, maxMovesPerHost: maxMoves };
    const ours = Array.from({ length: 3 }, () => time(() => planMoves(snap, policy)));
    const ref = time(() => referencePlanMoves(snap, policy));
    const oursMs = median(ours.map((r) => r.ms));
    const same = samePlans(ours[0].value, ref.value);
    allSame &&= same;
    const ratio = ref.ms / oursMs;
    if (hosts >= 32) minRatio = Math.min(minRatio, ratio);
    else smallRatio = ratio;
    rows.push([
      `${hosts} hosts / ${vms} VMs`,
      ours[0].value.moves.length,
      oursMs.toFixed(1),
      ref.ms.toFixed(0),
      `${ratio.toFixed(0)}×`,
      same ? 'identical' : 'DIFFERENT',
    ]);
  }
  console.log(table(['cluster', 'moves', 'ours ms', 'reference ms', 'speed-up', 'plans'], rows));
  console.log(
    `\nAt 16 hosts a naive rescoring costs only 16 host terms, and most of the time goes to the compaction's local search\n` +
      `(up to 2,000,000 candidate evaluations), which both implementations run: ${smallRatio.toFixed(0)}× there. The target is judged from 32 hosts up.`,
  );
  verdicts.push(
    verdict(
      minRatio >= 20 && allSame,
      `≥ 20× faster than the reference (32+ hosts) with identical plans at every size: smallest speed-up ${minRatio.toFixed(0)}×, plans ${allSame ? 'identical' : 'DIFFERENT'}`,
    ),
  );

  gc();
  const h0 = process.memoryUsage().heapUsed;
  let snap: ClusterSnapshot | null = benchCluster({ hosts: 96, vms: 10_000, seed: 7, antiAffinity: 40, affinity: 20, vmHost: 20 });
  gc();
  const h1 = process.memoryUsage().heapUsed;
  let state: PlanningState | null = new PlanningState(snap, SPEED, { enforceSoftRules: true });
  gc();
  const h2 = process.memoryUsage().heapUsed;
  const snapMb = (h1 - h0) / 2 ** 20;
  const stateMb = (h2 - h1) / 2 ** 20;
  console.log(
    `\nHeap: a 10,000-VM snapshot takes ${snapMb.toFixed(1)} MB; the planner's indexed state of it ${stateMb.toFixed(1)} MB more.`,
  );
  verdicts.push(
    verdict(snapMb + stateMb < 50, `heap of a 10,000-VM snapshot (+ planning state): ${(snapMb + stateMb).toFixed(1)} MB (target < 50 MB)`),
  );
  snap = null;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- never read: it kept the planning state alive across gc() for the heap figures
  state = null;

  const huge = benchCluster({ hosts: 5000, vms: 30_000, seed: 5, antiAffinity: 100, affinity: 50, vmHost: 50 });
  const hugeRuns = Array.from({ length: 3 }, () => time(() => planMoves(huge, SPEED)));
  const hp = hugeRuns[0].value;
  console.log(
    '\n' +
      table(
        ['cluster', 'moves', 'I before', 'I after', 'runs (ms)', 'median ms'],
        [
          [
            '5,000 hosts / 30,000 VMs',
            hp.moves.length,
            fmt(hp.before.imbalance),
            fmt(hp.after.imbalance),
            hugeRuns.map((r) => r.ms.toFixed(0)).join(' '),
            median(hugeRuns.map((r) => r.ms)).toFixed(0),
          ],
        ],
      ),
  );
  verdicts.push(`INFO  5,000 hosts / 30,000 VMs, ${hp.moves.length} moves: median ${median(hugeRuns.map((r) => r.ms)).toFixed(0)} ms`);
}

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
async function quality(seedBase = 900): Promise<void> {
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

/** Moves the plan needs before its I is at most `imbalance` (0 if it starts there, Infinity if it never gets there). */
function movesToReach(plan: Plan, imbalance: number): number {
  if (plan.before.imbalance <= imbalance) return 0;
  return plan.moves.findIndex((m) => m.imbalanceAfter <= imbalance + 1e-12) + 1 || Infinity;
}

async function baseline(): Promise<void> {
  console.log('\n## 3. Against a simple greedy baseline (biggest VM of the busiest host → emptiest host, while I drops)');
  console.log(
    '20 seeded clusters, 16–32 mixed hosts, 300–600 VMs, hard and soft rules. Our policy: threshold 5, budgets 1000, λ and minGain at their defaults.',
  );
  console.log(
    'Baseline, literally: stop as soon as the biggest movable VM of the busiest host would not lower I. "ours to reach": moves our',
  );
  console.log(
    'plan needs before its I is ≤ the baseline\'s final I. "fewest possible": a MILP lower bound (HiGHS) on the moves ANY planner',
  );
  console.log(
    'needs to get there (VMs move whole, their load may spread fractionally, rules and ceilings ignored): where it is above half',
  );
  console.log('the baseline\'s moves, no plan can reach the baseline\'s I with half its moves. Then a stronger "lenient" baseline that');
  console.log("tries the next biggest VMs, and, for information, ProxLB's documented sweep (memory only, largest guests first, each");
  console.log(
    'guest once, moved while its node is the most loaded, until the memory spread is within 10 points; it does not look at I).\n',
  );
  const rows: (string | number)[][] = [];
  let passes = 0;
  let unreachable = 0;
  let worstHalf = 0;
  let worstFactor = Infinity;
  const toBound: number[] = [];
  const proxlbShares: number[] = [];
  const proxlbFactors: number[] = [];
  for (let i = 0; i < 20; i++) {
    const rnd = seededRandom(500 + i);
    const hosts = 16 + Math.floor(rnd() * 17);
    const vms = 300 + Math.floor(rnd() * 301);
    const snap = benchCluster({
      hosts,
      vms,
      seed: 500 + i,
      hostKinds: 'mixed',
      skew: 1,
      antiAffinity: 6,
      affinity: 3,
      vmHost: 3,
      soft: true,
    });
    const base = greedyBaseline(snap, KEEP_GOING);
    const plan = planMoves(snap, KEEP_GOING);
    const reach = movesToReach(plan, base.imbalanceAfter);
    const baseMoves = base.moves.reduce((a, m) => a + m.vmIds.length, 0);
    const bound = await minMovesForImbalanceBound(snap, KEEP_GOING, base.imbalanceAfter);
    // Proven whether or not the solve finished: the solver's bound on the relaxation's minimum.
    const fewest = bound.optimal ? bound.value : bound.bound;
    if (Number.isFinite(fewest) && fewest > 0) {
      if (fewest > baseMoves / 2) unreachable++;
      toBound.push(reach / fewest);
    }
    const halfOk = reach <= baseMoves / 2;
    const factor = base.imbalanceAfter / Math.max(plan.after.imbalance, 1e-12);
    const ok = halfOk && factor >= 5;
    if (ok) passes++;
    worstHalf = Math.max(worstHalf, reach / Math.max(baseMoves, 1));
    worstFactor = Math.min(worstFactor, factor);
    const lenient = greedyBaseline(snap, KEEP_GOING, 'lenient');
    const lenientReach = movesToReach(plan, lenient.imbalanceAfter);
    const proxlb = proxlbBaseline(snap, KEEP_GOING);
    const proxlbMoves = proxlb.moves.reduce((a, m) => a + m.vmIds.length, 0);
    const proxlbReach = movesToReach(plan, proxlb.imbalanceAfter);
    proxlbShares.push(proxlbReach / Math.max(proxlbMoves, 1));
    proxlbFactors.push(proxlb.imbalanceAfter / Math.max(plan.after.imbalance, 1e-12));
    rows.push([
      `#${i + 1} ${hosts}h/${vms}vm`,
      fmt(plan.before.imbalance),
      baseMoves,
      fmt(base.imbalanceAfter),
      reach,
      bound.optimal ? fewest : `≥ ${fewest} (${bound.status})`,
      Number.isFinite(fewest) && fewest > 0 ? (reach / fewest).toFixed(2) : '',
      plan.moves.length,
      fmt(plan.after.imbalance),
      `${factor.toFixed(1)}×`,
      ok ? 'pass' : 'FAIL',
      lenient.moves.length,
      fmt(lenient.imbalanceAfter),
      `${lenientReach} (${(lenientReach / lenient.moves.length).toFixed(2)})`,
      proxlbMoves,
      fmt(proxlb.imbalanceAfter),
      `${proxlbReach} (${proxlbShares[i].toFixed(2)})`,
    ]);
  }
  console.log(
    table(
      [
        'cluster',
        'I start',
        'baseline moves',
        'baseline I',
        'ours to reach',
        'fewest possible',
        'ours/fewest',
        'ours moves',
        'ours I',
        'I lower by',
        '',
        'lenient moves',
        'lenient I',
        'ours to reach (share)',
        'ProxLB moves',
        'ProxLB I',
        'ours to reach (share)',
      ],
      rows,
    ),
  );
  console.log(
    `\n${passes}/20 clusters pass; worst (moves to reach the baseline's I) / (baseline moves) = ${worstHalf.toFixed(2)}, smallest imbalance factor ${worstFactor.toFixed(1)}×`,
  );
  console.log(
    `Half the baseline's moves is below what any planner needs on ${unreachable}/20 clusters (a positive lower bound on ${toBound.length}/20). ` +
      `Ours reaches the baseline's I in ${Math.min(...toBound).toFixed(2)}–${Math.max(...toBound).toFixed(2)}× that lower bound.`,
  );
  verdicts.push(
    verdict(
      passes === 20,
      `(3) on every cluster: baseline's I with ≤ half its moves (worst ${worstHalf.toFixed(2)}) and ≥ 5× lower final I (worst ${worstFactor.toFixed(1)}×)`,
    ),
  );
  verdicts.push(`INFO  (3) half the baseline's moves is provably unreachable by any planner on ${unreachable}/20 clusters`);
  verdicts.push(
    verdict(
      toBound.length === 20 && Math.max(...toBound) <= 1.15,
      `(3) ours reaches the baseline's I within 1.15× the MILP lower bound on the moves any planner needs, on every cluster: ${Math.min(...toBound).toFixed(2)}–${Math.max(...toBound).toFixed(2)}×`,
    ),
  );
  verdicts.push(
    `INFO  against ProxLB's sweep: ours reaches its final I with at most half its moves on ${proxlbShares.filter((x) => x <= 0.5).length}/20 clusters ` +
      `(share of its moves ${Math.min(...proxlbShares).toFixed(2)}–${Math.max(...proxlbShares).toFixed(2)}), and ends ${Math.min(...proxlbFactors).toFixed(1)}–${Math.max(...proxlbFactors).toFixed(1)}× lower`,
  );
}

async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'speed') speed();
  // `quality <seed>` runs section 2 on the 20 clusters from that seed on.
  const seedArg = process.argv[3];
  if (seedArg !== undefined && !/^\d+$/.test(seedArg)) throw new Error(`quality <seed>: a whole number, not '${seedArg}'`);
  if (!only || only === 'quality') await quality(seedArg === undefined ? undefined : Number(seedArg));
  if (!only || only === 'baseline') await baseline();
  if (!only || only === 'skewed') skewedPasses(verdicts);
  console.log('\n## Summary\n');
  for (const v of verdicts) console.log(v);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
