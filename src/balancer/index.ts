// Public surface of the balancer: pure TypeScript, no framework imports.
export * from './model';
export { balanceReport, balancingPriority, gapLimitFor, imbalanceTarget, populationStdDev } from './scoring';
export { planMoves, applyPlan } from './planner';
export { rankPlacement, NEW_VM_PLACEHOLDER_ID } from './placement';
export type { PlacementRequest, PlacementRanking, PlacementOption, PlacementExclusion } from './placement';
export { CONSTRAINTS } from './constraints';
export type { Constraint } from './constraints';
