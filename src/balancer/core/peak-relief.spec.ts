import { cluster, host, vm } from '../../../test/builders/builders';
import { DEFAULT_PLANNER_POLICY } from './model';
import { planMoves } from './planner';

const policy = { ...DEFAULT_PLANNER_POLICY };

// Threshold 3 (band 20 points). a: n (100 MHz swinging by 100) and two steady 250 MHz VMs, mean 60 %;
// b, c, d steady at 42 %. Cluster mean 46.5 %: a is inside the band on its mean (66.5 %), balanced
// (I ≈ 0.055, target 0.1; gap 18 points), but its forecast peak is 60 % + 1.2816 × 10 % = 72.8 %.
// The hosts' peaks average (72.8 + 3 × 42) / 4 = 49.7 %: peak relief's line is 69.7 %.
function swinging(samples: number, sigma = 100) {
  return cluster(
    [host('a'), host('b'), host('c'), host('d')],
    [
      vm('n', 'a', 100, 10, { cpuSigmaMhz: sigma, cpuSampleCount: samples }),
      vm('s1', 'a', 250, 10),
      vm('s2', 'a', 250, 10),
      vm('t', 'b', 420, 10),
      vm('u', 'c', 420, 10),
      vm('w', 'd', 420, 10),
    ],
  );
}

describe('peak relief', () => {
  it('moves the swinging VM off a host whose forecast peak is above the band', () => {
    // Over 12 samples the next one may move a's forecast by √2 × 100 / 12 MHz = 1.2 points: 72.8 % is
    // above 69.7 % + 1.2. n to b peaks at 52 % + 12.8 % = 64.8 %, under the line (the peaks still
    // average 49.7 %). A steady 250 MHz VM to b would fit too (b at 67 %), but n is what swings.
    const plan = planMoves(swinging(12), policy);
    expect(plan.moves.map((m) => [m.vmId, m.fromHostId, m.toHostId])).toEqual([['n', 'a', 'b']]);
    // Its own reason, and a sentence with the peaks: a's without n is its steady 50 %.
    expect(plan.moves[0].reason).toBe('forecast-peak');
    const sentence = plan.moves[0].explanation;
    expect(sentence).toContain(
      "at 60.0 % of its CPU on average, their demand reaches 72.8 % one interval in ten, above 69.7 % (the hosts' mean peak 49.7 % + the band)",
    );
    expect(sentence).toContain('moving n (100 MHz, swinging by 100 MHz) to b (CPU 42.0 % → 52.0 %');
    expect(sentence).toContain("brings a's peak to 50.0 % and b's to 64.8 %");
  });

  it('leaves the same means alone when the VMs are steady', () => {
    expect(planMoves(swinging(12, 0), policy).moves).toEqual([]);
  });

  it('does not move for an excess the next sample may erase', () => {
    // Over 2 samples the next one may move a's forecast by √2 × 100 / 2 MHz = 7.1 points: 72.8 % is
    // within 69.7 % + 7.1.
    expect(planMoves(swinging(2), policy).moves).toEqual([]);
  });

  it('leaves a host whose peak is no further above the others than the band', () => {
    // Every host holds one VM of 100 MHz swinging by 150 (12 samples), which adds 1.2816 × 15 = 19.2
    // points to its peak: a is at 58 % (peak 77.2 %), b 50 % (69.2 %), c 46 % (65.2 %), d 40 %
    // (59.2 %). Balanced on the means (mean 48.5 %, gap 18 points). a's peak is 28.7 points above the
    // mean load, but only 9.5 above the hosts' mean peak of 67.7 %: it swings as much as the others,
    // and moving its load to d only moves the peak there (d at 48 % would peak at 67.2 %).
    const swing = { cpuSigmaMhz: 150, cpuSampleCount: 12 };
    const steady = (id: string, hostId: string, count: number, mhz: number) =>
      Array.from({ length: count }, (_, i) => vm(`${id}${i}`, hostId, mhz, 10));
    const c = cluster(
      [host('a'), host('b'), host('c'), host('d')],
      [
        vm('na', 'a', 100, 10, swing),
        ...steady('sa', 'a', 6, 80),
        vm('nb', 'b', 100, 10, swing),
        ...steady('sb', 'b', 4, 100),
        vm('nc', 'c', 100, 10, swing),
        ...steady('sc', 'c', 4, 90),
        vm('nd', 'd', 100, 10, swing),
        ...steady('sd', 'd', 3, 100),
      ],
    );
    expect(planMoves(c, policy).moves).toEqual([]);
  });
});
