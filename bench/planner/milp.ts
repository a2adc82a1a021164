// Exact optima with the HiGHS MILP solver (highs, WebAssembly), for the quality benchmark.
// Final placements only (intermediate states are not modelled), so the optimum is a lower bound
// for any sequential planner. Objective "SAD": Σ_r w_r Σ_h |u_r(h) − mean_r|, over connected hosts.
import { ClusterSnapshot, PlannerPolicy, PlanningState } from '../../src/balancer/core';

import type { Highs } from 'highs';

let highsPromise: Promise<Highs> | null = null;
function loadHighs(): Promise<Highs> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use only: the WebAssembly solver is large
  highsPromise ??= require('highs')();
  return highsPromise!;
}

interface Solved {
  /** 'optimal', 'time limit', or `status <n>` for another of HiGHS's model statuses. */
  status: string;
  /** Best solution's objective, NaN when none was found. */
  objective: number;
  /** Best proven bound on the optimum (below it when minimizing, above when maximizing). */
  bound: number;
}

/** Solves an LP-format MILP within a time limit and reports the incumbent and the proven bound. */
async function solve(lp: string, timeLimitSeconds: number, relativeGap: number): Promise<Solved> {
  const highs = await loadHighs();
  return highs.withModel({ format: 'lp', data: lp }, (model) => {
    model.options.set('time_limit', timeLimitSeconds);
    model.options.set('mip_rel_gap', relativeGap);
    model.options.set('output_flag', false);
    const { modelStatus } = model.run();
    const found = Number(model.info.get('primal_solution_status')) === 2;
    const s = highs.constants.modelStatus;
    return {
      status: modelStatus === s.optimal ? 'optimal' : modelStatus === s.timeLimit ? 'time limit' : `status ${modelStatus}`,
      objective: found ? model.getObjectiveValue() : NaN,
      bound: Number(model.info.get('mip_dual_bound')),
    };
  });
}

/** |u_r(h) − mean_r| per connected host and resource, at the final placement. */
export function hostDeviations(snapshot: ClusterSnapshot, finalHost: (vmId: string) => string): { cpu: number[]; mem: number[] } {
  const hosts = snapshot.hosts.filter((h) => h.state === 'connected');
  const cpu = new Map(hosts.map((h) => [h.id, 0]));
  const mem = new Map(hosts.map((h) => [h.id, 0]));
  for (const vm of snapshot.vms) {
    if (!vm.poweredOn) continue;
    const h = finalHost(vm.id);
    if (!cpu.has(h)) continue;
    cpu.set(h, cpu.get(h)! + vm.cpuMhz);
    mem.set(h, mem.get(h)! + vm.memoryMib);
  }
  const deviations = (u: number[]) => {
    const mean = u.reduce((a, b) => a + b, 0) / u.length;
    return u.map((x) => Math.abs(x - mean));
  };
  return {
    cpu: deviations(hosts.map((h) => cpu.get(h.id)! / h.cpuCapacityMhz)),
    mem: deviations(hosts.map((h) => mem.get(h.id)! / h.memoryCapacityMib)),
  };
}

/** SAD: Σ_r w_r Σ_h |u_r(h) − mean_r| at the final placement. */
export function sumAbsDeviation(snapshot: ClusterSnapshot, finalHost: (vmId: string) => string, policy: PlannerPolicy): number {
  const { cpu, mem } = hostDeviations(snapshot, finalHost);
  const sum = (d: number[]) => d.reduce((a, b) => a + b, 0);
  return policy.cpuWeight * sum(cpu) + policy.memoryWeight * sum(mem);
}

const num = (x: number) => (Math.abs(x) < 1e-15 ? '0' : x.toFixed(12));

interface Model {
  lines: string[];
  stayTerms: string[];
  devTerms: string[];
  binaries: string[];
  vmCount: number;
}

