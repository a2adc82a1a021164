import { DomainError, ErrorCode } from '../common/domain-error';
import { loadSettings } from '../config/settings';
import { BalancerSettings } from './balancer.settings';
import { randomCluster } from '../../test/builders/random-cluster';
import { DEFAULT_PLANNER_POLICY, engineWithSearchShare, PlannerPolicy, planMoves, planWith } from './core';
import { type PlanPriority, PlanQueue } from './plan-queue';
import { MIN_SEARCH_SHARE, PlanRunner, searchShareFor } from './plan-runner';

function runnerWith(env: Record<string, unknown> = {}): PlanRunner {
  return new PlanRunner(loadSettings([BalancerSettings], env)[0]);
}

/** A promise with its resolve at hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves with the outcome instead of throwing, so that a rejection is never left unhandled while a test waits. */
const settled = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

/** Takes seconds to plan (4.5 s in-thread here): every VM may move and every gain counts. */
const HEAVY: PlannerPolicy = {
  ...DEFAULT_PLANNER_POLICY,
  migrationThreshold: 5,
  maxMovesPerPass: 10_000,
  maxMovesPerHost: 10_000,
  costWeight: 0,
  minGain: 0,
};
const heavyCluster = () => randomCluster({ seed: 7, hosts: 300, vms: 15_000 });

