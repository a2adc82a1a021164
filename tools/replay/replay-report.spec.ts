import {
  cpuDemandUnmet,
  formatReportTable,
  formatTotalsTable,
  gibMoved,
  median,
  MigrationRecord,
  overloadedHostMinutes,
  parseReportTable,
  peakHostCpu,
  ReplayReport,
  shareAboveTarget,
  shareUnbalanced,
  StepMeasurement,
  StrategyReport,
  summarizeStrategy,
  timeAveragedImbalance,
  totalsOverRuns,
} from './replay-report';

// Three 5-minute steps of a 3-host cluster of 20,000 MHz hosts, target 0.04; CPU demand unmet is
// what the hosts above 100 % ask beyond their capacity. On the demand the policy plans on (an hour's
// mean, say) the cluster is unbalanced at the first two steps, whatever I says on the step's samples.
const steps: StepMeasurement[] = [
  {
    imbalance: 0.05,
    target: 0.04,
    hostCpu: [0.5, 1.2, 0.95],
    hostMemory: [0.4, 0.4, 0.4],
    cpuDemandMhz: 53_000,
    cpuDemandUnmetMhz: 4000,
    balancedOnPlannedDemand: false,
  },
  {
    imbalance: 0.03,
    target: 0.04,
    hostCpu: [0.91, 0.9, 1.0],
    hostMemory: [0.4, 0.4, 0.4],
    cpuDemandMhz: 56_200,
    cpuDemandUnmetMhz: 0,
    balancedOnPlannedDemand: false,
  },
  // Exactly at the target: not above it.
  {
    imbalance: 0.04,
    target: 0.04,
    hostCpu: [1.01, 0.2, 0.3],
    hostMemory: [0.4, 0.4, 0.4],
    cpuDemandMhz: 30_200,
    cpuDemandUnmetMhz: 200,
    balancedOnPlannedDemand: true,
  },
];
// 4,200 MHz unmet over 5-minute steps: 4.2 GHz × 1/12 h; of 139,400 MHz demanded in all.
const UNMET_GHZ_HOURS = 4.2 / 12;
const UNMET_SHARE = 4200 / 139_400;

/** A replay of those three steps on 9 VMs and 3 hosts, with these strategies' figures. */
function reportOf(strategies: StrategyReport[]): ReplayReport {
  return { trace: 't.csv', vms: 9, hosts: 3, steps: 3, stepSeconds: 300, threshold: 3, target: 0.04, policy: {}, strategies, seconds: 1 };
}

const migrations: MigrationRecord[] = [
  { state: 'succeeded', memoryMib: 870 },
  { state: 'succeeded', memoryMib: 1740 },
  { state: 'succeeded', memoryMib: 613 },
  { state: 'failed', memoryMib: 1740 },
  { state: 'cancelled', memoryMib: 870 },
];

