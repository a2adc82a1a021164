// Demand estimation, pure: what a VM needs now, per resource, from its recent samples (DESIGN.md, Load model).

export const DEMAND_STATISTICS = ['mean', 'p80', 'max', 'ewma'] as const;
export type DemandStatistic = (typeof DEMAND_STATISTICS)[number];
export const DEFAULT_DEMAND_STATISTIC: DemandStatistic = 'mean';
export const DEFAULT_DEMAND_WINDOW_SECONDS = 300;
/**
 * How far back a VM's swing (the standard deviation of its CPU samples) is measured: 3 hours. The
 * swing is a property of the VM more than of the hour; over 12 samples (an hour of 5-minute samples)
 * its estimate is off by 20 % or more, enough to make a different VM look the noisiest each hour.
 */
export const DEFAULT_SWING_WINDOW_SECONDS = 10_800;

export interface UsagePoint {
  timestamp: number;
  cpuMhz: number;
  memoryActiveMib: number;
  memoryConsumedMib: number;
}

export interface DemandSettings {
  statistic: DemandStatistic;
  windowSeconds: number;
  /** The swing (cpuSigmaMhz) is measured over this many seconds, or over the window when that is longer. */
  swingWindowSeconds: number;
  /** Share of consumed-but-idle memory that counts as demand (0.25 in DRS). */
  idleTax: number;
  /** Smoothing factor of `ewma`: the newest sample's weight. */
  ewmaAlpha: number;
}

export interface ConfiguredSize {
  vcpus: number;
  memoryMib: number;
  /** MHz of one core of the VM's host: a VM without samples is assumed to use all its vCPUs. */
  hostMhzPerCore: number;
  cpuReservationMhz: number;
  cpuLimitMhz: number | null;
  memoryReservationMib: number;
  memoryLimitMib: number | null;
}

export interface Demand {
  cpuMhz: number;
  memoryMib: number;
  /** Demand clamped to [reservation, limit]: what the load model counts. */
  entitlement: { cpuMhz: number; memoryMib: number };
  source: 'samples' | 'configured';
  sampleCount: number;
  /**
   * The VM's swing: population standard deviation of its CPU samples (MHz) over the swing window (at
   * least the window), whatever the statistic: how far its CPU demand strays from its mean from one
   * sample to the next. Absent without samples in the window.
   */
  cpuSigmaMhz?: number;
}

/** Seconds over which the swing is measured: the swing window, or the window when that is longer. */
export function swingSeconds(settings: Pick<DemandSettings, 'windowSeconds' | 'swingWindowSeconds'>): number {
  return Math.max(settings.windowSeconds, settings.swingWindowSeconds);
}

/** Memory a VM needs: what it touches, plus a share of what it holds but leaves idle. */
export function memoryDemandMib(point: Pick<UsagePoint, 'memoryActiveMib' | 'memoryConsumedMib'>, idleTax: number): number {
  const idle = Math.max(0, point.memoryConsumedMib - point.memoryActiveMib);
  return point.memoryActiveMib + idleTax * idle;
}

/** Values in time order; `values` must not be empty. */
export function summarize(values: number[], statistic: DemandStatistic, ewmaAlpha: number): number {
  switch (statistic) {
    case 'mean':
      return values.reduce((sum, v) => sum + v, 0) / values.length;
    case 'max':
      return values.reduce((max, v) => (v > max ? v : max), -Infinity);
    case 'p80': {
      // Nearest rank: the smallest value with at least 80 % of the samples at or below it.
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.ceil(0.8 * sorted.length) - 1];
    }
    case 'ewma': {
      let smoothed = values[0];
      for (let i = 1; i < values.length; i++) smoothed = ewmaAlpha * values[i] + (1 - ewmaAlpha) * smoothed;
      return smoothed;
    }
  }
}

function clamp(value: number, low: number, high: number | null): number {
  const capped = high === null ? value : Math.min(value, high);
  return Math.max(capped, low);
}

/** Population standard deviation; `values` must not be empty. */
export function standardDeviation(values: number[]): number {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const variance = values.reduce((sum, v) => sum + (v - mean) * (v - mean), 0) / values.length;
  return Math.sqrt(variance);
}

/**
 * Standard deviation from a mean and a mean square, E[x²] − E[x]², floored at 0 (the subtraction of
 * two close sums can come out a hair below 0 for a VM whose samples are all alike).
 */
export function sigmaOf(mean: number, meanSquare: number): number {
  const variance = meanSquare - mean * mean;
  return variance > 0 ? Math.sqrt(variance) : 0;
}

/**
 * Points must be in time order and inside the window already; `swingSigmaMhz` is the σ of the CPU
 * samples of the swing window (the window's points' when not given).
 */
export function estimateDemand(points: UsagePoint[], size: ConfiguredSize, settings: DemandSettings, swingSigmaMhz?: number): Demand {
  if (points.length === 0) return demandFromSummary(undefined, size);
  return demandFromSummary(
    {
      cpuMhz: summarize(
        points.map((p) => p.cpuMhz),
        settings.statistic,
        settings.ewmaAlpha,
      ),
      memoryMib: summarize(
        points.map((p) => memoryDemandMib(p, settings.idleTax)),
        settings.statistic,
        settings.ewmaAlpha,
      ),
      sampleCount: points.length,
      cpuSigmaMhz: swingSigmaMhz ?? standardDeviation(points.map((p) => p.cpuMhz)),
    },
    size,
  );
}

/** The window's samples of one VM already summarized (by the database, say); undefined when it has none. */
export interface DemandSummary {
  cpuMhz: number;
  memoryMib: number;
  sampleCount: number;
  /** Population standard deviation of the CPU samples (MHz) over the swing window. */
  cpuSigmaMhz?: number;
}

/** Statistics the database can compute from the window without handing over every sample. */
export const SQL_SUMMARIZED_STATISTICS: ReadonlySet<DemandStatistic> = new Set(['mean', 'max']);

/** A VM's demand from its summarized samples, or its configured size without any; clamped to [reservation, limit]. */
export function demandFromSummary(summary: DemandSummary | undefined, size: ConfiguredSize): Demand {
  const cpuMhz = summary ? summary.cpuMhz : size.vcpus * size.hostMhzPerCore;
  const memoryMib = summary ? summary.memoryMib : size.memoryMib;
  const demand: Demand = {
    cpuMhz,
    memoryMib,
    entitlement: {
      cpuMhz: clamp(cpuMhz, size.cpuReservationMhz, size.cpuLimitMhz),
      memoryMib: clamp(memoryMib, size.memoryReservationMib, size.memoryLimitMib),
    },
    source: summary ? 'samples' : 'configured',
    sampleCount: summary ? summary.sampleCount : 0,
  };
  if (summary?.cpuSigmaMhz !== undefined) demand.cpuSigmaMhz = summary.cpuSigmaMhz;
  return demand;
}
