// The policy fields that shape a plan, their defaults, and how what-if overrides merge into them.
import { DomainError, ErrorCode } from '../common/domain-error';
import { DEFAULT_DEMAND_STATISTIC, DEFAULT_DEMAND_WINDOW_SECONDS, DEFAULT_SWING_WINDOW_SECONDS, DemandStatistic } from '../samples/demand';
import { DEFAULT_PLANNER_POLICY, PlannerPolicy } from '../balancer/core';

export const BASES = ['demand', 'configured'] as const;
export type Basis = (typeof BASES)[number];

/** Everything that shapes a balancing decision: the planner's policy and how load is measured. */
export interface BalancingPolicy extends PlannerPolicy {
  cpuBasis: Basis;
  memoryBasis: Basis;
  demandStatistic: DemandStatistic;
  demandWindowSeconds: number;
  /** Seconds over which each VM's swing (the σ of its CPU samples) is measured, at least the demand window. */
  swingWindowSeconds: number;
}

export const DEFAULT_BALANCING_POLICY: Readonly<BalancingPolicy> = Object.freeze({
  ...DEFAULT_PLANNER_POLICY,
  cpuBasis: 'demand',
  memoryBasis: 'demand',
  demandStatistic: DEFAULT_DEMAND_STATISTIC,
  demandWindowSeconds: DEFAULT_DEMAND_WINDOW_SECONDS,
  swingWindowSeconds: DEFAULT_SWING_WINDOW_SECONDS,
});

/** Merges overrides into a policy; the weights must still add up to 1. */
export function withOverrides<P extends BalancingPolicy>(base: P, overrides: Partial<BalancingPolicy> = {}): P {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const merged: P = { ...base, ...defined };
  if (overrides.cpuWeight !== undefined && overrides.memoryWeight === undefined) merged.memoryWeight = 1 - overrides.cpuWeight;
  if (overrides.memoryWeight !== undefined && overrides.cpuWeight === undefined) merged.cpuWeight = 1 - overrides.memoryWeight;
  if (Math.abs(merged.cpuWeight + merged.memoryWeight - 1) > 1e-9) {
    throw new DomainError(ErrorCode.Invalid, 'cpuWeight and memoryWeight must add up to 1', [
      { field: 'memoryWeight', message: `cpuWeight ${merged.cpuWeight} + memoryWeight ${merged.memoryWeight} must add up to 1` },
    ]);
  }
  return merged;
}
