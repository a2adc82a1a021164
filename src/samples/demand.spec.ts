import {
  ConfiguredSize,
  DemandSettings,
  demandFromSummary,
  estimateDemand,
  memoryDemandMib,
  sigmaOf,
  summarize,
  UsagePoint,
} from './demand';

const settings = (over: Partial<DemandSettings> = {}): DemandSettings => ({
  statistic: 'mean',
  windowSeconds: 300,
  swingWindowSeconds: 10_800,
  idleTax: 0.25,
  ewmaAlpha: 0.5,
  ...over,
});

const size = (over: Partial<ConfiguredSize> = {}): ConfiguredSize => ({
  vcpus: 4,
  memoryMib: 8192,
  hostMhzPerCore: 2500,
  cpuReservationMhz: 0,
  cpuLimitMhz: null,
  memoryReservationMib: 0,
  memoryLimitMib: null,
  ...over,
});

const point = (timestamp: number, cpuMhz: number, memoryActiveMib = 1000, memoryConsumedMib = 1000): UsagePoint => ({
  timestamp,
  cpuMhz,
  memoryActiveMib,
  memoryConsumedMib,
});

describe('demand statistics', () => {
  // Samples in time order: 100, 400, 200, 300, 1000.
  const values = [100, 400, 200, 300, 1000];

  it('mean: (100 + 400 + 200 + 300 + 1000) / 5 = 400', () => {
    expect(summarize(values, 'mean', 0.5)).toBe(400);
  });

  it('max: 1000', () => {
    expect(summarize(values, 'max', 0.5)).toBe(1000);
  });

  it('p80 by nearest rank: sorted 100 200 300 400 1000, rank ceil(0.8 × 5) = 4 → 400', () => {
    expect(summarize(values, 'p80', 0.5)).toBe(400);
  });

  it('p80 of ten values picks the 8th smallest', () => {
    expect(summarize([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 'p80', 0.5)).toBe(8);
  });

  it('ewma with α = 0.5: 100 → 250 → 225 → 262.5 → 631.25', () => {
    expect(summarize(values, 'ewma', 0.5)).toBeCloseTo(631.25, 10);
  });

  it('ewma weighs recent samples more than the mean does', () => {
    const rising = [100, 100, 100, 100, 900];
    expect(summarize(rising, 'ewma', 0.3)).toBeGreaterThan(summarize(rising, 'mean', 0.3));
  });

  it('a single sample is its own statistic, whichever is chosen', () => {
    for (const statistic of ['mean', 'max', 'p80', 'ewma'] as const) expect(summarize([42], statistic, 0.3)).toBe(42);
  });
});

describe('memory demand (idle tax)', () => {
  it('counts active memory plus 25 % of what is consumed but idle: 1024 + 0.25 × (4096 − 1024) = 1792', () => {
    expect(memoryDemandMib({ memoryActiveMib: 1024, memoryConsumedMib: 4096 }, 0.25)).toBe(1792);
  });

  it('with a tax of 1, counts everything consumed; with 0, only what is active', () => {
    expect(memoryDemandMib({ memoryActiveMib: 1024, memoryConsumedMib: 4096 }, 1)).toBe(4096);
    expect(memoryDemandMib({ memoryActiveMib: 1024, memoryConsumedMib: 4096 }, 0)).toBe(1024);
  });

  it('never counts negative idle memory when active exceeds consumed', () => {
    expect(memoryDemandMib({ memoryActiveMib: 2048, memoryConsumedMib: 1024 }, 0.25)).toBe(2048);
  });
});

describe('estimateDemand', () => {
  it('falls back to the configured size without samples: 4 vCPU × 2500 MHz, 8192 MiB', () => {
    const demand = estimateDemand([], size(), settings());
    expect(demand).toEqual({
      cpuMhz: 10_000,
      memoryMib: 8192,
      entitlement: { cpuMhz: 10_000, memoryMib: 8192 },
      source: 'configured',
      sampleCount: 0,
    });
  });

  it('averages CPU and taxed memory over the samples', () => {
    // memory per point: 1000 + 0.25 × (3000 − 1000) = 1500 and 2000 + 0.25 × (3000 − 2000) = 2250 → mean 1875
    const demand = estimateDemand([point(0, 1000, 1000, 3000), point(1, 3000, 2000, 3000)], size(), settings());
    expect(demand.cpuMhz).toBe(2000);
    expect(demand.memoryMib).toBe(1875);
    expect(demand.source).toBe('samples');
    expect(demand.sampleCount).toBe(2);
  });

  it('reports the spread of the CPU samples: 1000 and 3000 MHz stray 1000 from their mean', () => {
    const demand = estimateDemand([point(0, 1000), point(1, 3000)], size(), settings());
    expect(demand.cpuSigmaMhz).toBe(1000);
    expect(estimateDemand([point(0, 700)], size(), settings()).cpuSigmaMhz).toBe(0);
  });

  it('clamps the entitlement to the reservation and the limit, but reports the raw demand', () => {
    const low = estimateDemand([point(0, 100, 100, 100)], size({ cpuReservationMhz: 500, memoryReservationMib: 1024 }), settings());
    expect(low.cpuMhz).toBe(100);
    expect(low.entitlement).toEqual({ cpuMhz: 500, memoryMib: 1024 });

    const high = estimateDemand([point(0, 9000, 6000, 6000)], size({ cpuLimitMhz: 4000, memoryLimitMib: 4096 }), settings());
    expect(high.entitlement).toEqual({ cpuMhz: 4000, memoryMib: 4096 });
  });
});

describe('sigmaOf', () => {
  it('is the standard deviation from a mean and a mean square', () => {
    // 1000 and 3000: mean 2000, mean square (1e6 + 9e6) / 2 = 5e6, variance 1e6.
    expect(sigmaOf(2000, 5e6)).toBe(1000);
  });

  it('is 0, never NaN, when rounding leaves the variance a hair below 0', () => {
    expect(sigmaOf(3, 9 - 1e-12)).toBe(0);
  });
});

describe('demandFromSummary', () => {
  it('carries the CPU spread of a summary, and none without samples', () => {
    const summary = { cpuMhz: 2000, memoryMib: 1000, sampleCount: 12, cpuSigmaMhz: 250 };
    expect(demandFromSummary(summary, size()).cpuSigmaMhz).toBe(250);
    expect(demandFromSummary(undefined, size())).not.toHaveProperty('cpuSigmaMhz');
  });
});