describe('PlanRunner', () => {
  const runner = runnerWith();
  afterAll(() => runner.onApplicationShutdown());

  it('plans in its worker thread exactly what planMoves plans in-thread', async () => {
    for (const seed of [1, 2]) {
      const snapshot = randomCluster({ seed, hosts: 30, vms: 300 });
      const policy = { ...DEFAULT_PLANNER_POLICY, migrationThreshold: 5 };
      const [inWorker, again] = await Promise.all([
        runner.plan(snapshot, policy, { priority: 'pass' }),
        runner.plan(snapshot, policy, { priority: 'what-if' }),
      ]);
      const inThread = planMoves(snapshot, policy);
      // toEqual: the worker's objects come from another realm than jest's; numbers compare as Object.is.
      expect(inWorker).toEqual(inThread);
      expect(again).toEqual(inThread);
    }
    expect((runner as unknown as { online: boolean }).online).toBe(true);
  }, 60_000);

  it('plans in-thread once shut down', async () => {
    const snapshot = randomCluster({ seed: 4, hosts: 30, vms: 300 });
    const stopped = runnerWith();
    await stopped.onApplicationShutdown();
    expect(await stopped.plan(snapshot, DEFAULT_PLANNER_POLICY, { priority: 'pass' })).toEqual(planMoves(snapshot, DEFAULT_PLANNER_POLICY));
  });

  it('plans an evacuation while a what-if is still planning, and stops the what-if when its client goes away', async () => {
    const small = randomCluster({ seed: 5, hosts: 16, vms: 200, enteringMaintenance: 1 });
    const client = new AbortController();
    const whatIf = settled(runner.plan(heavyCluster(), HEAVY, { priority: 'what-if', signal: client.signal }));
    let whatIfDone = false;
    void whatIf.then(() => (whatIfDone = true));

    const evacuation = await runner.plan(small, DEFAULT_PLANNER_POLICY, { priority: 'evacuation' });
    expect(evacuation).toEqual(planMoves(small, DEFAULT_PLANNER_POLICY));
    expect(evacuation.moves.some((m) => m.reason === 'maintenance')).toBe(true);
    expect(whatIfDone).toBe(false);

    client.abort();
    const outcome = await whatIf;
    expect(outcome).toEqual({ error: expect.any(DomainError) });
    expect((outcome as { error: DomainError }).error.message).toMatch(/client went away/);
    // The what-if thread was replaced: the next what-if is planned, and right.
    expect(await runner.plan(small, HEAVY, { priority: 'what-if' })).toEqual(planMoves(small, HEAVY));
  }, 120_000);

  it('starts no what-if while a pass is in progress', async () => {
    const snapshot = randomCluster({ seed: 8, hosts: 16, vms: 200 });
    const events: string[] = [];
    const pass = gate();
    const passDone = runner.holdingWhatIfs(async () => {
      events.push('pass started');
      await pass.promise;
      events.push('pass done');
    });
    const whatIf = runner.run(
      () => {
        events.push('what-if read the cluster');
        return { snapshot, policy: DEFAULT_PLANNER_POLICY };
      },
      { priority: 'what-if' },
    );
    // Whatever the event loop does meanwhile, the what-if waits.
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['pass started']);
    pass.open();
    await passDone;
    expect(await whatIf).toEqual(planMoves(snapshot, DEFAULT_PLANNER_POLICY));
    expect(events).toEqual(['pass started', 'pass done', 'what-if read the cluster']);
  }, 60_000);

  it('reads the cluster of a pass only when its turn comes, after the evacuation queued before it', async () => {
    const small = randomCluster({ seed: 5, hosts: 16, vms: 200, enteringMaintenance: 1 });
    const events: string[] = [];
    const evacuationRead = gate();
    const evacuation = runner.run(
      async () => {
        events.push('evacuation read the cluster');
        await evacuationRead.promise;
        return { snapshot: small, policy: DEFAULT_PLANNER_POLICY };
      },
      { priority: 'evacuation' },
    );
    const pass = runner.run(
      () => {
        events.push('pass read the cluster');
        return { snapshot: small, policy: DEFAULT_PLANNER_POLICY };
      },
      { priority: 'pass' },
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['evacuation read the cluster']);
    evacuationRead.open();
    // The pass waits in the queue before it reads anything, so the evacuation's search is cut for it.
    const { searchCut, ...evacuated } = await evacuation;
    expect(searchCut).toEqual({ share: 1 / 2, waiting: 1 });
    expect(evacuated.moves.some((m) => m.reason === 'maintenance')).toBe(true);
    expect(await pass).toEqual(planMoves(small, DEFAULT_PLANNER_POLICY));
    expect(events).toEqual(['evacuation read the cluster', 'pass read the cluster']);
  }, 60_000);

  it('cuts the search of a pass that others wait behind, to 1 / (1 + waiting) of it, and says so in the plan', async () => {
    // Ten hosts, a hundred VMs, most of them on a few hosts: the small-cluster search is most of the plan.
    const snapshot = randomCluster({ seed: 11, hosts: 10, vms: 100, skew: 3 });
    const passes = [0, 1, 2, 3].map(() => runner.plan(snapshot, DEFAULT_PLANNER_POLICY, { priority: 'pass' }));
    const plans = await Promise.all(passes);
    // Asked at once: the first plans with the three others waiting, the last alone.
    expect(plans.map((p) => p.searchCut)).toEqual([
      { share: 1 / 4, waiting: 3 },
      { share: 1 / 3, waiting: 2 },
      { share: 1 / 2, waiting: 1 },
      undefined,
    ]);
    const full = planMoves(snapshot, DEFAULT_PLANNER_POLICY);
    expect(full.moves.length).toBeGreaterThan(0);
    expect(plans[3]).toEqual(full);
    for (const [i, share] of [1 / 4, 1 / 3, 1 / 2].entries()) {
      // The plan the planner makes with that share of its search, and a balancing one.
      const { searchCut, ...plan } = plans[i];
      expect(searchCut).toBeDefined();
      expect(plan).toEqual(planWith(snapshot, DEFAULT_PLANNER_POLICY, engineWithSearchShare(share)));
      expect(plan.after.imbalance).toBeLessThan(plan.before.imbalance);
    }
  }, 60_000);

  it('stops a what-if over its time budget with a 503, and plans the next one', async () => {
    // The budget sits far from both plans (the machine may be busy, and a what-if's thread is niced):
    // the light plan takes about 0.1 s, the huge one tens of seconds.
    const budgeted = runnerWith({ PLAN_WHATIF_TIMEOUT_SECONDS: '5' });
    try {
      const huge = randomCluster({ seed: 7, hosts: 1_000, vms: 50_000 });
      const over = await settled(budgeted.plan(huge, HEAVY, { priority: 'what-if' }));
      expect(over).toEqual({ error: expect.any(DomainError) });
      const error = (over as { error: DomainError }).error;
      expect(error.code).toBe(ErrorCode.Unavailable);
      expect(error.message).toMatch(/longer than its 5 s budget/);

      const light = randomCluster({ seed: 6, hosts: 16, vms: 200 });
      expect(await budgeted.plan(light, DEFAULT_PLANNER_POLICY, { priority: 'what-if' })).toEqual(planMoves(light, DEFAULT_PLANNER_POLICY));
    } finally {
      await budgeted.onApplicationShutdown();
    }
  }, 120_000);
});

