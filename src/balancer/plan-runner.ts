import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DomainError, ErrorCode } from '../common/domain-error';
import { BalancerSettings } from './balancer.settings';
import { ClusterSnapshot, engineWithSearchShare, Plan, PlannerPolicy, planWith } from './core';
import { cancelled, type PlanPriority, PlanQueue } from './plan-queue';

export interface PlanRequest {
  priority: PlanPriority;
  /** Aborted when nobody waits for the answer any more (the HTTP client went away). */
  signal?: AbortSignal;
}

export interface PlanInput {
  snapshot: ClusterSnapshot;
  policy: PlannerPolicy;
  /** The share of the planner's search budgets the plan gets (searchShareFor); 1 when absent. */
  searchShare?: number;
}

/** The least share of its search budgets a pass gets, however many plans wait behind it. */
export const MIN_SEARCH_SHARE = 1 / 20;

/**
 * The share of the planner's search budgets (the small-cluster search, the compaction's local search) a pass or an
 * evacuation gets with `waiting` plans queued behind it: all of it alone, 1 / (1 + waiting) otherwise, never less
 * than MIN_SEARCH_SHARE. On a replica with more clusters than its CPU can search in full every interval, passes then
 * stay on schedule with plans that may make a move or two more, instead of falling further behind with every round:
 * the search is most of a small cluster's plan (about 0.5 s of CPU for 10 hosts / 100 VMs, the greedy a tenth of it).
 */
export function searchShareFor(waiting: number): number {
  return Math.max(MIN_SEARCH_SHARE, 1 / (1 + Math.max(0, waiting)));
}

/** planMoves with the input's share of the search budgets. */
const planInput = (input: PlanInput): Plan => planWith(input.snapshot, input.policy, engineWithSearchShare(input.searchShare ?? 1));

export interface PlanLimits {
  /** How long a what-if may plan before its worker is stopped. */
  whatIfBudgetMs: number;
  /** How long a pass's or an evacuation's plan may take. */
  passBudgetMs: number;
  /** What-ifs that may wait; more are refused at once. */
  whatIfQueueMax: number;
}

export function planLimits(settings: BalancerSettings): PlanLimits {
  return {
    whatIfBudgetMs: settings.PLAN_WHATIF_TIMEOUT_SECONDS * 1000,
    passBudgetMs: settings.PLAN_PASS_TIMEOUT_SECONDS * 1000,
    whatIfQueueMax: settings.PLAN_WHATIF_QUEUE_MAX,
  };
}

/** Nice value of the what-if thread: a CPU share of about a tenth next to the event loop and the pass thread. */
const WHAT_IF_NICENESS = 10;

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;

const stopping = () => new DomainError(ErrorCode.Unavailable, 'The service is stopping; try again once it is back');

type Reply =
  | { ready: true; id?: undefined }
  | { ready?: undefined; id: number; plan: Plan; error?: undefined }
  | { ready?: undefined; id: number; error: { name: string; message: string; stack?: string } };

type Outcome =
  { kind: 'planned'; plan: Plan } | { kind: 'failed'; error: Error } | { kind: 'lost' } | { kind: 'over-budget' } | { kind: 'cancelled' };

/** The worker's entry, compiled (dist/) or as TypeScript (ts-node, jest), which the worker then compiles itself. */
function workerSource(): { file: string; eval: boolean } {
  const file = join(__dirname, `plan-worker${extname(__filename)}`);
  if (extname(file) !== '.ts') return { file, eval: false };
  const bootstrap = `if (!require.extensions['.ts']) require('ts-node').register({ transpileOnly: true });\nrequire(${JSON.stringify(file)});`;
  return { file: bootstrap, eval: true };
}

/** What the two workers share: whether workers can run here at all, and whether the service is stopping. */
interface WorkerHost {
  readonly stopped: boolean;
  readonly unavailable: boolean;
  /** A worker said it was ready. */
  cameOnline(): void;
  /** A worker failed before it was ready. */
  failedToStart(err: unknown): void;
}

/**
 * One planner thread. A plan that runs past its budget, or whose client went away, is stopped by
 * terminating the thread (the planner has no deadline of its own to check, and a synchronous loop
 * cannot be interrupted otherwise); a fresh thread is started at once for the next plan.
 */
class PlanWorker {
  private worker: Worker | undefined;
  private ready: Promise<Worker | undefined> | undefined;
  /** Threads stopped on purpose: their exit is no failure. */
  private readonly terminated = new WeakSet<Worker>();
  private nextId = 1;

  constructor(
    private readonly host: WorkerHost,
    private readonly logger: Logger,
    readonly budgetMs: number,
    /** Added to the thread's nice value (Linux): what-ifs yield the CPU to the event loop and to passes. */
    private readonly niceness = 0,
  ) {}

