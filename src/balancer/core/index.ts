// The planner core's only entry for code outside core/: pure TypeScript, no framework, no I/O, no
// threads. Everything else in core/ is internal to it (purity.spec.ts checks both ways).
export * from './model';
export { balanceReport, balancingPriority, gapLimitFor, imbalanceTarget, populationStdDev } from './scoring';
export { planMoves, applyPlan } from './planner';
export { rankPlacement, NEW_VM_PLACEHOLDER_ID } from './placement';
export type { PlacementRequest, PlacementRanking, PlacementOption, PlacementExclusion } from './placement';
export {
  contentionReport,
  hostContention,
  cpuSplit,
  memoryShare,
  cpuDemandOf,
  memoryActiveOf,
  CONTENDED_ABOVE,
  DEFAULT_TOP_VMS,
} from './contention';
export type { ContentionCeilings, ContentionReport, HostContention, VmContention } from './contention';
export { CONSTRAINTS } from './constraints';
export type { Constraint } from './constraints';
export { seededRandom } from './random';
export { greedyBaseline } from './baselines/greedy-baseline';
export type { BaselineResult } from './baselines/greedy-baseline';

// Building blocks the planner benchmark (bench/planner) reuses for its baselines and its naive
// reference planner; the service does not need them.
export { PlanningState } from './planning-state';
export type { Move, StateOptions } from './planning-state';
export { allowed } from './constraints';
export { admissible, incrementalSearch, isBetter, perVm } from './balancing';
export type { BalancingCandidate, BalancingSearch, SearchContext } from './balancing';
export { DEFAULT_ENGINE, engineWithSearchShare, planWith } from './planner';
export type { PlannerEngine } from './planner';

// Seeded random clusters for tests and benchmarks outside core/.
