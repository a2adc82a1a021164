// The planner benchmark's policies, number format and timer, shared by its sections.
import { DEFAULT_PLANNER_POLICY, PlannerPolicy } from '../../src/balancer/core';

/** Balance as far as moves pay for themselves (threshold 5: never "balanced" before that). */
export const KEEP_GOING: PlannerPolicy = { ...DEFAULT_PLANNER_POLICY, migrationThreshold: 5, maxMovesPerPass: 1000, maxMovesPerHost: 1000 };
export const SPEED: PlannerPolicy = { ...KEEP_GOING, maxMovesPerPass: 200, maxMovesPerHost: 200 };

export const fmt = (x: number, d = 4) => x.toFixed(d);

export function time<T>(f: () => T): { value: T; ms: number } {
  const t = process.hrtime.bigint();
  const value = f();
  return { value, ms: Number(process.hrtime.bigint() - t) / 1e6 };
}