describe('replay report maths', () => {
  it('averages the imbalance over time: (0.05 + 0.03 + 0.04) / 3', () => {
    expect(timeAveragedImbalance(steps)).toBeCloseTo(0.04, 12);
    expect(timeAveragedImbalance([])).toBe(0);
  });

  it('counts the share of steps strictly above the target: 1 of 3', () => {
    expect(shareAboveTarget(steps)).toBeCloseTo(1 / 3, 12);
    expect(shareAboveTarget([])).toBe(0);
  });

  it('counts the share of steps that began unbalanced on the planned demand: 2 of 3', () => {
    expect(shareUnbalanced(steps)).toBeCloseTo(2 / 3, 12);
    expect(shareUnbalanced([])).toBe(0);
  });

  it('counts host-minutes strictly above 100 % and 90 % of CPU', () => {
    // > 100 %: 1.2 (step 1), 1.01 (step 3); 1.0 is not above → 2 host-steps × 5 min.
    expect(overloadedHostMinutes(steps, 1.0, 5)).toBe(10);
    // > 90 %: 1.2 and 0.95; 0.91 and 1.0 (0.9 is not above); 1.01 → 5 host-steps × 5 min.
    expect(overloadedHostMinutes(steps, 0.9, 5)).toBe(25);
    expect(overloadedHostMinutes(steps, 0.9, 1)).toBe(5);
  });

  it('adds up the CPU demand unmet in GHz·h and as a share of the demand', () => {
    expect(cpuDemandUnmet(steps, 300).ghzHours).toBeCloseTo(UNMET_GHZ_HOURS, 12);
    expect(cpuDemandUnmet(steps, 300).share).toBeCloseTo(UNMET_SHARE, 12);
    // One-minute steps: the same MHz for a fifth of the time.
    expect(cpuDemandUnmet(steps, 60).ghzHours).toBeCloseTo(UNMET_GHZ_HOURS / 5, 12);
    expect(cpuDemandUnmet([], 300)).toEqual({ ghzHours: 0, share: 0 });
  });

  it('finds the peak host CPU', () => {
    expect(peakHostCpu(steps)).toBe(1.2);
  });

  it('sums the configured memory of succeeded migrations only: (870 + 1740 + 613) / 1024 GiB', () => {
    expect(gibMoved(migrations)).toBeCloseTo(3223 / 1024, 12);
    expect(gibMoved([])).toBe(0);
  });

  it('takes the median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });

  it('summarizes a strategy', () => {
    const report = summarizeStrategy('ours', steps, migrations, 300, {
      stepMs: [10, 30, 20],
      phases: { ingest: [1, 1, 1], measure: [2, 2, 2], act: [3, 6, 9], drain: [0, 0, 3] },
    });
    expect(report).toEqual({
      strategy: 'ours',
      steps: 3,
      meanImbalance: expect.closeTo(0.04, 12),
      shareAboveTarget: expect.closeTo(1 / 3, 12),
      shareUnbalanced: expect.closeTo(2 / 3, 12),
      hostMinutesOver100: 10,
      hostMinutesOver90: 25,
      peakHostCpu: 1.2,
      cpuDemandUnmetGhzHours: expect.closeTo(UNMET_GHZ_HOURS, 12),
      cpuDemandUnmetShare: expect.closeTo(UNMET_SHARE, 12),
      migrations: 3,
      failedMigrations: 2,
      gibMoved: expect.closeTo(3223 / 1024, 12),
      msPerStepMedian: 20,
      msPerStepMean: 20,
      msPerStepByPhase: { ingest: 1, measure: 2, act: 6, drain: 1 },
    });
  });

  it('prints a table that parses back to the JSON figures, rounded', () => {
    const ours = summarizeStrategy('ours', steps, migrations, 300, { stepMs: [12.4] });
    const none = summarizeStrategy('none', steps, [], 300, { stepMs: [3] });
    const text = formatReportTable({ ...reportOf([ours, none]), seconds: 1.25 });
    expect(text.split('\n')[0]).toContain('9 VMs on 3 hosts, 3 steps of 5 min; threshold 3 (target I ≤ 0.0400)');
    expect(parseReportTable(`noise before\n${text}\n\n{"json": "after"}`)).toEqual([
      {
        strategy: 'ours',
        'mean I': '0.0400',
        'above target': '33.3%',
        'unbalanced as planned': '66.7%',
        'host-min >100%': '10',
        'host-min >90%': '25',
        'peak host CPU': '120.0%',
        'CPU demand unmet': '0.35 GHz·h (3.013%)',
        migrations: '3',
        failed: '2',
        'GiB moved': '3.1',
        'ms/step': '12',
      },
      {
        strategy: 'none',
        'mean I': '0.0400',
        'above target': '33.3%',
        'unbalanced as planned': '66.7%',
        'host-min >100%': '10',
        'host-min >90%': '25',
        'peak host CPU': '120.0%',
        'CPU demand unmet': '0.35 GHz·h (3.013%)',
        migrations: '0',
        failed: '0',
        'GiB moved': '0.0',
        'ms/step': '3',
      },
    ]);
  });
});

describe('replay totals over several placement seeds', () => {
  type Figures = Pick<
    StrategyReport,
    'strategy' | 'meanImbalance' | 'hostMinutesOver100' | 'hostMinutesOver90' | 'cpuDemandUnmetGhzHours' | 'migrations' | 'gibMoved'
  >;
  const run = (seed: number, ...figures: Figures[]): ReplayReport => ({
    ...reportOf(figures.map((f) => ({ ...summarizeStrategy(f.strategy, steps, [], 300), ...f }))),
    placementSeed: seed,
  });
  // Seed 1: ours migrates less, is cooler, and leaves exactly as much demand unmet (a tie counts for ours).
  // Seed 2: ours migrates more and is hotter, but leaves less demand unmet.
  const seed1 = run(
    1,
    {
      strategy: 'ours',
      meanImbalance: 0.05,
      hostMinutesOver100: 20,
      hostMinutesOver90: 100,
      cpuDemandUnmetGhzHours: 0.3,
      migrations: 10,
      gibMoved: 5,
    },
    {
      strategy: 'greedy',
      meanImbalance: 0.06,
      hostMinutesOver100: 30,
      hostMinutesOver90: 120,
      cpuDemandUnmetGhzHours: 0.3,
      migrations: 20,
      gibMoved: 12,
    },
  );
  const seed2 = run(
    2,
    {
      strategy: 'ours',
      meanImbalance: 0.03,
      hostMinutesOver100: 0,
      hostMinutesOver90: 50,
      cpuDemandUnmetGhzHours: 0.1,
      migrations: 30,
      gibMoved: 9,
    },
    {
      strategy: 'greedy',
      meanImbalance: 0.04,
      hostMinutesOver100: 5,
      hostMinutesOver90: 40,
      cpuDemandUnmetGhzHours: 0.2,
      migrations: 25,
      gibMoved: 8,
    },
  );

  it('adds up each strategy over the runs, averages mean I, and counts where ours did better than the greedy', () => {
    const totals = totalsOverRuns([seed1, seed2]);
    expect(totals.strategies).toEqual([
      {
        strategy: 'ours',
        runs: 2,
        meanImbalance: expect.closeTo(0.04, 12),
        hostMinutesOver100: 20,
        hostMinutesOver90: 150,
        cpuDemandUnmetGhzHours: expect.closeTo(0.4, 12),
        migrations: 40,
        gibMoved: 14,
      },
      {
        strategy: 'greedy',
        runs: 2,
        meanImbalance: expect.closeTo(0.05, 12),
        hostMinutesOver100: 35,
        hostMinutesOver90: 160,
        cpuDemandUnmetGhzHours: expect.closeTo(0.5, 12),
        migrations: 45,
        gibMoved: 20,
      },
    ]);
    expect(totals.oursOverGreedy).toEqual({
      runs: 2,
      fewerMigrations: 1,
      noMoreHostMinutesOver90: 1,
      noMoreCpuDemandUnmet: 2,
      allThree: 1,
    });
  });

  it('has no comparison with the greedy when a run lacks it', () => {
    const oursOnly = run(3, {
      strategy: 'ours',
      meanImbalance: 0.02,
      hostMinutesOver100: 0,
      hostMinutesOver90: 0,
      cpuDemandUnmetGhzHours: 0,
      migrations: 1,
      gibMoved: 1,
    });
    const totals = totalsOverRuns([seed1, oursOnly]);
    expect(totals.oursOverGreedy).toBeUndefined();
    expect(totals.strategies.map((t) => [t.strategy, t.runs, t.migrations])).toEqual([
      ['ours', 2, 11],
      ['greedy', 1, 20],
    ]);
  });

  it('prints the totals as a table, with the comparison line', () => {
    const text = formatTotalsTable(totalsOverRuns([seed1, seed2]), [1, 2]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Totals over placement seeds 1, 2');
    expect(lines[1].split(/\s{2,}/)).toEqual([
      'strategy',
      'runs',
      'mean I',
      'host-min >100%',
      'host-min >90%',
      'CPU demand unmet',
      'migrations',
      'GiB moved',
    ]);
    expect(lines[3].split(/\s{2,}/)).toEqual(['ours', '2', '0.0400', '20', '150', '0.40 GHz·h', '40', '14.0']);
    expect(lines[4].split(/\s{2,}/)).toEqual(['greedy', '2', '0.0500', '35', '160', '0.50 GHz·h', '45', '20.0']);
    expect(lines[5]).toBe(
      'ours against greedy, runs of 2: fewer migrations in 1, as few or fewer host-minutes above 90 % in 1, ' +
        'as little or less CPU demand unmet in 2, all three in 1',
    );
  });
});
