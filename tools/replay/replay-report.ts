// The trace replay's report, pure: what each strategy's run of the trace day looked like, measured
// the same way for all of them. Every figure comes from per-step measurements taken BEFORE the
// strategy acts on that step (the state its earlier decisions left under this step's real demand),
// and from the migration engine's own records.

export const STRATEGIES = ['ours', 'none', 'greedy'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Where a step's wall-clock time goes: posting the samples, measuring, the strategy's decision, its migrations. */
export const STEP_PHASES = ['ingest', 'measure', 'act', 'drain'] as const;
export type StepPhase = (typeof STEP_PHASES)[number];

export interface StepTiming {
  /** Wall-clock milliseconds of each step. */
  stepMs: readonly number[];
  /** The same, per phase. */
  phases?: Readonly<Record<StepPhase, readonly number[]>>;
}

/** One trace step of one strategy, measured before it acts. */
export interface StepMeasurement {
  /** I = sqrt(w_cpu σ_cpu² + w_mem σ_mem²) over the connected hosts. */
  imbalance: number;
  /** (5 − L) / (10 √N) for the report's threshold L. */
  target: number;
  /** CPU demand / capacity per connected host (1 = 100 %). */
  hostCpu: number[];
  /** Memory demand / capacity per connected host. */
  hostMemory: number[];
  /** The VMs' CPU demand, and what of it their hosts could not serve under the CPU ceiling (contention.ts). */
  cpuDemandMhz: number;
  cpuDemandUnmetMhz: number;
  /**
   * Whether the cluster counts as balanced for the policy's threshold (balanceReport: the target
   * net of sampling noise, and the gap) on the demand the policy plans on (its statistic and
   * window), not on this step's samples: what a pass of any strategy sees when the step begins.
   */
  balancedOnPlannedDemand: boolean;
}

/** A migration as the engine recorded it. */
export interface MigrationRecord {
  state: string;
  /** The VM's configured memory: what a live migration copies at least once. */
  memoryMib: number;
}

export interface StrategyReport {
  strategy: Strategy;
  steps: number;
  /** Mean of I over the steps (every step lasts the same time). */
  meanImbalance: number;
  /** Share of the steps (so of the time) with I above the target, 0..1. */
  shareAboveTarget: number;
  /** Share of the steps that began with the cluster unbalanced on the demand the policy plans on (balancedOnPlannedDemand), 0..1. */
  shareUnbalanced: number;
  /** Σ over steps of (hosts with CPU demand above 100 % of capacity) × step minutes. */
  hostMinutesOver100: number;
  /** The same above 90 %. */
  hostMinutesOver90: number;
  /** Highest host CPU utilization seen at any step. */
  peakHostCpu: number;
  /** Σ over steps of the CPU demand the hosts could not serve × step hours, in GHz·h. */
  cpuDemandUnmetGhzHours: number;
  /** The same as a share of all the CPU demand of the day, 0..1. */
  cpuDemandUnmetShare: number;
  /** Migrations that succeeded. */
  migrations: number;
  /** Migrations that failed or were cancelled. */
  failedMigrations: number;
  /** Σ configured memory of the succeeded migrations, in GiB. */
  gibMoved: number;
  /** Wall-clock milliseconds per step (ingest, measure, act, drain), median and mean. */
  msPerStepMedian: number;
  msPerStepMean: number;
  /** Mean wall-clock milliseconds per step of each phase. */
  msPerStepByPhase: Record<StepPhase, number>;
  /** Per-step figures, when asked for (--series); `migrations`: the migrations the step's decision made (succeeded). */
  series?: { imbalance: number[]; maxHostCpu: number[]; cpuDemandUnmetMhz: number[]; migrations: number[] };
}

export interface ReplayReport {
  trace: string;
  vms: number;
  hosts: number;
  steps: number;
  stepSeconds: number;
  threshold: number;
  /** The seed the VMs were dealt to the hosts with (replayInventory); absent: round-robin. */
  placementSeed?: number;
  /** The imbalance target of the threshold for the cluster's connected hosts. */
  target: number;
  /** The policy "ours" ran with (what the replay sets through the policy service). */
  policy: Record<string, unknown>;
  strategies: StrategyReport[];
  /** Wall-clock seconds of the whole replay, boots included. */
  seconds: number;
}

/** Tolerance for float noise when comparing an imbalance or a utilization with a limit. */
const EPSILON = 1e-12;

export function timeAveragedImbalance(steps: readonly StepMeasurement[]): number {
  if (steps.length === 0) return 0;
  return steps.reduce((sum, s) => sum + s.imbalance, 0) / steps.length;
}

export function shareAboveTarget(steps: readonly StepMeasurement[]): number {
  if (steps.length === 0) return 0;
  return steps.filter((s) => s.imbalance > s.target + EPSILON).length / steps.length;
}

export function shareUnbalanced(steps: readonly StepMeasurement[]): number {
  if (steps.length === 0) return 0;
  return steps.filter((s) => !s.balancedOnPlannedDemand).length / steps.length;
}

/** Host-minutes with CPU utilization strictly above `limit` (1 = 100 %). */
export function overloadedHostMinutes(steps: readonly StepMeasurement[], limit: number, stepMinutes: number): number {
  let hostSteps = 0;
  for (const s of steps) for (const u of s.hostCpu) if (u > limit + EPSILON) hostSteps++;
  return hostSteps * stepMinutes;
}

export function peakHostCpu(steps: readonly StepMeasurement[]): number {
  let peak = 0;
  for (const s of steps) for (const u of s.hostCpu) if (u > peak) peak = u;
  return peak;
}

/** CPU demand unmet over the steps: GHz·h, and the share of the demand (0 when there is none). */
export function cpuDemandUnmet(steps: readonly StepMeasurement[], stepSeconds: number): { ghzHours: number; share: number } {
  let unmet = 0;
  let demand = 0;
  for (const s of steps) {
    unmet += s.cpuDemandUnmetMhz;
    demand += s.cpuDemandMhz;
  }
  return { ghzHours: (unmet / 1000) * (stepSeconds / 3600), share: demand > 0 ? unmet / demand : 0 };
}

export function succeededMigrations(migrations: readonly MigrationRecord[]): number {
  return migrations.filter((m) => m.state === 'succeeded').length;
}

export function gibMoved(migrations: readonly MigrationRecord[]): number {
  return migrations.filter((m) => m.state === 'succeeded').reduce((sum, m) => sum + m.memoryMib, 0) / 1024;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarizeStrategy(
  strategy: Strategy,
  steps: readonly StepMeasurement[],
  migrations: readonly MigrationRecord[],
  stepSeconds: number,
  timing: StepTiming = { stepMs: [] },
): StrategyReport {
  const stepMinutes = stepSeconds / 60;
  const unmet = cpuDemandUnmet(steps, stepSeconds);
  const mean = (values: readonly number[] = []) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
  return {
    strategy,
    steps: steps.length,
    meanImbalance: timeAveragedImbalance(steps),
    shareAboveTarget: shareAboveTarget(steps),
    shareUnbalanced: shareUnbalanced(steps),
    hostMinutesOver100: overloadedHostMinutes(steps, 1.0, stepMinutes),
    hostMinutesOver90: overloadedHostMinutes(steps, 0.9, stepMinutes),
    peakHostCpu: peakHostCpu(steps),
    cpuDemandUnmetGhzHours: unmet.ghzHours,
    cpuDemandUnmetShare: unmet.share,
    migrations: succeededMigrations(migrations),
    failedMigrations: migrations.filter((m) => m.state === 'failed' || m.state === 'cancelled').length,
    gibMoved: gibMoved(migrations),
    msPerStepMedian: median(timing.stepMs),
    msPerStepMean: mean(timing.stepMs),
    msPerStepByPhase: Object.fromEntries(STEP_PHASES.map((p) => [p, mean(timing.phases?.[p])])) as Record<StepPhase, number>,
  };
}

/** The table's columns: header, and how a strategy's figure is shown (rounded; the JSON keeps full precision). */
export const TABLE_COLUMNS: readonly { header: string; cell: (r: StrategyReport) => string }[] = [
  { header: 'strategy', cell: (r) => r.strategy },
  { header: 'mean I', cell: (r) => r.meanImbalance.toFixed(4) },
  { header: 'above target', cell: (r) => `${(r.shareAboveTarget * 100).toFixed(1)}%` },
  { header: 'unbalanced as planned', cell: (r) => `${(r.shareUnbalanced * 100).toFixed(1)}%` },
  { header: 'host-min >100%', cell: (r) => String(r.hostMinutesOver100) },
  { header: 'host-min >90%', cell: (r) => String(r.hostMinutesOver90) },
  { header: 'peak host CPU', cell: (r) => `${(r.peakHostCpu * 100).toFixed(1)}%` },
  {
    header: 'CPU demand unmet',
    cell: (r) => `${r.cpuDemandUnmetGhzHours.toFixed(2)} GHz·h (${(r.cpuDemandUnmetShare * 100).toFixed(3)}%)`,
  },
  { header: 'migrations', cell: (r) => String(r.migrations) },
  { header: 'failed', cell: (r) => String(r.failedMigrations) },
  { header: 'GiB moved', cell: (r) => r.gibMoved.toFixed(1) },
  { header: 'ms/step', cell: (r) => r.msPerStepMedian.toFixed(0) },
];

/** A header, a line of dashes and the rows, columns two spaces apart: the first left-aligned, the others right-aligned. */
function alignedLines(header: readonly string[], rows: readonly string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** The report as an aligned text table, one line per strategy, under a title line. */
export function formatReportTable(report: ReplayReport): string {
  const header = TABLE_COLUMNS.map((c) => c.header);
  const rows = report.strategies.map((r) => TABLE_COLUMNS.map((c) => c.cell(r)));
  const title =
    `Trace replay: ${report.trace}, ${report.vms} VMs on ${report.hosts} hosts` +
    `${report.placementSeed === undefined ? '' : ` (placement seed ${report.placementSeed})`}, ${report.steps} steps of ${report.stepSeconds / 60} min; ` +
    `threshold ${report.threshold} (target I ≤ ${report.target.toFixed(4)}); ${report.seconds.toFixed(1)} s`;
  return [title, ...alignedLines(header, rows)].join('\n');
}

/** Parses a table printed by formatReportTable back into its cells (header → cell), one record per strategy. */
export function parseReportTable(text: string): Record<string, string>[] {
  const lines = text.split('\n');
  const dashes = lines.findIndex((l) => /^-+(\s+-+)+$/.test(l.trim()));
  if (dashes < 1) throw new Error('no report table found');
  // Columns are separated by two spaces; cells never contain two spaces in a row.
  const spans: [number, number][] = [];
  const re = /-+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(lines[dashes])) !== null) spans.push([m.index, m.index + m[0].length]);
  const cut = (line: string) => spans.map(([a, b]) => line.slice(a, b).trim());
  const header = cut(lines[dashes - 1]);
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(dashes + 1)) {
    if (line.trim() === '') break;
    const cells = cut(line);
    if (!(STRATEGIES as readonly string[]).includes(cells[0])) break;
    rows.push(Object.fromEntries(header.map((h, i) => [h, cells[i]])));
  }
  return rows;
}