describe('searchShareFor', () => {
  it('gives a pass its whole search alone, 1 / (1 + waiting) behind others, and never less than a twentieth', () => {
    expect(searchShareFor(0)).toBe(1);
    expect(searchShareFor(1)).toBe(0.5);
    expect(searchShareFor(4)).toBe(0.2);
    expect(searchShareFor(19)).toBe(0.05);
    expect(searchShareFor(500)).toBe(0.05);
    expect(MIN_SEARCH_SHARE).toBe(0.05);
  });

  it('refuses a share outside (0, 1] for the engine', () => {
    expect(() => engineWithSearchShare(0)).toThrow(RangeError);
    expect(() => engineWithSearchShare(1.5)).toThrow(RangeError);
    expect(engineWithSearchShare(0.25).smallSearchBudget).toBe(500_000);
  });
});

describe('PlanQueue', () => {
  /** Submits a job that records when it starts and finishes when `release` opens. */
  function recorder(queue: PlanQueue) {
    const started: string[] = [];
    const submit = (name: string, priority: PlanPriority, release: Promise<void> = Promise.resolve(), signal?: AbortSignal) =>
      settled(
        queue.submit(
          priority,
          async () => {
            started.push(name);
            await release;
            return name;
          },
          signal,
        ),
      );
    return { started, submit };
  }

  it('runs one job at a time: evacuations first, then passes, then what-ifs, each in arrival order', async () => {
    const queue = new PlanQueue();
    const { started, submit } = recorder(queue);
    const running = gate();
    const jobs = [
      submit('running what-if', 'what-if', running.promise),
      submit('what-if 1', 'what-if'),
      submit('pass 1', 'pass'),
      submit('evacuation 1', 'evacuation'),
      submit('what-if 2', 'what-if'),
      submit('pass 2', 'pass'),
      submit('evacuation 2', 'evacuation'),
    ];
    // The first was taken at once; the others wait for it.
    expect(queue.size).toBe(6);
    running.open();
    await Promise.all(jobs);
    expect(started).toEqual(['running what-if', 'evacuation 1', 'evacuation 2', 'pass 1', 'pass 2', 'what-if 1', 'what-if 2']);
  });

  it('refuses a job at once with a 503 when its bound of waiting jobs is reached, and runs the others', async () => {
    const queue = new PlanQueue(2);
    const { started, submit } = recorder(queue);
    const running = gate();
    const first = submit('running', 'what-if', running.promise);
    const waiting = [submit('waiting 1', 'what-if'), submit('waiting 2', 'what-if')];
    const refused = await submit('one too many', 'what-if');
    expect(refused).toEqual({ error: expect.any(DomainError) });
    expect((refused as { error: DomainError }).error.code).toBe(ErrorCode.Unavailable);
    expect((refused as { error: DomainError }).error.message).toMatch(/busy: 2 plans are already waiting/);
    expect(queue.size).toBe(2);

    running.open();
    expect(await Promise.all([first, ...waiting])).toEqual([{ value: 'running' }, { value: 'waiting 1' }, { value: 'waiting 2' }]);
    expect(started).toEqual(['running', 'waiting 1', 'waiting 2']);
    // Room again once they ran.
    expect(await submit('later', 'what-if')).toEqual({ value: 'later' });
  });

  it('drops a waiting job whose client went away without running it, and frees its place', async () => {
    const queue = new PlanQueue(1);
    const { started, submit } = recorder(queue);
    const running = gate();
    const first = submit('running', 'what-if', running.promise);
    const client = new AbortController();
    const abandoned = submit('abandoned', 'what-if', Promise.resolve(), client.signal);
    expect(queue.size).toBe(1);
    client.abort();
    const outcome = await abandoned;
    expect((outcome as { error: DomainError }).error.message).toMatch(/client went away/);
    expect(queue.size).toBe(0);
    const next = submit('next', 'what-if');

    const gone = new AbortController();
    gone.abort();
    expect(await submit('gone before asking', 'what-if', Promise.resolve(), gone.signal)).toEqual({ error: expect.any(DomainError) });

    running.open();
    expect(await Promise.all([first, next])).toEqual([{ value: 'running' }, { value: 'next' }]);
    expect(started).toEqual(['running', 'next']);
  });
});
