// The simple greedy baseline lives in the planner core (the trace replay runs it too); the bench imports it from here.
export { greedyBaseline } from '../../src/balancer/core';
export type { BaselineResult } from '../../src/balancer/core';