  /** The worker once it can plan, or undefined when plans must run in-thread. */
  start(): Promise<Worker | undefined> {
    if (this.ready) return this.ready;
    if (this.host.unavailable || this.host.stopped) return Promise.resolve(undefined);
    const source = workerSource();
    let worker: Worker;
    try {
      worker = new Worker(source.file, { eval: source.eval, workerData: { niceness: this.niceness } });
    } catch (err) {
      this.host.failedToStart(err);
      return Promise.resolve(undefined);
    }
    // Held open while it loads, for whoever waits on it; idle once ready.
    worker.ref();
    this.worker = worker;
    worker.on('error', (err) => {
      if (this.worker === worker && !this.host.stopped) this.logger.warn({ err }, 'a planner worker failed');
    });
    worker.on('exit', () => this.forget(worker));
    this.ready = new Promise((resolve) => {
      const onMessage = (reply: Reply) => {
        if (!reply.ready) return;
        worker.off('exit', onExit);
        worker.off('message', onMessage);
        worker.unref();
        this.host.cameOnline();
        resolve(worker);
      };
      const onExit = () => {
        worker.off('message', onMessage);
        if (!this.terminated.has(worker)) this.host.failedToStart(undefined);
        resolve(undefined);
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });
    return this.ready;
  }

  /** Stops the thread (and whatever it plans); the next plan gets a fresh one, started now. */
  replace(worker: Worker): void {
    this.forget(worker);
    this.terminated.add(worker);
    void worker.terminate();
    if (!this.host.stopped) void this.start();
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (!worker) return;
    this.terminated.add(worker);
    await worker.terminate();
  }

  plan(worker: Worker, input: PlanInput, signal?: AbortSignal): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const id = this.nextId++;
      const finish = (outcome: Outcome) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
        worker.unref();
        resolve(outcome);
      };
      const onMessage = (reply: Reply) => {
        if (reply.id !== id) return;
        if (reply.error) finish({ kind: 'failed', error: Object.assign(new Error(reply.error.message), reply.error) });
        else finish({ kind: 'planned', plan: reply.plan });
      };
      const onExit = () => finish({ kind: 'lost' });
      const onAbort = () => {
        finish({ kind: 'cancelled' });
        this.replace(worker);
      };
      const timer = setTimeout(() => {
        finish({ kind: 'over-budget' });
        this.replace(worker);
      }, this.budgetMs);
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.ref();
      try {
        worker.postMessage({ id, snapshot: input.snapshot, policy: input.policy, searchShare: input.searchShare });
      } catch (err) {
        finish({ kind: 'failed', error: err as Error });
      }
    });
  }

  private forget(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.ready = undefined;
  }
}

/** A queue and the thread it plans on. */
interface Lane {
  queue: PlanQueue;
  worker: PlanWorker;
  overBudget: () => DomainError;
}

/**
 * Runs the planner in worker threads, so that planning a large cluster never stalls the event loop
 * that answers every other request, and so that what-ifs never hold up an evacuation: evacuations
 * and passes have a queue and a thread of their own; what-ifs wait in a bounded queue for theirs.
 * A thread costs a few MB and sits idle otherwise; the alternative, stopping a running what-if for
 * each evacuation, would throw its work away and pay a thread start on the evacuation's path.
 *
 * Each plan has a time budget; one over it is stopped and fails with a 503. A what-if's input
 * (reading the cluster) is only built when its turn comes, so a full queue costs the event loop
 * and the database nothing. The result is the one planMoves gives in-thread (the same code on a
 * structured clone of the same input). Should a worker not start, plans run in-thread instead
 * (then no budget can be enforced: synchronous code cannot be interrupted).
 */
@Injectable()
export class PlanRunner implements OnApplicationShutdown, WorkerHost {
  private readonly logger = new Logger('PlanRunner');
  private readonly system: Lane;
  private readonly whatIf: Lane;
  /** A worker answered once: a later failure to start is not taken for "workers cannot run here". */
  private online = false;
  /** Passes, evacuations and their plans in progress: no what-if starts meanwhile. */
  private urgent = 0;
  private readonly afterUrgent: (() => void)[] = [];
  unavailable = false;
  stopped = false;

  constructor(settings: BalancerSettings) {
    const limits = planLimits(settings);
    this.system = {
      queue: new PlanQueue(),
      worker: new PlanWorker(this, this.logger, limits.passBudgetMs),
      overBudget: () =>
        new DomainError(
          ErrorCode.Unavailable,
          `The plan took longer than its ${seconds(limits.passBudgetMs)} budget (PLAN_PASS_TIMEOUT_SECONDS) and was stopped`,
        ),
    };
    this.whatIf = {
      queue: new PlanQueue(
        limits.whatIfQueueMax,
        (waiting) => `The planner is busy: ${waiting} what-if plans are already waiting; try again in a few seconds`,
        () => this.noUrgentWork(),
      ),
      worker: new PlanWorker(this, this.logger, limits.whatIfBudgetMs, WHAT_IF_NICENESS),
      overBudget: () =>
        new DomainError(
          ErrorCode.Unavailable,
          `The what-if plan took longer than its ${seconds(limits.whatIfBudgetMs)} budget and was stopped; ` +
            'ask for fewer moves (maxMovesPerPass) or try again later',
          [],
          { budgetSeconds: limits.whatIfBudgetMs / 1000 },
        ),
    };
  }