/** One strategy's figures added up over several runs of the replay (--placement-seeds). */
export interface StrategyTotals {
  strategy: Strategy;
  runs: number;
  /** The runs' mean I, averaged over the runs. */
  meanImbalance: number;
  hostMinutesOver100: number;
  hostMinutesOver90: number;
  cpuDemandUnmetGhzHours: number;
  migrations: number;
  gibMoved: number;
}

/**
 * In how many runs "ours" did better than the greedy baseline: fewer migrations, as few or fewer
 * host-minutes above 90 % CPU, as little or less CPU demand unmet, and all three at once.
 */
export interface WinsOverGreedy {
  runs: number;
  fewerMigrations: number;
  noMoreHostMinutesOver90: number;
  noMoreCpuDemandUnmet: number;
  allThree: number;
}

export interface ReplayTotals {
  strategies: StrategyTotals[];
  /** Absent unless every run has both "ours" and "greedy". */
  oursOverGreedy?: WinsOverGreedy;
}

/** Sums the runs' figures per strategy, in the order the strategies first appear. */
export function totalsOverRuns(reports: readonly ReplayReport[]): ReplayTotals {
  const byStrategy = new Map<Strategy, StrategyTotals>();
  for (const report of reports) {
    for (const s of report.strategies) {
      let t = byStrategy.get(s.strategy);
      if (!t) {
        t = {
          strategy: s.strategy,
          runs: 0,
          meanImbalance: 0,
          hostMinutesOver100: 0,
          hostMinutesOver90: 0,
          cpuDemandUnmetGhzHours: 0,
          migrations: 0,
          gibMoved: 0,
        };
        byStrategy.set(s.strategy, t);
      }
      t.runs++;
      t.meanImbalance += s.meanImbalance;
      t.hostMinutesOver100 += s.hostMinutesOver100;
      t.hostMinutesOver90 += s.hostMinutesOver90;
      t.cpuDemandUnmetGhzHours += s.cpuDemandUnmetGhzHours;
      t.migrations += s.migrations;
      t.gibMoved += s.gibMoved;
    }
  }
  const strategies = [...byStrategy.values()].map((t) => ({ ...t, meanImbalance: t.meanImbalance / t.runs }));
  const pairs = reports.map(
    (r) => [r.strategies.find((s) => s.strategy === 'ours'), r.strategies.find((s) => s.strategy === 'greedy')] as const,
  );
  if (reports.length === 0 || pairs.some(([o, g]) => !o || !g)) return { strategies };
  const wins: WinsOverGreedy = { runs: pairs.length, fewerMigrations: 0, noMoreHostMinutesOver90: 0, noMoreCpuDemandUnmet: 0, allThree: 0 };
  for (const [o, g] of pairs) {
    const fewer = o!.migrations < g!.migrations;
    const cooler = o!.hostMinutesOver90 <= g!.hostMinutesOver90;
    const served = o!.cpuDemandUnmetGhzHours <= g!.cpuDemandUnmetGhzHours + EPSILON;
    wins.fewerMigrations += fewer ? 1 : 0;
    wins.noMoreHostMinutesOver90 += cooler ? 1 : 0;
    wins.noMoreCpuDemandUnmet += served ? 1 : 0;
    wins.allThree += fewer && cooler && served ? 1 : 0;
  }
  return { strategies, oursOverGreedy: wins };
}

