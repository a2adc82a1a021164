// Diagnostic: a MILP lower bound on the moves any planner needs to reach the greedy baseline's I on
// section 3's clusters. Relaxation: VMs leave their host whole (binary), but the load they carry may
// land fractionally on any hosts; rules and ceilings are ignored; (u − c)² is under-estimated by
// tangents. Its optimum is ≤ the true minimum number of moves.
// Run: node -r ts-node/register/transpile-only bench/planner/diag-lb.ts [cluster#]   (TL = time limit, s)
import { DEFAULT_PLANNER_POLICY, PlannerPolicy } from '../../src/balancer/model';
import { planMoves } from '../../src/balancer/planner';
import { PlanningState } from '../../src/balancer/planning-state';
import { seededRandom } from '../../src/balancer/testing/random-cluster';
import { benchCluster } from './clusters';
import { greedyBaseline } from './greedy-baseline';
import { loadHighs } from './milp';

const KEEP_GOING: PlannerPolicy = { ...DEFAULT_PLANNER_POLICY, migrationThreshold: 5, maxMovesPerPass: 1000, maxMovesPerHost: 1000 };
const f = (x: number) => (x >= 0 ? `+ ${x.toFixed(12)}` : `- ${(-x).toFixed(12)}`);

async function main(): Promise<void> {
  const highs = await loadHighs();
  const only = process.argv[2] ? Number(process.argv[2]) : -1;
  for (let i = 0; i < 20; i++) {
    const rnd = seededRandom(500 + i);
    const hosts = 16 + Math.floor(rnd() * 17);
    const vms = 300 + Math.floor(rnd() * 301);
    if (only >= 0 && only !== i + 1) continue;
    const snap = benchCluster({ hosts, vms, seed: 500 + i, hostKinds: 'mixed', skew: 1, antiAffinity: 6, affinity: 3, vmHost: 3, soft: true });
    const base = greedyBaseline(snap, KEEP_GOING);
    const baseMoves = base.moves.reduce((a, m) => a + m.vmIds.length, 0);
    const plan = planMoves(snap, KEEP_GOING);
    const reach = plan.moves.findIndex((m) => m.imbalanceAfter <= base.imbalanceAfter + 1e-12) + 1 || Infinity;
    const s = new PlanningState(snap, KEEP_GOING, { enforceSoftRules: false });
    const H: number[] = [];
    for (let h = 0; h < s.hostCount; h++) if (s.connected[h]) H.push(h);
    const N = H.length;
    const rows: string[] = [];
    const bins: string[] = [];
    const bounds: string[] = [];
    let rc = 0;
    const movable: number[] = [];
    for (let v = 0; v < s.vmCount; v++) if (s.vmMovable(v) && (s.vmCpu[v] > 0 || s.vmMem[v] > 0)) movable.push(v);
    for (const v of movable) bins.push(`x${v}`);
    const zTerms: string[] = [];
    for (const r of [0, 1]) {
      const cap = r === 0 ? s.capCpu : s.capMem;
      const u = r === 0 ? s.uCpu : s.uMem;
      const size = r === 0 ? s.vmCpu : s.vmMem;
      const w = r === 0 ? s.wCpu : s.wMem;
      const sc = H.reduce((a, h) => a + cap[h], 0) / N;
      bounds.push(`c${r} free`);
      const mass: string[] = [];
      for (const h of H) {
        // d = u_h + (sc/cap_h)·in − Σ (s_v/cap_h) x_v − c
        const terms = [`d${r}_${h}`, `- ${(sc / cap[h]).toFixed(12)} i${r}_${h}`, `+ c${r}`];
        for (const v of movable) if (s.vmHost[v] === h && size[v] > 0) terms.push(`${f(size[v] / cap[h])} x${v}`);
        rows.push(`r${rc++}: ${terms.join(' ')} = ${u[h].toFixed(12)}`);
        bounds.push(`d${r}_${h} free`);
        mass.push(`i${r}_${h}`);
        for (let t = -0.8; t <= 0.8 + 1e-9; t += 0.02) {
          // z ≥ 2 t d − t²  →  z − 2t d ≥ −t²
          rows.push(`r${rc++}: z${r}_${h} ${f(-2 * t)} d${r}_${h} >= ${(-t * t).toFixed(12)}`);
        }
        zTerms.push(`${w.toFixed(6)} z${r}_${h}`);
      }
      const out = movable.filter((v) => size[v] > 0).map((v) => `${f(-size[v] / sc)} x${v}`);
      rows.push(`r${rc++}: ${mass.join(' + ')} ${out.join(' ')} = 0`);
    }
    rows.push(`q: ${zTerms.join(' + ')} <= ${(N * base.imbalanceAfter ** 2).toFixed(12)}`);
    const lp = `Minimize\n obj: ${movable.map((v) => `x${v}`).join(' + ')}\nSubject To\n${rows.join('\n')}\nBounds\n${bounds.join('\n')}\nBinary\n${bins.join('\n')}\nEnd\n`;
    const t0 = Date.now();
    const res = highs.solve(lp, { time_limit: Number(process.env.TL ?? 60), mip_rel_gap: 0 });
    console.log(
      `#${i + 1} ${hosts}h/${vms}vm  baseline moves ${baseMoves} (half: ${baseMoves / 2})  ours to reach ${reach}  lower bound ${res.Status === 'Optimal' ? res.ObjectiveValue : `(${res.Status}; incumbent ${res.ObjectiveValue})`}  (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
