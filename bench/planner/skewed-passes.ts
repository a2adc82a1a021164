// Section 4 of the planner benchmark: skewed clusters balanced by passes applied one after another
// under the default policy, against a plain best-gain greedy (λ = 0, no budgets, a VM may move
// again) counting the moves it needs to reach the same I.
import { applyPlan, balanceReport, ClusterSnapshot, DEFAULT_PLANNER_POLICY, planMoves, PlannerPolicy } from '../../src/balancer/core';
import { plainGreedy } from './plain-greedy';
import { skewedCluster } from './skewed';
import { median, table, verdict } from './table';

const MAX_PASSES = 100;

interface PassesResult {
  passes: number;
  moves: number;
  balanced: boolean;
  imbalance: number;
  target: number;
  worstPoints: number;
  hotBefore: number;
  hotAfter: number;
  planMs: number[];
}

function worstDeviationPoints(snap: ClusterSnapshot): number {
  const r = balanceReport(snap, DEFAULT_PLANNER_POLICY);
  const n = r.hosts.length;
  const meanC = r.hosts.reduce((a, h) => a + h.cpu, 0) / n;
  const meanM = r.hosts.reduce((a, h) => a + h.memory, 0) / n;
  return 100 * Math.max(...r.hosts.map((h) => Math.max(Math.abs(h.cpu - meanC), Math.abs(h.memory - meanM))));
}

function hot(snap: ClusterSnapshot): number {
  return balanceReport(snap, DEFAULT_PLANNER_POLICY).hosts.filter((h) => Math.max(h.cpu, h.memory) >= 0.85).length;
}

function runPasses(start: ClusterSnapshot, policy: PlannerPolicy): PassesResult {
  let snap = start;
  let moves = 0;
  let passes = 0;
  const planMs: number[] = [];
  for (; passes < MAX_PASSES; passes++) {
    if (balanceReport(snap, policy).balanced) break;
    const t = process.hrtime.bigint();
    const plan = planMoves(snap, policy);
    planMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (plan.moves.length === 0) break;
    snap = applyPlan(snap, plan);
    moves += plan.moves.length;
  }
  const r = balanceReport(snap, policy);
  return {
    passes: planMs.length,
    moves,
    balanced: r.balanced,
    imbalance: r.imbalance,
    target: r.target,
    worstPoints: worstDeviationPoints(snap),
    hotBefore: hot(start),
    hotAfter: hot(snap),
    planMs,
  };
}

/** Moves of the plain best-gain greedy until I ≤ `imbalance` (Infinity if it gets stuck first). */
function plainGreedyMovesTo(start: ClusterSnapshot, imbalance: number): number {
  const policy = {
    ...DEFAULT_PLANNER_POLICY,
    costWeight: 0,
    minGain: 0,
    migrationThreshold: 5,
    maxMovesPerPass: 1e9,
    maxMovesPerHost: 1e9,
  };
  const run = plainGreedy(start, policy, (state) => state.imbalance() <= imbalance + 1e-12);
  return run.stuck ? Infinity : run.moves;
}

export function skewedPasses(verdicts: string[]): void {
  console.log('\n## 4. Skewed clusters, passes one after another (default policy: threshold 3, 100 moves per pass, 32 per host)');
  console.log('A quarter of the hosts at 90–95 % CPU and memory, the rest near 40 %; 128-core, 3 TiB hosts; log-normal VM sizes.');
  console.log('Passes are applied until the cluster counts as balanced or a pass returns no move (at most 100). "greedy to same I":');
  console.log('moves a plain best-gain greedy (λ = 0, no budgets, a VM may move again) needs to reach the I our passes end at.\n');
  const sizes = [
    { hosts: 96, vms: 10_000, target: 'balanced', ms: 250 },
    { hosts: 500, vms: 20_000, target: 'balanced', ms: Infinity },
    { hosts: 1000, vms: 40_000, target: 'within 20 points', ms: 2000 },
  ];
  const rows: (string | number)[][] = [];
  for (const size of sizes) {
    const start = skewedCluster(size.hosts, size.vms, 1);
    const r0 = balanceReport(start, DEFAULT_PLANNER_POLICY);
    const r = runPasses(start, DEFAULT_PLANNER_POLICY);
    const greedy = plainGreedyMovesTo(start, r.imbalance);
    const ratio = r.moves / greedy;
    const med = median(r.planMs);
    rows.push([
      `${size.hosts} hosts / ${size.vms.toLocaleString('en-US')} VMs`,
      r0.imbalance.toFixed(4),
      `${r.hotBefore} → ${r.hotAfter}`,
      r.passes,
      r.moves,
      r.imbalance.toFixed(4),
      r.target.toFixed(4),
      r.balanced ? 'yes' : 'no',
      r.worstPoints.toFixed(1),
      Number.isFinite(greedy) ? greedy : 'stuck',
      ratio.toFixed(2),
      med.toFixed(0),
      Math.max(...r.planMs).toFixed(0),
    ]);
    const name = `${size.hosts} hosts / ${size.vms.toLocaleString('en-US')} VMs`;
    if (size.target === 'balanced') {
      verdicts.push(
        verdict(
          r.balanced && ratio <= 1.3,
          `(4) ${name}: balanced after ${r.passes} passes (${r.balanced}), ${r.moves} moves = ${ratio.toFixed(2)}× the plain greedy's to the same I (target ≤ 1.3)`,
        ),
      );
    } else {
      verdicts.push(
        verdict(
          r.worstPoints <= 20,
          `(4) ${name}: every host within 20 points of the mean after ${r.passes} passes: worst ${r.worstPoints.toFixed(1)} points`,
        ),
      );
    }
    if (Number.isFinite(size.ms))
      verdicts.push(verdict(med <= size.ms, `(4) ${name}: plan median ${med.toFixed(0)} ms over the passes (target ≤ ${size.ms} ms)`));
  }
  console.log(
    table(
      [
        'cluster',
        'I start',
        'hosts ≥ 85 %',
        'passes',
        'moves',
        'I end',
        'target',
        'balanced',
        'worst |u − mean| (points)',
        'greedy to same I',
        'ours/greedy',
        'plan median ms',
        'plan max ms',
      ],
      rows,
    ),
  );
}