/** The totals as an aligned text table under a title line, and a line of ours's wins over the greedy. */
export function formatTotalsTable(totals: ReplayTotals, seeds: readonly number[]): string {
  const columns: readonly { header: string; cell: (t: StrategyTotals) => string }[] = [
    { header: 'strategy', cell: (t) => t.strategy },
    { header: 'runs', cell: (t) => String(t.runs) },
    { header: 'mean I', cell: (t) => t.meanImbalance.toFixed(4) },
    { header: 'host-min >100%', cell: (t) => String(t.hostMinutesOver100) },
    { header: 'host-min >90%', cell: (t) => String(t.hostMinutesOver90) },
    { header: 'CPU demand unmet', cell: (t) => `${t.cpuDemandUnmetGhzHours.toFixed(2)} GHz·h` },
    { header: 'migrations', cell: (t) => String(t.migrations) },
    { header: 'GiB moved', cell: (t) => t.gibMoved.toFixed(1) },
  ];
  const rows = totals.strategies.map((t) => columns.map((c) => c.cell(t)));
  const out = [
    `Totals over placement seeds ${seeds.join(', ')}`,
    ...alignedLines(
      columns.map((c) => c.header),
      rows,
    ),
  ];
  const w = totals.oursOverGreedy;
  if (w) {
    out.push(
      `ours against greedy, runs of ${w.runs}: fewer migrations in ${w.fewerMigrations}, as few or fewer host-minutes above 90 % in ` +
        `${w.noMoreHostMinutesOver90}, as little or less CPU demand unmet in ${w.noMoreCpuDemandUnmet}, all three in ${w.allThree}`,
    );
  }
  return out.join('\n');
}
