import { DEFAULT_PLANNER_POLICY } from './model';
import { PlanRunner } from './plan-runner';
import { planMoves } from './planner';
import { randomCluster } from './testing/random-cluster';

describe('PlanRunner', () => {
  const runner = new PlanRunner();
  afterAll(() => runner.onApplicationShutdown());

  it('plans in its worker thread exactly what planMoves plans in-thread', async () => {
    for (const seed of [1, 2]) {
      const snapshot = randomCluster({ seed, hosts: 30, vms: 300 });
      const policy = { ...DEFAULT_PLANNER_POLICY, migrationThreshold: 5 };
      const [inWorker, again] = await Promise.all([runner.plan(snapshot, policy), runner.plan(snapshot, policy)]);
      const inThread = planMoves(snapshot, policy);
      // toEqual: the worker's objects come from another realm than jest's; numbers compare as Object.is.
      expect(inWorker).toEqual(inThread);
      expect(again).toEqual(inThread);
    }
    expect((runner as unknown as { online: boolean }).online).toBe(true);
  }, 60_000);

  it('plans in-thread once shut down', async () => {
    const snapshot = randomCluster({ seed: 4, hosts: 30, vms: 300 });
    const stopped = new PlanRunner();
    await stopped.onApplicationShutdown();
    expect(await stopped.plan(snapshot, DEFAULT_PLANNER_POLICY)).toEqual(planMoves(snapshot, DEFAULT_PLANNER_POLICY));
  });
});
