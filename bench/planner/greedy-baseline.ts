// The simple greedy baseline lives in src/ (the trace replay runs it too); the bench imports it from here.
export * from '../../src/balancer/baselines/greedy-baseline';
