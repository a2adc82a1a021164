import fc from 'fast-check';
import { gbpsToMibPerSecond, projectPrecopy, simulatePrecopy } from './precopy';

describe('pre-copy model', () => {
  it('moves a quiet VM in one pre-copy round plus a short stun', () => {
    // 4096 MiB at 1250 MiB/s, guest dirtying 10 MiB/s, 500 ms stun budget:
    //   round 0: 4096 / 1250 = 3.2768 s, meanwhile 10 × 3.2768 = 32.768 MiB dirtied
    //   32.768 / 1250 = 26.2144 ms ≤ 500 ms → switch-over
    //   copied 4096 + 32.768 = 4128.768 MiB in 3.2768 + 0.0262144 = 3.3030144 s
    const result = simulatePrecopy({ memoryMib: 4096, dirtyRateMibPerSecond: 10, bandwidthMibPerSecond: 1250, stunBudgetMs: 500 });
    expect(result.converged).toBe(true);
    expect(result.rounds).toBe(1);
    expect(result.copiedMib).toBeCloseTo(4128.768, 6);
    expect(result.downtimeMs).toBeCloseTo(26.2144, 6);
    expect(result.durationSeconds).toBeCloseTo(3.3030144, 9);
  });

  it('needs a few rounds for a busier VM, each copying what the previous one let the guest dirty', () => {
    // 4096 MiB at 1250 MiB/s, dirtying 600 MiB/s (remainder shrinks ×0.48 per round):
    //   round 0: 4096 MiB, 3.2768 s → 1966.08 MiB dirty (1.572864 s to send > 0.5 s)
    //   round 1: 1966.08 MiB, 1.572864 s → 943.7184 MiB dirty (0.75497472 s > 0.5 s)
    //   round 2: 943.7184 MiB, 0.75497472 s → 452.984832 MiB dirty (0.3623878656 s ≤ 0.5 s)
    //   switch-over: downtime 362.3878656 ms
    //   copied 4096 + 1966.08 + 943.7184 + 452.984832 = 7458.783232 MiB
    //   duration 3.2768 + 1.572864 + 0.75497472 + 0.3623878656 = 5.9670265856 s
    const result = simulatePrecopy({ memoryMib: 4096, dirtyRateMibPerSecond: 600, bandwidthMibPerSecond: 1250 });
    expect(result.converged).toBe(true);
    expect(result.rounds).toBe(3);
    expect(result.roundDetails.map((r) => r.copyMib)).toEqual([4096, expect.closeTo(1966.08, 6), expect.closeTo(943.7184, 6)]);
    expect(result.roundDetails.map((r) => r.startSeconds)).toEqual([0, expect.closeTo(3.2768, 9), expect.closeTo(4.849664, 9)]);
    expect(result.finalDirtyMib).toBeCloseTo(452.984832, 6);
    expect(result.downtimeMs).toBeCloseTo(362.3878656, 6);
    expect(result.copiedMib).toBeCloseTo(7458.783232, 6);
    expect(result.durationSeconds).toBeCloseTo(5.9670265856, 9);
  });

  it('gives up cleanly when the guest dirties memory faster than the link sends it', () => {
    // 1500 MiB/s dirtying against 1250 MiB/s: round 0 (3.2768 s) dirties 4915 MiB, capped at the
    // 4096 MiB of memory; round 1 sends the 4096 MiB again and dirties all of it again. Two rounds
    // without the remainder shrinking → not converging. Copied 2 × 4096, in 2 × 3.2768 s.
    const result = simulatePrecopy({ memoryMib: 4096, dirtyRateMibPerSecond: 1500, bandwidthMibPerSecond: 1250 });
    expect(result.converged).toBe(false);
    expect(result.failureReason).toBe('not-converging');
    expect(result.rounds).toBe(2);
    expect(result.copiedMib).toBeCloseTo(8192, 6);
    expect(result.durationSeconds).toBeCloseTo(6.5536, 9);
    expect(result.downtimeMs).toBe(0);
    expect(result.finalDirtyMib).toBe(4096);
  });

  it('fails at the time limit when the remainder shrinks too slowly', () => {
    // 1200 against 1250 MiB/s: each round is 0.96 × the previous. Round k lasts 3.2768 × 0.96^k s,
    // so after n rounds 81.92 × (1 − 0.96^n) s have passed; that first reaches 30 s at n = 12
    // (0.96^11 ≈ 0.638 > 0.6338 > 0.96^12 ≈ 0.613), with 4096 × 0.96^12 ≈ 2510 MiB still dirty.
    const result = simulatePrecopy({
      memoryMib: 4096,
      dirtyRateMibPerSecond: 1200,
      bandwidthMibPerSecond: 1250,
      timeLimitSeconds: 30,
    });
    expect(result.converged).toBe(false);
    expect(result.failureReason).toBe('time-limit');
    expect(result.rounds).toBe(12);
    expect(result.durationSeconds).toBeCloseTo(81.92 * (1 - 0.96 ** 12), 6);
    expect(result.finalDirtyMib).toBeCloseTo(4096 * 0.96 ** 12, 6);
  });

  it('reads the bandwidth at the start of every round and uses it for the switch-over', () => {
    // 1000 MiB at 1250 MiB/s: 0.8 s, 80 MiB dirtied at 100 MiB/s. Then another migration halves the
    // link: 80 / 625 = 128 ms of downtime (it would have been 64 ms at the old bandwidth).
    const seen: number[] = [];
    const result = simulatePrecopy({
      memoryMib: 1000,
      dirtyRateMibPerSecond: 100,
      bandwidthMibPerSecond: (round) => {
        seen.push(round);
        return round === 0 ? 1250 : 625;
      },
    });
    expect(seen).toEqual([0, 1]);
    expect(result.converged).toBe(true);
    expect(result.downtimeMs).toBeCloseTo(128, 9);
    expect(result.durationSeconds).toBeCloseTo(0.928, 9);
  });

  it('fails without bandwidth instead of dividing by zero', () => {
    const result = simulatePrecopy({ memoryMib: 1024, dirtyRateMibPerSecond: 10, bandwidthMibPerSecond: 0 });
    expect(result).toMatchObject({ converged: false, failureReason: 'no-bandwidth', rounds: 0, copiedMib: 0 });
  });

  it('switches over with no downtime when the guest writes nothing', () => {
    const result = simulatePrecopy({ memoryMib: 2048, dirtyRateMibPerSecond: 0, bandwidthMibPerSecond: 1024 });
    expect(result).toMatchObject({ converged: true, rounds: 1, copiedMib: 2048, downtimeMs: 0, durationSeconds: 2 });
  });

  it('rejects nonsense inputs', () => {
    expect(() => simulatePrecopy({ memoryMib: -1, dirtyRateMibPerSecond: 0, bandwidthMibPerSecond: 1 })).toThrow(RangeError);
    expect(() => simulatePrecopy({ memoryMib: 1, dirtyRateMibPerSecond: NaN, bandwidthMibPerSecond: 1 })).toThrow(RangeError);
  });

  it('holds its invariants for any VM and link', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.double({ min: 10, max: 5000, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        (memoryMib, bandwidth, dirtyRatio) => {
          const dirtyRate = bandwidth * dirtyRatio;
          const result = simulatePrecopy({ memoryMib, dirtyRateMibPerSecond: dirtyRate, bandwidthMibPerSecond: bandwidth });
          if (result.converged) {
            expect(result.downtimeMs).toBeLessThanOrEqual(500 + 1e-9);
            expect(result.copiedMib).toBeGreaterThanOrEqual(memoryMib);
          } else {
            expect(result.downtimeMs).toBe(0);
          }
          // The guest cannot dirty more than its memory. A link slower than the guest never converges,
          // unless the whole memory fits in the stun budget anyway.
          for (const round of result.roundDetails) expect(round.dirtiedMib).toBeLessThanOrEqual(memoryMib);
          if (dirtyRatio >= 1) expect(result.converged).toBe(memoryMib / bandwidth <= 0.5);
          // Durations add up: the rounds, then the stun.
          const roundsSeconds = result.roundDetails.reduce((sum, r) => sum + r.durationSeconds, 0);
          expect(result.durationSeconds).toBeCloseTo(roundsSeconds + result.downtimeMs / 1000, 6);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('projectPrecopy', () => {
  it('predicts the rest of a migration from a round boundary', () => {
    // Same busy VM as above, after round 0: 1966.08 + 943.7184 + 452.984832 MiB still to send,
    // in 1.572864 + 0.75497472 + 0.3623878656 = 2.6902265856 s.
    const projection = projectPrecopy({ dirtyMib: 1966.08, memoryMib: 4096, dirtyRateMibPerSecond: 600, bandwidthMibPerSecond: 1250 });
    expect(projection?.copyMib).toBeCloseTo(3362.783232, 6);
    expect(projection?.seconds).toBeCloseTo(2.6902265856, 9);
  });

  it('has no answer for a migration that would not converge', () => {
    expect(projectPrecopy({ dirtyMib: 4096, memoryMib: 4096, dirtyRateMibPerSecond: 1500, bandwidthMibPerSecond: 1250 })).toBeNull();
  });
});

describe('gbpsToMibPerSecond', () => {
  it('converts decimal gigabits to binary mebibytes', () => {
    // 10 Gbit/s = 1.25e9 B/s = 1.25e9 / 1048576 MiB/s
    expect(gbpsToMibPerSecond(10)).toBeCloseTo(1192.0928955, 6);
  });
});