/** Assignment model with hard rules and capacity ceilings; all VMs powered on and movable. */
function model(snapshot: ClusterSnapshot, policy: PlannerPolicy): Model {
  const hosts = snapshot.hosts.filter((h) => h.state === 'connected');
  const vms = snapshot.vms.filter((v) => v.poweredOn);
  const H = hosts.length;
  const x = (v: number, h: number) => `x_${v}_${h}`;
  const vIndex = new Map(vms.map((v, i) => [v.id, i]));
  const hIndex = new Map(hosts.map((h, i) => [h.id, i]));
  const lines: string[] = [];
  const binaries: string[] = [];
  const forbidden = new Set<string>();
  let row = 0;
  const r = () => `r${row++}`;
  for (const rule of snapshot.rules) {
    if (rule.enforcement !== 'hard' || rule.kind !== 'vm-host') continue;
    for (const id of rule.vmIds) {
      const v = vIndex.get(id);
      if (v === undefined) continue;
      hosts.forEach((h, hi) => {
        const inSet = (rule.hostIds ?? []).includes(h.id);
        if ((rule.relation ?? 'run-on') === 'run-on' ? !inSet : inSet) forbidden.add(x(v, hi));
      });
    }
  }
  vms.forEach((_, v) => {
    lines.push(`${r()}: ${hosts.map((__, h) => x(v, h)).join(' + ')} = 1`);
    for (let h = 0; h < H; h++) binaries.push(x(v, h));
  });
  for (const f of forbidden) lines.push(`${r()}: ${f} = 0`);
  const util = (h: number, res: 'cpu' | 'mem') =>
    vms.map(
      (vm, v) => `${num(res === 'cpu' ? vm.cpuMhz / hosts[h].cpuCapacityMhz : vm.memoryMib / hosts[h].memoryCapacityMib)} ${x(v, h)}`,
    );
  const devTerms: string[] = [];
  for (const res of ['cpu', 'mem'] as const) {
    const w = res === 'cpu' ? policy.cpuWeight : policy.memoryWeight;
    const ceiling = res === 'cpu' ? policy.cpuCeiling : policy.memoryCeiling;
    for (let h = 0; h < H; h++) {
      lines.push(`${r()}: ${util(h, res).join(' + ')} <= ${num(ceiling)}`);
      // d_h ≥ ±(u_h − mean), mean = (1/H) Σ_g u_g.
      const terms: string[] = [];
      for (let g = 0; g < H; g++) {
        const coef = (g === h ? 1 : 0) - 1 / H;
        vms.forEach((vm, v) => {
          const c = coef * (res === 'cpu' ? vm.cpuMhz / hosts[g].cpuCapacityMhz : vm.memoryMib / hosts[g].memoryCapacityMib);
          if (c !== 0) terms.push(`${c >= 0 ? '+' : '-'} ${num(Math.abs(c))} ${x(v, g)}`);
        });
      }
      const d = `d_${res}_${h}`;
      lines.push(`${r()}: ${d} ${terms.map((t) => (t.startsWith('+') ? '-' + t.slice(1) : '+' + t.slice(1))).join(' ')} >= 0`);
      lines.push(`${r()}: ${d} ${terms.join(' ')} >= 0`);
      devTerms.push(`${num(w)} ${d}`);
    }
  }
  for (const rule of snapshot.rules) {
    if (rule.enforcement !== 'hard' || rule.kind === 'vm-host') continue;
    const members = rule.vmIds.map((id) => vIndex.get(id)).filter((v): v is number => v !== undefined);
    for (let h = 0; h < H; h++) {
      if (rule.kind === 'anti-affinity') lines.push(`${r()}: ${members.map((v) => x(v, h)).join(' + ')} <= 1`);
      else for (let i = 1; i < members.length; i++) lines.push(`${r()}: ${x(members[0], h)} - ${x(members[i], h)} = 0`);
    }
  }
  const stayTerms = vms.map((vm, v) => x(v, hIndex.get(vm.hostId)!));
  return { lines, stayTerms, devTerms, binaries, vmCount: vms.length };
}

function lp(objective: string, m: Model, extra: string[]): string {
  return `${objective}\nSubject To\n${[...m.lines, ...extra].join('\n')}\nBinary\n${m.binaries.join('\n')}\nEnd\n`;
}

export interface MilpAnswer {
  /** The best solution found; NaN when the solver found none within its time limit. */
  value: number;
  /** What is proven: the optimum is at least this (every answer here is a minimum). */
  bound: number;
  optimal: boolean;
  status: string;
}

function answer(res: Solved, value: (objective: number) => number, bound: (dualBound: number) => number): MilpAnswer {
  return {
    value: Number.isFinite(res.objective) ? value(res.objective) : NaN,
    bound: bound(res.bound),
    optimal: res.status === 'optimal',
    status: res.status,
  };
}

/** Minimum SAD reachable with at most k moved VMs. */
export async function minDeviationWithMoves(
  snapshot: ClusterSnapshot,
  policy: PlannerPolicy,
  k: number,
  timeLimitSeconds = 60,
): Promise<MilpAnswer> {
  const m = model(snapshot, policy);
  const text = lp(`Minimize\n obj: ${m.devTerms.join(' + ')}`, m, [`moves: ${m.stayTerms.join(' + ')} >= ${m.vmCount - k}`]);
  const res = await solve(text, timeLimitSeconds, 1e-6);
  return answer(
    res,
    (x) => x,
    (b) => b,
  );
}

/** Minimum number of moved VMs reaching SAD ≤ bound. */
export async function minMovesForDeviation(
  snapshot: ClusterSnapshot,
  policy: PlannerPolicy,
  bound: number,
  timeLimitSeconds = 60,
): Promise<MilpAnswer> {
  const m = model(snapshot, policy);
  const text = lp(`Maximize\n obj: ${m.stayTerms.join(' + ')}`, m, [`quality: ${m.devTerms.join(' + ')} <= ${num(bound + 1e-9)}`]);
  const res = await solve(text, timeLimitSeconds, 0);
  // Maximizing the VMs that stay: the proven upper bound on them is a lower bound on the moves.
  return answer(
    res,
    (x) => m.vmCount - Math.round(x),
    (b) => m.vmCount - Math.floor(b + 1e-6),
  );
}

