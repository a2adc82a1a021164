// The CPU a host may need next interval, for contention relief and the CPU ceiling only (balance is
// scored on the mean). A VM's demand over the window has a mean (its cpuMhz), and its samples over the
// swing window a standard deviation σ (VmSnapshot.cpuSigmaMhz, the VM's swing); taking the VMs as
// independent, the host's load next interval has mean Σ cpuMhz and variance Σ σ², and its 90th
// percentile is about Σ cpuMhz + z·sqrt(Σ σ²) with z = 1.2816.
// A host whose mean fits but whose VMs swing together far enough to cross the ceiling one interval
// in ten counts as contended, and no move may fill a host that far.
import { PlanningState } from './planning-state';

/** z of the normal distribution's 90th percentile. */
export const FORECAST_Z = 1.2816;

/** Σ σ² of some VMs (MHz²). */
export function cpuVarianceOf(state: PlanningState, vms: readonly number[]): number {
  let variance = 0;
  for (const v of vms) variance += state.vmCpuVar[v];
  return variance;
}

/**
 * Host h's forecast CPU peak as a fraction of its capacity, after `cpu` MHz with variance `variance`
 * arrive (negative values: leave).
 */
export function cpuPeak(state: PlanningState, h: number, cpu = 0, variance = 0): number {
  const spread = state.hostCpuVar[h] + variance;
  return (state.loadCpu[h] + cpu + (spread > 0 ? FORECAST_Z * Math.sqrt(spread) : 0)) / state.capCpu[h];
}

/**
 * How much each host's mean CPU load (as a fraction of its capacity) moves by the next pass from
 * sampling alone: when the demand window slides by one sample, a VM's mean over k samples changes by
 * (new − old)/k, whose standard deviation is √2·σ/k; over the host's VMs, √(Σ 2σ²/k²). A gain smaller
 * than what this changes is one the next sample may erase. Null when no VM has a spread. O(VMs).
 */
export function forecastNoise(state: PlanningState): Float64Array | null {
  let any = false;
  const variance = new Float64Array(state.hostCount);
  for (let v = 0; v < state.vmCount; v++) {
    const h = state.vmHost[v];
    if (h < 0 || state.vmCpuVar[v] <= 0) continue;
    const k = state.vms[v].cpuSampleCount ?? 0;
    if (k <= 1) continue;
    variance[h] += (2 * state.vmCpuVar[v]) / (k * k);
    any = true;
  }
  if (!any) return null;
  for (let h = 0; h < state.hostCount; h++) variance[h] = Math.sqrt(variance[h]) / state.capCpu[h];
  return variance;
}