  /** A plan of a snapshot already taken. */
  plan(snapshot: ClusterSnapshot, policy: PlannerPolicy, request: PlanRequest): Promise<Plan> {
    return this.run(() => ({ snapshot, policy }), request);
  }

  /** A plan whose input is built when its turn comes (and not at all if it is refused or dropped first). */
  run(input: () => PlanInput | Promise<PlanInput>, request: PlanRequest): Promise<Plan> {
    const lane = this.laneOf(request.priority);
    const submit = () => lane.queue.submit(request.priority, () => this.execute(lane, input, request.signal), request.signal);
    return lane === this.system ? this.holdingWhatIfs(submit) : submit();
  }

  /**
   * Runs a pass (or an evacuation) ahead of the what-ifs: none starts until it is done. A what-if
   * already planning goes on in its thread, at a lower CPU priority; what is held back is the main
   * thread's share of the next ones (reading the cluster, sending a large plan), which would
   * otherwise interleave with every step of the pass on the event loop.
   */
  async holdingWhatIfs<T>(work: () => Promise<T>): Promise<T> {
    this.urgent++;
    try {
      return await work();
    } finally {
      if (--this.urgent === 0) for (const resume of this.afterUrgent.splice(0)) resume();
    }
  }

  /** Work of the main thread that takes its turn with the plans of the same priority (short, so it needs no budget). */
  inTurn<T>(request: PlanRequest, work: () => Promise<T>): Promise<T> {
    return this.laneOf(request.priority).queue.submit(request.priority, work, request.signal);
  }

  cameOnline(): void {
    this.online = true;
  }

  failedToStart(err: unknown): void {
    if (this.stopped) return;
    if (!this.online) this.unavailable = true;
    this.logger.warn(
      { err },
      this.unavailable ? 'the planner worker could not start: planning in-thread' : 'a planner worker could not start; trying again',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    // Queued passes are planned in-thread rather than dropped; what-ifs are not worth the wait.
    this.whatIf.queue.clear(stopping());
    await Promise.all([this.system.worker.stop(), this.whatIf.worker.stop()]);
  }

  private noUrgentWork(): Promise<void> | undefined {
    return this.urgent === 0 ? undefined : new Promise((resume) => this.afterUrgent.push(resume));
  }

  private laneOf(priority: PlanPriority): Lane {
    return priority === 'what-if' ? this.whatIf : this.system;
  }

  private async execute(lane: Lane, prepare: () => PlanInput | Promise<PlanInput>, signal?: AbortSignal): Promise<Plan> {
    const prepared = await prepare();
    if (signal?.aborted) throw cancelled();
    // Passes and evacuations queued behind this one: its search is cut so that they do not fall behind.
    const waiting = lane === this.system ? lane.queue.size : 0;
    const input = { ...prepared, searchShare: searchShareFor(waiting) };
    const plan = await this.planned(lane, input, signal);
    if (input.searchShare < 1) plan.searchCut = { share: input.searchShare, waiting };
    return plan;
  }

  private async planned(lane: Lane, input: PlanInput, signal?: AbortSignal): Promise<Plan> {
    const worker = await lane.worker.start();
    // Once what-ifs are asked, the pass thread is readied too (after theirs, not to double the start-up load): an
    // evacuation does not wait for a thread to start while what-ifs keep the CPU busy.
    if (lane === this.whatIf) void this.system.worker.start();
    if (signal?.aborted) throw cancelled();
    if (!worker) return this.inThread(lane, input);
    const outcome = await lane.worker.plan(worker, input, signal);
    switch (outcome.kind) {
      case 'planned':
        return outcome.plan;
      case 'failed':
        throw outcome.error;
      case 'cancelled':
        throw cancelled();
      case 'over-budget':
        this.logger.warn(
          { budgetMs: lane.worker.budgetMs, lane: lane === this.whatIf ? 'what-if' : 'system' },
          'a plan ran over its time budget and was stopped',
        );
        throw lane.overBudget();
      case 'lost':
        // The thread died under this plan. A pass is planned here instead; a what-if is not retried
        // on the event loop, in case it is what killed the thread.
        if (lane === this.whatIf)
          throw this.stopped ? stopping() : new DomainError(ErrorCode.Unavailable, 'The planner stopped while planning; try again');
        return planInput(input);
    }
  }

  private inThread(lane: Lane, input: PlanInput): Plan {
    if (this.stopped && lane === this.whatIf) throw stopping();
    return planInput(input);
  }
}