/**
 * Minimum number of moved VMs that brings every host as close to the mean as `bounds` (a plan's final
 * |u_r(h) − mean_r|, per resource, in the order of the connected hosts) or closer.
 */
export async function minMovesForHostDeviations(
  snapshot: ClusterSnapshot,
  policy: PlannerPolicy,
  bounds: { cpu: number[]; mem: number[] },
  timeLimitSeconds = 60,
): Promise<MilpAnswer> {
  const m = model(snapshot, policy);
  const limits = (['cpu', 'mem'] as const).flatMap((res) =>
    bounds[res].map((b, h) => `dev_${res}_${h}: d_${res}_${h} <= ${num(b + 1e-9)}`),
  );
  const text = lp(`Maximize\n obj: ${m.stayTerms.join(' + ')}`, m, limits);
  const res = await solve(text, timeLimitSeconds, 0);
  // Maximizing the VMs that stay: the proven upper bound on them is a lower bound on the moves.
  return answer(
    res,
    (x) => m.vmCount - Math.round(x),
    (b) => m.vmCount - Math.floor(b + 1e-6),
  );
}

/**
 * A lower bound on the moves any planner needs to bring I down to `imbalance`. Relaxation: a VM
 * leaves its host whole (binary), but the load it carries may land fractionally on any connected
 * hosts; rules and ceilings are ignored; (u − c)² is under-estimated by tangents every 0.02, and the
 * centre c is free (the variance about the mean is the least about any centre). Every real sequence
 * of moves is feasible here, so the optimum is ≤ the true minimum.
 */
export async function minMovesForImbalanceBound(
  snapshot: ClusterSnapshot,
  policy: PlannerPolicy,
  imbalance: number,
  timeLimitSeconds = 60,
): Promise<MilpAnswer> {
  const s = new PlanningState(snapshot, policy, { enforceSoftRules: false });
  const H: number[] = [];
  for (let h = 0; h < s.hostCount; h++) if (s.connected[h]) H.push(h);
  const movable: number[] = [];
  for (let v = 0; v < s.vmCount; v++) if (s.vmMovable(v) && (s.vmCpu[v] > 0 || s.vmMem[v] > 0)) movable.push(v);
  const signed = (x: number) => (x >= 0 ? `+ ${num(x)}` : `- ${num(-x)}`);
  const rows: string[] = [];
  const bounds: string[] = [];
  const zTerms: string[] = [];
  let rc = 0;
  for (const r of [0, 1]) {
    const cap = r === 0 ? s.capCpu : s.capMem;
    const u = r === 0 ? s.uCpu : s.uMem;
    const size = r === 0 ? s.vmCpu : s.vmMem;
    const w = r === 0 ? s.wCpu : s.wMem;
    const meanCap = H.reduce((a, h) => a + cap[h], 0) / H.length;
    bounds.push(`c${r} free`);
    const inflow: string[] = [];
    for (const h of H) {
      // d = u_h + (meanCap/cap_h)·in_h − Σ_{v on h} (size_v/cap_h)·x_v − c, with in_h the load landing on h.
      const terms = [`d${r}_${h}`, `- ${num(meanCap / cap[h])} i${r}_${h}`, `+ c${r}`];
      for (const v of movable) if (s.vmHost[v] === h && size[v] > 0) terms.push(`${signed(size[v] / cap[h])} x${v}`);
      rows.push(`r${rc++}: ${terms.join(' ')} = ${num(u[h])}`);
      bounds.push(`d${r}_${h} free`);
      inflow.push(`i${r}_${h}`);
      for (let t = -0.8; t <= 0.8 + 1e-9; t += 0.02)
        rows.push(`r${rc++}: z${r}_${h} ${signed(-2 * t)} d${r}_${h} >= ${(-t * t).toFixed(12)}`);
      zTerms.push(`${num(w)} z${r}_${h}`);
    }
    const out = movable.filter((v) => size[v] > 0).map((v) => `${signed(-size[v] / meanCap)} x${v}`);
    rows.push(`r${rc++}: ${inflow.join(' + ')} ${out.join(' ')} = 0`);
  }
  rows.push(`q: ${zTerms.join(' + ')} <= ${num(H.length * imbalance ** 2)}`);
  const text = `Minimize\n obj: ${movable.map((v) => `x${v}`).join(' + ')}\nSubject To\n${rows.join('\n')}\nBounds\n${bounds.join('\n')}\nBinary\n${movable.map((v) => `x${v}`).join('\n')}\nEnd\n`;
  const res = await solve(text, timeLimitSeconds, 0);
  return answer(res, Math.round, (b) => Math.ceil(b - 1e-6));
}
