// No worker thread can start here (as where threads are not allowed): every plan is made in-thread.
import { loadSettings } from '../config/settings';
import { BalancerSettings } from './balancer.settings';
import { randomCluster } from '../../test/builders/random-cluster';
import { DEFAULT_PLANNER_POLICY, planMoves } from './core';
import { PlanRunner } from './plan-runner';

jest.mock('node:worker_threads', () => ({
  ...jest.requireActual('node:worker_threads'),
  Worker: jest.fn(() => {
    throw new Error('ERR_WORKER_INIT_FAILED');
  }),
}));

describe('PlanRunner without worker threads', () => {
  it('plans in-thread, evacuations and what-ifs alike', async () => {
    const runner = new PlanRunner(loadSettings([BalancerSettings], {})[0]);
    try {
      const snapshot = randomCluster({ seed: 9, hosts: 16, vms: 200 });
      const expected = planMoves(snapshot, DEFAULT_PLANNER_POLICY);
      expect(await runner.plan(snapshot, DEFAULT_PLANNER_POLICY, { priority: 'evacuation' })).toEqual(expected);
      expect(await runner.plan(snapshot, DEFAULT_PLANNER_POLICY, { priority: 'what-if' })).toEqual(expected);
      expect(jest.requireMock<{ Worker: jest.Mock }>('node:worker_threads').Worker).toHaveBeenCalled();
    } finally {
      await runner.onApplicationShutdown();
    }
  });
});
